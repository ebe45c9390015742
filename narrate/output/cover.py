"""A book's cover when none is given: its title and author on a plain field, 1400×1400.

Podcast apps want a square image of at least 1400 pixels (Apple's minimum) and show
nothing, or a grey square, without one; audiobook players show it on the lock screen.
The colour comes from the title, so each book looks different and the same book looks
the same on every render. Drawn with Pillow's own font, so nothing is needed from the
system; saved as a baseline JPEG, which every player reads.
"""

from __future__ import annotations

import colorsys
import hashlib
import io

from narrate.model import Book

SIZE = 1400
_MARGIN = 120


def generated_cover(title: str, author: str) -> bytes:
    """A JPEG cover with ``title`` and ``author``."""
    from PIL import Image, ImageDraw, ImageFont

    hue = int(hashlib.sha256(title.encode("utf-8")).hexdigest()[:4], 16) / 0xFFFF
    background = _rgb(hue, 0.32, 0.42)
    accent = _rgb(hue, 0.25, 0.85)
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((_MARGIN // 2,) * 2 + (SIZE - _MARGIN // 2,) * 2, outline=accent, width=6)
    width = SIZE - 2 * _MARGIN
    size, lines = _fit(
        draw, title, width, ImageFont, start=150, lowest=40, most_lines=6, height=SIZE * 0.55
    )
    font = ImageFont.load_default(size=size)
    line_height = round(size * 1.2)
    top = SIZE * 0.42 - line_height * len(lines) / 2
    for number, line in enumerate(lines):
        draw.text(
            (SIZE / 2, top + number * line_height),
            line,
            font=font,
            fill=(255, 255, 255),
            anchor="ma",
        )
    author_size, author_lines = _fit(
        draw, author, width, ImageFont, start=72, lowest=32, most_lines=2, height=SIZE * 0.15
    )
    author_font = ImageFont.load_default(size=author_size)
    for number, line in enumerate(author_lines):
        position = (
            SIZE / 2,
            SIZE - _MARGIN - 40 - (len(author_lines) - number) * author_size * 1.2,
        )
        draw.text(position, line, font=author_font, fill=accent, anchor="ma")
    output = io.BytesIO()
    image.save(output, "JPEG", quality=88)
    return output.getvalue()


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _fit(
    draw, text: str, width: int, fonts, start: int, lowest: int, most_lines: int, height: float
):
    """The largest font size (from ``start`` down to ``lowest``) at which ``text``, wrapped
    at spaces, fits ``width`` and ``height`` in at most ``most_lines`` lines; and those
    lines."""
    words = text.split() or [" "]
    size = start
    while True:
        font = fonts.load_default(size=size)
        lines = _wrap(draw, words, font, width)
        if (
            len(lines) <= most_lines
            and len(lines) * size * 1.2 <= height
            and all(draw.textlength(line, font=font) <= width for line in lines)
        ) or size <= lowest:
            return size, lines[:most_lines]
        size -= 6


def _wrap(draw, words: list[str], font, width: int) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def book_cover(given: tuple[bytes, str] | None, book: Book) -> tuple[bytes, str]:
    """The cover of a render (image bytes, MIME type): the one given, else the book's own
    (an EPUB's), else one drawn from its title and author."""
    if given is not None:
        return given
    if book.cover:
        return book.cover, book.cover_mime
    return generated_cover(book.title, book.author), "image/jpeg"

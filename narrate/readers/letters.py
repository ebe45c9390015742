"""Regular-expression classes for upper- and lower-case letters beyond ASCII.

Python's ``re`` has no ``\\p{Lu}``; names such as Chloé, Björn, Émile or Zoë must still be
recognised whole. The classes cover Latin (with its extensions), Greek and Cyrillic.
"""

from __future__ import annotations

from collections.abc import Callable

_BLOCKS = ((0x0041, 0x0250), (0x0370, 0x0530), (0x1E00, 0x2000))


def _character_class(test: Callable[[str], bool]) -> str:
    ranges: list[tuple[int, int]] = []
    for low, high in _BLOCKS:
        for code in range(low, high):
            if not test(chr(code)):
                continue
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


#: Inside a character class: ``rf"[{UPPER}][{LOWER}]+"`` is a capitalised word.
UPPER = _character_class(str.isupper)
LOWER = _character_class(str.islower)

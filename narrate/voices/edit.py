"""Writing the voices file: ``narrate cast`` adds the characters a book has and keeps every
byte the user wrote.

The file is edited as text, not re-dumped: new character entries are inserted as lines at
the end of the ``characters:`` block, so the user's entries, values, comments, ordering and
spacing stay exactly as they were. The result is parsed and checked before it replaces the
file, and it is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from narrate.atomic import renamed_into_place
from narrate.errors import ConfigError, NarrateError
from narrate.model import VoiceProfile
from narrate.voices.load import parse_voices


@dataclass(frozen=True)
class NewCharacter:
    """A character to add: name, other names, voice profile, and a note for the comment."""

    name: str
    aliases: tuple[str, ...]
    profile: VoiceProfile
    note: str = ""


def add_characters(text: str, new: Iterable[NewCharacter], name: str = "voices.yaml") -> str:
    """``text`` with an entry for each new character at the end of its ``characters:``
    block (made if missing). Everything else is left as written, line endings included."""
    new = list(new)
    if not new:
        return text
    data = YAML(typ="rt").load(text) or CommentedMap()
    newline = _newline(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    if "characters" not in data:
        if lines and lines[-1].strip():
            lines.append(newline)
        lines.append("characters:" + newline)
        lines.extend(_entry(c, 2, newline) for c in new)
        return _checked("".join(lines), new, name)
    key_line = data.lc.key("characters")[0]
    node = data["characters"]
    if node is None or (isinstance(node, CommentedMap) and not node):
        # "characters: {}  # comment" or "characters: ~" -> "characters:  # comment",
        # entries below it.
        lines[key_line] = _without_empty_value(lines[key_line], data, key_line, name)
        at, indent = key_line + 1, 2
    elif isinstance(node, CommentedMap) and node.fa.flow_style():
        raise ConfigError(_inline_message(name, key_line))
    elif isinstance(node, CommentedMap):
        first = next(iter(node))
        indent = node.lc.key(first)[1]
        at = _block_end(lines, key_line)
    else:
        raise ConfigError(f"{name}:{key_line + 1}: characters: must be a mapping")
    lines[at:at] = [_entry(c, indent, newline) for c in new]
    return _checked("".join(lines), new, name)


def _newline(text: str) -> str:
    """The file's own line ending, so the lines added match it (a file edited on Windows
    keeps its CRLF)."""
    first = re.search(r"\r\n|\n|\r", text)
    return first.group(0) if first else "\n"


_EMPTY_VALUE = re.compile(r"(?:~|null|Null|NULL|\{\s*\})(?=\s*(?:#|$))")


def _without_empty_value(line: str, data: CommentedMap, key_line: int, name: str) -> str:
    """The ``characters:`` key line without its empty value (``{}``, ``~``, ``null``), so
    entries can follow it on the next lines; a comment after it stays."""
    value_line, column = data.lc.value("characters")
    rest = line[column:].strip()
    if value_line != key_line or not rest or rest.startswith("#"):
        return line  # "characters:" alone, or with only a comment
    empty = _EMPTY_VALUE.match(line, column)
    if empty is None:  # "characters: {" with its "}" on a later line
        raise ConfigError(_inline_message(name, key_line))
    return line[:column].rstrip(" ") + line[empty.end() :]


def _inline_message(name: str, key_line: int) -> str:
    return (
        f"{name}:{key_line + 1}: characters: written inline ({{…}}); write one "
        "character per line so narrate can add to it"
    )


def _block_end(lines: list[str], key_line: int) -> int:
    """The line after the last one of a top-level block: before the next top-level key,
    and before the blank lines and column-0 comments that lead into it."""
    end = len(lines)
    for number in range(key_line + 1, len(lines)):
        line = lines[number]
        if line.strip() and not line[0].isspace() and not line.startswith("#"):
            end = number
            break
    while end > key_line + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return end


def _entry(character: NewCharacter, indent: int, newline: str = "\n") -> str:
    profile = character.profile
    fields = [
        f"voice: {_scalar(profile.voice)}",
        f"rate: {profile.rate}",
        f"pitch: {profile.pitch}",
    ]
    if profile.volume != 1.0:
        fields.append(f"volume: {profile.volume:g}")
    if character.aliases:
        fields.append(f"aliases: [{', '.join(_scalar(a) for a in character.aliases)}]")
    note = f"  # {character.note}" if character.note else ""
    return f"{' ' * indent}{_scalar(character.name)}: {{{', '.join(fields)}}}{note}{newline}"


_PLAIN = re.compile(r"[A-Za-z][\w.'+-]*(?: [\w.'+-]+)*")
_RESERVED = {"yes", "no", "true", "false", "null", "on", "off", "y", "n", "~"}


def _scalar(value: str) -> str:
    """A name as YAML: plain when that reads back as the same string, else quoted."""
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def _checked(text: str, new: list[NewCharacter], name: str) -> str:
    """The edited text, if it still parses and now names every new character."""
    config = parse_voices(text, name).config
    missing = [c.name for c in new if c.name not in config.characters]
    if missing:
        raise NarrateError(f"{name}: could not add {', '.join(missing)} to the voices file")
    return text


def check_writable(path: Path) -> None:
    """ConfigError (exit 2) unless ``path`` can be written: checked before a book is read,
    so a voices file in a missing folder, or one the user made read-only to keep it as it
    is, stops the command before it does anything. Root may write anything, so a file with
    no write permission bit counts as read-only too, as editors treat it."""
    real = Path(os.path.realpath(path))
    if not real.parent.is_dir():
        raise ConfigError(f"{path}: no such folder for the voices file: {real.parent}")
    if real.exists() and (not os.access(real, os.W_OK) or not real.stat().st_mode & stat.S_IWUSR):
        raise ConfigError(
            f"{path}: the voices file is read-only; make it writable or give another --voices"
        )


def write_voices_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so it is never half written,
    not even on Ctrl-C. A symbolic link is written through (the file it points to is
    replaced, the link stays), and the file keeps its permissions."""
    check_writable(path)
    real = Path(os.path.realpath(path))
    try:
        with renamed_into_place(real) as partial:
            partial.write_bytes(text.encode("utf-8"))
            if real.exists():
                os.chmod(partial, stat.S_IMODE(real.stat().st_mode))
    except OSError as error:
        # Named as the user gave it (a link, a relative path), not as resolved.
        raise NarrateError(f"{path}: cannot write: {error.strerror or error}") from None

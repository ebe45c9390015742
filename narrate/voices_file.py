"""Writing the voices file: ``narrate cast`` adds the characters a book has and keeps every
byte the user wrote.

The file is edited as text, not re-dumped: new character entries are inserted as lines at
the end of the ``characters:`` block, so the user's entries, values, comments, ordering and
spacing stay exactly as they were. The result is parsed and checked before it replaces the
file, and it is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from narrate.config import parse_voices
from narrate.errors import ConfigError, NarrateError
from narrate.model import VoiceProfile


@dataclass(frozen=True)
class NewCharacter:
    """A character to add: name, other names, voice profile, and a note for the comment."""

    name: str
    aliases: tuple[str, ...]
    profile: VoiceProfile
    note: str = ""


def add_characters(text: str, new: Iterable[NewCharacter], name: str = "voices.yaml") -> str:
    """``text`` with an entry for each new character at the end of its ``characters:``
    block (made if missing). Everything else is left as written."""
    new = list(new)
    if not new:
        return text
    data = YAML(typ="rt").load(text) or CommentedMap()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if "characters" not in data:
        if lines and lines[-1].strip():
            lines.append("\n")
        lines.append("characters:\n")
        lines.extend(_entry(c, 2) for c in new)
        return _checked("".join(lines), new, name)
    key_line = data.lc.key("characters")[0]
    node = data["characters"]
    if isinstance(node, CommentedMap) and not node:
        # "characters: {}  # comment" -> "characters:  # comment", entries below it.
        lines[key_line] = re.sub(r"\s*\{\s*\}", "", lines[key_line], count=1)
        at, indent = key_line + 1, 2
    elif isinstance(node, CommentedMap) and node.fa.flow_style():
        raise ConfigError(
            f"{name}:{key_line + 1}: characters: written inline ({{…}}); write one "
            "character per line so narrate can add to it"
        )
    elif node is None:
        at, indent = key_line + 1, 2
    elif isinstance(node, CommentedMap):
        first = next(iter(node))
        indent = node.lc.key(first)[1]
        at = _block_end(lines, key_line)
    else:
        raise ConfigError(f"{name}:{key_line + 1}: characters: must be a mapping")
    lines[at:at] = [_entry(c, indent) for c in new]
    return _checked("".join(lines), new, name)


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


def _entry(character: NewCharacter, indent: int) -> str:
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
    return f"{' ' * indent}{_scalar(character.name)}: {{{', '.join(fields)}}}{note}\n"


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


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so it is never half written."""
    partial = path.with_name(f".{path.name}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise NarrateError(f"{path}: cannot write: {error.strerror or error}") from None

"""The voices file (voices.yaml): load it safely, check every value, say where it is wrong.

Every problem — YAML syntax, an unknown key, a wrong type, a number out of range — is
reported with the file, the line, the key and the valid choices, as a
:class:`~narrate.errors.ConfigError` (exit code 2), before anything is rendered. Whether the
engine has each voice is checked by :func:`narrate.speech.engine.check_profiles`, using the
locations this module records.

YAML is read with ruamel.yaml's round-trip loader, which builds plain maps, lists and
scalars and never Python objects; tagged values (``!!python/object``) are refused.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from narrate.errors import ConfigError
from narrate.model import (
    GENDERS,
    PITCH_RANGE,
    RATE_RANGE,
    VOLUME_RANGE,
    CharacterVoice,
    LineFix,
    Pauses,
    Pronunciations,
    VoiceProfile,
    VoicesConfig,
)

#: The file looked for in the working directory when no ``--voices`` is given.
DEFAULT_NAME = "voices.yaml"

TOP_KEYS = (
    "narrator",
    "characters",
    "pools",
    "pauses",
    "pronunciations",
    "lines",
    "merge",
)
PROFILE_KEYS = ("voice", "rate", "pitch", "volume")
CHARACTER_KEYS = (*PROFILE_KEYS, "aliases")
PAUSE_KEYS = ("sentence", "speaker", "paragraph", "scene", "chapter")
PAUSE_RANGE = (0.0, 30.0)


@dataclass(frozen=True)
class LoadedVoices:
    """The parsed voices file and where each profile sits in it, for later messages."""

    config: VoicesConfig
    #: (location, profile) pairs: "voices.yaml:12: characters.Spike.voice".
    profile_locations: tuple[tuple[str, VoiceProfile], ...]


def default_voices_path() -> Path:
    """The voices file shipped inside the package."""
    return Path(str(resources.files("narrate.voices").joinpath(DEFAULT_NAME)))


@functools.cache
def _default_pools() -> tuple[tuple[str, tuple[VoiceProfile, ...]], ...]:
    """The pools of the built-in voices file."""
    text = default_voices_path().read_text(encoding="utf-8")
    return tuple(parse_voices(text, str(default_voices_path())).config.pools.items())


def find_voices_file(explicit: str | Path | None, cwd: Path | None = None) -> Path:
    """``--voices`` when given, else ``./voices.yaml`` when present, else the default."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: voices file not found")
        return path
    local = (cwd or Path.cwd()) / DEFAULT_NAME
    if local.is_file():
        return local
    return default_voices_path()


def load_voices(path: str | Path) -> LoadedVoices:
    """Read and check a voices file. Raises ConfigError listing every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: voices file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the voices file: {error}") from None
    return parse_voices(text, str(path))


def parse_voices(text: str, name: str = DEFAULT_NAME) -> LoadedVoices:
    """Parse the text of a voices file (``name`` is used in messages)."""
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        raise ConfigError(f"{name}{line}: YAML syntax error: {problem}") from None
    except YAMLError as error:
        raise ConfigError(f"{name}: YAML error: {str(error).splitlines()[0]}") from None
    checker = _Checker(name)
    config = checker.read(data)
    if checker.problems:
        raise ConfigError("\n".join(message for _, message in sorted(checker.problems)))
    assert config is not None
    return LoadedVoices(config, tuple(checker.locations))


class _Checker:
    """Walks the parsed YAML, collecting problems with their line numbers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[tuple[int, str]] = []
        self.locations: list[tuple[str, VoiceProfile]] = []

    def problem(self, line: int | None, key: str, message: str) -> None:
        where = f"{self.name}:{line}" if line else self.name
        self.problems.append((line or 0, f"{where}: {key}: {message}"))

    def read(self, data: Any) -> VoicesConfig | None:
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            self.problem(
                1, "(top)", "the voices file must be a mapping with keys " + ", ".join(TOP_KEYS)
            )
            return None
        self._refuse_tags(data, "(top)", 1)
        self._unknown_keys(data, TOP_KEYS, "")
        narrator = None
        if "narrator" in data:
            narrator = self._profile(data["narrator"], "narrator", _key_line(data, "narrator"))
        else:
            self.problem(
                1,
                "narrator",
                "missing; give the narrator's voice, e.g. narrator: {voice: en-us+m3, rate: 170}",
            )
        characters = self._characters(data.get("characters"), _key_line(data, "characters"))
        if "pools" in data:
            pools = self._pools(data["pools"], _key_line(data, "pools"))
        else:
            # A file that leaves pools out still gives unlisted speakers voices of their
            # own, never the narrator's: the built-in pools.
            pools = dict(_default_pools())
        pauses = self._pauses(data.get("pauses"), _key_line(data, "pauses"))
        lines = self._lines(data.get("lines"), _key_line(data, "lines"))
        merge = self._merge(data.get("merge"), _key_line(data, "merge"))
        pronunciations = self._pronunciations(
            data.get("pronunciations"), _key_line(data, "pronunciations")
        )
        if narrator is None:
            return None
        return VoicesConfig(
            narrator=narrator,
            characters=characters,
            pools=pools,
            pauses=pauses,
            source=self.name,
            lines=lines,
            merge=merge,
            pronunciations=pronunciations,
        )

    def _refuse_tags(self, node: Any, key: str, line: int | None) -> None:
        tag = getattr(node, "tag", None)
        value = getattr(tag, "value", tag)
        standard = str(value).startswith("tag:yaml.org,2002:") and "python" not in str(value)
        if value and not standard:
            self.problem(line, key, f"tagged values ({value}) are not allowed")

    def _unknown_keys(self, node: CommentedMap, valid: tuple[str, ...], prefix: str) -> None:
        for key in node:
            if key not in valid:
                close = difflib.get_close_matches(str(key).lower(), valid, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.problem(
                    _key_line(node, key),
                    f"{prefix}{key}",
                    f"unknown key; {hint}valid keys: " + ", ".join(valid),
                )

    def _profile(
        self, node: Any, key: str, line: int | None, allowed: tuple[str, ...] = PROFILE_KEYS
    ) -> VoiceProfile | None:
        self._refuse_tags(node, key, line)
        if isinstance(node, str):
            node_map = CommentedMap(voice=node)
            node_map.lc.line = (line or 1) - 1
            node = node_map
        if not isinstance(node, CommentedMap):
            self.problem(
                line,
                key,
                "must be a voice profile like {voice: en-us+f3, rate: 175, pitch: 50, volume: 1.0}",
            )
            return None
        self._unknown_keys(node, allowed, key + ".")
        voice = node.get("voice")
        voice_line = _key_line(node, "voice") or line
        ok = True
        if not isinstance(voice, str) or not voice.strip():
            self.problem(
                voice_line,
                f"{key}.voice",
                "missing or empty; give an engine voice id such as en-us+f3 "
                "(run `narrate voices` to list them)",
            )
            ok = False
        rate = self._number(node, "rate", key, RATE_RANGE, 175, whole=True)
        pitch = self._number(node, "pitch", key, PITCH_RANGE, 50, whole=True)
        volume = self._number(node, "volume", key, VOLUME_RANGE, 1.0, whole=False)
        if not ok or rate is None or pitch is None or volume is None:
            return None
        profile = VoiceProfile(
            voice=voice.strip(), rate=int(rate), pitch=int(pitch), volume=float(volume)
        )
        self.locations.append((f"{self.name}:{voice_line}: {key}.voice", profile))
        return profile

    def _number(
        self, node: CommentedMap, field: str, key: str, bounds: tuple, default: float, whole: bool
    ) -> float | None:
        if field not in node:
            return default
        value = node[field]
        line = _key_line(node, field)
        low, high = bounds
        kind = "a whole number" if whole else "a number"
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (whole and isinstance(value, float) and not value.is_integer())
        ):
            self.problem(
                line, f"{key}.{field}", f"must be {kind} from {low} to {high}, got {value!r}"
            )
            return None
        if not low <= value <= high:
            self.problem(
                line, f"{key}.{field}", f"{value} is out of range; must be from {low} to {high}"
            )
            return None
        return value

    def _characters(self, node: Any, line: int | None) -> dict[str, CharacterVoice]:
        if node is None:
            return {}
        self._refuse_tags(node, "characters", line)
        if not isinstance(node, CommentedMap):
            self.problem(
                line,
                "characters",
                "must be a mapping of character names to "
                "voice profiles, e.g. Spike: {voice: en-gb-x-rp+m7}",
            )
            return {}
        characters: dict[str, CharacterVoice] = {}
        for name in node:
            key = f"characters.{name}"
            entry = node[name]
            entry_line = _key_line(node, name)
            profile = self._profile(entry, key, entry_line, CHARACTER_KEYS)
            aliases: tuple[str, ...] = ()
            if isinstance(entry, CommentedMap) and "aliases" in entry:
                raw = entry["aliases"]
                if isinstance(raw, str):
                    raw = [raw]
                if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
                    self.problem(
                        _key_line(entry, "aliases"),
                        f"{key}.aliases",
                        "must be a list of names, e.g. [William, Will]",
                    )
                else:
                    aliases = tuple(a.strip() for a in raw if a.strip())
            if profile is not None:
                characters[str(name)] = CharacterVoice(profile, aliases)
        self._check_names(node, characters)
        return characters

    def _check_names(self, node: CommentedMap, characters: dict[str, CharacterVoice]) -> None:
        """One name, one character: no name twice (ignoring case), no alias that is another
        character's name or alias."""
        owner: dict[str, str] = {}
        for name in characters:
            if name.lower() in owner:
                self.problem(
                    _key_line(node, name),
                    f"characters.{name}",
                    f"the same name as characters.{owner[name.lower()]} (names ignore case)",
                )
            else:
                owner[name.lower()] = name
        for name, entry in characters.items():
            for alias in entry.aliases:
                other = owner.setdefault(alias.lower(), name)
                if other != name:
                    self.problem(
                        _key_line(node, name),
                        f"characters.{name}.aliases",
                        f"{alias!r} is already characters.{other} or its alias",
                    )

    def _pools(self, node: Any, line: int | None) -> dict[str, tuple[VoiceProfile, ...]]:
        if node is None:
            return {}
        self._refuse_tags(node, "pools", line)
        if not isinstance(node, CommentedMap):
            self.problem(line, "pools", "must be a mapping with keys " + ", ".join(GENDERS))
            return {}
        self._unknown_keys(node, GENDERS, "pools.")
        pools: dict[str, tuple[VoiceProfile, ...]] = {}
        for gender in GENDERS:
            if gender not in node:
                continue
            items = node[gender]
            items_line = _key_line(node, gender)
            if not isinstance(items, CommentedSeq):
                self.problem(items_line, f"pools.{gender}", "must be a list of voice profiles")
                continue
            profiles = []
            for number, item in enumerate(items):
                item_line = _item_line(items, number) or items_line
                profile = self._profile(item, f"pools.{gender}[{number}]", item_line)
                if profile is not None:
                    profiles.append(profile)
            pools[gender] = tuple(profiles)
        return pools

    def _pauses(self, node: Any, line: int | None) -> Pauses:
        if node is None:
            return Pauses()
        self._refuse_tags(node, "pauses", line)
        if not isinstance(node, CommentedMap):
            self.problem(line, "pauses", "must be a mapping with keys " + ", ".join(PAUSE_KEYS))
            return Pauses()
        self._unknown_keys(node, PAUSE_KEYS, "pauses.")
        values = {}
        for field in PAUSE_KEYS:
            if field in node:
                value = self._number(node, field, "pauses", PAUSE_RANGE, 0.0, whole=False)
                if value is not None:
                    values[field] = float(value)
        return Pauses(**values)

    def _lines(self, node: Any, line: int | None) -> tuple[LineFix, ...]:
        """``lines: {12: Buffy, "Yes, yes I will": Buffy}``: quote id or opening words."""
        fixes = []
        for key, speaker, key_line in self._names_map(
            node, line, "lines", "quote ids or opening words to speakers, e.g. 12: Buffy"
        ):
            quote: int | str
            if isinstance(key, int) and not isinstance(key, bool) and key >= 0:
                quote = key
            elif isinstance(key, str) and re.fullmatch(r"#?\d+", key.strip()):
                quote = int(key.strip().lstrip("#"))
            elif isinstance(key, str) and re.search(r"\w", key):
                quote = key.strip()
            else:
                self.problem(
                    key_line,
                    f"lines.{key}",
                    "a quote is its id (a whole number, as `narrate script --explain` "
                    "shows) or its opening words",
                )
                continue
            fixes.append(LineFix(quote, speaker, f"{self.name}:{key_line}"))
        return tuple(fixes)

    def _merge(self, node: Any, line: int | None) -> dict[str, str]:
        """``merge: {First-Dru: The First, Jake: narrator}``: all lines of one are another's."""
        merged = {}
        for key, speaker, key_line in self._names_map(
            node, line, "merge", "speakers to the speaker they are, e.g. First-Dru: The First"
        ):
            if not isinstance(key, str) or not key.strip():
                self.problem(key_line, f"merge.{key}", "must be a speaker's name")
                continue
            merged[key.strip()] = speaker
        return merged

    def _names_map(self, node: Any, line: int | None, section: str, shape: str):
        """(key, speaker, line) for each entry of a map whose values are speaker names."""
        if node is None:
            return
        self._refuse_tags(node, section, line)
        if not isinstance(node, CommentedMap):
            self.problem(line, section, f"must be a mapping of {shape}")
            return
        for key in node:
            value = node[key]
            key_line = _key_line(node, key)
            if not isinstance(value, str) or not value.strip():
                self.problem(
                    key_line,
                    f"{section}.{key}",
                    "must be a speaker's name (or narrator), got " + repr(value),
                )
                continue
            yield key, value.strip(), key_line

    def _pronunciations(self, node: Any, line: int | None) -> Pronunciations:
        if node is None:
            return ()
        self._refuse_tags(node, "pronunciations", line)
        if not isinstance(node, CommentedMap):
            self.problem(
                line,
                "pronunciations",
                'must be a mapping of words to how to say them, e.g. {Giles: Jiles, "Dr.": Doctor}',
            )
            return ()
        pairs = []
        for word in node:
            said = node[word]
            word_line = _key_line(node, word)
            # A blank or non-text word is named the way YAML would write it ("", null, 42).
            written = (
                word if isinstance(word, str) and word.strip() else json.dumps(word, default=str)
            )
            key = f"pronunciations.{written}"
            self._refuse_tags(said, key, word_line)
            if not isinstance(word, str):
                # YAML reads 42, 1.50 or true as numbers and booleans, not as words.
                self.problem(word_line, key, f'the word must be text; quote it: "{written}"')
            elif not word.strip():
                self.problem(word_line, key, "the word is empty; write it as the story does")
            elif said is None or (isinstance(said, str) and not said.strip()):
                self.problem(
                    word_line, key, "is empty; give the words to say instead, e.g. Giles: Jiles"
                )
            elif not isinstance(said, str):
                if not isinstance(said, TaggedScalar):  # already reported as a tag
                    self.problem(
                        word_line,
                        key,
                        f"must be the words to say instead, as text, got {said!r}",
                    )
            else:
                pairs.append((word.strip(), " ".join(said.split())))
        return tuple(pairs)


def _key_line(node: Any, key: Any) -> int | None:
    """1-based line of a key in a round-trip map."""
    try:
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        line = getattr(getattr(node, "lc", None), "line", None)
        return line + 1 if isinstance(line, int) else None


def _item_line(node: Any, index: int) -> int | None:
    try:
        return node.lc.item(index)[0] + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return None

"""The voices file (voices.yaml): load it safely, check every value, say where it is wrong.

Every problem — YAML syntax, an unknown key, a wrong type, a number out of range — is
reported with the file, the line, the key and the valid choices, as a
:class:`~narrate.errors.ConfigError` (exit code 2), before anything is rendered. Whether the
engine has each voice is checked by :func:`narrate.speech.engine.check_profiles`, using the
locations this module records. Each top-level key is declared once in :data:`SECTIONS`,
with how its value is read and what it is when left out; the checker walks that table.

YAML is read with ruamel.yaml's round-trip loader, which builds plain maps, lists and
scalars and never Python objects; tagged values (``!!python/object``) are refused.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator
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
    PROFILE_RANGES,
    CharacterVoice,
    LineFix,
    Pauses,
    Pronunciations,
    VoiceProfile,
    VoicesConfig,
    range_problem,
)

#: The file looked for in the working directory when no ``--voices`` is given.
DEFAULT_NAME = "voices.yaml"

PROFILE_KEYS = ("voice", "rate", "pitch", "volume")
#: A voice profile's numbers and whether each is a whole number; their ranges are the model's
#: PROFILE_RANGES, and one left out is VoiceProfile's default.
PROFILE_NUMBERS = {"rate": True, "pitch": True, "volume": False}
PROFILE_SHAPE = "a voice profile like {voice: en-us+f3, rate: 175, pitch: 50, volume: 1.0}"
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
    """Walks the parsed YAML along :data:`SECTIONS`, collecting problems with their lines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[tuple[int, str]] = []
        self.locations: list[tuple[str, VoiceProfile]] = []

    def problem(self, line: int | None, key: str, message: str) -> None:
        where = f"{self.name}:{line}" if line else self.name
        self.problems.append((line or 0, f"{where}: {key}: {message}"))

    # --- the walk -----------------------------------------------------------------------------

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
        # Every section is read even when one is wrong, so that all problems are reported.
        values = {section.key: self._section(data, section) for section in SECTIONS}
        if values["narrator"] is None:
            return None
        return VoicesConfig(source=self.name, **values)

    def _section(self, data: CommentedMap, section: Section) -> Any:
        """One section's value, its problems reported; None for a required one that is wrong."""
        if section.key not in data:
            if section.required:
                self.problem(1, section.key, section.required)
                return None
            if section.left_out:
                return section.left_out()
        node = data.get(section.key)
        line = _key_line(data, section.key)
        # An optional section left out or empty is an empty mapping, and so is a wrong one
        # once reported; a required one cannot be empty.
        if node is None and not section.required:
            node = CommentedMap()
        mapping = self._mapping(
            node, section.key, line, section.shape, section.keys, section.shorthand
        )
        if mapping is None:
            if section.required:
                return None
            mapping = CommentedMap()
        return section.read(self, mapping, section.key, line)

    # --- checks every part of the file shares -------------------------------------------------

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

    def _mapping(
        self,
        node: Any,
        key: str,
        line: int | None,
        shape: str,
        keys: tuple[str, ...] = (),
        shorthand: str = "",
    ) -> CommentedMap | None:
        """``node`` as a mapping once its tags, type and keys (when ``keys`` are fixed) are
        checked, or None. With a ``shorthand`` key, text is the mapping {shorthand: text}."""
        self._refuse_tags(node, key, line)
        if shorthand and isinstance(node, str):
            node_map = CommentedMap({shorthand: node})
            node_map.lc.line = (line or 1) - 1
            node = node_map
        if not isinstance(node, CommentedMap):
            self.problem(line, key, f"must be {shape}")
            return None
        if keys:
            self._unknown_keys(node, keys, key + ".")
        return node

    def _number(
        self, node: CommentedMap, field: str, key: str, bounds: tuple[float, float], whole: bool
    ) -> float | None:
        """The number under ``field`` (an int when ``whole``), or None when it is wrong."""
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
        problem = range_problem(value, bounds)
        if problem:
            self.problem(line, f"{key}.{field}", problem)
            return None
        return int(value) if whole else float(value)

    def _profile(
        self, node: Any, key: str, line: int | None, keys: tuple[str, ...] = PROFILE_KEYS
    ) -> VoiceProfile | None:
        mapping = self._mapping(node, key, line, PROFILE_SHAPE, keys, shorthand="voice")
        return None if mapping is None else self.profile(mapping, key, line)

    # --- what each section holds --------------------------------------------------------------

    def profile(self, node: CommentedMap, key: str, line: int | None) -> VoiceProfile | None:
        """A voice profile; the numbers left out are VoiceProfile's defaults."""
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
        numbers = {}
        for field, whole in PROFILE_NUMBERS.items():
            if field in node:
                value = self._number(node, field, key, PROFILE_RANGES[field], whole)
                ok = ok and value is not None
                numbers[field] = value
        if not ok:
            return None
        profile = VoiceProfile(voice=voice.strip(), **numbers)
        self.locations.append((f"{self.name}:{voice_line}: {key}.voice", profile))
        return profile

    def characters(
        self, node: CommentedMap, section: str, line: int | None
    ) -> dict[str, CharacterVoice]:
        """Each named character's profile and other names."""
        characters: dict[str, CharacterVoice] = {}
        for name in node:
            key = f"{section}.{name}"
            entry = node[name]
            profile = self._profile(entry, key, _key_line(node, name), CHARACTER_KEYS)
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

    def pools(
        self, node: CommentedMap, section: str, line: int | None
    ) -> dict[str, tuple[VoiceProfile, ...]]:
        """The profiles, by gender, given to speakers the file does not name."""
        pools: dict[str, tuple[VoiceProfile, ...]] = {}
        for gender in GENDERS:
            if gender not in node:
                continue
            items = node[gender]
            items_line = _key_line(node, gender)
            if not isinstance(items, CommentedSeq):
                self.problem(items_line, f"{section}.{gender}", "must be a list of voice profiles")
                continue
            profiles = []
            for number, item in enumerate(items):
                item_line = _item_line(items, number) or items_line
                profile = self._profile(item, f"{section}.{gender}[{number}]", item_line)
                if profile is not None:
                    profiles.append(profile)
            pools[gender] = tuple(profiles)
        return pools

    def pauses(self, node: CommentedMap, section: str, line: int | None) -> Pauses:
        """The silences in seconds; those left out are Pauses' defaults."""
        values = {}
        for field in PAUSE_KEYS:
            if field in node:
                value = self._number(node, field, section, PAUSE_RANGE, whole=False)
                if value is not None:
                    values[field] = value
        return Pauses(**values)

    def lines(self, node: CommentedMap, section: str, line: int | None) -> tuple[LineFix, ...]:
        """``lines: {12: Buffy, "Yes, yes I will": Buffy}``: quote id or opening words."""
        fixes = []
        for key, speaker, key_line in self._names_map(node, section):
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
                    f"{section}.{key}",
                    "a quote is its id (a whole number, as `narrate script --explain` "
                    "shows) or its opening words",
                )
                continue
            fixes.append(LineFix(quote, speaker, f"{self.name}:{key_line}"))
        return tuple(fixes)

    def merge(self, node: CommentedMap, section: str, line: int | None) -> dict[str, str]:
        """``merge: {First-Dru: The First, Jake: narrator}``: all lines of one are another's."""
        merged = {}
        for key, speaker, key_line in self._names_map(node, section):
            if not isinstance(key, str) or not key.strip():
                self.problem(key_line, f"{section}.{key}", "must be a speaker's name")
                continue
            merged[key.strip()] = speaker
        return merged

    def _names_map(self, node: CommentedMap, section: str) -> Iterator[tuple[Any, str, int | None]]:
        """(key, speaker, line) for each entry of a map whose values are speaker names."""
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

    def pronunciations(self, node: CommentedMap, section: str, line: int | None) -> Pronunciations:
        """``pronunciations: {Giles: Jiles}``: words and what to say instead, in file order."""
        pairs = []
        for word in node:
            said = node[word]
            word_line = _key_line(node, word)
            # A blank or non-text word is named the way YAML would write it ("", null, 42).
            written = (
                word if isinstance(word, str) and word.strip() else json.dumps(word, default=str)
            )
            key = f"{section}.{written}"
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


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One top-level key of the voices file and how its value is read.

    The walk is the same for each: tags are refused; the value must be a mapping (said as
    "must be ``shape``") whose keys, when ``keys`` fixes them, are checked; then ``read``
    turns it into what :class:`VoicesConfig` holds under ``key``. A section left out, empty
    or wrong reads as an empty mapping, unless it is ``required``.
    """

    key: str
    #: ``read(checker, mapping, key, line)``: the section's value, its problems reported.
    read: Callable[[_Checker, CommentedMap, str, int | None], Any]
    #: What the value must be, said when it is something else.
    shape: str
    #: The keys its mapping may have; none: any key (names, words, quotes).
    keys: tuple[str, ...] = ()
    #: The key that text stands for: ``narrator: en-us+m3`` is ``{voice: en-us+m3}``.
    shorthand: str = ""
    #: What is said when a file leaves out a section it must have.
    required: str = ""
    #: The value of a section left out, when that is not what an empty one reads as.
    left_out: Callable[[], Any] | None = None


#: The top-level keys of the voices file, in the order messages list them.
SECTIONS = (
    Section(
        "narrator",
        _Checker.profile,
        PROFILE_SHAPE,
        keys=PROFILE_KEYS,
        shorthand="voice",
        required="missing; give the narrator's voice, e.g. narrator: {voice: en-us+m3, rate: 170}",
    ),
    Section(
        "characters",
        _Checker.characters,
        "a mapping of character names to voice profiles, e.g. Spike: {voice: en-gb-x-rp+m7}",
    ),
    Section(
        "pools",
        _Checker.pools,
        "a mapping with keys " + ", ".join(GENDERS),
        keys=GENDERS,
        # A file that leaves pools out still gives unlisted speakers voices of their own,
        # never the narrator's: the built-in pools.
        left_out=lambda: dict(_default_pools()),
    ),
    Section(
        "pauses",
        _Checker.pauses,
        "a mapping with keys " + ", ".join(PAUSE_KEYS),
        keys=PAUSE_KEYS,
    ),
    Section(
        "pronunciations",
        _Checker.pronunciations,
        'a mapping of words to how to say them, e.g. {Giles: Jiles, "Dr.": Doctor}',
    ),
    Section(
        "lines",
        _Checker.lines,
        "a mapping of quote ids or opening words to speakers, e.g. 12: Buffy",
    ),
    Section(
        "merge",
        _Checker.merge,
        "a mapping of speakers to the speaker they are, e.g. First-Dru: The First",
    ),
)
TOP_KEYS = tuple(section.key for section in SECTIONS)


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

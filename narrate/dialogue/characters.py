"""Find the people in a story: names, their aliases, and their gender.

Pure. Built from how English prose writes people, not from any list of a book's names:

- a name is a run of capitalised words (``Buffy``, ``Sherlock Holmes``), with an optional
  honorific (``Mr. Darcy``, ``Miss Morstan``), that is not an ordinary word written with a
  capital at the start of a sentence (``Well``, ``Then``) — judged by how often the same
  word appears in lower case in the same book;
- a short form joins the longer name it belongs to when exactly one longer name fits
  (``Darcy`` → ``Mr. Darcy``; ``Bennet`` alone, shared by several, stays apart);
- gender comes from honorifics (Mr./Mrs.), then from the pronouns that follow the name
  when it is a sentence's subject ("Spike rose ... his").
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

from narrate.model import FEMALE, MALE, NARRATOR, Character
from narrate.readers.letters import LOWER, UPPER

HONORIFICS: dict[str, str | None] = {
    "mr": MALE,
    "mister": MALE,
    "sir": MALE,
    "lord": MALE,
    "monsieur": MALE,
    "m": MALE,
    "herr": MALE,
    "signor": MALE,
    "senor": MALE,
    "master": MALE,
    "uncle": MALE,
    "father": MALE,
    "brother": MALE,
    "king": MALE,
    "prince": MALE,
    "duke": MALE,
    "count": MALE,
    "baron": MALE,
    "earl": MALE,
    "mrs": FEMALE,
    "miss": FEMALE,
    "ms": FEMALE,
    "lady": FEMALE,
    "madam": FEMALE,
    "madame": FEMALE,
    "mme": FEMALE,
    "mademoiselle": FEMALE,
    "mlle": FEMALE,
    "frau": FEMALE,
    "fraulein": FEMALE,
    "signora": FEMALE,
    "senora": FEMALE,
    "mistress": FEMALE,
    "aunt": FEMALE,
    "mother": FEMALE,
    "sister": FEMALE,
    "queen": FEMALE,
    "princess": FEMALE,
    "duchess": FEMALE,
    "countess": FEMALE,
    "baroness": FEMALE,
    "dame": FEMALE,
    "dr": None,
    "doctor": None,
    "professor": None,
    "prof": None,
    "captain": None,
    "capt": None,
    "colonel": None,
    "col": None,
    "major": None,
    "general": None,
    "lieutenant": None,
    "lt": None,
    "sergeant": None,
    "sgt": None,
    "inspector": None,
    "detective": None,
    "officer": None,
    "judge": None,
    "reverend": None,
    "rev": None,
    "saint": None,
    "st": None,
    "admiral": None,
    "commander": None,
    "corporal": None,
    "private": None,
    "constable": None,
    "nurse": None,
}

#: Capitalised words that are never names by themselves.
_NOT_NAMES = set(
    """
    i i'm i've i'd i'll a an the this that these those there here then than and but or nor
    for so yet he she it we they you his her its our their your him them me us my mine yours
    hers ours theirs who whom whose what which when where why how if oh ah o yes no not well
    now just only even still also too very all any some each every both either neither none
    one two three four five six seven eight nine ten first second third last next good great
    little old young new dear god lord heaven heavens hell sir madam ma'am miss mr mrs ms dr
    chapter part book volume mister mistress monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october
    november december christmas easter english french german italian spanish american
    british irish scotch scottish welsh indian chinese russian european african english
    north south east west northern southern eastern western ok okay hey hi hello goodbye
    goodnight thanks thank
    please sorry alas hush hurrah hurray bravo indeed perhaps maybe whatever however
    therefore meanwhile suddenly finally afterwards later soon once twice again never always
    nothing something everything anything nobody somebody everybody anybody someone everyone
    anyone tomorrow today tonight yesterday morning evening night day
    """.split()
)

#: Words for places that are surnames too ("Mr. Hall", "Mrs. Wood"): a name alone when the
#: book writes it with a capital mid-sentence more often than in lower case ("said Hall"),
#: never at the end of a longer name ("Baker Street", "Netherfield Hall").
_PLACE_WORDS = set(
    """
    street road lane square park hall house court castle abbey church station hotel inn
    river lake sea ocean bay island mount mountain hill wood forest
    """.split()
)

#: Words that are not a name even after an honorific ("Mr. and Mrs. Hall").
_NOT_AFTER_HONORIFIC = set("and or the a an of i he she it we they you his her".split())

#: Plural nouns for people: "the girls", "the fishermen" can speak as a group.
GROUP_NOUNS = set(
    """
    girls boys men women children kids others people crowd fishermen sailors soldiers guests
    students pupils villagers servants ladies gentlemen twins sisters brothers friends
    voices guards officers policemen constables crew passengers townspeople neighbours
    neighbors family audience spectators onlookers workers players teens teenagers slayers
    potentials vampires creatures animals birds scoobies gang group party company jury
    judges clerks maids footmen lads lasses
    """.split()
)

_HONORIFIC_RE = "|".join(
    sorted((re.escape(h.capitalize()) for h in HONORIFICS), key=len, reverse=True)
)
# A name's words; an honorific starts a new name ("Later Mr. Quillon" is "Mr. Quillon").
_WORD = rf"(?!(?:{_HONORIFIC_RE}|The)\b)[{UPPER}][{LOWER}]+(?:['\u2019-][{UPPER}{LOWER}]+)*"
NAME_PATTERN = re.compile(
    rf"\b(?:(?P<honorific>{_HONORIFIC_RE}|The)\.?\s+)?(?P<name>{_WORD}(?:\s+{_WORD}){{0,2}})"
)
# "her" and "him" are left out: as objects they are usually someone else ("Spike squeezed
# her hand").
_ORDINAL_TITLES = {"first", "one", "master", "doctor", "other"}
_PRONOUN = re.compile(r"\b(he|his|himself|she|hers|herself)\b", re.IGNORECASE)


@dataclass
class _Entry:
    """A name while it is being counted."""

    key: str
    honorific: str | None
    tokens: tuple[str, ...]
    display: str = ""
    count: int = 0
    place_hints: int = 0
    #: How often it is written after a lower-case "the" ("the Hatter", "the Mock Turtle").
    after_the: int = 0
    #: How often it does what people do: "Willow smiled", "Mara liked", "Tom said".
    acts: int = 0
    forms: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Mention:
    """A place where a character is named: its span in the source and the character."""

    start: int
    end: int
    name: str


class CharacterIndex:
    """Characters found in a text, and the means to recognise them again."""

    def __init__(
        self,
        characters: Iterable[Character],
        lookup: dict[str, str],
        vocabulary: _Vocabulary | None = None,
    ) -> None:
        self.characters = {c.name: c for c in characters}
        self._lookup = lookup
        #: Honorific -> the characters that bear it, most named first ("count": [...]).
        self.titled: dict[str, list[str]] = {}
        #: The characters that are people: with a gender, a title, or doing what people
        #: do ("Willow smiled"). A name that is only ever a place is not among them.
        self.people: set[str] = set()
        self._vocabulary = vocabulary

    def is_ordinary(self, word: str) -> bool:
        """A capitalised word that is an ordinary word of the book ("At", "Darkness")."""
        return self._vocabulary is not None and self._vocabulary.ordinary(word)

    def could_be_person(self, name: str) -> bool:
        """Whether ``name`` may be a person: one of the people, or a name the text does
        not know (a place the text names is not)."""
        return name in self.people or name not in self.characters

    def resolve(self, surface: str) -> str | None:
        """The character a name as written refers to, or None when unknown or ambiguous."""
        return self._lookup.get(_key(surface))

    def gender(self, name: str) -> str | None:
        character = self.characters.get(name)
        return character.gender if character else None

    def mentions(self, text: str, offset: int = 0) -> list[Mention]:
        """Character names in ``text``; spans are shifted by ``offset``."""
        found = []
        for match in NAME_PATTERN.finditer(text):
            name = self._match_name(match)
            if name is not None:
                found.append(Mention(offset + match.start(), offset + match.end(), name))
        return found

    def _match_name(self, match: re.Match) -> str | None:
        honorific = match.group("honorific")
        words = match.group("name").split()
        # Try the longest run first, then shorter ones from the left ("Then Spike").
        for start in range(len(words)):
            for end in range(len(words), start, -1):
                surface = " ".join(words[start:end])
                if honorific and start == 0:
                    surface = f"{honorific} {surface}"
                name = self._lookup.get(_key(surface))
                if name is not None:
                    return name
        return None


def _key(surface: str) -> str:
    surface = re.sub(r"['\u2019]s$", "", surface.strip())
    surface = surface.replace(".", "")
    return " ".join(surface.lower().split())


class _Vocabulary:
    """How a book writes its words: to tell a name from an ordinary word with a capital.

    A word is ordinary when the book writes it in lower case at least twice and at least as
    often as with a capital in the middle of a sentence: "Well" and "Then" are ordinary;
    "Bill" is a name in a book that says "said Bill" more often than "paid the bill".
    """

    def __init__(self, full_text: str) -> None:
        self.lower = Counter(re.findall(rf"\b[{LOWER}][{LOWER}'\u2019]+\b", full_text))
        self.capital = Counter(re.findall(rf"(?<=[{LOWER},;] )[{UPPER}][{LOWER}]+\b", full_text))

    def ordinary(self, word: str) -> bool:
        lowered = word.lower()
        if lowered in _NOT_NAMES or lowered in HONORIFICS:
            return True
        count = self.lower[lowered]
        return count >= 2 and count >= self.capital[word[:1].upper() + word[1:].lower()]


def find_characters(
    narration: Iterable[tuple[int, str]],
    full_text: str,
    dialogue: Iterable[str] = (),
) -> CharacterIndex:
    """Find the characters named in a book.

    ``narration`` gives (offset, text) pairs of narration, where names are counted and
    their pronouns read; ``dialogue`` adds names only said aloud ("Hello, Jake"), counted
    but without pronouns (an "I" and a "you" talk there). ``full_text`` is the whole book,
    used to tell names from ordinary capitalised words.
    """
    vocabulary = _Vocabulary(full_text)
    entries: dict[str, _Entry] = {}
    pronoun_votes: dict[str, Counter] = defaultdict(Counter)
    together = _Together()
    for text, in_narration in [(t, True) for _, t in narration] + [(t, False) for t in dialogue]:
        if in_narration:
            together.next_text()
        for match in NAME_PATTERN.finditer(text):
            before = text[max(0, match.start() - 8) : match.start()]
            if not in_narration and _SENTENCE_START.search(before):
                continue  # in speech a capital opens many a sentence: "Ugh!", "Hark!"
            entry = _entry_for(match, text, vocabulary)
            if entry is None:
                continue
            existing = entries.setdefault(entry.key, entry)
            if in_narration:
                together.named(entry.key, text, match.start(), match.end())
            existing.count += 1
            existing.forms[entry.display] += 1
            if before.endswith("the ") and not match.group("honorific"):
                existing.after_the += 1
            if in_narration and _PERSON_VERB.match(text, match.end()):
                existing.acts += 1
            if _after_place_preposition(text, match.start()):
                existing.place_hints += 1
            vote = _pronoun_after(text, match.start(), match.end()) if in_narration else None
            if vote:
                pronoun_votes[entry.key][vote[0]] += vote[1]
    together.next_text()
    index = _cluster(entries, pronoun_votes, together.counts)
    index._vocabulary = vocabulary
    return index


class _Together:
    """How often two names are written in one sentence of the narration: a person is
    rarely named twice over in one sentence, so names that often are ("Mr. Emerson and
    George") are two people."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self._sentence: set[str] = set()
        self._text = ""
        self._end = 0

    def next_text(self) -> None:
        self._flush()
        self._text, self._end = "", 0

    def named(self, key: str, text: str, start: int, end: int) -> None:
        """The name ``key`` is written at ``text[start:end]``."""
        if text is not self._text or start >= self._end:
            self._flush()
            self._text = text
            # From the name's end: "Mr." is not the end of a sentence.
            found = _SENTENCE_END.search(text, end)
            self._end = found.end() if found else len(text)
        self._sentence.add(key)

    def _flush(self) -> None:
        names = sorted(self._sentence)
        for number, one in enumerate(names):
            for other in names[number + 1 :]:
                self.counts[one, other] += 1
        self._sentence = set()


_SENTENCE_END = re.compile(r"[.!?]['\"\u201d\u2019]?(?:\s|$)")


def _titles(clusters: dict[str, list[_Entry]], names: dict[str, str]) -> dict[str, list[str]]:
    """Honorific -> names of the characters that bear it, the most named first."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for root, members in clusters.items():
        for member in members:
            if member.honorific:
                counts[member.honorific][names[root]] += member.count
    return {title: [n for n, _ in c.most_common()] for title, c in counts.items()}


def _entry_for(match: re.Match, text: str, vocabulary: _Vocabulary) -> _Entry | None:
    honorific = match.group("honorific")
    if honorific == "The":
        # "The First", "The Invisible Man": a name when written so mid-sentence.
        if _SUBJECT_START.search(text[max(0, match.start() - 8) : match.start()]):
            honorific = None
        else:
            words = match.group("name").split()
            first = words[0].lower()
            if first not in _ORDINAL_TITLES and (
                first in _NOT_NAMES or (len(words) == 1 and vocabulary.ordinary(words[0]))
            ):
                return None
            display = "The " + " ".join(re.sub(r"['\u2019]s$", "", w) for w in words)
            tokens = ("the", *(w.lower() for w in display.split()[1:]))
            return _Entry(" ".join(tokens), None, tokens, display)
    words = [re.sub(r"['\u2019]s$", "", w) for w in match.group("name").split()]
    if not honorific:
        # Drop ordinary words written with a capital ("Then Spike", "Poor Spike").
        while words and vocabulary.ordinary(words[0]):
            words.pop(0)
        # Only plain words at the end: "Harvey Stone" keeps its surname though "stone" is a
        # word too.
        while words and (
            words[-1].lower() in _NOT_NAMES
            or (len(words) > 1 and words[-1].lower() in _PLACE_WORDS)
        ):
            words.pop()
        if not words:
            return None
    elif not words or words[0].lower() in _NOT_AFTER_HONORIFIC:
        # "Mrs. Hall", "Mr. Wood", "Miss Lane": with an honorific, a word is a name.
        return None
    honorific_key = honorific.lower().rstrip(".") if honorific else None
    tokens = tuple(w.lower() for w in words)
    key = " ".join(((honorific_key,) if honorific_key else ()) + tokens)
    display = " ".join(words)
    if honorific:
        written = match.group(0)[: match.start("name") - match.start()]
        display = " ".join(written.split()) + " " + display
    return _Entry(key, honorific_key, tokens, display)


_PLACE_PREPOSITIONS = re.compile(
    r"\b(?:in|from|near|into|towards?|through|within|across|throughout|reach|reached|"
    r"leave|left|leaving|visit|visited|via)\s+$",
    re.IGNORECASE,
)


def _after_place_preposition(text: str, index: int) -> bool:
    return bool(_PLACE_PREPOSITIONS.search(text[max(0, index - 14) : index]))


# A verb people do, right after a name: a past tense in -ed, or a common irregular one.
_PERSON_VERB = re.compile(
    r"\s+(?:[a-z]+ed|said|says|asked|thought|felt|knew|saw|went|came|took|gave|sat|stood|"
    r"ran|told|made|got|kept|heard|began|spoke|wrote|put|let|left|shook|turned|smiled|"
    r"laughed|nodded|sighed|cried|whispered|answered|replied)\b"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?]['\"\u201d\u2019]?\s+)$")
_SUBJECT_START = re.compile(
    r"(?:^|[.!?]['\"\u201d\u2019]?\s+|\b(?:and|but|then|when|as|while)\s+)$", re.IGNORECASE
)


def is_subject(text: str, start: int, end: int) -> bool:
    """The name at ``text[start:end]`` opens its clause and something follows that a person
    does: "Elizabeth turned", "and Jane had" (not "for Lady Catherine")."""
    if not _SUBJECT_START.search(text[max(0, start - 8) : start]):
        return False
    return bool(_PERSON_VERB.match(text, end) or _SUBJECT_VERB.match(text, end))


_SUBJECT_VERB = re.compile(r"[,]?\s+(?:[a-z]+ly\s+)?(?:was|were|had|could|would|did|is|has)\b")


def _pronoun_after(text: str, start: int, end: int) -> tuple[str, float] | None:
    """The gender a name's own pronouns show, and how sure that is, when the name is a
    sentence's subject: "Spike rolled his eyes" (sure), "Tom frowned, and he ..." (fair),
    "Tom frowned. He ..." (weak). Only he/his/himself and she/herself/hers count: "her"
    and "him" are usually someone else ("Spike squeezed her hand"), and so is a pronoun
    after another name or after her/him."""
    if not _SUBJECT_START.search(text[max(0, start - 8) : start]):
        return None
    rest = text[end : end + 200]
    quote = re.search(r"[\"\u201c\u201d;]", rest)
    if quote:
        rest = rest[: quote.start()]
    stops = [m.end() for m in re.finditer(r"[.!?]\s+", rest)]
    if len(stops) >= 2:
        rest = rest[: stops[1]]
    match = _PRONOUN.search(rest)
    if not match:
        return None
    between = rest[: match.start()]
    if stops and match.start() > stops[0]:
        return None  # in the next sentence, only its first word counts
    if re.search(rf"(?<![.!?]\s)\b[{UPPER}][{LOWER}]|\b(?:her|him)\b", between):
        return None
    pronoun = match.group(1).lower()
    gender = MALE if pronoun in {"he", "his", "himself"} else FEMALE
    if stops and match.start() == stops[0]:
        return gender, 0.5
    if pronoun in {"his", "himself", "herself", "hers"}:
        return gender, 2.0
    return gender, 1.0


def _cluster(
    entries: dict[str, _Entry], pronoun_votes: dict[str, Counter], together: Counter
) -> CharacterIndex:
    """Join short forms to the longer name they belong to; build the lookup table.

    A short form that fits several longer names ("Bennet": Mr., Mrs., Elizabeth Bennet)
    goes to the one the text names most often.
    """
    # Longer names first, and "Mr. Darcy" before "Darcy", so short forms find them.
    ordered = sorted(
        entries.values(), key=lambda e: (-len(e.tokens), e.honorific is None, -e.count)
    )
    clusters: dict[str, list[_Entry]] = {}
    roots_by_token: dict[str, list[str]] = defaultdict(list)
    for entry in ordered:
        candidates = {root for token in entry.tokens for root in roots_by_token[token]}
        parents = [root for root in candidates if _belongs(entry, clusters[root][0])]
        if parents:
            best = max(parents, key=lambda root: (sum(m.count for m in clusters[root]), root))
            clusters[best].append(entry)
        else:
            clusters[entry.key] = [entry]
            for token in entry.tokens:
                roots_by_token[token].append(entry.key)
    # A character is named at least twice, and is not mostly a place ("in Meryton").
    kept = {}
    for root, members in clusters.items():
        count = sum(m.count for m in members)
        places = sum(m.place_hints for m in members)
        if count >= 2 and not (places * 3 >= count and not any(m.honorific for m in members)):
            kept[root] = members
    clusters = _join_honorific_to_full_name(kept, pronoun_votes, together)
    clusters = _join_short_given_names(clusters)
    # How many characters carry each last name ("Bennet": five).
    surname_owners: Counter = Counter()
    for members in clusters.values():
        surname_owners.update({m.tokens[-1] for m in members if m.tokens[0] != "the"})
    characters: list[Character] = []
    lookup: dict[str, str] = {}
    names: dict[str, str] = {}
    for root, members in clusters.items():
        name = _cluster_name(members, surname_owners)
        if 2 * sum(m.after_the for m in members) >= sum(m.count for m in members) and not (
            name.lower().startswith("the ")
        ):
            name = "the " + name  # "the Hatter", "the Invisible Man"
        names[root] = name
        honorific_gender = None
        for member in members:
            if member.honorific and HONORIFICS.get(member.honorific):
                honorific_gender = HONORIFICS[member.honorific]
        gender = honorific_gender or _gender_of(members, pronoun_votes)
        aliases = sorted({form for m in members for form in m.forms} - {name})
        characters.append(Character(name=name, aliases=tuple(aliases), gender=gender))
        for member in members:
            lookup[member.key] = name
            lookup["the " + member.key] = name
            for form in member.forms:
                lookup[_key(form)] = name
    index = CharacterIndex(characters, lookup)
    index.titled = _titles(clusters, names)
    index.people = {
        names[root]
        for root, members in clusters.items()
        if _is_person(members, pronoun_votes, index.characters[names[root]].gender)
    }
    return index


def _is_person(members: list[_Entry], pronoun_votes: dict[str, Counter], gender) -> bool:
    """Whether a named thing is a person: it bears a title, has a given name, acts as people
    do, or is "he" or "she" often enough that a place or a book rarely would be."""
    if any(m.honorific for m in members) or _given_name_gender(members):
        return True
    acts = sum(m.acts for m in members)
    votes = sum(sum(pronoun_votes.get(m.key, Counter()).values()) for m in members)
    return acts >= 2 or (gender is not None and (acts >= 1 or votes >= 3))


def _join_honorific_to_full_name(
    clusters: dict[str, list[_Entry]], pronoun_votes: dict[str, Counter], together: Counter
) -> dict[str, list[_Entry]]:
    """ "Mr. Campbell" is "Mike Campbell" when he is the only man of the book with a full
    name ending in Campbell, and "Miss Bartlett" is "Charlotte Bartlett" when she is the
    only woman so named. Not "Mrs.": Elizabeth Bennet is not Mrs. Bennet. And not when the
    two are named in one sentence often enough to be two people ("Mr. Emerson and George",
    father and son)."""
    full_names: dict[str, list[str]] = defaultdict(list)
    for root, members in clusters.items():
        first = members[0]
        if not first.honorific and len(first.tokens) >= 2 and first.tokens[0] != "the":
            full_names[first.tokens[-1]].append(root)
    for root in list(clusters):
        members = clusters[root]
        first = members[0]
        wanted = {"mr": MALE, "mister": MALE, "miss": FEMALE}.get(first.honorific or "")
        if wanted is None or len(first.tokens) != 1:
            continue
        candidates = [
            target
            for target in full_names.get(first.tokens[0], [])
            if target in clusters and _gender_of(clusters[target], pronoun_votes) in (None, wanted)
        ]
        if len(candidates) != 1:
            continue
        target = candidates[0]
        given = [m.key for m in clusters[target] if m.tokens[0] == clusters[target][0].tokens[0]]
        if _two_people(together, [m.key for m in members], given, members, clusters[target]):
            continue
        clusters[target] = clusters[target] + members
        del clusters[root]
    return clusters


def _gender_of(members: list[_Entry], pronoun_votes: dict[str, Counter]) -> str | None:
    """A cluster's gender as its pronouns say, else as its given name usually is."""
    votes: Counter = Counter()
    for member in members:
        votes.update(pronoun_votes.get(member.key, Counter()))
    return _vote(votes) or _given_name_gender(members)


def _two_people(
    together: Counter,
    keys: list[str],
    others: list[str],
    members: list[_Entry],
    other_members: list[_Entry],
) -> bool:
    """Whether names ``keys`` and ``others`` are written in one sentence often enough
    (twice, and in a twentieth of the sentences the rarer is named in) to be two people."""
    both = sum(together[tuple(sorted((a, b)))] for a in set(keys) for b in set(others) if a != b)
    named = min(
        sum(m.count for m in members if m.key in keys),
        sum(m.count for m in other_members if m.key in others),
    )
    return both >= 2 and both * 20 >= named


@functools.cache
def _short_names() -> dict[str, set[str]]:
    """Given name -> the names it may be a short or full form of ("lizzy" <-> "elizabeth")."""
    text = resources.files("narrate.dialogue").joinpath("data/diminutives.txt").read_text("utf-8")
    related: dict[str, set[str]] = defaultdict(set)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        full, shorts = line.split(":")
        for short in shorts.split():
            related[short.lower()].add(full.strip().lower())
            related[full.strip().lower()].add(short.lower())
    return related


def _join_short_given_names(clusters: dict[str, list[_Entry]]) -> dict[str, list[_Entry]]:
    """ "Lizzy" and "Eliza" are "Elizabeth", "Michael" is "Mike Campbell": a cluster known
    by a given name joins the one other cluster known by its short or full form. Not a
    cluster known by a title ("Kitty" is not "Lady Catherine")."""
    given: dict[str, list[str]] = defaultdict(list)
    for root, members in clusters.items():
        if members[0].tokens[0] == "the" or (members[0].honorific and len(members[0].tokens) < 2):
            continue  # "Lady Catherine" is known by her title; "Miss Elizabeth Bennet" is not
        for token in {m.tokens[0] for m in members if not m.honorific}:
            given[token].append(root)
    for root in sorted(clusters, key=lambda r: sum(m.count for m in clusters[r])):
        members = clusters.get(root)
        if not members or members[0].tokens[0] == "the":
            continue
        # "Miss Eliza" is Elizabeth: "Miss" and "Master" go with a given name too.
        if members[0].honorific not in (None, "miss", "master") or (
            members[0].honorific and len(members[0].tokens) != 1
        ):
            continue
        first = members[0]
        related = _short_names().get(first.tokens[0], set())
        targets = {
            t
            for name in related
            for t in given.get(name, [])
            if t != root
            and t in clusters
            and _same_surname(first, clusters[t][0])
            # Tom is not Mr. Thomas Gradgrind, his father: a familiar short name is
            # rarely the one the book calls Mr. or Mrs.
            and not any(m.honorific in ("mr", "mrs", "mister") for m in clusters[t])
        }
        if len(targets) == 1:
            target = targets.pop()
            clusters[target] = clusters[target] + members
            del clusters[root]
    return clusters


def _same_surname(one: _Entry, other: _Entry) -> bool:
    """Two names agree on the surname, or at most one of them has one."""
    return len(one.tokens) < 2 or len(other.tokens) < 2 or one.tokens[-1] == other.tokens[-1]


def _belongs(short: _Entry, long: _Entry) -> bool:
    """ "Darcy" or "Mr. Darcy" belongs to "Fitzwilliam Darcy"; "Mr. Bennet" belongs
    neither to "Mrs. Bennet" nor to "Elizabeth Bennet" (a woman)."""
    if short.key == long.key or not set(short.tokens) <= set(long.tokens):
        return False
    if short.honorific and long.honorific and short.honorific != long.honorific:
        return False
    if short.honorific and not long.honorific and len(short.tokens) != len(long.tokens):
        # "Mrs. Bennet" is not "Elizabeth Bennet"; "Mr. Darcy" is "Darcy"; but "Miss
        # Louisa" is "Louisa Gradgrind", and "Master Tom" is "Tom Gradgrind".
        return short.honorific in ("miss", "master") and short.tokens[0] == long.tokens[0]
    if len(short.tokens) == len(long.tokens):
        if (
            not short.honorific
            and len(short.tokens) == 1
            and HONORIFICS.get(long.honorific or "") == FEMALE
            and short.tokens[0] not in _given_names()
        ):
            # A bare surname is the man, not "Mrs." or "Miss" ("Braddocks said"); a given
            # name is the woman ("Louisa" is "Miss Louisa").
            return False
        return bool(short.honorific) != bool(long.honorific)
    return short.tokens[-1] == long.tokens[-1] or short.tokens[0] == long.tokens[0]


def _cluster_name(members: list[_Entry], surname_owners: Counter) -> str:
    """The full name ("Harvey Stone") when the text gives one and no one else in the book
    shares the surname; otherwise the form the text uses most ("Elizabeth" among the
    Bennets, "Mr. Darcy" beside Miss Darcy)."""
    forms: Counter = Counter()
    for member in members:
        forms.update(member.forms)
    alone = {m.tokens[0] for m in members if len(m.tokens) == 1 and not m.honorific}
    full = [
        (count, form)
        for member in members
        for form, count in member.forms.items()
        if not member.honorific
        and len(member.tokens) >= 2
        and member.tokens[0] in alone  # "Harvey" is used alone too: not "Poor Spike"
        and surname_owners[member.tokens[-1]] == 1
    ]
    if full:
        return max(full)[1]
    return forms.most_common(1)[0][0]


@functools.cache
def _given_names() -> dict[str, str]:
    """Common given names -> gender, from the list shipped with narrate."""
    text = resources.files("narrate.dialogue").joinpath("data/given_names.txt").read_text("utf-8")
    names = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            gender, name = line.split()
            names[name.lower()] = FEMALE if gender == "f" else MALE
    return names


def _given_name_gender(members: list[_Entry]) -> str | None:
    """The gender a character's given name usually has, when the text says nothing."""
    genders = {
        _given_names().get(m.tokens[0]) for m in members if not m.honorific and m.tokens[0] != "the"
    } - {None}
    return genders.pop() if len(genders) == 1 else None


def _vote(votes: Counter) -> str | None:
    male, female = votes[MALE], votes[FEMALE]
    if male + female < 1 or male == female:
        return None
    if max(male, female) < 1.5 * min(male, female):
        return None
    return MALE if male > female else FEMALE


# --- who a speaker is: gender and groups -----------------------------------------------

_FEMALE_NOUNS = set(
    """
    woman women lady ladies girl girls mother sister sisters aunt queen princess duchess
    wife widow maid maids lass lasses madam mistress daughter niece grandmother
    housekeeper landlady nurse nun witch hostess waitress actress countess baroness
    """.split()
)
_MALE_NOUNS = set(
    """
    man men gentleman gentlemen boy boys father brother brothers uncle king prince duke
    husband son nephew grandfather lad lads fellow fellows sir lord landlord master
    butler footman footmen fishermen sailors soldiers policeman constable monk priest
    waiter host actor count baron stranger
    """.split()
)


def is_group(name: str) -> bool:
    """ "the girls", "the fishermen", "everyone": a speaker that is several people."""
    words = name.lower().split()
    return name.lower() == "everyone" or (
        len(words) >= 2 and words[0] == "the" and words[-1] in GROUP_NOUNS
    )


def speaker_gender(name: str, character: Character | None) -> str | None:
    """A speaker's gender: the character's, or the noun of a group or description."""
    if character is not None and character.gender:
        return character.gender
    words = re.findall(r"[a-z]+", name.lower())
    if words and (words[0] == "the" or len(words) > 1 or name[:1].islower()):
        noun = words[-1]
        if noun in _FEMALE_NOUNS:
            return FEMALE
        if noun in _MALE_NOUNS:
            return MALE
    return None


def speaking_characters(
    lines: Mapping[str, int], known: Mapping[str, Character]
) -> list[Character]:
    """The speakers (name -> quotes), biggest parts first, with what the character finder
    knows of them, their gender and whether they are a group."""
    characters = []
    for name, count in sorted(lines.items(), key=lambda item: (-item[1], item[0])):
        if name == NARRATOR:
            continue
        base = known.get(name)
        characters.append(
            Character(
                name=name,
                aliases=base.aliases if base else (),
                gender=speaker_gender(name, base),
                group=base is None and is_group(name),
                lines=count,
            )
        )
    return characters

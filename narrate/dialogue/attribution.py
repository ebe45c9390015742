"""Speaker attribution: who says each quotation.

Pure. Small passes over the quotations, surest first; each fills in what the earlier ones
left open and records why it chose a speaker (``reason``, shown by ``--explain``):

1. ``explicit``: a speech tag — ``said Spike``, ``Spike chided``, ``Mara said, "…"``,
   ``said the Hatter``, ``one of the girls asked`` (a group), ``he said`` (the pronoun
   resolved), or a sentence ending in a speech verb right before the quote.
2. ``beat``: the acting character of the sentence beside the quote in its paragraph
   (``Spike squeezed her hand. "Me, too."``), or the one heard (``Buffy heard Spike
   chuckle.``).
3. ``previous paragraph``: a quote opening its paragraph right after narration: the one
   who acted last there.
4. A first-person narrator is named by what the others call them, and their quotes
   merged under that name.
5. ``turns``: each conversation's open quotes decided together by
   :mod:`narrate.dialogue.turn_taking`.
6. ``nearest``: the last person named before the quote who is not its addressee.

The rules come from how English prose marks speech, not from any particular book.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from narrate.dialogue.characters import (
    GROUP_NOUNS,
    HONORIFICS,
    CharacterIndex,
    is_subject,
    speaker_gender,
)
from narrate.dialogue.turn_taking import DEFAULT_WEIGHTS, Turn, decide, hint_kind
from narrate.model import DIALOGUE, FEMALE, MALE, NARRATION, NARRATOR, Segment
from narrate.readers.letters import LOWER, UPPER

#: Verbs that introduce or tag speech, in their base form.
SPEECH_VERBS = set(
    """
    say ask reply answer cry exclaim shout yell whisper murmur mutter call continue add
    repeat return observe remark interrupt chide pipe chime begin resume retort snap
    growl sigh laugh chuckle giggle demand inquire enquire protest insist suggest
    explain declare stammer stutter gasp groan moan sob hiss breathe roar scream shriek
    tell think wonder plead beg urge agree admit announce assert bark blurt boom bellow
    caution comment complain concede confess confirm correct croak drawl echo explode
    falter gush grunt grumble holler howl implore joke lie mumble muse note offer order
    pant persist prompt purr query question quip rasp reason recall remind report
    ruminate scoff scold screech snarl sneer sniff sniffle splutter sputter squeak
    squeal state suggest tease thunder trill utter volunteer vow wail warn weep whimper
    whine wheeze yelp coo croon rejoin respond reflect cut put go write read sing hum
    smile grin nod shrug frown grimace snort jeer taunt mock plead console reassure
    soothe encourage accuse challenge counter object rule pronounce proclaim advise
    instruct command greet welcome acknowledge add volunteer venture hazard guess
    speculate wonder muse
    """.split()
)

_IRREGULAR = {
    "say": ["said", "says", "saying"],
    "tell": ["told", "tells"],
    "think": ["thought", "thinks"],
    "begin": ["began", "begins", "begun"],
    "cry": ["cried", "cries"],
    "reply": ["replied", "replies"],
    "go": ["went", "goes"],
    "write": ["wrote", "writes"],
    "read": ["reads"],
    "sing": ["sang", "sings"],
    "weep": ["wept", "weeps"],
    "put": ["puts"],
    "cut": ["cuts"],
    "lie": ["lied", "lies"],
    "query": ["queried"],
    "hazard": ["hazarded"],
    "sob": ["sobbed"],
    "snap": ["snapped"],
    "nod": ["nodded"],
    "grin": ["grinned"],
    "pipe": ["piped"],
    "chime": ["chimed"],
    "hum": ["hummed"],
    "shrug": ["shrugged"],
    "jeer": ["jeered"],
    "plead": ["pleaded", "pled"],
    "rule": ["ruled"],
    "quip": ["quipped"],
    "scold": ["scolded"],
}


def _verb_forms() -> set[str]:
    forms: set[str] = set()
    for verb in SPEECH_VERBS:
        forms.add(verb)
        forms.update(_IRREGULAR.get(verb, []))
        if verb in _IRREGULAR:
            continue
        if verb.endswith("e"):
            forms.update({verb + "d", verb + "s"})
        elif verb.endswith("y") and verb[-2] not in "aeiou":
            forms.update({verb[:-1] + "ied", verb[:-1] + "ies"})
        elif re.search(r"(sh|ch|ss|x|o)$", verb):
            forms.update({verb + "ed", verb + "es"})
        else:
            forms.update({verb + "ed", verb + "s"})
    return forms


VERB_FORMS = _verb_forms()
#: "…followed her, saying,": the -ing forms, for a tag that ends a sentence.
_VERB_ING = r"(?:%s)" % "|".join(
    sorted(
        {
            v[:-1] + "ing" if v.endswith("e") and not v.endswith("ee") else v + "ing"
            for v in SPEECH_VERBS
        },
        key=len,
        reverse=True,
    )
)
_VERB = r"(?:%s)" % "|".join(sorted(VERB_FORMS, key=len, reverse=True))
_ADVERB = r"(?:[a-z]+ly\s+|then\s+|again\s+|at\s+last\s+|at\s+once\s+|quickly\s+|softly\s+)"
_AUX = r"(?:had\s+|has\s+|have\s+|was\s+|were\s+|would\s+|could\s+|did\s+|will\s+)"
_HONORIFIC = r"(?:%s)\.?" % "|".join(
    sorted((re.escape(h.capitalize()) for h in HONORIFICS), key=len, reverse=True)
)
_PROPER = rf"[{UPPER}][{LOWER}]+(?:['\u2019-][{UPPER}{LOWER}]+)*"
_NAME = rf"(?:[Tt]he\s+)?(?:{_HONORIFIC}\s+)?{_PROPER}(?:\s+{_PROPER}){{0,2}}"
_PRONOUN = r"(?:he|she|I|they|we|it)"
_DESCRIPTION = (
    r"(?:(?:one|some|several|two|three|all|each|most|both|many|a\s+few|the\s+rest)\s+of\s+"
    r"(?:the|them|those|these|his|her|their|our)\s+[a-z]+"
    r"|(?:the|his|her|their|my|our|a|an|this|that|another)\s+(?:[a-z-]+\s+){0,2}[a-z]+"
    r"|they\s+all|all\s+of\s+them|the\s+all|all|everyone|everybody|both)"
)
_SUBJECT = rf"(?P<subject>{_NAME}|{_DESCRIPTION}|{_PRONOUN})"

# The period of "Mr." or "Dr." ends no sentence.
_ABBREVIATED = ("Mr", "Mrs", "Ms", "Dr", "St", "Mme", "Mlle", "Messrs", "Rev", "Col", "Capt")
_NOT_ABBREVIATION = "".join(rf"(?<!\b{a}\.)" for a in _ABBREVIATED)
# "said Spike", "said he", "said the stranger" — at the start of the narration after a quote.
_TAG_INVERTED = re.compile(
    rf"^[,;:\s\u2014\u2013-]*(?:{_ADVERB})?(?P<verb>{_VERB})\s+(?:{_ADVERB})?{_SUBJECT}\b"
)
# "Spike chided", "she said", "Dawn piped in", "the girls chimed in".
_TAG_NORMAL = re.compile(
    rf"^[,;:\s\u2014\u2013-]*(?:and\s+|then\s+)?{_SUBJECT}\s+(?:{_ADVERB}|{_AUX})?"
    rf"(?P<verb>{_VERB})\b"
)
# "Mara said, " / "Then Tom said quietly:" — a tag at the end of the narration before a quote.
_TAG_BEFORE = re.compile(
    rf"(?:^|[.!?]{_NOT_ABBREVIATION}\s+|,\s+|\band\s+|\bthen\s+){_SUBJECT}\s+"
    rf"(?:{_ADVERB}|{_AUX})?"
    rf"(?P<verb>{_VERB})\b(?:(?!\b{_VERB}\b)[^.!?;\"\u201c\u201d]){{0,60}}[,:\u2014\u2013-]?\s*$"
)
# "Mrs. Bennet, who quarrelled with no compliments, answered most readily," / "Mr. Collins,
# much offended, laid aside his book, and said," — the sentence before a quote ends with a
# speech verb whose subject opened it.
_CLAUSE_CHAR = rf"(?:(?:{'|'.join(_ABBREVIATED)})\.\s|;\s+(?:and|but)\s|[^.!?;\"\u201c\u201d])"
# Where a clause's subject may start: a sentence, "and"/"but", or an opening adverb.
_CLAUSE_START = re.compile(
    rf"(?:^|[.!?]{_NOT_ABBREVIATION}['\"\u201d\u2019]?\s+|[,;]\s+"
    r"|\b(?:and|but|when|while|as|till|until|whereupon|which|so|then)\s+"
    r"|\b(?:[Aa]t\s+(?:last|length)|[Pp]resently|[Ss]uddenly|[Ff]inally|[Tt]hen|[Nn]ow|"
    r"[Hh]ere|[Aa]gain)\s*,?\s+)"
)
# From there: a subject, anything in its sentence, and a speech verb ending it with a comma
# or a colon: "Mrs. Bennet, who quarrelled with no compliments, answered most readily,".
_TAG_BEFORE_CLAUSE = re.compile(
    rf"(?:(?:And|But|Then|So|Now|and|but|then)\s+)?"
    rf"(?P<subject>{_NAME}|{_DESCRIPTION}|(?:The|His|Her)\s+(?:[a-z-]+\s+){{0,2}}[a-z]+"
    rf"|He|She|he|she|I)"
    rf"(?P<middle>(?:[,\s]{_CLAUSE_CHAR}{{0,220}}?)?\s)"
    rf"(?:{_ADVERB})?(?P<verb>{_VERB}|{_VERB_ING})\b"
    rf"(?P<rest>[^.!?;\"\u201c\u201d]{{0,50}}?[,:\u2014\u2013-])?\s*$"
)
# "She was met by Lydia, who, flying to her, cried in a half whisper," — whoever "who" is.
_TAG_WHO = re.compile(
    rf"(?P<subject>{_NAME}|{_DESCRIPTION}),\s+who\b(?P<middle>{_CLAUSE_CHAR}{{0,160}}?)\s"
    rf"(?:{_ADVERB})?(?P<verb>{_VERB}|{_VERB_ING})\b"
    rf"(?P<rest>[^.!?;\"\u201c\u201d]{{0,50}}?[,:\u2014\u2013-])?\s*$"
)
# Someone else right before the verb: "…as her mother said," is not the subject's.
_OTHER_SUBJECT = re.compile(
    rf"(?:\b(?:he|she|they|we|I|who|which|that|whom)|{_PROPER}|\b(?:the|his|her|their|my)"
    rf"\s+[a-z-]+)\s+(?:{_ADVERB}|{_AUX})?$"
)
_TAG_BEFORE_INVERTED = re.compile(
    rf"(?:^|[.!?]{_NOT_ABBREVIATION}\s+)(?P<verb>{_VERB})\s+{_SUBJECT}\b[^.!?]{{0,40}}[,:]?\s*$"
)
_VOCAL = (
    r"(?:say|said|speak|spoke|talk|answer|reply|call|shout|yell|whisper|mutter|mumble|"
    r"murmur|chuckle|laugh|giggle|sigh|cry|ask|add|continue|clear|sing|begin|tell|groan|"
    r"moan|gasp|snarl|growl|hiss|scream)"
)
# "Buffy heard Spike chuckle", "she heard him clear as day": the one heard is speaking.
_PERCEPTION = re.compile(
    rf"\b(?:heard|hear|hears)\s+(?P<subject>{_NAME}|him|her|{_DESCRIPTION})"
    rf"(?:['\u2019]s\s+voice)?"
    rf"(?:\s+{_VOCAL}[a-z]*\b|\s*[,.!?]|\s+clear|\s+again|\s*$)"
    rf"|\b(?:saw|watched|noticed)\s+(?P<seen>{_NAME}|him|her)\s+{_VOCAL}[a-z]*\b"
)
_SPEECH_WORD = re.compile(rf"\b(?:{_VERB}|spoke|speaking)\b")
_LISTENING = re.compile(r"\b(?:listen|overhear|eavesdrop)", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+['\"\u201d\u2019)]*|$)")

# "the girls", "the bunch of curious teenaged girls": a group named in narration.
_GROUP_MENTION = re.compile(r"\bthe\s+(?:[a-z-]+\s+){0,3}?(?P<noun>[a-z]+)\b")

_NOT_SUBJECTS = {
    "the",
    "a",
    "an",
    "this",
    "that",
    "it",
    "there",
    "here",
    "then",
    "now",
    "but",
    "and",
    "or",
    "so",
    "if",
    "when",
    "as",
    "what",
    "who",
    "how",
    "why",
    "where",
    "yes",
    "no",
    "well",
    "oh",
    "ah",
    "chapter",
}


@dataclass
class _Quote:
    """One quotation while it is being attributed."""

    id: int
    segments: list[int]  # indices into the segment list
    paragraphs: list[int]
    speaker: str | None = None
    reason: str = ""
    #: Names the quote addresses, in the order they appear (a list, for determinism).
    addressees: list[str] = field(default_factory=list)
    #: Softer evidence for the turn-taking model: candidate -> (hint kind, why).
    hints: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The gender a pronoun tag asks for ("she said").
    gender: str | None = None
    #: Names the quote speaks of (not to): a speaker says "I", not their own name.
    mentioned: list[str] = field(default_factory=list)
    #: The gender of the one spoken to, from a title used as a vocative ("Yes, sir.").
    addressee_gender: str | None = None
    #: How far the turn-taking model's choice leads the next likeliest speaker, and who
    #: that is (for a quote a speech tag settled: no margin to speak of, nobody).
    margin: float = math.inf
    runner_up: str | None = None

    def hint(self, name: str, kind: str, why: str) -> None:
        """Record evidence for ``name``; the strongest kind of evidence wins."""
        if name not in self.hints or DEFAULT_WEIGHTS[self.hints[name][0]] < DEFAULT_WEIGHTS[kind]:
            self.hints[name] = (kind, why)


class _Context:
    """What the passes share: segments by paragraph, recent mentions, the character index."""

    def __init__(self, segments: Sequence[Segment], index: CharacterIndex) -> None:
        self.segments = list(segments)
        self.index = index
        self.by_paragraph: dict[int, list[int]] = {}
        for number, segment in enumerate(self.segments):
            if segment.spoken and not segment.heading:
                self.by_paragraph.setdefault(segment.paragraph, []).append(number)
        self.narration = [s for s in self.segments if s.kind == NARRATION and s.spoken]
        self.narration_starts = [s.start for s in self.narration]
        self.mentions: list[tuple[int, str]] = []  # (source offset, name) in narration
        self.subjects: set[int] = set()  # offsets of mentions that are a clause's subject
        self.groups: list[tuple[int, str]] = []  # (source offset, "the girls")
        for segment in self.narration:
            for mention in index.mentions(segment.text, segment.start):
                self.mentions.append((mention.start, mention.name))
                local = mention.start - segment.start
                if is_subject(segment.text, local, mention.end - segment.start):
                    self.subjects.add(mention.start)
            for match in _GROUP_MENTION.finditer(segment.text):
                if match.group("noun") in GROUP_NOUNS:
                    self.groups.append(
                        (segment.start + match.start(), "the " + match.group("noun"))
                    )
        self.mentions.sort()
        self.mention_starts = [position for position, _ in self.mentions]
        self.group_starts = [position for position, _ in self.groups]
        self.first_person = _is_first_person(self.segments)
        #: Names known to be people (see CharacterIndex.people); attribution adds those
        #: addressed in quotes and those named in speech tags. Places never qualify.
        self.people: set[str] = set(index.people)
        self._epithets: dict[str, bool] = {}
        #: The first-person narrator's gender, once their name is known.
        self.narrator_gender: str | None = None

    def narration_text(self, start: int, end: int) -> str:
        """The narration between two offsets, joined."""
        first = bisect.bisect_right(self.narration_starts, start)
        last = bisect.bisect_left(self.narration_starts, end)
        return " ".join(s.text for s in self.narration[first:last])

    def add_described(self, descriptions: set[str]) -> None:
        """Count "the visitor" in the narration as a mention of the speaker "the visitor"."""
        if not descriptions:
            return
        pattern = re.compile(
            r"\b(?:%s)\b" % "|".join(re.escape(d) for d in sorted(descriptions)), re.IGNORECASE
        )
        for segment in self.narration:
            for match in pattern.finditer(segment.text):
                name = _description_name(match.group(0))
                if name in descriptions:
                    self.mentions.append((segment.start + match.start(), name))
        self.mentions.sort()
        self.mention_starts = [position for position, _ in self.mentions]
        self.people.update(descriptions)

    def is_epithet(self, description: str) -> bool:
        """A description the book uses like a name ("the stranger", "the Voice"): written
        often in the narration, not a passing "the young girl"."""
        if description not in self._epithets:
            words = description.split()[1:]
            pattern = re.compile(
                r"\b(?:the|our|my|his|her)\s+" + r"\s+".join(map(re.escape, words)) + r"\b",
                re.IGNORECASE,
            )
            count = sum(len(pattern.findall(s.text)) for s in self.narration)
            self._epithets[description] = count >= EPITHET_MENTIONS
        return self._epithets[description]

    def mentions_between(self, start: int, end: int) -> list[tuple[int, str]]:
        """The (offset, name) mentions in narration between two offsets."""
        first = bisect.bisect_left(self.mention_starts, start)
        last = bisect.bisect_left(self.mention_starts, end)
        return self.mentions[first:last]

    def recent_group(self, position: int, limit: int = 12000) -> str | None:
        """The last group named in the narration before ``position`` ("the girls")."""
        index = bisect.bisect_left(self.group_starts, position) - 1
        if index >= 0 and position - self.groups[index][0] < limit:
            return self.groups[index][1]
        return None

    def narration_before(self, segment_number: int) -> Segment | None:
        """The narration segment directly before this one in the same paragraph."""
        if segment_number == 0:
            return None
        previous = self.segments[segment_number - 1]
        current = self.segments[segment_number]
        if previous.paragraph == current.paragraph and previous.kind == NARRATION:
            return previous
        return None

    def narration_after(self, segment_number: int) -> Segment | None:
        if segment_number + 1 >= len(self.segments):
            return None
        following = self.segments[segment_number + 1]
        current = self.segments[segment_number]
        if following.paragraph == current.paragraph and following.kind == NARRATION:
            return following
        return None

    def name_of(self, surface: str, allow_new: bool = False) -> str | None:
        """A character name for a name as written; with ``allow_new`` (a speech tag: "said
        Silas") also a name the character finder did not keep."""
        surface = surface.strip()
        known = self.index.resolve(surface)
        if known:
            return known
        words = surface.split()
        if words and words[0].lower().rstrip(".") in _NOT_SUBJECTS:
            return None
        if not allow_new:
            return None
        # A name the character finder did not count (said once): use it as written.
        if re.fullmatch(_NAME, surface) and not any(self.index.is_ordinary(w) for w in words):
            for start in range(1, len(words)):
                shorter = self.index.resolve(" ".join(words[start:]))
                if shorter:
                    return shorter
            return surface
        return None

    def recent(
        self,
        before: int,
        gender: str | None,
        exclude: set[str],
        limit: int = 4000,
        among: set[str] | None = None,
    ) -> str | None:
        """The last person named before ``before`` (within ``limit`` characters) whose
        gender fits, skipping ``exclude`` and anyone not ``among`` the given names (by
        default: the people, not places); a known gender beats an unknown one. A subject
        a little earlier beats a name in passing ("Elizabeth was struck by his deference
        for Lady Catherine. 'He must be an oddity,' said she.")."""
        among = self.people if among is None else among
        fallback = None
        nearest: tuple[int, str] | None = None
        for index in range(bisect.bisect_left(self.mention_starts, before) - 1, -1, -1):
            position, name = self.mentions[index]
            if before - position > limit:
                break
            if nearest and nearest[0] - position > SUBJECT_REACH:
                break
            if name in exclude or name not in among:
                continue
            known = self.index.gender(name)
            if gender is None or known == gender:
                if position in self.subjects:
                    return name
                nearest = nearest or (position, name)
            elif known is None and fallback is None:
                fallback = name
        return nearest[1] if nearest else fallback


def _is_first_person(segments: Sequence[Segment]) -> bool:
    """Narration told by an "I": first-person pronouns are common outside quotes."""
    words = Counter()
    for segment in segments:
        if segment.kind == NARRATION and segment.spoken:
            for word in re.findall(r"\b(?:I|me|my|he|she|his|her)\b", segment.text):
                words[word.lower()] += 1
    first = words["i"] + words["me"] + words["my"]
    third = words["he"] + words["she"] + words["his"] + words["her"]
    return first > 0.25 * third and first > 20


@dataclass(frozen=True)
class Attribution:
    """The segments with their speakers, and the first-person narrator's name if found."""

    segments: list[Segment]
    narrator: str | None = None


def attribute(segments: Sequence[Segment], index: CharacterIndex) -> Attribution:
    """Give every dialogue segment a speaker; narration keeps the narrator."""
    context = _Context(segments, index)
    quotes = _quotes(context)
    for quote in quotes:
        quote.addressees = _vocatives(context, quote)
        # Someone spoken to is a person, unless the book shows the name is not one
        # ("Hartfield!": a house, never acting, never he or she).
        context.people.update(
            name for name in quote.addressees if context.index.could_be_person(name)
        )
        quote.mentioned = _mentioned(context, quote)
        quote.addressee_gender = _addressee_gender(context, quote)
    for quote in quotes:
        _explicit(context, quote)
        if quote.speaker and quote.reason.startswith("explicit (name)"):
            context.people.add(quote.speaker)
    # Those described in speech tags ("said the visitor") are people too, and their
    # mentions in the narration count ("But the visitor was not to be drawn").
    context.add_described(
        {q.speaker for q in quotes if q.speaker and q.reason.startswith("explicit (description)")}
    )
    for quote in quotes:
        if quote.speaker is None:
            _beat(context, quote)
            _previous_paragraph(context, quote)
    # A first-person narrator called "Jake" by the others is the "I" of the narration:
    # addressing "Jake" is addressing the narrator.
    narrator = _name_narrator(context, quotes)
    narrator_names = _narrator_names(context, narrator)
    if narrator_names:
        _merge_narrator(context, quotes, narrator_names)
    for conversation in _conversations(context, quotes):
        _take_turns(context, conversation)
    for quote in quotes:
        if quote.speaker is None:
            _nearest(context, quote)
    if narrator is None:
        narrator = _name_narrator(context, quotes)
        narrator_names = _narrator_names(context, narrator)
    result = list(context.segments)
    for quote in quotes:
        speaker, reason = quote.speaker, quote.reason
        if narrator and (speaker == NARRATOR or speaker in narrator_names):
            speaker, reason = narrator, f"{reason} [the narrator, called {narrator}]"
        sureness = confidence(reason, quote.margin)
        for number in quote.segments:
            result[number] = replace(
                result[number],
                speaker=speaker,
                reason=reason,
                confidence=sureness,
                runner_up=quote.runner_up,
            )
    return Attribution(result, narrator)


def confidence(reason: str, margin: float) -> float:
    """How likely a speaker chosen for ``reason`` is right: measured on annotated novels
    for each pass (see ``benchmarks/attribution.py --calibrate``); for the turn-taking
    model's choices, by how far it leads the next likeliest speaker (``margin``)."""
    kind = pass_of(reason)
    if math.isinf(margin):
        return _PASS_ACCURACY.get(kind, _PASS_ACCURACY["other"])
    low, high, scale = _MARGIN_ACCURACY.get(kind, _MARGIN_ACCURACY["other"])
    return round(high - (high - low) * math.exp(-margin / scale), 3)


def pass_of(reason: str) -> str:
    """The pass a reason names: "explicit (name)", "turns", "beat (pronoun)"…"""
    return re.sub(r":.*|\s*\[.*", "", reason).strip() or "other"


#: Accuracy of each sure pass on annotated novels (quotes a speech tag settles).
_PASS_ACCURACY = {
    "explicit (name)": 0.97,
    "explicit (first person)": 0.92,
    "explicit (title)": 0.87,
    "explicit (group)": 0.1,
    "nearest": 0.1,
    "no clue found": 0.0,
    "other": 0.5,
}
#: For the turn-taking model's choices, by the evidence that weighed most: accuracy at no
#: margin, at a large one, and the margin over which it rises (fitted by log loss on the
#: fourteen PDNC dev novels; leaving any one novel out changes the overall curve little).
_MARGIN_ACCURACY = {
    "turns": (0.35, 0.96, 4.0),
    "explicit (pronoun)": (0.5, 0.98, 6.0),
    "explicit (description)": (0.15, 0.7, 12.0),
    "explicit (relation)": (0.25, 0.98, 4.0),
    "beat (pronoun)": (0.35, 0.98, 8.0),
    "beat (name)": (0.45, 0.94, 4.0),
    "previous paragraph (name)": (0.2, 0.98, 8.0),
    "previous paragraph (pronoun)": (0.4, 0.98, 8.0),
    "other": (0.35, 0.86, 3.0),
}


def _merge_narrator(context: _Context, quotes: list[_Quote], names: set[str]) -> None:
    """Count the narrator's names as the narrator in everything the turn-taking model
    reads: whom quotes address or mention, and hints."""

    def one(name: str) -> str:
        return NARRATOR if name in names else name

    for quote in quotes:
        quote.addressees = list(dict.fromkeys(one(n) for n in quote.addressees))
        quote.mentioned = list(dict.fromkeys(one(n) for n in quote.mentioned))
        hints, quote.hints = quote.hints, {}
        for name, (kind, why) in hints.items():
            quote.hint(one(name), kind, why)
        if quote.speaker in names:
            quote.speaker = NARRATOR
    genders = {context.index.gender(n) for n in names} - {None}
    context.narrator_gender = genders.pop() if len(genders) == 1 else None


def _name_narrator(context: _Context, quotes: list[_Quote]) -> str | None:
    """A first-person narrator is a character, named by what the others call them: the
    name most addressed in quotes next to the narrator's own, by someone who is not a
    speaker in their own right ("Hello, Jake." / "Mr. Barnes"). A first name and a
    surname that both name the narrator make the full name ("Jake Barnes")."""
    if not context.first_person:
        return None
    votes: Counter = Counter()
    for position, quote in enumerate(quotes):
        if quote.speaker == NARRATOR:
            continue
        neighbours = quotes[max(0, position - 1) : position + 2]
        if any(other.speaker == NARRATOR for other in neighbours if other is not quote):
            votes.update(quote.addressees)
    spoken = Counter(q.speaker for q in quotes if q.reason.startswith("explicit"))
    names = [name for name, count in votes.most_common() if count >= 2 and spoken[name] * 2 < count]
    if not names:
        return None
    first = names[0]
    if " " in first or _surname(context, first):
        return first
    surname = next((_surname(context, n) for n in names[1:] if _surname(context, n)), None)
    return f"{first} {surname}" if surname else first


def _narrator_names(context: _Context, narrator: str | None) -> set[str]:
    """The characters that are the narrator under a shorter name: "Jake", "Barnes"."""
    if not narrator:
        return set()
    names = {narrator}
    for part in narrator.split():
        known = context.index.resolve(part)
        if known:
            names.add(known)
    return names


def _surname(context: _Context, name: str) -> str | None:
    """The surname a name is, when the text uses it with an honorific: "Mr. Barnes" and
    "Barnes" (also called Mr. Barnes) give "Barnes"."""
    match = re.fullmatch(rf"{_HONORIFIC}\s+(?P<surname>{_PROPER})", name)
    if match:
        return match.group("surname")
    character = context.index.characters.get(name)
    if (
        character
        and re.fullmatch(_PROPER, name)
        and any(
            re.fullmatch(rf"{_HONORIFIC}\s+{re.escape(name)}", alias) for alias in character.aliases
        )
    ):
        return name
    return None


def _quotes(context: _Context) -> list[_Quote]:
    quotes: dict[int, _Quote] = {}
    for number, segment in enumerate(context.segments):
        if segment.kind != DIALOGUE or segment.quote is None:
            continue
        quote = quotes.setdefault(segment.quote, _Quote(segment.quote, [], []))
        quote.segments.append(number)
        if segment.paragraph not in quote.paragraphs:
            quote.paragraphs.append(segment.paragraph)
    return sorted(quotes.values(), key=lambda q: q.segments[0])


# Words that come before the name of the one spoken to: "Thank you, Spike", "Goodnight
# Buffy", "I'm sorry Spike", "my dear Watson".
_VOCATIVE_LEAD = (
    r"dear|my|oh|o|sorry|thanks|thank you|hello|hallo|hullo|hi|hey|goodbye|good-bye|"
    r"goodnight|good night|night|morning|good morning|evening|good evening|yes|no|well|"
    r"look|listen|please|come on|come|ah|ay|aye|now"
)
_VOCATIVE = re.compile(
    rf"(?:^|[,.!?;:\u2026\u2014-]\s*|\b(?i:{_VOCATIVE_LEAD})\s+)(?P<name>{_NAME})"
    rf"\s*(?=[,.!?;:\u2014\u2026-]|$)"
)


def _resolve_tail(context: _Context, surface: str) -> str | None:
    """A known name at the end of ``surface``: "Goodnight Buffy", "Mr. Spike" (not a form
    the text uses elsewhere) -> "Buffy", "Spike"."""
    words = surface.split()
    for start in range(len(words)):
        name = context.index.resolve(" ".join(words[start:]))
        if name:
            return name
    return None


def _vocatives(context: _Context, quote: _Quote) -> list[str]:
    """Names the speaker addresses: "Thank you, Spike, for…", "Mr. Spike?", "Will."."""
    names: list[str] = []
    for number in quote.segments:
        text = context.segments[number].text
        for match in _VOCATIVE.finditer(text):
            name = _resolve_tail(context, match.group("name"))
            if name and name not in names:
                names.append(name)
    return names


def _mentioned(context: _Context, quote: _Quote) -> list[str]:
    """The people a quote names, other than those it addresses."""
    names: list[str] = []
    for number in quote.segments:
        segment = context.segments[number]
        for mention in context.index.mentions(segment.text):
            if mention.name not in quote.addressees and mention.name not in names:
                names.append(mention.name)
    return names


# Titles said to someone: "You are very kind, sir," / "Yes, ma'am." / "my lord!"
_TITLE_VOCATIVES = {
    MALE: r"sir|sire|my\s+lord|your\s+lordship|my\s+good\s+man|young\s+man|my\s+boy|my\s+son"
    r"|old\s+fellow|old\s+chap|old\s+man|my\s+dear\s+fellow|mister|master",
    FEMALE: r"madam|madame|ma['\u2019]am|mum|my\s+lady|your\s+ladyship|miss|young\s+lady"
    r"|my\s+girl|my\s+dear\s+girl|mistress",
}
_TITLE_VOCATIVE = {
    gender: re.compile(
        rf"(?:^|[,.!?;:\u2014-]\s*|\b(?i:{_VOCATIVE_LEAD})\s+)(?i:{words})\s*(?=[,.!?;:\u2014\u2026-]|$)"
    )
    for gender, words in _TITLE_VOCATIVES.items()
}


def _addressee_gender(context: _Context, quote: _Quote) -> str | None:
    """The gender of whom a quote speaks to, when it calls them "sir" or "madam" (and
    nothing contradicts it)."""
    found = set()
    for number in quote.segments:
        text = context.segments[number].text
        for gender, pattern in _TITLE_VOCATIVE.items():
            if pattern.search(text):
                found.add(gender)
    for name in quote.addressees:
        gender = context.index.gender(name)
        if gender:
            found.add(gender)
    return found.pop() if len(found) == 1 else None


def _speaker_from_subject(
    context: _Context, quote: _Quote, subject: str, position: int, tag: bool = False
) -> tuple[str, str] | None:
    """Turn a tag's subject (a name, pronoun or description) into a speaker name."""
    words = subject.split()
    lowered = subject.lower()
    if lowered == "i" or (lowered == "we" and context.first_person):
        return NARRATOR, "first person"
    if lowered in ("he", "she"):
        gender = MALE if lowered == "he" else FEMALE
        exclude = set(quote.addressees)
        # Only a name close by: "said he" deep in a dialogue is whoever's turn it is.
        name = context.recent(position, gender, exclude, limit=PRONOUN_REACH)
        return (name, "pronoun") if name else None
    if lowered == "it":
        # "It uttered three words": a being with no he or she, in narration that says it
        # speaks (the callers check); in a speech tag ("said it") too often an animal.
        if tag:
            return None
        name = context.recent(
            position,
            None,
            set(quote.addressees),
            limit=1500,
            among={n for n in context.people if context.index.gender(n) is None},
        )
        return (name, "pronoun") if name else None
    group = _group_name(context, lowered, position)
    if group:
        return group, "group"
    proper = words[0][0].isupper() and words[0].lower() not in _NOT_SUBJECTS
    if proper or (len(words) > 1 and words[0].lower() == "the" and words[1][0].isupper()):
        name = context.name_of(subject, allow_new=tag and proper)
        if name:
            return name, "name"
        if proper:
            return None
    if lowered.startswith(("the ", "his ", "her ", "their ", "my ", "our ", "a ", "an ")):
        return _description(context, quote, _trim_description(words), position)
    return None


#: Nouns that name a person by their relation to someone: resolved like a pronoun of their
#: gender ("said his wife" in a scene with one married woman is her).
_RELATIONS = {
    FEMALE: {
        "mother",
        "wife",
        "sister",
        "aunt",
        "daughter",
        "niece",
        "lady",
        "mistress",
        "girl",
        "companion",
        "friend",
        "cousin",
        "hostess",
        "sister-in-law",
    },
    MALE: {
        "father",
        "husband",
        "brother",
        "uncle",
        "son",
        "nephew",
        "gentleman",
        "master",
        "boy",
        "companion",
        "friend",
        "cousin",
        "host",
        "brother-in-law",
    },
}
#: Nouns that are a title someone bears: "the count" is Count Mippipopolous.
_TITLE_NOUNS = {"ladyship": "lady", "lordship": "lord", "doctor": "dr", "majesty": "king"}
#: Words that end a description: "the wife impatiently", "the father as she...".
_DESCRIPTION_STOP = set(
    """
    in with from at as of to by for on and or but who that which when while then soon
    afterwards again now still too also once presently suddenly quietly instantly was were
    is are had has have would could should will shall did does do not never just
    """.split()
)


def _trim_description(words: list[str]) -> list[str]:
    """The description up to its noun: "the young girl in" -> "the young girl"."""
    kept = list(words[:1])
    for word in words[1:]:
        lowered = word.lower()
        if lowered in _DESCRIPTION_STOP or (lowered.endswith("ly") and len(lowered) > 4):
            break
        kept.append(word)
    return kept


def _description(
    context: _Context, quote: _Quote, words: list[str], position: int
) -> tuple[str, str] | None:
    """A described speaker: a title ("the count") names who bears it, a relation ("his
    wife") the nearest person of that gender; otherwise the description is the name."""
    if len(words) < 2:
        return None
    noun = words[-1].lower()
    if not noun.isalpha() or noun in {"door", "voice"}:
        return None
    title = _TITLE_NOUNS.get(noun, noun)
    bearers = context.index.titled.get(title, [])
    if title in HONORIFICS and bearers:
        nearest = context.recent(position, None, set(quote.addressees), among=set(bearers))
        return (nearest or bearers[0]), "title"
    relative = _relative(context, quote, words, position)
    if relative:
        return relative, "relation"
    for gender, relations in _RELATIONS.items():
        if noun in relations and not (noun in _RELATIONS[MALE] and noun in _RELATIONS[FEMALE]):
            name = context.recent(position, gender, set(quote.addressees))
            if name:
                return name, "relation"
    return _description_name(" ".join(words)), "description"


#: Relations that name a married title by the possessor's surname: "his wife" of Mr. Bennet
#: is Mrs. Bennet; "her father" of Miss Bennet is Mr. Bennet.
_FAMILY_TITLES = {
    "wife": "mrs",
    "lady": "mrs",
    "mother": "mrs",
    "mamma": "mrs",
    "mama": "mrs",
    "husband": "mr",
    "father": "mr",
    "papa": "mr",
}


def _relative(context: _Context, quote: _Quote, words: list[str], position: int) -> str | None:
    """ "his wife", "her father": the possessor's family member, by surname."""
    possessive = words[0].lower()
    title = _FAMILY_TITLES.get(words[-1].lower())
    if possessive not in ("his", "her") or title is None:
        return None
    owner = context.recent(position, MALE if possessive == "his" else FEMALE, set())
    if owner is None:
        return None
    character = context.index.characters.get(owner)
    for form in (owner, *(character.aliases if character else ())):
        surname = form.split()[-1]
        if len(form.split()) < 2 or not surname[:1].isupper():
            continue
        relative = context.index.resolve(f"{title} {surname}")
        if relative and relative != owner:
            return relative
    return None


def _group_name(context: _Context, lowered: str, position: int) -> str | None:
    """ "the girls", "one of the girls", "they all", "all": a group speaks."""
    match = re.match(
        r"^(?:(?:one|some|several|two|three|each|most|both|many|a few|the rest|all)\s+of\s+)?"
        r"(?:the|them|those|these|his|her|their|our)\s+(?P<noun>[a-z]+)$",
        lowered,
    )
    if match and match.group("noun") in GROUP_NOUNS:
        return "the " + match.group("noun")
    if lowered in {
        "they",
        "they all",
        "all of them",
        "the all",
        "all",
        "everyone",
        "everybody",
        "both",
    }:
        return context.recent_group(position) or ("everyone" if lowered != "they" else None)
    return None


def _description_name(subject: str) -> str:
    words = subject.split()
    if words[0].lower() in {"his", "her", "their", "my", "our", "a", "an"}:
        words[0] = "the"
    return " ".join(w.lower() for w in words)


#: How far back (characters) "he" or "she" looks for the name it stands for.
PRONOUN_REACH = 1500

#: How far back (characters) a subject may be and still beat a nearer name in passing.
SUBJECT_REACH = 150

#: How often the narration must use a description for it to name someone outright.
EPITHET_MENTIONS = 8

#: Speech tags whose subject names the speaker outright; a pronoun or a relation ("his
#: wife") is resolved by guesswork, so it only informs the turn-taking model.
_SURE_TAGS = {"name", "description", "title", "first person", "group"}


def _settle(
    context: _Context,
    quote: _Quote,
    found: tuple[str, str] | None,
    subject: str,
    tag: str,
    position: int | None = None,
) -> bool:
    """Record what a speech tag says; True when it settles the speaker."""
    if subject.lower() in ("he", "she"):
        quote.gender = MALE if subject.lower() == "he" else FEMALE
    if not found:
        return quote.gender is not None
    name, why = found
    reason = f"explicit ({why}): {' '.join(tag.split()).strip(' ,')}"
    if why == "description":
        # "returned the young girl", "said his friend": often someone the scene has
        # named; the turn-taking model weighs the description against them, her gender in
        # hand. A description the book uses like a name ("the stranger") weighs more.
        quote.gender = quote.gender or speaker_gender(name, None)
        kind = "epithet" if context.is_epithet(name) else "description"
        quote.hint(name, hint_kind("tag", kind), reason)
        if kind == "description" and quote.gender and position is not None:
            # The last woman named, for "the tall woman": she is likely the one described.
            person = context.recent(position, quote.gender, set(quote.addressees))
            if person and context.index.gender(person) == quote.gender:
                quote.hint(person, "hint:tag:described", f"{reason} (likely {person})")
        return True
    if why in _SURE_TAGS:
        quote.speaker, quote.reason = name, reason
    else:
        quote.hint(name, hint_kind("tag", why), reason)
    return True


# "said she to Charlotte", "turning to Jane": the one spoken to.
_SPOKEN_TO = re.compile(
    rf"^[^.!?\"\u201c\u201d]{{0,60}}?\b(?:to|turning\s+to|addressing|asked|told|answered|"
    rf"thanked|warned|reminded|assured|begged|urged|informed|questioned)\s+"
    rf"(?P<name>{_NAME}|me)\b"
)
# "Cohn turned to me." / "She looked at Jake." just before a quote: whom it is said to.
_TURNED_TO = re.compile(
    rf"\b(?:turned|turning|looked|looking|glanced|glancing)\s+(?:round\s+)?(?:to|at|towards)\s+"
    rf"(?P<name>{_NAME}|me)\W*$"
)
# "thus accosted by Miss Bingley," / "was interrupted by Mr. Collins:" before a quote.
_TAG_PASSIVE = re.compile(
    rf"\b(?:accosted|addressed|interrupted|answered|asked|greeted|hailed|called|told)\s+by\s+"
    rf"(?P<subject>{_NAME}|{_DESCRIPTION})\s*[,:\u2014-]?\s*$"
)


def _explicit(context: _Context, quote: _Quote) -> None:
    """A speech tag right after any part of the quote, or right before its start."""
    for number in quote.segments:
        after = context.narration_after(number)
        if after is None:
            continue
        head = after.text[:120]
        spoken_to = _SPOKEN_TO.match(head)
        if spoken_to:
            _address(context, quote, spoken_to.group("name"))
        for pattern in (_TAG_INVERTED, _TAG_NORMAL):
            match = pattern.match(head)
            if match:
                found = _speaker_from_subject(
                    context,
                    quote,
                    match.group("subject"),
                    after.start + match.start("subject"),
                    tag=True,
                )
                subject = match.group("subject")
                position = after.start + match.start("subject")
                if _settle(context, quote, found, subject, head[: match.end()], position):
                    return
    before = context.narration_before(quote.segments[0]) or _lead_in(context, quote)
    if before is not None:
        turned = _TURNED_TO.search(before.text[-80:])
        if turned:
            _address(context, quote, turned.group("name"))
        tail = before.text[-160:]
        for pattern in (_TAG_BEFORE, _TAG_BEFORE_INVERTED, _TAG_PASSIVE):
            match = pattern.search(tail)
            if match:
                offset = before.end - len(tail) + match.start("subject")
                found = _speaker_from_subject(
                    context, quote, match.group("subject"), offset, tag=True
                )
                subject = match.group("subject")
                if _settle(context, quote, found, subject, tail[match.start() :], offset):
                    return
        _explicit_clause_before(context, quote, before)


def _address(context: _Context, quote: _Quote, surface: str) -> None:
    """Note whom the narration says a quote is spoken to ("me": a first-person narrator)."""
    if surface == "me":
        name = NARRATOR if context.first_person else None
    else:
        name = _resolve_tail(context, surface)
    if name and name not in quote.addressees:
        quote.addressees.append(name)


def _lead_in(context: _Context, quote: _Quote) -> Segment | None:
    """The narration that closes the paragraph before a quote opening its own, when it
    leads into it with a comma or a colon ("Mr. Bennet coolly observed,")."""
    first = context.segments[quote.segments[0]]
    own = context.by_paragraph.get(first.paragraph, [])
    previous = context.by_paragraph.get(first.paragraph - 1, [])
    if not own or own[0] != quote.segments[0] or not previous:
        return None
    before = context.segments[previous[-1]]
    if before.kind != NARRATION or (before.chapter, before.scene) != (first.chapter, first.scene):
        return None
    return before if re.search(r"[,:\u2014\u2013-]\s*$", before.text) else None


def _explicit_clause_before(context: _Context, quote: _Quote, before: Segment) -> None:
    """A sentence ending in a speech verb right before the quote, in its paragraph or
    closing the paragraph before ("Mr. Collins, much offended, laid aside his book, and
    said,"): its subject speaks."""
    tail = before.text[-400:]
    match = _TAG_WHO.search(tail)
    if match and not _OTHER_SUBJECT.search(tail[match.end("subject") + 5 : match.start("verb")]):
        subject = match.group("subject")
        offset = before.end - len(tail) + match.start("subject")
        found = _speaker_from_subject(context, quote, subject, offset, tag=True)
        if _settle(context, quote, found, subject, tail[match.start() :], offset):
            return
    match = None
    # The subject nearest the verb: "Elizabeth said nothing, but Jane, turning, asked:".
    for start in sorted((m.end() for m in _CLAUSE_START.finditer(tail)), reverse=True):
        candidate = _TAG_BEFORE_CLAUSE.match(tail, start)
        if candidate and not _OTHER_SUBJECT.search(
            tail[candidate.end("subject") : candidate.start("verb")]
        ):
            match = candidate
            break
    if match is None:
        return
    subject = match.group("subject")
    if subject[:1].isupper() and subject.split()[0] in ("He", "She", "The", "His", "Her"):
        subject = subject[0].lower() + subject[1:]
    offset = before.end - len(tail) + match.start("subject")
    found = _speaker_from_subject(context, quote, subject, offset, tag=True)
    _settle(context, quote, found, subject, tail[match.start() :], offset)


def _actor(context: _Context, quote: _Quote, sentence: str, offset: int) -> tuple[str, str] | None:
    """Who acts in a sentence: the one perceived ("Buffy heard Spike chuckle") or the
    subject ("Spike squeezed her hand")."""
    perceived = _PERCEPTION.search(sentence)
    if perceived:
        group = "subject" if perceived.group("subject") else "seen"
        subject = perceived.group(group)
        position = offset + perceived.start(group)
        if subject in ("him", "her"):
            gender = MALE if subject == "him" else FEMALE
            name = context.recent(position, gender, set(quote.addressees))
        else:
            found = _speaker_from_subject(context, quote, subject, position)
            name = found[0] if found else None
        if name and name not in quote.addressees:
            return name, "perceived"
    if _LISTENING.search(sentence):
        return None  # the listener is not the one speaking
    match = re.match(
        rf"\s*(?:(?:Then|But|And|So|Now|then|but|and|so|now)\s+)?{_SUBJECT}\s+[a-z]+", sentence
    )
    if not match:
        return None
    subject = match.group("subject")
    if subject in ("they", "we", "They", "We"):
        return None
    if subject in ("it", "It") and not _SPEECH_WORD.search(sentence):
        return None
    subject = subject if subject not in ("He", "She", "It") else subject.lower()
    found = _speaker_from_subject(context, quote, subject, offset + match.start("subject"))
    if found and found[0] not in quote.addressees:
        return found
    return None


def _beat(context: _Context, quote: _Quote) -> None:
    """The acting character of the sentence beside the quote, in the same paragraph."""
    candidates: list[tuple[Segment, str]] = []
    after = context.narration_after(quote.segments[-1])
    before = context.narration_before(quote.segments[0])
    if before is not None:
        sentences = _SENTENCE.findall(before.text)
        if sentences:
            candidates.append((before, sentences[-1]))
    if after is not None:
        sentences = _SENTENCE.findall(after.text)
        if sentences:
            candidates.append((after, sentences[0]))
    for segment, sentence in candidates:
        offset = segment.start + segment.text.find(sentence)
        found = _actor(context, quote, sentence, offset)
        if found:
            if found[1] == "pronoun":
                # "She sighed. "…"": whoever it is, the speaker is a she.
                quote.gender = quote.gender or context.index.gender(found[0])
            quote.hint(
                found[0],
                hint_kind("beat", found[1]),
                f"beat ({found[1]}): {' '.join(sentence.split())[:80]}",
            )
            return


def _previous_paragraph(context: _Context, quote: _Quote) -> None:
    """A quote opening its paragraph, right after a paragraph of narration: the one who
    acted last in that narration speaks ("He placed a finger under her chin." / "…"),
    unless the quote's own paragraph shows someone acting."""
    first = context.segments[quote.segments[0]]
    own = [context.segments[n] for n in context.by_paragraph.get(first.paragraph, [])]
    if not own or own[0].kind == NARRATION:
        return
    beat = bool(quote.hints) and any(s.kind == NARRATION for s in own)
    previous = [context.segments[n] for n in context.by_paragraph.get(first.paragraph - 1, [])]
    if not previous or any(s.kind == DIALOGUE for s in previous):
        return
    if previous[0].scene != first.scene or previous[0].chapter != first.chapter:
        return
    text = previous[-1].text
    sentences = _SENTENCE.findall(text)
    if not sentences:
        return
    for sentence in (sentences[-1], sentences[0]) if len(sentences) > 1 else (sentences[0],):
        offset = previous[-1].start + text.find(sentence)
        found = _actor(context, quote, sentence, offset)
        if found:
            why = f"previous paragraph ({found[1]}): {' '.join(sentence.split())[:80]}"
            # "She stood dripping and spoke in a rush": the one who speaks next, said so.
            kind = "speech" if _SPEECH_WORD.search(sentence) else found[1]
            if beat and kind != "speech":
                return  # the paragraph's own narration said who acts
            quote.hint(found[0], hint_kind("previous", kind), why)
            return


#: Quotes further apart than this (paragraphs, or words of narration between them) are
#: different conversations.
_CONVERSATION_GAP_PARAGRAPHS = 3
_CONVERSATION_GAP_WORDS = 90
#: How many people a conversation's turn-taking considers.
_MAX_CANDIDATES = 7


def _conversations(context: _Context, quotes: list[_Quote]) -> list[list[_Quote]]:
    """Split the quotes into exchanges: close together, in one scene."""
    conversations: list[list[_Quote]] = []
    for quote in quotes:
        if conversations and _continues(context, conversations[-1][-1], quote):
            conversations[-1].append(quote)
        else:
            conversations.append([quote])
    return conversations


def _continues(context: _Context, previous: _Quote, quote: _Quote) -> bool:
    last, first = previous.paragraphs[-1], quote.paragraphs[0]
    before = context.segments[previous.segments[-1]]
    current = context.segments[quote.segments[0]]
    if (before.chapter, before.scene) != (current.chapter, current.scene):
        return False
    if first - last > _CONVERSATION_GAP_PARAGRAPHS:
        return False
    return _words_between(context, previous, quote) <= _CONVERSATION_GAP_WORDS


def _words_between(context: _Context, previous: _Quote, quote: _Quote) -> int:
    start = context.segments[previous.segments[-1]].end
    end = context.segments[quote.segments[0]].start
    return len(context.narration_text(start, end).split())


def _introduced(context: _Context, quote: _Quote) -> bool:
    """Narration in the quote's paragraph leads into it as a reply ("To which Mrs. Crane
    answered,"): someone answers the quote before, even in one paragraph."""
    before = context.narration_before(quote.segments[0])
    return before is not None and bool(_REPLY_LEAD.search(before.text))


_REPLY_LEAD = re.compile(
    r"\b(?:answer|repl|return|rejoin|retort|respond)[a-z]*\b[^.!?\"\u201c\u201d]{0,60}[,:]\s*$"
)


def _outsiders(context: _Context, conversation: list[_Quote]) -> None:
    """ "said he" resolved to a man named nearby who takes no part in the exchange, when
    a man does take part: the pronoun is more likely his, so the hint weighs less."""
    taking_part = {q.speaker for q in conversation if q.speaker}
    taking_part.update(name for q in conversation for name in q.addressees)
    genders = {context.index.gender(name) for name in taking_part}
    for quote in conversation:
        for name, (kind, why) in list(quote.hints.items()):
            if (
                kind == "hint:tag:pronoun"
                and name not in taking_part
                and context.index.gender(name) in genders
            ):
                quote.hints[name] = ("hint:tag:pronoun_outsider", why)


def _take_turns(context: _Context, conversation: list[_Quote]) -> None:
    """Decide the unsettled quotes of one exchange with the turn-taking model."""
    if all(q.speaker for q in conversation):
        return
    _outsiders(context, conversation)
    start = context.segments[conversation[0].segments[0]].start
    end = context.segments[conversation[-1].segments[-1]].end
    salience: Counter = Counter()
    for quote in conversation:
        if quote.speaker:
            salience[quote.speaker] += 3
        for name, (kind, _) in quote.hints.items():
            salience[name] += DEFAULT_WEIGHTS[kind] / 2
        for name in quote.addressees:
            salience[name] += 1
    for position, name in context.mentions_between(start - 2000, end):
        if name in context.people:
            # Named in the exchange, or just before it (who is in the scene), counts most.
            salience[name] += 1 if position >= start else 2 * math.exp((position - start) / 600)
    lead_in = context.narration_text(start - 1500, start)
    group = context.recent_group(start)
    if group and group in lead_in:
        salience[group] += 3
    if context.first_person:
        salience[NARRATOR] += 1
    # Someone listening in on the exchange ("she sat on the stairs and listened") is not
    # in it until a tag says they speak.
    for name in _listeners(context, lead_in, start):
        for quote in conversation:
            if quote.speaker == name:
                break
            quote.hints.setdefault(name, ("hint:listening", "listening"))
    candidates = [name for name, _ in salience.most_common(_MAX_CANDIDATES)]
    genders = {name: context.index.gender(name) or speaker_gender(name, None) for name in salience}
    genders[NARRATOR] = context.narrator_gender
    turns = []
    previous = None
    for quote in conversation:
        first = context.segments[quote.segments[0]]
        lead = context.segments[previous.segments[-1]].end if previous else first.start - 600
        after = context.narration_after(quote.segments[-1])
        named_before = {name for _, name in context.mentions_between(lead, first.start)}
        named_after = (
            {name for _, name in context.mentions_between(after.start, after.end)}
            if after
            else set()
        )
        turns.append(
            Turn(
                paragraph=quote.paragraphs[0],
                fixed=quote.speaker,
                hints=quote.hints,
                gender=quote.gender,
                addressees=quote.addressees,
                mentioned=quote.mentioned,
                addressee_gender=quote.addressee_gender,
                narration_before=_words_between(context, previous, quote) if previous else 0,
                start=first.start,
                introduced=_introduced(context, quote),
                named_before=named_before,
                named_after=named_after,
            )
        )
        previous = quote
    decisions = decide(turns, candidates, genders, salience)
    for quote, decision in zip(conversation, decisions, strict=False):
        if quote.speaker is None:
            quote.speaker, quote.reason = decision.speaker, decision.reason
            quote.margin, quote.runner_up = decision.margin, decision.runner_up


_LISTENER = re.compile(
    rf"(?:^|[.!?]\s+)(?P<subject>{_NAME}|He|She)\b[^.!?]*\b(?:listen|overh[ea]|eavesdrop)"
)


def _listeners(context: _Context, lead_in: str, start: int) -> set[str]:
    """The people the narration before an exchange shows listening to it."""
    names = set()
    for match in _LISTENER.finditer(lead_in):
        subject = match.group("subject")
        if subject in ("He", "She"):
            name = context.recent(start, MALE if subject == "He" else FEMALE, set())
        else:
            name = context.name_of(subject)
        if name:
            names.add(name)
    return names


def _nearest(context: _Context, quote: _Quote) -> None:
    start = context.segments[quote.segments[0]].start
    name = context.recent(start, None, set(quote.addressees), limit=6000)
    if name:
        quote.speaker, quote.reason = name, "nearest: last person named before the quote"
    else:
        quote.speaker, quote.reason = "unknown", "no clue found"

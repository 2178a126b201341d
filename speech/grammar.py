"""What the bot expects to hear, as token grammars Whisper can be forced through.

At most turns the bot knows the answers it can take: the buttons it just sent, yes or no,
a district, a service name, a number, a date. An ``Expected`` lists them (``Answer``: a
value and the phrases that say it, each in its own language), with optional carrier
phrases around them ("मुझे … चाहिए", "ମୋତେ … ଦରକାର", "I need …"); numbers and dates are
built from the number words of seva/spoken_numbers.py instead of listed.

Whisper base has no Odia and hears Hindi poorly, so a phrase is written out in the forms
the model can read, each with the language token it is scored under (``written_forms``):

- Hindi: Devanagari under ``<|hi|>``, and an informal romanisation under ``<|en|>``;
- Odia: transliterated into Devanagari under ``<|hi|>``, and romanised under ``<|en|>``;
- English: as written, under ``<|en|>``;
- a route with its own model for the language (``SPEECH_MODEL_OR``): the phrase in its
  own script under that route's token, as the model was trained to write it.

``compile_grammar`` turns the forms under one language token into a small graph of token
tries (``Grammar``): each stage is a trie of phrases, ``follows`` says which stages may
come next, and ``interpret`` turns the phrases chosen along a path into the answer's
value. The last stage is the optional final punctuation, after which the text ends.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

from indic_transliteration import sanscript
from indic_transliteration.sanscript import transliterate

from seva import spoken_numbers
from seva.textnorm import latin_key

ENDINGS = (".", "?", "!", "।", ",")  # punctuation Whisper may write before it stops


@dataclass(frozen=True)
class Phrase:
    text: str
    language: str  # en / hi / or: the language the words are in


@dataclass(frozen=True)
class Answer:
    value: str  # what is handed on when this answer is heard
    phrases: Tuple[Phrase, ...]
    whole: bool = False  # said as a whole sentence: no carriers around it (commands)


@dataclass(frozen=True)
class Expected:
    """The answers one turn can take, and the phrases that may come around them.

    ``kind`` is ``number`` or ``date`` for spoken numbers (``answers`` then stays empty),
    otherwise a name for reports and thresholds: choice, yes_no, district, service …"""

    kind: str
    answers: Tuple[Answer, ...] = ()
    before: Tuple[Phrase, ...] = ()
    after: Tuple[Phrase, ...] = ()

    @property
    def spoken_numbers(self) -> bool:
        return self.kind in ("number", "date")

    def label(self, value: str, language: str) -> str:
        """How to show an answer to the citizen: its first phrase in their language."""
        for answer in self.answers:
            if answer.value == value:
                for phrase in answer.phrases:
                    if phrase.language == language:
                        return phrase.text
                return answer.phrases[0].text if answer.phrases else value
        return value


# ------------------------------------------------------------------ written forms
_ODIA_TO_DEVANAGARI_FIXES = [
    ("\u0b5f", "\u092f"),  # ୟ → य (the library gives य़)
    ("\u0b71", "\u0935"),  # ୱ → व (not mapped by the library)
    ("\u0b5c", "\u095c"), ("\u0b5d", "\u095d"),  # ଡ଼ ଢ଼ precomposed → ड़ ढ़
    ("\u0b21\u0b3c", "\u095c"), ("\u0b22\u0b3c", "\u095d"),
]
_ODIA_JA = re.compile("(?<!\u0b4d)\u0b2f")  # ଯ is said "ja", except as a subscript (୍ଯ = "ya")


def odia_to_devanagari(text: str) -> str:
    """Odia script letter for letter in Devanagari, spelt as the words sound (ଯାଜପୁର → जाजपुर)."""
    text = _ODIA_JA.sub("\u0b1c", unicodedata.normalize("NFC", text))
    for odia, devanagari in _ODIA_TO_DEVANAGARI_FIXES:
        text = text.replace(odia, devanagari)
    text = transliterate(text, sanscript.ORIYA, sanscript.DEVANAGARI)
    return unicodedata.normalize("NFC", text.replace("य़", "य").replace("ळ", "ल").replace("\u0b3c", "\u093c"))


_ROMAN = [  # ITRANS to the way people and Whisper romanise Indian words
    ("j~n", "gy"), ("GY", "gy"), ("RRi", "ri"), ("R^i", "ri"), ("~N", "n"), ("~n", "n"), (".N", "n"),
    (".n", "n"), ("M", "n"), (".h", ""), (".a", ""), ("H", "h"), ("kSh", "ksh"), ("x", "ksh"),
    ("Ch", "chh"), ("Sh", "sh"), ("shh", "sh"), ("T", "t"), ("D", "d"), ("N", "n"), ("L", "l"),
    ("A", "aa"), ("I", "ee"), ("U", "oo"), ("^", ""), (".", ""),
]
_FINAL_SCHWA = re.compile(r"(?<=[^aeiou\s])a\b")


def romanise(text: str, language: str) -> str:
    """Informal Latin spelling of Devanagari or Odia text ("mujhe aay pramaan patr")."""
    text = unicodedata.normalize("NFC", text)
    if language == "or" or any(0x0B00 <= ord(c) <= 0x0B7F for c in text):
        text = odia_to_devanagari(text)
    text = transliterate(text, sanscript.DEVANAGARI, sanscript.ITRANS)
    for src, dst in _ROMAN:
        text = text.replace(src, dst)
    text = _FINAL_SCHWA.sub("", text)
    return " ".join(re.sub(r"[^A-Za-z' ]", " ", text).lower().split())




@dataclass(frozen=True)
class Route:
    """How one conversation language reaches the model."""

    language: str  # en / hi / or
    whisper_language: Optional[str]  # the route's own token; None for fine-tunes without one
    own_model: bool = False  # a model trained for this language (SPEECH_MODEL_<LANG>)

    def token_languages(self) -> List[Optional[str]]:
        """The language tokens phrases are scored under on this route."""
        if self.own_model:
            return [self.whisper_language] + (["en"] if self.whisper_language != "en" else [])
        return ["en"] if self.language == "en" else ["hi", "en"]


def written_forms(phrase: Phrase, route: Route) -> List[Tuple[Optional[str], str]]:
    """(language token, text) pairs a phrase is scored in, for a conversation on ``route``."""
    text = " ".join(phrase.text.split())
    if not text:
        return []
    if route.own_model and phrase.language == route.language:
        return [(route.whisper_language, text)]
    if phrase.language == "en" or not re.search(r"[\u0900-\u0b7f]", text):
        return [("en", text)]  # as written: the evidence against null speech hardly depends on case
    native = odia_to_devanagari(text) if re.search(r"[\u0b00-\u0b7f]", text) else text
    forms: List[Tuple[Optional[str], str]] = [("hi", native)]
    roman = romanise(text, phrase.language)
    if roman:
        forms.append(("en", roman))
    return forms


def spoken_length(text: str) -> int:
    """Letters of the phrase on the common Latin key: the same for a phrase in any script,
    so scores of Devanagari and Latin forms compare per spoken letter."""
    return len(latin_key(text).replace(" ", ""))


# -------------------------------------------------------------------- token tries
Payload = Tuple[object, int, str, str]  # (tag, spoken length, text as written, language of the words)


@dataclass
class Trie:
    """Token trie of one stage: ``children[node][token] = node``; ``ends[node]`` = the
    payloads of the phrases that end at ``node`` (the root ends for an empty phrase)."""

    children: List[Dict[int, int]] = field(default_factory=lambda: [{}])
    ends: List[List[Payload]] = field(default_factory=lambda: [[]])
    cost: float = 0.0  # evidence a path pays for saying one of these phrases (carriers)
    neutral: bool = False  # its tokens neither add nor take evidence (final punctuation)

    def add(self, tokens: Sequence[int], payload: Payload) -> None:
        node = 0
        for token in tokens:
            child = self.children[node].get(token)
            if child is None:
                child = len(self.children)
                self.children[node][token] = child
                self.children.append({})
                self.ends.append([])
            node = child
        if payload not in self.ends[node]:
            self.ends[node].append(payload)

    @property
    def empty(self) -> bool:
        return len(self.children) == 1 and not self.ends[0]


@dataclass
class Grammar:
    """A graph of token tries; the last stage is the optional final punctuation."""

    whisper_language: Optional[str]
    stages: List[Trie]
    first: Tuple[int, ...]
    follows: List[Tuple[int, ...]]
    interpret: Callable[[Sequence[Tuple[int, Payload]]], Optional[str]]
    max_tokens: int
    # Rank paths by how likely Whisper finds them (log P(path | note)) rather than by their
    # evidence against null speech. Numbers and dates: their words combine freely, and every
    # extra word Whisper finds less unlikely here than over null speech earns evidence, so
    # ranked by evidence the longest path wins ("pachaas laakh paanch hazaar …" for "पचास
    # हज़ार"); ranked by likelihood the path must also end where the speech ends.
    by_heard: bool = False

    @property
    def size(self) -> int:
        return sum(len(t.children) for t in self.stages)


Encode = Callable[[str], List[int]]


def _forms(phrases, route: Route, token: Optional[str], languages: FrozenSet[str]):
    for phrase in phrases:
        if phrase.language in languages:
            for token_language, text in written_forms(phrase, route):
                if token_language == token:
                    yield text, phrase.language


CARRIER_COST = 4.0
# Evidence a number or year gives up for each extra group ("two thousand" + "five"): without
# it, a path that keeps adding short groups out-earns the one the speaker said.
GROUP_COST = 3.0


def _ending(encode: Encode) -> Trie:
    ending = Trie(neutral=True)
    ending.ends[0].append(("", 0, "", ""))
    for mark in ENDINGS:
        ending.add(encode(mark), (mark, 0, mark, ""))
    return ending


def _depth(trie: Trie, node: int = 0) -> int:
    return max((1 + _depth(trie, child) for child in trie.children[node].values()), default=0)


def compile_grammar(expected: Expected, route: Route, token: Optional[str], encode: Encode,
                    languages: Optional[Sequence[str]] = None) -> Optional[Grammar]:
    """The grammar of every form scored under language token ``token``, or None if no
    phrase has a form there. ``languages``: the phrase languages to include (default: the
    route's language and English). Phrases are encoded with a leading space, so pieces
    join exactly as the whole sentence would be tokenized."""
    wanted = frozenset(languages or {route.language, "en"})
    if expected.spoken_numbers:
        return _number_grammar(expected, route, token, encode, wanted)
    before = _phrase_trie(expected.before, route, token, encode, wanted, "before")
    after = _phrase_trie(expected.after, route, token, encode, wanted, "after")
    answers, whole = Trie(), Trie()  # answers that may take carriers, and sentences said whole
    for index, answer in enumerate(expected.answers):
        trie = whole if answer.whole else answers
        for text, language in _forms(answer.phrases, route, token, wanted):
            trie.add(encode(" " + text), (index, spoken_length(text), text, language))
    if answers.empty and whole.empty:
        return None
    # 0 carriers before · 1 answer · 2 carriers after · 3 whole sentence · 4 punctuation
    stages = [before, answers, after, whole, _ending(encode)]
    values = [answer.value for answer in expected.answers]

    def interpret(picks):
        return next((values[payload[0]] for stage, payload in picks if stage in (1, 3)), None)

    return Grammar(token, stages, first=(0, 1, 3), follows=[(1,), (2, 4), (4,), (4,), ()], interpret=interpret,
                   max_tokens=_depth(before) + max(_depth(answers), _depth(whole)) + _depth(after) + 3)


# ------------------------------------------------------------- numbers and dates
def _spellings(words: spoken_numbers.NumberWords, language: str, kind: str, low: float = 0,
               high: float = 1e12) -> List[Tuple[float, str]]:
    return [(word[1], text) for word, text in words.phrases(language, kind) if low <= word[1] <= high]


def _add_forms(trie: Trie, phrases: Sequence[Tuple[object, str, str]], route: Route, token: Optional[str],
               encode: Encode) -> None:
    """Add (tag, text, language) phrases in every form scored under ``token``."""
    for tag, text, language in phrases:
        for token_language, form in written_forms(Phrase(text, language), route):
            if token_language == token:
                trie.add(encode(" " + form), (tag, spoken_length(form), form, language))


def _phrase_trie(phrases, route, token, encode, languages, tag) -> Trie:
    """Carriers: they place the answer in the sentence but earn it nothing (neutral), and
    each costs a little, so a path uses one only when the audio wants it."""
    trie = Trie(cost=CARRIER_COST, neutral=True)
    for text, language in _forms(phrases, route, token, languages):
        trie.add(encode(" " + text), (tag, spoken_length(text), text, language))
    return trie


def _groups(words: spoken_numbers.NumberWords, language: str) -> Dict[int, List[Tuple[float, str]]]:
    """Spoken groups of the Indian system, per multiplier: "बीस हज़ार" → (1000, 20000)…;
    key 1 holds the plain numbers 1–99."""
    numbers = _spellings(words, language, "number", 1, 99)
    fractions = _spellings(words, language, "fraction")
    prefixes = _spellings(words, language, "prefix")
    groups: Dict[int, List[Tuple[float, str]]] = {1: list(numbers)}
    for multiplier, mult_text in _spellings(words, language, "multiplier"):
        entries = groups.setdefault(int(multiplier), [])
        limit = 9 if multiplier == 100 else 99
        entries += [(value * multiplier, f"{text} {mult_text}") for value, text in numbers if value <= limit]
        entries += [(value * multiplier, f"{text} {mult_text}") for value, text in fractions]
        entries += [((value + add) * multiplier, f"{p_text} {text} {mult_text}")
                    for add, p_text in prefixes for value, text in numbers if value <= 9]
        if multiplier >= 1000:
            entries.append((multiplier, mult_text))  # "हज़ार" alone, "lakh" alone
    return groups


def _number_grammar(expected: Expected, route: Route, token: Optional[str], encode: Encode,
                    languages: FrozenSet[str]) -> Optional[Grammar]:
    words = spoken_numbers.load()
    before = _phrase_trie(expected.before, route, token, encode, languages, "before")
    after = _phrase_trie(expected.after, route, token, encode, languages, "after")
    if expected.kind == "number":
        return _amount_grammar(words, before, after, route, token, encode, languages)
    return _date_grammar(words, before, after, route, token, encode, languages)


def _amount_grammar(words, before, after, route, token, encode, languages) -> Optional[Grammar]:
    """Numbers as the Indian system says them, largest group first, each group at most
    once: [crore] [lakh] [thousand] [hundred] [1–99] — no loops, so no runaway paths."""
    magnitudes = (10_000_000, 100_000, 1000, 100, 1)
    tries = [Trie(cost=GROUP_COST) for _ in magnitudes]
    for language in sorted(languages):
        groups = _groups(words, language)
        for trie, magnitude in zip(tries, magnitudes, strict=True):
            _add_forms(trie, [(value, text, language) for value, text in groups.get(magnitude, [])],
                       route, token, encode)
    if all(t.empty for t in tries):
        return None
    # 0 before · 1 crore · 2 lakh · 3 thousand · 4 hundred · 5 units · 6 after · 7 punctuation
    stages = [before, *tries, after, _ending(encode)]
    groups_after = [tuple(i for i in range(k + 1, 6) if not stages[i].empty) + (6, 7) for k in range(1, 6)]
    first_groups = tuple(i for i in range(1, 6) if not stages[i].empty)
    follows = [first_groups, *groups_after, (7,), ()]

    def interpret(picks):
        total = sum(payload[0] for stage, payload in picks if 1 <= stage <= 5)
        return str(int(total)) if total == int(total) else f"{total:g}"

    return Grammar(token, stages, first=(0,) + first_groups, follows=follows, interpret=interpret,
                   max_tokens=sum(_depth(t) for t in stages) + 1, by_heard=True)


def _date_grammar(words, before, after, route, token, encode, languages) -> Optional[Grammar]:
    """Day, month, year ("पंद्रह अगस्त उन्नीस सौ नब्बे", "fifth of March nineteen ninety",
    English also "March fifth …"); the year as a century part and an optional rest."""
    days, months, centuries, rest = Trie(), Trie(), Trie(), Trie(cost=GROUP_COST)
    filler = Trie(neutral=True)
    for language in sorted(languages):
        day_words = [(("day", v), t, language) for v, t in _spellings(words, language, "ordinal", 1, 31)]
        day_words += [(("day", v), t, language) for v, t in _spellings(words, language, "number", 1, 31)]
        _add_forms(days, day_words, route, token, encode)
        _add_forms(months, [(("month", v), t, language) for v, t in _spellings(words, language, "month")],
                   route, token, encode)
        numbers = dict((int(v), t) for v, t in reversed(_spellings(words, language, "number", 0, 99)))
        hundred = _spellings(words, language, "multiplier", 100, 100)
        thousand = _spellings(words, language, "multiplier", 1000, 1000)
        century = [(("base", 1900), f"{numbers[19]} {h}", language) for _, h in hundred]
        century += [(("base", 2000), f"{numbers[2]} {k}", language) for _, k in thousand]
        century += [(("pair", 19), numbers[19], language), (("pair", 20), numbers[20], language)]
        _add_forms(centuries, century, route, token, encode)
        _add_forms(rest, [(("rest", v), t, language) for v, t in _spellings(words, language, "number", 1, 99)],
                   route, token, encode)
    for text, language in (("of", "en"), ("the", "en"), ("तारीख", "hi"), ("ତାରିଖ", "or")):
        if language in languages:
            _add_forms(filler, [("filler", text, language)], route, token, encode)
    if days.empty or months.empty:
        return None
    english = "en" in languages
    # 0 before · 1 day · 2 of/ତାରିଖ · 3 month · 4 day after the month · 5 century · 6 rest · 7 after · 8 punctuation
    stages = [before, days, filler, months, days if english else Trie(), centuries, rest, after, _ending(encode)]
    follows = [(1, 3), (2, 3), (3,), (4, 5) if english else (5,), (5,), (6, 7, 8), (7, 8), (8,), ()]

    def interpret(picks):
        tags = [payload[0] for stage, payload in picks if 1 <= stage <= 6 and stage != 2]
        day = next((v for k, v in tags if k == "day"), None)
        month = next((v for k, v in tags if k == "month"), None)
        base = next(((k, v) for k, v in tags if k in ("base", "pair")), None)
        rest_value = next((v for k, v in tags if k == "rest"), 0)
        if day is None or month is None or base is None:
            return None
        year = base[1] + rest_value if base[0] == "base" else base[1] * 100 + rest_value
        try:
            return dt.date(int(year), int(month), int(day)).strftime("%d/%m/%Y")
        except ValueError:
            return None

    return Grammar(token, stages, first=(0, 1, 3) if english else (0, 1), follows=follows, interpret=interpret,
                   max_tokens=sum(_depth(t) for t in stages) + 1, by_heard=True)

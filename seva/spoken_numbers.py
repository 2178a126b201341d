"""Numbers and dates said in words, in English, Hindi or Odia, turned into digits.

"ପଚାଶ ହଜାର", "पचास हज़ार", "pachas hazar" and "fifty thousand" all mean 50000; "पंद्रह
अगस्त उन्नीस सौ नब्बे" is 15/08/1990. The words live in ``catalog/spoken_numbers.yml``
(every number 0–100, the multipliers of the Indian system, the fractions people use,
day and month words). The same tables serve typed answers (seva/validators.py) and the
grammars that voice notes are matched against (speech/grammar.py).

Words are looked up as written and on the common Latin key of seva.textnorm, so
romanised typing ("ek lakh bees hazar") works too; a Latin key that two numbers share is
dropped rather than guessed.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from seva.language import LANGUAGES
from seva.textnorm import clean, latin_key

DATA = Path(__file__).resolve().parent.parent / "catalog" / "spoken_numbers.yml"
# words that may stand around a number and mean nothing for its value
FILLERS = {"and", "rs", "rupees", "rupee", "rupaye", "rupaya", "only", "of", "the", "taka", "tanka",
           "रुपये", "रुपए", "रुपया", "रु", "ଟଙ୍କା", "ଟଙ୍କାର", "तारीख", "तारीख़", "ତାରିଖ", "सन", "साल", "ସାଲ", "ମସିହା"}
# (kind, value): kind is "number", "multiplier", "fraction" (a value of its own, डेढ़ = 1.5),
# "prefix" (added to the next number, साढ़े तीन = 3.5), "month" or "ordinal"
Word = Tuple[str, float]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", clean(text)).lower().strip()


@dataclass(frozen=True)
class NumberWords:
    """Every spelling of every number word, per language, and lookup tables."""

    spellings: Dict[str, Dict[Word, Tuple[str, ...]]]  # language → word → spellings
    exact: Dict[str, Word]  # NFC lower-case spelling (any language) → word
    by_key: Dict[str, Word]  # Latin key → word, where unambiguous
    longest: int  # most words in one spelling ("twenty five", "एक सौ")

    def lookup(self, words: Sequence[str]) -> Optional[Word]:
        phrase = " ".join(words)
        return self.exact.get(phrase) or self.by_key.get(latin_key(phrase))

    def phrases(self, language: str, kind: str) -> List[Tuple[Word, str]]:
        """(word, spelling) pairs of one kind in one language."""
        return [(word, text) for word, texts in self.spellings[language].items() if word[0] == kind
                for text in texts]


@functools.lru_cache(maxsize=2)
def load(path: str = str(DATA)) -> NumberWords:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    spellings: Dict[str, Dict[Word, Tuple[str, ...]]] = {lang: {} for lang in LANGUAGES}

    def add(kind: str, value: float, entry: dict) -> None:
        for lang in LANGUAGES:
            texts = tuple(_norm(t) for t in entry.get(lang) or [])
            if texts:
                spellings[lang][(kind, value)] = texts

    for value, entry in raw["multipliers"].items():  # first: "सौ", "hundred" multiply
        add("multiplier", int(value), entry)
    for value, entry in raw["numbers"].items():
        add("number", int(value), entry)
    for entry in (raw.get("halves") or {}).values():
        if "value" in entry:
            add("fraction", float(entry["value"]), entry)
        else:
            add("prefix", float(entry["add"]), entry)
    for value, entry in raw["ordinals"].items():
        add("ordinal", int(value), entry)
    for value, entry in raw["months"].items():
        add("month", int(value), entry)

    exact: Dict[str, Word] = {}
    keys: Dict[str, set] = {}
    for words in spellings.values():
        for word, texts in words.items():
            if word[0] == "ordinal":  # ordinals repeat the cardinals in hi/or; read them as numbers
                word = ("number", word[1])
            for text in texts:
                exact.setdefault(text, word)
                for key in _keys(text):
                    keys.setdefault(key, set()).add(word)
    by_key = {}
    for key, found in keys.items():
        if len(found) == 2 and {kind for kind, _ in found} == {"number", "multiplier"} \
                and len({value for _, value in found}) == 1:
            found = {("multiplier", next(iter(found))[1])}  # "sau", "hundred": multiply
        if key and len(found) == 1:  # "sat" is 7 or 60 when typed in Latin letters: not guessed
            by_key[key] = next(iter(found))
    longest = max(len(text.split()) for words in spellings.values() for texts in words.values() for text in texts)
    return NumberWords(spellings, exact, by_key, longest)


def _keys(text: str) -> set:
    """Latin keys a spelling may be typed as: "एक" is "eka" or "ek"."""
    key = latin_key(text)
    return {key, " ".join(w[:-1] if len(w) > 1 and w.endswith("a") else w for w in key.split())}


_SPLIT = re.compile(r"[\s,/\-.।]+")
_DIGITS = re.compile(r"^\d+(\.\d+)?$")


def read_words(text: str, words: Optional[NumberWords] = None) -> Optional[List[Word]]:
    """The number words of ``text`` in order (digits included), or None if any word is not
    a number word or a filler ("rupees", "and", "ତାରିଖ")."""
    words = words or load()
    tokens = [t for t in _SPLIT.split(_norm(text)) if t]
    found: List[Word] = []
    i = 0
    while i < len(tokens):
        if _DIGITS.match(tokens[i]):
            found.append(("number", float(tokens[i])))
            i += 1
            continue
        for size in range(min(words.longest, len(tokens) - i), 0, -1):
            word = words.lookup(tokens[i:i + size])
            if word is not None:
                found.append(word)
                i += size
                break
        else:
            if tokens[i] in FILLERS or latin_key(tokens[i]) in _FILLER_KEYS:
                i += 1
                continue
            return None
    return found


_FILLER_KEYS = {latin_key(w) for w in FILLERS}


def compose(sequence: Sequence[Word]) -> Optional[float]:
    """The value of number words in the Indian system: एक लाख बीस हज़ार = 120000,
    उन्नीस सौ नब्बे = 1990, साढ़े तीन लाख = 350000. None when they do not make a number
    (larger groups come first: "lakh crore" and "बीस पाँच" are not numbers)."""
    if not sequence or any(kind not in ("number", "multiplier", "fraction", "prefix") for kind, _ in sequence):
        return None
    total, group, pending, last = 0.0, None, 0.0, None
    largest, hundreds = float("inf"), False  # the last group's multiplier; a hundred in this group
    for kind, value in sequence:
        if kind == "prefix":
            if last == "prefix":
                return None
            pending = value
        elif kind in ("number", "fraction"):
            if last in ("number", "fraction"):
                return None  # two numbers in a row: not one number (years: see compose_year)
            group = (group or 0.0) + value + pending
            pending = 0.0
        else:  # multiplier
            if last == "prefix":
                return None
            if value == 100:
                if hundreds:
                    return None
                group, hundreds = (group if group is not None else 1.0) * 100, True
            else:
                if value >= largest:
                    return None
                total += (group if group is not None else 1.0) * value
                group, largest, hundreds = None, value, False
        last = kind
    if last == "prefix":
        return None
    return total + (group or 0.0)


def parse_number(text: str) -> Optional[float]:
    """A number said or typed in words or digits ("पचास हज़ार", "2 lakh 50 thousand")."""
    sequence = read_words(text)
    return compose(sequence) if sequence else None


def compose_year(sequence: Sequence[Word]) -> Optional[int]:
    """A year: "उन्नीस सौ नब्बे", "दो हज़ार पाँच", "nineteen ninety" (two two-digit numbers)."""
    if len(sequence) == 2 and all(kind == "number" for kind, _ in sequence):
        high, low = (int(v) for _, v in sequence)
        if 10 <= high <= 99 and 0 <= low <= 99:
            return high * 100 + low
    value = compose(sequence)
    return int(value) if value is not None and value == int(value) else None


def parse_date_words(text: str, today: dt.date) -> Optional[dt.date]:
    """A date said in words: day, month, year in any order people say them ("15 अगस्त
    उन्नीस सौ नब्बे", "fifth of March nineteen eighty five", "ମାର୍ଚ୍ଚ ପାଞ୍ଚ ୧୯୯୦")."""
    sequence = read_words(text)
    if not sequence:
        return None
    months = [i for i, (kind, _) in enumerate(sequence) if kind == "month"]
    if len(months) != 1:
        return None
    at = months[0]
    month = int(sequence[at][1])
    before, after = list(sequence[:at]), list(sequence[at + 1:])
    if len(before) == 1 and before[0][0] == "number":  # day month year
        day, year_words = int(before[0][1]), after
    elif not before and after and after[0][0] == "number" and after[0][1] <= 31:  # month day year
        day, year_words = int(after[0][1]), after[1:]
    else:
        return None
    year = compose_year(year_words) if year_words else None
    if year is None:
        return None
    if year < 100:
        year += 2000 if year <= today.year % 100 else 1900
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None

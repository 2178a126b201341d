"""Typed validation of form answers, one function per catalog field type.

Each validator takes the citizen's raw answer (any script, Odia/Devanagari digits, typos)
and returns a ``Result``: the normalised value to store, or an error code that names a
domain response (``utter_invalid_<code>``) so the re-ask says what was wrong in the
citizen's language.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from rapidfuzz import fuzz, process

from seva import clock, messages
from seva.catalog import Catalog, Field
from seva.spoken_numbers import parse_date_words, parse_number
from seva.textnorm import clean, latin_key

MAX_ANSWER_CHARS = 500


@dataclass(frozen=True)
class Result:
    value: Any = None
    error: Optional[str] = None
    details: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def _err(code: str, **details: Any) -> Result:
    return Result(error=code, details=details)


def _is_name_char(ch: str) -> bool:
    # letters and combining marks (Odia/Devanagari vowel signs are marks, not letters)
    return unicodedata.category(ch)[0] in "LM" or ch in " .'-"


def validate_name(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    name = " ".join(clean(text).split()).strip(" .")
    if not 2 <= len(name) <= 80 or not all(_is_name_char(ch) for ch in name):
        return _err("name")
    if not unicodedata.category(name[0]).startswith("L") or sum(ch.isalpha() for ch in name) < 2:
        return _err("name")
    return Result(name)


def validate_text(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    value = " ".join(clean(text).split())
    low, high = int(spec.options.get("min_length", 2)), int(spec.options.get("max_length", 300))
    if len(value) < low:
        return _err("text_short", min=low)
    if len(value) > high:
        return _err("text_long", max=high)
    return Result(value)


_MONTHS = messages.months()
_MONTH_KEYS = {latin_key(word): month for month, words in _MONTHS.items() for word in words}
_NUMERIC_DATE = re.compile(r"^(\d{1,2})\s*[/\-.\s]\s*(\d{1,2})\s*[/\-.\s]\s*(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def _year(raw: str, today: dt.date) -> int:
    year = int(raw)
    if len(raw) == 2:
        year += 2000 if year <= today.year % 100 else 1900
    return year


_ORDINAL_SUFFIX = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$", re.IGNORECASE)


def parse_date(text: str, today: dt.date) -> Optional[dt.date]:
    """dd/mm/yyyy and its common variants (-, ., spaces, 2-digit years, month names)."""
    value = clean(text).strip().rstrip(".")
    try:
        if m := _ISO_DATE.match(value):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _NUMERIC_DATE.match(value):
            return dt.date(_year(m[3], today), int(m[2]), int(m[1]))
        words = [_ORDINAL_SUFFIX.sub(r"\1", w) for w in re.split(r"[\s,/\-.]+", value) if w]  # 15th → 15
        numbers = [w for w in words if w.isdigit()]
        found = [_MONTH_KEYS.get(latin_key(w)) for w in words if not w.isdigit()]
        months = [m for m in found if m]
        if len(numbers) == 2 and len(months) == 1:
            day, year = (numbers if len(numbers[0]) <= 2 else numbers[::-1])
            if len(day) <= 2:
                return dt.date(_year(year, today), months[0], int(day))
    except ValueError:
        return None
    return None


def validate_date(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    date = parse_date(text, today) or parse_date_words(text, today)
    if date is None:
        return _err("date")
    if spec.options.get("past_only") and date > today:
        return _err("date_future")
    if spec.options.get("future_only") and date < today:
        return _err("date_past")
    years = spec.options.get("max_years_ago", 120)
    if date.year < today.year - int(years):
        return _err("date_too_old", years=years)
    return Result(date.strftime("%d/%m/%Y"))


def match_district(text: str, catalog: Catalog) -> Optional[str]:
    """The id of the district ``text`` names (any script or spelling), or None."""
    key = latin_key(text)
    if not key:
        return None
    choices: Dict[str, str] = {}
    for district in catalog.districts.values():
        for spelling in [district.id, *district.names.values(), *district.variants]:
            choices[latin_key(spelling)] = district.id
    if key in choices:
        return choices[key]
    for word in key.split():  # "cuttack district", "ମୁଁ କଟକରେ ରହେ" style answers
        if word in choices:
            return choices[word]
    best = process.extractOne(key, list(choices), scorer=fuzz.ratio, score_cutoff=80)
    return choices[best[0]] if best else None


def closest_districts(text: str, catalog: Catalog) -> List[str]:
    """Every district id, the ones whose names (any script or spelling) look most like
    ``text`` first: the choices offered when a citizen's answer matched none."""
    key = latin_key(text)
    best: Dict[str, float] = {}
    for district in catalog.districts.values():
        spellings = [latin_key(s) for s in (district.id, *district.names.values(), *district.variants)]
        best[district.id] = max((fuzz.WRatio(key, s) for s in spellings if s), default=0.0) if key else 0.0
    return sorted(best, key=lambda did: (-best[did], catalog.districts[did].name("en")))


def validate_district(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    district = match_district(text, catalog)
    return Result(district) if district else _err("district")


_MULTIPLIERS = {
    latin_key(w): m
    for w, m in [
        ("lakh", 100_000), ("lac", 100_000), ("lakhs", 100_000), ("लाख", 100_000), ("ଲକ୍ଷ", 100_000),
        ("crore", 10_000_000), ("करोड़", 10_000_000), ("କୋଟି", 10_000_000),
        ("thousand", 1000), ("hazar", 1000), ("हज़ार", 1000), ("हजार", 1000), ("ହଜାର", 1000), ("k", 1000),
    ]
}
_CURRENCY = re.compile(r"(?i)(₹|rs\.?|inr|rupees?|रुपये|रुपए|रु\.?|ଟଙ୍କା|/-)")


def parse_amount(text: str) -> Optional[float]:
    # the full stop Whisper ends an English voice note with ("50,000.") is not a decimal point
    value = _CURRENCY.sub(" ", clean(text)).replace(",", "").strip().rstrip(".!?।").strip()
    m = re.match(r"^(\d+(?:\.\d+)?)\s*([^\d\s]*)\s*$", value)
    if not m:
        return None
    number = float(m[1])
    unit = m[2]
    if unit:
        multiplier = _MULTIPLIERS.get(latin_key(unit))
        if multiplier is None:
            return None
        number *= multiplier
    return number


def _in_range(number: float, spec: Field) -> Optional[Result]:
    low, high = spec.options.get("min"), spec.options.get("max")
    if low is not None and number < low:
        return _err("too_small", min=low)
    if high is not None and number > high:
        return _err("too_large", max=high)
    return None


def validate_amount(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    number = parse_amount(text)
    if number is None:  # said or typed in words: "ପଚାଶ ହଜାର", "pachas hazar", "fifty thousand"
        number = parse_number(_CURRENCY.sub(" ", clean(text)).replace(",", ""))
    if number is None:
        return _err("amount")
    problem = _in_range(number, spec)
    return problem or Result(int(round(number)))


def validate_number(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    value = clean(text).strip()
    if not re.fullmatch(r"-?\d+", value):
        spoken = parse_number(value)  # "ପଚିଶି", "twenty five"
        if spoken is None or spoken != int(spoken):
            return _err("number")
        value = str(int(spoken))
    problem = _in_range(int(value), spec)
    return problem or Result(int(value))


_YES = {latin_key(word) for word in messages.words("YES")}
_NO = {latin_key(word) for word in messages.words("NO")}


def parse_yes_no(text: str) -> Optional[bool]:
    key = latin_key(text.strip().strip("!.?"))
    if key in _YES:
        return True
    if key in _NO:
        return False
    words = key.split()
    if words and words[0] in _YES and not any(w in _NO for w in words):
        return True
    if words and words[0] in _NO:
        return False
    return None


def validate_yes_no(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    answer = parse_yes_no(text)
    return _err("yes_no") if answer is None else Result(answer)


def match_choice(text: str, choices: List[Dict[str, Any]]) -> Optional[str]:
    value = clean(text).strip().rstrip(".")
    if value.isdigit() and 1 <= int(value) <= len(choices):
        return choices[int(value) - 1]["id"]
    key = latin_key(value)
    spellings: Dict[str, str] = {}
    for choice in choices:
        names = [choice["id"].replace("_", " "), *choice.get("label", {}).values(), *choice.get("synonyms", [])]
        for spelling in names:
            spellings.setdefault(latin_key(str(spelling)), choice["id"])
    if key in spellings:
        return spellings[key]
    best = process.extractOne(key, list(spellings), scorer=fuzz.WRatio, score_cutoff=85)
    return spellings[best[0]] if best else None


def validate_choice(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    choice = match_choice(text, spec.choice_list())
    return Result(choice) if choice else _err("choice")


def validate_pincode(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    value = re.sub(r"\s", "", clean(text))
    if not re.fullmatch(r"7[5-7]\d{4}", value):
        return _err("pincode")
    return Result(value)


def validate_phone(text: str, spec: Field, catalog: Catalog, today: dt.date) -> Result:
    value = re.sub(r"[\s\-()]", "", clean(text))
    value = re.sub(r"^(\+?91|0)(?=\d{10}$)", "", value)
    if not re.fullmatch(r"[6-9]\d{9}", value):
        return _err("phone")
    return Result(value)


VALIDATORS: Dict[str, Callable[[str, Field, Catalog, dt.date], Result]] = {
    "name": validate_name,
    "text": validate_text,
    "date": validate_date,
    "district": validate_district,
    "number": validate_number,
    "amount": validate_amount,
    "yes_no": validate_yes_no,
    "choice": validate_choice,
    "pincode": validate_pincode,
    "phone": validate_phone,
    "document": lambda text, spec, catalog, today: validate_document(text, spec),
}

SKIP_WORDS = {latin_key(w) for w in ["skip", "chhodo", "chodo", "छोड़ें", "छोड़ो", "ଛାଡ଼ନ୍ତୁ", "ଛାଡ଼", "chhada"]}


def validate_document(text: str, spec: Field) -> Result:
    """A typed answer to a document question: "no" skips an optional one; anything else asks
    for the photo or PDF itself (it arrives as a WhatsApp image or document, actions/documents.py)."""
    if not spec.required and parse_yes_no(text) is False:
        return Result("")
    return _err("document")


def validate(text: Any, spec: Field, catalog: Catalog, today: Optional[dt.date] = None) -> Result:
    """Validate one answer for ``spec``; never raises, whatever the input."""
    if not isinstance(text, str):
        return _err("empty")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    if not text.strip():
        return _err("empty")
    if len(text) > MAX_ANSWER_CHARS:
        return _err("text_long", max=MAX_ANSWER_CHARS)
    if not spec.required and latin_key(text) in SKIP_WORDS:
        return Result("")
    today = today or clock.today_ist()  # "not in the future" is judged on the date in India
    try:
        return VALIDATORS[spec.type](text, spec, catalog, today)
    except (ValueError, OverflowError, KeyError):
        return _err(spec.type if spec.type in VALIDATORS else "empty")

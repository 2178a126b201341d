"""What answers a turn expects, for matching a voice note (speech/grammar.Expected).

Built from the catalog (districts, services, a field's choices), the spoken phrases of
``catalog/spoken.yml`` (yes/no, carriers, commands) and the buttons the bot just sent. An
answer's ``value`` is the message handed to Rasa when it is heard, exactly what typing or
tapping would have sent: a button's payload, a district's name, digits, a date.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from seva.catalog import Catalog, Field, Service
from seva.language import LANGUAGES
from seva.textnorm import script_of
from speech.grammar import Answer, Expected, Phrase

SPOKEN = Path(__file__).resolve().parent.parent / "catalog" / "spoken.yml"
_SCRIPT_LANGUAGE = {"or": "or", "hi": "hi"}
_PARENTHESES = re.compile(r"\s*\(([^)]*)\)")


@functools.lru_cache(maxsize=2)
def spoken(path: str = str(SPOKEN)) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def phrases(by_language: Optional[Dict[str, Iterable[str]]]) -> Tuple[Phrase, ...]:
    """Phrases of a catalog/spoken.yml entry ({language: [texts]}; none when it is missing)."""
    return tuple(Phrase(str(text), lang) for lang in LANGUAGES for text in (by_language or {}).get(lang) or [])


def phrase(text: str) -> Phrase:
    """A phrase in the language its script says (Latin letters count as English)."""
    return Phrase(text, _SCRIPT_LANGUAGE.get(script_of(text), "en"))


def spoken_forms(name: str) -> List[str]:
    """A written name as people say it: "खाद (उर्वरक) लाइसेंस" → "खाद लाइसेंस", "उर्वरक"…;
    forms with symbols nobody says (₹, 8A) are left out."""
    forms = []
    bare = " ".join(_PARENTHESES.sub(" ", name).split())
    if bare and not re.search(r"[₹&/\d]", bare):
        forms.append(bare)
    for inner in _PARENTHESES.findall(name):
        if len(inner) >= 3 and not re.search(r"[₹&/\d]", inner):
            forms.append(inner)
    return forms


def _carriers(kind: str) -> Tuple[Tuple[Phrase, ...], Tuple[Phrase, ...]]:
    carriers = spoken()["carriers"].get(kind) or {}
    return phrases(carriers.get("before")), phrases(carriers.get("after"))


# ------------------------------------------------------------------ kinds of turn
def yes_no(yes_value: str = "yes", no_value: str = "no") -> Expected:
    words = spoken()["yes_no"]
    return Expected("yes_no", (Answer(yes_value, phrases(words["yes"])), Answer(no_value, phrases(words["no"]))))


_BUILT: Dict[tuple, Tuple[Catalog, Expected]] = {}


def _once(name: str, catalog: Catalog, *key, build):
    """Build an Expected once per catalog (a Catalog is not hashable; its identity is the key)."""
    cache_key = (name, id(catalog), *key)
    cached = _BUILT.get(cache_key)
    if cached is None or cached[0] is not catalog:
        cached = _BUILT[cache_key] = (catalog, build())
    return cached[1]


def districts(catalog: Catalog, language: str) -> Expected:
    return _once("districts", catalog, language, build=lambda: _districts(catalog, language))


def _districts(catalog: Catalog, language: str) -> Expected:
    """The 30 districts; the value is the name in the conversation's language (as typed)."""
    suffixes = (spoken()["carriers"]["district"].get("suffixes") or {})
    answers = []
    for district in catalog.districts.values():
        texts = [*district.names.values(), *district.variants]
        phrases = [phrase(t) for t in dict.fromkeys(texts)]
        phrases += [Phrase(p.text + s, p.language) for p in list(phrases)
                    for s in suffixes.get(p.language) or []]
        answers.append(Answer(district.name(language), tuple(phrases)))
    before, after = _carriers("district")
    return Expected("district", tuple(answers), before, after)


def choices(field: Field) -> Expected:
    """A choice field: each choice's labels and synonyms; the value is the choice id."""
    answers = []
    for choice in field.choice_list():
        texts = [*(choice.get("label") or {}).values(), *(choice.get("synonyms") or [])]
        answers.append(Answer(choice["id"], tuple(phrase(str(t)) for t in dict.fromkeys(texts))))
    return Expected("choice", tuple(answers))


def numbers() -> Expected:
    before, after = _carriers("number")
    return Expected("number", (), before, after)


def dates() -> Expected:
    before, after = _carriers("date")
    return Expected("date", (), before, after)


def for_field(field: Field, catalog: Catalog, language: str) -> Optional[Expected]:
    """What a form question expects; None for free text (names, addresses, numbers to type)."""
    if field.type == "district":
        return districts(catalog, language)
    if field.type == "yes_no":
        return yes_no()
    if field.type == "choice":
        return choices(field)
    if field.type in ("amount", "number"):
        return numbers()
    if field.type == "date":
        return dates()
    return None


def _service_phrases(service: Service) -> Tuple[Phrase, ...]:
    texts = [form for name in service.names.values() for form in spoken_forms(name)]
    texts += [form for synonym in service.synonyms for form in spoken_forms(str(synonym))]
    return tuple(phrase(t) for t in dict.fromkeys(texts))


def opening(catalog: Catalog) -> Expected:
    """A turn with no question open: every service of the catalog (to apply for it) and
    the commands of catalog/spoken.yml (status, complaint, help, a language …)."""
    return _once("opening", catalog, build=lambda: _opening(catalog))


def _opening(catalog: Catalog) -> Expected:
    answers = [Answer(f'/apply_service{{"service":"{service.id}"}}', _service_phrases(service))
               for service in catalog.services.values() if not service.same_as]
    answers += [Answer(value, phrases(by_language), whole=True) for value, by_language in spoken()["commands"].items()]
    before, after = _carriers("service")
    return Expected("service", tuple(answers), before, after)


def for_buttons(buttons: Sequence[dict]) -> Optional[Expected]:
    """The buttons (or list rows) just sent: their titles select their payloads. A yes/no
    pair is heard with every way of saying yes or no."""
    buttons = [b for b in buttons if isinstance(b, dict) and b.get("title")]
    if not buttons:
        return None
    payloads = [str(b.get("payload") or b["title"]) for b in buttons]
    kinds = {p.strip("/").split("{")[0].lower() for p in payloads}
    if len(buttons) == 2 and kinds in ({"yes", "no"}, {"affirm", "deny"}):
        yes = next(p for p in payloads if p.strip("/").lower().startswith(("yes", "affirm")))
        no = next(p for p in payloads if p != yes)
        return yes_no(yes, no)
    answers = [Answer(payload, (phrase(str(button["title"])),))
               for button, payload in zip(buttons, payloads, strict=True)]
    return Expected("choice", tuple(answers))

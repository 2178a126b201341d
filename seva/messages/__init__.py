"""The small texts code puts together, and the WhatsApp channel's own messages, per language.

Whole messages the assistant says live in ``domain.yml`` as responses with a variation per
``language`` slot value; actions say them with
``dispatcher.utter_message(response="utter_…", **values)`` and Rasa picks the variation, so a
designer edits them without touching Python. What lives here is smaller and is not a
message on its own:

- words and phrases that go *into* those messages: button titles, "not known", the
  time-limit line of a service card, status labels;
- the word lists the validators read answers with (yes / no, month names);
- the few messages the WhatsApp channel sends by itself, when Rasa is not asked or did
  not answer: an apology, the rate limit, the echo of a voice note.

One module per language (``en.py``, ``hi.py``, ``odia.py``) with the same keys; a unit
test checks they match and that every placeholder is the same in all three.
"""
from __future__ import annotations

import string
from typing import Any, Dict, List

from seva.language import DEFAULT_LANGUAGE, LANGUAGES
from seva.messages import en, hi, odia

_MODULES = {"en": en, "hi": hi, "or": odia}
assert tuple(_MODULES) == LANGUAGES, "one message module per supported language"


def text(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` (English for an unknown language), placeholders filled.

    A placeholder without a value is an error, not a blank: a message missing its
    reference number is worse than no message.
    """
    module = _MODULES.get(lang) or _MODULES[DEFAULT_LANGUAGE]
    template = module.TEXTS[key]
    needed = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = needed - values.keys()
    if missing:
        raise KeyError(f"message {key!r} needs {sorted(missing)}")
    return template.format(**{k: "" if v is None else v for k, v in values.items()})


def words(name: str) -> List[str]:
    """A word list (``YES``, ``NO``) of every language: citizens mix them."""
    return [word for module in _MODULES.values() for word in getattr(module, name)]


def months() -> Dict[int, List[str]]:
    """Month number → its names in every language."""
    names: Dict[int, List[str]] = {month: [] for month in range(1, 13)}
    for module in _MODULES.values():
        for month, spellings in enumerate(module.MONTHS, start=1):
            names[month].extend(spellings)
    return names


def keys(lang: str) -> List[str]:
    return list(_MODULES[lang].TEXTS)

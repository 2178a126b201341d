"""Bring a transcript into the script the NLU and the citizen expect for the route.

Whisper has no Odia: through a proxy language it writes Odia speech in Devanagari (or
Bengali, or Latin letters). Devanagari and Bengali map letter for letter onto Odia, so we
transliterate them; Latin text is left alone (the NLU reads romanised Odia). Text in a
script nobody in the conversation reads (Perso-Arabic for Hindi, say) is reported so the
recogniser can call the transcript unclear instead of passing on something unreadable.
"""
from __future__ import annotations

import re
import unicodedata

from indic_transliteration import sanscript
from indic_transliteration.sanscript import transliterate

_RANGES = {
    "devanagari": (0x0900, 0x097F),
    "bengali": (0x0980, 0x09FF),
    "odia": (0x0B00, 0x0B7F),
    "arabic": (0x0600, 0x06FF),
}
_READABLE = {"en": {"latin"}, "hi": {"devanagari", "latin"}, "or": {"odia", "latin"}}
_SPACES = re.compile(r"\s+")
# Letter-for-letter output spelt the way Odia writes the same sounds:
_ODIA_NUKTA = re.compile(r"(?<![\u0b21\u0b22])\u0b3c")  # ଜ଼ ଫ଼ …: Odia keeps the nukta only in ଡ଼ ଢ଼
_ODIA_MEDIAL_YA = re.compile(r"(?<=[\u0b00-\u0b7f])\u0b2f")  # ଯ inside a word is ୟ (ଆୟ, କ୍ୟା)


def scripts_in(text: str) -> dict:
    """Letters per script: latin, devanagari, bengali, odia, arabic, other."""
    counts: dict = {}
    for ch in text:
        if not ch.isalpha() and unicodedata.category(ch) not in ("Mn", "Mc"):
            continue
        code = ord(ch)
        name = next((n for n, (lo, hi) in _RANGES.items() if lo <= code <= hi), None)
        if name is None:
            name = "latin" if ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") else "other"
        counts[name] = counts.get(name, 0) + 1
    return counts


def to_route_script(text: str, language: str) -> str:
    """``text`` rewritten into the script of ``language`` where a letter mapping exists."""
    text = unicodedata.normalize("NFC", text)
    if language == "or":
        counts = scripts_in(text)
        if counts.get("devanagari"):
            text = transliterate(text, sanscript.DEVANAGARI, sanscript.ORIYA)
        if counts.get("bengali"):
            text = transliterate(text, sanscript.BENGALI, sanscript.ORIYA)
        if counts.get("devanagari") or counts.get("bengali"):
            text = _odia_spelling(text)
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def unreadable_share(text: str, language: str) -> float:
    """Fraction of letters in a script the route's readers do not read (0 when fine)."""
    counts = scripts_in(text)
    total = sum(counts.values())
    if not total:
        return 0.0
    readable = sum(n for name, n in counts.items() if name in _READABLE.get(language, {"latin"}))
    return 1.0 - readable / total


def _odia_spelling(text: str) -> str:
    """ଵ → ବ (ଆବେଦନ, not ଆଵେଦନ), ଯ inside a word → ୟ, no nukta outside ଡ଼ ଢ଼."""
    text = text.replace("\u0b5f\u0b3c", "\u0b5f").replace("\u0b2f\u0b3c", "\u0b5f")  # য় → ୟ, not ଯ଼
    text = _ODIA_NUKTA.sub("", text.replace("\u0b35", "\u0b2c"))
    return _ODIA_MEDIAL_YA.sub("\u0b5f", text)

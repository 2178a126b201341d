"""Which language a citizen wrote in, or asked for.

Script is exact (Odia U+0B00–U+0B7F, Devanagari U+0900–U+097F). Latin text is English,
romanised Hindi or romanised Odia; no offline detector knows the last two, so a short list
of words only those languages use decides, and when the evidence is thin we say nothing
and the conversation keeps its language.
"""
from __future__ import annotations

import re
from typing import Optional

from seva.textnorm import DEVANAGARI, LATIN, ODIA, clean, latin_key, script_of

# The languages the assistant speaks, defined here only: English is the default
# variation of every response, Hindi and Odia are picked by the `language` slot.
LANGUAGES = ("en", "hi", "or")
DEFAULT_LANGUAGE = "en"


def supported(value: object) -> Optional[str]:
    """``value`` if it is one of the languages, else None (slots and metadata hold anything)."""
    return value if value in LANGUAGES else None

# Words naming a language, in any script ("ଓଡ଼ିଆ", "oriya", "हिंदी", "angrezi" …).
_NAMES = {
    "en": ["english", "inglish", "angrezi", "angreji", "angraji", "अंग्रेज़ी", "अंग्रेजी", "इंग्लिश", "ଇଂରାଜୀ", "ଇଂଲିଶ",
           "ingraji"],
    "hi": ["hindi", "hindee", "हिंदी", "हिन्दी", "ହିନ୍ଦୀ", "ହିନ୍ଦି"],
    "or": ["odia", "oriya", "odiya", "oria", "orriya", "ଓଡ଼ିଆ", "ଓଡିଆ", "ଓଡ଼ିଆରେ", "ओड़िया", "ओडिया", "उड़िया", "उड़िया"],
}
_NAME_KEYS = {latin_key(word): lang for lang, words in _NAMES.items() for word in words}

# Romanised words that mark one language; chosen to be rare in the other two (so not
# "ki" or "nahin", which Hindi and Odia share). The service search (seva/search.py) also
# reads them: they say how a citizen asks, not which service.
HINDI_MARKERS = set(
    "mujhe muje mujhko mera meri mere hamara hamari chahiye chahie chaiye chahie kaise kaisa kaisi kya kyu kyun "
    "hai hain karna karni karwana karvana banwana banvana kijiye kijie karo batao bataiye batayiye nahi nahin "
    "kab kitne kitna kitni wala wali liye lie milega milegi hoga hogi abhi aap apna apni raha rahi gaya "
    "chahta chahti mein".split()
)
ODIA_MARKERS = set(
    "mote mate mora mor darkar dorkar darakar kemiti kana kan achhi achi acchi heba hebo karibi kariba "
    "chahunchi chahuchi chahe paain pain dia diantu dianti hela heuchi kete kouthi kaha kahantu "
    "mu mun amara apananka aapananka apanaka bhala jiba jibi thila".split()
)


def language_name_in(text: str) -> Optional[str]:
    """The language a message names ("Odia please", "हिंदी में"), if any."""
    for word in latin_key(text).split():
        if word in _NAME_KEYS:
            return _NAME_KEYS[word]
        for name, lang in _NAME_KEYS.items():  # inflected: ହିନ୍ଦୀରେ, odiare, hindime
            if len(name) >= 4 and word.startswith(name) and len(word) - len(name) <= 3:
                return lang
    return None


def romanised_language(text: str) -> Optional[str]:
    """``hi`` or ``or`` for romanised Hindi/Odia with clear evidence, else None."""
    words = re.findall(r"[a-z]+", clean(text).lower())
    hindi = sum(w in HINDI_MARKERS for w in words)
    odia = sum(w in ODIA_MARKERS for w in words)
    if hindi > odia:
        return "hi"
    if odia > hindi:
        return "or"
    return None


def detect(text: str, asked_for_language: bool = False) -> Optional[str]:
    """The language to switch to for this message, or None to keep the current one.

    ``asked_for_language``: the message was classified as a request to change language,
    so a language it names wins over the script it is written in.
    """
    if not text or text.startswith("/"):
        return None
    if asked_for_language:
        named = language_name_in(text)
        if named:
            return named
    script = script_of(text)
    if script == ODIA:
        return "or"
    if script == DEVANAGARI:
        return "hi"
    assert script == LATIN
    return romanised_language(text)

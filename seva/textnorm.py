"""One Latin "matching key" for Odia, Devanagari and romanised text.

Citizens write the same word as ପ୍ରମାଣପତ୍ର, प्रमाणपत्र or "pramanpatra". Matching works on a
lossy common form: native script is transliterated with indic-transliteration (ITRANS),
then Latin text of any origin is folded the same way (case, long vowels, aspirates that
people drop or add, nasal marks). Map native script towards Latin, never the reverse:
informal romanisation cannot be parsed back into script.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from indic_transliteration import sanscript
from indic_transliteration.sanscript import transliterate

ODIA = "or"
DEVANAGARI = "hi"
LATIN = "en"

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_DIGITS = {ord(c): str(i) for i, c in enumerate("୦୧୨୩୪୫୬୭୮୯")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("०१२३४५६७८९")})

# Odia letters the library misses or maps to something citizens would not type.
_ODIA_FIXES = [
    ("\u0b21\u0b3c", "\u0b21"),  # ଡ଼ (decomposed) → ଡ: spoken r/d, written d or r
    ("\u0b22\u0b3c", "\u0b22"),  # ଢ଼
    ("\u0b5c", "\u0b21"),  # ଡ଼ precomposed
    ("\u0b5d", "\u0b22"),  # ଢ଼ precomposed
    ("\u0b2f", "\u0b1c"),  # ଯ is pronounced "ja" in Odia (ଯାଜପୁର = Jajpur)
    ("\u0b5f", "\u0b2f"),  # ୟ is "ya"
    ("\u0b71", "\u0b35"),  # ୱ → ଵ (va)
    ("\u0b3c", ""),  # any other nukta
]
_DEVANAGARI_FIXES = [
    ("\u0921\u093c", "\u0921"),
    ("\u0922\u093c", "\u0922"),
    ("\u095c", "\u0921"),  # ड़ → ड
    ("\u095d", "\u0922"),
    ("\u0945", "\u0948"),  # ॅ candra e (bank, doctor) → ै
    ("\u0949", "\u094b"),  # ॉ candra o (ऑफिस) → ो
    ("\u0911", "\u0913"),  # ऑ → ओ
    ("\u093c", ""),  # other nukta forms: ज़ → ज, फ़ → फ
]

# ITRANS output (and informal Latin) folded to one spelling, applied in order.
_LATIN_FOLDS = [
    (re.compile(r"~n|~N|\.n|\.N"), "n"),  # nasal marks
    (re.compile(r"M(?=[pbm])"), "m"),
    (re.compile(r"M"), "n"),  # anusvara
    (re.compile(r"RRi|RRI|R\^i"), "ri"),
    (re.compile(r"kSh|x"), "ksh"),
    (re.compile(r"j~n|GY|dny"), "gy"),
    (re.compile(r"\.a|\.h|\.D|\^"), ""),
    (re.compile(r"H"), "h"),
]
_LOWER_FOLDS = [
    (re.compile(r"chh|ch"), "c"),  # छ/च and "chahiye"/"cahiye"
    (re.compile(r"sh|s"), "s"),  # श ष स are merged in speech and typing
    (re.compile(r"ph|f"), "f"),
    (re.compile(r"w"), "v"),
    (re.compile(r"z"), "j"),
    (re.compile(r"q"), "k"),
    (re.compile(r"ee|ii"), "i"),
    (re.compile(r"oo|uu"), "u"),
    (re.compile(r"aa"), "a"),
    (re.compile(r"ai"), "e"),  # "hai" / "he", "kaise" / "kese"
    (re.compile(r"([bcdgjkpt])h"), r"\1"),  # aspiration is often dropped in typing
    (re.compile(r"(.)\1+"), r"\1"),  # doubled letters
]
_WORD = re.compile(r"[a-z0-9]+")
_VOWELS = re.compile(r"[aeiou]")


def script_of(text: str) -> str:
    """The script most letters of ``text`` are written in: ``or``, ``hi`` or ``en``."""
    odia = devanagari = latin = 0
    for ch in text:
        code = ord(ch)
        if 0x0B00 <= code <= 0x0B7F:
            odia += 1
        elif 0x0900 <= code <= 0x097F:
            devanagari += 1
        elif ch.isalpha():
            latin += 1
    if odia == devanagari == 0:
        return LATIN
    return ODIA if odia >= devanagari else DEVANAGARI


def clean(text: str) -> str:
    """Unicode-normalise: NFC, no zero-width joiners, native digits as ASCII."""
    text = unicodedata.normalize("NFC", text or "")
    return text.translate(_ZERO_WIDTH).translate(_DIGITS)


def _native_to_itrans(text: str) -> str:
    for src, dst in _ODIA_FIXES:
        text = text.replace(src, dst)
    for src, dst in _DEVANAGARI_FIXES:
        text = text.replace(src, dst)
    if any(0x0B00 <= ord(c) <= 0x0B7F for c in text):
        text = transliterate(text, sanscript.ORIYA, sanscript.ITRANS)
    if any(0x0900 <= ord(c) <= 0x097F for c in text):
        text = transliterate(text, sanscript.DEVANAGARI, sanscript.ITRANS)
    for pattern, repl in _LATIN_FOLDS:
        text = pattern.sub(repl, text)
    return text


def _fold_word(word: str) -> str:
    if any(c.isdigit() for c in word):
        return word
    for pattern, repl in _LOWER_FOLDS:
        word = pattern.sub(repl, word)
    if len(word) > 3 and word.endswith("a") and not _VOWELS.match(word[-2]):
        word = word[:-1]  # final schwa: "patra"/"patr", "darakara"/"darkar"
    return word


@functools.lru_cache(maxsize=65536)
def latin_key(text: str) -> str:
    """Space-separated folded Latin words for any script; the matching form of ``text``."""
    text = clean(text)
    if script_of(text) != LATIN or re.search(r"[\u0900-\u0b7f]", text):
        text = _native_to_itrans(text)
    words = _WORD.findall(text.lower())
    return " ".join(_fold_word(w) for w in words)


def matching_word(word: str) -> str:
    """One token's matching form, without spaces (``latin_key`` may split "ORT-7K3M");
    the lower-cased word itself when nothing of it survives folding (emoji, punctuation)."""
    return latin_key(word).replace(" ", "") or word.casefold()


def skeleton(word: str) -> str:
    """Consonant skeleton of a folded word (keeps a leading vowel): survives schwa loss."""
    if not word:
        return word
    head, tail = word[0], word[1:]
    return head + _VOWELS.sub("", tail)

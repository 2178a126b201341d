"""seva/messages: the same keys and placeholders in every language, each in its own script."""
import string

import pytest

from seva import messages
from seva.language import LANGUAGES
from seva.textnorm import DEVANAGARI, ODIA, script_of

SCRIPT = {"hi": DEVANAGARI, "or": ODIA}
# the same in every script: an example of a number or a date
SAME_EVERYWHERE = {"example_date", "example_amount", "example_number", "example_pincode", "example_phone"}


def placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_keys_and_placeholders():
    english = messages.keys("en")
    for lang in LANGUAGES:
        assert messages.keys(lang) == english, lang
        for key in english:
            ours = messages._MODULES[lang].TEXTS[key]
            assert placeholders(ours) == placeholders(messages._MODULES["en"].TEXTS[key]), (lang, key)


@pytest.mark.parametrize("lang", ["hi", "or"])
def test_hindi_and_odia_texts_are_in_their_own_script(lang):
    for key, text in messages._MODULES[lang].TEXTS.items():
        if key in SAME_EVERYWHERE:
            continue
        words = string.Formatter().vformat(text, (), {k: "" for k in placeholders(text)})
        assert script_of(words) == SCRIPT[lang], (key, text)


def test_a_missing_placeholder_is_an_error_not_a_blank():
    with pytest.raises(KeyError, match="days"):
        messages.text("time_limit_days", "or")
    assert "30" in messages.text("time_limit_days", "or", days=30)


def test_an_unknown_language_gets_english():
    assert messages.text("yes", "xx") == messages.text("yes", "en")


def test_word_lists_hold_every_language():
    yes = messages.words("YES")
    assert {"yes", "हाँ", "ହଁ"} <= set(yes)
    december = messages.months()[12]
    assert {"december", "दिसंबर", "ଡିସେମ୍ବର"} <= set(december)

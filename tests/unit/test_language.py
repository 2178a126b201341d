"""Script normalisation and language detection."""
import pytest

from seva.language import detect
from seva.textnorm import latin_key, script_of


@pytest.mark.parametrize("a, b", [
    ("ପ୍ରମାଣପତ୍ର", "pramanapatra"),
    ("प्रमाणपत्र", "pramanapatra"),
    ("ଖତିୟାନ", "khatiyan"),
    ("खतियान", "khatiyan"),
    ("ଯାଜପୁର", "Jajapur"),
    ("हिंदी", "hindi"),
    ("ଓଡ଼ିଆ", "Odia"),
    ("ब\u093cरगढ़", "बरगढ"),
])
def test_scripts_meet_in_one_latin_key(a, b):
    assert latin_key(a) == latin_key(b)


def test_zero_width_joiners_and_native_digits():
    assert latin_key("ପ୍\u200dରମାଣ") == latin_key("ପ୍ରମାଣ")
    assert latin_key("୧୨୩ १२३") == "123 123"


@pytest.mark.parametrize("text, script", [("ନମସ୍କାର", "or"), ("नमस्ते", "hi"), ("hello", "en"), ("ORT ନମସ୍କାର", "or")])
def test_script(text, script):
    assert script_of(text) == script


@pytest.mark.parametrize("text, asked, expected", [
    ("ନମସ୍କାର", False, "or"),
    ("मुझे आय प्रमाण पत्र चाहिए", False, "hi"),
    ("mujhe income certificate chahiye", False, "hi"),
    ("mate income certificate darkar", False, "or"),
    ("income certificate", False, None),
    ("hello", False, None),
    ("Odia", True, "or"),
    ("ହିନ୍ଦୀରେ କୁହ", True, "hi"),
    ("हिंदी में बात करो", True, "hi"),
    ("english please", True, "en"),
    ("ଇଂରାଜୀରେ", True, "en"),
    ('/choose_language{"language":"hi"}', True, None),
])
def test_detect(text, asked, expected):
    assert detect(text, asked_for_language=asked) == expected


def test_held_out_messages_get_their_language_and_never_the_wrong_one():
    """On the held-out NLU set: native script always decides; romanised Hindi/Odia is
    recognised by its marker words or left to the conversation's language (None), and
    is almost never taken for the other language."""
    from tests.nlu_heldout import load_heldout

    expected = {"hi": "hi", "hi-latn": "hi", "or": "or", "or-latn": "or"}
    right, wrong, total = {}, {}, {}
    for ex in load_heldout():
        if ex.form == "en" or ex.intent == "choose_language":
            continue
        got = detect(ex.text)
        total[ex.form] = total.get(ex.form, 0) + 1
        right[ex.form] = right.get(ex.form, 0) + (got == expected[ex.form])
        wrong[ex.form] = wrong.get(ex.form, 0) + (got not in (None, expected[ex.form]))
        if ex.form in ("hi", "or") and script_of(ex.text) == ex.form:
            assert got == ex.form, ex.text
    for form in ("hi-latn", "or-latn"):
        assert wrong[form] / total[form] <= 0.02, (form, wrong[form])
        assert right[form] / total[form] >= 0.4, (form, right[form] / total[form])

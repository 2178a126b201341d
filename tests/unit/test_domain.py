"""Every user-facing text exists in English, Hindi and Odia, in the right script."""
import json
import re
import string
from pathlib import Path

import yaml

from seva import validators

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
ODIA, DEVANAGARI = re.compile(r"[\u0b00-\u0b7f]"), re.compile(r"[\u0900-\u097f]")


def variations(name):
    out = {}
    for variation in DOMAIN["responses"][name]:
        cond = variation.get("condition") or []
        lang = cond[0]["value"] if cond else "en"
        out[lang] = variation
    return out


def placeholders(text):
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_response_in_three_languages_with_the_same_placeholders():
    for name in DOMAIN["responses"]:
        by_lang = variations(name)
        assert set(by_lang) == {"en", "hi", "or"}, name
        assert ODIA.search(by_lang["or"]["text"]), f"{name}: Odia variation is not in Odia script"
        assert DEVANAGARI.search(by_lang["hi"]["text"]), f"{name}: Hindi variation is not in Devanagari"
        assert not ODIA.search(by_lang["en"]["text"] + by_lang["hi"]["text"]), name
        expected = placeholders(by_lang["en"]["text"])
        for lang in ("hi", "or"):
            assert placeholders(by_lang[lang]["text"]) == expected, (name, lang)
            assert len(by_lang[lang].get("buttons") or []) == len(by_lang["en"].get("buttons") or []), name


def test_every_validation_error_has_a_message():
    codes = set(re.findall(r'_err\("(\w+)"', (ROOT / "seva" / "validators.py").read_text()))
    codes |= set(validators.VALIDATORS)  # type names double as error codes
    codes -= {"text", "choice_list"}
    for code in codes:
        if code in {"text"}:
            continue
        assert f"utter_invalid_{code}" in DOMAIN["responses"], code


def test_buttons_fit_whatsapp():
    for name, response in DOMAIN["responses"].items():
        for variation in response:
            buttons = variation.get("buttons") or []
            assert len(buttons) <= 3, name
            assert all(len(b["title"]) <= 20 for b in buttons), name


def test_slots_and_intents_named_in_the_design():
    for intent in ("greet goodbye affirm deny thank choose_language list_services apply_service service_info "
                   "check_status cancel human_help grievance bot_challenge out_of_scope").split():
        assert intent in DOMAIN["intents"]
    assert DOMAIN["slots"]["language"]["values"] == ["en", "hi", "or"]
    assert {"service", "application_id"} <= set(DOMAIN["slots"])


def test_payloads_survive_rasas_placeholder_interpolation():
    """Rasa formats {slot} placeholders in button payloads too: JSON there needs {{ }}."""
    from rasa.core.nlg.interpolator import interpolate_text

    from tests.unit.helpers import rendered
    for name, response in DOMAIN["responses"].items():
        for variation in response:
            for button in variation.get("buttons") or []:
                # the step in Rasa's interpolator that fails (and logs all slot values,
                # personal data included) on a bare {"entity": ...} in a payload
                re.sub(r"{([^\n{}]+?)}", r"{0[\1]}", button["payload"]).format({"language": "or"})
                payload = interpolate_text(button["payload"], {"language": "or"})
                if "{" in payload:
                    assert payload.endswith("}") and "{{" not in payload, (name, payload)
                    json.loads(payload[payload.index("{"):])
    greeting = rendered([{"response": "utter_greet"}], {"language": "or"})[0]
    assert greeting["buttons"][2]["payload"] == '/choose_language{"language":"or"}'


def test_every_refused_document_and_wrong_kind_has_its_reply():
    from actions.documents import PROBLEMS
    from seva.catalog import DOCUMENT_KINDS

    for reason in PROBLEMS:
        assert f"utter_document_refused_{reason}" in DOMAIN["responses"], reason
    for kind in DOCUMENT_KINDS:
        assert f"utter_document_wrong_kind_{kind}" in DOMAIN["responses"], kind

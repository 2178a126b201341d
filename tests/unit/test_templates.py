"""WhatsApp message templates (channels/templates.py, templates/whatsapp/*.yml): the shipped
files pass Meta's rules in every language, a broken file is refused naming file and problem,
and the Graph API body is the exact shape Meta takes."""
import json
import re
import shutil

import pytest

from channels import templates as tpl
from channels.templates import (
    DEFAULT_DIRECTORY,
    PLACEHOLDER,
    Template,
    clean_parameter,
    load_templates,
    meta_submission,
    render,
    template_message,
)
from seva.textnorm import script_of

# The caller (status notifications) relies on these names and orders.
EXPECTED = {
    "seva_status_update": ("reference", "service", "status"),
    "seva_documents_needed": ("reference", "service", "documents"),
    "seva_approved": ("reference", "service", "collect"),
    "seva_rejected": ("reference", "service", "reason", "appellate"),
    "seva_overdue": ("reference", "service", "due_date", "appellate"),
}
SHIPPED = load_templates()


def test_the_shipped_templates_load_with_the_parameters_the_caller_relies_on():
    assert {name: t.parameters for name, t in SHIPPED.items()} == EXPECTED
    assert all(t.category == "UTILITY" for t in SHIPPED.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_language_has_the_same_placeholders_buttons_and_a_body_in_its_own_script(name):
    template = SHIPPED[name]
    assert set(template.bodies) == set(template.examples) == set(template.buttons) == {"or", "hi", "en"}
    count = len(template.parameters)
    for language, body in template.bodies.items():
        assert sorted(set(map(int, PLACEHOLDER.findall(body)))) == list(range(1, count + 1)), language
        assert len(body) <= 1024 and len(template.examples[language]) == count
        assert script_of(PLACEHOLDER.sub("", body)) == language, language
        assert all(len(title) <= 20 for title in template.buttons[language])
        shown = render(template, language, dict(zip(template.parameters, template.examples[language], strict=True)))
        assert "{{" not in shown and all(value in shown for value in template.examples[language])
    assert len({len(titles) for titles in template.buttons.values()}) == 1


def test_appeals_have_a_button_and_only_the_sourced_facts():
    for name in ("seva_rejected", "seva_overdue"):
        for language, body in SHIPPED[name].bodies.items():
            assert len(SHIPPED[name].buttons[language]) == 1
            assert "30" in body and "{{4}}" in body, (name, language)
    assert SHIPPED["seva_rejected"].buttons["en"] == ("Complain or appeal",)
    for name in ("seva_status_update", "seva_documents_needed", "seva_approved"):
        assert SHIPPED[name].buttons == {"or": (), "hi": (), "en": ()}


GOOD = """name: {name}
category: UTILITY
parameters: [reference, service]
or:
  body: "ଆପଣଙ୍କ ଆବେଦନ {{{{1}}}} ({{{{2}}}}) ମଞ୍ଜୁର।"
  example: [ORT-1, ଆୟ]
  buttons: [ଠିକ]
hi:
  body: "आपका आवेदन {{{{1}}}} ({{{{2}}}}) स्वीकृत।"
  example: [ORT-1, आय]
  buttons: [ठीक]
en:
  body: "Your application {{{{1}}}} ({{{{2}}}}) is approved."
  example: [ORT-1, Income]
  buttons: [OK]
"""


def write(tmp_path, text, name="seva_test"):
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yml").write_text(text.format(name=name), encoding="utf-8")
    return folder


def test_a_good_file_loads(tmp_path):
    template = load_templates(write(tmp_path, GOOD))["seva_test"]
    assert template.parameters == ("reference", "service") and template.buttons["hi"] == ("ठीक",)
    assert template.bodies["en"] == "Your application {{1}} ({{2}}) is approved."


@pytest.mark.parametrize("change, problem", [
    (lambda t: t.replace("hi:\n  body", "xx:\n  body"), "unknown keys"),
    (lambda t: t[:t.index("hi:")] + t[t.index("en:"):], "no 'hi' section"),
    (lambda t: t.replace("आवेदन {{1}}", "आवेदन {{3}}"), "hi: placeholders"),
    (lambda t: t.replace("({{2}}) is", "({{ 2 }}) is"), "en: a placeholder that is not"),
    (lambda t: t.replace("example: [ORT-1, आय]", "example: [ORT-1]"), "hi: example must give 2 values"),
    (lambda t: t.replace("example: [ORT-1, Income]", 'example: [ORT-1, "two\\nlines"]'), "en: an example value"),
    (lambda t: t.replace("Your application {{1}}", "{{1}} is your application"), "start or end with a placeholder"),
    (lambda t: t.replace("({{2}}) is approved.", "is approved: {{2}}."), "start or end with a placeholder"),
    (lambda t: t.replace("Your application", "x" * 1024), "more than 1024"),
    (lambda t: t.replace("buttons: [OK]", "buttons: [This title is too long]"), "1-20 characters"),
    (lambda t: t.replace("category: UTILITY", "category: NEWS"), "category must be"),
    (lambda t: t.replace("  buttons: [ठीक]\n", ""), "same number of buttons"),
    (lambda t: t.replace("name: seva_test", "name: other"), "differs from the file name"),
    (lambda t: t.replace("[reference, service]", "[reference, reference]"), "distinct names"),
])
def test_a_broken_file_is_refused_naming_the_file_and_the_problem(tmp_path, change, problem):
    text = GOOD.format(name="seva_test")
    assert change(text) != text
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "seva_test.yml").write_text(change(text), encoding="utf-8")
    with pytest.raises(ValueError) as refused:
        load_templates(folder)
    assert "seva_test.yml" in str(refused.value) and problem in str(refused.value), str(refused.value)


def test_the_folder_comes_from_the_environment(tmp_path, monkeypatch):
    folder = tmp_path / "approved"
    folder.mkdir()
    shutil.copy(DEFAULT_DIRECTORY / "seva_rejected.yml", folder)
    monkeypatch.setenv("WHATSAPP_TEMPLATES_DIR", str(folder))
    assert list(load_templates()) == ["seva_rejected"]
    with pytest.raises(ValueError, match="no WhatsApp templates"):
        load_templates(tmp_path)


def test_template_message_is_the_exact_graph_api_body():
    body = template_message("919437000001", SHIPPED["seva_rejected"], "hi",
                            {"reference": "ORT-7K3M-9QXF", "service": "आय प्रमाण पत्र",
                             "reason": "पता\nअधूरा\t है", "appellate": "उप-जिलाधिकारी", "unused": "x"},
                            button_payloads=["/appeal{\"reference\":\"ORT-7K3M-9QXF\"}"])
    assert body == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "919437000001", "type": "template",
        "template": {"name": "seva_rejected", "language": {"code": "hi"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "ORT-7K3M-9QXF"},
                                            {"type": "text", "text": "आय प्रमाण पत्र"},
                                            {"type": "text", "text": "पता · अधूरा है"},
                                            {"type": "text", "text": "उप-जिलाधिकारी"}]},
            {"type": "button", "sub_type": "quick_reply", "index": "0",
             "parameters": [{"type": "payload", "payload": "/appeal{\"reference\":\"ORT-7K3M-9QXF\"}"}]}]}}
    without = template_message("1", SHIPPED["seva_status_update"], "en",
                               {"reference": "R", "service": "S", "status": "T"})
    assert [c["type"] for c in without["template"]["components"]] == ["body"]


def test_template_message_refuses_a_missing_value_an_unknown_language_and_extra_payloads():
    values = {"reference": "R", "service": "S"}
    with pytest.raises(KeyError, match="status"):
        template_message("1", SHIPPED["seva_status_update"], "en", values)
    with pytest.raises(KeyError, match="fr"):
        template_message("1", SHIPPED["seva_status_update"], "fr", {**values, "status": "T"})
    with pytest.raises(ValueError, match="1 buttons, got 2"):
        template_message("1", SHIPPED["seva_overdue"], "or", {**values, "due_date": "1", "appellate": "A"},
                         button_payloads=["a", "b"])


@pytest.mark.parametrize("raw, clean", [
    ("Aadhaar card\nRation card", "Aadhaar card · Ration card"),
    ("  line one\r\n\r\n\tline two  ", "line one · line two"),
    ("tab\there     five spaces", "tab here five spaces"),
    ("", "-"),
    (" \n\t ", "-"),
    ("ଆୟ ପ୍ରମାଣପତ୍ର", "ଆୟ ପ୍ରମାଣପତ୍ର"),
])
def test_clean_parameter_gives_what_meta_accepts(raw, clean):
    assert clean_parameter(raw) == clean
    assert not re.search(r"[\n\t]| {5,}", clean_parameter(raw))


def test_render_shows_what_the_citizen_reads():
    shown = render(SHIPPED["seva_status_update"], "en",
                   {"reference": "ORT-1", "service": "Income certificate", "status": "Approved\n(ready)"})
    assert shown.startswith("Your application has a new status.\nReference number: ORT-1\n")
    assert "New status: *Approved · (ready)*" in shown


def test_meta_submission_has_one_creation_body_per_language():
    bodies = meta_submission(SHIPPED["seva_overdue"])
    assert [b["language"] for b in bodies] == ["en", "hi", "or"]
    english = bodies[0]
    assert english["name"] == "seva_overdue" and english["category"] == "UTILITY"
    body, buttons = english["components"]
    assert body == {"type": "BODY", "text": SHIPPED["seva_overdue"].bodies["en"],
                    "example": {"body_text": [list(SHIPPED["seva_overdue"].examples["en"])]}}
    assert buttons == {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Complain or appeal"}]}
    assert [c["type"] for c in meta_submission(SHIPPED["seva_approved"])[2]["components"]] == ["BODY"]


def test_export_prints_every_template_in_every_language(capsys):
    assert tpl.main(["export"]) == 0
    bodies = json.loads(capsys.readouterr().out)
    assert sorted({(b["name"], b["language"]) for b in bodies}) == sorted(
        (name, language) for name in EXPECTED for language in ("en", "hi", "or"))


def test_export_reports_a_broken_folder(tmp_path, capsys):
    folder = write(tmp_path, GOOD.replace("category: UTILITY", "category: NEWS"))
    assert tpl.main(["export", "--dir", str(folder)]) == 1
    assert "category" in capsys.readouterr().err


def test_template_is_frozen():
    with pytest.raises(AttributeError):
        SHIPPED["seva_approved"].name = "x"
    assert isinstance(SHIPPED["seva_approved"], Template)

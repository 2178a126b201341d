"""Adding a service is data only: no code change, no retraining; every form can be completed."""
import datetime as dt
import shutil
from pathlib import Path

import pytest

from seva import catalog as catalog_module
from seva import clock
from seva.working_days import default_calendar
from tests.unit.helpers import FormDriver, texts

ROOT = Path(__file__).resolve().parents[2]

NEW_SERVICE = """\
department: test_dept
services:
  - id: bee_keeping_permit
    names:
      en: Bee-keeping permit
      hi: मधुमक्खी पालन अनुमति
      or: ମହୁମାଛି ପାଳନ ଅନୁମତି
    synonyms: [madhumakhi palan, mahumachhi palana]
    time_limit_days: 10
    designated_officer: Test Officer
    appellate_authority: Test Appellate
    revisional_authority: Test Revisional
    source:
      url: https://example.org/test-only
    vintage: "2026"
    fields:
      - use: applicant_name
      - id: hives
        type: number
        min: 1
        max: 500
        label: {en: Number of hives, hi: छत्तों की संख्या, or: ମହୁଫେଣା ସଂଖ୍ୟା}
        prompt:
          en: "How many hives?"
          hi: "कितने छत्ते?"
          or: "କେତୋଟି ମହୁଫେଣା?"
      - id: organic
        type: yes_no
        label: {en: Organic, hi: जैविक, or: ଜୈବିକ}
        prompt: {en: "Is it organic?", hi: "क्या यह जैविक है?", or: "ଏହା ଜୈବିକ କି?"}
"""


@pytest.fixture
def temp_catalog(tmp_path, monkeypatch):
    target = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", target)
    monkeypatch.setenv("SEVA_CATALOG_DIR", str(target))
    catalog_module._cached.cache_clear()
    yield target
    catalog_module._cached.cache_clear()


def test_a_new_catalog_entry_is_found_asked_and_submitted(app_db, temp_catalog):
    with (temp_catalog / "departments.yml").open("a", encoding="utf-8") as handle:
        handle.write("  - id: test_dept\n    source_name: Test\n"
                     "    names: {en: Test department, hi: परीक्षण विभाग, or: ପରୀକ୍ଷା ବିଭାଗ}\n")
    (temp_catalog / "services" / "test_dept.yml").write_text(NEW_SERVICE, encoding="utf-8")

    form = FormDriver("ମୋତେ ମହୁମାଛି ପାଳନ ଅନୁମତି ଦରକାର", "or")
    assert form.slots["service"] == "bee_keeping_permit"
    assert "ମହୁମାଛି" in texts(form.messages) and "10" in texts(form.messages)
    assert form.answer("ରମେଶ ସାହୁ") == []
    assert "କେତୋଟି ମହୁଫେଣା" in texts(form.asked)
    assert form.answer("1000") != []  # out of range: re-asked
    assert form.answer("୧୨") == []
    assert form.answer("ହଁ") == []
    form.answer("ହଁ", intent="affirm")
    form.submit()
    app = app_db.find(form.slots["application_id"], form.sender)
    assert app.service_id == "bee_keeping_permit"
    assert app.fields == {"applicant_name": "ରମେଶ ସାହୁ", "hives": 12, "organic": True}
    # counted in working days from the date in India
    assert app.due_date == default_calendar().due_date(clock.today_ist(), 10).date


def valid_answer(field, lang):
    today = clock.today_ist()
    if field.type == "date":
        day = today + dt.timedelta(days=30) if field.options.get("future_only") else today - dt.timedelta(days=400)
        return day.strftime("%d/%m/%Y")
    if field.type == "number":
        return str(int(field.options.get("min", 1)))
    if field.type == "amount":
        return str(int(max(field.options.get("min", 0), 1000)))
    if field.type == "choice":
        return field.choice_list()[0]["label"][lang]
    return {"name": {"en": "Ramesh Sahoo", "hi": "रमेश साहू", "or": "ରମେଶ ସାହୁ"}[lang],
            "text": {"en": "Ward 5, Near the temple", "hi": "वार्ड 5, मंदिर के पास", "or": "ୱାର୍ଡ 5, ମନ୍ଦିର ପାଖ"}[lang],
            "district": {"en": "Ganjam", "hi": "गंजाम", "or": "ଗଞ୍ଜାମ"}[lang],
            "yes_no": {"en": "yes", "hi": "हाँ", "or": "ହଁ"}[lang],
            "pincode": "751001", "phone": "9876543210"}[field.type]


def test_every_service_form_can_be_completed_in_every_language(app_db, catalog):
    services = [s for s in catalog.services.values() if s.fields]
    for i, service in enumerate(services):
        lang = ("en", "hi", "or")[i % 3]
        form = FormDriver(f'/apply_service{{"service":"{service.id}"}}', lang, service_entity=service.id)
        for field in service.fields:
            said = form.answer(valid_answer(field, lang))
            assert said == [], (service.id, field.id, texts(said))
        assert form.slots["requested_slot"] == "confirm_answer", service.id
        form.answer("yes", intent="affirm")
        form.submit()
        assert form.slots["application_id"], service.id
    assert len(app_db.all(limit=1000)) == len(services)


INFO_ONLY = """\
department: test_dept
services:
  - id: river_ferry_pass
    names: {en: River ferry pass, hi: नदी नौका पास, or: ନଦୀ ନୌକା ପାସ}
    synonyms: [ferry pass]
    source: {url: https://example.org/test-only}
"""


def test_an_entry_without_fields_is_information_only_and_invents_no_officer(app_db, temp_catalog):
    with (temp_catalog / "departments.yml").open("a", encoding="utf-8") as handle:
        handle.write("  - id: test_dept\n    source_name: Test\n"
                     "    names: {en: Test department, hi: परीक्षण विभाग, or: ପରୀକ୍ଷା ବିଭାଗ}\n")
    (temp_catalog / "services" / "test_dept.yml").write_text(INFO_ONLY, encoding="utf-8")
    form = FormDriver("I want a river ferry pass", "en")
    said = texts(form.messages)
    assert form.slots["service_match"] == "info" and form.slots["service"] == "river_ferry_pass"
    assert "cannot take this application in chat" in said
    assert "at the Test department office near you" in said and "Tahasildar" not in said
    assert "appeal within 30 days" in said
    assert "do not know it for this service" in said  # no time limit in the source

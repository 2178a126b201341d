"""The custom actions, run with rasa-sdk's Tracker and CollectingDispatcher."""
import datetime as dt
import re

import pytest

from actions.application_form import ValidateApplicationForm
from actions.browse import ActionListServices
from actions.grievance import ActionSubmitGrievance, ValidateGrievanceForm
from actions.language import ActionChooseLanguage
from actions.service_lookup import ActionResolveService, ActionServiceInfo
from actions.status import ActionCheckStatus
from actions.submission import ActionCancel
from seva import clock
from seva.working_days import default_calendar
from tests.unit.helpers import FormDriver, apply, make_tracker, run, texts

ODIA = re.compile(r"[\u0b00-\u0b7f]")
DEVANAGARI = re.compile(r"[\u0900-\u097f]")
INCOME_EN = ["Ramesh Sahoo", "Gopal Sahoo", "Cuttack", "60000", "education"]


def complete_income(lang="en", sender="919876543210"):
    answers = {"en": INCOME_EN,
               "or": ["ରମେଶ ସାହୁ", "ଗୋପାଳ ସାହୁ", "କଟକ", "୬୦୦୦୦", "ପାଠପଢ଼ା"],
               "hi": ["रमेश साहू", "गोपाल साहू", "कटक", "60 हज़ार", "पढ़ाई"]}[lang]
    form = FormDriver({"en": "I want an income certificate", "or": "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର",
                       "hi": "मुझे आय प्रमाण पत्र चाहिए"}[lang], lang, sender)
    for answer in answers:
        assert form.answer(answer) == [], (answer, form.asked)
    return form


@pytest.mark.parametrize("lang, script", [("or", ODIA), ("hi", DEVANAGARI)])
def test_service_card_and_questions_come_in_the_users_language(app_db, lang, script):
    form = FormDriver({"or": "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର", "hi": "मुझे आय प्रमाण पत्र चाहिए"}[lang], lang)
    said = texts(form.messages)
    assert "15" in said and script.search(said)
    assert form.slots["service"] == "income_certificate" and form.slots["service_match"] == "form"
    assert script.search(texts(form.asked)) and "(1/5)" in texts(form.asked)


def test_unknown_documents_and_officers_are_said_not_invented(app_db):
    form = FormDriver("income certificate", "en")
    said = texts(form.messages)
    assert "Tahasildar" in said and "Sub-Collector" in said
    assert "do not list them" in said  # no sourced document list


def test_form_rejects_bad_answers_with_a_reason_and_reasks(app_db):
    form = FormDriver("income certificate", "en")
    said = form.answer("12345")
    assert "does not look like a name" in texts(said)
    assert "(1/5)" in texts(form.asked)
    form.answer("Ramesh Sahoo")
    form.answer("Gopal Sahoo")
    assert "district" in texts(form.answer("Kolkata")).lower()
    assert "(3/5)" in texts(form.asked)
    form.answer("କଟକ")
    assert "rupees" in texts(form.answer("a lot")).lower()
    form.answer("1.2 lakh")
    assert form.slots["answers"]["annual_income"] == 120000
    assert [b["payload"] for b in form.asked[0]["buttons"]] == ["education", "job", "welfare_scheme", "other"]
    form.answer("2")
    assert form.slots["requested_slot"] == "confirm_answer"
    summary = texts(form.asked)
    assert "Cuttack" in summary and "₹1,20,000" in summary and "Job" in summary


def test_confirmation_submits_once(app_db):
    form = complete_income("or")
    assert ODIA.search(texts(form.asked))
    form.answer("ହଁ", intent="affirm")
    assert form.done and form.slots["confirm_answer"] is True
    slots_before = dict(form.slots)
    said, events = form.submit()
    reference = form.slots["application_id"]
    assert re.fullmatch(r"ORT-\w{4}-\w{4}", reference)
    text = texts(said)
    assert reference in text and ODIA.search(text)
    # 15 working days from today's date in India (the rule is pinned in test_store/test_working_days)
    due = default_calendar().due_date(clock.today_ist(), 15).date.strftime("%d/%m/%Y")
    assert due in text
    # a retried submit with the same tracker state returns the same application
    form.slots = slots_before
    said_again, _ = form.submit()
    assert reference in texts(said_again)
    assert len(app_db.all()) == 1
    app = app_db.find(reference, "919876543210")
    assert app.fields["district"] == "cuttack" and app.fields["annual_income"] == 60000


def test_saying_no_at_confirmation_submits_nothing(app_db):
    form = complete_income("en")
    form.answer("no", intent="deny")
    said, _ = form.submit()
    assert "not submitted anything" in texts(said)
    assert app_db.all() == []


def test_unclear_confirmation_is_asked_again(app_db):
    form = complete_income("en")
    said = form.answer("what?", intent="nlu_fallback")
    assert "yes or no" in texts(said)
    assert form.slots["requested_slot"] == "confirm_answer"


def test_cancel_leaves_the_form_without_submitting(app_db):
    form = FormDriver("income certificate", "hi")
    form.answer("रमेश साहू")
    said, events = run(ActionCancel(), make_tracker(form.slots, "cancel", "cancel", active_loop="application_form"))
    assert DEVANAGARI.search(texts(said))
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    assert apply(form.slots, events)["answers"] is None
    assert app_db.all() == []
    said, events = run(ActionCancel(), make_tracker({}, "cancel", "cancel"))
    assert "nothing to cancel" in texts(said).lower() and events == []


def test_ambiguous_and_unknown_services(app_db):
    said, events = run(ActionResolveService(), make_tracker({"language": "en"}, "caste certificate", "apply_service"))
    assert apply({}, events)["service_match"] == "choices"
    assert 2 <= len(said[0]["buttons"]) <= 3
    assert all(b["payload"].startswith('/apply_service{"service":') for b in said[0]["buttons"])
    said, events = run(ActionResolveService(), make_tracker({"language": "or"}, "pizza delivery", "apply_service"))
    assert apply({}, events)["service_match"] == "unknown"
    assert ODIA.search(texts(said)) and "pizza delivery" in texts(said)


def test_a_tapped_button_names_the_service_exactly(app_db):
    form = FormDriver('/apply_service{"service":"driving_licence"}', "en", service_entity="driving_licence")
    assert form.slots["service"] == "driving_licence"
    assert "after passing" in texts(form.messages).lower()  # the source's own words for the limit


def test_service_info_offers_an_apply_button(app_db):
    tracker = make_tracker({"language": "hi"}, "income certificate ke liye kya chahiye", "service_info")
    said, events = run(ActionServiceInfo(), tracker)
    assert said[0]["buttons"][0]["payload"] == '/apply_service{"service":"income_certificate"}'
    assert DEVANAGARI.search(said[0]["buttons"][0]["title"])


def _browse_pages(lang, entities=()):
    """Every page of one browsing level, following the "More…" row, as WhatsApp bodies."""
    from channels.whatsapp_outbound import buttons_message

    page, pages = 0, []
    while True:
        said, _ = run(ActionListServices(), make_tracker(
            {"language": lang}, "", "list_services", [*entities, {"entity": "page", "value": str(page)}]))
        assert len(said) == 1
        out = buttons_message("919876543210", said[0]["text"], said[0]["buttons"])
        pages.append((said[0], out))
        if not any('"page"' in b["payload"] for b in said[0]["buttons"]):
            return pages
        page += 1
        assert page < 100, "the More row never ends"


def _check_list_page(outbound, lang):
    """One interactive message within Meta's limits, its rows told apart, in the user's script.

    Up to 3 choices go out as reply buttons (title ≤ 20), more as a list (≤ 10 rows, title
    ≤ 24, description ≤ 72); a shortened title keeps its full text in the description or body.
    """
    assert not outbound.menu, "a page fell back to a numbered menu"
    interactive = [b["interactive"] for b in outbound.bodies if b.get("type") == "interactive"]
    assert len(interactive) == 1
    message = interactive[0]
    if message["type"] == "list":
        rows = message["action"]["sections"][0]["rows"]
        assert 1 <= len(rows) <= 10
        for row in rows:
            assert len(row["title"]) <= 24 and len(row.get("description", "")) <= 72 and len(row["id"]) <= 200
        shown = [(row["title"], row.get("description", "")) for row in rows]
        titles = [row["title"] for row in rows]
    else:
        assert message["type"] == "button"
        buttons = [b["reply"] for b in message["action"]["buttons"]]
        assert 1 <= len(buttons) <= 3
        assert all(len(b["title"]) <= 20 and len(b["id"]) <= 256 for b in buttons)
        titles = [b["title"] for b in buttons]
        shown = titles
    assert len(set(shown)) == len(shown), f"two rows read the same: {shown}"
    if lang != "en":
        script = DEVANAGARI if lang == "hi" else ODIA
        assert all(script.search(title) for title in titles), titles


@pytest.mark.parametrize("lang", ["en", "hi", "or"])
def test_browsing_respects_whatsapp_list_limits(catalog, lang):
    """Every department and every service is reachable, page by page, within list limits."""
    departments = []
    for said, outbound in _browse_pages(lang):
        _check_list_page(outbound, lang)
        departments += [b["payload"] for b in said["buttons"] if '"department"' in b["payload"]
                        and '"page"' not in b["payload"]]
    assert len(departments) == len(set(departments)) == len(catalog.departments_in_use())
    seen = []
    for dept in catalog.departments_in_use():
        for said, outbound in _browse_pages(lang, [{"entity": "department", "value": dept.id}]):
            _check_list_page(outbound, lang)
            seen += [b["payload"] for b in said["buttons"] if b["payload"].startswith("/service_info")]
    assert len(seen) == len(set(seen)) == len(catalog.services)


def test_status_is_only_shown_to_the_sender(app_db):
    form = complete_income("en", sender="919000000001")
    form.answer("yes", intent="affirm")
    form.submit()
    reference = form.slots["application_id"]
    mine, _ = run(ActionCheckStatus(), make_tracker({"language": "en"}, f"status of {reference}", "check_status",
                                                    sender="919000000001"))
    text = texts(mine)
    # submitted today: the count of working days starts tomorrow
    assert reference in text and "15 working days" in text.lower() and "starts on the next working day" in text
    theirs, events = run(ActionCheckStatus(), make_tracker({"language": "en"}, f"status of {reference}",
                                                           "check_status", sender="919000000002"))
    assert "could not find" in texts(theirs) and "Income" not in texts(theirs) and events == []
    nothing, _ = run(ActionCheckStatus(), make_tracker({"language": "or"}, "my application status", "check_status",
                                                       sender="919000000002"))
    assert ODIA.search(texts(nothing))


def test_overdue_status_names_the_appellate_authority(app_db):
    app = app_db.submit(sender_id="919000000003", draft_id="x", service_id="income_certificate", language="en",
                        fields={}, time_limit_days=15, now=dt.datetime.now() - dt.timedelta(days=40))
    said, _ = run(ActionCheckStatus(), make_tracker({"language": "en"}, "my application status", "check_status",
                                                    sender="919000000003"))
    text = texts(said)
    assert app.reference in text and "Sub-Collector" in text and "appeal" in text.lower() and "30 days" in text


def test_officer_status_change_and_note_reach_the_citizen(app_db):
    app = app_db.submit(sender_id="919000000004", draft_id="y", service_id="income_certificate", language="hi",
                        fields={}, time_limit_days=15)
    app_db.set_status(app.reference, "rejected", "Income proof missing")
    said, _ = run(ActionCheckStatus(), make_tracker({"language": "hi"}, app.reference, "check_status",
                                                    sender="919000000004"))
    text = texts(said)
    assert "अस्वीकृत" in text and "Income proof missing" in text and "अपील" in text


def test_grievance_against_own_application_only(app_db):
    app = app_db.submit(sender_id="919000000005", draft_id="z", service_id="income_certificate", language="en",
                        fields={}, time_limit_days=15)
    app_db.submit(sender_id="919000000006", draft_id="w", service_id="residence_certificate", language="en",
                  fields={}, time_limit_days=15)
    slots = {"language": "en"}
    form = ValidateGrievanceForm()
    # another sender (who has applications of their own) cannot file against it
    slots_other = dict(slots, requested_slot="grievance_reference", grievance_reference=app.reference)
    said, events = run(form, make_tracker(slots_other, app.reference, "inform", sender="919000000006",
                                          active_loop="grievance_form", just_set=["grievance_reference"]))
    assert apply(slots_other, events)["grievance_reference"] is None
    # the owner names it inside the complaint: the reference is taken from the text
    said, events = run(form, make_tracker(slots, f"complaint about {app.reference}, no reply", "grievance",
                                          sender="919000000005", active_loop="grievance_form"))
    filled = apply(slots, events)
    assert filled["grievance_reference"] == app.reference
    filled.update(grievance_details="No reply after the time limit", requested_slot=None)
    said, events = run(ActionSubmitGrievance(), make_tracker(filled, "", None, sender="919000000005"))
    assert re.search(r"GRV-\w{4}-\w{4}", texts(said))
    assert len(app_db.grievances_for(app.reference, "919000000005")) == 1


def test_grievance_without_applications_explains(app_db):
    said, _ = run(ActionSubmitGrievance(), make_tracker({"language": "or"}, "", None, sender="919000000007"))
    assert ODIA.search(texts(said)) and "0674" in texts(said)


def test_choose_language_confirms_or_asks(app_db):
    said, _ = run(ActionChooseLanguage(), make_tracker({"language": "or"}, "odia", "choose_language",
                                                       [{"entity": "language", "value": "or"}]))
    assert ODIA.search(texts(said))
    said, _ = run(ActionChooseLanguage(), make_tracker({"language": "hi"}, "change language", "choose_language"))
    assert len(said[0]["buttons"]) == 3


def test_language_switch_mid_form_keeps_answers_and_asks_in_the_new_language(app_db):
    form = FormDriver("income certificate", "en")
    form.answer("Ramesh Sahoo")
    form.slots["language"] = "or"
    form._next()
    assert "(2/5)" in texts(form.asked) and ODIA.search(texts(form.asked))
    assert form.slots["answers"] == {"applicant_name": "Ramesh Sahoo"}


def test_required_slots_follow_the_catalog(app_db):
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    from tests.unit.helpers import DOMAIN

    validator = ValidateApplicationForm()
    def required(slots):
        return asyncio.run(validator.required_slots([], CollectingDispatcher(), make_tracker(slots), DOMAIN))
    assert required({"service": None}) == []
    assert required({"service": "income_certificate", "answers": {}}) == ["field_answer"]
    full = {f: 1 for f in ["applicant_name", "father_name", "district", "annual_income", "purpose"]}
    assert required({"service": "income_certificate", "answers": full}) == ["confirm_answer"]

"""A citizen in the middle of the application form never gets stuck (actions/form_help.py).

Refused twice → the closest choices or the format, and a way out; a request mid-form is
not taken as the answer; an edit of the last answer replaces it.
"""

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.application_form import ActionAskFieldAnswer, ValidateApplicationForm
from actions.form_switch import ActionSwitchForm
from seva import messages
from seva.catalog import default_catalog
from tests.unit.helpers import DOMAIN, FormDriver, apply, make_tracker, rendered, run, say

INCOME = {"applicant_name": "Ramesh Sahoo", "father_name": "Hari Sahoo"}  # next: district


def answer(text, lang="en", answers=None, intent="inform", confidence=1.0, slots=None, metadata=None,
           service="income_certificate", slot="field_answer", entities=()):
    """Validate one message as the answer to the open question; (slots set, what was said)."""
    values = {"language": lang, "service": service, "answers": dict(INCOME if answers is None else answers),
              "requested_slot": slot, **(slots or {}), slot: text}  # as the form's from_text mapping sets it
    tracker = make_tracker(values, text=text, intent=intent, entities=entities, active_loop="application_form")
    tracker.latest_message["intent"]["confidence"] = confidence
    tracker.latest_message["metadata"] = metadata or {}
    dispatcher = CollectingDispatcher()
    validate = getattr(ValidateApplicationForm(), f"validate_{slot}")
    result = validate(text, dispatcher, tracker, DOMAIN)
    return apply(values, [{"event": "slot", "name": k, "value": v} for k, v in result.items()]), \
        rendered(dispatcher.messages, values)


def ask(slots):
    said, _ = run(ActionAskFieldAnswer(), make_tracker(slots, active_loop="application_form"))
    assert len(said) == 1
    return said[0]


# ------------------------------------------------------------------ stuck question
@pytest.mark.parametrize("lang", ["en", "hi", "or"])
def test_two_refused_districts_bring_the_closest_districts_and_a_way_out(lang):
    slots, said = answer("zzz qqq", lang)
    assert "district" not in slots["answers"] and said[0]["response"] == "utter_invalid_district"
    first = ask(slots)
    assert not any(b["payload"] == "/cancel" for b in first["buttons"]), "one refusal is not yet stuck"
    slots, said = answer("Kottac", lang, slots=slots)
    assert slots["field_failures"]["count"] >= 2
    question = ask(slots)
    assert question["text"].startswith("(3/5)") and say("utter_field_stuck_choices", lang, question="")[1:] \
        in question["text"]
    rows = question["buttons"]
    assert len(rows) <= 10, "a WhatsApp list holds 10 rows"
    payloads = [b["payload"] for b in rows]
    assert payloads[0] == "cuttack", "the district most like the refused answer comes first"
    assert payloads[-2:] == ["/cancel", "/human_help"]
    catalog = default_catalog()
    assert rows[0]["title"] == catalog.districts["cuttack"].name(lang)
    assert rows[-2]["title"] == messages.text("cancel_button", lang)
    assert any(p.startswith("/inform") and '"page":"1"' in p for p in payloads), "more districts on the next page"


def test_the_more_row_pages_through_every_district_without_counting_as_a_refusal():
    failures = {"field": "district", "count": 2, "last": "Katak", "message_id": None}
    slots = {"language": "or", "service": "income_certificate", "answers": dict(INCOME),
             "field_failures": failures, "requested_slot": "field_answer"}
    seen = []
    for page in range(5):
        slots["field_page"] = page
        rows = ask(slots)["buttons"]
        seen.extend(b["payload"] for b in rows if not b["payload"].startswith("/"))
    assert set(default_catalog().districts) <= set(seen)
    tapped, _ = answer('/inform{"page":"1"}', "or", intent="inform", slots={"field_failures": failures},
                       entities=[{"entity": "page", "value": "1"}])
    assert tapped["field_page"] == 1 and tapped["field_failures"] == failures  # not one more refusal


@pytest.mark.parametrize("lang", ["en", "hi", "or"])
def test_a_twice_refused_date_shows_its_format_with_an_example(lang):
    birth = {"child_name": "Mina"}
    slots, _ = answer("last monsoon", lang, answers=birth, service="birth_certificate")
    slots, _ = answer("after diwali", lang, answers=birth, service="birth_certificate", slots=slots)
    question = ask(slots)
    assert "15/08/1990" in question["text"] and question["text"].startswith("(2/6)")
    assert say("utter_field_stuck_format", lang, question="Q", example="E").split("E")[-1].strip() \
        in question["text"]
    assert [b["payload"] for b in question["buttons"]] == ["/cancel", "/human_help"]


def test_an_accepted_answer_clears_the_refusals():
    slots, _ = answer("zzz", slots={"field_failures": {"field": "district", "count": 3, "last": "zzz"}})
    assert slots["field_failures"]["count"] == 4
    slots, _ = answer("Puri", slots=slots)
    assert slots["answers"]["district"] == "puri" and slots["field_failures"] is None


# ------------------------------------------------------------------ a request mid-form
@pytest.mark.parametrize("lang, hello", [("en", "hello"), ("hi", "नमस्ते"), ("or", "ନମସ୍କାର")])
def test_hello_mid_form_is_not_taken_as_a_name(lang, hello):
    slots, said = answer(hello, lang, answers={}, intent="greet", confidence=0.97)
    assert "applicant_name" not in slots["answers"] and slots["field_answer"] is None  # the question stays open
    assert slots["pending_request"]["intent"] == "greet"
    assert [m["response"] for m in said] == ["utter_offer_switch"]
    assert [b["payload"] for b in said[0]["buttons"]] == ["/resume_form", "/switch_form"]
    assert default_catalog().get("income_certificate").name(lang) in said[0]["text"]


def test_an_unsure_greeting_is_still_an_answer():
    slots, said = answer("Namita", "en", answers={}, intent="greet", confidence=0.4)
    assert slots["answers"]["applicant_name"] == "Namita" and said == []


def test_naming_another_service_offers_the_switch_and_the_same_one_does_not():
    slots, said = answer("I want an SC certificate", intent="apply_service", confidence=0.95)
    assert slots["pending_request"]["entities"]["service"] == "sc_certificate"
    assert said[0]["response"] == "utter_offer_switch"
    same, said = answer("income certificate", intent="apply_service", confidence=0.95)
    assert "pending_request" not in same or same["pending_request"] is None
    assert said and said[0]["response"] == "utter_invalid_district"


def test_status_at_the_confirmation_offers_the_switch():
    full = {**INCOME, "district": "puri", "annual_income": 50000, "purpose": "education"}
    slots, said = answer("status of my application", answers=full, intent="check_status", confidence=0.9,
                         slot="confirm_answer")
    assert slots["confirm_answer"] is None and said[0]["response"] == "utter_offer_switch"


def test_continue_after_the_offer_asks_the_same_question_again_and_takes_the_next_message():
    slots, said = answer("/resume_form", intent="resume_form", answers={},
                         slots={"pending_request": {"intent": "greet"}})
    assert said == [] and slots["pending_request"] == {"declined": "applicant_name"} and slots["answers"] == {}
    # the same words again are now the answer, not a request (no offer loop)
    slots, said = answer("Seva Sadan", answers={}, intent="greet", confidence=0.95, slots=slots)
    assert slots["answers"]["applicant_name"] == "Seva Sadan" and said == []


def test_leaving_the_form_does_what_was_asked():
    slots = {"language": "hi", "service": "income_certificate", "answers": dict(INCOME),
             "requested_slot": "field_answer", "draft_id": "d1",
             "pending_request": {"intent": "apply_service", "entities": {"service": "sc_certificate"},
                                 "text": "SC certificate"}}
    said, events = run(ActionSwitchForm(), make_tracker(slots, "/switch_form", "switch_form",
                                                        active_loop="application_form"))
    kinds = [(e["event"], e.get("name")) for e in events]
    assert ("active_loop", None) in kinds
    after = apply(slots, events)
    assert after["service"] == "sc_certificate" and after["answers"] == {}
    assert events[-1] == {"event": "followup", "name": "application_form", "timestamp": None}
    assert default_catalog().get("sc_certificate").name("hi") in said[0]["text"]


def test_leaving_the_form_for_a_greeting_shows_the_menu():
    slots = {"language": "or", "pending_request": {"intent": "greet", "entities": {}, "text": "hi"}}
    said, events = run(ActionSwitchForm(), make_tracker(slots, "/switch_form", "switch_form",
                                                        active_loop="application_form"))
    assert said[0]["text"] == say("utter_how_can_help", "or")
    assert apply(slots, events)["pending_request"] is None


# ------------------------------------------------------------------ edits
def test_an_edit_of_the_last_answer_replaces_it():
    slots, _ = answer("Puri", metadata={"whatsapp": {"message_id": "wamid.A"}})
    assert slots["last_answer"] == {"field": "district", "message_id": "wamid.A"}
    edited, said = answer("Cuttack", answers=slots["answers"], slots={"last_answer": slots["last_answer"]},
                          metadata={"whatsapp": {"message_id": "wamid.B", "type": "edit", "edit_of": "wamid.A"}})
    assert edited["answers"]["district"] == "cuttack" and "annual_income" not in edited["answers"]
    assert said[0]["response"] == "utter_answer_edited" and "Cuttack" in said[0]["text"]


def test_an_edit_of_an_older_message_is_explained_not_taken():
    last = {"field": "father_name", "message_id": "wamid.F"}
    slots, said = answer("Sambalpur", slots={"last_answer": last},
                         metadata={"whatsapp": {"message_id": "wamid.X", "type": "edit", "edit_of": "wamid.OLD"}})
    assert "district" not in slots["answers"] and slots["answers"]["father_name"] == "Hari Sahoo"
    assert [m["response"] for m in said] == ["utter_edit_not_used"]


def test_an_edit_of_a_refused_answer_is_a_new_answer():
    failures = {"field": "district", "count": 1, "last": "Puuri", "message_id": "wamid.R"}
    slots, said = answer("Puri", slots={"field_failures": failures},
                         metadata={"whatsapp": {"message_id": "wamid.S", "type": "edit", "edit_of": "wamid.R"}})
    assert slots["answers"]["district"] == "puri" and said == []


def test_cancel_and_office_rows_reach_rasa_as_their_intents():
    """The way-out rows are intents the form does not take as answers (rules handle them)."""
    mapping = DOMAIN["slots"]["field_answer"]["mappings"][0]
    assert "cancel" in mapping["not_intent"] and "switch_form" in mapping["not_intent"]
    slots, said = answer("/human_help", intent="human_help")
    assert said[0]["text"] == say("utter_human_help", "en") and "district" not in slots["answers"]


def test_a_name_the_nlu_takes_for_a_greeting_is_the_answer_and_a_real_greeting_is_not():
    """Names are open-ended and DIET sometimes calls one a greeting ("रामलाल" → greet, 1.0):
    only a message holding a greeting word interrupts a name question."""
    form = FormDriver("मुझे आय प्रमाण पत्र चाहिए", "hi")
    assert form.answer("सुनीता देवी") == []
    said = form.answer("नमस्ते", intent="greet")  # a greeting: the form offers to switch
    assert said and form.slots["answers"] == {"applicant_name": "सुनीता देवी"}
    assert form.answer("रामलाल", intent="greet") == []  # a name: taken
    assert form.slots["answers"]["father_name"] == "रामलाल"

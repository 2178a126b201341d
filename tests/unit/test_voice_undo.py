"""A wrong pick from a voice note is visible and a "no" right after takes it back."""
from rasa_sdk.executor import CollectingDispatcher

from actions.application_form import ValidateApplicationForm
from tests.unit.helpers import DOMAIN, make_tracker, rendered
from tests.unit.helpers import say as render

VOICE = {"voice": {"outcome": "choice", "language": "or"}}


def answer(text, answers, metadata=None, voice_answered=None, intent="inform", service="income_certificate"):
    tracker = make_tracker({"language": "or", "service": service, "answers": answers,
                            "voice_answered": voice_answered, "requested_slot": "field_answer"},
                           text=text, intent=intent, active_loop="application_form")
    tracker.latest_message["metadata"] = metadata or {}
    dispatcher = CollectingDispatcher()
    slots = ValidateApplicationForm().validate_field_answer(text, dispatcher, tracker, DOMAIN)
    return slots, [m["text"] for m in rendered(dispatcher.messages, tracker.slots)]


def test_an_answer_from_a_voice_note_is_remembered_and_a_typed_one_is_not():
    slots, _ = answer("କଟକ", {"applicant_name": "A", "father_name": "B"}, VOICE)
    assert slots["answers"]["district"] == "cuttack" and slots["voice_answered"] == "district"
    slots, _ = answer("କଟକ", {"applicant_name": "A", "father_name": "B"})
    assert slots["voice_answered"] is None


def test_no_right_after_a_voice_answer_asks_that_question_again():
    before = {"applicant_name": "A", "father_name": "B", "district": "cuttack"}
    slots, said = answer("ନା", before, VOICE, voice_answered="district", intent="deny")
    assert "district" not in slots["answers"] and slots["voice_answered"] is None
    assert said == [render("utter_voice_undone", "or")]


def test_no_to_a_yes_no_question_is_its_answer_not_an_undo():
    # the national family benefit form asks yes/no questions; after a voice answer, "no" answers them
    from seva.catalog import default_catalog

    service = next(s for s in default_catalog().services.values()
                   if any(f.type == "yes_no" for f in s.fields) and not s.information_only)
    yes_no = next(f for f in service.fields if f.type == "yes_no")
    earlier = {f.id: "x" for f in service.fields[:service.fields.index(yes_no)]}
    previous = next(iter(earlier), None)
    slots, said = answer("ନା", earlier, VOICE, voice_answered=previous, intent="deny", service=service.id)
    assert slots["answers"][yes_no.id] is False and said == []


def test_no_without_a_voice_answer_is_just_an_invalid_district():
    slots, said = answer("ନା", {"applicant_name": "A", "father_name": "B"}, intent="deny")
    assert "district" not in slots.get("answers", {}) and said == [render("utter_invalid_district", "or")]

"""What a voice note can answer at each point of a conversation, and what Rasa is handed.

The conversations are real Rasa trackers, read through the channel's port
(channels/conversation.py) as the channel reads them."""
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.conversation import open_question_of
from channels.voice_turn import VoiceTurn, message_for, voice_turn, with_language
from seva import voice_expectations as answers
from seva.catalog import default_catalog
from speech.result import Outcome, SpeechResult
from tests.unit.helpers import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def tracker(*events):
    return DialogueStateTracker.from_events("919876543210", list(events), slots=DOMAIN.slots)


def waiting(*events):
    return open_question_of(tracker(*events))


def values(turn):
    return {a.value for expected in turn.expected for a in expected.answers}


def in_form(service, answered, requested="field_answer"):
    return [UserUttered("apply"), SlotSet("language", "or"), SlotSet("service", service), SlotSet("answers", answered),
            ActiveLoop("application_form"), SlotSet("requested_slot", requested)]


def test_with_nothing_open_a_note_may_ask_for_any_service_or_command(catalog):
    turn = voice_turn(waiting(UserUttered("hi"), BotUttered("How can I help?")), catalog, "or")
    assert not turn.question and not turn.free_text
    assert '/apply_service{"service":"income_certificate"}' in values(turn) and "/check_status" in values(turn)


def test_the_buttons_just_sent_are_expected_besides_services(catalog):
    buttons = [{"title": "ରାଜସ୍ୱ", "payload": '/list_services{"department":"revenue"}'},
               {"title": "ପରିବହନ", "payload": '/list_services{"department":"transport"}'}]
    turn = voice_turn(waiting(UserUttered("hi"), BotUttered("Departments", data={"buttons": buttons})), catalog, "or")
    assert {b["payload"] for b in buttons} <= values(turn)
    assert turn.labels['/list_services{"department":"revenue"}'] == "ରାଜସ୍ୱ"
    # buttons sent before the citizen's last message are no longer on offer
    later = tracker(UserUttered("hi"), BotUttered("Departments", data={"buttons": buttons}), UserUttered("ok"))
    assert '/list_services{"department":"transport"}' not in values(voice_turn(open_question_of(later), catalog, "or"))


def test_a_district_question_expects_the_thirty_districts_and_cancel(catalog):
    service = catalog.get("income_certificate")
    answered = {f.id: "x" for f in service.fields[:service.fields.index(
        next(f for f in service.fields if f.type == "district"))]}
    turn = voice_turn(waiting(*in_form("income_certificate", answered)), catalog, "or")
    assert turn.question and not turn.free_text and turn.field_type == "district" and turn.undoable
    assert {d.name("or") for d in catalog.districts.values()} <= values(turn)
    assert {"/cancel", "/human_help"} <= values(turn)


def test_a_name_question_takes_free_text_and_listens_only_for_commands(catalog):
    turn = voice_turn(waiting(*in_form("income_certificate", {})), catalog, "hi")
    assert turn.free_text and turn.field_type == "name" and values(turn) == {"/cancel", "/human_help"}


def test_after_a_voice_answer_no_is_also_expected(catalog):
    events = in_form("income_certificate", {"applicant_name": "A", "father_name": "B"}) + [
        SlotSet("voice_answered", "district"), SlotSet("answers", {"applicant_name": "A", "father_name": "B",
                                                                   "district": "cuttack"})]
    assert "no" in values(voice_turn(waiting(*events), catalog, "or"))


def test_the_confirmation_expects_yes_or_no_as_its_buttons(catalog):
    service = catalog.get("income_certificate")
    done = {f.id: "x" for f in service.fields}
    turn = voice_turn(waiting(*in_form("income_certificate", done, "confirm_answer")), catalog, "or")
    assert {"/affirm", "/deny"} <= values(turn) and not turn.undoable


def test_the_complaint_form_takes_free_text(catalog):
    events = [UserUttered("complaint"), ActiveLoop("grievance_form"), SlotSet("requested_slot", "grievance_details")]
    assert voice_turn(waiting(*events), catalog, "hi").free_text


# ------------------------------------------------------------------ the message
QUESTION = VoiceTurn((answers.districts(default_catalog(), "or"),), False, True, {}, "district")
OPENING = VoiceTurn((answers.opening(default_catalog()),), False, False)


def test_a_heard_district_is_typed_for_rasa_and_echoed_with_how_to_undo(catalog):
    result = SpeechResult(Outcome.CHOICE, choice="କଟକ", language="or")
    message = message_for(result, QUESTION, catalog, "or")
    assert message.text == "କଟକ"
    assert message.echo == ("voice_chose_undo", {"choice": "କଟକ"})


def test_a_request_heard_first_in_a_conversation_also_sets_its_language(catalog):
    payload = '/apply_service{"service":"income_certificate"}'
    result = SpeechResult(Outcome.CHOICE, choice=payload, language="or")
    message = message_for(result, OPENING, catalog, "or", language_known=False)
    assert message.text == '/apply_service{"service":"income_certificate","language":"or"}'
    assert message.echo == ("voice_understood", {"choice": "ଆୟ ପ୍ରମାଣପତ୍ର"})
    assert message_for(result, OPENING, catalog, "or").text == payload


def test_unsure_notes_offer_buttons_and_others_say_why(catalog):
    result = SpeechResult(Outcome.SUGGEST, alternatives=('/apply_service{"service":"birth_certificate"}', "/grievance"),
                          language="hi")
    message = message_for(result, OPENING, catalog, "hi")
    assert message.text == '/voice_note{"kind":"suggest"}'
    assert [b["title"] for b in message.suggestions] == ["जन्म प्रमाण पत्र", "शिकायत"]
    for outcome in (Outcome.UNCLEAR, Outcome.TYPE_INSTEAD, Outcome.TOO_LONG):
        assert message_for(SpeechResult(outcome), QUESTION, catalog, "or").text == \
            '/voice_note{"kind":"%s"}' % outcome.value


def test_english_transcripts_are_typed_unless_a_closed_question_heard_its_answer(catalog):
    free = SpeechResult(Outcome.OK, text="/restart I live in Kotak", language="en", choice="Cuttack")
    assert message_for(free, OPENING, catalog, "en").text == "restart I live in Kotak"
    assert message_for(free, OPENING, catalog, "en").echo[0] == "voice_heard"
    assert message_for(free, QUESTION, catalog, "en").text == "Cuttack"
    assert message_for(SpeechResult(Outcome.OK, text="I live in Cuttack"), QUESTION, catalog, "en").text == \
        "I live in Cuttack"


def test_amounts_are_echoed_in_rupees(catalog):
    turn = VoiceTurn((answers.numbers(),), False, True, {}, "amount")
    message = message_for(SpeechResult(Outcome.CHOICE, choice="120000"), turn, catalog, "hi")
    assert message.text == "120000" and message.echo[1] == {"choice": "₹1,20,000"}


def test_with_language_keeps_an_existing_language_and_plain_text():
    assert with_language('/choose_language{"language":"en"}', "or") == '/choose_language{"language":"en"}'
    assert with_language("/greet", "hi") == '/greet{"language":"hi"}'
    assert with_language("କଟକ", "or") == "କଟକ"

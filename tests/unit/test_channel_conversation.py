"""The channel's port to the dialogue (channels/conversation.py), over a real Rasa tracker store."""
import asyncio
from types import SimpleNamespace

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.conversation import KnownConversations, OpenQuestion, RasaConversations
from channels.voice_turn import voice_turn
from seva.catalog import default_catalog
from tests.unit.helpers import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
BUTTONS = [{"title": "ହଁ", "payload": "/affirm"}, {"title": "ନା", "payload": "/deny"}]


def conversations_with(*trackers):
    store = InMemoryTrackerStore(DOMAIN)
    for sender, events in trackers:
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)))
    agent = SimpleNamespace(tracker_store=store)
    return RasaConversations(lambda: agent)


def test_the_rasa_port_reads_language_and_the_open_form_question():
    port = conversations_with(("911", [
        UserUttered("apply"), SlotSet("language", "or"), SlotSet("service", "income_certificate"),
        SlotSet("answers", {"applicant_name": "Rama"}), ActiveLoop("application_form"),
        SlotSet("requested_slot", "field_answer"), SlotSet("voice_answered", "applicant_name"),
        BotUttered("Is it right?", data={"buttons": BUTTONS})]))
    assert asyncio.run(port.language("911")) == "or"
    assert asyncio.run(port.open_question("911")) == OpenQuestion(
        language="or", form="application_form", requested="field_answer", service="income_certificate",
        answers={"applicant_name": "Rama"}, voice_answered=True, buttons=tuple(BUTTONS))


def test_buttons_answered_since_are_no_longer_open_and_odd_languages_are_none():
    port = conversations_with(("912", [SlotSet("language", "fr"), BotUttered("Pick", data={"buttons": BUTTONS}),
                                       UserUttered("ok")]))
    assert asyncio.run(port.language("912")) is None
    assert asyncio.run(port.open_question("912")) == OpenQuestion()


def test_an_unknown_sender_or_no_agent_yet_is_a_new_conversation():
    assert asyncio.run(conversations_with().open_question("913")) == OpenQuestion()
    assert asyncio.run(conversations_with().language("913")) is None
    before_start = RasaConversations(lambda: None)
    assert asyncio.run(before_start.language("913")) is None
    assert asyncio.run(before_start.open_question("913")) == OpenQuestion()


def test_a_new_conversation_expects_an_opening_request_by_voice():
    turn = voice_turn(OpenQuestion(), default_catalog(), "hi")
    assert not turn.question and not turn.free_text
    assert '/apply_service{"service":"birth_certificate"}' in {a.value for e in turn.expected for a in e.answers}


def test_the_fake_port_answers_what_it_was_given():
    port = KnownConversations({"914": OpenQuestion(language="hi")})
    assert asyncio.run(port.language("914")) == "hi" and asyncio.run(port.language("915")) is None
    assert asyncio.run(port.open_question("915")) == OpenQuestion()


def test_only_the_port_touches_rasas_conversations_and_no_channel_module_renders_domain_texts():
    for path in sorted((ROOT / "channels").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "seva.texts" not in source and "import texts" not in source, path.name
        if path.name != "conversation.py":
            assert "tracker_store" not in source and "get_slot" not in source, path.name

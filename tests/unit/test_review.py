"""The designers' review page (review/): conversations read from Rasa's events, findings,
funnels, the page's privacy, the two edits (NLU example, test story) and the server behind them.

Conversations are hand-built lists of Rasa event dicts, in the order a real `rasa run` with
the action server writes them (``Chat`` below): the slot extracted from a form answer right
after the user event, an action's bot messages and slots after its ``action`` event, a
completed form setting ``requested_slot`` to null before its ``active_loop`` null.
Edits run on a copy of the project; `rasa data validate` (about 6 s) runs for real twice.
"""
from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
import yaml

from actions.common import FORM_SLOTS, GRIEVANCE_SLOTS
from review import edits
from review.conversations import (
    Conversation,
    FormSession,
    attach_store_facts,
    conversation_id,
    language_form,
    mask_phones,
    parse_conversation,
)
from review.edits import EditRefused, save_example, save_story, story_events
from review.findings import IDLE_SECONDS, LOW_CONFIDENCE, findings
from review.funnel import funnels
from review.page import render
from review.server import ReviewSite
from seva.catalog import default_catalog

ROOT = Path(__file__).resolve().parents[2]
CATALOG = default_catalog()
SERVICE = "income_certificate"
FIELDS = [f.id for f in CATALOG.get(SERVICE).fields]
START = 1_750_000_000.0
NAME = "Ramesh Sahu"  # a form answer: hidden on the page, never in a story
ODIA_NAME = "ରମେଶ ସାହୁ"
SENDER = "919437000001"


# ---------------------------------------------------------------- building conversations
class Chat:
    """A conversation's Rasa event dicts, as the tracker store keeps them (one second apart)."""

    def __init__(self, start: float = START):
        self.time = start
        self.events: List[Dict[str, Any]] = []
        self.answers: Dict[str, Any] = {}

    def add(self, event: str, **fields: Any) -> "Chat":
        self.time += 1.0
        self.events.append({"event": event, "timestamp": self.time, **fields})
        return self

    def session(self) -> "Chat":
        self.action("action_session_start")
        self.add("session_started")
        return self.listen()

    def user(self, text: str, intent: str, confidence: float = 0.95, ranking: Sequence[Tuple[str, float]] = (),
             entities: Sequence[Dict[str, Any]] = (), metadata: Optional[Dict[str, Any]] = None) -> "Chat":
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": list(entities), "text": text,
                 "message_id": f"wamid.{len(self.events)}", "metadata": metadata or {},
                 "intent_ranking": [{"name": intent, "confidence": confidence},
                                    *({"name": n, "confidence": c} for n, c in ranking)]}
        return self.add("user", text=text, parse_data=parse, metadata=metadata or {}, input_channel="whatsapp",
                        message_id=f"wamid.{len(self.events)}")

    def bot(self, text: str, response: Optional[str] = None) -> "Chat":
        return self.add("bot", text=text, data={}, metadata={"utter_action": response} if response else {})

    def action(self, name: str) -> "Chat":
        return self.add("action", name=name, policy="policy_1_RulePolicy", confidence=1.0, action_text=None,
                        hide_rule_turn=False)

    def listen(self) -> "Chat":
        return self.action("action_listen")

    def slot(self, name: str, value: Any) -> "Chat":
        return self.add("slot", name=name, value=value)

    def slots(self, **values: Any) -> "Chat":
        for name, value in values.items():
            self.slot(name, value)
        return self

    def loop(self, name: Optional[str]) -> "Chat":
        return self.add("active_loop", name=name)

    # -- the application form, as the rules and actions/application_form.py run it
    def _ask_next(self) -> None:
        missing = [f for f in FIELDS if f not in self.answers]
        if missing:
            self.slot("requested_slot", "field_answer")
            self.bot(f"({FIELDS.index(missing[0]) + 1}/{len(FIELDS)}) {missing[0]}?")
        else:
            self.slot("requested_slot", "confirm_answer")
            summary = "\n".join(f"{k}: {v}" for k, v in self.answers.items())
            self.bot(f"Please check your application:\n{summary}\nSubmit it?", "utter_confirm_summary")
        self.listen()

    def start_form(self, text: str = "I want an income certificate", lang: str = "en",
                   confidence: float = 0.97) -> "Chat":
        self.user(text, "apply_service", confidence, entities=[{"entity": "service", "value": SERVICE}])
        self.slot("language", lang)
        self.action("action_resolve_service")
        self.slot("service", SERVICE).slot("service_match", "form")
        self.action("application_form").loop("application_form")
        self.slot("draft_id", f"d{len(self.events)}")
        self._ask_next()
        return self

    def answer(self, text: str, confidence: float = 0.9, intent: str = "inform", echo: Optional[str] = None
               ) -> "Chat":
        """An answer the form accepts (``echo``: a bot text said before the next question)."""
        field = next(f for f in FIELDS if f not in self.answers)
        self.user(text, intent, confidence).slot("field_answer", text)
        self.action("application_form")
        self.answers[field] = text
        self.slots(field_answer=None, answers=dict(self.answers), voice_answered=None, field_failures=None,
                   field_page=None, pending_request=None, last_answer={"field": field, "message_id": "wamid.x"})
        if echo:
            self.bot(echo)
        self._ask_next()
        return self

    def refused(self, text: str, response: str = "utter_invalid_name", count: int = 1,
                confidence: float = 0.9) -> "Chat":
        """An answer the form refuses: it says why and asks the same question again."""
        field = next(f for f in FIELDS if f not in self.answers)
        self.user(text, "inform", confidence).slot("field_answer", text)
        self.action("application_form")
        self.bot("That does not look right.", response)
        self.slots(field_answer=None, voice_answered=None, field_page=None,
                   field_failures={"field": field, "count": count, "last": text})
        self._ask_next()
        return self

    def cancel(self) -> "Chat":
        self.user("cancel", "cancel", 0.99)
        self.action("action_cancel")
        self.bot("Cancelled.", "utter_cancelled")
        self.loop(None)
        self.slots(**{name: None for name in sorted(set(FORM_SLOTS) | set(GRIEVANCE_SLOTS))})
        self.answers = {}
        return self.listen()

    def fill_and_submit(self) -> "Chat":
        while len(self.answers) < len(FIELDS):
            self.answer(f"answer {len(self.answers) + 1}")
        self.user("yes", "affirm", 0.99).slot("confirm_answer", "yes")
        self.action("application_form")
        self.slot("confirm_answer", True).slot("requested_slot", None).loop(None)
        self.action("action_submit_application")
        self.bot("Your application is submitted: ORT-1.", "utter_submitted")
        self.slots(**{name: None for name in FORM_SLOTS}, application_id="ORT-1")
        self.answers = {}
        return self.listen()

    def say(self, text: str, intent: str, confidence: float = 0.95, response: Optional[str] = None,
            reply: str = "…", ranking: Sequence[Tuple[str, float]] = (), action: Optional[str] = None,
            **user: Any) -> "Chat":
        """A message outside a form and the bot's answer."""
        self.user(text, intent, confidence, ranking, **user)
        if action:
            self.action(action)
        elif response:
            self.action(response)
        self.bot(reply, response)
        return self.listen()

    def parsed(self, sender: str = SENDER) -> Conversation:
        return parse_conversation(sender, self.events, CATALOG)


def kinds(conversation: Conversation, now: Optional[float] = None, **kwargs: Any) -> List[str]:
    now = conversation.last_time + 60 if now is None else now
    return [f.kind for f in findings(conversation, now, **kwargs)]


# ---------------------------------------------------------------- parse_conversation
def test_a_form_cancelled_at_its_second_question():
    chat = Chat().session().start_form().answer(NAME).cancel()
    conversation = chat.parsed()
    [session] = conversation.sessions
    assert session.service == SERVICE and session.language == "en"
    assert session.end == "cancelled" and session.ended is not None
    assert session.asked == FIELDS[:2] and session.last_question == FIELDS[1]
    assert not session.submitted and not session.confirmed
    start, name, cancel = conversation.turns
    assert start.question is None and start.answer_slot is None and start.intent == "apply_service"
    assert name.question == FIELDS[0] and name.answer_slot == "field_answer" and not name.failed_answer
    assert cancel.question == FIELDS[1] and cancel.intent == "cancel"
    assert cancel.responses == ["utter_cancelled"] and "action_cancel" in cancel.actions
    assert "action_listen" not in cancel.actions


def test_a_cancel_inside_a_form_is_no_answer_to_its_question():
    """action_cancel resets the form's slots (answers, field_failures… to null): that takes no
    answer, so "cancel" is a request like any other, flagged when unsure and shown on the page."""
    chat = Chat().session().start_form().answer(NAME)
    chat.user("band karo", "cancel", 0.42)
    chat.action("action_cancel").bot("Cancelled.", "utter_cancelled").loop(None)
    chat.slots(**{name: None for name in sorted(set(FORM_SLOTS) | set(GRIEVANCE_SLOTS))}).listen()
    conversation = chat.parsed()
    cancel = conversation.turns[-1]
    assert conversation.sessions[0].end == "cancelled"
    assert cancel.question == FIELDS[1] and cancel.answer_slot is None
    assert "low_confidence" in kinds(conversation)
    page = page_of([conversation], chat.time)
    assert "band karo" in page and NAME not in page


def test_a_submitted_form():
    conversation = Chat().session().start_form().fill_and_submit().parsed()
    [session] = conversation.sessions
    assert session.submitted and session.confirmed
    assert session.end not in ("open", "cancelled", "left")
    assert session.asked == [*FIELDS, "confirm"]
    assert [t.answer_slot for t in conversation.turns] == [None, *["field_answer"] * len(FIELDS), "confirm_answer"]
    assert [t.question for t in conversation.turns[1:]] == [*FIELDS, "confirm"]


def test_a_form_left_open_and_one_left_by_a_restart():
    open_form = Chat().start_form().answer(NAME).parsed()
    assert open_form.sessions[0].end == "open" and open_form.sessions[0].ended is None
    restarted = Chat().start_form().answer(NAME).add("restart").parsed()
    assert restarted.sessions[0].end == "left"


def test_the_ending_of_the_form_decides_what_follows_not_the_next_user():
    """A form that ends (requested_slot null, loop null) without action_submit_application next is left."""
    chat = Chat().start_form()
    chat.user("show me services", "list_services", 0.9)
    chat.action("action_switch_form").loop(None).slot("requested_slot", None).listen()
    [session] = chat.parsed().sessions
    assert session.end == "left" and not session.confirmed


def test_a_refused_voice_note_and_a_transcribed_one():
    voice = {"max_seconds": 60, "max_megabytes": 16.0, "outcome": "not_audio"}
    chat = Chat().session()
    chat.say('/voice_note{"kind":"not_audio"}', "voice_note", 1.0, "utter_voice_not_audio",
             action="action_voice_problem", entities=[{"entity": "kind", "value": "not_audio"}],
             metadata={"voice": voice})
    chat.say("mote income certificate darkar", "apply_service", 0.9,
             metadata={"voice": {**voice, "outcome": "ok", "confidence": 0.8}})
    refused, heard = chat.parsed().turns
    assert refused.kind == "voice_refused" and refused.payload and refused.form is None
    assert refused.voice["outcome"] == "not_audio"
    assert refused.entities == [{"entity": "kind", "value": "not_audio"}]
    assert heard.kind == "voice" and heard.form == "or-latn"


def test_turn_kinds_ranking_and_language_forms():
    chat = Chat().session()
    chat.say("/choose_language{\"language\":\"or\"}", "choose_language", 1.0, "utter_language_set")
    chat.slot("language", "or")
    chat.say("ନମସ୍କାର", "greet", 0.91, "utter_greet", ranking=[("goodbye", 0.05), ("thank", 0.02), ("deny", 0.01)])
    chat.say('/inform{"document":{"key":"k1","kind":"photo"}}', "inform", 1.0, "utter_document_kept")
    chat.say("income certificate", "apply_service", 0.8)
    button, greet, document, latin = chat.parsed().turns
    assert button.kind == "button" and button.form is None and button.language is None
    assert greet.kind == "typed" and greet.form == "or" and greet.language == "or"
    assert greet.ranking == [("greet", 0.91), ("goodbye", 0.05), ("thank", 0.02)]  # the best three
    assert document.kind == "document"
    assert latin.form == "or-latn"  # Latin letters in an Odia conversation: romanised Odia


def test_a_refused_answer_is_a_failed_answer_to_its_question():
    conversation = Chat().start_form().refused("12345").answer(NAME).parsed()
    _, refused, accepted = conversation.turns
    assert refused.failed_answer and refused.question == FIELDS[0] and refused.answer_slot == "field_answer"
    assert not accepted.failed_answer and accepted.question == FIELDS[0]


def test_a_new_session_ends_the_form_for_the_parse_as_it_does_for_rasa():
    """Rasa's SessionStarted resets the tracker (active_loop None); action_session_start then carries
    the slots over (requested_slot too). A message in the new session answers no form question."""
    chat = Chat().start_form().answer(NAME)
    chat.time += 2 * 24 * 3600  # the citizen comes back two days later: a new Rasa session
    chat.action("action_session_start").add("session_started")
    for name, value in (("language", "en"), ("service", SERVICE), ("answers", dict(chat.answers)),
                        ("requested_slot", "field_answer")):
        chat.slot(name, value)
    chat.listen()
    chat.say("hello", "greet", 0.4, "utter_greet")
    conversation = chat.parsed()
    assert conversation.sessions[0].end == "left"
    hello = conversation.turns[-1]
    assert hello.question is None and hello.answer_slot is None
    assert "low_confidence" in kinds(conversation)


# ---------------------------------------------------------------- findings
def test_fallback_with_the_best_guess():
    chat = Chat().session()
    chat.say("ଏ", "nlu_fallback", 0.3, "utter_default", ranking=[("greet", 0.22)], action="action_default_fallback")
    found = findings(chat.parsed(), chat.time)
    assert [(f.kind, f.turn) for f in found] == [("fallback", 0)]
    assert "greet 0.22" in found[0].detail


def test_low_confidence_outside_a_form_is_flagged_but_not_a_low_confidence_accepted_answer():
    chat = Chat().session()
    chat.say("what is this", "service_info", 0.42, "utter_ask_which_service")
    chat.say("hello", "greet", LOW_CONFIDENCE, "utter_greet")  # at the threshold: not flagged
    chat.start_form().answer(NAME, confidence=0.2)
    found = findings(chat.parsed(), chat.time)
    assert [(f.kind, f.turn) for f in found] == [("low_confidence", 0)]
    assert found[0].detail == "service_info at 0.42"


def test_a_low_confidence_refused_answer_is_flagged():
    conversation = Chat().start_form().refused("xx", confidence=0.3).parsed()
    assert "low_confidence" in kinds(conversation)


def test_a_low_confidence_button_payload_is_not_flagged():
    chat = Chat().session().say("/affirm", "affirm", 0.3, "utter_ok")
    assert kinds(chat.parsed()) == []


def test_voice_findings_refused_and_undone():
    chat = Chat().session()
    chat.say('/voice_note{"kind":"too_long"}', "voice_note", 1.0, "utter_voice_too_long",
             action="action_voice_problem", entities=[{"entity": "kind", "value": "too_long"}],
             metadata={"voice": {"outcome": "too_long"}})
    found = findings(chat.parsed(), chat.time)
    assert [(f.kind, f.turn) for f in found] == [("voice", 0)] and "too_long" in found[0].detail

    undone = Chat().start_form()
    undone.user("no", "deny", 0.97).slot("field_answer", "no").action("application_form")
    undone.bot("Fine, that answer is taken back.", "utter_voice_undone")
    undone.slot("field_answer", None).slot("voice_answered", None)
    undone._ask_next()
    conversation = undone.parsed()
    assert not conversation.turns[1].failed_answer  # taking back is not a refused answer
    assert kinds(conversation) == ["voice"]


def test_a_service_search_that_found_nothing():
    chat = Chat().session().say("licence for a well", "apply_service", 0.9, "utter_service_unknown",
                                action="action_resolve_service")
    assert kinds(chat.parsed()) == ["search_no_result"]


def test_the_same_question_refused_twice_is_a_repeated_failure():
    chat = Chat().start_form().refused("12", count=1).refused("34", count=2).refused("56", count=3).answer(NAME)
    found = [f for f in findings(chat.parsed(), chat.time) if f.kind == "repeated_failure"]
    assert len(found) == 1  # reported once per question
    assert found[0].turn == 2 and f"'{FIELDS[0]}'" in found[0].detail and "2 times" in found[0].detail


def test_refusals_of_two_different_questions_are_no_repeated_failure():
    chat = Chat().start_form().refused("12").answer(NAME).refused("34")
    assert "repeated_failure" not in kinds(chat.parsed())


def test_an_open_form_is_abandoned_only_after_the_idle_time():
    conversation = Chat().start_form().answer(NAME).parsed()
    last = conversation.last_time
    assert "abandoned_form" not in kinds(conversation, now=last + IDLE_SECONDS - 1)
    found = [f for f in findings(conversation, last + IDLE_SECONDS) if f.kind == "abandoned_form"]
    assert len(found) == 1 and f"'{FIELDS[1]}'" in found[0].detail and found[0].turn == 1
    assert kinds(conversation, now=last + 10, idle_seconds=5) == ["abandoned_form"]


def test_a_cancelled_form_is_abandoned_a_submitted_one_is_not():
    cancelled = Chat().start_form().answer(NAME).cancel().parsed()
    [found] = [f for f in findings(cancelled, cancelled.last_time + 1) if f.kind == "abandoned_form"]
    assert found.detail == f"{SERVICE}: cancelled at question '{FIELDS[1]}'" and found.turn == 2
    submitted = Chat().start_form().fill_and_submit().parsed()
    assert kinds(submitted, now=submitted.last_time + 10 * IDLE_SECONDS) == []


def test_a_form_submitted_as_the_store_says_is_not_abandoned():
    conversation = Chat().start_form().answer(NAME).parsed()
    draft = conversation.sessions[0].draft_id
    assert draft
    store = FakeStore(drafts={(SENDER, draft)})
    attach_store_facts([conversation], store)
    assert conversation.sessions[0].submitted
    assert kinds(conversation, now=conversation.last_time + IDLE_SECONDS) == []


class FakeStore:
    def __init__(self, drafts=(), grievances=(), broken=False):
        self.drafts, self.grievances, self.broken = set(drafts), list(grievances), broken

    def submitted_drafts(self):
        if self.broken:
            raise RuntimeError("no such table: applications")
        return self.drafts

    def recent_grievances(self):
        return self.grievances


def test_grievances_from_the_store_and_from_the_conversation():
    conversation = Chat().session().say("hello", "greet", 0.9, "utter_greet").parsed()
    attach_store_facts([conversation], FakeStore(grievances=[{"sender_id": SENDER, "reference": "GRV-1"},
                                                             {"sender_id": "910000000000", "reference": "GRV-2"}]))
    assert [g["reference"] for g in conversation.grievances] == ["GRV-1"]
    found = findings(conversation, conversation.last_time)
    assert [(f.kind, f.turn) for f in found] == [("grievance", None)] and "1 grievance" in found[0].detail

    attach_store_facts([conversation], FakeStore(broken=True))  # a store not created yet: nothing changes
    assert [g["reference"] for g in conversation.grievances] == ["GRV-1"]

    complained = Chat().session().say("I want to complain", "grievance", 0.9, action="grievance_form")
    conversation = complained.parsed()
    conversation.grievances = [{"sender_id": SENDER}]
    found = findings(conversation, complained.time)
    assert [(f.kind, f.turn) for f in found] == [("grievance", 0)]  # once, at the message


def test_a_quiet_conversation_has_no_findings():
    chat = Chat().session().say("hello", "greet", 0.93, "utter_greet").say("income certificate", "service_info", 0.88,
                                                                         "utter_service_card")
    assert kinds(chat.parsed(), now=chat.time + 10 * IDLE_SECONDS) == []


# ---------------------------------------------------------------- funnels
def test_a_funnel_per_service_and_language_with_its_drops():
    left = Chat().start_form(lang="or").answer(ODIA_NAME).cancel().parsed("919437000002")
    done = Chat().start_form(lang="or").fill_and_submit().parsed("919437000003")
    english = Chat().start_form(lang="en").parsed("919437000004")
    [odia, en] = funnels([left, done, english], CATALOG)
    assert (odia.service, odia.language, odia.started) == (SERVICE, "or", 2)
    assert odia.steps == [("started", 2), (FIELDS[0], 2), (FIELDS[1], 2), *[(f, 1) for f in FIELDS[2:]],
                          ("confirmation asked", 1), ("confirmed", 1), ("submitted", 1)]
    assert dict(odia.drops()) == {"started": 0, FIELDS[0]: 0, FIELDS[1]: 1, **{f: 0 for f in FIELDS[2:]},
                                  "confirmation asked": 0, "confirmed": 0}
    assert (en.language, en.started) == ("en", 1)
    assert dict(en.steps)[FIELDS[0]] == 1 and dict(en.steps)[FIELDS[1]] == 0
    assert funnels([Chat().say("hello", "greet").parsed()], CATALOG) == []


def test_a_funnel_counts_a_session_the_store_says_was_submitted():
    session = FormSession(service=SERVICE, language="hi", draft_id="d1", started=START, started_turn=0,
                          asked=FIELDS[:1], submitted=True)
    conversation = Conversation(SENDER, [], [], [session], "hi")
    [funnel] = funnels([conversation], CATALOG)
    assert all(count == 1 for _, count in funnel.steps)


# ---------------------------------------------------------------- language forms, phone numbers
@pytest.mark.parametrize("text, conversation_language, form", [
    ("ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର", None, "or"),
    ("ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର", "hi", "or"),
    ("मुझे आय प्रमाण पत्र चाहिए", "or", "hi"),
    ("mote income certificate darkar", None, "or-latn"),
    ("mote income certificate darkar", "hi", "or-latn"),
    ("mujhe income certificate chahiye", None, "hi-latn"),
    ("mujhe income certificate chahiye", "en", "hi-latn"),
    ("income certificate", "or", "or-latn"),
    ("income certificate", "hi", "hi-latn"),
    ("I need an income certificate", None, "en"),
    ("I need an income certificate", "en", "en"),
    ("/affirm", "or", None),
    ('/choose_language{"language":"hi"}', None, None),
    ("", "or", None),
])
def test_language_form(text, conversation_language, form):
    assert language_form(text, conversation_language) == form


@pytest.mark.parametrize("text, masked", [
    ("call me on 9437000001", "call me on ••••••0001"),
    ("+91 94370 00001", "••••••••0001"),
    ("my number is 91-94370-00001.", "my number is ••••••••0001."),
    ("919876543210", "••••••••3210"),
    ("income 60000 in 2026", "income 60000 in 2026"),
    ("pin 751001, 123456789", "pin 751001, 123456789"),
])
def test_mask_phones(text, masked):
    assert mask_phones(text) == masked


def test_conversation_id_is_stable_and_hides_the_number():
    assert conversation_id(SENDER) == conversation_id(SENDER)
    assert conversation_id(SENDER) != conversation_id("919437000002")
    assert re.fullmatch(r"c[0-9a-f]{12}", conversation_id(SENDER)) and "0001" not in conversation_id(SENDER)


# ---------------------------------------------------------------- the page
def articles(page: str) -> List[Tuple[str, List[str], List[str], str]]:
    """(conversation id, languages, kinds, the article's HTML), in page order."""
    return [(m.group(1), m.group(2).split(), m.group(3).split(), m.group(4)) for m in re.finditer(
        r'<article class="item" id="(c[0-9a-f]+)"[^>]*data-languages="([^"]*)" data-kinds="([^"]*)"[^>]*>'
        r'(.*?)</article>', page, re.S)]


def page_of(conversations: List[Conversation], now: float, show_answers: bool = False) -> str:
    found = {c.id: findings(c, now) for c in conversations}
    return render(conversations, found, funnels(conversations, CATALOG), ["greet", "apply_service", "inform"],
                  "<p>reports</p>", CATALOG, now, show_answers=show_answers)


@pytest.fixture
def three_conversations():
    """An English form cancelled with a name answer, an Odia fallback later on, a quiet one."""
    form = Chat(START).session().start_form()
    form.answer(NAME, echo=f"Thank you, {NAME}.").answer("Hari Sahu").answer("Puri").answer("60000")
    form.answer("school admission")
    form.cancel()
    form.say("my number is +91 94370 00999", "inform", 0.3, "utter_default")
    fallback = Chat(START + 5000).session()
    fallback.say("ନମସ୍କାର", "greet", 0.95, "utter_greet")
    fallback.say("ଏ", "nlu_fallback", 0.3, "utter_default", ranking=[("greet", 0.2)])
    quiet = Chat(START + 9000).session().say("hello", "greet", 0.95, "utter_greet")
    return [form.parsed("919437000011"), fallback.parsed("919437000012"), quiet.parsed("919437000013")]


def test_the_page_lists_flagged_conversations_newest_first_with_filters(three_conversations):
    form, fallback, quiet = three_conversations
    page = page_of(three_conversations, START + 10_000)
    items = articles(page)
    assert [i[0] for i in items] == [fallback.id, form.id]  # newest first; the quiet one is not listed
    assert quiet.id not in page
    by_id = {i[0]: i for i in items}
    assert by_id[fallback.id][1] == ["or"] and by_id[fallback.id][2] == ["fallback"]
    assert by_id[form.id][1] == ["en"] and by_id[form.id][2] == ["abandoned_form", "low_confidence"]
    assert "2 of 3 conversations" in page


def test_the_page_masks_numbers_and_hides_answers(three_conversations):
    page = page_of(three_conversations, START + 10_000)
    for number in ("919437000011", "919437000012", "9437000999", "94370 00999"):
        assert number not in page
    assert "91******0011" in page and "••••••••0999" in page
    assert NAME not in page and "Hari Sahu" not in page and "school admission" not in page
    assert "(hidden)" in page and "repeats the answers: hidden" in page
    assert "Thank you, ▒▒▒." in page  # the bot's echo of the name is redacted too
    form_article = articles(page)[1][3]
    assert form_article.count("save-example") == 3  # the request, the cancel, the number: not the answers


def test_an_edited_answer_is_not_shown_by_the_bot_echoing_it():
    """A WhatsApp edit of the income answer: the form confirms it with utter_answer_edited, which
    shows the value as the form keeps it (₹65,000), not as the citizen typed it (65000)."""
    chat = Chat().session().start_form().answer(NAME).answer("Hari Sahu").answer("Puri").answer("60000")
    chat.user("65000", "inform", 0.9).slot("field_answer", "65000").action("application_form")
    chat.bot("✏️ Changed: Annual income → ₹65,000", "utter_answer_edited")
    chat.slots(field_answer=None, answers={**chat.answers, FIELDS[3]: 65000}, voice_answered=None)
    chat._ask_next()
    conversation = chat.parsed()
    assert conversation.turns[-1].answer_slot == "field_answer"
    page = page_of([conversation], chat.time + IDLE_SECONDS)
    assert articles(page), "the abandoned form is listed"
    assert "65000" not in page and "60000" not in page
    assert "65,000" not in page


def test_the_page_shows_answers_when_built_with_show_answers(three_conversations):
    page = page_of(three_conversations, START + 10_000, show_answers=True)
    assert NAME in page and f"Thank you, {NAME}." in page and "Please check your application" in page
    assert "919437000011" not in page and "94370 00999" not in page  # numbers stay masked


def test_the_page_funnel_table_and_an_empty_page():
    left = Chat().start_form(lang="or").answer(ODIA_NAME).cancel().parsed()
    page = page_of([left], left.last_time)
    table = re.search(rf'<table class="funnel" data-service="{SERVICE}" data-language="or">(.*?)</table>', page, re.S)
    assert table is not None
    counts = [int(n) for n in re.findall(r"<tr[^>]*><td>[^<]*</td><td>(\d+)</td>", table.group(1))]
    assert counts == [1, 1, 1, *[0] * (len(FIELDS) - 2), 0, 0, 0]
    assert ODIA_NAME not in page
    empty = page_of([Chat().say("hello", "greet").parsed()], START + 10)
    assert "No conversation needs attention." in empty and "No application form was started yet." in empty


# ---------------------------------------------------------------- edits on a copy of the project
@pytest.fixture
def project(tmp_path):
    copy = tmp_path / "project"
    for name in ("data", "tests/nlu", "tests/stories"):
        shutil.copytree(ROOT / name, copy / name)
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, copy / name)
    return copy


@pytest.fixture
def no_validation(monkeypatch):
    """`rasa data validate` replaced by a record of its calls (it passes)."""
    calls = []
    monkeypatch.setattr(edits, "validate", lambda project, extra_data=(): calls.append((project, extra_data)))
    return calls


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    if not path.exists():
        return []
    return [(m.get("intent"), m.get("text")) for m in load_data(str(path)).intent_examples]


def reviewed(project: Path) -> Dict[str, str]:
    """data/reviewed/ of the project copy: file name → text (the repository has some already)."""
    folder = project / "data" / "reviewed"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yml"))} if folder.exists() else {}


def added_examples(project: Path, before: Dict[str, str], name: str) -> List[Tuple[str, str]]:
    """The examples ``data/reviewed/<name>`` holds now and did not before, in file order."""
    old = set()
    if name in before:
        scratch = project.parent / f"before-{name}"
        scratch.write_text(before[name], encoding="utf-8")
        old = set(nlu_examples(scratch))
    return [e for e in nlu_examples(project / "data" / "reviewed" / name) if e not in old]


ODIA_EXAMPLE = "ମୋତେ କୂଅ ଖୋଳିବା ଅନୁମତି ଦରକାର"
HINDI_LATIN_EXAMPLE = "mujhe kuan khodne ki anumati chahiye"


def test_examples_go_to_their_language_form_file_and_validate_for_real(project, monkeypatch):
    real = edits.validate
    before = reviewed(project)
    with monkeypatch.context() as patched:
        patched.setattr(edits, "validate", lambda project, extra_data=(): None)
        saved = save_example(project, ODIA_EXAMPLE, "apply_service", "or")
        assert saved.changed and saved.path == Path("data/reviewed/or.yml")
        saved = save_example(project, f"  {HINDI_LATIN_EXAMPLE} ", "apply_service", "hi-latn")
        assert saved.path == Path("data/reviewed/hi-latn.yml")
        save_example(project, "namaskar mote kuan", "greet", "or")
    assert added_examples(project, before, "or.yml") == [("apply_service", ODIA_EXAMPLE),
                                                         ("greet", "namaskar mote kuan")]
    assert added_examples(project, before, "hi-latn.yml") == [("apply_service", HINDI_LATIN_EXAMPLE)]
    assert set(reviewed(project)) == set(before) | {"hi-latn.yml", "or.yml"}
    kept = project.parent / "kept.yml"
    for name, text in before.items():  # what was there stays
        kept.write_text(text, encoding="utf-8")
        assert set(nlu_examples(kept)) <= set(nlu_examples(project / "data" / "reviewed" / name))
    assert real(project) is None  # `rasa data validate --fail-on-warnings` accepts the saved files


def test_saving_again_changes_nothing_and_another_intent_is_refused(project, no_validation):
    assert save_example(project, ODIA_EXAMPLE, "apply_service", "or").changed
    before = (project / "data/reviewed/or.yml").read_text(encoding="utf-8")
    again = save_example(project, ODIA_EXAMPLE.replace(" ", "  "), "apply_service", "or")
    assert not again.changed and again.path == Path("data/reviewed/or.yml")
    with pytest.raises(EditRefused, match="already an example of apply_service"):
        save_example(project, ODIA_EXAMPLE, "human_help", "or")
    assert (project / "data/reviewed/or.yml").read_text(encoding="utf-8") == before
    assert len(no_validation) == 1


def heldout_example(form: str) -> str:
    data = yaml.safe_load((ROOT / "tests" / "nlu" / f"{form}.yml").read_text(encoding="utf-8"))
    return data["nlu"][0]["examples"].splitlines()[0][2:].strip()


def training_example(intent: str) -> str:
    data = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))
    block = next(b for b in data["nlu"] if b.get("intent") == intent)
    return block["examples"].splitlines()[0][2:].strip()


def test_held_out_and_training_examples_are_refused(project, no_validation):
    before = reviewed(project)
    with pytest.raises(EditRefused, match="held-out set"):
        save_example(project, heldout_example("or"), "greet", "or")
    with pytest.raises(EditRefused, match="held-out set"):
        save_example(project, "  " + heldout_example("hi-latn").upper(), "greet", "hi-latn")
    known = training_example("human_help")
    with pytest.raises(EditRefused, match=r"already an example of human_help in data/nlu\.yml"):
        save_example(project, known, "greet", "en")
    unchanged = save_example(project, known, "human_help", "en")
    assert not unchanged.changed and unchanged.path == Path("data/nlu.yml")
    assert reviewed(project) == before and no_validation == []


@pytest.mark.parametrize("text, intent, form, why", [
    ("rasid chahiye", "request_receipt", "hi-latn", "keywords"),
    ("voice", "voice_note", "en", "WhatsApp channel"),
    ("hello there", "make_coffee", "en", "not an intent in domain.yml"),
    ("/greet", "greet", "en", "button tap"),
    ("I need [income certificate](service)", "apply_service", "en", "entity markup"),
    ("I need [income certificate]{\"entity\": \"service\"}", "apply_service", "en", "entity markup"),
    ("   ", "greet", "en", "empty"),
    ("x" * 301, "greet", "en", "too long"),
    ("hello there", "greet", "fr", "unknown language form"),
])
def test_refused_examples(project, no_validation, text, intent, form, why):
    before = reviewed(project)
    with pytest.raises(EditRefused, match=why):
        save_example(project, text, intent, form)
    assert reviewed(project) == before and no_validation == []


def test_a_failed_validation_takes_the_example_back(project, monkeypatch):
    monkeypatch.setattr(edits, "validate", lambda project, extra_data=(): None)
    save_example(project, ODIA_EXAMPLE, "apply_service", "or")
    before = (project / "data/reviewed/or.yml").read_text(encoding="utf-8")
    monkeypatch.setattr(edits, "validate", lambda project, extra_data=(): "UserWarning: conflicting examples")
    with pytest.raises(EditRefused, match="conflicting examples"):
        save_example(project, "ମୋତେ ଆଉ କିଛି ଦରକାର ନାହିଁ", "goodbye", "or")
    assert (project / "data/reviewed/or.yml").read_text(encoding="utf-8") == before
    with pytest.raises(EditRefused, match="rasa data validate failed"):
        save_example(project, HINDI_LATIN_EXAMPLE, "apply_service", "hi-latn")
    assert not (project / "data/reviewed/hi-latn.yml").exists()


# ---------------------------------------------------------------- test stories
def abandoned_form(lang: str = "or") -> Chat:
    chat = Chat().session()
    chat.say("ନମସ୍କାର", "greet", 0.95, "utter_greet")
    chat.start_form("ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର", lang=lang)
    chat.answer(ODIA_NAME, echo=f"ଧନ୍ୟବାଦ {ODIA_NAME}")
    return chat.cancel()


def story_steps(text: str) -> List[Dict[str, Any]]:
    [story] = yaml.safe_load(text)["stories"]
    return story["steps"]


def test_a_story_keeps_intents_and_the_form_but_not_the_answers():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter
    from rasa.shared.core.training_data.structures import Story

    domain = Domain.load(str(ROOT / "domain.yml"))
    events = story_events(abandoned_form().events, domain)
    users = [e for e in events if isinstance(e, UserUttered)]
    assert [u.intent_name for u in users] == ["greet", "apply_service", "inform", "cancel"]
    assert users[2].text is None and users[2].entities == []
    assert users[1].text == "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"
    slots = [(e.key, e.value) for e in events if isinstance(e, SlotSet)]
    assert ("requested_slot", "field_answer") in slots and ("service_match", "form") in slots
    assert not {key for key, _ in slots} & {"answers", "field_answer", "language", "service", "draft_id"}
    assert [e.name for e in events if isinstance(e, ActiveLoop)] == ["application_form", None]

    text = YAMLStoryWriter().dumps(Story.from_events(events, "review").story_steps, is_test_story=True)
    assert ODIA_NAME not in text and "ଧନ୍ୟବାଦ" not in text
    steps = story_steps(text)
    assert {"intent": "inform"} in steps and {"active_loop": "application_form"} in steps
    assert {"slot_was_set": [{"requested_slot": "field_answer"}]} in steps
    assert {"intent": "apply_service", "user": "ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର"} in steps

    later = abandoned_form().session().say("hello", "greet", 0.9, "utter_greet")
    assert [e.intent_name for e in story_events(later.events, domain) if isinstance(e, UserUttered)] == ["greet"]


def test_save_story_writes_a_test_story_that_validates(project):
    chat = abandoned_form()
    saved = save_story(project, SENDER, chat.events, "cancelled at the second question")
    assert saved.changed and saved.path == Path(f"tests/stories/test_review_{conversation_id(SENDER)}.yml")
    text = (project / saved.path).read_text(encoding="utf-8")
    assert ODIA_NAME not in text and SENDER not in text
    steps = story_steps(text)
    assert {"intent": "inform"} in steps and any(s.get("intent") == "cancel" for s in steps)
    assert {"action": "action_cancel"} in steps and {"active_loop": None} in steps


def test_a_story_that_fails_validation_is_taken_back(project, monkeypatch):
    path = project / "tests/stories" / f"test_review_{conversation_id(SENDER)}.yml"
    monkeypatch.setattr(edits, "validate", lambda project, extra_data=(): "story conflict")
    with pytest.raises(EditRefused, match="story conflict"):
        save_story(project, SENDER, abandoned_form().events, "x")
    assert not path.exists()
    path.write_text("# the designer's version\n", encoding="utf-8")
    with pytest.raises(EditRefused):
        save_story(project, SENDER, abandoned_form().events, "x")
    assert path.read_text(encoding="utf-8") == "# the designer's version\n"
    with pytest.raises(EditRefused, match="no message from the citizen"):
        save_story(project, SENDER, Chat().session().events, "x")


# ---------------------------------------------------------------- the server
def endpoints_for(tmp_path: Path, db: Path, kind: str = "SQL") -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(f"tracker_store:\n  type: {kind}\n  dialect: sqlite\n  db: {db}\n", encoding="utf-8")
    return path


def site(tmp_path: Path, project: Optional[Path] = None, token: Optional[str] = None,
         db: Optional[Path] = None) -> ReviewSite:
    return ReviewSite(tmp_path / "out", endpoints_for(tmp_path, db or tmp_path / "missing.db"),
                      ROOT / "domain.yml", project or tmp_path / "project", token=token)


def requests(review: ReviewSite, calls: List[Tuple[str, str, Dict[str, Any]]]) -> List[Tuple[int, str, Any]]:
    """(status, content type, body: JSON when it is) of each (method, path, request options).

    Paths are sent as written (``..`` and ``%2E%2E`` included): the client normalises nothing."""
    import aiohttp
    from aiohttp.test_utils import TestServer
    from yarl import URL

    async def go():
        out = []
        async with TestServer(review.app()) as server, aiohttp.ClientSession() as session:
            root = str(server.make_url("/")).rstrip("/")
            for method, path, options in calls:
                async with session.request(method, URL(root + path, encoded=True), allow_redirects=False,
                                           **options) as reply:
                    body = await reply.text()
                    if reply.content_type == "application/json":
                        body = json.loads(body)
                    out.append((reply.status, reply.content_type, body))
        return out
    return asyncio.run(go())


def test_a_token_is_needed_when_one_is_set(tmp_path):
    review = site(tmp_path, token="s3cret")
    answers = requests(review, [
        ("GET", "/review/", {}),
        ("GET", "/review/", {"headers": {"X-Review-Token": "wrong"}}),
        ("POST", "/review/api/examples", {"json": {"conversation": "c1"}}),
        ("GET", "/review/", {"headers": {"X-Review-Token": "s3cret"}}),
        ("GET", "/review/?token=s3cret", {}),
    ])
    assert [a[0] for a in answers[:3]] == [401, 401, 401]
    assert answers[0][2]["message"] == "a valid review token is needed"
    assert [a[0] for a in answers[3:]] == [404, 404]  # past the token: no page built yet


def test_the_page_and_its_reports_are_served_and_nothing_else(tmp_path):
    review = site(tmp_path)
    missing = requests(review, [("GET", "/review/", {})])[0]
    assert missing[0] == 404 and "make review" in missing[2]
    (tmp_path / "out" / "reports").mkdir(parents=True)
    (tmp_path / "out" / "index.html").write_text("<p>the page</p>", encoding="utf-8")
    (tmp_path / "out" / "reports" / "graph.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    answers = requests(review, [
        ("GET", "/review/", {}),
        ("GET", "/review/reports/graph.svg", {}),
        ("GET", "/review/reports/../index.html", {}),
        ("GET", "/review/reports/%2E%2E/index.html", {}),
        ("GET", "/review/reports/..%2F..%2Fsecret.txt", {}),
        ("GET", "/review/reports/missing.svg", {}),
        ("GET", "/review?token=t", {}),
    ])
    assert answers[0][0] == 200 and answers[0][2] == "<p>the page</p>"
    assert answers[1][0] == 200 and answers[1][2] == "<svg/>"
    assert [a[0] for a in answers[2:6]] == [404, 404, 404, 404]
    assert all("the page" not in str(a[2]) and "secret" not in str(a[2]) for a in answers[2:6])
    assert answers[6][0] == 302


def test_posts_must_be_json_about_a_known_conversation(tmp_path):
    review = site(tmp_path)
    answers = requests(review, [
        ("POST", "/review/api/examples", {"data": "conversation=c1", "headers": {"Content-Type": "text/plain"}}),
        ("POST", "/review/api/stories", {"data": "conversation=c1",
                                         "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
        ("POST", "/review/api/examples", {"data": "{not json", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/review/api/examples", {"json": {"event": 1}}),
        ("POST", "/review/api/examples", {"json": {"conversation": "c000000000000", "event": 1, "intent": "greet"}}),
        ("POST", "/review/api/stories", {"json": {"conversation": "c000000000000"}}),
    ])
    assert [a[0] for a in answers] == [415, 415, 400, 400, 404, 404]
    assert answers[4][1] == "application/json"
    assert answers[4][2] == {"saved": False, "message": "no such conversation in the tracker store"}
    assert not (tmp_path / "missing.db").exists()  # a missing tracker store is not created


def test_a_missing_tracker_store_is_not_created_whatever_the_case_of_its_type(tmp_path):
    """Rasa reads `type: sql` as `type: SQL`; the review page must not create the file either way."""
    db = tmp_path / "missing.db"
    review = ReviewSite(tmp_path / "out", endpoints_for(tmp_path, db, kind="sql"), ROOT / "domain.yml",
                        tmp_path / "project")
    [answer] = requests(review, [("POST", "/review/api/stories", {"json": {"conversation": "c000000000000"}})])
    assert answer[0] == 404
    assert not db.exists()


def store_conversation(db: Path, sender: str, events: List[Dict[str, Any]]) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    tracker = DialogueStateTracker.from_events(sender, [Event.from_parameters(e) for e in events], domain.slots)
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def test_saving_an_example_and_a_story_through_the_server(tmp_path, project, no_validation):
    db = tmp_path / "tracker.db"
    before = reviewed(project)
    fallback = Chat().session().say("ନମସ୍କାର", "greet", 0.95, "utter_greet")
    fallback.say(ODIA_EXAMPLE, "human_help", 0.35, "utter_human_help")
    store_conversation(db, SENDER, fallback.events)
    index = next(i for i, e in enumerate(fallback.events) if e.get("text") == ODIA_EXAMPLE)
    bot_index = next(i for i, e in enumerate(fallback.events) if e["event"] == "bot")
    conversation = conversation_id(SENDER)
    review = site(tmp_path, project=project, token="t0k", db=db)
    headers = {"X-Review-Token": "t0k"}
    answers = requests(review, [
        ("POST", "/review/api/examples", {"headers": headers, "json": {"conversation": conversation, "event": index,
                                                                        "intent": "apply_service"}}),
        ("POST", "/review/api/examples", {"headers": headers, "json": {"conversation": conversation, "event": index,
                                                                        "intent": "greet", "form": "or"}}),
        ("POST", "/review/api/examples", {"headers": headers, "json": {"conversation": conversation,
                                                                        "event": bot_index, "intent": "greet"}}),
        ("POST", "/review/api/stories", {"headers": headers, "json": {"conversation": conversation,
                                                                       "title": "a fallback\nin Odia"}}),
    ])
    saved, refused, not_a_message, story = answers
    assert saved[0] == 200 and saved[2]["saved"] is True and saved[2]["path"] == "data/reviewed/or.yml"
    assert added_examples(project, before, "or.yml") == [("apply_service", ODIA_EXAMPLE)]
    assert refused[0] == 422 and refused[2]["saved"] is False and "already an example of apply_service" in \
        refused[2]["message"]
    assert not_a_message[0] == 400
    assert story[0] == 200 and story[2]["path"] == f"tests/stories/test_review_{conversation}.yml"
    text = (project / story[2]["path"]).read_text(encoding="utf-8")
    assert "review " + conversation + ": a fallback in Odia" in text
    assert [list(e) for _, e in no_validation] == [[], [Path(story[2]["path"])]]


def test_a_form_answer_is_never_saved_as_an_nlu_example(tmp_path, project, no_validation):
    db = tmp_path / "tracker.db"
    chat = abandoned_form()
    store_conversation(db, SENDER, chat.events)
    name = next(i for i, e in enumerate(chat.events) if e.get("text") == ODIA_NAME)
    cancel = max(i for i, e in enumerate(chat.events) if e["event"] == "user")
    review = site(tmp_path, project=project, db=db)
    conversation = conversation_id(SENDER)
    answer, not_an_answer = requests(review, [
        ("POST", "/review/api/examples", {"json": {"conversation": conversation, "event": name, "intent": "inform"}}),
        ("POST", "/review/api/examples", {"json": {"conversation": conversation, "event": cancel, "intent": "cancel"}}),
    ])
    assert answer[0] == 400 and "citizen's own data" in answer[2]["message"]
    assert not_an_answer[0] in (200, 422), not_an_answer  # "cancel" said inside the form is no answer
    reviewed = project / "data" / "reviewed" / "or.yml"
    assert not reviewed.exists() or ODIA_NAME not in reviewed.read_text(encoding="utf-8")


def test_conversations_are_read_from_a_postgresql_tracker_store(tmp_path, postgres_db):
    """endpoints.yml decides the store: the same reading works on PostgreSQL as on SQLite."""
    import urllib.parse

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    from review.conversations import load_conversations

    parts = urllib.parse.urlsplit(postgres_db)
    entry = {"type": "SQL", "dialect": "postgresql", "url": parts.hostname, "port": parts.port,
             "db": parts.path.lstrip("/"), "username": urllib.parse.unquote(parts.username or "")}
    if parts.password:
        entry["password"] = urllib.parse.unquote(parts.password)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"tracker_store": entry}), encoding="utf-8")
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, host=entry["url"], **{k: v for k, v in entry.items() if k not in ("type", "url")})
    chat = abandoned_form()
    asyncio.run(store.save(DialogueStateTracker.from_events(
        SENDER, [Event.from_parameters(e) for e in chat.events], domain.slots)))
    store.engine.dispose()

    [conversation] = load_conversations(endpoints, ROOT / "domain.yml", default_catalog())
    assert conversation.sender_id == SENDER
    assert [f.kind for f in findings(conversation, conversation.last_time)] == ["abandoned_form"]
    assert [t.text for t in conversation.turns][-1] == chat.events[max(
        i for i, e in enumerate(chat.events) if e["event"] == "user")]["text"]


def test_the_page_lists_at_most_max_items_newest_and_says_how_many_more(three_conversations):
    now = START + 10_000
    form, fallback, _ = three_conversations
    found = {c.id: findings(c, now) for c in three_conversations}
    page = render(three_conversations, found, [], ["greet"], "", CATALOG, now, max_items=1)
    assert [a[0] for a in articles(page)] == [fallback.id]  # the newer of the two that need attention
    assert "1 older conversations that need attention are not shown" in page
    everything = render(three_conversations, found, [], ["greet"], "", CATALOG, now)
    assert [a[0] for a in articles(everything)] == [fallback.id, form.id] and 'class="more"' not in everything

"""Real conversations as the review page reads them: turns, NLU parses and form sessions.

Read through Rasa's own tracker store (whatever ``endpoints.yml`` configures: SQLite or
PostgreSQL), so the page sees exactly what Rasa kept. A conversation is the full event
list of one WhatsApp number; this module turns it into what a designer reads: per citizen
message the NLU parse (intent, confidence, the runner-up), the language form it was
written in, what the bot answered, and whether it was an answer to a form question (those
are redacted on the page by default). Form sessions (an application form from start to
submission or abandonment) feed the findings and the funnels.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from seva.catalog import Catalog
from seva.language import detect
from seva.textnorm import LATIN, script_of

FORMS = ("en", "hi", "hi-latn", "or", "or-latn")  # the language forms of tests/nlu/ and data/reviewed/
FORM_ANSWER_SLOTS = ("field_answer", "confirm_answer", "grievance_reference", "grievance_details")
# Of those, the questions whose answers are the citizen's own data (a name, an address, an
# income, a complaint): hidden on the page, never written into examples or test stories.
REDACTED_ANSWER_SLOTS = ("field_answer", "grievance_reference", "grievance_details")
# Slots a form sets when it takes a message as an answer to its question, or refuses it as
# one: such a message is personal (a name, an address, an income, a complaint).
ANSWER_EVIDENCE_SLOTS = ("answers", "field_failures", "voice_answered", "confirm_answer", "grievance_reference",
                         "grievance_details")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d[\d \-]{8,14}\d)(?!\d)")


def conversation_id(sender_id: str) -> str:
    """A stable id for a conversation that does not reveal the number."""
    return "c" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:12]


def mask_phones(text: str) -> str:
    """Phone-number-like digit runs (10-16 digits, spaces or dashes allowed) as ``••••••3210``."""
    def masked(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) < 10:
            return match.group(0)
        return "•" * (len(digits) - 4) + digits[-4:]
    return _PHONE.sub(masked, text)


def language_form(text: str, conversation_language: Optional[str]) -> Optional[str]:
    """The held-out set's language form of a typed message (None for a button payload).

    Script decides Odia and Devanagari; Latin text is romanised Hindi or Odia when its words
    say so, else it takes the conversation's language (romanised) or English."""
    if not text or text.startswith("/"):
        return None
    language = detect(text)  # seva/language.py: the script, or the words only one language uses
    if script_of(text) != LATIN:
        return language
    romanised = language or (conversation_language if conversation_language in ("hi", "or") else None)
    return f"{romanised}-latn" if romanised else "en"


@dataclass
class Turn:
    """One citizen message and what followed it, up to the next one."""
    event_index: int  # position of the user event in the conversation's events
    time: float
    text: str
    kind: str  # typed, button, voice, voice_refused, document, other
    intent: Optional[str]
    confidence: float
    ranking: List[Tuple[str, float]]
    entities: List[Dict[str, Any]]
    form: Optional[str]  # language form of the text (typed or transcribed), None for payloads
    language: Optional[str]  # the conversation's language when the citizen wrote
    question: Optional[str] = None  # the form question open when the citizen wrote (field id, "confirm", …)
    answer_slot: Optional[str] = None  # the form slot this message answered, or tried to: redacted
    voice: Dict[str, Any] = field(default_factory=dict)
    bot: List[str] = field(default_factory=list)  # the bot's replies (texts)
    responses: List[str] = field(default_factory=list)  # their domain response names (utter_…, "" if none)
    actions: List[str] = field(default_factory=list)
    failed_answer: bool = False  # the form refused it (utter_invalid_… / a voice problem) and asked again

    @property
    def payload(self) -> bool:
        return self.text.startswith("/")

    @property
    def personal(self) -> bool:
        """An answer (taken or refused) to a question asking for the citizen's own data."""
        return self.answer_slot in REDACTED_ANSWER_SLOTS


@dataclass
class FormSession:
    """One application form, from its first question to submission or abandonment."""
    service: Optional[str]
    language: Optional[str]
    draft_id: Optional[str]
    started: float
    started_turn: int  # index in Conversation.turns of the message that started it
    asked: List[str] = field(default_factory=list)  # questions asked, in order ("confirm" last)
    ended: Optional[float] = None
    end: str = "open"  # open, confirmed (then submitted), cancelled, left (deactivated otherwise)
    confirmed: bool = False
    submitted: bool = False

    @property
    def last_question(self) -> Optional[str]:
        return self.asked[-1] if self.asked else None


@dataclass
class Conversation:
    sender_id: str
    events: List[Dict[str, Any]]
    turns: List[Turn]
    sessions: List[FormSession]
    language: Optional[str]
    grievances: List[Dict[str, Any]] = field(default_factory=list)  # from the application store

    @property
    def id(self) -> str:
        return conversation_id(self.sender_id)

    @property
    def last_time(self) -> float:
        return max((float(e.get("timestamp") or 0) for e in self.events), default=0.0)


def _ranking(parse: Dict[str, Any]) -> List[Tuple[str, float]]:
    return [(str(r.get("name")), round(float(r.get("confidence") or 0.0), 3))
            for r in (parse.get("intent_ranking") or [])[:3] if r.get("name")]


def _kind(text: str, metadata: Dict[str, Any]) -> str:
    if metadata.get("voice"):
        return "voice_refused" if text.startswith("/voice_note") else "voice"
    if text.startswith('/inform{"document"'):
        return "document"
    if text.startswith("/"):
        return "button"
    return "typed"


def _open_question(slots: Dict[str, Any], active_loop: Optional[str], catalog: Optional[Catalog]) -> Optional[str]:
    """The question the citizen is being asked: a catalog field's id, "confirm", or a slot."""
    requested = slots.get("requested_slot")
    if not active_loop or not requested:
        return None
    if active_loop == "application_form":
        if requested == "confirm_answer":
            return "confirm"
        service = catalog.get(slots.get("service")) if catalog else None
        if service is not None:
            next_field = service.next_field(slots.get("answers") or {})
            return next_field.id if next_field else "confirm"
    return str(requested)


def parse_conversation(sender_id: str, events: List[Dict[str, Any]], catalog: Optional[Catalog]) -> Conversation:
    """Turns and form sessions of one conversation's events (Rasa's event dicts)."""
    turns: List[Turn] = []
    sessions: List[FormSession] = []
    slots: Dict[str, Any] = {}
    active_loop: Optional[str] = None
    session: Optional[FormSession] = None

    def note_question() -> None:
        question = _open_question(slots, active_loop, catalog)
        if session is not None and question and question not in session.asked:
            session.asked.append(question)

    def close(end: str, time: float) -> None:
        nonlocal session
        if session is not None:
            session.end, session.ended = end, time
        session = None

    for index, event in enumerate(events):
        kind = event.get("event")
        time = float(event.get("timestamp") or 0)
        if kind == "restart" or kind == "session_started":
            if session is not None:
                close("left", time)
            slots, active_loop = {}, None  # as Rasa resets the tracker (kept slots come back as events)
        elif kind == "user":
            text = str(event.get("text") or "")
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            metadata = event.get("metadata") or {}
            question = _open_question(slots, active_loop, catalog)
            answered = slots.get("requested_slot") if active_loop else None
            if not taken_as_answer(events, index):
                answered = None  # "cancel", a question, a greeting: said instead of an answer
            turns.append(Turn(
                event_index=index, time=time, text=text, kind=_kind(text, metadata),
                intent=intent.get("name"), confidence=round(float(intent.get("confidence") or 0.0), 3),
                ranking=_ranking(parse), entities=[{"entity": e.get("entity"), "value": e.get("value")}
                                                   for e in parse.get("entities") or []],
                form=language_form(text, slots.get("language")), language=slots.get("language"),
                question=question, answer_slot=answered if answered in FORM_ANSWER_SLOTS else None,
                voice=dict(metadata.get("voice") or {})))
        elif kind == "bot" and turns:
            turns[-1].bot.append(str(event.get("text") or ""))
            response = (event.get("metadata") or {}).get("utter_action")
            turns[-1].responses.append(str(response or ""))
            if response:
                if str(response).startswith(("utter_invalid_", "utter_voice_")) and turns[-1].question \
                        and response != "utter_voice_undone":
                    turns[-1].failed_answer = True
        elif kind == "action":
            name = event.get("name")
            if turns and name and name != "action_listen":
                turns[-1].actions.append(str(name))
        elif kind == "slot":
            name = str(event.get("name"))
            if event.get("value") is None:
                slots.pop(name, None)
            else:
                slots[name] = event.get("value")
            if name == "field_failures" and turns and isinstance(event.get("value"), dict):
                turns[-1].failed_answer = True
            note_question()
        elif kind == "active_loop":
            name = event.get("name")
            if name == "application_form" and session is None:
                session = FormSession(service=slots.get("service"), language=slots.get("language"),
                                      draft_id=slots.get("draft_id"), started=time,
                                      started_turn=max(len(turns) - 1, 0))
                sessions.append(session)
            elif name is None and active_loop == "application_form":
                follows = [e.get("name") for e in events[index + 1:index + 4] if e.get("event") == "action"]
                submitted = slots.get("requested_slot") in (None, "confirm_answer") and \
                    "action_submit_application" in follows
                close("confirmed" if submitted else ("cancelled" if turns and turns[-1].intent == "cancel"
                                                     else "left"), time)
            active_loop = name
            note_question()
        if session is not None:
            session.service = session.service or slots.get("service")
            session.draft_id = session.draft_id or slots.get("draft_id")
            session.language = slots.get("language") or session.language
    for form_session in sessions:
        if form_session.end == "confirmed":
            form_session.confirmed = True
        if form_session.confirmed and "confirm" not in form_session.asked:
            form_session.asked.append("confirm")
    for turn in turns:  # a reply that says "submitted" marks its session
        if "utter_submitted" in turn.responses:
            owner = [s for s in sessions if s.started <= turn.time]
            if owner:
                owner[-1].submitted = True
    return Conversation(sender_id=sender_id, events=events, turns=turns, sessions=sessions,
                        language=slots.get("language"))


def taken_as_answer(events: List[Dict[str, Any]], index: int) -> bool:
    """Whether the form took the user message at ``index`` as an answer, or refused it as one."""
    for event in events[index + 1:]:
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") in ANSWER_EVIDENCE_SLOTS \
                and event.get("value") is not None:  # "cancel" resets them to null
            return True
    return False


# ---------------------------------------------------------------- reading the stores
def silence_rasa_logs() -> None:
    """Rasa's tracker store logs the sender id (a phone number) at DEBUG when it reads a
    conversation: nothing the review reads may reach a log, so its Rasa loggers say warnings only."""
    logging.getLogger("rasa").setLevel(logging.WARNING)


def sqlite_missing(config: Any) -> bool:
    """A SQLite tracker store whose file does not exist yet: nothing to read (and not created)."""
    kwargs = getattr(config, "kwargs", {}) or {}
    if str(getattr(config, "type", None) or "").lower() != "sql" or kwargs.get("dialect", "sqlite") != "sqlite":
        return False
    db = kwargs.get("db") or "rasa.db"
    return db != ":memory:" and not Path(db).exists()


def open_tracker_store(endpoints: Path, domain_path: Path) -> Any:
    """Rasa's tracker store as ``endpoints`` configures it, or None when it holds nothing yet."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import read_endpoint_config

    silence_rasa_logs()
    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None or sqlite_missing(config):
        return None
    return TrackerStore.create(config, Domain.load(str(domain_path)))


async def _events(store: Any, key: str) -> Optional[List[Dict[str, Any]]]:
    tracker = await store.retrieve_full_tracker(key)
    return None if tracker is None else [event.as_dict() for event in tracker.events]


async def _read_trackers(endpoints: Path, domain_path: Path) -> List[Tuple[str, List[Dict[str, Any]]]]:
    store = open_tracker_store(endpoints, domain_path)
    if store is None:
        return []
    out = []
    for key in sorted(await store.keys()):
        events = await _events(store, key)
        if events is not None:
            out.append((str(key), events))
    return out


async def find_conversation(endpoints: Path, domain_path: Path, wanted: str
                            ) -> Optional[Tuple[str, List[Dict[str, Any]]]]:
    """(sender id, events) of the conversation whose id (``conversation_id``) is ``wanted``."""
    store = open_tracker_store(endpoints, domain_path)
    for key in await store.keys() if store is not None else []:
        if conversation_id(str(key)) == wanted:
            events = await _events(store, key)
            if events is not None:
                return str(key), events
    return None


def read_trackers(endpoints: Path, domain_path: Path) -> List[Tuple[str, List[Dict[str, Any]]]]:
    """(sender id, events) of every conversation in the tracker store ``endpoints`` names."""
    return asyncio.run(_read_trackers(endpoints, domain_path))


def load_conversations(endpoints: Path, domain_path: Path, catalog: Optional[Catalog],
                       app_store: Any = None) -> List[Conversation]:
    """Every conversation, with what the application store knows (submissions, grievances)."""
    conversations = [parse_conversation(sender, events, catalog)
                     for sender, events in read_trackers(endpoints, domain_path) if events]
    if app_store is not None:
        attach_store_facts(conversations, app_store)
    return conversations


def attach_store_facts(conversations: Iterable[Conversation], app_store: Any) -> None:
    """A form counts as submitted when the store holds its draft; grievances join their sender."""
    try:
        drafts = app_store.submitted_drafts()
        grievances = app_store.recent_grievances()
    except Exception:  # a store not created yet (no application so far) or unreachable
        return
    for conversation in conversations:
        for session in conversation.sessions:
            if session.draft_id and (conversation.sender_id, str(session.draft_id)) in drafts:
                session.submitted = True
        conversation.grievances = [g for g in grievances if g["sender_id"] == conversation.sender_id]

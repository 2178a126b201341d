"""The channel's one view of the dialogue: a small port, so the channel stays a channel.

The WhatsApp channel needs three things from the conversation Rasa keeps, and nothing else:

- ``language(sender)``: the conversation's language (``en``/``hi``/``or``) or None, for the
  messages the channel sends by itself (an apology, the rate limit, a voice echo);
- ``open_question(sender)``: what the conversation is waiting for (an ``OpenQuestion``),
  so a voice note can be matched against the answers that fit (channels/voice_turn.py);
- ``replies_to(sender, message_id)``: what the bot said to one message, when an instance
  died after its turn but before sending (channels/replies.py).

``RasaConversations`` answers them from the tracker store of the agent ``rasa run``
serves; it is the only code in ``channels/`` that touches Rasa's agent or trackers, and
the slots it reads (``language``, ``service``, ``answers``, ``requested_slot``,
``voice_answered``, the active loop) are the dialogue's contract with the channel.
``KnownConversations`` is a plain in-memory stand-in for tests and tools.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Tuple

from rasa.shared.core.events import BotUttered, UserUttered

from seva.language import supported


@dataclass(frozen=True)
class OpenQuestion:
    """What the conversation is waiting for. The default: nothing yet (a first request)."""

    language: Optional[str] = None  # the conversation's language, if it has one
    form: Optional[str] = None  # the active form (``application_form``, ``grievance_form``), if any
    requested: Optional[str] = None  # the slot that form asks for now
    service: Optional[str] = None  # the catalog id being applied for
    answers: Mapping[str, Any] = field(default_factory=dict)  # the form's answers so far
    voice_answered: bool = False  # the last answer came from a voice note (a "no" takes it back)
    buttons: Tuple[Dict[str, Any], ...] = ()  # buttons the bot sent since the citizen last spoke


class Conversations(Protocol):
    """The port: what the channel may ask about a sender's conversation."""

    async def language(self, sender: str) -> Optional[str]:
        """The conversation's language, or None when it has none yet (or is unknown)."""

    async def open_question(self, sender: str) -> OpenQuestion:
        """What the conversation is waiting for (``OpenQuestion()`` for a new one)."""

    async def replies_to(self, sender: str, message_id: str) -> Optional[List[Dict[str, Any]]]:
        """What the bot said in answer to the citizen's message ``message_id`` (as Rasa's
        response dicts: text, buttons, custom …), or None when the conversation does not
        hold that message: its turn never ended."""


class RasaConversations:
    """The port over the agent ``rasa run`` serves (looked up per call: it is set at start)."""

    def __init__(self, agent: Callable[[], Any]):
        self._agent = agent

    async def _tracker(self, sender: str):
        agent = self._agent()
        store = getattr(agent, "tracker_store", None)
        return await store.retrieve(sender) if store is not None else None

    async def language(self, sender: str) -> Optional[str]:
        tracker = await self._tracker(sender)
        return supported(tracker.get_slot("language")) if tracker is not None else None

    async def open_question(self, sender: str) -> OpenQuestion:
        tracker = await self._tracker(sender)
        return open_question_of(tracker) if tracker is not None else OpenQuestion()

    async def replies_to(self, sender: str, message_id: str) -> Optional[List[Dict[str, Any]]]:
        tracker = await self._tracker(sender)
        return replies_to_message(tracker.events, message_id) if tracker is not None else None


def replies_to_message(events, message_id: str) -> Optional[List[Dict[str, Any]]]:
    """The bot's messages after the user message ``message_id``, up to the next one."""
    said: Optional[List[Dict[str, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if said is not None:
                break
            if event.message_id == message_id:
                said = []
        elif said is not None and isinstance(event, BotUttered):
            said.append({"text": event.text, **{k: v for k, v in (event.data or {}).items() if v}})
    return said


def open_question_of(tracker) -> OpenQuestion:
    """Read an ``OpenQuestion`` from a Rasa ``DialogueStateTracker``."""
    answers = tracker.get_slot("answers")
    return OpenQuestion(
        language=supported(tracker.get_slot("language")), form=tracker.active_loop_name,
        requested=tracker.get_slot("requested_slot"), service=tracker.get_slot("service"),
        answers=dict(answers) if isinstance(answers, dict) else {},
        voice_answered=bool(tracker.get_slot("voice_answered")), buttons=tuple(_last_buttons(tracker)))


def _last_buttons(tracker):
    """The buttons of the bot's latest message with buttons since the citizen last spoke."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered) and (event.data or {}).get("buttons"):
            return list(event.data["buttons"])
    return []


class KnownConversations:
    """The port over a dict of sender → ``OpenQuestion``: for tests, no Rasa needed."""

    def __init__(self, questions: Optional[Dict[str, OpenQuestion]] = None):
        self.questions: Dict[str, OpenQuestion] = dict(questions or {})
        self.said: Dict[str, List[Dict[str, Any]]] = {}  # message id → the bot's replies to it

    async def language(self, sender: str) -> Optional[str]:
        return self.questions.get(sender, OpenQuestion()).language

    async def open_question(self, sender: str) -> OpenQuestion:
        return self.questions.get(sender, OpenQuestion())

    async def replies_to(self, sender: str, message_id: str) -> Optional[List[Dict[str, Any]]]:
        return self.said.get(message_id)

"""Drive rasa-sdk actions the way Rasa does: build a Tracker, run, apply the events.

What an action says is rendered by Rasa's own code (``RemoteAction._utter_responses`` with
the templated NLG over domain.yml), exactly as `rasa run` renders an action server's reply:
``response="utter_…"`` picks the ``language`` variation and fills the placeholders.
"""
from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import yaml
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
SLOT_NAMES = list(DOMAIN["slots"]) + ["requested_slot"]
RASA_DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def say(response: str, lang: Optional[str] = None, **values: Any) -> str:
    """The text Rasa says for ``response`` in ``lang`` with ``values`` (one message)."""
    return rendered([{"response": response, **values}], {"language": lang})[0]["text"]


def rendered(messages: List[Dict[str, Any]], slots: Dict[str, Any]) -> List[Dict[str, Any]]:
    """``messages`` collected from an action, as Rasa would send them to the channel."""
    known = {slot.name for slot in RASA_DOMAIN.slots}
    events = [SlotSet(name, value) for name, value in slots.items() if name in known]
    tracker = DialogueStateTracker.from_events("test", events, slots=RASA_DOMAIN.slots)
    nlg = TemplatedNaturalLanguageGenerator(RASA_DOMAIN.responses)
    uttered = asyncio.run(RemoteAction._utter_responses(copy.deepcopy(messages), CollectingOutputChannel(), nlg,
                                                        tracker))
    return [{"text": bot.text, "buttons": bot.data.get("buttons") or [], "response": bot.metadata.get("utter_action"),
             **{k: v for k, v in bot.data.items() if v and k != "buttons"}} for bot in uttered]


def make_tracker(slots: Optional[Dict[str, Any]] = None, text: str = "", intent: Optional[str] = None,
                 entities: Iterable[Dict[str, Any]] = (), sender: str = "919876543210",
                 active_loop: Optional[str] = None, just_set: Iterable[str] = ()) -> Tracker:
    values = {name: None for name in SLOT_NAMES}
    values.update(slots or {})
    events: List[Dict[str, Any]] = [{"event": "user", "text": text}]
    events += [{"event": "slot", "name": name, "value": values[name]} for name in just_set]
    return Tracker(
        sender_id=sender, slots=values,
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": list(entities)},
        events=events, paused=False, followup_action=None,
        active_loop={"name": active_loop} if active_loop else {}, latest_action_name="action_listen",
    )


def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return rendered(dispatcher.messages, tracker.slots), events


def apply(slots: Dict[str, Any], events: List[Dict[str, Any]]) -> Dict[str, Any]:
    slots = dict(slots)
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event["value"]
    return slots


def texts(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


class FormDriver:
    """Fill the catalog-driven application form answer by answer, as Rasa's FormAction would."""

    def __init__(self, service_text: str, lang: str = "en", sender: str = "919876543210",
                 service_entity: Optional[str] = None):
        from actions.service_lookup import ActionResolveService

        self.sender = sender
        self.slots: Dict[str, Any] = {"language": lang}
        entities = [{"entity": "service", "value": service_entity}] if service_entity else []
        self.messages, events = run(ActionResolveService(),
                                    make_tracker(self.slots, service_text, "apply_service", entities, sender))
        self.slots = apply(self.slots, events)
        self.asked: List[Dict[str, Any]] = []
        if self.slots.get("service_match") == "form":
            self._next()

    def _next(self) -> None:
        from actions.application_form import ActionAskConfirmAnswer, ActionAskFieldAnswer, ValidateApplicationForm

        tracker = make_tracker(self.slots, "", None, (), self.sender, "application_form")
        required = asyncio.run(ValidateApplicationForm().required_slots([], CollectingDispatcher(), tracker, DOMAIN))
        missing = [slot for slot in required if self.slots.get(slot) is None]
        self.slots["requested_slot"] = missing[0] if missing else None
        if self.slots["requested_slot"] == "field_answer":
            self.asked, _ = run(ActionAskFieldAnswer(), tracker)
        elif self.slots["requested_slot"] == "confirm_answer":
            self.asked, _ = run(ActionAskConfirmAnswer(), tracker)
        else:
            self.asked = []

    def answer(self, text: str, intent: Optional[str] = "inform",
               entities: Iterable[Dict[str, Any]] = ()) -> List[Dict[str, Any]]:
        """Give one answer; returns what the validation said (empty when accepted)."""
        from actions.application_form import ValidateApplicationForm

        slot = self.slots["requested_slot"]
        self.slots[slot] = text
        tracker = make_tracker(self.slots, text, intent, entities, self.sender, "application_form", just_set=[slot])
        said, events = run(ValidateApplicationForm(), tracker)
        self.slots = apply(self.slots, events)
        self._next()
        return said

    def send_document(self, value: Dict[str, Any]) -> List[Dict[str, Any]]:
        """A photo or PDF as the WhatsApp channel passes it on (kept: key, kind…; refused: problem)."""
        import json

        return self.answer("/inform" + json.dumps({"document": value}), "inform",
                           [{"entity": "document", "value": value}])

    @property
    def done(self) -> bool:
        return self.slots.get("requested_slot") is None

    def submit(self):
        from actions.submission import ActionSubmitApplication

        said, events = run(ActionSubmitApplication(), make_tracker(self.slots, "", None, (), self.sender))
        self.slots = apply(self.slots, events)
        return said, events

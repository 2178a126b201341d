"""Drive rasa-sdk actions the way Rasa does: build a Tracker, run, apply the events."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
SLOT_NAMES = list(DOMAIN["slots"]) + ["requested_slot"]


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
    return dispatcher.messages, events


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

    def answer(self, text: str, intent: Optional[str] = "inform") -> List[Dict[str, Any]]:
        """Give one answer; returns what the validation said (empty when accepted)."""
        from actions.application_form import ValidateApplicationForm

        slot = self.slots["requested_slot"]
        self.slots[slot] = text
        tracker = make_tracker(self.slots, text, intent, (), self.sender, "application_form", just_set=[slot])
        said, events = run(ValidateApplicationForm(), tracker)
        self.slots = apply(self.slots, events)
        self._next()
        return said

    @property
    def done(self) -> bool:
        return self.slots.get("requested_slot") is None

    def submit(self):
        from actions.submission import ActionSubmitApplication

        said, events = run(ActionSubmitApplication(), make_tracker(self.slots, "", None, (), self.sender))
        self.slots = apply(self.slots, events)
        return said, events

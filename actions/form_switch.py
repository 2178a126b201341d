"""switch_form: leave the open application for what the citizen asked in the middle of it.

The form stored the request (``pending_request``: intent, entities, text) when it offered
the choice (utter_offer_switch). Leaving closes the form, forgets its answers (nothing was
submitted), and does what was asked, by the same action that would have done it at the
start of a conversation.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.browse import ActionListServices
from actions.common import FORM_SLOTS, reset
from actions.service_lookup import ActionResolveService, ActionServiceInfo
from actions.status import ActionCheckStatus

# the request's intent → the action that serves it (greet and grievance are said below)
SERVES: Dict[str, Type[Action]] = {"apply_service": ActionResolveService, "service_info": ActionServiceInfo,
          "check_status": ActionCheckStatus, "list_services": ActionListServices}


def as_latest_message(tracker: Tracker, request: Dict[str, Any]) -> Tracker:
    """A copy of ``tracker`` whose latest message is the stored request."""
    entities = [{"entity": name, "value": value} for name, value in (request.get("entities") or {}).items()
                if value not in (None, "")]
    latest = {"text": request.get("text") or "", "intent": {"name": request.get("intent"), "confidence": 1.0},
              "entities": entities, "metadata": {}}
    return Tracker(tracker.sender_id, dict(tracker.slots), latest, tracker.events,
                   tracker.is_paused(), tracker.followup_action, {}, tracker.latest_action_name)


class ActionSwitchForm(Action):
    def name(self) -> Text:
        return "action_switch_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        request: Optional[Dict[str, Any]] = tracker.get_slot("pending_request")
        events: List[Dict[Text, Any]] = [ActiveLoop(None), *reset(FORM_SLOTS)]
        intent = (request or {}).get("intent")
        if intent == "grievance":
            return [*events, FollowupAction("grievance_form")]
        action = SERVES.get(intent or "")
        if action is None:  # "hello", or nothing stored: what can I do for you
            dispatcher.utter_message(response="utter_how_can_help")
            return events
        done = await action().run(dispatcher, as_latest_message(tracker, request or {}), domain)
        events.extend(done)
        if any(e.get("event") == "slot" and e.get("name") == "service_match" and e.get("value") == "form"
               for e in done):
            events.append(FollowupAction("application_form"))
        return events

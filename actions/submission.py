"""Submitting a completed form (exactly once) and cancelling one."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FORM_SLOTS, GRIEVANCE_SLOTS, catalog, fmt_date, language, officer, reset, store
from actions.documents import from_slot
from actions.receipt import send_receipt
from actions.service_card import time_limit_line
from seva import messages

logger = logging.getLogger(__name__)


class ActionSubmitApplication(Action):
    """Store the application; a retried call with the same draft returns the same reference."""

    def name(self) -> Text:
        return "action_submit_application"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        service = catalog().get(tracker.get_slot("service"))
        answers = tracker.get_slot("answers") or {}
        draft_id = tracker.get_slot("draft_id")
        complete = service is not None and draft_id and all(f.id in answers for f in service.fields)
        if tracker.get_slot("confirm_answer") is not True or service is None or not complete:
            dispatcher.utter_message(response="utter_not_submitted")
            return reset(FORM_SLOTS)
        application = store().submit(
            sender_id=tracker.sender_id, draft_id=str(draft_id), service_id=service.id, language=lang,
            fields={f.id: answers[f.id] for f in service.fields}, time_limit_days=service.time_limit_days,
            documents=from_slot(tracker.get_slot("documents")),
        )
        if application.due_date:
            due = messages.text("due_date_exact" if application.due_date_exact else "due_date", lang,
                                days=application.time_limit_days, due=fmt_date(application.due_date))
        else:
            due = time_limit_line(service, lang)
        dispatcher.utter_message(
            response="utter_submitted", service=service.name(lang), reference=application.reference, due=due,
            designated=officer(service, "designated", lang), appellate=officer(service, "appellate", lang))
        try:  # the application is made whatever happens to its receipt; "receipt ORT-…" tries again
            await send_receipt(dispatcher, application, lang)
        except Exception:
            logger.exception("the receipt of %s could not be made", application.reference)
            dispatcher.utter_message(text=messages.text("receipt_not_sent", lang, reference=application.reference))
        return [*reset(FORM_SLOTS), SlotSet("application_id", application.reference)]


class ActionCancel(Action):
    """cancel: leave whichever form is open without submitting anything."""

    def name(self) -> Text:
        return "action_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if not tracker.active_loop_name:
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return []
        dispatcher.utter_message(response="utter_cancelled")
        return [ActiveLoop(None), *reset(set(FORM_SLOTS) | set(GRIEVANCE_SLOTS))]

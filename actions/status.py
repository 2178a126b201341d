"""check_status: an application's status against its ORTPSA time limit, for its own sender only."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from seva.store import Application, normalise_reference

from actions.common import (catalog, fmt_date, language, latest_entity, latest_text, officer_or_unknown,
                            payload, store, today)
from actions.service_card import time_limit_line
from seva.texts import render

REFERENCE = re.compile(r"(?i)\b(ORT|GRV)[\s\-]*([0-9A-Z]{4})[\s\-]*([0-9A-Z]{4})\b")
STATUS_LABELS = {
    "submitted": "utter_status_submitted",
    "in_progress": "utter_status_in_progress",
    "approved": "utter_status_approved",
    "rejected": "utter_status_rejected_label",
}


def reference_in(text: str) -> Optional[str]:
    """The first application reference written in ``text`` (any case, spaces or dashes)."""
    match = REFERENCE.search(text or "")
    return normalise_reference("".join(match.groups())) or None if match else None


def describe(application: Application, lang: str) -> str:
    service = catalog().get(application.service_id)
    name = service.name(lang) if service else application.service_id
    day = application.day_of(today())
    appellate = officer_or_unknown(service.appellate_authority if service else None, lang)
    if application.overdue(today()):
        due = render("utter_status_overdue", lang, due=fmt_date(application.due_date), day=day,
                     days=application.time_limit_days, appellate=appellate, reference=application.reference)
    elif application.due_date and application.status not in ("approved", "rejected"):
        due = render("utter_status_day", lang, days=application.time_limit_days,
                     due=fmt_date(application.due_date), day=day)
    elif service and application.status not in ("approved", "rejected"):
        due = time_limit_line(service, lang)
    else:
        due = ""
    text = render("utter_status", lang, reference=application.reference, service=name,
                  status=render(STATUS_LABELS[application.status], lang),
                  submitted=fmt_date(application.submitted_on), due=due).rstrip()
    history = store().history(application.reference, application.sender_id)
    notes = [change.note for change in history if change.note]
    if notes:
        text += "\n" + render("utter_status_note", lang, note=notes[-1])
    if application.status == "rejected":
        text += "\n" + render("utter_status_rejected", lang, appellate=appellate)
    return text


class ActionCheckStatus(Action):
    def name(self) -> Text:
        return "action_check_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        sender = tracker.sender_id
        asked = latest_entity(tracker, "reference") or reference_in(latest_text(tracker))
        if asked:
            application = store().find(asked, sender)
            if application is None:
                shown = normalise_reference(asked) or asked[:20]
                dispatcher.utter_message(text=render("utter_status_not_found", lang, reference=shown))
                return []
            dispatcher.utter_message(text=describe(application, lang))
            return [SlotSet("application_id", application.reference)]
        mine = store().for_sender(sender, limit=4)
        if not mine:
            dispatcher.utter_message(text=render("utter_no_applications", lang))
            return []
        dispatcher.utter_message(text=describe(mine[0], lang))
        if len(mine) > 1:
            dispatcher.utter_message(
                text=render("utter_other_applications", lang),
                buttons=[{"title": app.reference, "payload": payload("check_status", reference=app.reference)}
                         for app in mine[1:]],
            )
        return [SlotSet("application_id", mine[0].reference)]

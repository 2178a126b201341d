"""check_status: an application's status against its ORTPSA time limit, for its own sender only."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalog, fmt_date, language, latest_entity, latest_text, officer, payload, store, today
from actions.service_card import time_limit_line
from seva import messages, reference
from seva.store import Application, normalise_reference

STATUS_LABELS = {"submitted": "status_submitted", "in_progress": "status_in_progress",
                 "approved": "status_approved", "rejected": "status_rejected_label"}


def reference_in(text: str) -> Optional[str]:
    """The first application reference written in ``text`` (any case, spaces or dashes)."""
    return reference.find_in(text)


def say_status(dispatcher: CollectingDispatcher, application: Application, lang: str) -> None:
    """The status, the ORTPSA clock and the office's last note; then, when the time limit has
    passed or the application was rejected, how to appeal, as a message of its own."""
    service = catalog().get(application.service_id)
    day = application.day_of(today())
    lines = []
    overdue = application.overdue(today())
    # the clock while the office has not decided; once overdue, the appeal message says it
    if not overdue and application.status not in ("approved", "rejected"):
        if application.due_date:
            lines.append(messages.text("status_day", lang, days=application.time_limit_days,
                                       due=fmt_date(application.due_date), day=day))
        elif service:
            lines.append(time_limit_line(service, lang))
    history = store().history(application.reference, application.sender_id)
    notes = [change.note for change in history if change.note]
    if notes:
        lines.append(messages.text("status_note", lang, note=notes[-1]))
    dispatcher.utter_message(
        response="utter_status", reference=application.reference,
        service=service.name(lang) if service else application.service_id,
        status=messages.text(STATUS_LABELS[application.status], lang),
        submitted=fmt_date(application.submitted_on), details="".join("\n" + line for line in lines))
    appellate = officer(service, "appellate", lang)
    if overdue:
        dispatcher.utter_message(response="utter_status_overdue", due=fmt_date(application.due_date), day=day,
                                 days=application.time_limit_days, appellate=appellate,
                                 reference=application.reference)
    if application.status == "rejected":
        dispatcher.utter_message(response="utter_status_rejected", appellate=appellate)


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
                dispatcher.utter_message(response="utter_status_not_found", reference=shown)
                return []
            say_status(dispatcher, application, lang)
            return [SlotSet("application_id", application.reference)]
        mine = store().for_sender(sender, limit=4)
        if not mine:
            dispatcher.utter_message(response="utter_no_applications")
            return []
        say_status(dispatcher, mine[0], lang)
        if len(mine) > 1:
            dispatcher.utter_message(
                response="utter_other_applications",
                buttons=[{"title": app.reference, "payload": payload("check_status", reference=app.reference)}
                         for app in mine[1:]],
            )
        return [SlotSet("application_id", mine[0].reference)]

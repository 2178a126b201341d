"""check_status: an application's status against its ORTPSA time limit, for its own sender only."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalog, fmt_date, language, latest_entity, latest_text, officer, payload, store, today
from actions.service_card import time_limit_line
from seva import clock, messages, reference
from seva.deliveries import DeliveryQueue
from seva.store import Application, normalise_reference

STATUS_LABELS = {"submitted": "status_submitted", "received": "status_received",
                 "in_progress": "status_in_progress", "documents_needed": "status_documents_needed",
                 "approved": "status_approved", "rejected": "status_rejected_label"}
DELIVERY_LINES = {"delivered": "delivery_delivered", "pending": "delivery_pending", "failed": "delivery_failed"}


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
            key = ("status_day" if not application.due_date_exact
                   else "status_day_exact" if day > 0 else "status_day_exact_start")
            lines.append(messages.text(key, lang, days=application.time_limit_days,
                                       due=fmt_date(application.due_date), day=day))
        elif service:
            lines.append(time_limit_line(service, lang))
    delivery = DeliveryQueue(store(), catalog()).of(application.reference)
    if delivery is not None:  # whether it has reached the department (seva/deliveries.py)
        lines.append(messages.text(DELIVERY_LINES[delivery.state], lang,
                                   date=fmt_date(clock.ist_date(delivery.delivered_at or clock.now_utc()))))
    history = store().history(application.reference, application.sender_id)
    notes = [change.note for change in history if change.note]
    if notes:
        lines.append(messages.text("status_note", lang, note=notes[-1]))
    if history and history[-1].certificate_url and application.status == "approved":
        lines.append(messages.text("notice_collect_link", lang, url=history[-1].certificate_url))
    if history and history[-1].documents_requested and application.status == "documents_needed":
        lines.append("\n".join(f"• {d}" for d in history[-1].documents_requested))
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

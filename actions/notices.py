"""action_notify_application: what to tell a citizen when their application changes or is overdue.

Not predicted from a message: the Rasa server runs it on the citizen's conversation when
a notice is due (channels/department.py, through Rasa's ``execute_action``), so the notice
is part of the conversation — the citizen's answer to it ("appeal", a photo of the
document asked for) is read in that context — and its words are domain responses a
designer edits. The notice is the citizen's oldest pending one (they are sent one at a
time, in order: seva/notices.py).

Besides the free-form messages, the action describes the same notice as an approved
WhatsApp template (templates/whatsapp/), in a custom payload: outside the 24-hour window
the channel sends that instead.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalog, fmt_date, officer, payload, store
from actions.status import STATUS_LABELS
from seva import messages
from seva.language import supported
from seva.notices import NoticeQueue
from seva.store import Application, StatusChange

TEMPLATE_KEY = "whatsapp_template"  # the custom payload the channel reads (channels/department.py)


class ActionNotifyApplication(Action):
    def name(self) -> Text:
        return "action_notify_application"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        notice = NoticeQueue(store()).oldest_pending_for(tracker.sender_id)
        if notice is None:
            return []
        application = store().application_by_id(notice["application_id"], tracker.sender_id)
        if application is None:
            return []
        change = store().change(notice["history_id"]) if notice["history_id"] else None
        lang = supported(tracker.get_slot("language")) or application.language
        if notice["kind"] == "overdue":
            template = self._overdue(dispatcher, application, lang)
        elif change is not None:
            template = self._status(dispatcher, application, change, lang)
        else:
            return []
        template["notice_id"] = notice["id"]
        template["language"] = lang
        dispatcher.utter_message(json_message={TEMPLATE_KEY: template})
        return [SlotSet("application_id", application.reference)]

    def _status(self, dispatcher: CollectingDispatcher, application: Application, change: StatusChange,
                lang: str) -> Dict[str, Any]:
        service = catalog().get(application.service_id)
        name = service.name(lang) if service else application.service_id
        common = {"reference": application.reference, "service": name}
        if change.status == "documents_needed":
            documents = "\n".join(f"• {d}" for d in change.documents_requested) or f"• {change.note or '-'}"
            note = f"\n{messages.text('status_note', lang, note=change.note)}" if change.note else ""
            dispatcher.utter_message(response="utter_notice_documents_needed", documents=documents, note=note,
                                     **common)
            return _template("seva_documents_needed", common, documents="; ".join(change.documents_requested)
                             or change.note or "-")
        if change.status == "approved":
            collect = _collect(change, service, lang)
            dispatcher.utter_message(response="utter_notice_approved", collect=collect, **common)
            return _template("seva_approved", common, collect=collect)
        if change.status == "rejected":
            reason = change.note or messages.text("notice_no_reason", lang)
            appellate = officer(service, "appellate", lang)
            button = _appeal_button(application, lang)
            dispatcher.utter_message(response="utter_notice_rejected", reason=reason, appellate=appellate,
                                     buttons=[button], **common)
            return _template("seva_rejected", common, reason=reason, appellate=appellate,
                             button_payloads=[button["payload"]])
        status = messages.text(STATUS_LABELS[change.status], lang)
        note = f"\n{messages.text('status_note', lang, note=change.note)}" if change.note else ""
        dispatcher.utter_message(response="utter_notice_status", status=status, note=note, **common)
        return _template("seva_status_update", common, status=status)

    def _overdue(self, dispatcher: CollectingDispatcher, application: Application, lang: str) -> Dict[str, Any]:
        service = catalog().get(application.service_id)
        common = {"reference": application.reference,
                  "service": service.name(lang) if service else application.service_id}
        appellate = officer(service, "appellate", lang)
        due = fmt_date(application.due_date)
        button = _appeal_button(application, lang)
        dispatcher.utter_message(response="utter_notice_overdue", due=due, appellate=appellate,
                                 buttons=[button], **common)
        return _template("seva_overdue", common, due_date=due, appellate=appellate,
                         button_payloads=[button["payload"]])


def _template(name: str, common: Dict[str, str], button_payloads: Optional[List[str]] = None,
              **values: str) -> Dict[str, Any]:
    return {"name": name, "values": {**common, **values}, "button_payloads": button_payloads or []}


def _appeal_button(application: Application, lang: str) -> Dict[str, str]:
    """Files a complaint about this application in the chat (the grievance form, reference filled)."""
    return {"title": messages.text("appeal_button", lang),
            "payload": payload("grievance", reference=application.reference)}


def _collect(change: StatusChange, service, lang: str) -> str:
    """Where the approved certificate is: the department's link, else the designated officer's office."""
    if change.certificate_url:
        return messages.text("notice_collect_link", lang, url=change.certificate_url)
    title = service.officer("designated", lang) if service is not None else None
    if title:
        return messages.text("notice_collect_office", lang, officer=title)
    return messages.text("notice_collect_ask", lang)

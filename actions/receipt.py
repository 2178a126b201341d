"""The acknowledgement receipt: a PDF in the citizen's language and script, after submitting
and again on request ("receipt ORT-…", "ରସିଦ", "रसीद").

The action renders it (seva/receipt.py) and keeps it in the document store (content-addressed:
the same receipt twice is one object); the channel sends it. On WhatsApp the channel uploads
it to WhatsApp's media and sends a document message (channels/whatsapp.py); the action only
says which file, in a custom payload, so the receipt is part of the conversation like any reply.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalog, language, latest_entity, latest_text, store
from actions.status import reference_in
from seva import messages
from seva.document_store import document_store_from_env
from seva.receipt import ReceiptDocument, render_receipt
from seva.store import Application, normalise_reference

DOCUMENT_KEY = "whatsapp_document"  # the custom payload channels/whatsapp.py sends as a document


def attached(application: Application, lang: str) -> List[ReceiptDocument]:
    """The documents linked to the application, as the receipt names them: the question each
    answers in the citizen's language, or that the office asked for it."""
    service = catalog().get(application.service_id)
    labels = {f.id: f.label.get(lang) or f.label.get("en") or f.id for f in (service.fields if service else [])}
    requested = messages.text("receipt_document_requested", lang)
    return [ReceiptDocument(labels.get(d.field_id or "", d.field_id or requested), d.kind)
            for d in store().documents(application.reference, application.sender_id)]


def _render_and_keep(application: Application, lang: str) -> str:
    pdf = render_receipt(application, catalog(), lang, attached(application, lang))
    return document_store_from_env().put(pdf, "application/pdf")


async def send_receipt(dispatcher: CollectingDispatcher, application: Application, lang: str) -> None:
    """Render the receipt (about a second of CPU: off the action server's event loop, where other
    citizens' actions run), keep it, and ask the channel to send it."""
    key = await asyncio.to_thread(_render_and_keep, application, lang)
    dispatcher.utter_message(json_message={DOCUMENT_KEY: {
        "key": key, "mime": "application/pdf", "filename": f"{application.reference}.pdf",
        "caption": messages.text("receipt_caption", lang, reference=application.reference),
        "fallback": messages.text("receipt_not_sent", lang, reference=application.reference)}})


class ActionSendReceipt(Action):
    """request_receipt: the receipt of the sender's own application (the one named, else the latest)."""

    def name(self) -> Text:
        return "action_send_receipt"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        lang = language(tracker)
        asked = latest_entity(tracker, "reference") or reference_in(latest_text(tracker))
        if asked:
            application = store().find(asked, tracker.sender_id)
            if application is None:
                dispatcher.utter_message(response="utter_status_not_found",
                                         reference=normalise_reference(asked) or asked[:20])
                return []
        else:
            mine = store().for_sender(tracker.sender_id, limit=1)
            if not mine:
                dispatcher.utter_message(response="utter_no_applications")
                return []
            application = mine[0]
        await send_receipt(dispatcher, application, lang)
        return [SlotSet("application_id", application.reference)]

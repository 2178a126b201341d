"""Documents citizens send: as the answer to a document question, as a supporting document
before they submit, or later, when the office asked for documents.

The WhatsApp channel has already fetched, checked and kept the file (channels/document_intake.py)
and tells Rasa with ``/inform{"document": {...}}``: the kept document (``key``, ``kind``,
``media_type``, ``size``, ``pages``) or the reason it was refused (``problem``). ``inform`` with
an entity rather than a new intent: an intent named in the rules changes the NLU model's
label vocabulary and so its training (docs/nlu-seeds.md).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import store
from seva import documents
from seva.document_store import document_store_from_env
from seva.store import Document

ENTITY = "document"
PROBLEMS = (*documents.REASONS, "not_received")


def document_in(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The document entity of the latest message (kept or refused), else None."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == ENTITY and isinstance(entity.get("value"), dict):
            return entity["value"]
    return None


def as_document(value: Dict[str, Any], field_id: Optional[str] = None) -> Optional[Document]:
    """The kept document the channel described, or None for a refusal or anything malformed."""
    try:
        return Document(key=str(value["key"]), kind=str(value["kind"]), media_type=str(value["media_type"]),
                        size=int(value["size"]), pages=int(value.get("pages") or 1), field_id=field_id)
    except (KeyError, TypeError, ValueError):
        return None


def kept(value: Dict[str, Any], field_id: Optional[str] = None) -> Optional[Document]:
    """``as_document``, only when the document store has it: a citizen can type
    ``/inform{"document": …}`` themselves, and must not link what the channel never kept."""
    document = as_document(value, field_id)
    if document is None or document.kind not in documents.KINDS:
        return None
    try:
        return document if document_store_from_env().exists(document.key) else None
    except ValueError:  # not a document key at all
        return None


def as_slot_value(document: Document) -> Dict[str, Any]:
    """How the form keeps a document until it is submitted (the ``documents`` slot)."""
    return {"key": document.key, "kind": document.kind, "media_type": document.media_type,
            "size": document.size, "pages": document.pages, "field_id": document.field_id}


def from_slot(values: Any) -> List[Document]:
    return [d for d in (as_document(v, v.get("field_id")) for v in values or [] if isinstance(v, dict)) if d]


def say_refused(dispatcher: CollectingDispatcher, problem: Any) -> None:
    """The reply for a document we did not keep, in the citizen's language (domain responses)."""
    reason = problem if problem in PROBLEMS else "not_received"
    limits = documents.Limits.from_env()
    dispatcher.utter_message(response=f"utter_document_refused_{reason}", pages=limits.max_pages,
                             megabytes=limits.document_max_bytes // documents.MiB,
                             photo_megabytes=limits.image_max_bytes // documents.MiB)


class ActionTakeDocument(Action):
    """A document outside a form: kept for the citizen's own application that is waiting for
    documents (the department asked), else explained."""

    def name(self) -> Text:
        return "action_take_document"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        value = document_in(tracker)
        if value is None:
            return []
        document = kept(value)
        if document is None:
            say_refused(dispatcher, value.get("problem"))
            return []
        waiting = [a for a in store().for_sender(tracker.sender_id, limit=5) if a.status == "documents_needed"]
        if not waiting:
            dispatcher.utter_message(response="utter_document_not_expected")
            return []
        application = waiting[0]  # the newest one the office is waiting on
        store().attach_document(application.reference, tracker.sender_id, document)
        count = len(store().documents(application.reference, tracker.sender_id))
        dispatcher.utter_message(response="utter_document_attached", reference=application.reference, count=count)
        return [SlotSet("application_id", application.reference)]


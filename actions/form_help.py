"""A citizen in the middle of the application form never gets stuck.

Three situations the form itself would get wrong:

- the same question refused twice: from the second refusal on, the question comes with
  the closest valid choices (districts as a WhatsApp list, paged within its 10 rows) or
  the answer's format with an example, and a way out (cancel, talk to the office);
- a request in the middle of the form ("hello", another service, a status): not taken as
  the answer; the citizen is asked whether to continue or leave the form for it;
- an edit of the WhatsApp message that answered the previous question: that answer is
  replaced (any other edit is explained, not taken as an answer).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.common import catalog, index, latest_entity, latest_intent, latest_text, payload
from seva import messages
from seva.catalog import Field, Service
from seva.textnorm import latin_key
from seva.validators import closest_districts

STUCK_AFTER = 2  # refused answers in a row to one question before the help shows
CHOICES_PER_PAGE = 7  # + "More…", "Cancel", "Talk to the office" = WhatsApp's 10 list rows
# what a citizen may ask for in the middle of a form; the NLU must be this sure
INTERRUPTIONS = ("greet", "check_status", "apply_service", "service_info", "list_services", "grievance")
INTERRUPTION_CONFIDENCE = 0.8
# answers typed freely: an interruption is checked before the answer ("hello" is a valid name)
FREE_TYPES = ("name", "text")


# --------------------------------------------------------------------------- stuck answers
def failures_for(tracker: Tracker, field: Field) -> Dict[str, Any]:
    """The refused answers in a row to ``field`` ({"field", "count", "last"})."""
    failures = tracker.get_slot("field_failures") or {}
    return failures if failures.get("field") == field.id else {"field": field.id, "count": 0, "last": ""}


def one_more_failure(tracker: Tracker, field: Field, answer: str, message: Optional[str]) -> Dict[str, Any]:
    """The refusals after one more; ``message``: the WhatsApp id of the refused answer, so
    that an edit of it counts as a new answer."""
    failures = failures_for(tracker, field)
    return {"field": field.id, "count": int(failures["count"]) + 1, "last": answer[:100], "message_id": message}


def field_by_id(service: Service, field_id: Optional[str]) -> Optional[Field]:
    return next((f for f in service.fields if f.id == field_id), None)


def is_stuck(tracker: Tracker, field: Field) -> bool:
    return int(failures_for(tracker, field)["count"]) >= STUCK_AFTER


def way_out(lang: str) -> List[Dict[str, str]]:
    return [{"title": messages.text("cancel_button", lang), "payload": "/cancel"},
            {"title": messages.text("office_button", lang), "payload": "/human_help"}]


def field_buttons(field: Field, lang: str) -> List[Dict[str, str]]:
    """The buttons a question of ``field`` is asked with: its choices, or yes and no."""
    if field.type == "choice":
        return [{"title": c["label"][lang], "payload": c["id"]} for c in field.choice_list()]
    if field.type == "yes_no":
        return [{"title": messages.text("yes", lang), "payload": "yes"},
                {"title": messages.text("no", lang), "payload": "no"}]
    if field.type == "document" and not field.required:  # the photo itself comes as an attachment
        return [{"title": messages.text("skip_button", lang), "payload": "skip"}]
    return []


def choices(field: Field, lang: str, last_answer: str) -> List[Dict[str, str]]:
    """Every valid answer as a button, the likeliest first: the districts ordered by
    likeness to the refused answer, else the question's own buttons."""
    if field.type == "district":
        districts = catalog().districts
        return [{"title": districts[did].name(lang), "payload": did}
                for did in closest_districts(last_answer, catalog())]
    return field_buttons(field, lang)


def example(field: Field, lang: str) -> str:
    """How an answer to ``field`` is written, in the citizen's language."""
    if field.type == "number":
        low, high = field.options.get("min"), field.options.get("max")
        number = 2 if low is None else max(int(low), 2)
        if high is not None:
            number = min(number, int(high))
        return messages.text("example_number", lang, number=number)
    if field.type == "text":
        return messages.text("example_text", lang, min=int(field.options.get("min_length", 2)))
    return messages.text(f"example_{field.type}", lang)


def stuck_question(tracker: Tracker, field: Field, question: str, lang: str) -> Dict[str, Any]:
    """``dispatcher.utter_message`` arguments for a question refused twice or more."""
    options = choices(field, lang, failures_for(tracker, field)["last"])
    if not options:
        return {"response": "utter_field_stuck_format", "question": question, "example": example(field, lang),
                "buttons": way_out(lang)}
    page = int(tracker.get_slot("field_page") or 0)
    pages = max(1, -(-len(options) // CHOICES_PER_PAGE))
    page = page % pages
    shown = options[page * CHOICES_PER_PAGE:(page + 1) * CHOICES_PER_PAGE]
    if pages > 1:
        shown.append({"title": messages.text("more", lang), "payload": payload("inform", page=str(page + 1))})
    return {"response": "utter_field_stuck_choices", "question": question, "buttons": shown + way_out(lang)}


def asked_for_page(tracker: Tracker) -> Optional[int]:
    """The "More…" row of a stuck question's list was tapped: the page asked for."""
    page = latest_entity(tracker, "page")
    if latest_text(tracker).startswith("/") and page is not None and page.isdigit():
        return int(page)
    return None


# --------------------------------------------------------------------------- interruptions
def interruption(tracker: Tracker, service: Optional[Service], question: str) -> Optional[Dict[str, Any]]:
    """What the citizen asked for instead of answering ``question`` (a field id, or
    "confirm"), or None for an answer.

    A request counts only when the NLU is sure of it; naming a service counts only when it
    is another service than the one being applied for. Once the citizen chose to continue
    this question, what they send next is their answer, even if it reads like a request.
    """
    intent = latest_intent(tracker)
    if intent not in INTERRUPTIONS or not sure(tracker):
        return None
    if (tracker.get_slot("pending_request") or {}).get("declined") == question:
        return None
    if intent == "greet" and not greeting_in(latest_text(tracker)):
        return None  # a name the NLU took for a greeting ("रामलाल"): greetings are a short, known list
    entities = {e["entity"]: e.get("value") for e in tracker.latest_message.get("entities") or []
                if e.get("entity") in ("service", "reference", "department", "language")}
    if intent in ("apply_service", "service_info"):
        named = catalog().get(entities.get("service")) or index().resolve(latest_text(tracker)).service
        if named is None or (service is not None and named.id == service.id):
            return None
        entities["service"] = named.id
    return {"intent": intent, "entities": entities, "text": latest_text(tracker)[:500]}


_GREETINGS = {latin_key(word) for word in messages.words("GREETINGS")}


def greeting_in(text: str) -> bool:
    """Whether ``text`` holds a greeting word of any language ("namaste", ନମସ୍କାର, "hello")."""
    key = " " + " ".join(latin_key(text).split()) + " "
    return any(f" {greeting} " in key for greeting in _GREETINGS)


def sure(tracker: Tracker) -> bool:
    """Whether the NLU is sure enough of the latest intent to act on it mid-form."""
    confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
    return confidence >= INTERRUPTION_CONFIDENCE


# --------------------------------------------------------------------------- edits
def edit_of(tracker: Tracker) -> Optional[str]:
    """The WhatsApp id of the message the latest message edits, if it is an edit."""
    whatsapp = (tracker.latest_message.get("metadata") or {}).get("whatsapp") or {}
    original = whatsapp.get("edit_of")
    return str(original) if original else None


def message_id(tracker: Tracker) -> Optional[str]:
    whatsapp = (tracker.latest_message.get("metadata") or {}).get("whatsapp") or {}
    return str(whatsapp["message_id"]) if whatsapp.get("message_id") else None

"""What every action needs: the citizen's language, the catalog, the store, small helpers.

Actions say whole messages through Rasa's response system,
``dispatcher.utter_message(response="utter_…", **values)``: Rasa picks the variation for
the ``language`` slot and fills the placeholders, so the texts stay in ``domain.yml``
where designers edit them. The small pieces that go into those values (button titles,
"not known", a time-limit line) come from ``seva.messages``.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from seva import clock, messages
from seva.catalog import Catalog, Service, default_catalog
from seva.formatting import rupees  # noqa: F401  (re-exported for the actions)
from seva.language import DEFAULT_LANGUAGE, supported
from seva.search import ServiceIndex, index_for
from seva.store import Store, default_store

FORM_SLOTS = ("field_answer", "confirm_answer", "answers", "documents", "draft_id", "voice_answered",
              "field_failures", "field_page", "last_answer", "pending_request", "requested_slot")
GRIEVANCE_SLOTS = ("grievance_reference", "grievance_details", "requested_slot")


def language(tracker: Tracker) -> str:
    """The conversation's language, for the pieces the action puts together itself."""
    return supported(tracker.get_slot("language")) or DEFAULT_LANGUAGE


def catalog() -> Catalog:
    return default_catalog()


def index() -> ServiceIndex:
    return index_for(catalog())


def store() -> Store:
    return default_store()


def today() -> dt.date:
    """Today in India: ORTPSA days are counted in Asia/Kolkata, whatever the server's zone."""
    return clock.today_ist()


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    """The value of entity ``name`` in the latest message (button payloads carry these)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in (None, ""):
            return str(entity["value"])
    return None


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def by_voice(tracker: Tracker) -> bool:
    """Whether the latest message came from a voice note (the channel says so in metadata)."""
    voice = (tracker.latest_message.get("metadata") or {}).get("voice") or {}
    return voice.get("outcome") in ("ok", "choice")


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def reset(names) -> List[Dict[str, Any]]:
    return [SlotSet(name, None) for name in names]


def payload(intent: str, **entities: Any) -> str:
    """A button payload that sets an intent and entities exactly: ``/intent{"k":"v"}``."""
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else "")


def fmt_date(value: Optional[dt.date]) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def officer(service: Optional[Service], kind: str, lang: str) -> str:
    """The ``designated``/``appellate``/``revisional`` officer of ``service`` in ``lang``, or "not known"."""
    title = service.officer(kind, lang) if service is not None else None
    return title or messages.text("unknown_value", lang)


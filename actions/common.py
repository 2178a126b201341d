"""What every action needs: the citizen's language, the catalog, the store, small helpers."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from seva import clock
from seva.formatting import rupees  # noqa: F401  (re-exported for the actions)
from seva.texts import render
from seva.catalog import Catalog, default_catalog
from seva.search import ServiceIndex, index_for
from seva.store import Store, default_store

FORM_SLOTS = ("field_answer", "confirm_answer", "answers", "draft_id", "voice_answered", "requested_slot")
GRIEVANCE_SLOTS = ("grievance_reference", "grievance_details", "requested_slot")


def language(tracker: Tracker) -> str:
    lang = tracker.get_slot("language")
    return lang if lang in ("en", "hi", "or") else "en"


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


def officer_or_unknown(value: Optional[str], lang: str) -> str:
    return value or render("utter_unknown_value", lang)


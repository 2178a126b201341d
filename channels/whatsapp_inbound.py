"""Parse a WhatsApp Cloud API webhook body into what the channel acts on.

One POST may carry several entries, changes and messages (batches of up to 1000), and
``statuses`` about messages we sent. Nothing here talks to Rasa or the network: malformed
parts are skipped and counted, never raised, so one bad item cannot hide the others.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

# Message types whose content Rasa can read as text.
TEXT_TYPES = {"text", "interactive", "button"}
# Types we answer with "here is what I can take" (in the citizen's language).
UNSUPPORTED_TYPES = {"location", "image", "document", "sticker", "contacts", "unsupported", "video"}
IGNORED_TYPES = {"reaction", "system", "ephemeral", "request_welcome"}


class MalformedPayload(ValueError):
    """The body is not JSON or not a WhatsApp Business Account notification."""


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    sender: str  # wa_id, or the business-scoped user_id when wa_id is absent
    type: str
    timestamp: int
    text: Optional[str] = None  # for text, button and list replies: what Rasa should read
    media_id: Optional[str] = None
    mime_type: Optional[str] = None
    voice: bool = False
    profile_name: Optional[str] = None
    phone_number_id: Optional[str] = None


@dataclass(frozen=True)
class StatusUpdate:
    message_id: str
    status: str
    recipient: str
    timestamp: int
    error_code: Optional[int] = None
    error_title: Optional[str] = None


@dataclass
class Notification:
    messages: List[InboundMessage] = field(default_factory=list)
    statuses: List[StatusUpdate] = field(default_factory=list)
    skipped: int = 0


def decode(body: bytes) -> Dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedPayload(f"not JSON: {error.__class__.__name__}") from None
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise MalformedPayload("not a whatsapp_business_account notification")
    if not isinstance(data.get("entry"), list):
        raise MalformedPayload("no entry list")
    return data


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _text_of(message: Dict[str, Any]) -> Optional[str]:
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body")
        return body if isinstance(body, str) else None
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get(interactive.get("type") or "") or {}
        value = reply.get("id") if isinstance(reply, dict) else None
        return value if isinstance(value, str) else None
    if kind == "button":
        button = message.get("button") or {}
        value = button.get("payload") or button.get("text")
        return value if isinstance(value, str) else None
    return None


def parse(data: Dict[str, Any]) -> Notification:
    out = Notification()
    for entry in data.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                out.skipped += 1
                continue
            phone_number_id = (value.get("metadata") or {}).get("phone_number_id")
            contacts = [c for c in value.get("contacts") or [] if isinstance(c, dict)]
            names = {}
            for contact in contacts:
                key = contact.get("wa_id") or contact.get("user_id")
                if key:
                    names[str(key)] = (contact.get("profile") or {}).get("name")
            for message in value.get("messages") or []:
                parsed = _message(message, names, contacts, phone_number_id)
                if parsed is None:
                    out.skipped += 1
                else:
                    out.messages.append(parsed)
            for status in value.get("statuses") or []:
                parsed_status = _status(status)
                if parsed_status is None:
                    out.skipped += 1
                else:
                    out.statuses.append(parsed_status)
    return out


def _message(message: Any, names: Dict[str, Any], contacts: List[Dict[str, Any]],
             phone_number_id: Optional[str]) -> Optional[InboundMessage]:
    if not isinstance(message, dict):
        return None
    message_id = message.get("id")
    sender = message.get("from") or message.get("from_user_id")
    if not sender and len(contacts) == 1:
        sender = contacts[0].get("wa_id") or contacts[0].get("user_id")
    kind = message.get("type")
    if not isinstance(message_id, str) or not message_id or not sender or not isinstance(kind, str):
        return None
    media = message.get(kind) if kind in {"audio", "image", "document", "sticker", "video"} else None
    media = media if isinstance(media, dict) else {}
    return InboundMessage(
        message_id=message_id, sender=str(sender), type=kind, timestamp=_int(message.get("timestamp")),
        text=_text_of(message), media_id=media.get("id"), mime_type=media.get("mime_type"),
        voice=bool(media.get("voice")), profile_name=names.get(str(sender)), phone_number_id=phone_number_id,
    )


def _status(status: Any) -> Optional[StatusUpdate]:
    if not isinstance(status, dict) or not isinstance(status.get("id"), str) or not status.get("status"):
        return None
    errors = status.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return StatusUpdate(
        message_id=status["id"], status=str(status["status"]), recipient=str(status.get("recipient_id") or ""),
        timestamp=_int(status.get("timestamp")), error_code=_int(first.get("code")) or None,
        error_title=first.get("title") or first.get("message"),
    )

"""Parse a WhatsApp Cloud API webhook body into what the channel acts on.

One POST may carry several entries, changes and messages (batches of up to 1000), and
``statuses`` about messages we sent. Nothing here talks to Rasa or the network: malformed
parts are skipped and counted, never raised, so one bad item cannot hide the others.

A citizen may edit or delete a message they sent (shapes as in pywa's fixtures,
``tests/data/updates/edit_message.json`` and ``delete_message.json``): ``edit`` carries
``{"original_message_id", "message": {"type", <type>: …}}``, parsed into the edit's own id,
the original's id (``edit_of``) and the new text (a text body, or an edited caption;
none for anything else); ``revoke`` carries ``{"original_message_id"}`` and is not answered.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

# Message types whose content Rasa can read as text (an edit: its new text).
TEXT_TYPES = {"text", "interactive", "button", "edit"}
# Types we answer with "here is what I can take" (in the citizen's language).
DOCUMENT_TYPES = {"image", "document"}  # photos and files: channels/document_intake.py
UNSUPPORTED_TYPES = {"location", "sticker", "contacts", "unsupported", "video"}
# Types that get no answer and never reach Rasa ("revoke": the citizen deleted a message).
IGNORED_TYPES = {"reaction", "system", "ephemeral", "request_welcome", "revoke"}


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
    edit_of: Optional[str] = None  # edit, revoke: the id of the message edited or deleted


@dataclass(frozen=True)
class StatusUpdate:
    message_id: str
    status: str
    recipient: str
    timestamp: int
    error_code: Optional[int] = None
    error_title: Optional[str] = None
    callback: Optional[str] = None  # the biz_opaque_callback_data we sent with the message


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
    except (TypeError, ValueError, OverflowError):  # None, "abc", inf
        return 0


def _dict(value: Any) -> Dict[str, Any]:
    """``value`` when it is an object, else an empty one: a body may put anything anywhere."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def _text_of(message: Dict[str, Any]) -> Optional[str]:
    kind = message.get("type")
    if kind == "edit":  # the new version: its text, or an edited caption
        edited = _dict(_dict(message.get("edit")).get("message"))
        inner = edited.get("type")
        if inner == "text":
            return _text_of(edited)
        caption = _dict(edited.get(inner)).get("caption") if isinstance(inner, str) else None
        return caption if isinstance(caption, str) else None
    if kind == "text":
        body = _dict(message.get("text")).get("body")
        return body if isinstance(body, str) else None
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        kind = interactive.get("type")
        reply = _dict(interactive.get(kind)) if isinstance(kind, str) else {}
        value = reply.get("id")
        return value if isinstance(value, str) else None
    if kind == "button":
        button = _dict(message.get("button"))
        value = button.get("payload") or button.get("text")
        return value if isinstance(value, str) else None
    return None


def parse(data: Dict[str, Any]) -> Notification:
    out = Notification()
    for entry in _list(data.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(change).get("value")
            if not isinstance(value, dict):
                out.skipped += 1
                continue
            phone_number_id = _dict(value.get("metadata")).get("phone_number_id")
            phone_number_id = phone_number_id if isinstance(phone_number_id, str) else None
            contacts = [c for c in _list(value.get("contacts")) if isinstance(c, dict)]
            names = {}
            for contact in contacts:
                key = contact.get("wa_id") or contact.get("user_id")
                name = _dict(contact.get("profile")).get("name")
                if key and isinstance(key, (str, int)):
                    names[str(key)] = name if isinstance(name, str) else None
            for message in _list(value.get("messages")):
                parsed = _message(message, names, contacts, phone_number_id)
                if parsed is None:
                    out.skipped += 1
                else:
                    out.messages.append(parsed)
            for status in _list(value.get("statuses")):
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
    if not isinstance(message_id, str) or not message_id or not isinstance(kind, str):
        return None
    if not isinstance(sender, (str, int)) or isinstance(sender, bool) or not str(sender).strip():
        return None
    media = message.get(kind) if kind in {"audio", "image", "document", "sticker", "video"} else None
    media = _dict(media)
    media_id, mime_type = media.get("id"), media.get("mime_type")
    original = _dict(message.get(kind)).get("original_message_id") if kind in ("edit", "revoke") else None
    return InboundMessage(
        message_id=message_id, sender=str(sender), type=kind, timestamp=_int(message.get("timestamp")),
        text=_text_of(message), media_id=media_id if isinstance(media_id, str) else None,
        mime_type=mime_type if isinstance(mime_type, str) else None, voice=media.get("voice") is True,
        profile_name=names.get(str(sender)), phone_number_id=phone_number_id,
        edit_of=original if isinstance(original, str) and original else None,
    )


def _status(status: Any) -> Optional[StatusUpdate]:
    if not isinstance(status, dict) or not isinstance(status.get("id"), str) or not status.get("status"):
        return None
    errors = _list(status.get("errors"))
    first = _dict(errors[0]) if errors else {}
    return StatusUpdate(
        message_id=status["id"], status=str(status["status"]), recipient=str(status.get("recipient_id") or ""),
        timestamp=_int(status.get("timestamp")), error_code=_int(first.get("code")) or None,
        error_title=next((t for t in (first.get("title"), first.get("message")) if isinstance(t, str) and t), None),
        callback=status["biz_opaque_callback_data"] if isinstance(status.get("biz_opaque_callback_data"), str)
        else None,
    )

"""Turn Rasa's bot messages into WhatsApp Cloud API message bodies, within Meta's limits.

Limits (reference/whatsapp-cloud-api.md): text ≤ 4096; reply buttons ≤ 3 with titles ≤ 20
and ids ≤ 256, body ≤ 1024; list ≤ 10 rows, row title ≤ 24, description ≤ 72, id ≤ 200,
button label ≤ 20; media captions ≤ 1024, document file names ≤ 240. Nothing is cut
silently: long text is split at paragraph, line or sentence boundaries; a shortened title
ends in "…" and its full text goes into the row description or the message body. The
list's button label is in the script of the message (seva/messages, key ``list_label``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from seva import messages
from seva.textnorm import script_of

TEXT_LIMIT = 4096
BODY_LIMIT = 1024
BUTTON_TITLE = 20
BUTTON_ID = 256
ROW_TITLE = 24
ROW_DESCRIPTION = 72
ROW_ID = 200
MAX_BUTTONS = 3
MAX_ROWS = 10
FILENAME_LIMIT = 240


@dataclass
class Outbound:
    """Bodies to POST in order, and number → payload for menus sent as numbered text."""

    bodies: List[Dict[str, Any]] = field(default_factory=list)
    menu: Dict[str, str] = field(default_factory=dict)


def _envelope(to: str, kind: str, content: Dict[str, Any]) -> Dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content}


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits, else cut at a word boundary with "…" (never mid-word if avoidable)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–") + "…"


_BREAKS = [re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?।])\s+"), re.compile(r"\s+")]


def split_text(text: str, limit: int = TEXT_LIMIT) -> List[str]:
    """Pieces of at most ``limit`` characters, broken at the gentlest boundary available."""
    text = text.strip()
    pieces: List[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for pattern in _BREAKS:
            ends = [m.start() for m in pattern.finditer(window) if 0 < m.start() <= limit]
            if ends:
                cut = ends[-1]
                break
        if cut <= 0:
            cut = limit  # one unbroken "word" longer than the limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def text_messages(to: str, text: str) -> List[Dict[str, Any]]:
    return [_envelope(to, "text", {"body": piece, "preview_url": False}) for piece in split_text(text)]


def _body_and_rest(to: str, text: str) -> Tuple[List[Dict[str, Any]], str]:
    """Interactive bodies hold 1024 characters: earlier parts go out as plain text first."""
    parts = split_text(text or "", BODY_LIMIT)
    if not parts:
        return [], "…"
    return [m for part in parts[:-1] for m in text_messages(to, part)], parts[-1]


def buttons_message(to: str, text: str, buttons: List[Dict[str, Any]]) -> Outbound:
    out = Outbound()
    buttons = [b for b in buttons if isinstance(b, dict) and b.get("title")]
    if not buttons:
        out.bodies = text_messages(to, text)
        return out
    lead, body = _body_and_rest(to, text)
    out.bodies.extend(lead)
    ids = [str(b.get("payload") or b["title"]) for b in buttons]
    titles = [shorten(b["title"], BUTTON_TITLE) for b in buttons]
    # reply buttons only when their short titles can be told apart; else a list (with descriptions)
    if (len(buttons) <= MAX_BUTTONS and all(len(i) <= BUTTON_ID for i in ids) and len(set(ids)) == len(ids)
            and len(set(titles)) == len(titles)):
        full = [str(b["title"]) for b, t in zip(buttons, titles, strict=True) if t != " ".join(str(b["title"]).split())]
        if full:
            body = _append_within(body, "\n\n" + "\n".join(f"• {f}" for f in full), BODY_LIMIT, out, to)
        out.bodies.append(_envelope(to, "interactive", {
            "type": "button", "body": {"text": body},
            "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}}
                                   for i, t in zip(ids, titles, strict=True)]},
        }))
        return out
    if len(buttons) <= MAX_ROWS and len(set(ids)) == len(ids):
        rows = []
        for number, (button, row_id) in enumerate(zip(buttons, ids, strict=True), start=1):
            if len(row_id) > ROW_ID:  # too long for Meta: tap by alias, resolved by the channel
                out.menu[f"#{number}"] = row_id
                row_id = f"#{number}"
            title = shorten(button["title"], ROW_TITLE)
            row = {"id": row_id, "title": title}
            if title != " ".join(str(button["title"]).split()):
                row["description"] = shorten(button["title"], ROW_DESCRIPTION)
            rows.append(row)
        out.bodies.append(_envelope(to, "interactive", {
            "type": "list", "body": {"text": body},
            "action": {"button": messages.text("list_label", script_of(body)), "sections": [{"rows": rows}]},
        }))
        return out
    # more than WhatsApp can show as a list: a numbered menu; the channel maps "3" → payload
    lines = []
    for number, (button, payload) in enumerate(zip(buttons, ids, strict=True), start=1):
        out.menu[str(number)] = payload
        lines.append(f"{number}. {button['title']}")
    out.bodies.extend(text_messages(to, body + "\n\n" + "\n".join(lines)))
    return out


def _append_within(body: str, extra: str, limit: int, out: Outbound, to: str) -> str:
    if len(body) + len(extra) <= limit:
        return body + extra
    out.bodies.extend(text_messages(to, body))
    return shorten(extra.strip(), limit)


def image_message(to: str, url: str, caption: Optional[str] = None) -> Dict[str, Any]:
    content: Dict[str, Any] = {"link": url}
    if caption:
        content["caption"] = shorten(caption, BODY_LIMIT)
    return _envelope(to, "image", content)


_BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def document_filename(name: Optional[str]) -> str:
    """A file name safe to show on the citizen's phone: no folders, no control characters
    (nor bidi overrides that disguise an extension; Odia's and Hindi's joiners stay), at most
    FILENAME_LIMIT characters with the extension kept, ".pdf" added when it has none; "" when
    nothing is left."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]  # a path: its last part
    name = "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} or c in _BIDI_CONTROLS else c
                   for c in name)
    name = " ".join(name.split()).strip(" .")
    if not name:
        return ""
    stem, dot, extension = name.rpartition(".")
    if not stem or not re.fullmatch(r"(?=.*[A-Za-z])[A-Za-z0-9]{1,8}", extension):
        stem, extension = name, "pdf"  # "Receipt v1.2" or "ack.ORT-7K3M" have no extension
    return stem[: FILENAME_LIMIT - len(extension) - 1].rstrip(" .") + "." + extension


def document_message(to: str, media_id: str, filename: Optional[str], caption: Optional[str] = "") -> Dict[str, Any]:
    """A document message for a file uploaded with ``GraphClient.upload_media`` (its media id).

    The caption holds BODY_LIMIT characters (a longer one is shortened at a word with "…");
    the file name is cleaned by ``document_filename``. A ``media_id`` that is an http(s) URL is
    sent as a link instead (how the channel forwards an action's attachment URL)."""
    if re.match(r"https?://", str(media_id)):
        content: Dict[str, Any] = {"link": str(media_id)}
    else:
        content = {"id": str(media_id)}
    name = document_filename(filename)
    if name:
        content["filename"] = name
    caption = (caption or "").strip()
    if caption:
        content["caption"] = caption if len(caption) <= BODY_LIMIT else shorten(caption, BODY_LIMIT)
    return _envelope(to, "document", content)


def custom_message(to: str, custom: Dict[str, Any]) -> Dict[str, Any]:
    """A ``custom`` payload from an action is a WhatsApp message body: addressed, passed through."""
    body = dict(custom)
    body.setdefault("messaging_product", "whatsapp")
    body.setdefault("recipient_type", "individual")
    body["to"] = to
    return body

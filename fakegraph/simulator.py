"""A WhatsApp-like chat page on localhost, through the real webhook path.

The fake Graph API (``server.FakeGraph``) plus a page for people without a WhatsApp
Business number. What the page sends becomes a Meta-shaped, signed webhook POST to
``/webhooks/whatsapp/webhook``; voice notes are uploaded as media and fetched by the
channel through the fake's media endpoints; what the page shows is exactly what the
channel POSTed to the fake Graph API. Nothing goes into Rasa by another door. A template
message shows as the text the citizen would see, its quick-reply buttons as taps that send
back a ``button`` message with the button's payload, as Meta does. A document message shows
as a file to tap: its name, its type and a link that downloads the bytes the channel uploaded
(``/sim/media/{id}``).

The designers' review page (``make review`` writes it, review/) is served at ``/review/``,
with its buttons that save an NLU example or a test story; this server listens on
127.0.0.1 only, as that page requires without a token.

For conversation designers, ``/sim/turns`` reads the conversation from Rasa's HTTP API
(enabled with an auth token by ``make run`` in simulator mode only): per citizen turn the
predicted intent and confidence, entities, the active form, the requested slot and the
slots.

    python -m fakegraph.simulator --port 8080 --webhook URL --app-secret S \
        --access-token T [--rasa-url URL --rasa-token TOKEN] [--review-dir results/review]
"""
from __future__ import annotations

import argparse
import asyncio
import re
import urllib.parse
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp import web

from channels.templates import language_of, render
from fakegraph.server import (
    MAX_REQUEST,
    TOKEN_DEFAULT,
    FakeGraph,
    button_reply,
    envelope,
    list_reply,
    media_message,
    template_button,
    text,
)
from review.edits import ROOT
from review.server import ReviewSite

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD = 16 * 1024 * 1024
HIDDEN_SLOTS = {"session_started_metadata"}  # channel metadata, not dialogue state
PHONE_NUMBERS = ["919437000001", "919437000002", "919437000003"]
_STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
_DOCUMENT_LABELS = {"application/pdf": "PDF", "text/plain": "TXT", "application/msword": "DOC",
                    "application/vnd.ms-excel": "XLS", "application/vnd.ms-powerpoint": "PPT"}


class SimulatorGraph(FakeGraph):
    """The fake Graph API with a chat page and its small JSON API under /sim/."""

    def __init__(self, *args: Any, rasa_url: Optional[str] = None, rasa_token: Optional[str] = None,
                 review: Optional[ReviewSite] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.rasa_url = rasa_url.rstrip("/") if rasa_url else None
        self.rasa_token = rasa_token
        self.review = review or ReviewSite(ROOT / "results" / "review", Path("endpoints.yml"), ROOT / "domain.yml",
                                           ROOT)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST)
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/sim/config", self._config)
        app.router.add_post("/sim/messages", self._send)
        app.router.add_post("/sim/media", self._upload_note)
        app.router.add_get("/sim/media/{media_id}", self._media_file)
        app.router.add_get("/sim/updates", self._updates)
        app.router.add_get("/sim/turns", self._turns)
        app.router.add_post("/sim/reset", self._reset)
        self.review.add_routes(app)
        self.add_graph_routes(app)  # last: its GET /{version}/{media_id} would catch /sim/… too
        return app

    # ---------------------------------------------------------------- page
    async def _page(self, request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        content_type = _STATIC_TYPES.get(path.suffix, "application/octet-stream")
        return web.FileResponse(path, headers={"Content-Type": content_type})

    async def _config(self, request: web.Request) -> web.Response:
        return web.json_response({"numbers": PHONE_NUMBERS, "designer": self.rasa_url is not None})

    # ------------------------------------------------------ citizen → webhook
    async def _send(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="JSON expected") from None
        sender = str(data.get("from") or "")
        if not sender.isdigit() or not 8 <= len(sender) <= 15:
            raise web.HTTPBadRequest(text="from must be a phone number in digits")
        kind = data.get("type")
        if kind == "text" and str(data.get("text") or "").strip():
            message = text(sender, str(data["text"])[:4096])
        elif kind == "button" and data.get("id"):
            message = button_reply(sender, str(data["id"]), str(data.get("title") or ""))
        elif kind == "list" and data.get("id"):
            message = list_reply(sender, str(data["id"]), str(data.get("title") or ""))
        elif kind == "template_button" and data.get("payload"):
            message = template_button(sender, str(data["payload"]), str(data.get("title") or ""))
        elif kind == "audio" and str(data.get("media_id")) in self.media:
            media = self.media[str(data["media_id"])]
            message = media_message(sender, "audio", str(data["media_id"]), mime_type=media.mime_type,
                                    voice=bool(data.get("voice", True)))
        else:
            raise web.HTTPBadRequest(text="unknown or empty message")
        loop = asyncio.get_running_loop()
        codes = await loop.run_in_executor(None, lambda: self.deliver(envelope([message])))
        return web.json_response({"id": message["id"], "webhook_status": codes[-1]},
                                 status=200 if codes[-1] == 200 else 502)

    async def _upload_note(self, request: web.Request) -> web.Response:
        data = await request.read()
        if not data:
            raise web.HTTPBadRequest(text="empty upload")
        if len(data) > MAX_UPLOAD:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_UPLOAD, actual_size=len(data))
        mime = request.headers.get("Content-Type", "audio/ogg").split(",")[0].strip() or "audio/ogg"
        return web.json_response({"id": self.add_media(data, mime)})

    # ------------------------------------------------------ channel → citizen
    async def _media_file(self, request: web.Request) -> web.Response:
        """The bytes of a media the fake holds, as a download (never shown inline: an uploaded
        text or HTML file must not run in the page)."""
        media = self.media.get(request.match_info["media_id"])
        if media is None:
            raise web.HTTPNotFound()
        name = media.filename or f"{request.match_info['media_id']}"
        disposition = "attachment; filename*=UTF-8''" + urllib.parse.quote(name, safe="")
        return web.Response(body=media.data, headers={
            "Content-Type": "application/octet-stream", "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff"})

    async def _updates(self, request: web.Request) -> web.Response:
        """Messages the channel sent to ``wa_id`` after position ``since``, and read receipts."""
        wa_id = request.query.get("wa_id", "")
        try:
            since = int(request.query.get("since") or 0)
            reads_since = int(request.query.get("reads_since") or 0)
        except ValueError:
            raise web.HTTPBadRequest(text="since and reads_since are positions") from None
        sent, receipts = list(self.sent), list(self.reads)
        messages = [{"seq": i, "body": body, "rendered": self.rendered(body)}
                    for i, body in enumerate(sent) if i >= since and body.get("to") == wa_id]
        reads = [{"id": r.get("message_id"), "typing": "typing_indicator" in r} for r in receipts[reads_since:]]
        return web.json_response({"messages": messages, "next": len(sent), "reads": reads,
                                  "reads_next": len(receipts)})

    def rendered(self, body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """A template message as the citizen sees it: the text, and each quick-reply button with
        the payload its tap sends back (the button's text when the message gave none, as Meta
        does); a document as a file to tap (``document``). None for any other message, or a
        template the page cannot fill."""
        if body.get("type") == "document":
            return self._document(body.get("document") or {})
        if body.get("type") != "template":
            return None
        content = body.get("template") or {}
        template = self.templates.get(str(content.get("name")))
        language = language_of(str((content.get("language") or {}).get("code")))
        if template is None or language not in template.bodies:
            return None
        components = [c for c in content.get("components") or [] if isinstance(c, dict)]
        texts = [str(p.get("text")) for c in components if c.get("type") == "body" for p in c.get("parameters") or []]
        payloads = {str(c.get("index")): str((c.get("parameters") or [{}])[0].get("payload") or "")
                    for c in components if c.get("type") == "button"}
        try:
            shown = render(template, language, dict(zip(template.parameters, texts, strict=True)))
        except ValueError:  # not as many parameters as the template has: Meta would have refused it
            return None
        return {"text": shown, "buttons": [{"title": title, "payload": payloads.get(str(i)) or title}
                                           for i, title in enumerate(template.buttons[language])]}

    def _document(self, content: Dict[str, Any]) -> Dict[str, Any]:
        """A document as the chat shows it: file name, type label, size, and where to download it
        (this page's ``/sim/media/{id}``, or an http(s) link; None when there is nothing to fetch)."""
        media = self.media.get(str(content.get("id"))) if content.get("id") else None
        link = str(content.get("link") or "")
        filename = str(content.get("filename") or (media.filename if media else "") or "document")
        mime = media.mime_type.split(";")[0].strip().lower() if media else ""
        extension = filename.rpartition(".")[2] if "." in filename else ""
        label = _DOCUMENT_LABELS.get(mime) or (extension.upper() if re.fullmatch(r"[A-Za-z0-9]{1,8}", extension)
                                               else "FILE")
        if media is not None:
            url: Optional[str] = f"/sim/media/{urllib.parse.quote(str(content['id']), safe='')}"
        else:
            url = link if re.match(r"https?://", link) else None
        return {"document": {"filename": filename, "label": label, "caption": str(content.get("caption") or ""),
                             "size": len(media.data) if media else None, "url": url}}

    # ------------------------------------------------------------- designers
    async def _rasa(self, method: str, path: str, body: Any = None) -> Any:
        if not self.rasa_url:
            raise web.HTTPNotFound(text="the designer panel needs --rasa-url and --rasa-token")
        url = f"{self.rasa_url}{path}?token={urllib.parse.quote(self.rasa_token or '')}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.request(method, url, json=body) as response:
                if response.status >= 400:
                    raise web.HTTPBadGateway(text=f"Rasa HTTP API: {response.status}")
                return await response.json(content_type=None)

    async def _turns(self, request: web.Request) -> web.Response:
        wa_id = request.query.get("wa_id", "")
        if not wa_id.isdigit():
            raise web.HTTPBadRequest(text="wa_id must be digits")
        tracker = await self._rasa("GET", f"/conversations/{wa_id}/tracker")
        return web.json_response({"turns": turns(tracker.get("events") or []),
                                  "slots": {k: v for k, v in (tracker.get("slots") or {}).items()
                                            if v is not None and k not in HIDDEN_SLOTS}})

    async def _reset(self, request: web.Request) -> web.Response:
        data = await request.json()
        wa_id = str(data.get("wa_id") or "")
        if not wa_id.isdigit():
            raise web.HTTPBadRequest(text="wa_id must be digits")
        if self.rasa_url:
            await self._rasa("POST", f"/conversations/{wa_id}/tracker/events", {"event": "restart"})
        return web.json_response({"next": len(self.sent)})


def turns(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Per citizen message: what NLU understood and the dialogue state after the bot answered."""
    out: List[Dict[str, Any]] = []
    slots: Dict[str, Any] = {}
    active_loop: Optional[str] = None
    for event in events:
        kind = event.get("event")
        if kind == "restart":
            out, slots, active_loop = [], {}, None
        elif kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            out.append({"text": event.get("text"), "intent": intent.get("name"),
                        "confidence": round(float(intent.get("confidence") or 0.0), 3),
                        "entities": [{"entity": e.get("entity"), "value": e.get("value")}
                                     for e in parse.get("entities") or []],
                        "bot": [], "actions": []})
        elif kind == "slot":
            if event.get("value") is None:
                slots.pop(event.get("name"), None)
            else:
                slots[event.get("name")] = event.get("value")
        elif kind == "active_loop":
            active_loop = event.get("name")
        elif kind == "action" and out and event.get("name") not in ("action_listen", None):
            out[-1]["actions"].append(event.get("name"))
        elif kind == "bot" and out:
            out[-1]["bot"].append((event.get("text") or "")[:80])
        if out:
            out[-1]["active_loop"] = active_loop
            out[-1]["requested_slot"] = slots.get("requested_slot")
            out[-1]["slots"] = {k: v for k, v in slots.items() if k != "requested_slot" and k not in HIDDEN_SLOTS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="The fake WhatsApp Cloud API with a chat page")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--webhook", required=True, help="the channel's webhook URL")
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--access-token", default=TOKEN_DEFAULT)
    parser.add_argument("--phone-number-id", default="106540352242922")
    parser.add_argument("--rasa-url")
    parser.add_argument("--rasa-token")
    parser.add_argument("--review-dir", type=Path, default=ROOT / "results" / "review",
                        help="where make review writes the page served at /review/")
    parser.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"), help="the tracker store to review")
    args = parser.parse_args()
    review = ReviewSite(args.review_dir, args.endpoints, ROOT / "domain.yml", ROOT)
    graph = SimulatorGraph(access_token=args.access_token, app_secret=args.app_secret, webhook_url=args.webhook,
                           phone_number_id=args.phone_number_id, rasa_url=args.rasa_url, rasa_token=args.rasa_token,
                           review=review)
    graph.port = args.port
    web.run_app(graph.app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

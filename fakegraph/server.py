"""A fake WhatsApp Cloud API: validates what we send the way Meta does, serves media,
records everything, can be told to fail, and delivers webhooks the way Meta does.

Like Meta it keeps the 24-hour customer-service window: a free-form message (text,
interactive, media …) reaches only a number whose last message it delivered less than
24 hours ago (else 131047); outside it only a template does, and only one of the repo's
templates (``templates/whatsapp``, taken as the approved ones) with as many body
parameters as the template has (else 132001 or 132000).

Media: ``POST /{phone_number_id}/media`` takes an upload like Meta (multipart with
``messaging_product``, ``type``, ``file``; only Meta's supported types within their size
limits, else 100) and answers its id; the bytes are then served by the same lookup +
download routes as inbound media. A media message (a document …) whose ``id`` the fake does
not know is refused with 131053, Meta's "Media upload error".

Run standalone: ``python -m fakegraph.server --port 8765 --webhook URL --app-secret S``.
Tests start it in-process (``FakeGraph.start()`` runs it on its own thread and loop).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from aiohttp import web

from channels.templates import Template, language_of, load_templates

TOKEN_DEFAULT = "fake-access-token"
WINDOW_SECONDS = 24 * 3600  # Meta's customer-service window after the customer's last message
PARAM_RULE = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
T = TypeVar("T")
MB = 1024 * 1024
# Meta's supported media types and their size limits for sending (Cloud API reference, "Supported
# Media Types"): MIME type (parameters stripped) → (kind, largest file in bytes). A sticker may be
# 500 KB when animated (100 KB static): the fake cannot tell, so it allows the larger.
UPLOAD_TYPES: Dict[str, Tuple[str, int]] = {
    **{t: ("audio", 16 * MB) for t in ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")},
    **{t: ("document", 100 * MB) for t in (
        "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation")},
    **{t: ("image", 5 * MB) for t in ("image/jpeg", "image/png")},
    "image/webp": ("sticker", 500 * 1024),
    **{t: ("video", 16 * MB) for t in ("video/mp4", "video/3gpp", "video/3gp")},
}
MEDIA_KINDS = {"image", "document", "audio", "video", "sticker"}
MAX_REQUEST = 100 * MB + MB  # the largest upload Meta takes (a document) and the form around it


def meta_json(payload: Any) -> bytes:
    """Serialise like Meta: non-ASCII as \\uXXXX and "/" as "\\/" (signature tests rely on it)."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _error(code: int, message: str, http: int = 400, details: str = "") -> web.Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": details or message},
                      "fbtrace_id": secrets.token_hex(8)}}
    return web.json_response(body, status=http)


def validate_message(body: Dict[str, Any]) -> Optional[str]:
    """Why Meta would refuse this body (code 100), or None when it is valid."""
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if body.get("status") == "read":
        return None if isinstance(body.get("message_id"), str) else "message_id is required"
    if not isinstance(body.get("to"), str) or not body["to"]:
        return "to is required"
    kind = body.get("type", "text")
    content = body.get(kind)
    if not isinstance(content, dict):
        return f"{kind} object is required"
    if kind == "text":
        text = content.get("body")
        if not isinstance(text, str) or not text.strip():
            return "text.body is required"
        if len(text) > 4096:
            return "text.body is longer than 4096 characters"
        return None
    if kind == "interactive":
        return _validate_interactive(content)
    if kind in MEDIA_KINDS:
        if not (content.get("link") or content.get("id")):
            return f"{kind}.link or {kind}.id is required"
        if any(not isinstance(content.get(key, ""), str) for key in ("id", "link", "caption", "filename")):
            return f"{kind}.id, link, caption and filename must be strings"
        if len(content.get("caption") or "") > 1024:
            return "caption is longer than 1024 characters"
        return None
    if kind == "template":
        if not isinstance(content.get("name"), str) or not content["name"]:
            return "template.name is required"
        if not isinstance((content.get("language") or {}).get("code"), str):
            return "template.language.code is required"
        if not isinstance(content.get("components", []), list):
            return "template.components must be a list"
        return None
    if kind in {"location", "contacts", "reaction"}:
        return None
    return f"unknown message type {kind}"


def _validate_interactive(content: Dict[str, Any]) -> Optional[str]:
    body = (content.get("body") or {}).get("text")
    if not isinstance(body, str) or not body.strip():
        return "interactive.body.text is required"
    if len(body) > 1024:
        return "interactive.body.text is longer than 1024 characters"
    action = content.get("action") or {}
    if content.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3:
            return "interactive buttons: between 1 and 3 buttons"
        ids = []
        for button in buttons:
            reply = button.get("reply") or {}
            title, bid = reply.get("title"), reply.get("id")
            if not isinstance(title, str) or not title or len(title) > 20:
                return "button title must be 1-20 characters"
            if not isinstance(bid, str) or not bid or len(bid) > 256:
                return "button id must be 1-256 characters"
            ids.append(bid)
        return None if len(set(ids)) == len(ids) else "button ids must be unique"
    if content.get("type") == "list":
        label = action.get("button")
        if not isinstance(label, str) or not label or len(label) > 20:
            return "list button label must be 1-20 characters"
        sections = action.get("sections") or []
        if not 1 <= len(sections) <= 10:
            return "list: between 1 and 10 sections"
        rows = [row for section in sections for row in section.get("rows") or []]
        if not 1 <= len(rows) <= 10:
            return "list: between 1 and 10 rows in total"
        if len(sections) > 1 and any(not s.get("title") for s in sections):
            return "section title is required with several sections"
        if any(len(s.get("title") or "") > 24 for s in sections):
            return "section title is longer than 24 characters"
        for row in rows:
            if not isinstance(row.get("title"), str) or not row["title"] or len(row["title"]) > 24:
                return "row title must be 1-24 characters"
            if len(row.get("description") or "") > 72:
                return "row description is longer than 72 characters"
            if not isinstance(row.get("id"), str) or not row["id"] or len(row["id"]) > 200:
                return "row id must be 1-200 characters"
        ids = [row["id"] for row in rows]
        return None if len(set(ids)) == len(ids) else "row ids must be unique"
    return "interactive.type must be button or list"


@dataclass
class Failure:
    """``count`` sends fail in ``mode``, or every send until ``until`` (time.monotonic()).

    "hang" holds the request for ``delay`` seconds (longer than the client waits) and then
    answers 503 without accepting the message (a send that never reached Meta); "slow"
    accepts it late. ``on`` is the route it hits: "messages" (sends) or "media" (uploads,
    where "131047" does not apply)."""
    mode: str  # "500", "429", "131047", "slow", "hang"
    count: int
    delay: float = 0.0
    until: Optional[float] = None
    on: str = "messages"


@dataclass
class Media:
    data: bytes
    mime_type: str
    url_token: str
    url_expires: float
    filename: str = ""


class FakeGraph:
    """The fake server. Thread-safe enough for tests: lists are appended on the server loop,
    and every record (a message, a read receipt, a refusal, a media download) wakes
    ``wait_until``, so tests wait for evidence instead of sleeping.

    It knows when each customer last wrote from the messages ``deliver()`` carries (and
    ``customer_wrote`` / ``note_inbound`` for webhooks a test posts itself); its clock is
    ``now`` (``time.time``; a test may replace it). ``templates`` are the approved ones
    (default: the repo's, ``channels.templates.load_templates()``)."""

    def __init__(self, access_token: str = TOKEN_DEFAULT, app_secret: str = "fake-app-secret",
                 webhook_url: Optional[str] = None, phone_number_id: str = "106540352242922",
                 send_statuses: bool = False, templates: Optional[Dict[str, Template]] = None):
        self.access_token = access_token
        self.templates = templates if templates is not None else load_templates()
        self.now: Callable[[], float] = time.time  # Meta's clock, in seconds like webhook timestamps
        self.last_wrote: Dict[str, float] = {}  # wa_id → when their last message reached Meta
        # like Meta: a "sent" status webhook for each accepted message, echoing its
        # biz_opaque_callback_data (off by default: most tests count webhook calls)
        self.send_statuses = send_statuses
        self.app_secret = app_secret
        self.webhook_url = webhook_url
        self.phone_number_id = phone_number_id
        self.sent: List[Dict[str, Any]] = []  # accepted message bodies (not read receipts)
        self.sent_at: List[float] = []  # time.monotonic() of each accepted body, same order
        self._changed = threading.Condition()  # notified whenever anything below is recorded
        self.reads: List[Dict[str, Any]] = []  # read receipts / typing indicators
        self.rejected: List[Tuple[int, Dict[str, Any]]] = []  # (error code, body)
        self.refused: List[Tuple[str, Dict[str, Any]]] = []  # (failure mode, body) of injected failures
        self.downloads: List[str] = []  # media ids whose bytes were served, in order
        self.attempts = 0
        self.failures: List[Failure] = []
        self.media: Dict[str, Media] = {}
        self.uploads: List[Tuple[str, str, str, bytes]] = []  # (media id, mime type, filename, bytes)
        self.upload_attempts = 0
        self.rejected_uploads: List[Tuple[int, str]] = []  # (error code, details) of refused uploads
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.port: Optional[int] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------- control
    def fail(self, mode: str, count: int = 1, delay: float = 0.0, on: str = "messages") -> None:
        """The next ``count`` requests to ``on`` ("messages", or "media" for uploads) fail in ``mode``."""
        with self._lock:
            self.failures.append(Failure(mode, count, delay, on=on))

    def fail_for(self, mode: str, seconds: float, delay: float = 0.0, on: str = "messages") -> None:
        """Every message send (or upload, ``on="media"``) fails in ``mode`` for the next ``seconds``."""
        with self._lock:
            self.failures.append(Failure(mode, 0, delay, until=time.monotonic() + seconds, on=on))

    def customer_wrote(self, wa_id: str, at: float) -> None:
        """``wa_id`` sent us a message at ``at`` (seconds, like ``now``): their window opens.

        An older message (a re-delivery, a reaction with an old timestamp) does not shorten it."""
        key = _digits(wa_id)
        with self._lock:
            self.last_wrote[key] = max(at, self.last_wrote.get(key, at))

    def note_inbound(self, payload: Any) -> None:
        """The customers whose messages a webhook ``payload`` carries wrote at their timestamps.

        ``deliver()`` calls it (Meta had the message before it told us); a test that POSTs a
        webhook itself calls it too, as it plays Meta."""
        def items(value: Any, key: str) -> List[Dict[str, Any]]:  # a webhook may hold anything anywhere
            found = value.get(key) if isinstance(value, dict) else None
            return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []

        for entry in items(payload, "entry"):
            for change in items(entry, "changes"):
                for message in items(change.get("value"), "messages"):
                    try:
                        at = float(message.get("timestamp") or "")
                    except (TypeError, ValueError):
                        continue
                    if isinstance(message.get("from"), str) and message["from"]:
                        self.customer_wrote(message["from"], at)

    def window_open(self, wa_id: str) -> bool:
        """Whether a free-form message may go to ``wa_id`` now (they wrote within 24 hours)."""
        with self._lock:
            last = self.last_wrote.get(_digits(wa_id))
        return last is not None and self.now() - last <= WINDOW_SECONDS

    def _refusal(self, body: Dict[str, Any]) -> Optional[Tuple[int, str, str]]:
        """Meta's (code, message, details) for a send it refuses after the shape checks, or None."""
        kind = body.get("type", "text")
        if kind != "template":
            if not self.window_open(body["to"]):
                return (131047, "(#131047) Re-engagement message",
                        "Message failed to send because more than 24 hours have passed since the customer last "
                        "replied to this number.")
            media_id = body[kind].get("id") if kind in MEDIA_KINDS else None
            if media_id is not None and str(media_id) not in self.media:
                return (131053, "(#131053) Media upload error",
                        f"Unable to upload the media used in the message: unknown media id {str(media_id)[:40]}")
            return None
        content = body["template"]
        name, code = content["name"], content["language"]["code"]
        template = self.templates.get(name)
        language = language_of(code)
        if template is None or language is None or language not in template.bodies:
            return (132001, "(#132001) Template name does not exist in the translation",
                    f"template name ({name}) does not exist in {code}")
        components = [c for c in content.get("components") or [] if isinstance(c, dict)]
        texts = [p.get("text") for c in components if str(c.get("type")).lower() == "body"
                 for p in c.get("parameters") or [] if isinstance(p, dict)]
        if len(texts) != len(template.parameters):
            return (132000, "(#132000) Number of parameters does not match the expected number of params",
                    f"body: number of localizable_params ({len(texts)}) does not match the expected number "
                    f"of params ({len(template.parameters)})")
        if any(not isinstance(t, str) or re.search(r"[\n\t]| {5,}", t) for t in texts):
            return 100, "(#100) Invalid parameter", PARAM_RULE
        buttons = len(template.buttons[language])
        for component in components:
            if str(component.get("type")).lower() != "button":
                continue
            index = str(component.get("index"))
            if (component.get("sub_type") != "quick_reply" or not index.isdigit() or int(index) >= buttons
                    or len(component.get("parameters") or []) != 1):
                return (132000, "(#132000) Number of parameters does not match the expected number of params",
                        f"button at index {index}: the template has {buttons} quick-reply buttons, "
                        "each with one payload")
        return None

    def _record(self, records: List[Any], item: Any) -> None:
        with self._changed:
            records.append(item)
            self._changed.notify_all()

    def wait_until(self, condition: Callable[[], T], timeout: float, what: str = "the condition") -> T:
        """``condition()`` once it is truthy, re-checked whenever the fake records something;
        TimeoutError naming ``what`` if it is still falsy after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake Graph API: no {what} within {timeout} s")
                self._changed.wait(left)

    def wait_for_messages(self, wa_id: str, count: int, timeout: float) -> List[float]:
        """Arrival times of the messages to ``wa_id`` once there are ``count`` (or fewer at the timeout)."""
        def times() -> List[float]:
            with self._changed:  # the two lists grow together under this lock
                return [at for body, at in zip(self.sent, self.sent_at, strict=True) if body.get("to") == wa_id]
        try:
            self.wait_until(lambda: len(times()) >= count, timeout)
        except TimeoutError:
            pass
        return times()

    def wait_for_download(self, media_id: str, timeout: float = 60) -> None:
        """Until the bytes of ``media_id`` were served (the channel has the voice note)."""
        self.wait_until(lambda: media_id in self.downloads, timeout, f"download of media {media_id}")

    def add_media(self, data: bytes, mime_type: str = "audio/ogg; codecs=opus", filename: str = "") -> str:
        media_id = str(10**15 + next(self._ids))
        self.media[media_id] = Media(data, mime_type, secrets.token_urlsafe(12), 0.0, filename)
        return media_id

    def messages_to(self, wa_id: str) -> List[Dict[str, Any]]:
        return [body for body in list(self.sent) if body.get("to") == wa_id]

    def document_sent_to(self, wa_id: str) -> List[Tuple[Dict[str, Any], bytes]]:
        """Each document message accepted for ``wa_id``, with the bytes of its media (b"" for a
        ``link``, whose bytes the fake never had)."""
        found = []
        for body in self.messages_to(wa_id):
            if body.get("type") == "document":
                media = self.media.get(str(body["document"].get("id")))
                found.append((body, media.data if media is not None else b""))
        return found

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.sent_at.clear()
            self.reads.clear()
            self.rejected.clear()
            self.refused.clear()
            self.downloads.clear()
            self.failures.clear()
            self.uploads.clear()
            self.rejected_uploads.clear()
            self.attempts = 0
            self.upload_attempts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v21.0"

    # -------------------------------------------------------------- server
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST)
        self.add_graph_routes(app)
        return app

    def add_graph_routes(self, app: web.Application) -> None:
        """The Graph API's routes; the last one catches every GET /{a}/{b}, so add yours first."""
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_post("/{version}/{phone_number_id}/media", self._upload)
        app.router.add_get("/media-download/{token}", self._media_download)  # before the catch-all below
        app.router.add_get("/{version}/{media_id}", self._media_info)

    def _authorised(self, request: web.Request) -> bool:
        return hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {self.access_token}")

    def _next_failure(self, on: str = "messages") -> Optional[Failure]:
        with self._lock:
            now = time.monotonic()
            self.failures[:] = [f for f in self.failures if (f.until or 0) > now or f.count > 0]  # spent ones go
            failure = next((f for f in self.failures if f.on == on), None)
            if failure is not None and failure.until is None:
                failure.count -= 1
            return failure

    async def _messages(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if not self._authorised(request):
            return _error(190, "Error validating access token", 401)
        try:
            body = await request.json()
        except ValueError:
            return _error(100, "(#100) Invalid JSON", 400)
        problem = validate_message(body) if isinstance(body, dict) else "body must be an object"
        if problem:
            self._record(self.rejected, (100, body))
            return _error(100, "(#100) Invalid parameter", 400, problem)
        failure = self._next_failure() if body.get("status") != "read" else None
        if failure is not None and failure.mode != "slow":
            self._record(self.refused, (failure.mode, body))
        if failure is not None:
            if failure.mode == "500":
                return _error(131000, "Something went wrong", 500)
            if failure.mode == "429":
                return _error(130429, "Rate limit hit", 429)
            if failure.mode == "131047":
                self._record(self.rejected, (131047, body))
                return _error(131047, "Re-engagement message", 400,
                              "More than 24 hours have passed since the recipient last replied")
            if failure.mode == "hang":
                await asyncio.sleep(failure.delay)  # the client has timed out by now
                return _error(131000, "Something went wrong", 503)
            if failure.mode == "slow":
                await asyncio.sleep(failure.delay)
        if body.get("status") == "read":
            self._record(self.reads, body)
            return web.json_response({"success": True})
        refusal = self._refusal(body)
        if refusal is not None:
            code, message, details = refusal
            self._record(self.rejected, (code, body))
            return _error(code, message, 400, details)
        with self._changed:
            self.sent.append(body)
            self.sent_at.append(time.monotonic())
            self._changed.notify_all()
        wamid = "wamid.fake" + secrets.token_hex(10)
        if self.send_statuses and self.webhook_url:
            sent = status(wamid, body["to"], "sent")
            if isinstance(body.get("biz_opaque_callback_data"), str):
                sent["biz_opaque_callback_data"] = body["biz_opaque_callback_data"]
            asyncio.get_running_loop().run_in_executor(None, self.deliver, envelope(statuses=[sent]))
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                  "messages": [{"id": wamid}]})

    async def _upload(self, request: web.Request) -> web.Response:
        """POST /{phone_number_id}/media: multipart ``messaging_product``, ``type``, ``file`` → ``{"id"}``."""
        self.upload_attempts += 1
        if not self._authorised(request):
            return _error(190, "Error validating access token", 401)
        try:
            form = await request.post()
        except ValueError:  # not a form aiohttp can read
            form = None
        problem, mime, data, filename = self._upload_problem(form)
        if problem:
            self._record(self.rejected_uploads, (100, problem))
            return _error(100, "(#100) Invalid parameter", 400, problem)
        failure = self._next_failure("media")
        if failure is not None and failure.mode in ("500", "429", "hang"):
            self._record(self.refused, (failure.mode, {"upload": {"type": mime, "size": len(data)}}))
        if failure is not None:  # "131047" (a window) means nothing to an upload
            if failure.mode == "500":
                return _error(131000, "Something went wrong", 500)
            if failure.mode == "429":
                return _error(130429, "Rate limit hit", 429)
            if failure.mode in ("hang", "slow"):
                await asyncio.sleep(failure.delay)
                if failure.mode == "hang":
                    return _error(131000, "Something went wrong", 503)
        media_id = self.add_media(data, mime, filename)
        self._record(self.uploads, (media_id, mime, filename, data))
        return web.json_response({"id": media_id})

    @staticmethod
    def _upload_problem(form: Any) -> Tuple[str, str, bytes, str]:
        """(why Meta would refuse the upload or "", its MIME type, its bytes, its file name)."""
        if form is None:
            return "the request must be multipart/form-data", "", b"", ""
        if form.get("messaging_product") != "whatsapp":
            return "messaging_product must be whatsapp", "", b"", ""
        mime, upload = form.get("type"), form.get("file")
        if not isinstance(mime, str) or not mime.strip():
            return "type is required (the MIME type of the file)", "", b"", ""
        if not isinstance(upload, web.FileField):
            return "file is required", "", b"", ""
        data = upload.file.read()
        filename = upload.filename or ""
        known = UPLOAD_TYPES.get(mime.split(";")[0].strip().lower())
        if known is None:
            return f"Param file must be a file with one of the supported types, not {mime[:80]}", "", b"", ""
        kind, limit = known
        if not data:
            return "file is empty", "", b"", ""
        if len(data) > limit:
            return f"{kind} files may be at most {limit} bytes, this one has {len(data)}", "", b"", ""
        return "", mime.strip(), data, filename

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(190, "Error validating access token", 401)
        media = self.media.get(request.match_info["media_id"])
        if media is None:
            return _error(100, "(#100) Unknown media", 404)
        media.url_token = secrets.token_urlsafe(12)
        media.url_expires = time.monotonic() + 300  # URLs live 5 minutes
        return web.json_response({
            "messaging_product": "whatsapp", "id": request.match_info["media_id"], "mime_type": media.mime_type,
            "sha256": base64.b64encode(hashlib.sha256(media.data).digest()).decode(),
            "file_size": str(len(media.data)),
            "url": f"http://127.0.0.1:{self.port}/media-download/{media.url_token}",
        })

    async def _media_download(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        for media_id, media in list(self.media.items()):
            if media.url_token == request.match_info["token"] and time.monotonic() < media.url_expires:
                self._record(self.downloads, media_id)
                return web.Response(body=media.data, content_type=media.mime_type.split(";")[0])
        return web.Response(status=404)

    def start(self, port: int = 0) -> "FakeGraph":
        """Run on a background thread with its own event loop; returns when it listens.

        With the default ``port=0`` the kernel picks a free port as it binds the listening
        socket, and ``self.port`` is read back from that socket: nothing can take it in between."""
        ready = threading.Event()
        failure: List[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._runner = web.AppRunner(self.app(), access_log=None)
                self._loop.run_until_complete(self._runner.setup())
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("127.0.0.1", port))
                self.port = sock.getsockname()[1]
                self._loop.run_until_complete(web.SockSite(self._runner, sock).start())
            except BaseException as error:  # reported by start() on the caller's thread
                failure.append(error)
                return
            finally:
                ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-graph")
        self._thread.start()
        if not ready.wait(30):
            raise TimeoutError("fake Graph API did not start listening within 30 s")
        if failure:
            raise RuntimeError(f"fake Graph API could not start on port {port}") from failure[0]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        async def shutdown() -> None:
            await self._runner.cleanup()
        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # ------------------------------------------------------------ webhooks
    def deliver(self, payload: Dict[str, Any], *, url: Optional[str] = None, secret: Optional[str] = None,
                retries: int = 3, raw: Optional[bytes] = None, signature: Optional[str] = "auto") -> List[int]:
        """POST a webhook like Meta: Meta's escaping, signed, re-delivered on non-200.

        Returns the status codes of the attempts made."""
        body = raw if raw is not None else meta_json(payload)
        try:
            self.note_inbound(json.loads(body) if raw is not None else payload)
        except ValueError:
            pass  # a raw body that is not JSON carries no customer message
        headers = {"Content-Type": "application/json"}
        if signature == "auto":
            headers["X-Hub-Signature-256"] = sign(body, secret or self.app_secret)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        codes = []
        for attempt in range(retries + 1):
            request = urllib.request.Request(url or self.webhook_url, body, headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    codes.append(response.status)
            except urllib.error.HTTPError as error:
                codes.append(error.code)
            except OSError:
                codes.append(0)
            if codes[-1] == 200:
                break
            if attempt < retries:
                time.sleep(min(0.2 * 2 ** attempt, 2))
        return codes


def _digits(wa_id: str) -> str:
    """A phone number as Meta keys it: its digits ("+91 94370 00001" is "919437000001")."""
    return re.sub(r"\D", "", str(wa_id)) or str(wa_id)


# ---------------------------------------------------------------- payloads
_wamids = itertools.count(1)


def new_wamid() -> str:
    return "wamid." + base64.b64encode(f"fake-{next(_wamids)}-{secrets.token_hex(6)}".encode()).decode()


def envelope(messages: List[Dict[str, Any]] = (), statuses: List[Dict[str, Any]] = (),
             contacts: Optional[List[Dict[str, Any]]] = None,
             phone_number_id: str = "106540352242922") -> Dict[str, Any]:
    value: Dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id}}
    if messages:
        senders = {m["from"] for m in messages}
        value["contacts"] = contacts if contacts is not None else [
            {"profile": {"name": "Test Citizen"}, "wa_id": s} for s in sorted(senders)]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def text(sender: str, body: str, wamid: Optional[str] = None, ts: Optional[int] = None) -> Dict[str, Any]:
    return {"from": sender, "id": wamid or new_wamid(), "timestamp": str(ts or int(time.time())), "type": "text",
            "text": {"body": body}}


def button_reply(sender: str, reply_id: str, title: str = "…", wamid: Optional[str] = None) -> Dict[str, Any]:
    return {"from": sender, "id": wamid or new_wamid(), "timestamp": str(int(time.time())), "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}}


def list_reply(sender: str, reply_id: str, title: str = "…", wamid: Optional[str] = None) -> Dict[str, Any]:
    return {"from": sender, "id": wamid or new_wamid(), "timestamp": str(int(time.time())), "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": reply_id, "title": title, "description": ""}}}


def template_button(sender: str, payload: str, text: str, wamid: Optional[str] = None) -> Dict[str, Any]:
    """A tap on a template's quick-reply button, as Meta delivers it (type ``button``)."""
    return {"from": sender, "id": wamid or new_wamid(), "timestamp": str(int(time.time())), "type": "button",
            "button": {"payload": payload, "text": text}}


def media_message(sender: str, kind: str, media_id: str = "1", **extra: Any) -> Dict[str, Any]:
    content = {"id": media_id, "mime_type": extra.pop("mime_type", "image/jpeg"), "sha256": "x", **extra}
    return {"from": sender, "id": new_wamid(), "timestamp": str(int(time.time())), "type": kind, kind: content}


def status(message_id: str, recipient: str, state: str, error_code: Optional[int] = None) -> Dict[str, Any]:
    item: Dict[str, Any] = {"id": message_id, "status": state, "timestamp": str(int(time.time())),
                            "recipient_id": recipient}
    if error_code:
        item["errors"] = [{"code": error_code, "title": "Message failed to send"}]
    return item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--access-token", default=TOKEN_DEFAULT)
    args = parser.parse_args()
    fake = FakeGraph(access_token=args.access_token)
    web.run_app(fake.app(), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()

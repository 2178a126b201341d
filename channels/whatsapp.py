"""A Rasa input/output channel for the WhatsApp Cloud API.

Registered in credentials.yml as ``channels.whatsapp.WhatsAppInput``; the webhook is
``/webhooks/whatsapp/webhook``. Configuration comes from the credentials entry or, when a
key is absent there, from the environment: ``WHATSAPP_VERIFY_TOKEN``, ``WHATSAPP_APP_SECRET``,
``WHATSAPP_ACCESS_TOKEN``, ``WHATSAPP_PHONE_NUMBER_ID``, ``WHATSAPP_API_BASE_URL``.

The webhook checks size, signature and JSON, writes the messages down (inbox.py, so a
crash after the 200 loses nothing), answers 200 and works in the background: each
sender's messages in arrival order, different senders concurrently, every message id
claimed once in a durable log (see dedupe.py) so re-deliveries are not answered twice. A
message that Rasa leaves unanswered (the action server is down, an error) gets an apology
in the citizen's language asking them to send it again. Voice notes are downloaded and
transcribed by ``speech/`` (through ``speech_port.py``); the citizen sees what was heard
before the answer. An edited message goes to Rasa as its new text, marked as an edit of
the original (metadata ``whatsapp.edit_of``); a deleted one is not answered.

The channel knows the dialogue only through ``conversation.py`` (the conversation's
language, what it is waiting for) and says its own messages from ``seva.messages``.
Per-sender state that must outlive the process or be shared by several instances (rate
limits, numbered menus) is in the channel's database, not in memory.

The background work runs on its own thread and event loop. Rasa's NLU and policies run
synchronously inside ``handle_message``; on Sanic's loop they would hold every webhook
acknowledgement back until they finish, and Meta re-delivers messages whose 200 is slow.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import json
import logging
import os
import threading
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Set, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import whatsapp_outbound as outbound
from channels.conversation import Conversations, OpenQuestion, RasaConversations
from channels.dedupe import SQLMessageLog, message_log_from_env
from channels.graph_client import DEFAULT_BASE_URL, GraphClient, MediaTooLarge
from channels.inbox import PendingInbox
from channels.menus import MenuStore
from channels.outbox import Outbox
from channels.rate_limit import DEFAULT_BURST, DEFAULT_PER_MINUTE, SenderRateLimiter
from channels.speech_port import NoTranscriber, Transcriber, default_transcriber
from channels.voice_turn import VoiceTurn, message_for, voice_turn
from channels.whatsapp_inbound import IGNORED_TYPES, TEXT_TYPES, InboundMessage, MalformedPayload, decode, parse
from seva import messages, rasa_setup
from seva.catalog import Catalog
from seva.language import detect
from seva.privacy import mask_phone
from seva.runtime import freeze_loaded_objects

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


class _WorkerLoop:
    """A daemon thread running an asyncio loop for message processing."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="whatsapp-worker", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, callback, *args) -> None:
        self.loop.call_soon_threadsafe(callback, *args)


class WhatsAppOutput(OutputChannel):
    """Sends Rasa's responses as WhatsApp messages, within Meta's limits."""

    def __init__(self, outbox: Outbox, menus: MenuStore):
        self.outbox = outbox
        self.menus = menus
        self.sent = 0  # messages handed over through this output (one output per user message)
        self._pending: List[concurrent.futures.Future] = []

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    async def _post_all(self, bodies: Iterable[Dict[str, Any]]) -> None:
        for body in bodies:  # handed to the sender thread, not awaited here (see outbox.py)
            self.sent += 1
            self._pending.append(self.outbox.post(body))

    async def flush(self) -> None:
        """Wait until every message handed over through this output is sent (or given up)."""
        await asyncio.gather(*(asyncio.wrap_future(f) for f in self._pending))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._post_all(outbound.text_messages(recipient_id, text))

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        result = outbound.buttons_message(recipient_id, text, buttons)
        if result.menu:  # stored before the menu goes out: the reply may come at once
            await self.menus.remember(recipient_id, result.menu)
        await self._post_all(result.bodies)

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._post_all([outbound.image_message(recipient_id, image)])

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, dict):
            url, name = attachment.get("url") or attachment.get("link"), attachment.get("filename")
        else:
            url, name = str(attachment), None
        if url and str(url).startswith("http"):
            await self._post_all([outbound.document_message(recipient_id, url, name)])
        else:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._post_all([outbound.custom_message(recipient_id, json_message)])


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WhatsAppInput":
        rasa_setup.prepare()  # before Rasa creates its tracker store: seva/rasa_setup.py says why
        creds = credentials or {}

        def setting(key: str, env: str, default: str = "") -> str:
            return str(creds.get(key) or os.environ.get(env) or default)

        return cls(
            verify_token=setting("verify_token", "WHATSAPP_VERIFY_TOKEN"),
            app_secret=setting("app_secret", "WHATSAPP_APP_SECRET"),
            access_token=setting("access_token", "WHATSAPP_ACCESS_TOKEN"),
            phone_number_id=setting("phone_number_id", "WHATSAPP_PHONE_NUMBER_ID"),
            api_base_url=setting("api_base_url", "WHATSAPP_API_BASE_URL", DEFAULT_BASE_URL),
            graph_timeout=float(setting("graph_timeout", "WHATSAPP_GRAPH_TIMEOUT", "10")),
            max_body_bytes=int(setting("max_body_bytes", "WHATSAPP_MAX_BODY_BYTES", str(MAX_BODY_BYTES))),
            rate_limiter=SenderRateLimiter(
                per_minute=float(setting("rate_per_minute", "WHATSAPP_RATE_PER_MINUTE", str(DEFAULT_PER_MINUTE))),
                burst=int(setting("rate_burst", "WHATSAPP_RATE_BURST", str(DEFAULT_BURST)))),
            menus=MenuStore(),
            transcriber=default_transcriber(),  # loads the speech model now, not on the first voice note
        )

    def __init__(self, verify_token: str, app_secret: str, access_token: str, phone_number_id: str,
                 api_base_url: str = DEFAULT_BASE_URL, graph_timeout: float = 10.0,
                 max_body_bytes: int = MAX_BODY_BYTES,
                 message_log: Optional[SQLMessageLog] = None, transcriber: Optional[Transcriber] = None,
                 rate_limiter: Optional[SenderRateLimiter] = None, inbox: Optional[PendingInbox] = None,
                 menus: Optional[MenuStore] = None, conversations: Optional[Conversations] = None):
        self.verify_token = verify_token
        self.app_secret = app_secret.encode() if app_secret else b""
        self.max_body_bytes = max_body_bytes
        self.client = GraphClient(api_base_url, access_token, phone_number_id, timeout=graph_timeout)
        self.outbox = Outbox(self.client)
        self._log = message_log
        self._inbox = inbox
        self.transcriber = transcriber or NoTranscriber()
        self._rate_limiter = rate_limiter
        self._menus = menus
        self.conversations: Conversations = conversations or RasaConversations(self._agent)
        self._queues: Dict[str, asyncio.Queue] = {}
        self._tasks: Set[asyncio.Task] = set()
        self._catalog: Optional[Catalog] = None
        self._app: Optional[Sanic] = None
        self._worker: Optional[_WorkerLoop] = None
        if not self.app_secret:
            logger.warning("WHATSAPP_APP_SECRET is not set: every webhook POST will be refused (401)")

    @property
    def log(self) -> SQLMessageLog:
        if self._log is None:
            self._log = message_log_from_env()
        return self._log

    @property
    def inbox(self) -> PendingInbox:
        if self._inbox is None:
            self._inbox = PendingInbox()
        return self._inbox

    @property
    def rate_limiter(self) -> SenderRateLimiter:
        if self._rate_limiter is None:
            self._rate_limiter = SenderRateLimiter()
        return self._rate_limiter

    @property
    def menus(self) -> MenuStore:
        if self._menus is None:
            self._menus = MenuStore()
        return self._menus

    def _agent(self):
        """The agent ``rasa run`` serves (for RasaConversations), once the server has started."""
        return getattr(getattr(self._app, "ctx", None), "agent", None)

    def _worker_loop(self) -> _WorkerLoop:
        if self._worker is None:
            self._worker = _WorkerLoop()
        return self._worker

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self.outbox, self.menus)

    # ------------------------------------------------------------------ HTTP
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.listener("after_server_start")
        async def recover(app, _loop) -> None:
            freeze_loaded_objects()  # the agent and the speech model are loaded by now
            self._app = app
            await self._recover(on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            mode = request.args.get("hub.mode")
            token = request.args.get("hub.verify_token") or ""
            challenge = request.args.get("hub.challenge") or ""
            if mode == "subscribe" and self.verify_token and hmac.compare_digest(
                    token.encode(), self.verify_token.encode()):
                return response.text(challenge)
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            declared = request.headers.get("content-length")
            raw = request.body or b""
            too_large = bool(declared and declared.isdigit() and int(declared) > self.max_body_bytes)
            if len(raw) > self.max_body_bytes or too_large:
                return response.text("payload too large", status=413)
            signature = request.headers.get("x-hub-signature-256")
            if not signature or not self.app_secret:
                return response.text("missing signature", status=401)
            expected = "sha256=" + hmac.new(self.app_secret, raw, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
                return response.text("invalid signature", status=403)
            try:
                note = parse(decode(raw))
            except MalformedPayload as error:
                logger.info("WhatsApp webhook: malformed body (%s)", error)
                return response.text("malformed payload", status=400)
            try:  # once we answer 200 Meta never sends it again: write it down first
                await self.inbox.add(m for m in note.messages if m.type not in IGNORED_TYPES)
            except Exception as error:
                logger.error("WhatsApp inbox unavailable (%s): asking Meta to re-deliver", error.__class__.__name__)
                return response.text("try again", status=503)
            self._app = request.app
            # hand over in arrival order; the worker loop keeps that order per sender
            self._worker_loop().submit(self._accept, note, on_new_message)
            return response.text("ok")

        return webhook

    # ------------------------------------------------------------ background
    def _accept(self, note, on_new_message) -> None:
        """On the worker loop: record statuses, queue messages per sender (no await here)."""
        for status in note.statuses:
            self._spawn(self._record_status(status))
        for message in sorted(note.messages, key=lambda m: m.timestamp):
            if message.type in IGNORED_TYPES:  # not answered, not in the inbox
                if message.type == "revoke":
                    logger.info("WhatsApp: %s deleted message %s", mask_phone(message.sender),
                                (message.edit_of or "?")[-12:])
                continue
            self._enqueue(message, on_new_message)

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)  # keep a strong reference until done
        task.add_done_callback(self._tasks.discard)
        return task

    def _enqueue(self, message: InboundMessage, on_new_message, interrupted: bool = False) -> None:
        queue = self._queues.get(message.sender)
        if queue is None:
            queue = self._queues[message.sender] = asyncio.Queue()
            self._spawn(self._drain(message.sender, queue, on_new_message))
        queue.put_nowait((message, interrupted))

    async def _drain(self, sender: str, queue: asyncio.Queue, on_new_message) -> None:
        try:
            while True:
                try:
                    message, interrupted = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                try:
                    if interrupted:
                        await self._say(sender, "interrupted")
                    else:
                        await self._handle(message, on_new_message)
                except Exception as error:  # one message must never stop the sender's queue
                    logger.error("WhatsApp message %s from %s failed: %s", message.message_id[-12:],
                                 mask_phone(sender), error.__class__.__name__, exc_info=True)
                try:
                    await self.inbox.done(message.message_id)
                except Exception as error:
                    logger.error("WhatsApp inbox: could not clear %s (%s)", message.message_id[-12:],
                                 error.__class__.__name__)
        finally:
            if self._queues.get(sender) is queue:
                del self._queues[sender]

    async def _recover(self, on_new_message) -> None:
        """At start: finish what a crash left in the inbox (see inbox.py for the two cases)."""
        try:
            left = await asyncio.to_thread(self.inbox.left_over)
            started = [await self.log.is_claimed(m.message_id) for m in left]
        except Exception as error:
            logger.error("WhatsApp inbox: recovery failed (%s)", error.__class__.__name__, exc_info=True)
            return
        if not left:
            return
        logger.warning("WhatsApp: %d message(s) were acknowledged but not finished before the restart: "
                       "%d handled now, %d senders asked to repeat", len(left), started.count(False),
                       started.count(True))
        worker = self._worker_loop()
        for message, interrupted in zip(left, started, strict=True):  # one flag per message
            worker.submit(self._enqueue, message, on_new_message, interrupted)

    async def _record_status(self, status) -> None:
        if status.status == "failed":
            logger.warning("WhatsApp delivery failed to %s: code %s (%s)", mask_phone(status.recipient),
                           status.error_code, status.error_title or "")
        await self.log.record_status(status.message_id, status.status, mask_phone(status.recipient),
                                     status.error_code, status.error_title)

    async def _handle(self, message: InboundMessage, on_new_message) -> None:
        if message.type in IGNORED_TYPES:
            return
        if not await self.log.claim(message.message_id):
            logger.info("WhatsApp duplicate %s from %s ignored", message.message_id[-12:], mask_phone(message.sender))
            return
        logger.info("WhatsApp %s message from %s", message.type, mask_phone(message.sender))
        if not await self.rate_limiter.allow(message.sender):
            await self._refuse_flood(message)
            return
        self._spawn(self.client.mark_read(message.message_id, typing=True))
        metadata: Dict[str, Any] = {"whatsapp": {"message_id": message.message_id, "type": message.type,
                                                 "profile_name": message.profile_name}}
        if message.type == "edit":  # the dialogue decides what an edit changes (the form's answer, or nothing)
            metadata["whatsapp"]["edit_of"] = message.edit_of
        text: Optional[str]
        if message.type == "audio":
            text = await self._voice_text(message, metadata)
        else:
            text = await self._text_for(message)
        if text is None:
            logger.info("WhatsApp %s %s from %s has no text: not answered", message.type, message.message_id[-12:],
                        mask_phone(message.sender))
            return
        output = WhatsAppOutput(self.outbox, self.menus)
        try:
            await on_new_message(UserMessage(
                text, output, message.sender, input_channel=self.name(),
                message_id=message.message_id, metadata=metadata))
        finally:
            if output.sent == 0:  # Rasa could not answer (action server down, an error)
                logger.warning("WhatsApp message %s from %s got no answer: apologising",
                               message.message_id[-12:], mask_phone(message.sender))
                await self._say(message.sender, "try_again", message.text)
            await output.flush()  # the answer is out before the inbox forgets the message

    async def _text_for(self, message: InboundMessage) -> Optional[str]:
        if message.type in TEXT_TYPES:
            if not message.text or not message.text.strip():
                return None
            return await self.menus.resolve(message.sender, message.text)
        return '/unsupported_message{"kind":%s}' % json.dumps(message.type)

    async def _voice_text(self, message: InboundMessage, metadata: Dict[str, Any]) -> str:
        """What Rasa receives for a voice note: the answer it gave to the open question, a
        request heard among the expected ones, a transcript (English), or
        ``/voice_note{"kind": why not}``; the citizen sees what was taken first."""
        limits = {"max_seconds": self.transcriber.max_seconds,
                  "max_megabytes": round(self.transcriber.max_bytes / (1024 * 1024), 1)}
        audio = None
        try:
            audio = await self.client.download_media(message.media_id, self.transcriber.max_bytes) \
                if message.media_id else None
        except MediaTooLarge:
            outcome = "too_large"
        else:
            outcome = "not_received"
        waiting = await self.conversations.open_question(message.sender)
        language = waiting.language
        if audio is None:
            metadata["voice"] = {**limits, "outcome": outcome}
            return '/voice_note{"kind":%s}' % json.dumps(outcome)
        turn = self._voice_turn(waiting, language)
        mime = (message.mime_type or "audio/ogg").split(";")[0].strip()
        result = await self.transcriber.transcribe(audio, mime, language, expected=turn.expected or None,
                                                   free_text=turn.free_text)
        metadata["voice"] = {**limits, "outcome": result.outcome.value, "language": result.language,
                             "confidence": round(result.confidence, 3), "seconds": round(result.duration, 1)}
        logger.info("Voice note from %s: %s, %.1f s, confidence %.2f%s", mask_phone(message.sender),
                    result.outcome.value, result.duration, result.confidence,
                    f" ({result.reason})" if result.reason else "")
        spoken = language or result.language or "en"
        voice = message_for(result, turn, self.catalog, spoken, language_known=language is not None)
        if voice.suggestions:
            metadata["voice"]["suggestions"] = list(voice.suggestions)
        if voice.echo:
            key, values = voice.echo
            await WhatsAppOutput(self.outbox, self.menus).send_text_message(
                message.sender, messages.text(key, spoken, **values))
        return voice.text

    def _voice_turn(self, waiting: OpenQuestion, language: Optional[str]) -> VoiceTurn:
        """What the open question expects (nothing to match when the catalog cannot load)."""
        try:
            return voice_turn(waiting, self.catalog, language or "en")
        except Exception as error:  # a broken catalog must not cost the citizen their voice note
            logger.error("Voice: cannot tell what the question expects (%s)", error.__class__.__name__)
            return VoiceTurn((), True, False)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from seva.catalog import default_catalog

            self._catalog = default_catalog()
        return self._catalog

    async def _refuse_flood(self, message: InboundMessage) -> None:
        """Over the sender's rate: not processed; the citizen is told once to wait."""
        logger.warning("WhatsApp rate limit: message %s from %s not processed", message.message_id[-12:],
                       mask_phone(message.sender))
        if await self.rate_limiter.should_warn(message.sender):
            await self._say(message.sender, "rate_limited", message.text)

    async def _say(self, sender: str, key: str, their_text: Optional[str] = None) -> None:
        """A channel's own message (a seva.messages key), in the conversation's language
        (else that of their text)."""
        language = await self.conversations.language(sender) or detect(their_text or "") or "en"
        output = WhatsAppOutput(self.outbox, self.menus)
        await output.send_text_message(sender, messages.text(key, language))
        await output.flush()

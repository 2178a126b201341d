"""A Rasa input/output channel for the WhatsApp Cloud API.

Registered in credentials.yml as ``channels.whatsapp.WhatsAppInput``; the webhook is
``/webhooks/whatsapp/webhook``. Configuration comes from the credentials entry or, when a
key is absent there, from the environment: ``WHATSAPP_VERIFY_TOKEN``, ``WHATSAPP_APP_SECRET``,
``WHATSAPP_ACCESS_TOKEN``, ``WHATSAPP_PHONE_NUMBER_ID``, ``WHATSAPP_API_BASE_URL``.

The webhook checks size, signature and JSON, writes the messages down (inbox.py, so a
crash after the 200 loses nothing), answers 200 and works in the background. The inbox is
a queue in the database every instance shares: whichever instance is free takes the next
message that is due — each sender's messages one at a time in arrival order, different
senders concurrently — under a lease it renews while it works. Every message id is
claimed once in a durable log (see dedupe.py) so re-deliveries are not answered twice.
A turn's replies are written down (replies.py) before they are sent, so an instance that
takes over a message whose instance died sends what was left, once, instead of running
the turn again. A message that Rasa leaves unanswered (the action server is down, an
error) gets an apology in the citizen's language asking them to send it again. Voice
notes are downloaded and transcribed by ``speech/`` (through ``speech_port.py``); the
citizen sees what was heard before the answer. An edited message goes to Rasa as its new text, marked as an edit of
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
import functools
import hashlib
import hmac
import json
import logging
import os
import threading
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Set, Text, Tuple

import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import document_intake, health
from channels import whatsapp_outbound as outbound
from channels.conversation import Conversations, OpenQuestion, RasaConversations
from channels.dedupe import SQLMessageLog, message_log_from_env
from channels.graph_client import DEFAULT_BASE_URL, GraphClient, MediaTooLarge
from channels.inbox import Inbox, LeaseKeeper, Taken
from channels.menus import MenuStore
from channels.outbox import Outbox
from channels.rate_limit import DEFAULT_BURST, DEFAULT_PER_MINUTE, SenderRateLimiter
from channels.replies import ReplyJournal
from channels.speech_port import NoTranscriber, Transcriber, default_transcriber
from channels.voice_turn import VoiceTurn, message_for, voice_turn
from channels.whatsapp_inbound import (
    DOCUMENT_TYPES,
    IGNORED_TYPES,
    TEXT_TYPES,
    InboundMessage,
    MalformedPayload,
    decode,
    parse,
)
from seva import messages, metrics, rasa_setup
from seva.catalog import Catalog
from seva.db import in_writer_thread
from seva.language import detect
from seva.privacy import mask_phone
from seva.runtime import freeze_loaded_objects

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
DOCUMENT_KEY = "whatsapp_document"  # a custom payload naming a file to send (actions/receipt.py)
MAX_IN_FLIGHT = 32  # messages (of different citizens) one instance answers at a time
TURN_TIMEOUT_SECONDS = 180  # a 2-minute voice note is decoded in ~20 s; a turn beyond this hangs
POLL_SECONDS = 0.25  # how often an idle instance looks for messages other instances received
RETRY_SECONDS = 5.0  # a message whose handling hit a database error is taken again after this


@functools.lru_cache(maxsize=1)
def document_store():
    """Where actions keep the files they send (seva/document_store.py), opened once."""
    from seva.document_store import document_store_from_env

    return document_store_from_env()


class TurnFailed(Exception):
    """Rasa raised while answering; the citizen was sent the apology (the cause is attached)."""


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
    """Sends Rasa's responses as WhatsApp messages, within Meta's limits (as they are uttered)."""

    def __init__(self, outbox: Outbox, menus: MenuStore):
        self.outbox = outbox
        self.menus = menus
        self._pending: List[concurrent.futures.Future] = []

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    async def _post_all(self, bodies: Iterable[Dict[str, Any]]) -> None:
        for body in bodies:  # handed to the sender thread, not awaited here (see outbox.py)
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
        document = json_message.get(DOCUMENT_KEY) if isinstance(json_message, dict) else None
        if isinstance(document, dict):
            await self._post_all([await self._document(recipient_id, document)])
            return
        await self._post_all([outbound.custom_message(recipient_id, json_message)])

    async def _document(self, recipient_id: str, spec: Dict[str, Any]) -> Dict[str, Any]:
        """A file an action kept in the document store (a receipt), uploaded to WhatsApp's media
        now, before the turn's replies are written down, so a resend reuses the media id; the
        action's fallback text when it cannot be uploaded."""
        filename = str(spec.get("filename") or "document.pdf")
        try:
            data = await asyncio.to_thread(document_store().get, str(spec.get("key")))
        except (KeyError, OSError, ValueError, RuntimeError) as error:  # RuntimeError: CorruptDocument
            logger.error("document %s not found in the document store (%s)", filename, error.__class__.__name__)
            data = None
        media_id = await self.outbox.client.upload_media(data, str(spec.get("mime") or "application/pdf"),
                                                         filename) if data else None
        if media_id is None:
            return outbound.text_messages(recipient_id, str(spec.get("fallback") or "…"))[0]
        return outbound.document_message(recipient_id, media_id, filename, str(spec.get("caption") or ""))


class TurnOutput(WhatsAppOutput):
    """Collects a turn's replies instead of sending them: the channel writes them down
    first (channels/replies.py) and sends them when the turn is over."""

    def __init__(self, outbox: Outbox, menus: MenuStore):
        super().__init__(outbox, menus)
        self.bodies: List[Dict[str, Any]] = []

    async def _post_all(self, bodies: Iterable[Dict[str, Any]]) -> None:
        self.bodies.extend(bodies)


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
                 rate_limiter: Optional[SenderRateLimiter] = None, inbox: Optional[Inbox] = None,
                 replies: Optional[ReplyJournal] = None,
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
        self._replies = replies
        self._tasks: Set[asyncio.Task] = set()
        self._in_flight: Set[str] = set()  # ids of the messages this instance is answering (worker loop)
        self._holding: Tuple[str, ...] = ()  # a copy for the lease keeper's thread
        self._dispatcher: Optional[asyncio.Task] = None
        self._wake = asyncio.Event()  # bound to the worker loop on first use (Python 3.10)
        self._leases: Optional[LeaseKeeper] = None
        self._draining = False
        self._catalog: Optional[Catalog] = None
        self._app: Optional[Sanic] = None
        self._worker: Optional[_WorkerLoop] = None
        self._stores_lock = threading.Lock()
        if not self.app_secret:
            logger.warning("WHATSAPP_APP_SECRET is not set: every webhook POST will be refused (401)")

    # The stores are made on first use, from Sanic's thread (the webhook) or the worker's
    # (the dispatcher), whichever comes first: under a lock, so there is one of each (two
    # inboxes would hold leases under two owner names).
    def _store(self, name: str, make: Callable[[], Any]) -> Any:
        value = getattr(self, name)
        if value is None:
            with self._stores_lock:
                value = getattr(self, name)
                if value is None:
                    value = make()
                    setattr(self, name, value)
        return value

    @property
    def log(self) -> SQLMessageLog:
        return self._store("_log", message_log_from_env)

    @property
    def inbox(self) -> Inbox:
        return self._store("_inbox", Inbox)

    @property
    def replies(self) -> ReplyJournal:
        return self._store("_replies", ReplyJournal)

    @property
    def rate_limiter(self) -> SenderRateLimiter:
        return self._store("_rate_limiter", SenderRateLimiter)

    @property
    def menus(self) -> MenuStore:
        return self._store("_menus", MenuStore)

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
        async def start_taking(app, _loop) -> None:
            freeze_loaded_objects()  # the agent and the speech model are loaded by now
            self._app = app
            # what a crash or another instance left is taken like any new message (inbox.py)
            self._worker_loop().submit(self._start_dispatcher, on_new_message)
            metrics.watch_inbox(lambda: self.inbox.depth())
            metrics.watch_department_deliveries()
            if os.environ.get("SEVA_DRAIN_SECONDS"):  # behind a balancer: ready → 503 before stopping
                health.drain_on_sigterm(app)

        @webhook.listener("before_server_stop")
        async def stop_taking(_app, _loop) -> None:
            health.start_draining()
            self._draining = True  # messages in hand finish; the rest stay for other instances

        # /health/live, /health/ready (agent, database, Redis lock store), /metrics
        health.add_routes(webhook, [health.agent_check(), health.database_check(lambda: self.inbox.engine),
                                    health.lock_store_check()])

        @webhook.route("/", methods=["GET"])
        async def hello(_: Request) -> HTTPResponse:
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
            metrics.messages_accepted(m.type for m in note.messages)
            self._app = request.app
            # statuses recorded, the dispatcher woken: the inbox keeps each sender's order
            self._worker_loop().submit(self._accept, note, on_new_message)
            return response.text("ok")

        return webhook

    # ------------------------------------------------------------ background
    def _accept(self, note, on_new_message) -> None:
        """On the worker loop: note what came (no await here) and wake the dispatcher."""
        self._note(note)
        self._start_dispatcher(on_new_message)
        self._wake.set()

    def _note(self, note) -> None:
        """Record delivery statuses, log deletions (neither is answered nor kept in the inbox)."""
        for status in note.statuses:
            self._spawn(self._record_status(status))
        for message in note.messages:
            if message.type == "revoke":  # not answered, not in the inbox
                logger.info("WhatsApp: %s deleted message %s", mask_phone(message.sender),
                            (message.edit_of or "?")[-12:])

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)  # keep a strong reference until done
        task.add_done_callback(self._tasks.discard)
        return task

    def _start_dispatcher(self, on_new_message) -> None:
        """On the worker loop: the one task that takes messages from the inbox for this instance."""
        if self._dispatcher is None:
            self._leases = LeaseKeeper(self.inbox, lambda: self._holding)
            self._dispatcher = self._spawn(self._dispatch(on_new_message))

    async def _dispatch(self, on_new_message) -> None:
        """Take what is due (any instance may have received it), a few at a time; wait for
        a webhook or a turn to end, or poll: other instances' messages wake nobody here."""
        while not self._draining:
            self._wake.clear()
            try:
                await self.take_and_handle(on_new_message)
            except Exception as error:  # the database is away: try again at the next poll
                logger.error("WhatsApp inbox: cannot take messages (%s)", error.__class__.__name__)
            try:
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass

    async def take_and_handle(self, on_new_message) -> int:
        """Lease what this instance has room for and start on it; how many were taken."""
        room = MAX_IN_FLIGHT - len(self._in_flight)
        taken = await in_writer_thread(self.inbox.take, room) if room > 0 else []
        for item in taken:
            self._in_flight.add(item.message.message_id)
            self._spawn(self._work(item, on_new_message))
        self._holding = tuple(self._in_flight)
        return len(taken)

    async def _work(self, taken: Taken, on_new_message) -> None:
        message = taken.message
        try:  # a turn that hangs would hold its lease, and its citizen's next messages, for ever
            await asyncio.wait_for(self._answer(taken, on_new_message), TURN_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            logger.error("WhatsApp message %s from %s: no answer within %g s, given up", message.message_id[-12:],
                         mask_phone(message.sender), TURN_TIMEOUT_SECONDS)
            await self._apologise(message)
        except sa.exc.DBAPIError as error:  # the database is away: the message waits for a later attempt
            logger.error("WhatsApp message %s from %s: database error (%s); taken again in %g s",
                         message.message_id[-12:], mask_phone(message.sender), error.__class__.__name__,
                         RETRY_SECONDS)
            await self._let_go(message, RETRY_SECONDS)
            return
        except TurnFailed as failed:  # Rasa raised: the citizen has had the apology
            logger.error("WhatsApp message %s from %s failed: %s", message.message_id[-12:],
                         mask_phone(message.sender), failed.__cause__.__class__.__name__, exc_info=True)
        except Exception as error:  # one message must never stop the others
            logger.error("WhatsApp message %s from %s failed: %s", message.message_id[-12:],
                         mask_phone(message.sender), error.__class__.__name__, exc_info=True)
            await self._apologise(message)
        try:  # the inbox first: a message whose replies were forgotten must not look half-done
            await self.inbox.done(message.message_id)
            await self.replies.forget(message.message_id)
        except Exception as error:  # its lease runs out: it is taken again, and resumed
            logger.error("WhatsApp inbox: could not clear %s (%s)", message.message_id[-12:],
                         error.__class__.__name__)
        finally:
            self._forget_in_flight(message.message_id)

    def _forget_in_flight(self, message_id: str) -> None:
        self._in_flight.discard(message_id)
        self._holding = tuple(self._in_flight)  # no longer renewed: if still in the inbox, it is retried
        self._wake.set()  # the sender's next message may be due now

    async def _let_go(self, message: InboundMessage, seconds: float) -> None:
        try:
            await in_writer_thread(self.inbox.let_go, message.message_id, seconds)
        except Exception as error:  # then its lease runs out instead
            logger.error("WhatsApp inbox: could not let go of %s (%s)", message.message_id[-12:],
                         error.__class__.__name__)
        finally:
            self._forget_in_flight(message.message_id)

    async def _apologise(self, message: InboundMessage) -> None:
        try:
            await self._say(message.sender, "try_again", message.text)
        except Exception as error:
            logger.error("WhatsApp: could not apologise to %s (%s)", mask_phone(message.sender),
                         error.__class__.__name__)

    async def _answer(self, taken: Taken, on_new_message) -> None:
        message = taken.message
        claimed_at = await self.log.claimed_at(message.message_id) if taken.attempts > 1 else None
        if claimed_at is not None and claimed_at >= taken.received_at:
            # an instance died while answering it: send what it had not sent, never run the turn twice
            logger.warning("WhatsApp message %s from %s: its instance stopped before finishing; resuming "
                           "(attempt %d)", message.message_id[-12:], mask_phone(message.sender), taken.attempts)
            if await self._resume(message):
                metrics.turn_done("whatsapp", metrics.seconds_since(taken.received_at))
                return
        else:
            if not await self.log.claim(message.message_id):
                logger.info("WhatsApp duplicate %s from %s ignored", message.message_id[-12:],
                            mask_phone(message.sender))
                return
            logger.info("WhatsApp %s message from %s", message.type, mask_phone(message.sender))
            if not await self.rate_limiter.allow(message.sender):
                await self._refuse_flood(message)
                return
            self._spawn(self.client.mark_read(message.message_id, typing=True))
        await self._turn(message, on_new_message)
        metrics.turn_done("whatsapp", metrics.seconds_since(taken.received_at))

    async def _resume(self, message: InboundMessage) -> bool:
        """Send what is left of a turn another instance ran; False when its turn never ended."""
        unsent = await self.replies.unsent(message.message_id)
        if unsent is None:  # the turn may have ended with its replies not yet written down
            said = await self.conversations.replies_to(message.sender, message.message_id)
            if said is None:
                return False
            output = TurnOutput(self.outbox, self.menus)
            for reply in said:
                await output.send_response(message.sender, reply)
            unsent = await self.replies.keep(message.message_id, output.bodies)
        await self._send_kept(message.message_id, unsent)
        return True

    async def _turn(self, message: InboundMessage, on_new_message) -> None:
        metadata: Dict[str, Any] = {"whatsapp": {"message_id": message.message_id, "type": message.type,
                                                 "profile_name": message.profile_name}}
        if message.type == "edit":  # the dialogue decides what an edit changes (the form's answer, or nothing)
            metadata["whatsapp"]["edit_of"] = message.edit_of
        output = TurnOutput(self.outbox, self.menus)
        text: Optional[str]
        if message.type == "audio":
            text = await self._voice_text(message, metadata, output)
        elif message.type in DOCUMENT_TYPES:
            text = await self._document_text(message, metadata)
        else:
            text = await self._text_for(message)
        if text is None:
            logger.info("WhatsApp %s %s from %s has no text: not answered", message.type, message.message_id[-12:],
                        mask_phone(message.sender))
            return
        echoed = len(output.bodies)
        failure: Optional[Exception] = None
        try:
            await on_new_message(UserMessage(
                text, output, message.sender, input_channel=self.name(),
                message_id=message.message_id, metadata=metadata))
        except sa.exc.DBAPIError:  # the database is away: nothing is sent, the message is taken again
            raise
        except Exception as error:  # answered with the apology below, then reported by _work
            failure = error
        if len(output.bodies) == echoed:  # Rasa could not answer (action server down, an error)
            logger.warning("WhatsApp message %s from %s got no answer: apologising",
                           message.message_id[-12:], mask_phone(message.sender))
            language = await self._language(message.sender, message.text)
            await output.send_text_message(message.sender, messages.text("try_again", language))
        kept = await self.replies.keep(message.message_id, output.bodies)
        await self._send_kept(message.message_id, kept)  # sent before the inbox forgets the message
        if failure is not None:
            raise TurnFailed() from failure

    async def _send_kept(self, message_id: str, kept: List[Tuple[int, Dict[str, Any]]]) -> None:
        """Send written-down replies in order, marking each once the Graph API has it."""
        futures = [(position, self.outbox.post(body)) for position, body in kept]  # in order, per recipient
        for position, future in futures:
            await asyncio.wrap_future(future)
            await self.replies.mark_sent(message_id, position)

    async def _record_status(self, status) -> None:
        if status.status == "failed":
            logger.warning("WhatsApp delivery failed to %s: code %s (%s)", mask_phone(status.recipient),
                           status.error_code, status.error_title or "")
        await self.log.record_status(status.message_id, status.status, mask_phone(status.recipient),
                                     status.error_code, status.error_title)
        if status.callback and status.status != "failed":  # one of our replies: Meta has it (replies.py)
            await self.replies.status_came(status.callback)

    async def _text_for(self, message: InboundMessage) -> Optional[str]:
        if message.type in TEXT_TYPES:
            if not message.text or not message.text.strip():
                return None
            return await self.menus.resolve(message.sender, message.text)
        return '/unsupported_message{"kind":%s}' % json.dumps(message.type)

    async def _document_text(self, message: InboundMessage, metadata: Dict[str, Any]) -> str:
        """What Rasa receives for a photo or PDF: ``/inform{"document": ...}`` with the kept
        document, or the reason it was refused (actions/documents.py answers either)."""
        if message.media_id:
            intake = await document_intake.take(self.client, document_store(), message.media_id, message.type)
        else:
            intake = document_intake.Intake(refused=document_intake.NOT_RECEIVED)
        if intake.document is not None:
            d = intake.document
            value: Dict[str, Any] = {"key": d.key, "kind": d.kind, "media_type": d.media_type, "size": d.size,
                                     "pages": d.pages}
        else:
            value = {"problem": intake.refused}
        metadata["document"] = {k: v for k, v in value.items() if k != "key"}
        logger.info("WhatsApp %s from %s: %s", message.type, mask_phone(message.sender),
                    intake.document.kind if intake.document else f"refused ({intake.refused})")
        return "/inform" + json.dumps({"document": value}, separators=(",", ":"))

    async def _voice_text(self, message: InboundMessage, metadata: Dict[str, Any], output: TurnOutput) -> str:
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
            metrics.voice_note(outcome)
            metadata["voice"] = {**limits, "outcome": outcome}
            return '/voice_note{"kind":%s}' % json.dumps(outcome)
        turn = self._voice_turn(waiting, language)
        mime = (message.mime_type or "audio/ogg").split(";")[0].strip()
        result = await self.transcriber.transcribe(audio, mime, language, expected=turn.expected or None,
                                                   free_text=turn.free_text)
        metrics.voice_note(result.outcome)
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
            await output.send_text_message(message.sender, messages.text(key, spoken, **values))
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

    async def _language(self, sender: str, their_text: Optional[str] = None) -> str:
        """The conversation's language, else that of their text, else English."""
        return await self.conversations.language(sender) or detect(their_text or "") or "en"

    async def _say(self, sender: str, key: str, their_text: Optional[str] = None) -> None:
        """A channel's own message (a seva.messages key), sent at once, in their language."""
        language = await self._language(sender, their_text)
        output = WhatsAppOutput(self.outbox, self.menus)
        await output.send_text_message(sender, messages.text(key, language))
        await output.flush()

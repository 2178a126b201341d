"""The department's side of Seva, inside ``rasa run``: status changes in, applications and notices out.

Registered in credentials.yml as ``channels.department.DepartmentInput`` (Rasa mounts it at
``/webhooks/department/``), so it lives where the agent and the conversations are:

- ``POST /webhooks/department/status``: a status change signed with ``X-Seva-Signature``
  (DESIGN.md). 401 when the signature is wrong (nothing changes), 404 for an unknown
  reference, 400 for a malformed change, 200 otherwise — a change posted again is a 200
  that changes nothing (``Store.change_status`` keeps it once);
- a worker thread of its own that, for every instance sharing the database,
  * delivers submitted applications (seva/deliveries.py, the outbox),
  * queues the overdue notices when an ORTPSA time limit passes (seva/notices.py),
  * sends the citizens their notices: Rasa composes each by running
    ``action_notify_application`` on the citizen's conversation (Rasa's ``execute_action``,
    under the conversation's lock, followed by ``action_listen`` so the next message is
    read like any other), then it goes out free-form inside WhatsApp's 24-hour window
    (channels/customer_window.py) and as the approved template outside it
    (channels/templates.py).

Settings: ``DEPARTMENT_API_SECRET`` (or ``secret`` in credentials.yml), the WhatsApp
variables the WhatsApp channel reads, ``DEPARTMENT_POLL_SECONDS`` (1) and
``SEVA_OVERDUE_SCAN_SECONDS`` (300): how often the outbox and the due dates are looked at.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import threading
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import customer_window, templates
from channels import whatsapp_outbound as outbound
from channels.graph_client import DEFAULT_BASE_URL, GraphClient, SendResult
from seva import rasa_setup, signing
from seva.catalog import default_catalog
from seva.db import in_writer_thread
from seva.deliveries import DeliveryQueue
from seva.notices import NoticeQueue
from seva.privacy import mask_phone
from seva.store import DEPARTMENT_STATUSES, Store, default_store

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
NOTIFY_ACTION = "action_notify_application"
TEMPLATE_KEY = "whatsapp_template"  # the custom payload of actions/notices.py
POLL_SECONDS = 1.0
OVERDUE_SCAN_SECONDS = 300.0
NOTICE_RETRY_SECONDS = 30.0
MAX_NOTICE_ATTEMPTS = 20  # for errors of our own; WhatsApp outages are retried for as long as they last


class BadChange(ValueError):
    """A status change the contract does not allow (the reason is the message)."""


def parse_change(body: Any) -> Dict[str, Any]:
    """The fields of a posted status change, checked; BadChange saying what is wrong."""
    if not isinstance(body, dict):
        raise BadChange("the body must be a JSON object")
    reference, status = body.get("reference"), body.get("status")
    if not isinstance(reference, str) or not reference.strip():
        raise BadChange("reference is required")
    if status not in DEPARTMENT_STATUSES:
        raise BadChange(f"status must be one of {', '.join(DEPARTMENT_STATUSES)}")
    try:
        changed_at = dt.datetime.fromisoformat(str(body.get("changed_at") or ""))
    except ValueError:
        raise BadChange("changed_at must be an ISO 8601 time with its UTC offset") from None
    if changed_at.tzinfo is None:
        raise BadChange("changed_at must carry its UTC offset, e.g. 2026-12-03T10:15:00+05:30")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise BadChange("note must be a string of at most 2000 characters")
    url = body.get("certificate_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("https://", "http://"))
                            or len(url) > 2000 or any(c.isspace() for c in url)):
        raise BadChange("certificate_url must be an http(s) URL")
    documents = body.get("documents_requested") or []
    if not isinstance(documents, list) or len(documents) > 20 or not all(
            isinstance(d, str) and 0 < len(d.strip()) <= 200 for d in documents):
        raise BadChange("documents_requested must be a list of at most 20 names")
    if status == "documents_needed" and not documents and not note:
        raise BadChange("documents_needed needs documents_requested (or a note saying what)")
    return {"reference": reference.strip(), "status": status, "note": note, "changed_at": changed_at,
            "certificate_url": url, "documents_requested": documents}


def graph_client_from_env() -> Optional[GraphClient]:
    """The WhatsApp Cloud API client, from the variables the WhatsApp channel reads (None without a token)."""
    token = os.environ.get("WHATSAPP_ACCESS_TOKEN")
    if not token:
        return None
    return GraphClient(os.environ.get("WHATSAPP_API_BASE_URL") or DEFAULT_BASE_URL, token,
                       os.environ.get("WHATSAPP_PHONE_NUMBER_ID", ""),
                       timeout=float(os.environ.get("WHATSAPP_GRAPH_TIMEOUT", "10")))


class DepartmentInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "department"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "DepartmentInput":
        rasa_setup.prepare()
        creds = credentials or {}
        return cls(secret=str(creds.get("secret") or os.environ.get("DEPARTMENT_API_SECRET") or ""))

    def __init__(self, secret: str, client: Optional[GraphClient] = None, store: Optional[Store] = None):
        self.secret = secret
        self._client = client
        self._store = store
        self.worker: Optional[DepartmentWorker] = None
        if not secret:
            logger.warning("DEPARTMENT_API_SECRET is not set: status changes are refused (401) "
                           "and applications are not delivered")

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = default_store()
        return self._store

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("department_webhook", __name__)

        @webhook.listener("after_server_start")
        async def start_worker(app, _loop) -> None:
            self.worker = DepartmentWorker(self.store, lambda: getattr(app.ctx, "agent", None),
                                           self._client or graph_client_from_env(), self.secret)
            self.worker.start()

        @webhook.listener("before_server_stop")
        async def stop_worker(_app, _loop) -> None:
            if self.worker is not None:
                self.worker.stop()

        @webhook.route("/", methods=["GET"])
        async def hello(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            raw = request.body or b""
            if len(raw) > MAX_BODY_BYTES:
                return response.json({"error": "body too large"}, status=413)
            if not signing.verify(raw, request.headers.get(signing.HEADER), self.secret):
                return response.json({"error": "bad or missing signature"}, status=401)
            try:
                change = parse_change(json.loads(raw))
            except (ValueError, BadChange) as error:  # JSONDecodeError is a ValueError
                return response.json({"error": str(error) if isinstance(error, BadChange) else "body is not JSON"},
                                     status=400)
            try:
                recorded = await in_writer_thread(self._record, change)
            except KeyError:
                return response.json({"error": f"no application {change['reference']}"}, status=404)
            if recorded.new and self.worker is not None:
                self.worker.wake()
            return response.json({"reference": recorded.application.reference, "status": change["status"],
                                  "recorded": recorded.new})

        return webhook

    def _record(self, change: Dict[str, Any]):
        return self.store.change_status(change["reference"], change["status"], change["note"],
                                        changed_by="department", changed_at=change["changed_at"],
                                        certificate_url=change["certificate_url"],
                                        documents_requested=change["documents_requested"])


class DepartmentWorker:
    """A thread with its own event loop (Rasa's turns on other loops are not held up) that
    runs the three periodic jobs; every instance runs one, the database shares the work."""

    def __init__(self, store: Store, agent: Callable[[], Any], client: Optional[GraphClient], secret: str):
        self.store = store
        self.agent = agent
        self.client = client
        self.deliveries = DeliveryQueue(store, default_catalog(), secret)
        self.notices = NoticeQueue(store)
        self.poll = float(os.environ.get("DEPARTMENT_POLL_SECONDS", POLL_SECONDS))
        self.overdue_every = float(os.environ.get("SEVA_OVERDUE_SCAN_SECONDS", OVERDUE_SCAN_SECONDS))
        self.loop = asyncio.new_event_loop()
        self._wake: Optional[asyncio.Event] = None
        self._stopping = False
        self._templates: Optional[Dict[str, templates.Template]] = None

    def start(self) -> None:
        threading.Thread(target=self._run, name="seva-department", daemon=True).start()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    def wake(self) -> None:
        """A notice was queued: send it now rather than at the next poll (callable from any thread)."""
        if self._wake is not None:
            self.loop.call_soon_threadsafe(self._wake.set)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._wake = asyncio.Event()
        self.loop.run_until_complete(asyncio.gather(
            self._every(self.poll, self._deliver, "department deliveries"),
            self._every(self.overdue_every, self._scan_overdue, "the overdue scan"),
            self._notices_loop()))

    async def _every(self, seconds: float, job: Callable[[], Awaitable[Any]], what: str) -> None:
        while not self._stopping:
            try:
                await job()
            except Exception:  # a database outage: logged, tried again next time
                logger.exception("%s failed; trying again in %.0f s", what, seconds)
            await asyncio.sleep(seconds)

    async def _deliver(self) -> None:
        while await asyncio.to_thread(self.deliveries.deliver_due) and not self._stopping:
            pass  # a full batch: there may be more due

    async def _scan_overdue(self) -> None:
        if await asyncio.to_thread(self.notices.queue_overdue):
            self.wake()

    async def _notices_loop(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                taken = await asyncio.to_thread(self.notices.take)
                await asyncio.gather(*(self._send_guarded(row) for row in taken))
            except Exception:
                logger.exception("sending notices failed; trying again")
                taken = []
            if not taken:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                except asyncio.TimeoutError:
                    pass

    # ------------------------------------------------------------------ one notice
    async def _send_guarded(self, row: Dict[str, Any]) -> None:
        """``_send_notice``, with a bug or an outage in it costing this notice a retry, not the loop;
        after MAX_NOTICE_ATTEMPTS it is kept as failed for an operator (seva.officer notices)."""
        try:
            await self._send_notice(row)
        except Exception as error:
            logger.exception("notice %d could not be sent", row["id"])
            problem = f"{error.__class__.__name__}: {error}"
            if row["attempts"] >= MAX_NOTICE_ATTEMPTS:
                await asyncio.to_thread(self.notices.failed, row["id"], problem)
            else:
                await asyncio.to_thread(self.notices.retry, row["id"], NOTICE_RETRY_SECONDS, problem)

    async def _send_notice(self, row: Dict[str, Any]) -> None:
        notice_id, sender = row["id"], row["sender_id"]
        if self.client is None:
            await asyncio.to_thread(self.notices.retry, notice_id, 300, "WhatsApp is not configured")
            return
        rendered = json.loads(row["rendered"]) if row["rendered"] else None
        if rendered is None:
            rendered = await self._compose(row)
            if rendered is None:
                await asyncio.to_thread(self.notices.retry, notice_id, 5, "the assistant is not ready")
                return
            await asyncio.to_thread(self.notices.keep_rendered, notice_id, rendered)
        window_open = await asyncio.to_thread(customer_window.is_open, self.store.engine, sender)
        via = "free_form" if window_open and rendered["messages"] else "template"
        start = row["sent_parts"] if row["sent_via"] == via else 0
        result = await self._send_parts(notice_id, sender, rendered, via, start)
        if not result.ok and via == "free_form" and result.error_code == 131047 and start == 0:
            via = "template"  # the window closed after all (our record and Meta's disagree)
            result = await self._send_parts(notice_id, sender, rendered, via, 0)
        if result.ok:
            await asyncio.to_thread(self.notices.sent, notice_id, via)
            logger.info("notice %d (%s) sent to %s as %s", notice_id, row["kind"], mask_phone(sender), via)
        elif result.status == 0 or result.status == 429 or result.status >= 500:
            await asyncio.to_thread(self.notices.retry, notice_id, NOTICE_RETRY_SECONDS,
                                    f"WhatsApp HTTP {result.status} code {result.error_code}")
        else:
            await asyncio.to_thread(self.notices.failed, notice_id,
                                    f"WhatsApp refused it: HTTP {result.status} code {result.error_code}")
            logger.error("notice %d to %s refused by WhatsApp: code %s", notice_id, mask_phone(sender),
                         result.error_code)

    async def _send_parts(self, notice_id: int, sender: str, rendered: Dict[str, Any], via: str,
                          start: int) -> SendResult:
        bodies = self._bodies(sender, rendered, via)
        result = SendResult(True, 200)
        for number, body in enumerate(bodies[start:], start=start + 1):
            assert self.client is not None
            result = await self.client.send(body)
            if not result.ok:
                return result
            await asyncio.to_thread(self.notices.part_sent, notice_id, number, via)
        return result

    def _bodies(self, sender: str, rendered: Dict[str, Any], via: str) -> List[Dict[str, Any]]:
        if via == "template":
            spec = rendered["template"]
            template = self.templates()[spec["name"]]
            return [templates.template_message(sender, template, spec["language"], spec["values"],
                                               spec.get("button_payloads") or ())]
        bodies: List[Dict[str, Any]] = []
        for message in rendered["messages"]:
            if message.get("buttons"):
                bodies.extend(outbound.buttons_message(sender, message.get("text") or "", message["buttons"]).bodies)
            elif message.get("text"):
                bodies.extend(outbound.text_messages(sender, message["text"]))
        return bodies

    def templates(self) -> Dict[str, templates.Template]:
        if self._templates is None:
            self._templates = templates.load_templates()
        return self._templates

    async def _compose(self, row: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Run the notice action on the citizen's conversation: its free-form messages and template."""
        agent = self.agent()
        if agent is None or not agent.is_ready():
            return None
        from rasa.core.policies.policy import PolicyPrediction

        sender = row["sender_id"]
        collector = CollectingOutputChannel()
        processor = agent.processor
        async with agent.lock_store.lock(sender):
            for action, output in ((NOTIFY_ACTION, collector), ("action_listen", CollectingOutputChannel())):
                await processor.execute_action(sender, action, output, agent.nlg,
                                               PolicyPrediction.for_action_name(agent.domain, action))
        messages, template = _split(collector.messages)
        if template is None or template.get("notice_id") != row["id"]:
            logger.warning("notice %d: the action composed %s; trying again later", row["id"],
                           "nothing" if template is None else f"notice {template.get('notice_id')}")
            return None
        return {"messages": messages, "template": template}


def _split(messages: List[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """The free-form messages (text, buttons) and the template description among what Rasa said."""
    free: List[Dict[str, Any]] = []
    template = None
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and TEMPLATE_KEY in custom:
            template = custom[TEMPLATE_KEY]
        elif message.get("text"):
            free.append({"text": message["text"], "buttons": message.get("buttons") or []})
    return free, template


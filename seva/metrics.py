"""Prometheus metrics of one ``rasa run`` instance (issue 17, Operations).

Every metric is in one registry, ``REGISTRY``, served as text by ``exposition()`` (the
``/metrics`` route of channels/health.py). The counters and the histogram are moved by the
code that sees the event: the WhatsApp channel (messages in, turns, voice notes), the Graph
API client (errors) and the last NLU pipeline component components/nlu_metrics.py (NLU
messages and fallbacks). Three gauges are read when Prometheus scrapes, from a callable registered by
whoever owns the data (``watch_inbox``, ``watch_department_deliveries``); such a read runs on
a thread of its own with a timeout, and a failing or slow source leaves its samples out and
sets ``seva_metrics_source_up{source}`` to 0 instead of failing the scrape.

Nothing here carries a phone number or a message text: label values come from short closed
lists (anything else becomes ``other``) or, for Graph API errors, from a number.

The instance is named by ``SEVA_INSTANCE`` (set by the cluster runner; the host name
otherwise) in ``seva_instance_info{name}``; Prometheus's own ``instance`` label names the
scraped address. docs/operations.md ("Metrics and health") has the PromQL.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import os
import re
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterable, Optional, Tuple, TypeVar, Union

import sqlalchemy as sa
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

T = TypeVar("T")

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # process_resident_memory_bytes, process_cpu_seconds_total, …
PlatformCollector(registry=REGISTRY)

# -- the instance ---------------------------------------------------------------------
INSTANCE = os.environ.get("SEVA_INSTANCE") or socket.gethostname()
INSTANCE_INFO = Info("seva_instance", "Which Seva instance this is (SEVA_INSTANCE, else the host name).",
                     registry=REGISTRY)
INSTANCE_INFO.info({"name": INSTANCE})

# -- counted where they happen ---------------------------------------------------------
MESSAGES_IN = Counter(
    "seva_messages_in", "WhatsApp messages accepted by the webhook (written to the inbox, 200 sent), by type.",
    ["type"], registry=REGISTRY)
TURNS = Counter(
    "seva_turns", "Turns finished: a citizen's message accepted and its last reply sent, by channel.",
    ["channel"], registry=REGISTRY)
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0)
TURN_SECONDS = Histogram(
    "seva_turn_seconds", "Seconds from a message's acceptance by the webhook to its last reply sent.",
    ["channel"], buckets=TURN_BUCKETS, registry=REGISTRY)
VOICE_NOTES = Counter(
    "seva_voice_notes", "Voice notes by outcome (speech.Outcome values; not_received: the download failed).",
    ["outcome"], registry=REGISTRY)
NLU_MESSAGES = Counter(
    "seva_nlu_messages", "User messages Rasa's NLU model classified (typed or transcribed text, not /payloads).",
    registry=REGISTRY)
NLU_FALLBACK = Counter(
    "seva_nlu_fallback", "Of seva_nlu_messages_total, those classified nlu_fallback (too unsure to act on).",
    registry=REGISTRY)
GRAPH_API_ERRORS = Counter(
    "seva_graph_api_errors", "Failed Graph API send attempts, by Graph error code (else HTTP status, "
    "'timeout' or 'network'); each retry counts.", ["code"], registry=REGISTRY)

# Label values come from closed lists, so that nothing a sender writes can create series.
MESSAGE_TYPES = ("text", "interactive", "button", "edit", "audio", "image", "video", "document", "sticker",
                 "location", "contacts", "order", "unsupported", "reaction", "system", "ephemeral",
                 "request_welcome", "revoke")
VOICE_OUTCOMES = ("ok", "choice", "suggest", "type_instead", "unclear", "silent", "too_long", "too_large",
                  "not_audio", "corrupt", "busy", "unavailable", "not_received")  # speech/result.py Outcome
OTHER = "other"
_CODE = re.compile(r"^[0-9]{1,9}$")


def _closed(value: Any, allowed: Tuple[str, ...]) -> str:
    value = str(getattr(value, "value", value) or "").strip().lower()  # an Enum member or a string
    return value if value in allowed else OTHER


def message_accepted(message_type: str) -> None:
    """The webhook accepted (wrote down and acknowledged) one message of this WhatsApp type."""
    MESSAGES_IN.labels(_closed(message_type, MESSAGE_TYPES)).inc()


def messages_accepted(message_types: Iterable[str]) -> None:
    """``message_accepted`` for each of a webhook call's messages."""
    for message_type in message_types:
        message_accepted(message_type)


def seconds_since(accepted_at: dt.datetime) -> float:
    """Seconds from an aware timestamp (the inbox's ``received_at``) to now."""
    return (dt.datetime.now(dt.timezone.utc) - accepted_at).total_seconds()


def turn_done(channel: str, seconds: float) -> None:
    """A turn is over: ``seconds`` from the message's acceptance to its last reply sent."""
    channel = channel if channel in ("whatsapp", "rest") else OTHER
    TURNS.labels(channel).inc()
    TURN_SECONDS.labels(channel).observe(max(0.0, seconds))


def voice_note(outcome: Any) -> None:
    """A voice note's outcome: a ``speech.Outcome`` (or its value) or ``"not_received"``."""
    VOICE_NOTES.labels(_closed(outcome, VOICE_OUTCOMES)).inc()


def nlu_message(fallback: bool) -> None:
    """One user message classified by the NLU model; ``fallback``: as nlu_fallback."""
    NLU_MESSAGES.inc()
    if fallback:
        NLU_FALLBACK.inc()


def graph_api_error(code: Optional[int], status: int = 0, timeout: bool = False) -> None:
    """A failed Graph API attempt: its error code, else the HTTP status, else timeout/network."""
    if code is not None and _CODE.match(str(code)):
        label = str(code)
    elif status:
        label = f"http_{int(status)}"
    else:
        label = "timeout" if timeout else "network"
    GRAPH_API_ERRORS.labels(label).inc()


for _type in ("text", "interactive", "button", "audio"):  # present from the start, so rate() works at once
    MESSAGES_IN.labels(_type)
for _outcome in VOICE_OUTCOMES:
    VOICE_NOTES.labels(_outcome)
TURNS.labels("whatsapp")
TURN_SECONDS.labels("whatsapp")


# -- bounded calls to things that may hang (a database, Redis) -------------------------------
class ProbeBusy(Exception):
    """The previous call of this probe has not returned yet: no second thread is started."""


_running: Dict[str, concurrent.futures.Future] = {}
_running_lock = threading.Lock()


def submit_probe(name: str, function: Callable[[], T]) -> "concurrent.futures.Future[T]":
    """Run ``function`` on a thread of its own, at most one call per ``name`` at a time.

    A database that hangs therefore holds one thread per probe, however often the balancer
    and Prometheus ask; the callers wait with a timeout (``call_probe``, channels/health.py).
    The threads are daemons: a call that never returns does not hold the process's exit."""
    future: "concurrent.futures.Future[T]" = concurrent.futures.Future()
    with _running_lock:
        previous = _running.get(name)
        if previous is not None and not previous.done():
            raise ProbeBusy(name)
        _running[name] = future

    def run() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(function())
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, name=f"seva-probe {name}", daemon=True).start()
    return future


def call_probe(name: str, function: Callable[[], T], timeout: float) -> T:
    """``function()`` on a probe thread; ``TimeoutError`` after ``timeout`` seconds."""
    try:
        return submit_probe(name, function).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"{name}: no answer in {timeout} s") from None


# -- read at scrape time ---------------------------------------------------------------
InboxStats = Tuple[int, Optional[float]]  # (messages waiting, age in seconds of the oldest; None if none)


class _ScrapeTimeGauges:
    """The gauges whose values are read from their owners when Prometheus scrapes."""

    def __init__(self) -> None:
        self.inbox: Optional[Callable[[], InboxStats]] = None
        self.deliveries: Optional[Callable[[], int]] = None
        self.timeout = 2.0

    def _read(self, source: str, function: Callable[[], T]) -> Optional[T]:
        try:
            return call_probe(f"metrics:{source}", function, self.timeout)
        except Exception as error:  # a scrape must never fail because a source did
            logger.warning("metrics: %s unavailable (%s)", source, error.__class__.__name__)
            return None

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def _families(self) -> Tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("seva_inbox_depth", "Messages acknowledged to Meta and not yet finished "
                              "(the WhatsApp inbox; shared by the instances on one database)."),
            GaugeMetricFamily("seva_inbox_oldest_seconds", "Age of the oldest message in the inbox (0 when empty)."),
            GaugeMetricFamily("seva_department_deliveries_pending", "Applications the department has not "
                              "received yet (still being retried, or refused and waiting for an operator)."),
            GaugeMetricFamily("seva_metrics_source_up", "1 if the source of a scrape-time gauge answered this "
                              "scrape, 0 if it failed or timed out (its gauges are then left out).",
                              labels=["source"]),
        )

    def collect(self) -> Iterable[Metric]:
        depth, oldest, deliveries, up = self._families()
        if self.inbox is not None:
            stats = self._read("inbox", self.inbox)
            up.add_metric(["inbox"], 0.0 if stats is None else 1.0)
            if stats is not None:
                depth.add_metric([], float(stats[0]))
                oldest.add_metric([], float(stats[1] or 0.0))
        if self.deliveries is not None:
            pending = self._read("department_deliveries", self.deliveries)
            up.add_metric(["department_deliveries"], 0.0 if pending is None else 1.0)
            if pending is not None:
                deliveries.add_metric([], float(pending))
        return [family for family in (depth, oldest, deliveries, up) if family.samples]


SCRAPE_TIME = _ScrapeTimeGauges()
REGISTRY.register(SCRAPE_TIME)


def watch_inbox(stats: Optional[Callable[[], InboxStats]]) -> None:
    """Read ``seva_inbox_depth`` and ``seva_inbox_oldest_seconds`` from ``stats()`` at each scrape.

    ``stats`` returns (messages waiting, age of the oldest in seconds or None); it is called
    on a probe thread, so it may block (a COUNT and a MIN on the database). None stops it."""
    SCRAPE_TIME.inbox = stats


_engine_lock = threading.Lock()
_engines: Dict[str, sa.engine.Engine] = {}


def app_db_engine() -> sa.engine.Engine:
    """One engine on the application database (``APP_DB_URL``) for probes and scrape-time reads."""
    from seva.db import database_url, make_engine

    url = database_url()
    with _engine_lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def engine_of(engine: Union[sa.engine.Engine, Callable[[], sa.engine.Engine], None]) -> sa.engine.Engine:
    """``engine`` itself, what a function returns, or (None) ``app_db_engine()``."""
    if engine is None:
        return app_db_engine()
    if isinstance(engine, sa.engine.Engine):
        return engine
    return engine()


def undelivered_applications(engine: Union[sa.engine.Engine, Callable[[], sa.engine.Engine], None] = None) -> int:
    """Applications the department has not received yet (the outbox's pending and refused
    rows, seva/deliveries.py): one COUNT on the application store."""
    from seva.store import department_deliveries

    target = engine_of(engine)
    query = (sa.select(sa.func.count()).select_from(department_deliveries)
             .where(department_deliveries.c.state != "delivered"))
    try:
        with target.connect() as conn:
            return int(conn.execute(query).scalar_one())
    except sa.exc.DBAPIError:
        if not sa.inspect(target).has_table(department_deliveries.name):  # no application was ever made here
            return 0
        raise


def watch_department_deliveries(pending: Optional[Callable[[], int]] = undelivered_applications) -> None:
    """Read ``seva_department_deliveries_pending`` from ``pending()`` at each scrape: the
    applications not yet delivered to the department (waiting for a retry, or refused and
    waiting for an operator). Every instance reports the same number: aggregate with max()."""
    SCRAPE_TIME.deliveries = pending


def exposition() -> bytes:
    """The registry in Prometheus's text format (``prometheus_client.CONTENT_TYPE_LATEST``).

    Reads the scrape-time sources, which may block for their timeout: call it off the event
    loop (channels/health.py does)."""
    started = time.monotonic()
    body = generate_latest(REGISTRY)
    elapsed = time.monotonic() - started
    if elapsed > 1.0:
        logger.info("metrics: the scrape took %.1f s", elapsed)
    return body

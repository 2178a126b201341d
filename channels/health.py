"""Liveness, readiness and Prometheus metrics for the balancer and the monitoring (issue 17).

``add_routes(blueprint, checks)`` adds three routes to a Sanic blueprint; on the WhatsApp
channel's (mounted at ``/webhooks/whatsapp``) they are:

- ``GET …/health/live``: 200 while the process serves requests;
- ``GET …/health/ready``: 200 when every check passes, else 503 with a JSON body naming the
  checks that failed; 503 at once while the instance is draining (``start_draining()``);
- ``GET …/metrics``: seva/metrics.py's registry in Prometheus's text format. With
  ``SEVA_METRICS_TOKEN`` set it needs ``Authorization: Bearer <token>``.

A check is a name, a probe and a timeout. The probe gets the Sanic app (``app.ctx.agent`` is
the agent ``rasa run`` serves) and fails by raising or by returning False. A blocking probe
(a database query, a Redis PING) runs on seva.metrics' probe threads, at most one at a time
per check, so a hung database costs one thread however often the balancer asks, and the
answer comes within the check's timeout. Failures are reported by exception class only: an
error's message can hold a database URL.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import inspect
import logging
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from seva import metrics

logger = logging.getLogger(__name__)

Probe = Callable[[Sanic], Any]


@dataclass(frozen=True)
class Check:
    """One readiness condition. ``probe(app)`` fails by raising or returning False.

    ``blocking``: a plain function that may block (run on a probe thread with ``timeout``);
    False for one that returns at once (called on the event loop). A coroutine function
    is awaited with ``timeout``."""

    name: str
    probe: Probe
    timeout: float = 2.0
    blocking: bool = True


# -- the checks -----------------------------------------------------------------------
def _agent_ready(app: Sanic) -> bool:
    agent = getattr(app.ctx, "agent", None)
    return bool(agent is not None and agent.is_ready())


def agent_check() -> Check:
    """The agent ``rasa run`` serves is loaded and ready (``app.ctx.agent.is_ready()``)."""
    return Check("agent", _agent_ready, blocking=False)


Engine = Union[sa.engine.Engine, Callable[[], sa.engine.Engine], None]


def database_check(engine: Engine = None, timeout: float = 2.0, name: str = "database") -> Check:
    """The application database answers ``SELECT 1`` (``APP_DB_URL`` unless an engine, or a
    function returning one, is given)."""

    def probe(_app: Sanic) -> None:
        with metrics.engine_of(engine).connect() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()

    return Check(name, probe, timeout)


def redis_check(client: Any, timeout: float = 1.0, name: str = "redis") -> Check:
    """A Redis server answers PING: ``client`` is a redis-py client, or a function returning
    one (None: nothing to check)."""

    def probe(_app: Sanic) -> bool:
        red = client() if callable(client) and not hasattr(client, "ping") else client
        return red is None or bool(red.ping())

    return Check(name, probe, timeout)


def lock_store_check(timeout: float = 1.0) -> Check:
    """When the agent's lock store is Rasa's ``RedisLockStore`` (endpoints.yml ``lock_store:
    type: redis``, or a subclass), its Redis answers PING; passes for any other lock store."""

    def probe(app: Sanic) -> bool:
        from rasa.core.lock_store import RedisLockStore

        lock_store = getattr(getattr(app.ctx, "agent", None), "lock_store", None)
        if not isinstance(lock_store, RedisLockStore):
            return True
        return bool(lock_store.red.ping())

    return Check("lock_store", probe, timeout)


def default_checks() -> Tuple[Check, ...]:
    """The agent, the application database (``APP_DB_URL``) and a Redis lock store if there is one."""
    return agent_check(), database_check(), lock_store_check()


# -- draining ---------------------------------------------------------------------------
_draining = threading.Event()


def start_draining() -> None:
    """From now on /health/ready answers 503: the balancer sends this instance no new work."""
    if not _draining.is_set():
        logger.info("Health: draining, readiness now answers 503")
    _draining.set()


def stop_draining() -> None:
    _draining.clear()


def is_draining() -> bool:
    return _draining.is_set()


def drain_on_sigterm(app: Sanic, grace_seconds: Optional[float] = None) -> None:
    """On SIGTERM, drain at once and stop the server ``grace_seconds`` later (default
    ``SEVA_DRAIN_SECONDS``, else 5: long enough for the balancer's checks to see the 503),
    instead of Sanic's immediate stop; a second SIGTERM stops at once. SIGINT is unchanged.

    Call it from an ``after_server_start`` listener: Sanic installs its own handler before those run."""
    grace = float(os.environ.get("SEVA_DRAIN_SECONDS") or 5.0) if grace_seconds is None else grace_seconds
    loop = asyncio.get_running_loop()
    signalled = threading.Event()

    def on_sigterm() -> None:
        if signalled.is_set():
            app.stop()
            return
        signalled.set()
        start_draining()
        logger.info("Health: SIGTERM, stopping in %g s", grace)
        loop.call_later(grace, app.stop)

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)


# -- evaluation ---------------------------------------------------------------------------
async def _outcome(check: Check, app: Sanic) -> str:
    try:
        if inspect.iscoroutinefunction(check.probe):
            result = await asyncio.wait_for(check.probe(app), check.timeout)
        elif check.blocking:
            future = metrics.submit_probe(f"health:{check.name}", lambda: check.probe(app))
            result = await asyncio.wait_for(asyncio.wrap_future(future), check.timeout)
        else:
            result = check.probe(app)
    except asyncio.TimeoutError:
        return f"timeout after {check.timeout:g} s"
    except metrics.ProbeBusy:
        return "previous check still running"
    except Exception as error:
        return f"failed: {error.__class__.__name__}"
    return "not ready" if result is False else "ok"


async def readiness(app: Sanic, checks: Sequence[Check]) -> Tuple[bool, Dict[str, Any]]:
    """(ready, the JSON body): every check at once, each within its timeout."""
    if is_draining():
        return False, {"status": "draining", "instance": metrics.INSTANCE}
    outcomes = await asyncio.gather(*(_outcome(check, app) for check in checks))
    results = {check.name: outcome for check, outcome in zip(checks, outcomes, strict=True)}
    failed = [name for name, outcome in results.items() if outcome != "ok"]
    if failed:
        logger.warning("Health: not ready: %s", ", ".join(f"{name} {results[name]}" for name in failed))
    body: Dict[str, Any] = {"status": "not ready" if failed else "ready", "instance": metrics.INSTANCE,
                            "checks": results}
    if failed:
        body["failed"] = failed
    return not failed, body


# -- routes ---------------------------------------------------------------------------------
_SCRAPES = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="seva-metrics")


def add_routes(blueprint: Blueprint, checks: Optional[Sequence[Check]] = None,
               metrics_token: Optional[str] = None) -> None:
    """Add ``/health/live``, ``/health/ready`` (``checks``, default ``default_checks()``) and
    ``/metrics`` to ``blueprint``. ``metrics_token`` (default ``SEVA_METRICS_TOKEN``): if set,
    /metrics needs it as a bearer token."""
    checks = tuple(default_checks() if checks is None else checks)
    token = (os.environ.get("SEVA_METRICS_TOKEN", "") if metrics_token is None else metrics_token).encode()

    @blueprint.route("/health/live", methods=["GET"], name="seva_health_live")
    async def live(_: Request) -> HTTPResponse:
        return response.json({"status": "alive", "instance": metrics.INSTANCE})

    @blueprint.route("/health/ready", methods=["GET"], name="seva_health_ready")
    async def ready(request: Request) -> HTTPResponse:
        ok, body = await readiness(request.app, checks)
        return response.json(body, status=200 if ok else 503)

    @blueprint.route("/metrics", methods=["GET"], name="seva_metrics")
    async def scrape(request: Request) -> HTTPResponse:
        if token:
            given = (request.headers.get("authorization") or "").encode()
            if not hmac.compare_digest(given, b"Bearer " + token):
                return response.text("unauthorized", status=401)
        body = await asyncio.get_running_loop().run_in_executor(_SCRAPES, metrics.exposition)
        return response.raw(body, content_type=CONTENT_TYPE_LATEST)

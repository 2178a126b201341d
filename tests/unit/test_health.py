"""channels/health.py over HTTP: a real Sanic server with the routes on a blueprint mounted
where the WhatsApp channel's is (``/webhooks/whatsapp``)."""
import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sanic import Blueprint, Sanic

from channels import health
from seva import metrics

PREFIX = "/webhooks/whatsapp"
_apps = itertools.count()


class ProbedApp(Sanic):
    """Sanic rewrites some of its methods when an app starts; in test mode from their original
    source, so that several apps can start in one process. Only these apps are in test mode."""

    test_mode = True


class Agent:
    def __init__(self, ready=True, lock_store=None):
        self.ready, self.lock_store = ready, lock_store

    def is_ready(self):
        return self.ready


def serve(checks=None, agent=None, requests=(), token=None):
    """Start an app with the routes, make ``requests`` [(path, headers)], return [(status, headers, body)]."""
    async def go():
        app = ProbedApp(f"health_test_{next(_apps)}")
        blueprint = Blueprint("whatsapp_webhook", url_prefix=PREFIX)
        health.add_routes(blueprint, checks, metrics_token=token)
        app.blueprint(blueprint)
        app.ctx.agent = agent
        server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True, access_log=False)
        await server.startup()
        port = server.server.sockets[0].getsockname()[1]
        answers = []
        try:
            async with aiohttp.ClientSession() as session:
                for path, headers in requests:
                    async with session.get(f"http://127.0.0.1:{port}{PREFIX}{path}", headers=headers) as reply:
                        answers.append((reply.status, reply.headers, await reply.read()))
        finally:
            server.close()
            await server.wait_closed()
        return answers
    return asyncio.run(go())


def get(path, headers=None, **kwargs):
    return serve(requests=[(path, headers or {})], **kwargs)[0]


def ready(**kwargs):
    status, _, body = get("/health/ready", **kwargs)
    return status, json.loads(body)


@pytest.fixture
def db(tmp_path):
    return sa.create_engine(f"sqlite:///{tmp_path / 'seva.db'}", future=True)


@pytest.fixture(autouse=True, scope="module")
def pristine_sanic():
    """Afterwards, Sanic's methods as they were, for any server started later in this process."""
    from sanic.touchup import TouchUp

    yield
    for target, name in TouchUp._registry:
        if hasattr(target, f"_{name}"):
            setattr(target, name, getattr(target, f"_{name}"))


@pytest.fixture(autouse=True)
def not_draining():
    health.stop_draining()
    yield
    health.stop_draining()


def test_live_answers_while_the_process_serves():
    status, _, body = get("/health/live", agent=None)
    assert status == 200 and b"alive" in body


def test_ready_when_the_agent_is_ready_and_the_database_answers(db):
    status, body = ready(checks=[health.agent_check(), health.database_check(db)], agent=Agent())
    assert status == 200 and body["status"] == "ready"
    assert body["checks"] == {"agent": "ok", "database": "ok"}


def test_not_ready_names_what_failed(db, tmp_path):
    status, body = ready(checks=[health.agent_check(), health.database_check(db)], agent=None)
    assert status == 503 and body["failed"] == ["agent"] and body["checks"]["database"] == "ok"
    status, body = ready(checks=[health.agent_check()], agent=Agent(ready=False))
    assert status == 503 and body["failed"] == ["agent"]
    broken = sa.create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'seva.db'}", future=True)
    status, body = ready(checks=[health.agent_check(), health.database_check(broken)], agent=Agent())
    assert status == 503 and body["failed"] == ["database"]
    assert body["checks"]["database"] == "failed: OperationalError" and "no such folder" not in str(body)


def test_a_hanging_check_answers_503_within_its_timeout():
    release = threading.Event()
    hangs = health.Check("database", lambda app: release.wait(10), timeout=0.3)
    try:
        started = time.monotonic()
        status, body = ready(checks=[hangs], agent=Agent())
        assert time.monotonic() - started < 2
        assert status == 503 and body["checks"]["database"] == "timeout after 0.3 s"
        status, body = ready(checks=[hangs], agent=Agent())  # still hanging: no second thread
        assert status == 503 and body["checks"]["database"] == "previous check still running"
    finally:
        release.set()


def test_the_redis_lock_store_must_answer_ping():
    from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

    redis_store = RedisLockStore(host="127.0.0.1", port=9, socket_timeout=0.5)  # nothing listens on port 9
    status, body = ready(checks=[health.lock_store_check()], agent=Agent(lock_store=redis_store))
    assert status == 503 and body["checks"]["lock_store"] == "failed: ConnectionError"
    redis_store.red.ping = lambda: True  # type: ignore[method-assign]
    assert ready(checks=[health.lock_store_check()], agent=Agent(lock_store=redis_store))[0] == 200
    assert ready(checks=[health.lock_store_check()], agent=Agent(lock_store=InMemoryLockStore()))[0] == 200


def test_async_checks_and_default_checks():
    async def fine(app):
        return True

    async def no(app):
        return False

    status, body = ready(checks=[health.Check("a", fine), health.Check("b", no)], agent=Agent())
    assert status == 503 and body["checks"] == {"a": "ok", "b": "not ready"}
    assert [c.name for c in health.default_checks()] == ["agent", "database", "lock_store"]


def test_draining_makes_ready_answer_503_and_live_still_200(db):
    health.start_draining()
    status, body = ready(checks=[health.agent_check(), health.database_check(db)], agent=Agent())
    assert status == 503 and body["status"] == "draining"
    assert get("/health/live")[0] == 200
    health.stop_draining()
    assert ready(checks=[health.agent_check()], agent=Agent())[0] == 200


def test_metrics_are_served_as_prometheus_text_and_their_values_move():
    def sample(body, metric, **labels):
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return None

    [(status, headers, before)] = serve(requests=[("/metrics", {})])
    assert status == 200 and headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert sample(before, "seva_instance_info", name=metrics.INSTANCE) == 1
    was = sample(before, "seva_messages_in_total", type="interactive")
    metrics.message_accepted("interactive")
    metrics.turn_done("whatsapp", 0.2)
    [(_, _, after)] = serve(requests=[("/metrics", {})])
    assert sample(after, "seva_messages_in_total", type="interactive") == was + 1
    assert sample(after, "seva_turn_seconds_count", channel="whatsapp") == \
        sample(before, "seva_turn_seconds_count", channel="whatsapp") + 1


def test_metrics_token_when_configured():
    answers = serve(token="s3cret", requests=[("/metrics", {}), ("/metrics", {"Authorization": "Bearer wrong"}),
                                              ("/metrics", {"Authorization": "Bearer s3cret"})])
    assert [status for status, _, _ in answers] == [401, 401, 200]


SERVER = """
import sys
from sanic import Blueprint, Sanic
from channels import health

app = Sanic("drain_test")
blueprint = Blueprint("whatsapp_webhook", url_prefix="/webhooks/whatsapp")
health.add_routes(blueprint, checks=[])
app.blueprint(blueprint)

@app.listener("after_server_start")
async def drain(app, _loop):
    health.drain_on_sigterm(app, grace_seconds=float(sys.argv[2]))

app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_sigterm_drains_first_and_stops_after_the_grace_period(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}{PREFIX}/health/ready"
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port), "1.5"], cwd=root,
                               env={**os.environ, "PYTHONPATH": str(root)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while http_status(url) != 200:
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert http_status(url) == 503 and process.poll() is None  # still serving, but not ready
        assert http_status(url.replace("ready", "live")) == 200
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - signalled >= 1.4
    finally:
        if process.poll() is None:
            process.kill()

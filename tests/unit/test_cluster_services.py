"""cluster/services.py: the private PostgreSQL, Redis and HAProxy really serve, keep their
data across a restart, and the balancer stops sending to a backend whose check fails."""
import http.server
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from cluster.services import HAProxy, PortTaken, Postgres, Redis, ServiceError


@pytest.fixture
def folder():
    """A folder the postgres user can enter when the tests run as root (see conftest.services_dir)."""
    path = Path(tempfile.mkdtemp(prefix="seva-test-cluster-"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_postgres_keeps_data_across_a_restart(folder):
    with Postgres(folder / "pg") as pg:
        assert pg.url == f"postgresql://seva@127.0.0.1:{pg.port}/seva"
        engine = sa.create_engine(pg.url)  # as the application store will: role and database seva
        with engine.begin() as db:
            db.execute(sa.text("CREATE TABLE note (body text)"))
            db.execute(sa.text("INSERT INTO note VALUES ('ଆୟ ପ୍ରମାଣପତ୍ର')"))
        engine.dispose()
        first_pid = pg.pid
    assert not pg.running
    with Postgres(folder / "pg") as again:  # a new object on the same folder: no initdb
        assert again.pid != first_pid
        connection = again.connect("seva", user="seva")
        with connection.cursor() as cursor:
            cursor.execute("SELECT body FROM note")
            assert cursor.fetchall() == [("ଆୟ ପ୍ରମାଣପତ୍ର",)]
        connection.close()
    assert (folder / "pg" / "initdb.log").read_text().count("creating directory") == 1  # initdb ran once


def test_fresh_database_is_empty(postgres, postgres_db):
    engine = sa.create_engine(postgres_db)
    with engine.begin() as db:
        db.execute(sa.text("CREATE TABLE t (x int)"))
    engine.dispose()
    name = postgres_db.rsplit("/", 1)[1]
    assert postgres.fresh_database(name) == postgres_db
    engine = sa.create_engine(postgres_db)
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_redis_keeps_data_across_a_restart(folder, redis_server):
    assert redis_server.client().ping()
    server = Redis(folder / "redis").start()
    try:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        server.client().set("seva:k", "v")
    finally:
        server.stop()
    with server:  # same object: same folder, append-only file replayed
        assert server.client().get("seva:k") == b"v"
    assert (folder / "redis" / "appendonlydir").is_dir()


def test_a_taken_port_is_a_clear_error(folder):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(PortTaken, match="taken"):
            Redis(folder / "redis", port=sock.getsockname()[1]).start()


def test_a_server_that_cannot_start_says_why(folder):
    (folder / "pg" / "pgdata").mkdir(parents=True)
    (folder / "pg" / "pgdata" / "stray").write_text("x")
    with pytest.raises(ServiceError, match="no PostgreSQL cluster"):
        Postgres(folder / "pg").start()


class Backend:
    """A tiny HTTP server answering its name, whose health check can be made to fail."""

    def __init__(self, name):
        self.name, self.healthy = name, True
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                ok = self.path != "/health" or backend.healthy
                body = backend.name.encode()
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_states(balancer, wanted, timeout=5.0):
    deadline = time.monotonic() + timeout
    while balancer.server_states() != wanted:
        assert time.monotonic() < deadline, balancer.server_states()
        time.sleep(0.05)
    return time.monotonic()


def test_haproxy_balances_and_drops_a_failing_backend(folder):
    a, b = Backend("a"), Backend("b")
    try:
        with HAProxy(folder / "lb", None, [("127.0.0.1", a.port), ("127.0.0.1", b.port)], "/health") as lb:
            wait_states(lb, {"instance1": "UP", "instance2": "UP"})
            assert {get(f"{lb.url}/x") for _ in range(4)} == {"a", "b"}

            b.healthy = False
            failed = time.monotonic()
            wait_states(lb, {"instance1": "UP", "instance2": "DOWN"})
            assert time.monotonic() - failed < 3.5  # inter 1s, fall 2
            assert {get(f"{lb.url}/x") for _ in range(6)} == {"a"}

            b.healthy = True
            wait_states(lb, {"instance1": "UP", "instance2": "UP"})
            b.close()  # dead before its check notices: the request is retried on the other
            assert [get(f"{lb.url}/x") for _ in range(6)] == ["a"] * 6
        assert "instance2 is DOWN" in (folder / "lb" / "haproxy.log").read_text()
    finally:
        a.close()


def test_cluster_endpoints_as_rasa_reads_them(tmp_path, monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    from cluster.launcher import LOCK_STORE_TYPE, endpoints_yaml

    base = tmp_path / "endpoints.yml"
    base.write_text('# the action server\naction_endpoint:\n  url: "http://localhost:5055/webhook"\n\n'
                    '# conversations\ntracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "var/tracker.db"\n\n'
                    "# metrics\nevent_broker:\n  type: some.Broker\n  url: ${BROKER_HOST}\n", encoding="utf-8")
    monkeypatch.setenv("BROKER_HOST", "broker.example")
    path = tmp_path / "endpoints-2.yml"
    path.write_text(endpoints_yaml(2, "http://127.0.0.1:5056/webhook", "postgresql://seva:p%40ss@127.0.0.1:5433/seva",
                                   "redis://127.0.0.1:6380/0", base), encoding="utf-8")
    endpoints = AvailableEndpoints.read_endpoints(str(path))
    assert endpoints.action.url == "http://127.0.0.1:5056/webhook"
    tracker = endpoints.tracker_store
    assert (tracker.type, tracker.url, tracker.kwargs["dialect"], tracker.kwargs["port"], tracker.kwargs["db"],
            tracker.kwargs["username"], tracker.kwargs["password"]) == \
        ("SQL", "127.0.0.1", "postgresql", 5433, "seva", "seva", "p@ss")
    lock = endpoints.lock_store
    assert (lock.type, lock.url, lock.kwargs["port"], lock.kwargs["db"]) == (LOCK_STORE_TYPE, "127.0.0.1", 6380, 0)
    assert endpoints.event_broker.type == "some.Broker"
    assert endpoints.event_broker.url == "broker.example"  # copied as written: Rasa still expands it
    assert "var/tracker.db" not in path.read_text() and "localhost:5055" not in path.read_text()


def test_free_port_never_picks_a_reserved_port(monkeypatch):
    """make cluster's PostgreSQL and Redis start on free ports before the balancer binds
    CLUSTER_PORT: a free port equal to it made the balancer fail (seen once in CI)."""
    from cluster import services

    picks = iter([41001, 41002, 41003])

    class Socket:
        def __init__(self):
            self.port = next(picks)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def bind(self, address):
            pass

        def getsockname(self):
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(services.socket, "socket", Socket)
    monkeypatch.setattr(services, "_RESERVED", set())
    services.reserve_ports([41001, 0, 41002])
    assert services.free_port() == 41003

"""Start the real action server and `rasa run` on free ports, for end-to-end tests.

Ports. `rasa run` and `rasa run actions` take a port number, not a socket (and Sanic reads
``--port 0`` as its default 8000), so a port has to be chosen before the server binds it,
and another process may take it in between. So a server counts as started only once the
process we spawned (or one of its process group) is itself listening on the port, read from
/proc: never "something answers on that port". When its bind fails instead ("address already
in use" in its log; both servers then exit) it is started again on another port. A restart
(`stop_rasa` then `start_rasa`) keeps the port, since the other side holds the address: the
fake Graph API is re-pointed if `rasa run` has to move; the action server cannot move (the
running `rasa run` has its URL), so losing its port fails the test with that reason.

Stores. By default both stores are SQLite files in the stack's folder. ``database_url=
"postgresql://…"`` puts the application store (``APP_DB_URL``: applications, the WhatsApp
inbox, message log, replies, menus, rate limits) and Rasa's SQL tracker store in that
PostgreSQL database; ``redis_url="redis://…"`` adds a Redis lock store (``lock_store``,
components.lock_store.AtomicRedisLockStore when it exists, else Rasa's ``type: redis``).
Several stacks on one database and one Redis are the instances of a cluster
(tests/e2e/cluster_stack.py).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Set

import sqlalchemy as sa
import yaml

from cluster.services import free_port as candidate_port
from cluster.services import listening_ports

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "seva.tar.gz"
PORT_ATTEMPTS = 5
ADDRESS_IN_USE = "address already in use"
ATOMIC_LOCK_STORE = ROOT / "components" / "lock_store.py"  # issue 17: Rasa's Redis lock store, atomic


class PortTaken(RuntimeError):
    """The server could not bind its port: another process has it."""


def _get(url: str, timeout: float = 2.0) -> Optional[bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except OSError:
        return None


def whatsapp_env(graph, app_secret: str, verify_token: str = "v") -> Dict[str, str]:
    """The WhatsApp channel's settings for a `rasa run` that talks to ``graph`` (a FakeGraph)."""
    return {"WHATSAPP_VERIFY_TOKEN": verify_token, "WHATSAPP_APP_SECRET": app_secret,
            "WHATSAPP_ACCESS_TOKEN": graph.access_token, "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
            "WHATSAPP_API_BASE_URL": graph.base_url}


def sql_tracker_store(database_url: str, workdir: Path) -> Dict[str, Any]:
    """Rasa's SQL tracker store entry for ``database_url``: PostgreSQL (url/port/db/username,
    as docs/operations.md says), or the stack's own SQLite file otherwise."""
    parts = urllib.parse.urlsplit(database_url)
    if not parts.scheme.startswith("postgresql"):
        return {"type": "SQL", "dialect": "sqlite", "db": str(workdir / "tracker.db")}
    store: Dict[str, Any] = {"type": "SQL", "dialect": "postgresql", "url": parts.hostname or "127.0.0.1",
                             "port": parts.port or 5432, "db": parts.path.lstrip("/")}
    if parts.username:
        store["username"] = urllib.parse.unquote(parts.username)
    if parts.password:
        store["password"] = urllib.parse.unquote(parts.password)
    return store


def redis_lock_store(redis_url: str, key_prefix: str = "seva") -> Dict[str, Any]:
    """A ``lock_store`` entry with the keys of Rasa's ``type: redis`` (url = host, port, db)."""
    parts = urllib.parse.urlsplit(redis_url)
    db = parts.path.lstrip("/")
    store: Dict[str, Any] = {"url": parts.hostname or "127.0.0.1", "port": parts.port or 6379,
                             "db": int(db) if db.isdigit() else 0, "key_prefix": key_prefix}
    if ATOMIC_LOCK_STORE.exists():  # as `make cluster` configures it (cluster/launcher.py)
        store = {"type": "components.lock_store.AtomicRedisLockStore", **store, "poll_interval": 0.1}
    else:  # before issue 17's lock store: Rasa's own (non-atomic tickets)
        store = {"type": "redis", **store}
    return store


class Stack:
    """An action server and a Rasa server sharing one temporary state folder (and, with
    ``database_url``/``redis_url``, a PostgreSQL database and a Redis lock store)."""

    def __init__(self, workdir: Path, extra_env: Optional[Dict[str, str]] = None, model: Path = MODEL,
                 graph=None, database_url: Optional[str] = None, redis_url: Optional[str] = None,
                 lock_key_prefix: str = "seva"):
        self.workdir = workdir
        self.model = Path(model)
        self.graph = graph  # a fakegraph.server.FakeGraph whose webhooks go to this stack, or None
        self.actions_port: Optional[int] = None
        self.rasa_port: Optional[int] = None
        self.app_db_url = database_url or f"sqlite:///{workdir / 'apps.db'}"
        self.redis_url = redis_url
        self.lock_key_prefix = lock_key_prefix
        self.endpoints = workdir / "endpoints.yml"
        self.env = {**os.environ, "APP_DB_URL": self.app_db_url, "SEVA_DOCUMENT_DIR": str(workdir / "documents"),
                    "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), **(extra_env or {})}
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self._logs: List[IO[bytes]] = []
        self._engine: Optional[sa.engine.Engine] = None

    @property
    def store(self) -> str:
        """The application store's dialect: "sqlite" or "postgresql"."""
        return "postgresql" if self.app_db_url.startswith("postgresql") else "sqlite"

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        self._logs.append(log)
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def write_endpoints(self) -> None:
        """``self.endpoints`` for `rasa run`, once the action server listens on ``self.actions_port``."""
        entries: Dict[str, Any] = {"action_endpoint": {"url": f"http://127.0.0.1:{self.actions_port}/webhook"},
                                   "tracker_store": sql_tracker_store(self.app_db_url, self.workdir)}
        if self.redis_url:
            entries["lock_store"] = redis_lock_store(self.redis_url, self.lock_key_prefix)
        self.endpoints.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")

    @classmethod
    def for_whatsapp(cls, workdir: Path, graph, app_secret: str, verify_token: str = "v",
                     model: Path = MODEL, database_url: Optional[str] = None, redis_url: Optional[str] = None,
                     **env: str) -> "Stack":
        """A stack whose WhatsApp channel talks to ``graph`` (a fakegraph.server.FakeGraph),
        and whose webhook ``graph`` delivers to (``graph.webhook_url`` is kept up to date)."""
        return cls(workdir, model=model, graph=graph, database_url=database_url, redis_url=redis_url,
                   extra_env={**whatsapp_env(graph, app_secret, verify_token), **env})

    def start_actions(self) -> None:
        restart = self.actions_port is not None
        self.actions, self.actions_port = self._start(
            "actions", "action server",
            lambda port: [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
            "/health", keep_port=self.actions_port)
        if not restart:
            self.write_endpoints()

    def start_rasa(self, *extra_args: str) -> None:
        if self.actions_port is None:
            raise RuntimeError("start_actions() first: `rasa run` needs the action server's address")
        self.rasa, self.rasa_port = self._start(
            "rasa", "rasa run",
            lambda port: [str(BIN / "rasa"), "run", "--model", str(self.model), "--port", str(port),
                          "--endpoints", str(self.endpoints), "--credentials", str(ROOT / "credentials.yml"),
                          *extra_args],
            "/webhooks/rest/", keep_port=self.rasa_port, may_move=True)
        if self.graph is not None:
            self.graph.webhook_url = self.webhook_url

    def _start(self, name: str, what: str, command: Callable[[int], List[str]], health: str,
               keep_port: Optional[int], may_move: bool = False):
        """Spawn ``command(port)`` until it listens on its port: the process and the port."""
        port = keep_port or candidate_port()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            log_start = (self.workdir / f"{name}.log").stat().st_size if (self.workdir / f"{name}.log").exists() else 0
            process = self._spawn(name, command(port))
            try:
                self._wait_listening(process, port, f"http://127.0.0.1:{port}{health}", what, name, log_start)
                return process, port
            except PortTaken:
                if keep_port is not None and not may_move:
                    raise PortTaken(f"{what}: its port {port} was taken by another process while it was "
                                    f"down, and its clients know it by that port; see {self.workdir}") from None
                print(f"{what}: port {port} was taken by another process; attempt {attempt} on another port",
                      file=sys.stderr)
                port = candidate_port()
        raise PortTaken(f"{what}: every port tried was taken by another process; see {self.workdir}")

    def _wait_listening(self, process: subprocess.Popen, port: int, url: str, what: str, name: str,
                        log_start: int, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                for log in self._logs:
                    log.flush()
                with open(self.workdir / f"{name}.log", "rb") as log:
                    log.seek(log_start)
                    said = log.read().decode("utf-8", "replace").lower()
                if ADDRESS_IN_USE in said:
                    raise PortTaken(port)
                raise RuntimeError(f"{what} exited with {process.returncode}; see {self.workdir / name}.log")
            # ours once the socket is ours: a process that took the port first may answer too
            if port in listening_ports(process.pid) and _get(url) is not None:
                return
            time.sleep(0.2)
        _stop(process, signal.SIGKILL)
        raise TimeoutError(f"{what} was not listening on {port} and answering {url} within {timeout}s")

    def stop_rasa(self, sig: int = signal.SIGTERM) -> None:
        _stop(self.rasa, sig)
        self.rasa = None

    def stop_actions(self, sig: int = signal.SIGTERM) -> None:
        _stop(self.actions, sig)
        self.actions = None

    def stop(self) -> None:
        _stop(self.rasa, signal.SIGTERM)
        _stop(self.actions, signal.SIGTERM)
        for log in self._logs:
            log.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/whatsapp/webhook"

    def log_text(self, name: str = "rasa") -> str:
        for log in self._logs:
            log.flush()
        return (self.workdir / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def say(self, sender: str, message: str) -> List[Dict]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook", body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.load(response)

    # ------------------------------------------------------- the stores
    @property
    def engine(self) -> sa.engine.Engine:
        """The application database (SQLite or PostgreSQL), opened as the channel opens it."""
        if self._engine is None:
            from seva.db import make_engine

            self._engine = make_engine(self.app_db_url)
        return self._engine

    def query(self, sql: str, **params: Any) -> List[Any]:
        """Rows of a read-only SQL query on the application database (``:name`` parameters);
        [] when a table it reads was not created yet (e.g. applications before the first one)."""
        with self.engine.connect() as conn:
            try:
                return list(conn.execute(sa.text(sql), params).all())
            except sa.exc.ProgrammingError as error:  # PostgreSQL: relation does not exist
                if "does not exist" in str(error):
                    return []
                raise
            except sa.exc.OperationalError as error:  # SQLite: no such table
                if "no such table" in str(error):
                    return []
                raise

    # ------------------------------------------------------- WhatsApp channel
    def unfinished(self, message_ids: Iterable[str]) -> Set[str]:
        """Which of these acknowledged WhatsApp messages the channel has not finished.

        The channel writes each message to its inbox table before the webhook answers 200
        and deletes it once the message is handled and every reply to it was sent or given
        up (channels/inbox.py), so "not in the table" after a 200 means "answered". Read
        through SQLAlchemy: the same on SQLite and PostgreSQL, and for every instance
        sharing the database."""
        from channels.inbox import pending

        wanted = list(message_ids)
        found: Set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                found.update(conn.execute(sa.select(pending.c.message_id)
                                          .where(pending.c.message_id.in_(wanted[start:start + 500]))).scalars())
        return found

    def inbox_rows(self) -> List[Any]:
        """Every row of the inbox now: message_id, sender, lease_owner, lease_until, attempts."""
        from channels.inbox import pending

        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(pending.c.message_id, pending.c.sender, pending.c.lease_owner,
                                               pending.c.lease_until, pending.c.attempts)).all())

    def wait_answered(self, message_ids: Iterable[str], timeout: float = 120) -> None:
        """Until the channel has finished these acknowledged messages (see ``unfinished``).

        A sender's messages are handled one after another in arrival order, so once one is
        finished every message that sender sent before it is too."""
        wanted = list(message_ids)
        deadline = time.monotonic() + timeout
        while True:
            left = self.unfinished(wanted)
            if not left:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(left)} WhatsApp message(s) not answered within {timeout}s: "
                                   f"{sorted(left)[:3]}")
            time.sleep(0.05)


def _stop(process: Optional[subprocess.Popen], sig: int) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

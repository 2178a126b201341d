"""`python -m cluster` (`make cluster`): PostgreSQL, Redis, INSTANCES x (action server +
`rasa run`) and HAProxy in front of them, on one machine; Ctrl-C stops all of it.

Layout (docs/operations.md, "Cluster"):
- PostgreSQL and Redis (cluster/services.py) with their data in ``CLUSTER_DATA_DIR``
  (default ``var/cluster``: ``postgres/``, ``redis/``), unless ``CLUSTER_DATABASE_URL`` /
  ``CLUSTER_REDIS_URL`` point at external ones; a second start reuses the data;
- instance n (1..INSTANCES): ``rasa run actions`` on ``ACTIONS_PORT + n - 1`` and
  ``rasa run`` on ``RASA_PORT + n - 1`` (5055.. and 5005.. by default; ``0`` picks free
  ports), with ``SEVA_INSTANCE=n``, ``APP_DB_URL`` = the PostgreSQL database, and its own
  endpoints file ``CLUSTER_DATA_DIR/endpoints-<n>.yml`` (tracker store, lock store, its
  action server, and every other entry of the repository's endpoints.yml);
- HAProxy on ``CLUSTER_PORT`` (default 8000) balancing over the ``rasa run`` instances,
  checking ``/webhooks/whatsapp/health/ready``;
- without ``WHATSAPP_ACCESS_TOKEN``: the chat page (``python -m fakegraph.simulator``),
  posting to the balancer, its designer panel reading instance 1's HTTP API;
- without ``DEPARTMENT_API_URL``: the fake department (``python -m fakedepartment``, port
  ``DEPARTMENT_PORT``, 8090), posting status changes to the balancer.
Logs of every process in ``CLUSTER_LOG_DIR`` (default ``logs/cluster``).

When a process dies unexpectedly: an instance's ``rasa run`` or action server is started
again on its port (the balancer takes it back once it is ready), up to
``RESTARTS_PER_PROCESS`` times in ``RESTART_WINDOW`` seconds; PostgreSQL, Redis, HAProxy or
the chat page dying, or an instance failing more often than that, stops everything (exit 1).
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple

import yaml

from cluster.services import (
    HAProxy,
    Postgres,
    Redis,
    Service,
    ServiceError,
    free_port,
    listening_ports,
    log_tail,
    reserve_ports,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEBHOOK_PATH = "/webhooks/whatsapp/webhook"
READY_PATH = "/webhooks/whatsapp/health/ready"
# Rasa's RedisLockStore issues tickets by read-modify-write: two instances can both hold a
# sender's lock. This one issues them atomically (Lua), and polls every 0.1 s instead of 1 s.
LOCK_STORE_TYPE = "components.lock_store.AtomicRedisLockStore"
LOCK_POLL_INTERVAL = 0.1
REPLACED_ENDPOINTS = ("action_endpoint", "tracker_store", "lock_store")
START_TIMEOUT = 600.0  # a cold `rasa run` with speech on 2 busy cores takes minutes
STOP_TIMEOUT = 30.0
PORT_ATTEMPTS = 5
RESTARTS_PER_PROCESS = 3
RESTART_WINDOW = 600.0
ADDRESS_IN_USE = "address already in use"


class ClusterError(RuntimeError):
    """The cluster could not start, or a part of it failed for good."""


class Stop(Exception):
    """SIGINT or SIGTERM: stop everything."""


# ------------------------------------------------------------------ settings
def _flag(value: Optional[str], default: bool = True) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ClusterError(f"{name}={value!r} is not a number") from None


@dataclass
class Settings:
    instances: int = 2
    port: int = 8000
    bind: str = "127.0.0.1"
    data_dir: Path = ROOT / "var" / "cluster"
    log_dir: Path = ROOT / "logs" / "cluster"
    rasa_port: int = 5005  # instance n listens on rasa_port + n - 1; 0: free ports
    actions_port: int = 5055
    simulator_port: int = 8080
    speech: bool = True
    database_url: Optional[str] = None  # an external PostgreSQL instead of the private one
    redis_url: Optional[str] = None  # an external Redis instead of the private one
    model: Path = ROOT / "models" / "seva.tar.gz"
    whatsapp: bool = False  # WHATSAPP_ACCESS_TOKEN set: real credentials, no chat page
    health_path: str = READY_PATH  # what the balancer and the start-up wait ask each `rasa run`

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        settings = cls(
            instances=_int(env, "INSTANCES", 2),
            port=_int(env, "CLUSTER_PORT", 8000),
            bind=env.get("CLUSTER_BIND") or "127.0.0.1",
            data_dir=Path(env.get("CLUSTER_DATA_DIR") or ROOT / "var" / "cluster").absolute(),
            log_dir=Path(env.get("CLUSTER_LOG_DIR") or ROOT / "logs" / "cluster").absolute(),
            rasa_port=_int(env, "RASA_PORT", 5005),
            actions_port=_int(env, "ACTIONS_PORT", 5055),
            simulator_port=_int(env, "SIMULATOR_PORT", 8080),
            speech=_flag(env.get("SPEECH_ENABLED")),
            database_url=env.get("CLUSTER_DATABASE_URL") or None,
            redis_url=env.get("CLUSTER_REDIS_URL") or None,
            model=Path(env.get("CLUSTER_MODEL") or ROOT / "models" / "seva.tar.gz").absolute(),
            whatsapp=bool(env.get("WHATSAPP_ACCESS_TOKEN")),
        )
        if settings.instances < 1:
            raise ClusterError(f"INSTANCES={settings.instances}: at least 1")
        return settings


# ----------------------------------------------------------------- endpoints
def _endpoint_blocks(text: str) -> List[Tuple[Optional[str], str]]:
    """endpoints.yml cut into top-level entries ``(key, text)``, each with the comment lines
    just above it, so that entries can be dropped and the rest copied exactly as written
    (comments, and ``${VAR}`` scalars that Rasa expands at load time, kept as they are)."""
    blocks: List[Tuple[Optional[str], List[str]]] = [(None, [])]
    pending: List[str] = []  # comments / blank lines not yet attached
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z_][\w.-]*)\s*:", line)
        if match:
            blocks.append((match.group(1), pending + [line]))
            pending = []
        elif line.strip() == "" or line.startswith("#"):
            pending.append(line)
        else:
            blocks[-1][1].extend(pending + [line])
            pending = []
    blocks[-1][1].extend(pending)
    return [(key, "\n".join(lines)) for key, lines in blocks]


def _sql_tracker_store(url: str) -> Dict[str, object]:
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        raise ClusterError(f"CLUSTER_DATABASE_URL must be postgresql://..., not {parts.scheme}://")
    store: Dict[str, object] = {"type": "SQL", "dialect": "postgresql", "url": parts.hostname or "127.0.0.1",
                                "port": parts.port or 5432, "db": parts.path.lstrip("/") or "postgres"}
    if parts.username:
        store["username"] = urllib.parse.unquote(parts.username)
    if parts.password:
        store["password"] = urllib.parse.unquote(parts.password)
    return store


def _lock_store(url: str) -> Dict[str, object]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ClusterError(f"CLUSTER_REDIS_URL must be redis://... or rediss://..., not {parts.scheme}://")
    db = parts.path.lstrip("/")
    store: Dict[str, object] = {"type": LOCK_STORE_TYPE, "url": parts.hostname or "127.0.0.1",
                                "port": parts.port or 6379, "db": int(db) if db.isdigit() else 0,
                                "key_prefix": "seva", "poll_interval": LOCK_POLL_INTERVAL}
    if parts.username:
        store["username"] = urllib.parse.unquote(parts.username)
    if parts.password:
        store["password"] = urllib.parse.unquote(parts.password)
    if parts.scheme == "rediss":
        store["use_ssl"] = True
    return store


def endpoints_yaml(instance: int, actions_url: str, database_url: str, redis_url: str,
                   base: Optional[Path] = None) -> str:
    """The endpoints file of one ``rasa run`` instance.

    Concrete values, not ``${VAR}``: Rasa expands ``${VAR}`` only in plain (unquoted) YAML
    scalars, so a quoted "${DB_HOST}" would reach it as those characters; and each
    instance has its own action server. Every other entry of ``base`` (the repository's
    endpoints.yml: an event broker, ...) is copied as written."""
    ours = yaml.safe_dump({"action_endpoint": {"url": actions_url},
                           "tracker_store": _sql_tracker_store(database_url),
                           "lock_store": _lock_store(redis_url)}, sort_keys=False, allow_unicode=True)
    kept = ""
    if base is not None and base.exists():
        kept = "\n".join(text for key, text in _endpoint_blocks(base.read_text(encoding="utf-8"))
                         if key not in REPLACED_ENDPOINTS and text.strip()).strip("\n")
    header = (f"# Generated by `python -m cluster` (cluster/launcher.py) for instance {instance} at every start:\n"
              f"# edit that or endpoints.yml, not this file. Values are written out rather than ${{VAR}}\n"
              f"# (Rasa expands ${{VAR}} only in unquoted YAML scalars, and each instance has its own\n"
              f"# action server); the entries after ours are copied from endpoints.yml.\n")
    text = header + ours + ("\n# --- from endpoints.yml\n" + kept + "\n" if kept else "")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict) or loaded.get("lock_store", {}).get("type") != LOCK_STORE_TYPE:
        raise ClusterError(f"the endpoints made for instance {instance} do not read back as written:\n{text}")
    return text


# ------------------------------------------------------------------ programs
def _http_ok(url: str, timeout: float = 2.0, headers: Optional[Dict[str, str]] = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as answer:
            return answer.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


@dataclass
class Program:
    """One of our processes (action server, `rasa run`, chat page) on its port."""

    name: str  # e.g. "rasa-1": also its log's name
    command: Callable[[int], List[str]]
    port: int  # 0: pick a free one
    env: Dict[str, str]
    log_dir: Path
    health_path: str
    instance: Optional[int] = None
    auto_port: bool = False  # a free port we picked: may move if another process takes it first
    process: Optional[subprocess.Popen] = None
    restarts: List[float] = field(default_factory=list)
    ready: bool = False
    _log_offset: int = 0
    _attempts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        """Start it (from the main thread: its parent-death signal is tied to that thread)."""
        if self.port == 0:
            self.port = free_port()
        self.ready = False
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._attempts += 1
        setpriv = shutil.which("setpriv")  # SIGTERM to it if this process dies without stopping it
        prefix = [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(prefix + self.command(self.port), cwd=ROOT, env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def poll_ready(self) -> bool:
        """True once our process listens on its port and its health URL answers 200."""
        if not self.ready and self.alive and self.process is not None:
            self.ready = (self.port in listening_ports(self.process.pid)
                          and _http_ok(f"{self.url}{self.health_path}"))
        return self.ready

    def exit_reason(self) -> str:
        code = self.process.returncode if self.process is not None else None
        return (f"{self.name} exited with code {code}; {self.log_path}:\n"
                f"{log_tail(self.log_path, self._log_offset, 25)}")

    def port_was_taken(self) -> bool:
        return ADDRESS_IN_USE in log_tail(self.log_path, self._log_offset, 200).lower()

    def terminate(self) -> None:
        if self.alive and self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def wait_stopped(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        # what the group may have left behind (a child that ignored SIGTERM)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ------------------------------------------------------------------- cluster
class Cluster:
    """Everything `python -m cluster` runs; ``start()``, then ``supervise()`` until a signal,
    ``stop()`` in every case. ``out`` receives what the operator reads."""

    def __init__(self, settings: Settings, env: Mapping[str, str] = os.environ, out: TextIO = sys.stdout):
        self.settings = settings
        self.out = out
        self.env = dict(env)
        self.postgres: Optional[Postgres] = None
        self.redis: Optional[Redis] = None
        self.balancer: Optional[HAProxy] = None
        self.actions: List[Program] = []
        self.rasa: List[Program] = []
        self.simulator: Optional[Program] = None
        self.department: Optional[Program] = None  # the fake department, without DEPARTMENT_API_URL
        self.database_url = settings.database_url or ""
        self.redis_url = settings.redis_url or ""
        self.rasa_token: Optional[str] = None
        self._began = time.monotonic()

    def say(self, text: str) -> None:
        _print(text, self.out)

    # ---------------------------------------------------------------- start
    def start(self) -> None:
        s = self.settings
        self._began = time.monotonic()
        if not s.model.exists():
            raise ClusterError(f"no trained model at {s.model}: run `make train` (make cluster does it)")
        s.data_dir.mkdir(parents=True, exist_ok=True)
        s.log_dir.mkdir(parents=True, exist_ok=True)
        # the ports given to us are bound later (the balancer last): PostgreSQL and Redis,
        # started first on free ports, must not take one of them
        fixed = [s.port, s.simulator_port, _int(self.env, "DEPARTMENT_PORT", 8090)]
        for n in range(s.instances):
            fixed += [s.rasa_port + n if s.rasa_port else 0, s.actions_port + n if s.actions_port else 0]
        reserve_ports(fixed)
        if s.speech:
            self._prepare_speech()
        if not s.whatsapp:
            self._simulator_credentials()
        fake_department = not self.env.get("DEPARTMENT_API_URL")
        if fake_department:  # like scripts/run.sh: a fake department system, a fresh secret
            department_port = _int(self.env, "DEPARTMENT_PORT", 8090)
            self.env.setdefault("DEPARTMENT_API_SECRET", secrets.token_hex(24))
            self.env["DEPARTMENT_API_URL"] = f"http://127.0.0.1:{department_port}"

        if not s.database_url:
            self.postgres = Postgres(s.data_dir / "postgres", log_path=s.log_dir / "postgres.log")
            self.postgres.start()
            self.database_url = self.postgres.url
        if not s.redis_url:
            self.redis = Redis(s.data_dir / "redis", log_path=s.log_dir / "redis.log")
            self.redis.start()
            self.redis_url = self.redis.url
        self.say(f"PostgreSQL: {_safe_url(self.database_url)}" + ("" if s.database_url else " (private, "
                 f"data in {_show(s.data_dir / 'postgres')})"))
        self.say(f"Redis:      {_safe_url(self.redis_url)}" + ("" if s.redis_url else " (private, "
                 f"data in {_show(s.data_dir / 'redis')})"))

        # TICKET_LOCK_LIFETIME: a sender's Rasa lock left by a dead instance lapses in 15 s (Rasa's
        # default 60 s), so the instance taking over its message answers within 30 s; the inbox
        # already lets one message per sender run at a time. SEVA_DRAIN_SECONDS: on SIGTERM an
        # instance answers 503 to the balancer's checks for 3 s before it stops (channels/health.py).
        base_env = {"TICKET_LOCK_LIFETIME": "15", "SEVA_DRAIN_SECONDS": "3",
                    **self.env, "APP_DB_URL": self.database_url, "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))}
        # every action server and `rasa run` at once (loading the model is the long part); an
        # action server whose free port was taken meanwhile moves, and its `rasa run` with it
        for n in range(1, s.instances + 1):
            env = {**base_env, "SEVA_INSTANCE": str(n)}
            actions = Program(f"actions-{n}", _actions_command, s.actions_port + n - 1 if s.actions_port else 0,
                              env, s.log_dir, "/health", instance=n, auto_port=not s.actions_port)
            actions.port = actions.port or free_port()
            api = ["--enable-api", "--auth-token", self.rasa_token] if self.rasa_token and n == 1 else []
            rasa = Program(f"rasa-{n}", _rasa_command(s.model, self._endpoints_path(n), api),
                           s.rasa_port + n - 1 if s.rasa_port else 0, env, s.log_dir, s.health_path,
                           instance=n, auto_port=not s.rasa_port)
            self.actions.append(actions)
            self.rasa.append(rasa)
            self._write_endpoints(n)
        self.say(f"Starting {s.instances} instance(s) (logs in {_show(s.log_dir)})...")
        for program in self.actions + self.rasa:
            program.spawn()
        self._wait_for(self.actions + self.rasa)

        self.balancer = HAProxy(s.data_dir / "haproxy", s.port, [("127.0.0.1", p.port) for p in self.rasa],
                                s.health_path, bind=s.bind, log_path=s.log_dir / "haproxy.log")
        self.balancer.start()
        if not s.whatsapp:
            self._start_simulator()
        if fake_department:
            self._start_department(department_port)
        self._wait_balanced()
        self._announce()

    def _endpoints_path(self, instance: int) -> Path:
        return self.settings.data_dir / f"endpoints-{instance}.yml"

    def _write_endpoints(self, instance: int) -> None:
        path = self._endpoints_path(instance)
        path.write_text(endpoints_yaml(instance, f"{self.actions[instance - 1].url}/webhook", self.database_url,
                                       self.redis_url, ROOT / "endpoints.yml"), encoding="utf-8")
        path.chmod(0o600)  # it may hold a database password

    def _prepare_speech(self) -> None:
        self.say("Preparing the speech model...")
        log = self.settings.log_dir / "speech-prepare.log"
        with open(log, "ab") as out:
            code = subprocess.call([sys.executable, "-m", "speech", "prepare"], cwd=ROOT, env=self.env,
                                   stdout=out, stderr=subprocess.STDOUT)
        if code != 0:
            raise ClusterError(f"The speech model is not usable ({log}):\n{log_tail(log, 0, 20)}\n"
                               f"Fix it, or start without voice: SPEECH_ENABLED=false make cluster")

    def _simulator_credentials(self) -> None:
        """Like scripts/run.sh: fresh random WhatsApp secrets for the chat page's fake Graph API."""
        s = self.settings
        self.env.update(WHATSAPP_APP_SECRET=secrets.token_hex(24), WHATSAPP_VERIFY_TOKEN=secrets.token_hex(24),
                        WHATSAPP_ACCESS_TOKEN=secrets.token_hex(24), WHATSAPP_PHONE_NUMBER_ID="106540352242922",
                        WHATSAPP_API_BASE_URL=f"http://127.0.0.1:{s.simulator_port}/v21.0")
        self.rasa_token = secrets.token_hex(24)

    def _start_simulator(self) -> None:
        s, env = self.settings, self.env
        assert self.balancer is not None and self.rasa_token is not None
        webhook = f"{self.balancer.url}{WEBHOOK_PATH}"
        self.simulator = Program(
            "simulator", lambda port: [
                sys.executable, "-m", "fakegraph.simulator", "--port", str(port), "--webhook", webhook,
                "--app-secret", env["WHATSAPP_APP_SECRET"], "--access-token", env["WHATSAPP_ACCESS_TOKEN"],
                "--phone-number-id", env["WHATSAPP_PHONE_NUMBER_ID"], "--rasa-url", self.rasa[0].url,
                "--rasa-token", self.rasa_token or ""],
            s.simulator_port, {**env, "PYTHONPATH": str(ROOT)}, s.log_dir, "/")
        self.simulator.spawn()
        self._wait_for([self.simulator], retry_ports=False)

    def _start_department(self, port: int) -> None:
        """The fake department (python -m fakedepartment): receives the applications, and its
        page posts status changes back through the balancer, signed."""
        assert self.balancer is not None
        status_url = f"{self.balancer.url}/webhooks/department/status"
        self.department = Program(
            "department", lambda p: [sys.executable, "-m", "fakedepartment", "--port", str(p),
                                     "--secret", self.env["DEPARTMENT_API_SECRET"], "--seva-status-url", status_url],
            port, {**self.env, "PYTHONPATH": str(ROOT)}, self.settings.log_dir, "/")
        self.department.spawn()
        self._wait_for([self.department], retry_ports=False)

    def _wait_for(self, programs: Sequence[Program], retry_ports: bool = True) -> None:
        """Until every program is ready. A program on a free port we picked (RASA_PORT=0 ...)
        that another process took meanwhile is started again on another one; when that is an
        action server, its `rasa run` is restarted with the new address."""
        deadline = time.monotonic() + START_TIMEOUT
        pending = list(programs)
        while pending:
            for program in list(pending):
                if program.poll_ready():
                    pending.remove(program)
                elif not program.alive:
                    if not (retry_ports and program.auto_port and program.port_was_taken()
                            and program._attempts < PORT_ATTEMPTS):
                        if program in self.actions or program in self.rasa:
                            self._restart(program, limit=1)  # once: a failure at every start is not transient
                        else:
                            raise ClusterError(program.exit_reason())
                        continue
                    program.port = 0
                    program.spawn()
                    if program in self.actions and program.instance is not None:
                        rasa = self.rasa[program.instance - 1]
                        self._write_endpoints(program.instance)
                        rasa.terminate()
                        rasa.wait_stopped(time.monotonic() + STOP_TIMEOUT)
                        rasa.spawn()
                        if rasa not in pending:
                            pending.append(rasa)
            if time.monotonic() > deadline:
                names = ", ".join(p.name for p in pending)
                raise ClusterError(f"not answering within {START_TIMEOUT:.0f} s: {names}; see {self.settings.log_dir}")
            if pending:
                time.sleep(0.5)

    def _wait_balanced(self, timeout: float = 60.0) -> None:
        """Until the balancer counts every instance up and answers through itself."""
        assert self.balancer is not None
        deadline = time.monotonic() + timeout
        while True:
            states = self.balancer.server_states()
            if all(state == "UP" for state in states.values()) and \
                    _http_ok(f"{self.balancer.url}{self.settings.health_path}"):
                return
            if not self.balancer.running:
                raise ClusterError(f"haproxy exited; {self.balancer.log_path}:\n{log_tail(self.balancer.log_path)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"the balancer does not count every instance up within {timeout:.0f} s: {states}; "
                                   f"see {self.balancer.log_path}")
            time.sleep(0.2)

    def _announce(self) -> None:
        assert self.balancer is not None
        s = self.settings
        for n, (actions, rasa) in enumerate(zip(self.actions, self.rasa, strict=True), start=1):
            self.say(f"Instance {n}: rasa run on {rasa.port}, action server on {actions.port}")
        if self.simulator is not None:
            self.say(f"\nChat page (a local WhatsApp simulator, through the balancer):\n"
                     f"  http://localhost:{self.simulator.port}/")
        if self.department is not None:
            self.say(f"Department page (a fake department system: approve or reject from it):\n"
                     f"  http://localhost:{self.department.port}/")
        self.say(f"\nWhatsApp webhook (the balancer): {self.balancer.url}{WEBHOOK_PATH}")
        self.say(f"Seva cluster is ready ({time.monotonic() - self._began:.0f} s): {s.instances} instance(s) behind "
                 f"HAProxy on port {self.balancer.port}. Press Ctrl-C to stop.")

    # ------------------------------------------------------------ supervise
    def supervise(self) -> None:
        """Watch every process until a signal (Stop) or a failure (ClusterError)."""
        while True:
            for service in (self.postgres, self.redis, self.balancer):
                if service is not None and not service.running:
                    raise ClusterError(f"{service.name} exited unexpectedly; {service.log_path}:\n"
                                       f"{log_tail(service.log_path, 0, 20)}")
            for page in (self.simulator, self.department):
                if page is not None and not page.alive:
                    raise ClusterError(page.exit_reason())
            for program in self.actions + self.rasa:
                if program.alive:
                    if not program.ready and program.poll_ready():
                        self.say(f"{program.name} is back (port {program.port}).")
                    continue
                self._restart(program)
            time.sleep(1.0)

    def _restart(self, program: Program, limit: int = RESTARTS_PER_PROCESS) -> None:
        now = time.monotonic()
        program.restarts = [t for t in program.restarts if now - t < RESTART_WINDOW] + [now]
        reason = program.exit_reason()
        if len(program.restarts) > limit:
            raise ClusterError(f"{program.name} failed {len(program.restarts)} times in {RESTART_WINDOW:.0f} s; "
                               f"stopping. Last: {reason}")
        code = program.process.returncode if program.process else "?"
        self.say(f"{program.name} exited unexpectedly (code {code}, see {program.log_path}); "
                 f"starting it again on port {program.port}.")
        program.spawn()

    # ----------------------------------------------------------------- stop
    def stop(self) -> None:
        """Everything we started, front to back: chat page and balancer, then the instances
        (SIGTERM together, SIGKILL after STOP_TIMEOUT), then Redis and PostgreSQL."""
        for page in (self.simulator, self.department):
            if page is not None:
                page.terminate()
                page.wait_stopped(time.monotonic() + 10)
        if self.balancer is not None:
            self.balancer.stop()
        for programs in (self.rasa, self.actions):
            for program in programs:
                program.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT
            for program in programs:
                program.wait_stopped(deadline)
        services: List[Optional[Service]] = [self.redis, self.postgres]
        for service in services:
            if service is not None:
                service.stop()


def _actions_command(port: int) -> List[str]:
    return [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)]


def _rasa_command(model: Path, endpoints: Path, api: List[str]) -> Callable[[int], List[str]]:
    def command(port: int) -> List[str]:
        return [str(BIN / "rasa"), "run", "--model", str(model), "--interface", "127.0.0.1", "--port", str(port),
                "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints), *api]
    return command


def _safe_url(url: str) -> str:
    """``url`` without its password."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _raise_stop(signum, _frame) -> None:
    raise Stop(signal.Signals(signum).name)


def main(env: Mapping[str, str] = os.environ) -> int:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    cluster: Optional[Cluster] = None
    code = 0
    try:
        cluster = Cluster(Settings.from_env(env), env)
        cluster.start()
        cluster.supervise()
    except Stop:
        pass
    except (ClusterError, ServiceError) as error:
        _print(f"error: {error}", sys.stderr)
        code = 1
    finally:
        # no second signal cuts the clean-up short (every child also has a parent-death signal)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if cluster is not None:
            _print("\nStopping...")
            cluster.stop()
            _print("Stopped.")
    return code


def _print(text: str, out: Optional[TextIO] = None) -> None:
    """print, except that a closed output (the reader went away) never stops a clean-up."""
    try:
        print(text, file=out or sys.stdout, flush=True)
    except (OSError, ValueError):
        pass

"""Private PostgreSQL, Redis and HAProxy servers, run from Debian's binaries in a folder.

Each is a ``Service``: ``start()`` sets it up if needed (idempotent: a second start on the
same folder reuses its data) and returns once the server we spawned is itself listening on
its port and answers its protocol (never "something answers on that port"); it raises a
``ServiceError`` ending with the tail of the server's log otherwise. ``stop()`` sends the
server's shutdown signal, then SIGKILL to its process group after a timeout. ``port`` and
``url`` say where it is; ``with Postgres(path) as pg:`` starts and stops it.

Ports: given, or picked free when ``port`` is None (the kernel's pick; if another process
binds it first, the server fails with "address in use" and is started again on another
one; a restart of the same object tries its previous port first). Everything listens on
127.0.0.1 only (HAProxy: ``bind``).

Processes: each server runs in its own session (a terminal's Ctrl-C reaches only the
program that owns it, which stops them in order) and, by default, with a parent-death
signal (``setpriv --pdeathsig``): if the Python process that started it dies without
stopping it, the server stops too. Linux sends that signal when the *thread* that spawned
the server exits, so start a service from the main thread or from a thread that outlives
it, or pass ``die_with_parent=False``.

Root: PostgreSQL refuses to run as root. When ``os.geteuid() == 0`` initdb and postgres run
as the ``postgres`` system user (``setpriv --reuid``), the data folder is given to that
user, and every parent folder must let it through (pytest's ``/tmp/pytest-of-root`` does
not: the fixtures in tests/conftest.py use a folder of their own under the system temp).
"""
from __future__ import annotations

import csv
import glob
import io
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

HOST = "127.0.0.1"
PORT_ATTEMPTS = 5
ADDRESS_IN_USE = ("address already in use", "cannot bind socket")
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; PostgreSQL appends "/.s.PGSQL.NNNNN"
LOG_TAIL_LINES = 40


class ServiceError(RuntimeError):
    """A server could not be set up, did not start, or is not running."""


class PortTaken(ServiceError):
    """The server could not bind its port: another process has it."""


_RESERVED: Set[int] = set()  # ports this process was told are spoken for (reserve_ports)


def reserve_ports(ports: Iterable[int]) -> None:
    """Ports the caller will bind itself later (e.g. the balancer's CLUSTER_PORT): free_port
    never picks them, so a server started first cannot take the port a later one needs."""
    _RESERVED.update(p for p in ports if p)


def free_port(host: str = HOST) -> int:
    """A port free at this moment (the kernel's pick), not one reserved with reserve_ports.
    Not a reservation itself: see the module doc."""
    while True:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in _RESERVED:
            return port


def process_group(pgid: int) -> List[int]:
    """The live processes of a process group."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def listening_ports(pgid: int) -> Set[int]:
    """TCP ports on which a process of group ``pgid`` holds a listening socket (from /proc)."""
    inodes = set()
    for pid in process_group(pgid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def log_tail(path: Path, offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or "(the log is empty)"


def _socket_dir(preferred: Path, name_length: int) -> Path:
    """``preferred`` if a socket of ``name_length`` characters fits in it, else a fresh
    folder under the system temp (unix socket paths are limited to 107 bytes)."""
    if len(str(preferred)) + 1 + name_length <= SOCKET_PATH_MAX:
        return preferred
    return Path(tempfile.mkdtemp(prefix="seva-sock-"))


class Service:
    """One server process; subclasses say how to set it up, start it and probe it."""

    name = "service"
    binary = ""
    stop_signal = signal.SIGTERM
    ready_timeout = 60.0
    run_as: Optional[str] = None  # a system user to run the server as (setpriv), or None

    def __init__(self, data_dir: Path, port: Optional[int] = None, die_with_parent: bool = True,
                 log_path: Optional[Path] = None):
        self.data_dir = Path(data_dir).absolute()
        self._log_path = Path(log_path).absolute() if log_path else None
        self._requested_port = port
        self._port: Optional[int] = port
        self.die_with_parent = die_with_parent
        self.process: Optional[subprocess.Popen] = None

    # ------------------------------------------------------------------ public
    @property
    def port(self) -> int:
        if self._port is None:
            raise ServiceError(f"{self.name}: no port yet (port=None picks one at start())")
        return self._port

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def log_path(self) -> Path:
        """The server's own output (stdout and stderr), appended across starts:
        ``log_path`` if given, else ``data_dir/<name>.log``."""
        return self._log_path or self.data_dir / f"{self.name}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.running and self.process is not None else None

    def start(self) -> "Service":
        """Set up if needed, start, and return once the server accepts connections."""
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._prepare()
        attempts = PORT_ATTEMPTS if self._requested_port is None else 1
        for attempt in range(1, attempts + 1):
            # a restart keeps its port when it can: clients hold the address
            port = self._requested_port or (self._port if attempt == 1 and self._port else free_port())
            self._port = port
            offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self.process = self._spawn(self._command(port))
            try:
                self._wait_ready(offset)
            except PortTaken:
                self._kill()
                if attempt == attempts:
                    if self._requested_port is not None:
                        raise PortTaken(f"{self.name}: port {port} is taken by another process; "
                                        f"see {self.log_path}") from None
                    raise PortTaken(f"{self.name}: every port tried was taken; see {self.log_path}") from None
                continue
            except BaseException:
                self._kill()
                raise
            break
        try:
            self._started()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """The shutdown signal, then SIGKILL to the whole process group after ``timeout`` s."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.kill(process.pid, self.stop_signal)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._force(process)
            except ProcessLookupError:
                pass
        process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.data_dir} port={self._port} {state}>"

    # ------------------------------------------------------------ subclasses
    def _prepare(self) -> None:
        """Idempotent set-up before the first spawn (folders, initdb, config)."""

    def _command(self, port: int) -> List[str]:
        raise NotImplementedError

    def _probe(self) -> bool:
        """True once the server answers its protocol and is ours."""
        return True

    def _started(self) -> None:
        """After the server is ready (e.g. create roles)."""

    def _force(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    # --------------------------------------------------------------- helpers
    def _prefix(self) -> List[str]:
        """setpriv: the parent-death signal, and the user to run as."""
        prefix: List[str] = []
        if self.run_as or self.die_with_parent:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                if self.run_as:
                    raise ServiceError(f"{self.name}: setpriv (util-linux) is needed to run as {self.run_as}")
                return []
            prefix = [setpriv]
            if self.run_as:
                prefix += ["--reuid", self.run_as, "--regid", self.run_as, "--init-groups"]
            if self.die_with_parent:
                prefix += ["--pdeathsig", signal.Signals(self.stop_signal).name[3:]]
            prefix.append("--")
        return prefix

    def _spawn(self, command: Sequence[str]) -> subprocess.Popen:
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(self._prefix() + list(command), stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, cwd=self.data_dir, start_new_session=True)

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            self._force(process)
        if process is not None:
            process.wait()

    def _wait_ready(self, log_offset: int) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.process.poll() is not None:
                said = log_tail(self.log_path, log_offset)
                if any(marker in said.lower() for marker in ADDRESS_IN_USE):
                    raise PortTaken(self.port)
                raise ServiceError(f"{self.name} exited with code {self.process.returncode} at start; "
                                   f"{self.log_path}:\n{said}")
            if self.port in listening_ports(self.process.pid) and self._probe():
                return
            if time.monotonic() > deadline:
                raise ServiceError(f"{self.name} was not ready on port {self.port} within {self.ready_timeout:.0f} s; "
                                   f"{self.log_path}:\n{log_tail(self.log_path, log_offset)}")
            time.sleep(0.1)


# ---------------------------------------------------------------- PostgreSQL
def postgres_bindir() -> Path:
    """PostgreSQL's server binaries: ``pg_config --bindir``, else the newest /usr/lib/postgresql/*/bin."""
    candidates: List[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
                         key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for candidate in candidates:
        if (candidate / "postgres").exists() and (candidate / "initdb").exists():
            return candidate
    raise ServiceError("PostgreSQL's server binaries (initdb, postgres) were not found: "
                       "apt-get install postgresql (.ci/run installs it)")


def _traversable_by(path: Path, user: pwd.struct_passwd) -> Optional[Path]:
    """The first parent of ``path`` that ``user`` cannot enter, or None."""
    groups = {user.pw_gid} | {g for g in os.getgrouplist(user.pw_name, user.pw_gid)}
    for parent in reversed(path.parents):
        st = os.stat(parent)
        mode = st.st_mode
        if st.st_uid == user.pw_uid:
            ok = bool(mode & stat.S_IXUSR)
        elif st.st_gid in groups:
            ok = bool(mode & stat.S_IXGRP)
        else:
            ok = bool(mode & stat.S_IXOTH)
        if not ok:
            return parent
    return None


class Postgres(Service):
    """A private PostgreSQL cluster in ``data_dir``: ``data_dir/pgdata`` (initdb'd once),
    its log ``data_dir/postgres.log`` (and ``initdb.log`` next to it), its unix socket in
    ``data_dir``; TCP on 127.0.0.1:``port``. Trust authentication for loopback and socket
    connections only (the server listens on nothing else); fsync stays on. Role and
    database ``seva`` are created if missing; ``url`` is theirs, ``admin_url`` the
    superuser's (``postgres``).

    ``stop()`` sends SIGINT ("fast" shutdown: clients are disconnected, data is flushed):
    PostgreSQL's SIGTERM is "smart" and waits for every client to leave."""

    name = "postgres"
    stop_signal = signal.SIGINT
    USER = "seva"
    DATABASE = "seva"
    SUPERUSER = "postgres"
    MAX_CONNECTIONS = 300  # every instance pools connections: tracker store, application store, channel, actions

    def __init__(self, data_dir: Path, port: Optional[int] = None, die_with_parent: bool = True,
                 log_path: Optional[Path] = None):
        super().__init__(data_dir, port, die_with_parent, log_path)
        self.bindir = postgres_bindir()
        self.pgdata = self.data_dir / "pgdata"
        self.socket_dir = self.data_dir
        self.run_as = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return self.database_url(self.DATABASE)

    @property
    def admin_url(self) -> str:
        return f"postgresql://{self.SUPERUSER}@{HOST}:{self.port}/postgres"

    def database_url(self, database: str, user: Optional[str] = None) -> str:
        return f"postgresql://{user or self.USER}@{HOST}:{self.port}/{database}"

    def connect(self, database: str = "postgres", user: Optional[str] = None):
        """A psycopg2 connection (autocommit), as the superuser unless ``user`` is given."""
        import psycopg2

        connection = psycopg2.connect(host=HOST, port=self.port, user=user or self.SUPERUSER, dbname=database,
                                      connect_timeout=5)
        connection.autocommit = True
        return connection

    def fresh_database(self, name: str) -> str:
        """Drop (disconnecting its clients) and create database ``name`` owned by ``seva``; its URL."""
        if not name.replace("_", "").isalnum() or not name[0].isalpha():
            raise ValueError(f"database name {name!r}: letters, digits and _ only, starting with a letter")
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{name}" OWNER "{self.USER}"')
        finally:
            connection.close()
        return self.database_url(name)

    # ------------------------------------------------------------------
    def _prepare(self) -> None:
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            blocked = _traversable_by(self.data_dir, user)
            if blocked is not None:
                raise ServiceError(f"postgres runs as the {self.run_as} user (PostgreSQL refuses root), which "
                                   f"cannot enter {blocked} (mode {stat.filemode(os.stat(blocked).st_mode)}): "
                                   f"use a data folder elsewhere, or chmod o+x {blocked}")
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        os.chmod(self.data_dir, 0o700)
        self.socket_dir = _socket_dir(self.data_dir, len(".s.PGSQL.65535.lock"))
        if self.socket_dir != self.data_dir and self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(self.socket_dir, user.pw_uid, user.pw_gid)
        version_file = self.pgdata / "PG_VERSION"
        if version_file.exists():
            have, want = version_file.read_text().strip(), self.bindir.parent.name
            if want.isdigit() and have != want:
                raise ServiceError(f"{self.pgdata} holds a PostgreSQL {have} cluster but the server here is "
                                   f"{want} ({self.bindir}): upgrade it with pg_upgrade, or use another folder")
            return
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise ServiceError(f"{self.pgdata} has files but no PostgreSQL cluster (no PG_VERSION); "
                               f"move them away or use another folder")
        log = self.log_path.with_name("initdb.log")
        with open(log, "ab") as out:
            result = subprocess.run(
                self._prefix_for_run() + [str(self.bindir / "initdb"), "-D", str(self.pgdata), "-U", self.SUPERUSER,
                                          "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=self.data_dir, timeout=300)
        if result.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)  # a half-made cluster would block the next try
            raise ServiceError(f"initdb failed with code {result.returncode}; {log}:\n{log_tail(log)}")

    def _prefix_for_run(self) -> List[str]:
        if not self.run_as:
            return []
        return [shutil.which("setpriv") or "setpriv", "--reuid", self.run_as, "--regid", self.run_as,
                "--init-groups", "--"]

    def _command(self, port: int) -> List[str]:
        return [str(self.bindir / "postgres"), "-D", str(self.pgdata), "-p", str(port),
                "-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={self.socket_dir}",
                "-c", "fsync=on", "-c", f"max_connections={self.MAX_CONNECTIONS}",
                "-c", "logging_collector=off"]

    def _probe(self) -> bool:
        import psycopg2

        try:
            connection = psycopg2.connect(host=HOST, port=self.port, user=self.SUPERUSER, dbname="postgres",
                                          connect_timeout=2)
        except psycopg2.OperationalError:
            return False  # e.g. "the database system is starting up"
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW data_directory")
                row = cursor.fetchone()
                return row is not None and Path(row[0]).resolve() == self.pgdata.resolve()
        finally:
            connection.close()

    def _started(self) -> None:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.USER,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE ROLE "{self.USER}" LOGIN CREATEDB')
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.DATABASE,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{self.DATABASE}" OWNER "{self.USER}"')
        finally:
            connection.close()

    def _force(self, process: subprocess.Popen) -> None:
        # "immediate" shutdown first (the postmaster stops its backends; crash recovery at the
        # next start), SIGKILL to the group only if that does not end it either
        try:
            os.kill(process.pid, signal.SIGQUIT)
            process.wait(10)
            return
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        super()._force(process)


# --------------------------------------------------------------------- Redis
class Redis(Service):
    """A private redis-server: its dir (append-only file), pidfile and log in ``data_dir``,
    bound to 127.0.0.1:``port``, appendonly on (fsync every second, Redis's default)."""

    name = "redis"

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def client(self, db: int = 0):
        import redis

        return redis.Redis(host=HOST, port=self.port, db=db, socket_timeout=5)

    def _command(self, port: int) -> List[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("redis-server was not found: apt-get install redis-server (.ci/run installs it)")
        return [binary, "--port", str(port), "--bind", HOST, "--dir", str(self.data_dir),
                "--pidfile", str(self.data_dir / "redis.pid"), "--logfile", "", "--daemonize", "no",
                "--appendonly", "yes", "--protected-mode", "yes"]

    def _probe(self) -> bool:
        import redis

        client = redis.Redis(host=HOST, port=self.port, socket_timeout=2, socket_connect_timeout=2)
        try:
            if not client.ping():
                return False
            folder = client.config_get("dir").get("dir")
            return folder is not None and Path(folder).resolve() == self.data_dir.resolve()
        except redis.RedisError:
            return False  # e.g. LOADING while it reads its append-only file
        finally:
            client.close()


# ------------------------------------------------------------------- HAProxy
class HAProxy(Service):
    """HAProxy in front of ``backends`` ((host, port), named instance1, instance2, ...):
    HTTP mode, round robin, an HTTP health check (``GET health_path``, 200 expected) every
    second: a backend leaves rotation after 2 failed checks and comes back after 1 good one.
    A request whose connection fails, or whose backend closes without answering or does not
    answer in time, is retried (3 times) on another backend: safe for the WhatsApp webhook,
    whose channel de-duplicates by message id; do not put non-idempotent endpoints behind it.

    The generated ``config_dir/haproxy.cfg``, its log ``config_dir/haproxy.log`` (one line per
    request without query strings, and every backend state change), and an admin socket
    (``server_states()``)."""

    name = "haproxy"
    CHECK = "inter 1s fastinter 500ms downinter 1s fall 2 rise 1"

    def __init__(self, config_dir: Path, port: Optional[int] = None,
                 backends: Sequence[Tuple[str, int]] = (),
                 health_path: str = "/webhooks/whatsapp/health/ready",
                 bind: str = HOST, server_timeout: float = 30.0, die_with_parent: bool = True,
                 log_path: Optional[Path] = None):
        super().__init__(config_dir, port, die_with_parent, log_path)
        if not backends:
            raise ValueError("HAProxy needs at least one backend")
        self.backends = list(backends)
        self.health_path = health_path
        self.bind = bind
        self.server_timeout = server_timeout
        self.config_path = self.data_dir / "haproxy.cfg"
        self.admin_socket = self.data_dir / "haproxy.sock"

    @property
    def url(self) -> str:
        return f"http://{HOST if self.bind in ('0.0.0.0', '::', '') else self.bind}:{self.port}"

    def server_names(self) -> List[str]:
        return [f"instance{n}" for n in range(1, len(self.backends) + 1)]

    def config(self, port: int) -> str:
        servers = "\n".join(f"    server {name} {host}:{backend_port} check"
                            for name, (host, backend_port) in zip(self.server_names(), self.backends, strict=True))
        return f"""\
# Generated by cluster/services.py (HAProxy) at every start: edit that, not this file.
global
    log stdout format raw local0 info
    maxconn 4096
    stats socket {self.admin_socket} mode 600 level admin

defaults
    mode http
    log global
    # no query string in the log: the verification handshake carries hub.verify_token
    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %HM %HP"
    option dontlognull
    timeout connect 2s
    timeout client 60s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 30s
    timeout server {self.server_timeout:g}s
    timeout check 2s
    # a failed request is tried again on another backend (redispatch at every retry)
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend seva
    bind {self.bind}:{port}
    default_backend rasa

backend rasa
    balance roundrobin
    option httpchk GET {self.health_path}
    http-check expect status 200
    default-server {self.CHECK}
{servers}
"""

    def server_states(self) -> Dict[str, str]:
        """Each backend's state from the admin socket: ``{"instance1": "UP", ...}`` (UP, DOWN, ...)."""
        if not self.running:
            raise ServiceError("haproxy is not running")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.admin_socket))
            sock.sendall(b"show stat\n")
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        rows = csv.DictReader(io.StringIO(b"".join(chunks).decode().lstrip("# ")))
        return {row["svname"]: row["status"].split()[0] for row in rows
                if row.get("pxname") == "rasa" and row.get("svname") not in ("FRONTEND", "BACKEND")}

    def _prepare(self) -> None:
        if shutil.which("haproxy") is None:
            raise ServiceError("haproxy was not found: apt-get install haproxy (.ci/run installs it)")
        self.admin_socket = _socket_dir(self.data_dir, len("haproxy.sock")) / "haproxy.sock"

    def _command(self, port: int) -> List[str]:
        self.config_path.write_text(self.config(port), encoding="utf-8")
        return [shutil.which("haproxy") or "haproxy", "-db", "-f", str(self.config_path)]

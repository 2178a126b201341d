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
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Callable, Dict, Iterable, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "seva.tar.gz"
PORT_ATTEMPTS = 5
ADDRESS_IN_USE = "address already in use"


class PortTaken(RuntimeError):
    """The server could not bind its port: another process has it."""


def candidate_port() -> int:
    """A port that is free at this moment (the kernel's pick). Not a reservation: see the module doc."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group(pgid: int) -> List[int]:
    """The live processes of a process group."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def listening_ports(pgid: int) -> Set[int]:
    """TCP ports on which a process of group ``pgid`` holds a listening socket."""
    inodes = set()
    for pid in _group(pgid):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
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


def _get(url: str, timeout: float = 2.0) -> Optional[bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except OSError:
        return None


class Stack:
    """An action server and a Rasa server sharing one temporary state folder."""

    def __init__(self, workdir: Path, extra_env: Optional[Dict[str, str]] = None, model: Path = MODEL,
                 graph=None):
        self.workdir = workdir
        self.model = Path(model)
        self.graph = graph  # a fakegraph.server.FakeGraph whose webhooks go to this stack, or None
        self.actions_port: Optional[int] = None
        self.rasa_port: Optional[int] = None
        self.app_db_url = f"sqlite:///{workdir / 'apps.db'}"
        self.endpoints = workdir / "endpoints.yml"
        self.env = {**os.environ, "APP_DB_URL": self.app_db_url, "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), **(extra_env or {})}
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self._logs: List[IO[bytes]] = []

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        self._logs.append(log)
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def write_endpoints(self) -> None:
        """``self.endpoints`` for `rasa run`, once the action server listens on ``self.actions_port``."""
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
            f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{self.workdir / "tracker.db"}"\n',
            encoding="utf-8")

    @classmethod
    def for_whatsapp(cls, workdir: Path, graph, app_secret: str, verify_token: str = "v",
                     model: Path = MODEL, **env: str) -> "Stack":
        """A stack whose WhatsApp channel talks to ``graph`` (a fakegraph.server.FakeGraph),
        and whose webhook ``graph`` delivers to (``graph.webhook_url`` is kept up to date)."""
        return cls(workdir, model=model, graph=graph, extra_env={
            "WHATSAPP_VERIFY_TOKEN": verify_token, "WHATSAPP_APP_SECRET": app_secret,
            "WHATSAPP_ACCESS_TOKEN": graph.access_token, "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
            "WHATSAPP_API_BASE_URL": graph.base_url, **env})

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

    # ------------------------------------------------------- WhatsApp channel
    def unfinished(self, message_ids: Iterable[str]) -> Set[str]:
        """Which of these acknowledged WhatsApp messages the channel has not finished.

        The channel writes each message to its inbox table before the webhook answers 200
        and deletes it once the message is handled and every reply to it was sent or given
        up (channels/inbox.py), so "not in the table" after a 200 means "answered"."""
        from channels.inbox import pending

        wanted = list(message_ids)
        db = sqlite3.connect(self.app_db_url[len("sqlite:///"):], timeout=30)
        try:
            marks = ",".join("?" * len(wanted))
            rows = db.execute(f"select message_id from {pending.name} where message_id in ({marks})",
                              wanted).fetchall()
        finally:
            db.close()
        return {row[0] for row in rows}

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

"""Start the real action server and `rasa run` on free ports, for end-to-end tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "seva.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> Optional[bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except OSError:
        return None


class Stack:
    """An action server and a Rasa server sharing one temporary state folder."""

    def __init__(self, workdir: Path, extra_env: Optional[Dict[str, str]] = None):
        self.workdir = workdir
        self.actions_port = free_port()
        self.rasa_port = free_port()
        self.app_db_url = f"sqlite:///{workdir / 'apps.db'}"
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
            f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n',
            encoding="utf-8")
        self.env = {**os.environ, "APP_DB_URL": self.app_db_url, "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), **(extra_env or {})}
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self._logs: List = []

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        self._logs.append(log)
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    @classmethod
    def for_whatsapp(cls, workdir: Path, graph, app_secret: str, verify_token: str = "v",
                     **env: str) -> "Stack":
        """A stack whose WhatsApp channel talks to ``graph`` (a fakegraph.server.FakeGraph)."""
        return cls(workdir, extra_env={
            "WHATSAPP_VERIFY_TOKEN": verify_token, "WHATSAPP_APP_SECRET": app_secret,
            "WHATSAPP_ACCESS_TOKEN": graph.access_token, "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
            "WHATSAPP_API_BASE_URL": graph.base_url, **env})

    def start_actions(self) -> None:
        self.actions = self._spawn("actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
                                               "--port", str(self.actions_port)])
        self._wait(f"http://127.0.0.1:{self.actions_port}/health", self.actions, "action server")

    def start_rasa(self, *extra_args: str) -> None:
        self.rasa = self._spawn("rasa", [str(BIN / "rasa"), "run", "--model", str(MODEL), "--port",
                                         str(self.rasa_port), "--endpoints", str(self.endpoints),
                                         "--credentials", str(ROOT / "credentials.yml"), *extra_args])
        self._wait(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/", self.rasa, "rasa run")

    def _wait(self, url: str, process: subprocess.Popen, what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}; see {self.workdir}")
            if _get(url) is not None:
                return
            time.sleep(0.5)
        raise TimeoutError(f"{what} did not answer {url} within {timeout}s")

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


def _stop(process: Optional[subprocess.Popen], sig: int) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

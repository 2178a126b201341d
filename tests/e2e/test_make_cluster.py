"""`python -m cluster` (what `make cluster` runs) as an operator starts it: PostgreSQL, Redis,
two instances behind HAProxy, WhatsApp pointed at the fake Graph API. A signed message
through the balancer is answered; Ctrl-C (SIGINT) leaves no process behind; a second start
on the same data folder (one instance, to keep it cheap) still knows the citizen and answers.

The data go to a folder of the test's own (CLUSTER_DATA_DIR) under the system temp: when
the tests run as root PostgreSQL runs as the postgres user, who cannot enter pytest's
/tmp/pytest-of-root. The logs (CLUSTER_LOG_DIR) stay in pytest's tmp_path, kept after a failure."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import psycopg2
import pytest

from channels.inbox import pending
from fakegraph.server import FakeGraph, envelope, text
from tests.e2e.servers import MODEL, ROOT, candidate_port
from tests.unit.helpers import say

SECRET = "cluster-app-secret"
START_TIMEOUT = 600


class ClusterRun:
    """One `python -m cluster`, its output collected line by line on a thread."""

    def __init__(self, env: Dict[str, str]):
        self.lines: List[str] = []
        self.process = subprocess.Popen([sys.executable, "-m", "cluster"], cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_line(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"python -m cluster exited with {self.process.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no line matching {pattern!r} within {timeout} s:\n{self.output}")
            time.sleep(0.2)

    def interrupt(self, timeout: float = 120) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        finally:
            self._reader.join(5)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _processes() -> Dict[int, Tuple[int, str]]:
    """pid -> (parent pid, start time) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            table[int(entry)] = (int(fields[1]), fields[19])  # ppid, starttime
    return table


def descendants(pid: int) -> Set[Tuple[int, str]]:
    """(pid, start time) of every process below ``pid``."""
    table = _processes()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier}
        found |= {(child, table[child][1]) for child in frontier}
    return found


def still_alive(processes: Set[Tuple[int, str]]) -> Set[Tuple[int, str]]:
    table = _processes()
    return {(pid, start) for pid, start in processes if pid in table and table[pid][1] == start}


def instance_of(pid: int) -> Optional[str]:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if b"run" not in cmdline or b"actions" in cmdline or not any(arg.endswith(b"rasa") for arg in cmdline):
        return None
    for variable in environ:
        if variable.startswith(b"SEVA_INSTANCE="):
            return variable.split(b"=", 1)[1].decode()
    return None


def count(database: str, query: str, *values) -> int:
    connection = psycopg2.connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, values)
            return cursor.fetchone()[0]
    finally:
        connection.close()


def wait_finished(database: str, message_id: str, timeout: float = 60) -> None:
    """Until the channel has finished the message: its inbox row is gone (every reply sent;
    see tests/e2e/servers.py, Stack.unfinished). Stopping before that is a crash-recovery
    case, not a clean stop."""
    deadline = time.monotonic() + timeout
    while count(database, f"SELECT count(*) FROM {pending.name} WHERE message_id = %s", message_id):
        assert time.monotonic() < deadline, f"{message_id} not finished within {timeout} s"
        time.sleep(0.1)


def body_text(body: dict) -> str:
    if body["type"] == "text":
        return body["text"]["body"]
    return body.get("interactive", {}).get("body", {}).get("text", "")


def replied(fake: FakeGraph, wa_id: str, count: int) -> List[dict]:
    fake.wait_until(lambda: len(fake.messages_to(wa_id)) >= count, 120, f"{count} replies to {wa_id}")
    return fake.messages_to(wa_id)


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="seva-test-cluster-"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake():
    server = FakeGraph(app_secret=SECRET).start()
    yield server
    server.stop()


def test_make_cluster_answers_through_the_balancer_stops_cleanly_and_restarts(data_dir, fake, tmp_path):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    port = candidate_port()
    env = {**os.environ, "INSTANCES": "2", "SPEECH_ENABLED": "false", "CLUSTER_PORT": str(port),
           "RASA_PORT": "0", "ACTIONS_PORT": "0", "CLUSTER_DATA_DIR": str(data_dir / "data"),
           "CLUSTER_LOG_DIR": str(tmp_path / "logs"), "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_APP_SECRET": SECRET,
           "WHATSAPP_ACCESS_TOKEN": fake.access_token, "WHATSAPP_PHONE_NUMBER_ID": fake.phone_number_id,
           "WHATSAPP_API_BASE_URL": fake.base_url, "WHATSAPP_GRAPH_TIMEOUT": "5"}
    wa_id = "919437000017"
    welcome = say("utter_you_are_welcome", "en")

    run = ClusterRun(env)
    try:
        run.wait_line(r"\bready\b")
        webhook = run.wait_line(r"(http://127\.0\.0\.1:\d+/webhooks/whatsapp/webhook)", 1).group(1)
        assert webhook == f"http://127.0.0.1:{port}/webhooks/whatsapp/webhook"
        database = run.wait_line(r"PostgreSQL: (postgresql://\S+)", 1).group(1)
        fake.webhook_url = webhook
        message = text(wa_id, "/thank")
        assert fake.deliver(envelope([message]))[-1] == 200
        assert body_text(replied(fake, wa_id, 1)[-1]) == welcome
        wait_finished(database, message["id"])

        children = descendants(run.process.pid)
        assert sorted(filter(None, (instance_of(pid) for pid, _ in children))) == ["1", "2"]
        assert run.interrupt() == 0, run.output
    finally:
        run.kill()
    assert "Stopped." in run.output
    assert still_alive(children) == set(), f"left behind: {still_alive(children)}"

    env["INSTANCES"] = "1"
    run = ClusterRun(env)
    try:
        run.wait_line(r"\bready\b")
        database = run.wait_line(r"PostgreSQL: (postgresql://\S+)", 1).group(1)  # its port is picked anew
        # the first start's conversation, in the reused data folder
        assert count(database, "SELECT count(*) FROM events WHERE sender_id = %s", wa_id) > 0
        message = text(wa_id, "/thank")
        assert fake.deliver(envelope([message]))[-1] == 200
        assert body_text(replied(fake, wa_id, 2)[-1]) == welcome
        wait_finished(database, message["id"])
        children = descendants(run.process.pid)
        assert run.interrupt() == 0, run.output
    finally:
        run.kill()
    assert still_alive(children) == set(), f"left behind: {still_alive(children)}"

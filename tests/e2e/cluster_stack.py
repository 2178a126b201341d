"""Several `rasa run` instances on one PostgreSQL database and one Redis lock store, behind
HAProxy: the cluster of issue 17, for end-to-end tests and benchmarks.

Each instance is a ``Stack`` (tests/e2e/servers.py: its own action server and `rasa run`,
its own folder and logs) with ``SEVA_INSTANCE=n``, so the inbox's lease owners are named
``n:<pid>:<random>`` (channels/inbox.py). The balancer is cluster.services.HAProxy, round
robin over the instances, checking each one's readiness (``/webhooks/whatsapp/health/ready``,
or the webhook blueprint's ``/webhooks/whatsapp/`` where the channel has no readiness route
yet). PostgreSQL and Redis are the caller's (the test session's fixtures, or a benchmark's
own cluster.services servers): the cluster gets their URLs.

The fake Graph API's webhooks go to the balancer (``graph.webhook_url``), never to an
instance directly. Instances get the settings `make cluster` gives them (cluster/launcher.py):
a 15 s Rasa lock lifetime (a dead instance's lock on a citizen lapses before the 30 s
takeover limit) and a 3 s drain on SIGTERM; ``env`` may override them.
"""
from __future__ import annotations

import concurrent.futures
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set

from cluster.services import HAProxy
from tests.e2e.servers import MODEL, Stack, candidate_port, whatsapp_env

WEBHOOK_PATH = "/webhooks/whatsapp/webhook"
READY_PATH = "/webhooks/whatsapp/health/ready"
FALLBACK_HEALTH_PATH = "/webhooks/whatsapp/"  # 200 from the webhook blueprint while `rasa run` serves
INSTANCE_ENV = {"TICKET_LOCK_LIFETIME": "15", "SEVA_DRAIN_SECONDS": "3"}  # as cluster/launcher.py


def _status(url: str, timeout: float = 5.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class Cluster:
    """``instances`` × (action server + `rasa run`) behind HAProxy, sharing ``database_url``
    (both stores) and ``redis_url`` (the lock store, under ``lock_key_prefix``)."""

    def __init__(self, workdir: Path, graph, app_secret: str, database_url: str, redis_url: str,
                 instances: int = 2, verify_token: str = "v", model: Path = MODEL,
                 lock_key_prefix: str = "seva", **env: str):
        self.workdir = Path(workdir)
        self.graph = graph
        self.database_url = database_url
        self.stacks: List[Stack] = []
        for n in range(1, instances + 1):
            folder = self.workdir / f"instance{n}"
            folder.mkdir(parents=True, exist_ok=True)
            self.stacks.append(Stack(folder, model=model, database_url=database_url, redis_url=redis_url,
                                     lock_key_prefix=lock_key_prefix,
                                     extra_env={**INSTANCE_ENV, **whatsapp_env(graph, app_secret, verify_token),
                                                "SEVA_INSTANCE": str(n), **env}))
        self.balancer: Optional[HAProxy] = None
        self.health_path = READY_PATH

    # ------------------------------------------------------------------ starting
    def start(self, instances: Optional[Iterable[int]] = None) -> "Cluster":
        """Start the instances given (1-based; all by default) at the same time, then the
        balancer over every instance (those not started stay DOWN in it until they are),
        and point the fake Graph API's webhooks at the balancer."""
        wanted = list(instances) if instances is not None else list(range(1, len(self.stacks) + 1))
        for stack in self.stacks:  # every backend needs an address before the balancer starts
            if stack.rasa_port is None:
                stack.rasa_port = candidate_port()  # `rasa run` moves if it is taken (start_rasa)
        with concurrent.futures.ThreadPoolExecutor(len(wanted)) as pool:
            list(pool.map(self._start_instance, wanted))
        probe = f"{self.stacks[wanted[0] - 1].rasa_url}{READY_PATH}"
        self.health_path = READY_PATH if _status(probe) != 404 else FALLBACK_HEALTH_PATH
        self._start_balancer()
        self.wait_states({self.name(n): "UP" for n in wanted})
        self.graph.webhook_url = self.webhook_url
        return self

    def _start_instance(self, n: int) -> None:
        stack = self.stacks[n - 1]
        if stack.actions is None:
            stack.start_actions()
        stack.start_rasa()

    def _start_balancer(self) -> None:
        backends = [("127.0.0.1", stack.rasa_port) for stack in self.stacks]
        if self.balancer is not None:
            if self.balancer.backends == backends and self.balancer.running:
                return
            self.balancer.stop()
            self.balancer.backends = backends
        else:
            self.balancer = HAProxy(self.workdir / "haproxy", backends=backends, health_path=self.health_path)
        self.balancer.start()

    def restart(self, n: int) -> None:
        """Start instance ``n``'s `rasa run` again (after ``kill``); back in the balancer once UP."""
        self._start_instance(n)
        self._start_balancer()  # a new configuration only if `rasa run` had to move to another port
        self.wait_states({self.name(n): "UP"})

    def stop_instance(self, n: int) -> None:
        """A clean stop of instance ``n``'s `rasa run` (SIGTERM); its action server stays."""
        self.stacks[n - 1].stop_rasa(signal.SIGTERM)

    def kill(self, n: int) -> None:
        """SIGKILL to instance ``n``'s `rasa run` (its whole process group); its action server stays."""
        self.stacks[n - 1].stop_rasa(signal.SIGKILL)

    def stop(self) -> None:
        if self.balancer is not None:
            self.balancer.stop()
        for stack in self.stacks:
            stack.stop()

    # ---------------------------------------------------------------- looking
    @staticmethod
    def name(n: int) -> str:
        """Instance ``n``'s server name in the balancer."""
        return f"instance{n}"

    @property
    def url(self) -> str:
        assert self.balancer is not None
        return self.balancer.url

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def states(self) -> Dict[str, str]:
        assert self.balancer is not None
        return self.balancer.server_states()

    def wait_states(self, wanted: Dict[str, str], timeout: float = 60.0) -> None:
        """Until the balancer sees each named backend in the wanted state (UP, DOWN)."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            if all(states.get(name) == state for name, state in wanted.items()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"balancer: wanted {wanted}, has {states} after {timeout:.0f} s")
            time.sleep(0.2)

    def unfinished(self, message_ids: Iterable[str]) -> Set[str]:
        """Acknowledged messages no instance has finished yet (the shared inbox)."""
        return self.stacks[0].unfinished(message_ids)

    def wait_answered(self, message_ids: Iterable[str], timeout: float = 120.0) -> None:
        self.stacks[0].wait_answered(message_ids, timeout)

    def held_by(self, n: int) -> Set[str]:
        """The messages whose lease instance ``n`` holds now (taken, not finished)."""
        return {row.message_id for row in self.stacks[0].inbox_rows()
                if row.lease_owner and row.lease_owner.startswith(f"{n}:")}

    def log_text(self, n: int, name: str = "rasa") -> str:
        return self.stacks[n - 1].log_text(name)

    def pids(self, n: int) -> Sequence[int]:
        """Instance ``n``'s `rasa run` and action server (each the leader of its process group)."""
        stack = self.stacks[n - 1]
        return [p.pid for p in (stack.rasa, stack.actions) if p is not None]

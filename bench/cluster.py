"""WhatsApp turns at 50 citizens through the balancer: 1 vs 2 `rasa run` instances on
PostgreSQL + Redis behind HAProxy, against today's single process (issue 17).

Three set-ups in one run on this machine, measured with bench/turns.py's load (each
simulated citizen does a whole English income-certificate application, 10 turns without
pause, timed from the signed webhook POST to the arrival at the fake Graph API of the
turn's last reply):

- single: what `make run` starts — one action server and one `rasa run`, SQLite stores, no
  balancer, webhooks straight to `rasa run`;
- cluster x1: PostgreSQL (both stores) and a Redis lock store, HAProxy in front, instance 1
  only (instance 2 is stopped: the inbox is shared, a running instance would take work);
- cluster x2: the same with instance 2 started, both behind the balancer.

PostgreSQL, Redis and HAProxy are private servers from cluster/services.py in a temporary
folder. Each set-up is warmed up with 2 citizens (whose WhatsApp replies are checked 1:1
against REST's), then measured ``--rounds`` times in the order single, x1, x2 (instance 2
stopped and started again between rounds), pooled. After each measurement, once 3 s pass
with no message, every citizen must have received exactly the replies expected: lost and
duplicated messages are counted. Ratios are against single in the same run.

Memory: per instance, the peak RSS (VmHWM) summed over every process of `rasa run`'s
process group and of its action server's (and their descendants), and the same for
PostgreSQL (postmaster and backends), Redis and HAProxy; pages shared between processes
count once per process. CPU: the CPU seconds each part used during each measurement
(utime + stime from /proc, live processes of each group and their descendants; this
process — the simulated citizens and the fake Graph API — from os.times()), per turn, to
show where the two cores went.

Speech is on by default, as with `make run` and `make cluster` (each `rasa run` loads the
speech model; measurement waits until its answer grammars are ready); ``--no-speech`` turns it
off. The per-number rate limit is lifted, as in bench/turns.py.

    .venv/bin/python -m bench.cluster [--citizens 50] [--rounds 2] [--no-speech] [--turn-timeout 120]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import percentile  # noqa: E402
from bench.turns import SECRET, play, quiet, rest_turn, whatsapp_turn  # noqa: E402
from cluster.services import (  # noqa: E402
    HAProxy,
    Postgres,
    Redis,
    process_group,  # noqa: E402
)
from fakegraph.server import FakeGraph  # noqa: E402
from tests.e2e.cluster_stack import Cluster  # noqa: E402
from tests.e2e.servers import Stack  # noqa: E402

SETUPS = ("single", "cluster x1", "cluster x2")
LOAD_ENV = {"WHATSAPP_RATE_BURST": "1000", "WHATSAPP_RATE_PER_MINUTE": "100000"}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Pooled:
    times: List[float] = field(default_factory=list)  # ms per turn
    wall: float = 0.0
    lost: int = 0
    duplicated: int = 0
    failed: int = 0
    cpu: Dict[str, float] = field(default_factory=dict)  # CPU seconds per part, summed over rounds
    machine_busy: float = 0.0  # CPU seconds the whole machine was busy (every process)
    machine_total: float = 0.0


def members(pid: int) -> List[int]:
    """A process, its process group, and its descendants (PostgreSQL's backends each call
    setsid(): they are the postmaster's children, not in its group)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            parents[int(stat.parent.name)] = int(text[text.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found = [pid] + [p for p in process_group(pid) if p != pid]
    for known in found:
        found += [child for child, parent in parents.items() if parent == known and child not in found]
    return found


def group_status(pgid: int, key: str) -> float:
    """The sum of a /proc status field (VmRSS, VmHWM; kB) over a process's group and
    descendants (``members``), in MB. Pages shared between processes count once per process."""
    total = 0
    for pid in members(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of a process's group and descendants (live ones)."""
    total = 0
    for pid in members(pgid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / TICKS


def machine_cpu() -> Tuple[float, float]:
    """CPU seconds the whole machine spent busy and in all, from /proc/stat (every process,
    ours or not: the machine is shared)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    return (total - idle) / TICKS, total / TICKS


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


class Target:
    """Where a set-up's webhooks go (bench.turns.whatsapp_turn reads ``webhook_url``)."""

    def __init__(self, webhook_url: str):
        self.webhook_url = webhook_url


def wait_speech_ready(stacks: Sequence[Stack], timeout: float = 600.0) -> None:
    """Until each `rasa run` has prepared its speech answer grammars (or said it could not)."""
    deadline = time.monotonic() + timeout
    for stack in stacks:
        while not any(mark in stack.log_text() for mark in ("grammars ready", "could not prepare answer",
                                                              "Speech recognition is off")):
            if time.monotonic() > deadline:
                sys.exit(f"speech grammars not ready in {stack.workdir} after {timeout:.0f} s")
            time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-speech", action="store_true", help="SPEECH_ENABLED=false in every `rasa run`")
    parser.add_argument("--turn-timeout", type=float, default=120.0)
    args = parser.parse_args()
    env = {**LOAD_ENV, **({"SPEECH_ENABLED": "false"} if args.no_speech else {})}
    workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    os.chmod(workdir, 0o711)  # as root, PostgreSQL runs as the postgres user, who must get through
    fake = FakeGraph(app_secret=SECRET).start()
    (workdir / "single").mkdir()
    single = Stack.for_whatsapp(workdir / "single", fake, SECRET, **env)
    postgres, redis = Postgres(workdir / "postgres"), Redis(workdir / "redis")
    cluster = None
    pooled = {name: Pooled() for name in SETUPS}
    memory: List[Tuple[str, float, float]] = []
    failures: List[str] = []
    started = time.monotonic()
    try:
        # ------------------------------------------------------------ start
        single.start_actions()
        single.start_rasa()  # and points the fake's webhooks at it
        postgres.start()
        redis.start()
        database = postgres.fresh_database("bench_cluster")
        cluster = Cluster(workdir / "cluster", fake, SECRET, database, redis.url, instances=2,
                          lock_key_prefix="bench", **env)
        cluster.start(instances=[1])  # instance 2 waits for the x2 measurement
        fake.webhook_url = single.webhook_url
        wait_speech_ready([single, cluster.stacks[0]])
        print(f"started single and cluster instance 1 in {time.monotonic() - started:.0f} s "
              f"(balancer checks {cluster.health_path}); workdir {workdir}", file=sys.stderr)

        warm, _ = play(rest_turn(single, None), ["919710000000", "919710000001"])
        if any(run.error for run in warm) or warm[0].counts != warm[1].counts:
            sys.exit(f"REST warm-up failed: {[run.error or run.counts for run in warm]} (logs in {workdir})")
        expected = warm[0].counts
        targets = {"single": Target(single.webhook_url), "cluster x1": Target(cluster.webhook_url),
                   "cluster x2": Target(cluster.webhook_url)}
        balancer = cluster.balancer
        assert isinstance(balancer, HAProxy)

        def parts() -> Dict[str, int]:
            """The process groups whose CPU time is counted, by name."""
            found = {"single: rasa run": single.rasa.pid, "single: actions": single.actions.pid,
                     "postgres": postgres.process.pid, "redis": redis.process.pid,
                     "haproxy": balancer.process.pid}
            for n, stack in enumerate(cluster.stacks, 1):
                if stack.rasa is not None:
                    found[f"instance {n}: rasa run"] = stack.rasa.pid
                if stack.actions is not None:
                    found[f"instance {n}: actions"] = stack.actions.pid
            return found

        def measure(name: str, round_: int, warm_up: bool = False) -> None:
            target = targets[name]
            fake.reset()
            turn = whatsapp_turn(target, fake, expected, args.turn_timeout, verify=warm_up)
            digit = SETUPS.index(name) + 1
            senders = [f"9197{digit}{9 if warm_up else round_}{i:05d}"
                       for i in range(2 if warm_up else args.citizens)]
            groups = parts()
            cpu_before = {part: group_cpu(pgid) for part, pgid in groups.items()}
            own_before, machine_before = own_cpu(), machine_cpu()
            runs, wall = play(turn, senders)
            cpu = {part: group_cpu(pgid) - cpu_before[part] for part, pgid in groups.items()}
            cpu["bench (citizens + fake Graph API)"] = own_cpu() - own_before
            machine_after = machine_cpu()
            errors = [run.error for run in runs if run.error]
            if warm_up:
                if errors:
                    sys.exit(f"{name}: WhatsApp warm-up failed: {errors} (logs in {workdir})")
                quiet(fake)
                return
            quiet(fake)
            got = [len(fake.messages_to(s)) for s in senders]
            result = pooled[name]
            result.times += [ms for run in runs for ms in run.latencies]
            result.wall += wall
            result.failed += len(errors)
            result.lost += sum(max(0, r.expected_total - n) for r, n in zip(runs, got, strict=True))
            result.duplicated += sum(max(0, n - r.expected_total) for r, n in zip(runs, got, strict=True))
            for part, seconds in cpu.items():
                result.cpu[part] = result.cpu.get(part, 0.0) + seconds
            result.machine_busy += machine_after[0] - machine_before[0]
            result.machine_total += machine_after[1] - machine_before[1]
            failures.extend(f"{name}: {error}" for error in errors)
            print(f"{name} round {round_ + 1}: {sum(len(r.latencies) for r in runs)} turns in {wall:.1f} s",
                  file=sys.stderr)

        def start_instance_2() -> None:
            cluster.restart(2)
            wait_speech_ready([cluster.stacks[1]])

        def stop_instance_2() -> None:
            cluster.stop_instance(2)
            cluster.wait_states({Cluster.name(2): "DOWN"})

        # ------------------------------------------------------------ measure
        for name in SETUPS[:2]:
            measure(name, 0, warm_up=True)
        for round_ in range(args.rounds):
            measure("single", round_)
            measure("cluster x1", round_)
            start_instance_2()
            if round_ == 0:
                measure("cluster x2", round_, warm_up=True)
            measure("cluster x2", round_)
            if round_ < args.rounds - 1:
                stop_instance_2()

        # ------------------------------------------------------------ memory
        memory.append(("single: `rasa run` + action server", group_status(single.rasa.pid, "VmHWM")
                       + group_status(single.actions.pid, "VmHWM"),
                       group_status(single.rasa.pid, "VmRSS") + group_status(single.actions.pid, "VmRSS")))
        for n, stack in enumerate(cluster.stacks, 1):
            memory.append((f"cluster instance {n}: `rasa run` + action server",
                           group_status(stack.rasa.pid, "VmHWM") + group_status(stack.actions.pid, "VmHWM"),
                           group_status(stack.rasa.pid, "VmRSS") + group_status(stack.actions.pid, "VmRSS")))
        for label, service in (("PostgreSQL (all its processes)", postgres), ("Redis", redis),
                               ("HAProxy", balancer)):
            memory.append((label, group_status(service.process.pid, "VmHWM"),
                           group_status(service.process.pid, "VmRSS")))
    finally:
        if cluster is not None:
            cluster.stop()
        single.stop()
        redis.stop()
        postgres.stop()
        fake.stop()
    print(f"\nbench.cluster: {args.citizens} citizens at once, {args.rounds} round(s), speech "
          f"{'off' if args.no_speech else 'on'}, {time.monotonic() - started:.0f} s in all\n")
    base = pooled["single"]
    base_rate, base_p95 = len(base.times) / base.wall, percentile(base.times, 95)
    print("| set-up | turns | turns/s | p50 ms | p95 ms | p99 ms | lost | duplicated | failed citizens "
          "| turns/s ÷ single | p95 ÷ single |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rates = {}
    for name in SETUPS:
        result = pooled[name]
        rate = len(result.times) / result.wall
        rates[name] = rate
        p50, p95, p99 = (percentile(result.times, q) for q in (50, 95, 99))
        print(f"| {name} | {len(result.times)} | {rate:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {result.lost} | "
              f"{result.duplicated} | {result.failed} | {rate / base_rate:.2f} | {p95 / base_p95:.2f} |")
    print(f"\n2 instances ÷ 1 instance (turns/s): {rates['cluster x2'] / rates['cluster x1']:.2f}")
    print("\n| process group | peak RSS MB | RSS MB at the end |")
    print("|---|---:|---:|")
    for label, peak, now in memory:
        print(f"| {label} | {peak:.0f} | {now:.0f} |")
    print("\nCPU ms per turn, by part (during the measured load; 2 cores = 2000 ms of CPU per wall second;"
          " the machine's other processes are in its last row):\n")
    every = sorted({part for result in pooled.values() for part in result.cpu})
    print("| part | " + " | ".join(SETUPS) + " |")
    print("|---|" + "---:|" * len(SETUPS))
    for part in every:
        cells = []
        for name in SETUPS:
            result = pooled[name]
            seconds = result.cpu.get(part)
            cells.append("–" if not seconds else f"{seconds * 1000 / len(result.times):.1f}")
        if any(cell != "–" for cell in cells):
            print(f"| {part} | " + " | ".join(cells) + " |")
    totals = [sum(pooled[name].cpu.values()) for name in SETUPS]
    print("| **all** | " + " | ".join(f"{t * 1000 / len(pooled[n].times):.1f}" for t, n in zip(totals, SETUPS,
                                                                                             strict=True)) + " |")
    cores = os.cpu_count() or 2
    print(f"| CPU busy, these parts (of {cores} cores) | " + " | ".join(
        f"{t / pooled[n].wall / cores:.0%}" for t, n in zip(totals, SETUPS, strict=True)) + " |")
    print("| CPU busy, the whole machine (every process, /proc/stat) | " + " | ".join(
        f"{pooled[n].machine_busy / pooled[n].machine_total:.0%}" for n in SETUPS) + " |")
    for failure in failures:
        print("FAILED", failure)
    shutil.rmtree(workdir, ignore_errors=True)
    failed = failures or any(pooled[n].lost or pooled[n].duplicated for n in SETUPS)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

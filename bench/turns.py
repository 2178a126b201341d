"""Text turns through Rasa's REST channel (a) and through our WhatsApp webhook (b).

Starts the real stack once (action server, `rasa run` with the trained model and the
WhatsApp channel, the fake Graph API) and has 1, 10 and 50 simulated citizens at once each
do a whole English income-certificate application (10 turns, no think time; at 1 citizen,
5 citizens one after another, so that p95 is not just the slowest of 10 turns), alternately
through REST and WhatsApp (a1, b1, a1, b1, a10, b10, … : two rounds per level, pooled, so
that the machine's noise falls on both; after a warm-up of 2 citizens each).
A REST turn is timed over its request; a WhatsApp turn from just before the signed POST to
the arrival at the fake Graph API of the last reply that turn gives (as many as REST gave
for it; checked 1:1 on the warm-up citizens). After each WhatsApp level, once 3 s pass with
no message, every citizen must have received exactly the replies expected: lost and
duplicated messages are counted. Every citizen must end with an ORT-… reference.

Targets: (b)/(a) ≤ 1.10 at every level; at 1 citizen p95 ≤ 150 ms per turn on 2 cores; no
message lost or duplicated at 50 citizens; whole stack ≤ 2.5 GB peak RSS (`rasa run` with
the WhatsApp channel loads the speech model at start, so its peak includes it).

The per-number rate limit is lifted (WHATSAPP_RATE_BURST=1000, WHATSAPP_RATE_PER_MINUTE=
100000): a citizen sending 10 turns within seconds would otherwise be throttled after the
default burst, which would measure the limiter instead of the turns. The fake Graph API
runs in this process, so at high concurrency its arrival stamps share the GIL with the
simulated citizens' threads.

    .venv/bin/python -m bench.turns [--levels 1,10,50] [--rounds 2] [--solo-runs 5] [--turn-timeout 60]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import percentile, rss_peak_mb  # noqa: E402
from fakegraph.server import FakeGraph, envelope, meta_json, sign, text  # noqa: E402
from seva import reference  # noqa: E402
from tests.e2e.servers import Stack  # noqa: E402

SECRET = "bench-secret"
REFERENCE = reference.PRINTED
SCRIPT = ["hello", "I need an income certificate", "Ramesh Sahu", "Gopal Sahu", "Cuttack", "60000",
          "education", "yes", "what is the status of {ref}", "thank you"]  # typed the same in both modes


@dataclass
class Run:
    latencies: List[float] = field(default_factory=list)  # ms per turn
    counts: List[int] = field(default_factory=list)  # bot messages per turn
    reference: Optional[str] = None
    error: Optional[str] = None
    expected_total: int = 0  # WhatsApp: replies expected for the turns posted


@dataclass
class Level:
    """One channel at one level, pooled over the rounds."""
    times: List[float] = field(default_factory=list)
    wall: float = 0.0
    failed: int = 0
    lost: int = 0
    duplicated: int = 0

    def add(self, runs: List[Run], wall: float) -> None:
        self.times += [ms for run in runs for ms in run.latencies]
        self.wall += wall
        self.failed += sum(1 for run in runs if run.error)


def citizen(turn, sender: str) -> Run:
    """Run the script, ``turn(sender, message, index, run) -> (ms, count, reply text)`` per turn."""
    run = Run()
    try:
        for index, line in enumerate(SCRIPT):
            if "{ref}" in line and not run.reference:
                raise AssertionError("no reference number after confirming")
            ms, count, replies = turn(sender, line.format(ref=run.reference), index, run)
            run.latencies.append(ms)
            run.counts.append(count)
            found = REFERENCE.search(replies)
            run.reference = run.reference or (found.group(0) if found else None)
        if not run.reference:
            raise AssertionError("no reference number")
    except Exception as error:  # one citizen's failure is counted, not fatal
        run.error = f"{sender}: {error.__class__.__name__}: {error}"
    return run


def rest_turn(stack: Stack, expected: Optional[List[int]]):
    def turn(sender, message, index, run):
        start = time.monotonic()
        replies = stack.say(sender, message)
        ms = (time.monotonic() - start) * 1000
        if expected and len(replies) != expected[index]:
            raise AssertionError(f"{message!r}: {len(replies)} replies, expected {expected[index]}")
        return ms, len(replies), " ".join(r.get("text", "") for r in replies)
    return turn


def whatsapp_turn(stack: Stack, fake: FakeGraph, expected: List[int], timeout: float, verify: bool = False):
    def turn(sender, message, index, run):
        payload = envelope([text(sender, message)])
        fake.note_inbound(payload)  # posted here, not by the fake: it must know the citizen wrote
        raw = meta_json(payload)
        request = urllib.request.Request(stack.webhook_url, raw, {"Content-Type": "application/json",
                                                                  "X-Hub-Signature-256": sign(raw, SECRET)})
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        run.expected_total += expected[index]
        total = run.expected_total
        arrived = fake.wait_for_messages(sender, total, timeout)
        if len(arrived) < total:
            raise TimeoutError(f"{message!r}: {len(arrived)} of {total} replies after {timeout:.0f} s")
        if verify:  # the replies of this turn map 1:1 to REST's: nothing more comes
            time.sleep(1.0)
            sent = len(fake.messages_to(sender)) - total + expected[index]
            if sent != expected[index]:
                raise AssertionError(f"{message!r}: WhatsApp sent {sent} bodies, REST {expected[index]} messages")
        bodies = fake.messages_to(sender)[total - expected[index]:total]
        return (arrived[total - 1] - start) * 1000, expected[index], json.dumps(bodies)
    return turn


def quiet(fake: FakeGraph, seconds: float = 3.0) -> None:
    last, since = -1, time.monotonic()
    while time.monotonic() - since < seconds:
        if len(fake.sent) != last:
            last, since = len(fake.sent), time.monotonic()
        time.sleep(0.1)


def play(turn, senders: List[str], one_at_a_time: bool = False):
    started = time.monotonic()
    if one_at_a_time:
        runs = [citizen(turn, sender) for sender in senders]
    else:
        with concurrent.futures.ThreadPoolExecutor(len(senders)) as pool:
            runs = list(pool.map(lambda sender: citizen(turn, sender), senders))
    return runs, time.monotonic() - started


def tree_peak_mb(pid: int):
    """The PIDs of a process and its descendants, and the sum of their peak RSS (VmHWM)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    pids = [pid]
    for known in pids:
        pids += [child for child, parent in parents.items() if parent == known]
    return pids, sum(rss_peak_mb(str(p)) for p in pids)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--solo-runs", type=int, default=5, help="citizens one after another at level 1")
    parser.add_argument("--rounds", type=int, default=2, help="REST then WhatsApp, this many times per level")
    parser.add_argument("--turn-timeout", type=float, default=60.0)
    args = parser.parse_args()
    fake = FakeGraph(app_secret=SECRET).start()
    stack = Stack.for_whatsapp(Path(tempfile.mkdtemp(prefix="bench-turns-")), fake, SECRET,
                               WHATSAPP_RATE_BURST="1000", WHATSAPP_RATE_PER_MINUTE="100000")
    rows, failures, memory = [], [], []
    try:
        stack.start_actions()
        stack.start_rasa()
        warm, _ = play(rest_turn(stack, None), ["919610000000", "919610000001"])
        if any(run.error for run in warm) or warm[0].counts != warm[1].counts:
            sys.exit(f"REST warm-up failed: {[run.error or run.counts for run in warm]} (logs in {stack.workdir})")
        expected = warm[0].counts
        warm, _ = play(whatsapp_turn(stack, fake, expected, args.turn_timeout, verify=True),
                       ["919620000000", "919620000001"])
        if any(run.error for run in warm):
            sys.exit(f"WhatsApp warm-up failed: {[run.error for run in warm]} (logs in {stack.workdir})")
        quiet(fake)
        fake.reset()
        for level in [int(n) for n in args.levels.split(",")]:
            pooled = {1: Level(), 2: Level()}
            for round_ in range(args.rounds):  # a, b, a, b …: machine noise falls on both channels
                for digit in (1, 2):
                    senders = [f"9196{digit}{round_}{level:02d}{i:04d}"
                               for i in range(args.solo_runs if level == 1 else level)]
                    turn = rest_turn(stack, expected) if digit == 1 else \
                        whatsapp_turn(stack, fake, expected, args.turn_timeout)
                    runs, wall = play(turn, senders, one_at_a_time=level == 1)
                    pooled[digit].add(runs, wall)
                    if digit == 2:
                        quiet(fake)
                        got = [len(fake.messages_to(s)) for s in senders]  # play() runs one citizen per sender
                        pairs = list(zip(runs, got, strict=True))
                        pooled[2].lost += sum(max(0, r.expected_total - n) for r, n in pairs)
                        pooled[2].duplicated += sum(max(0, n - r.expected_total) for r, n in pairs)
                        fake.reset()
                    failures += [run.error for run in runs if run.error]
            for digit, channel in ((1, "(a) REST"), (2, "(b) WhatsApp")):
                result = pooled[digit]
                rows.append((level, channel, len(result.times), len(result.times) / result.wall,
                             *(percentile(result.times, q) if result.times else float("nan") for q in (50, 95, 99)),
                             result.lost if digit == 2 else "–", result.duplicated if digit == 2 else "–",
                             result.failed))
        for name, process in (("action server (`rasa run actions`)", stack.actions),
                              ("`rasa run` (model + speech model)", stack.rasa)):
            memory.append((name, *tree_peak_mb(process.pid)))
    finally:
        stack.stop()
        fake.stop()
    print("| citizens | channel | turns | turns/s | p50 ms | p95 ms | p99 ms | lost | duplicated | failed citizens |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level, channel, n, rate, p50, p95, p99, lost, duplicated, failed in rows:
        print(f"| {level} | {channel} | {n} | {rate:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {lost} | "
              f"{duplicated} | {failed} |")
    print("\n| citizens | p50 (b)/(a) | p95 (b)/(a) | p99 (b)/(a) | throughput (a)/(b) |")
    print("|---:|---:|---:|---:|---:|")
    for a, b in zip(rows[::2], rows[1::2], strict=True):  # two rows per level: (a) then (b)
        print(f"| {a[0]} | {b[4] / a[4]:.2f} | {b[5] / a[5]:.2f} | {b[6] / a[6]:.2f} | {a[3] / b[3]:.2f} |")
    print("\n| process | PIDs | peak RSS MB |")
    print("|---|---|---:|")
    for name, pids, mb in memory:
        print(f"| {name} | {', '.join(map(str, pids))} | {mb:.0f} |")
    print(f"| whole stack | | {sum(mb for _, _, mb in memory):.0f} |")
    for failure in failures:
        print("FAILED", failure)
    return 1 if failures or any(row[7] or row[8] for row in rows if row[1].startswith("(b)")) else 0


if __name__ == "__main__":
    sys.exit(main())

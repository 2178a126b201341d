"""How fast the WhatsApp webhook answers 200 (Meta wants a median under 250 ms).

Starts the real stack (action server, `rasa run` with the trained model, the fake Graph
API), POSTs N signed webhook notifications from 50 senders, and times each request until
its 200, while the bot works through the same messages in the background. Each 200 comes
after the message is written to the durable inbox (channels/inbox.py). The per-number
rate limit is lifted so that every message is really processed (the bot stays busy) rather
than refused.

    .venv/bin/python -m bench.webhook_ack [--posts 2000] [--concurrency 1,10]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import percentile  # noqa: E402
from fakegraph.server import FakeGraph, envelope, meta_json, sign, text  # noqa: E402
from tests.e2e.servers import Stack  # noqa: E402

SECRET = "bench-secret"


def post_once(url: str, raw: bytes) -> float:
    request = urllib.request.Request(url, raw, {"Content-Type": "application/json",
                                                "X-Hub-Signature-256": sign(raw, SECRET)})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        assert response.status == 200
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,10")
    args = parser.parse_args()
    fake = FakeGraph(app_secret=SECRET).start()
    stack = Stack.for_whatsapp(Path(tempfile.mkdtemp(prefix="bench-ack-")), fake, SECRET,
                               WHATSAPP_RATE_BURST="100000", WHATSAPP_RATE_PER_MINUTE="1000000")
    rows = []
    # The posts below play Meta, not the fake: tell it these citizens wrote, or it refuses the replies.
    for sender in ["919999999999", *(f"9197{n:08d}" for n in range(50))]:
        fake.customer_wrote(sender, time.time())
    try:
        stack.start_actions()
        stack.start_rasa()
        for _ in range(20):  # warm-up
            post_once(stack.webhook_url, meta_json(envelope([text("919999999999", "/thank")])))
        for level in [int(c) for c in args.concurrency.split(",")]:
            bodies = [meta_json(envelope([text(f"9197{n % 50:08d}", "/thank")])) for n in range(args.posts)]
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(level) as pool:
                times = list(pool.map(lambda raw: post_once(stack.webhook_url, raw), bodies))
            wall = time.perf_counter() - started
            rows.append((level, len(times), statistics.median(times), percentile(times, 95), percentile(times, 99),
                         max(times), len(times) / wall))
    finally:
        stack.stop()
        fake.stop()
    print("| concurrent posters | POSTs | p50 ms | p95 ms | p99 ms | max ms | POSTs/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for level, n, p50, p95, p99, worst, rate in rows:
        print(f"| {level} | {n} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {worst:.1f} | {rate:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

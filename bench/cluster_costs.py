"""What one WhatsApp turn costs the shared parts of a cluster: PostgreSQL and Redis.

Starts private PostgreSQL and Redis (cluster/services.py) and one instance (action server +
`rasa run`) behind HAProxy (tests/e2e/cluster_stack.py), with the fake Graph API sending
Meta's "sent" status webhooks. Measures, from the servers' own counters:

- PostgreSQL (``pg_stat_database`` of the cluster's database): transactions committed, rows
  inserted / updated / deleted per turn; per table (``pg_stat_user_tables``) rows read by
  scans and index fetches and rows written (the database-wide read count also holds the
  catalog reads of these very queries, so it is not shown);
- Redis (``INFO stats`` ``total_commands_processed``) per turn;
- both again per second while the cluster is idle (the inbox's polls and lease renewals).

The turns: citizens at once, each doing a whole English income-certificate application
(bench/turns.py's script: 10 turns, submission and a status check included), a turn sent
when the previous one is answered. Voice notes are not included (speech is off).

    .venv/bin/python -m bench.cluster_costs [--citizens 20] [--idle 10]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.turns import SCRIPT  # noqa: E402
from cluster.services import Postgres, Redis  # noqa: E402
from fakegraph.server import FakeGraph, envelope, text  # noqa: E402
from seva import reference  # noqa: E402
from tests.e2e.cluster_stack import Cluster  # noqa: E402

SECRET = "bench-secret"
UNLIMITED = {"WHATSAPP_RATE_BURST": "1000", "WHATSAPP_RATE_PER_MINUTE": "100000", "SPEECH_ENABLED": "false"}


def pg_counters(postgres: Postgres, database: str):
    with postgres.connect(database) as conn, conn.cursor() as cur:
        cur.execute("select pg_stat_clear_snapshot()")
        cur.execute("select xact_commit, tup_inserted, tup_updated, tup_deleted "
                    "from pg_stat_database where datname = current_database()")
        return cur.fetchone()


def table_reads(postgres: Postgres, database: str):
    """Rows read per table (sequential scans + index fetches) and sequential scans."""
    with postgres.connect(database) as conn, conn.cursor() as cur:
        cur.execute("select pg_stat_clear_snapshot()")
        cur.execute("select relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0), seq_scan, "
                    "n_tup_ins + n_tup_upd + n_tup_del from pg_stat_user_tables")
        return {name: (reads, scans, writes) for name, reads, scans, writes in cur.fetchall()}


def redis_commands(redis: Redis) -> int:
    return int(redis.client().info("stats")["total_commands_processed"])


def snapshot(postgres, database, redis):
    time.sleep(1.0)  # PostgreSQL's statistics collector reports at most every 500 ms
    return (*pg_counters(postgres, database), redis_commands(redis))


def citizen(cluster: Cluster, fake: FakeGraph, sender: str) -> int:
    ref = None
    for line in SCRIPT:
        if "{ref}" in line:
            line = line.format(ref=ref or "ORT-0000-000000")
        message = text(sender, line)
        assert fake.deliver(envelope([message]))[-1] == 200
        cluster.wait_answered([message["id"]], timeout=300)
        for body in fake.messages_to(sender):
            found = reference.find_in(str(body))
            ref = found or ref
    return len(SCRIPT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seva-bench-costs-", dir="/tmp") as folder:
        work = Path(folder)
        work.chmod(0o755)  # PostgreSQL runs as its own user when we are root
        with Postgres(work / "postgres") as postgres, Redis(work / "redis") as redis:
            database = "costs"
            url = postgres.fresh_database(database)
            fake = FakeGraph(app_secret=SECRET, send_statuses=True).start()
            cluster = Cluster(work / "cluster", fake, SECRET, url, redis.url, instances=1, **UNLIMITED)
            try:
                cluster.start()
                citizen(cluster, fake, "919000000000")  # warm-up
                before = snapshot(postgres, database, redis)
                tables_before = table_reads(postgres, database)
                started = time.monotonic()
                with concurrent.futures.ThreadPoolExecutor(args.citizens) as pool:
                    turns = sum(pool.map(lambda n: citizen(cluster, fake, f"9190000{n:05d}"), range(args.citizens)))
                busy = time.monotonic() - started
                after = snapshot(postgres, database, redis)
                tables_after = table_reads(postgres, database)
                idle_before = snapshot(postgres, database, redis)
                time.sleep(args.idle)
                idle_after = snapshot(postgres, database, redis)
            finally:
                cluster.stop()
                fake.stop()
    names = ["transactions", "rows inserted", "rows updated", "rows deleted", "Redis commands"]
    idle_seconds = args.idle + 1.0
    print(f"{turns} turns by {args.citizens} citizens at once through 1 instance in {busy:.1f} s "
          f"({turns / busy:.1f} turns/s); idle {idle_seconds:.0f} s")
    print("| per | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, end, start, per in (("turn", after, before, turns),
                                   ("idle second", idle_after, idle_before, idle_seconds)):
        print(f"| {label} | " + " | ".join(f"{(a - b) / per:.1f}" for a, b in zip(end, start, strict=True)) + " |")
    print("\n| table | rows read per turn | sequential scans per turn | rows written per turn |")
    print("|---|---|---|---|")
    delta = {name: [(a - b) / turns for a, b in zip(tables_after[name], tables_before.get(name, (0, 0, 0)),
                                                     strict=True)] for name in tables_after}
    for name, (reads, scans, writes) in sorted(delta.items(), key=lambda item: -item[1][0] - item[1][2]):
        if reads or scans or writes:
            print(f"| {name} | {reads:.1f} | {scans:.2f} | {writes:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

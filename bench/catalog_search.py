"""Service search over the whole catalog: latency per query and action-server memory.

Three catalogs in one run, so the cost of size shows as a ratio against the baseline:
  hand-written  only ``catalog/services/`` (the 47 entries written by hand; baseline)
  full          the real catalog (hand-written + every imported ORTPSA row)
  synthetic-N   the full catalog padded with generated services up to N (default 429,
                the announced total), names realistic in shape but invented

Latency: every query of ``tests/data/search_queries.tsv`` (5 language forms) through
``ServiceIndex.resolve`` — what the action runs for a free-text service mention — repeated
``--rounds`` times after a warm-up. Memory: peak RSS (VmHWM) of the real action server
(``rasa run actions``) after it has answered a service lookup with that catalog loaded.

    .venv/bin/python -m bench.catalog_search [--rounds 5] [--synthetic 429]
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import percentile, rss_peak_mb  # noqa: E402
from seva.catalog import DEFAULT_DIR, load  # noqa: E402
from seva.search import ServiceIndex  # noqa: E402
from tests.e2e.servers import Stack  # noqa: E402

QUERIES = ROOT / "tests" / "data" / "search_queries.tsv"

# Pieces of synthetic service names, shaped like the ORTPSA list (action + object + office).
_ACTIONS = ["Issue of", "Renewal of", "Registration of", "Sanction of", "Approval of", "Grant of",
            "Permission for", "Disposal of application for", "Certified copy of", "Transfer of"]
_OBJECTS = ["fishing boat licence", "cold storage registration", "handloom weaver card", "tourist guide licence",
            "fire safety certificate", "bore well permission", "tree felling permit", "brick kiln consent",
            "warehouse licence", "rice mill registration", "school recognition", "hostel grant",
            "dairy unit subsidy", "poultry farm licence", "cinema licence", "lodging house licence",
            "sand mining lease", "weights and measures licence", "food business registration",
            "dealer licence for kerosene"]
_OFFICES = ["", " (block level)", " (district level)", " (urban local body)", " (state level)"]
_ODIA = ["ଲାଇସେନ୍ସ", "ପଞ୍ଜୀକରଣ", "ଅନୁମତି", "ପ୍ରମାଣପତ୍ର", "ନବୀକରଣ"]
_HINDI = ["लाइसेंस", "पंजीकरण", "अनुमति", "प्रमाण पत्र", "नवीनीकरण"]


def synthetic_catalog(target: int, workdir: Path) -> Path:
    """A copy of the real catalog plus invented services up to ``target`` entries."""
    folder = workdir / f"catalog-synthetic-{target}"
    shutil.copytree(DEFAULT_DIR, folder)
    have = len(load(DEFAULT_DIR).services)
    rng = random.Random(429)
    combos = [f"{a} {o}{f}" for a in _ACTIONS for o in _OBJECTS for f in _OFFICES]
    rng.shuffle(combos)
    services = []
    for n, name in enumerate(combos[:max(0, target - have)]):
        services.append({
            "id": f"synthetic_{n:03d}",
            "names": {"en": name, "hi": f"{rng.choice(_HINDI)} {n}", "or": f"{rng.choice(_ODIA)} {n}"},
            "official_name": name,
            "synonyms": [name.split(" of ")[-1]],
            "time_limit_days": rng.choice([7, 15, 30, 60]),
            "source": {"url": "https://example.invalid/synthetic"},
            "vintage": "synthetic",
        })
    (folder / "services" / "zz_synthetic.yml").write_text(
        yaml.safe_dump({"department": "revenue", "services": services}, allow_unicode=True), encoding="utf-8")
    return folder


def hand_written_catalog(workdir: Path) -> Path:
    folder = workdir / "catalog-hand-written"
    shutil.copytree(DEFAULT_DIR, folder)
    shutil.rmtree(folder / "imported", ignore_errors=True)
    return folder


def queries() -> List[str]:
    with QUERIES.open(encoding="utf-8", newline="") as handle:
        return [row["query"] for row in csv.DictReader(handle, delimiter="\t")]


def time_search(folder: Path, texts: List[str], rounds: int) -> Dict[str, float]:
    catalog = load(folder)
    start = time.perf_counter()
    index = ServiceIndex(catalog)
    build_ms = (time.perf_counter() - start) * 1000
    for text in texts:  # warm-up
        index.resolve(text)
    times = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            index.resolve(text)
            times.append((time.perf_counter() - start) * 1000)
    return {"services": len(catalog.services), "build": build_ms, "n": len(times),
            "p50": statistics.median(times), "p95": percentile(times, 95), "p99": percentile(times, 99),
            "max": max(times)}


def action_server_rss(folder: Path, workdir: Path) -> float:
    """Peak RSS in MB of ``rasa run actions`` after one free-text service lookup."""
    (workdir / f"stack-{folder.name}").mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir / f"stack-{folder.name}", extra_env={"SEVA_CATALOG_DIR": str(folder)})
    try:
        stack.start_actions()
        body = json.dumps({
            "next_action": "action_service_info", "sender_id": "919999999999", "domain": {},
            "tracker": {"sender_id": "919999999999", "slots": {"language": "en"},
                        "latest_message": {"text": "income certificate kitne din", "intent": {"name": "service_info"},
                                           "entities": []},
                        "events": [], "active_loop": {}, "latest_action_name": "action_listen"},
        }).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{stack.actions_port}/webhook", body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert any("15" in (r.get("text") or "") for r in answer.get("responses", [])), answer
        return rss_peak_mb(str(stack.actions.pid))
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--synthetic", type=int, default=429)
    parser.add_argument("--no-memory", action="store_true", help="skip starting action servers")
    args = parser.parse_args()
    texts = queries()
    workdir = Path(tempfile.mkdtemp(prefix="bench-search-"))
    catalogs = [("hand-written", hand_written_catalog(workdir)), ("full", DEFAULT_DIR),
                (f"synthetic-{args.synthetic}", synthetic_catalog(args.synthetic, workdir))]
    results = []
    for label, folder in catalogs:
        row = time_search(folder, texts, args.rounds)
        row["rss"] = None if args.no_memory else action_server_rss(folder, workdir)
        results.append((label, row))
    base = results[0][1]
    print(f"{len(texts)} queries x {args.rounds} rounds through ServiceIndex.resolve; times in ms\n")
    print("| catalog | services | index build | p50 | p95 | p99 | max | p95 / baseline "
          "| action server peak RSS MB | RSS / baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, row in results:
        rss = "–" if row["rss"] is None else f"{row['rss']:.0f}"
        rss_ratio = "–" if row["rss"] is None else f"{row['rss'] / base['rss']:.2f}"
        print(f"| {label} | {row['services']} | {row['build']:.0f} | {row['p50']:.2f} | {row['p95']:.2f} "
              f"| {row['p99']:.2f} | {row['max']:.2f} | {row['p95'] / base['p95']:.2f} | {rss} | {rss_ratio} |")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What `make review` costs as conversations pile up.

Fills a SQLite tracker store (Rasa's own SQLTrackerStore) with ``N`` synthetic conversations
of the kinds the page looks for — a greeting and an income-certificate form with two
answers, a third of them cancelled, a third with a fallback — then times
``review.build.build`` without the model reports (cached after the first run; the first
costs one `rasa test nlu`, ~35 s). The smallest N is the baseline of the ratios.

    .venv/bin/python -m bench.review [--sizes 100,1000]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def conversation(n: int, start: float) -> List[Dict[str, Any]]:
    """One citizen's events, as `rasa run` and the action server write them."""
    t = start
    events: List[Dict[str, Any]] = []

    def add(event: Dict[str, Any]) -> None:
        nonlocal t
        t += 1
        events.append({**event, "timestamp": t})

    def user(text: str, intent: str, confidence: float) -> None:
        add({"event": "user", "text": text, "parse_data": {
            "intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text,
            "intent_ranking": [{"name": intent, "confidence": confidence}]}})

    add({"event": "action", "name": "action_session_start"})
    add({"event": "session_started"})
    add({"event": "action", "name": "action_listen"})
    user("ନମସ୍କାର", "greet", 1.0)
    add({"event": "slot", "name": "language", "value": "or"})
    add({"event": "action", "name": "utter_greet"})
    add({"event": "bot", "text": "ନମସ୍କାର", "metadata": {"utter_action": "utter_greet"}})
    add({"event": "action", "name": "action_listen"})
    if n % 3 == 1:
        user("ଏ", "nlu_fallback", 0.3)
        add({"event": "action", "name": "utter_default"})
        add({"event": "bot", "text": "…", "metadata": {"utter_action": "utter_default"}})
        add({"event": "action", "name": "action_listen"})
    user("ମୋତେ ଆୟ ପ୍ରମାଣପତ୍ର ଦରକାର", "apply_service", 1.0)
    add({"event": "action", "name": "action_resolve_service"})
    add({"event": "slot", "name": "service", "value": "income_certificate"})
    add({"event": "slot", "name": "draft_id", "value": f"d{n}"})
    add({"event": "action", "name": "application_form"})
    add({"event": "active_loop", "name": "application_form"})
    add({"event": "slot", "name": "requested_slot", "value": "field_answer"})
    add({"event": "action", "name": "action_listen"})
    answers: Dict[str, Any] = {}
    for field, text in (("applicant_name", f"ରମେଶ {n}"), ("father_name", "ଗୋପାଳ")):
        user(text, "inform", 0.99)
        answers[field] = text
        add({"event": "action", "name": "application_form"})
        add({"event": "slot", "name": "answers", "value": dict(answers)})
        add({"event": "slot", "name": "requested_slot", "value": "field_answer"})
        add({"event": "action", "name": "action_listen"})
    if n % 3 == 2:
        user("ବାତିଲ", "cancel", 1.0)
        add({"event": "action", "name": "action_cancel"})
        add({"event": "active_loop", "name": None})
        add({"event": "slot", "name": "requested_slot", "value": None})
        add({"event": "action", "name": "action_listen"})
    return events


def fill(db: Path, size: int) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    start = time.time() - size * 60 - 7200  # every conversation over by now (an open form counts as abandoned)
    for n in range(size):
        events = [Event.from_parameters(e) for e in conversation(n, start + n * 60)]
        asyncio.run(store.save(DialogueStateTracker.from_events(f"9194370{n:05d}", events, domain.slots)))
    store.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000")
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)
    from review.build import build

    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "tracker.db"
            fill(db, size)
            endpoints = Path(folder) / "endpoints.yml"
            endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n", encoding="utf-8")
            started = time.perf_counter()
            summary = build(Path(folder) / "page", endpoints=endpoints, reports=False)
            seconds = time.perf_counter() - started
            size_kb = summary.page.stat().st_size / 1024
            rows.append((size, seconds, summary.flagged, size_kb))
    base = rows[0][1] / rows[0][0]
    print("| conversations | build s | ms per conversation | × smallest (per conversation) | flagged | page KB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size, seconds, flagged, size_kb in rows:
        per = seconds / size
        print(f"| {size} | {seconds:.1f} | {per * 1000:.1f} | {per / base:.2f} | {flagged} | {size_kb:.0f} |")


if __name__ == "__main__":
    main()

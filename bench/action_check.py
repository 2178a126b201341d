"""Rasa's check of an action-server response: Rasa 3.6's own call vs the prebuilt validator.

Rasa runs this check once per custom action (a form turn runs one or two). Both checks
are timed in one run on the same responses (a form step, a service card with buttons).

    .venv/bin/python -m bench.action_check [--calls 200]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa.core.actions.action import RemoteAction  # noqa: E402

from bench.measure import percentile  # noqa: E402
from components import action_response_check  # noqa: E402

RESPONSES = {
    "form step": {"events": [{"event": "slot", "name": "applicant_name", "value": "Ramesh Sahu", "timestamp": None},
                             {"event": "slot", "name": "requested_slot", "value": "father_name", "timestamp": None}],
                  "responses": []},
    "service card": {"events": [{"event": "slot", "name": "service_id", "value": "income-certificate",
                                 "timestamp": None}],
                     "responses": [{"text": "*Income certificate* …", "buttons": [
                         {"title": f"option {n}", "payload": f"/choose{{\"n\":{n}}}"} for n in range(3)]}]},
}


def timed(check, result, calls):
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        check(result)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    action = RemoteAction("validate_application_form", None)
    checks = {"Rasa 3.6 (jsonschema.validate)": lambda r: action_response_check._UPSTREAM(action, r),
              "prebuilt validator": lambda r: action_response_check.validate_action_result(action, r)}
    print("| response | check | p50 ms | p95 ms | ratio p50 |")
    print("|---|---|---:|---:|---:|")
    for name, result in RESPONSES.items():
        rows = {label: timed(check, result, args.calls) for label, check in checks.items()}
        base = statistics.median(rows["Rasa 3.6 (jsonschema.validate)"])
        for label, times in rows.items():
            print(f"| {name} | {label} | {statistics.median(times):.2f} | {percentile(times, 95):.2f} | "
                  f"{statistics.median(times) / base:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

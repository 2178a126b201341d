"""The shipped model on the held-out NLU set, per language form (``tests/nlu/``).

Fails when any form's intent accuracy drops below its threshold in
``tests/nlu/thresholds.yml``. The thresholds sit at or under the lowest accuracy
`bench/nlu_seeds.py` measured over several DIET seeds (docs/nlu-seeds.md), so a regression
bigger than seed noise in the training data, the pipeline or the normaliser is caught, and
an unrelated change is not failed by the seed's luck; raise them when the model gets better.
"""
from pathlib import Path

import pytest
import yaml

from tests.e2e.servers import MODEL
from tests.nlu_heldout import FORMS, load_heldout, parse_all, score

THRESHOLDS = Path(__file__).resolve().parents[1] / "nlu" / "thresholds.yml"


def test_intent_accuracy_per_form_stays_above_its_threshold():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    examples = load_heldout()
    predicted = [p["intent"]["name"] for p in parse_all(MODEL, examples)]
    results = score(examples, predicted)
    thresholds = yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8"))["accuracy"]
    print()
    for form in (*FORMS, "overall"):
        print(f"{form:8} accuracy {results[form]['accuracy']:.3f}  macro-F1 {results[form]['macro_f1']:.3f}"
              f"  (threshold {thresholds[form]}, {results[form]['n']} messages)")
    misses = [f"  [{ex.form}] {ex.text!r}: {ex.intent} -> {p}"
              for ex, p in zip(examples, predicted, strict=True) if ex.intent != p]
    print("misclassified:", *misses, sep="\n")
    low = {f: round(results[f]["accuracy"], 3) for f in (*FORMS, "overall") if results[f]["accuracy"] < thresholds[f]}
    assert not low, f"below threshold: {low}"

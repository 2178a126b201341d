"""How much the held-out accuracy moves with DIET's random seed alone, on the same data.

The held-out gate (tests/nlu/thresholds.yml) is only useful if a threshold sits below what
seed noise does to an unchanged model: otherwise any unrelated change (an intent named in
a rule changes the label vocabulary and so DIET's initialisation) fails it by chance. This
trains the project pipeline (``config.yml``) on ``data/`` once per seed and prints each
form's accuracy per seed, with the mean, minimum and maximum.

    .venv/bin/python -m bench.nlu_seeds [--seeds 1,2,3,4] [--out FILE]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
from pathlib import Path
from typing import List

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.nlu_eval import train  # noqa: E402
from tests.nlu_heldout import FORMS, load_heldout, parse_all, score  # noqa: E402


def seeded_pipeline(seed: int) -> List[dict]:
    pipeline = copy.deepcopy(yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"])
    for component in pipeline:
        if component["name"] == "DIETClassifier":
            component["random_seed"] = seed
    return pipeline


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    examples = load_heldout()
    columns = (*FORMS, "overall")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            model, seconds = train(f"seed-{seed}", seeded_pipeline(seed), Path(tmp))
            predicted = [p["intent"]["name"] for p in parse_all(model, examples)]
            results = score(examples, predicted)
            rows[seed] = [results[c]["accuracy"] for c in columns]
            print(f"seed {seed}: " + "  ".join(f"{c} {a:.3f}" for c, a in zip(columns, rows[seed], strict=True))
                  + f"  ({seconds:.0f} s)", flush=True)
    lines = ["| DIET seed | " + " | ".join(columns) + " |", "|---:|" + "---:|" * len(columns)]
    lines += [f"| {seed} | " + " | ".join(f"{a:.3f}" for a in accs) + " |" for seed, accs in rows.items()]
    per_form = list(zip(*rows.values(), strict=True))
    for label, fn in (("mean", statistics.mean), ("min", min), ("max", max)):
        lines.append(f"| {label} | " + " | ".join(f"{fn(v):.3f}" for v in per_form) + " |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Intent accuracy per language form on the held-out set, for several NLU pipelines.

Each pipeline is trained here on the same training data (``data/``) with the same seed,
then asked every message of ``tests/nlu/<form>.yml`` (never used for training). Forms:
en, hi (Devanagari), hi-latn (romanised Hindi), or (Odia script), or-latn (romanised Odia).

Pipelines:
  project              the pipeline of ``config.yml`` (with the IndicNormalizer)
  project-no-normaliser the same without the IndicNormalizer (what it adds)
  rasa-default         Rasa 3.6's default pipeline (``rasa init``), DIET at the same
                       epochs and seed
  project-raw-chars    the project pipeline plus char n-grams of the text as written
  project-native-only  the normaliser folding native script only (Latin kept as typed)

Writes a markdown report (default ``docs/nlu-results.md``) with accuracy and macro-F1 per
form, the ratio project / rasa-default, a fallback-threshold table and Rasa's confusion
matrix image for each pipeline.

    .venv/bin/python -m bench.nlu_eval [--pipelines project,rasa-default] [--out FILE]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.nlu_heldout import FORMS, Example, load_heldout, parse_all, score  # noqa: E402

FALLBACK = "nlu_fallback"
RASA_DEFAULT_PIPELINE = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 100, "random_seed": 42, "constrain_similarities": True},
    {"name": "EntitySynonymMapper"},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


def pipelines() -> Dict[str, List[dict]]:
    project = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    without = [c for c in copy.deepcopy(project) if not c["name"].endswith("IndicNormalizer")]
    # the project pipeline plus character n-grams of the text as written (not normalised)
    raw_chars = copy.deepcopy(project)
    at = max(i for i, c in enumerate(raw_chars) if c["name"] == "CountVectorsFeaturizer") + 1
    raw_chars.insert(at, {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1,
                          "max_ngram": 4, "use_lemma": False})
    # the normaliser folding only native script, Latin words kept as typed
    native_only = copy.deepcopy(project)
    for component in native_only:
        if component["name"].endswith("IndicNormalizer"):
            component["fold_latin"] = False
    return {"project": project, "project-no-normaliser": without, "rasa-default": RASA_DEFAULT_PIPELINE,
            "project-raw-chars": raw_chars, "project-native-only": native_only}


def train(name: str, pipeline: List[dict], workdir: Path) -> Tuple[Path, float]:
    config = {"recipe": "default.v1", "language": "en", "assistant_id": f"nlu-eval-{name}",
              "pipeline": pipeline, "policies": []}
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    start = time.perf_counter()
    # no training cache: every pipeline trains from scratch (fair times, nothing shared)
    env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0", "RASA_CACHE_DIRECTORY": str(workdir / f"cache-{name}")}
    subprocess.run([str(ROOT / ".venv" / "bin" / "rasa"), "train", "nlu", "--config", str(config_path),
                    "--nlu", str(ROOT / "data"), "--out", str(workdir), "--fixed-model-name", name,
                    "--quiet"], cwd=ROOT, check=True, env=env)
    return workdir / f"{name}.tar.gz", time.perf_counter() - start


def raw_top(parse: dict) -> Tuple[str, float]:
    """The classifier's own best intent, before the FallbackClassifier replaced it."""
    for item in parse.get("intent_ranking") or []:
        if item["name"] != FALLBACK:
            return item["name"], float(item["confidence"])
    return FALLBACK, 0.0


def confusion_image(name: str, examples: List[Example], predicted: List[str], out: Path) -> None:
    from rasa.utils.plotting import plot_confusion_matrix
    from sklearn.metrics import confusion_matrix

    labels = sorted({ex.intent for ex in examples} | set(predicted))
    matrix = confusion_matrix([ex.intent for ex in examples], predicted, labels=labels)
    plot_confusion_matrix(matrix, classes=labels, title=f"Intent confusion matrix: {name}", output_file=str(out))


def fallback_table(examples: List[Example], parses: List[dict]) -> List[str]:
    rows = ["| threshold | accuracy | right answers lost to fallback | wrong answers caught |",
            "|---:|---:|---:|---:|"]
    tops = [raw_top(p) for p in parses]
    for threshold in (0.3, 0.4, 0.45, 0.5, 0.6, 0.7):
        right = lost = caught = 0
        for ex, (intent, conf) in zip(examples, tops, strict=True):
            if conf < threshold:
                lost += intent == ex.intent
                caught += intent != ex.intent
            else:
                right += intent == ex.intent
        rows.append(f"| {threshold:.2f} | {right / len(examples):.3f} | {lost} | {caught} |")
    return rows


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", default="project,project-no-normaliser,rasa-default")
    parser.add_argument("--out", default=str(ROOT / "docs" / "nlu-results.md"))
    args = parser.parse_args(argv)
    chosen = args.pipelines.split(",")
    available = pipelines()
    out = Path(args.out)
    image_dir = out.parent / "nlu"
    image_dir.mkdir(parents=True, exist_ok=True)

    results: Dict[str, Dict[str, Dict[str, float]]] = {}
    extra: Dict[str, List[str]] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as tmp:
        models = {name: train(name, available[name], Path(tmp)) for name in chosen}
        examples = load_heldout()
        for name in chosen:
            model, seconds = models[name]
            parses = parse_all(model, examples)
            predicted = [p["intent"]["name"] if p.get("intent") else FALLBACK for p in parses]
            results[name] = score(examples, predicted)
            results[name]["_train_s"] = {"value": seconds}
            confusion_image(name, examples, predicted, image_dir / f"confusion-{name}.png")
            extra[name] = fallback_table(examples, parses)
            print(f"{name}: trained in {seconds:.0f} s; overall accuracy {results[name]['overall']['accuracy']:.3f}",
                  flush=True)

    command = ".venv/bin/python -m bench.nlu_eval" + (f" --pipelines {args.pipelines}"
                                                       if args.pipelines != parser.get_default("pipelines") else "")
    lines = ["# NLU results on the held-out set", "",
             f"`{command}` (machine: 2 cores, no GPU; written by the command).", "",
             f"Held-out messages: {len(examples)} in `tests/nlu/` (never used for training), "
             + ", ".join(f"{f}: {sum(ex.form == f for ex in examples)}" for f in FORMS) + ".",
             "Accuracy counts a message sent to `nlu_fallback` as wrong. Macro-F1 is over the intents of each form.",
             "", "| pipeline | " + " | ".join(f"{f} acc / F1" for f in (*FORMS, "overall")) + " | training s |",
             "|---|" + "---:|" * (len(FORMS) + 2)]
    for name in chosen:
        r = results[name]
        cells = [f"{r[f]['accuracy']:.3f} / {r[f]['macro_f1']:.3f}" for f in (*FORMS, "overall")]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r['_train_s']['value']:.0f} |")
    if "project" in results and "rasa-default" in results:
        project, default = results["project"], results["rasa-default"]
        lines += ["", "Ratio project / rasa-default (accuracy):", "",
                  "| " + " | ".join((*FORMS, "overall")) + " |", "|" + "---:|" * (len(FORMS) + 1),
                  "| " + " | ".join(f"{project[f]['accuracy'] / max(default[f]['accuracy'], 1e-9):.2f}"
                                    for f in (*FORMS, "overall")) + " |"]
    for name in chosen:
        lines += ["", f"## {name}", "", "FallbackClassifier threshold on the classifier's own confidence "
                  "(what each threshold would do to the held-out set):", "", *extra[name], "",
                  f"![confusion matrix {name}](nlu/confusion-{name}.png)"]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (image_dir / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

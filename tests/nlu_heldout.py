"""The held-out NLU set (``tests/nlu/<form>.yml``) and how it is scored.

Never train on these files: they measure how the model generalises to messages it has not
seen, per language form. Shared by ``bench/nlu_eval.py`` (compares pipelines) and
``tests/e2e/test_nlu_heldout.py`` (guards the shipped model in ``make test``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import yaml

DIRECTORY = Path(__file__).resolve().parent / "nlu"
FORMS = ("en", "hi", "hi-latn", "or", "or-latn")


@dataclass(frozen=True)
class Example:
    form: str
    intent: str
    text: str


def load_heldout(directory: Path = DIRECTORY) -> List[Example]:
    examples = []
    for form in FORMS:
        data = yaml.safe_load((directory / f"{form}.yml").read_text(encoding="utf-8"))
        for block in data["nlu"]:
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append(Example(form, block["intent"], line[2:].strip()))
    return examples


def score(examples: List[Example], predicted: List[str]) -> Dict[str, Dict[str, float]]:
    """Accuracy and macro-F1 per form and overall; a fallback prediction counts as wrong."""
    from sklearn.metrics import f1_score

    out: Dict[str, Dict[str, float]] = {}
    for form in (*FORMS, "overall"):
        pairs = [(ex.intent, p) for ex, p in zip(examples, predicted, strict=True) if form in (ex.form, "overall")]
        gold = [g for g, _ in pairs]
        pred = [p for _, p in pairs]
        out[form] = {
            "n": len(pairs),
            "accuracy": sum(g == p for g, p in pairs) / len(pairs),
            "macro_f1": float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0)),
        }
    return out


def parse_all(model: Path, examples: List[Example]) -> List[Dict[str, Any]]:
    """Rasa's parse result (intent after fallback, and the ranking) for every example."""
    import asyncio
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not one debug line per parsed message
    agent = Agent.load(str(model))

    async def run() -> List[Dict[str, Any]]:
        return [await agent.parse_message(ex.text) for ex in examples]

    return asyncio.run(run())

"""The committed test clips and what each should produce (speech/fixtures/clips.tsv)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from seva.textnorm import latin_key

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Clip:
    name: str
    language: str
    expect: str  # "speech" or an Outcome value
    keywords: Tuple[Tuple[str, ...], ...]  # every group must be heard; any word of a group will do
    text: str

    @property
    def path(self) -> Path:
        return FIXTURES / self.name


def load_manifest(path: Path = FIXTURES / "clips.tsv") -> List[Clip]:
    clips = []
    with open(path, encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            name, language, expect, keys, text = row
            groups = tuple(tuple(w for w in group.split("|") if w) for group in keys.split(";") if group)
            clips.append(Clip(name, language, expect, groups, text))
    return clips


def keywords_heard(transcript: str, keywords) -> bool:
    """Whether every key-word group has a word in the transcript (on the Latin key, so
    'प्रमाण', 'ପ୍ରମାଣ' and 'praman' all count)."""
    key = latin_key(transcript)
    return all(any(latin_key(word) in key for word in group) for group in keywords)

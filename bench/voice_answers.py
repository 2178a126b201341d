"""How well voice notes are heard where the bot expects an answer, per language and type.

For every clip: the answers its turn expects (as the WhatsApp channel builds them), the
evidence of each (speech/matcher.py), and what the bot would do (speech/answers.decide):
take an answer, offer the likeliest three, or say it did not understand. Three sets:

- synthetic: speech/fixtures/answers (espeak-ng voices, some with noise; one rendering per
  row) or ``--clips DIR`` made by speech/fixtures/make_answer_clips.py (e.g. all six);
  clips that say nothing expected are played to the opening, district and yes/no turns;
- real: ../shared/voice-dev (people, not synthetic): every clip played to the opening,
  district and yes/no turns of its language (none of them says an expected answer, so
  anything taken is a wrong accept), and the Hindi clips with transcripts as a choice
  among all their transcripts (positives on real voices: a citizen saying one of the
  options, in their own words and voice);
- English runs through free transcription first, as the channel does (the expected
  answer is only a help there).

    .venv/bin/python -m bench.voice_answers                 # committed clips + real
    .venv/bin/python -m bench.voice_answers --clips /tmp/answers --json /tmp/scores.json

Columns: top-1 = the best-scored answer is right (whether or not it was taken); taken
right / taken wrong = the bot acted on it (wrong = a wrong accept, the number to keep at
zero); offered = not taken but among the three buttons offered; refused = "I could not
understand" (or, for free text, "please type").
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seva import voice_expectations as answers  # noqa: E402
from seva.catalog import default_catalog  # noqa: E402
from seva.spoken_numbers import parse_date_words, parse_number  # noqa: E402
from seva.validators import match_district, parse_date, parse_yes_no  # noqa: E402
from speech.answers import decide  # noqa: E402
from speech.grammar import Answer, Expected, Phrase  # noqa: E402
from speech.recognizer import SpeechRecognizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "speech" / "fixtures" / "answers"
REAL = ROOT.parent / "shared" / "voice-dev"
TYPES = {"yes_no": "yes/no", "district": "choice (30 districts)", "service": "service request",
         "command": "service request", "number": "number", "date": "date", "sentence": "choice (real sentences)"}


def expectations(catalog):
    return {
        "yes_no": lambda lang: answers.yes_no(),
        "district": lambda lang: answers.districts(catalog, lang),
        "service": lambda lang: answers.opening(catalog),
        "number": lambda lang: answers.numbers(),
        "date": lambda lang: answers.dates(),
    }


def wanted(kind: str, lang: str, value: str, catalog) -> str:
    if kind == "district":
        return catalog.districts[value].name(lang)
    if kind == "service":
        return f'/apply_service{{"service":"{value}"}}'
    if kind == "command":
        return "/" + value
    return value


def english_value(kind: str, lang: str, text: str, catalog) -> Optional[str]:
    """What the channel takes from an English transcript where nothing was matched."""
    import datetime as dt

    if kind == "yes_no":
        answer = parse_yes_no(text)
        return None if answer is None else ("yes" if answer else "no")
    if kind == "district":
        found = match_district(text, catalog)
        return catalog.districts[found].name(lang) if found else None
    if kind == "number":
        number = parse_number(text.replace(",", ""))
        return str(int(number)) if number is not None else None
    if kind == "date":
        date = parse_date(text, dt.date.today()) or parse_date_words(text, dt.date.today())
        return date.strftime("%d/%m/%Y") if date else None
    return None


class Tally:
    def __init__(self):
        self.rows: Dict[tuple, collections.Counter] = collections.defaultdict(collections.Counter)

    def add(self, key: tuple, want: str, ranked: List[str], outcome: str, taken: Optional[str],
            offered: List[str]) -> None:
        row = self.rows[key]
        row["clips"] += 1
        row["top1"] += bool(want) and bool(ranked) and ranked[0] == want
        row["right"] += bool(want) and taken == want
        row["wrong"] += taken is not None and taken != want
        row["offered"] += bool(want) and taken is None and want in offered
        row["refused"] += taken is None and not offered
        row["positives"] += bool(want)

    def print(self) -> None:
        print("| language | answer type | set | clips | top-1 | taken, right | taken, wrong | offered | refused |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for key in sorted(self.rows):
            lang, kind, corpus = key
            row = self.rows[key]
            positives = row["positives"]
            def share(n: int, positives: int = positives) -> str:
                return f"{n}/{positives}" if positives else "–"
            print(f"| {lang} | {kind} | {corpus} | {row['clips']} | {share(row['top1'])} | {share(row['right'])} | "
                  f"{row['wrong']}/{row['clips']} | {share(row['offered'])} | {row['refused']}/{row['clips']} |")


def run_clip(recognizer, tally, raw, path: Path, lang: str, kind: str, want: str, expected, corpus: str,
             catalog) -> None:
    data = path.read_bytes()
    started = time.perf_counter()
    scores, voiced = recognizer.score_answers(data, lang, expected)
    heard = decide(scores, expected.kind, speech_seconds=voiced)
    ranked = [s.value for s in scores.ranked]
    taken = heard.value if heard.outcome == "choice" else None
    offered = list(heard.alternatives)
    transcript = None
    if lang == "en":  # the channel's English path: free transcript first, the match as a help
        result = recognizer.transcribe_sync(data, "en", expected, free_text=False)
        transcript = result.text
        taken = result.choice or english_value(kind, lang, result.text, catalog)
        offered = []
    tally.add((lang, TYPES.get(kind, kind), corpus), want, ranked, heard.outcome, taken, offered)
    raw.append({"clip": path.name, "language": lang, "kind": kind, "want": want, "taken": taken,
                "offered": offered, "transcript": transcript, "seconds": round(time.perf_counter() - started, 2),
                "voiced": round(voiced, 2),
                "ranked": [(s.value, round(s.evidence, 2), s.text, s.letters) for s in scores.ranked[:5]]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, default=COMMITTED, help="folder with manifest.tsv")
    parser.add_argument("--real", type=Path, default=REAL, help="../shared/voice-dev (skipped if absent)")
    parser.add_argument("--languages", default="hi,or,en")
    parser.add_argument("--json", type=Path, help="write every clip's scores here")
    args = parser.parse_args(argv)
    languages = args.languages.split(",")
    catalog = default_catalog()
    build = expectations(catalog)
    recognizer = SpeechRecognizer()
    tally, raw = Tally(), []
    started = time.perf_counter()
    with open(args.clips / "manifest.tsv", encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle, delimiter="\t") if r and not r[0].startswith("#")]
    for number, (name, lang, kind, value, _, _) in enumerate(rows):
        if lang not in languages:
            continue
        if number % 25 == 0:
            print(f"… {number}/{len(rows)} clips, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        if kind == "none":
            for turn in ("service", "district", "yes_no"):
                run_clip(recognizer, tally, raw, args.clips / name, lang, turn, "", build[turn](lang),
                         "synthetic, says none", catalog)
            continue
        expected = build["service" if kind == "command" else kind](lang)
        run_clip(recognizer, tally, raw, args.clips / name, lang, kind, wanted(kind, lang, value, catalog),
                 expected, "synthetic", catalog)
    if args.real.exists():
        with open(args.real / "manifest.tsv", encoding="utf-8") as handle:
            real = [r for r in csv.DictReader(handle, delimiter="\t") if r["language"] in languages]
        for row in real:
            for turn in ("service", "district", "yes_no"):
                run_clip(recognizer, tally, raw, args.real / row["file"], row["language"], turn, "",
                         build[turn](row["language"]), "real, says none", catalog)
        hindi = [r for r in real if r["language"] == "hi" and r["transcript"]]
        if hindi:
            sentences = Expected("choice", tuple(Answer(r["file"], (Phrase(r["transcript"], "hi"),))
                                                 for r in hindi))
            for row in hindi:
                run_clip(recognizer, tally, raw, args.real / row["file"], "hi", "sentence", row["file"], sentences,
                         "real", catalog)
    tally.print()
    seconds = [r["seconds"] for r in raw]
    print(f"\n{len(raw)} runs in {time.perf_counter() - started:.0f} s; per note p50 "
          f"{sorted(seconds)[len(seconds) // 2]:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    recognizer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

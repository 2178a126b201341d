"""What each path through speech/ costs, in process: per committed clip, the seconds of
SpeechRecognizer.transcribe_sync (wall, and CPU of the whole process, which a busy
machine disturbs less) for

  (a) a hint, no answers expected (a free transcript);
  (b) a hint and the yes/no answers (a question in the conversation);
  (c) no hint and the opening's answers (a citizen's first voice note).

English notes are transcribed (and, with answers, scored as well); Hindi and Odia notes
with answers are only scored. Medians over ``--repeat`` runs after a warm-up.

    .venv/bin/python -m bench.speech_paths [--repeat 3]
"""
from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seva import voice_expectations as answers  # noqa: E402
from seva.catalog import default_catalog  # noqa: E402
from speech.clips import load_manifest  # noqa: E402
from speech.recognizer import SpeechRecognizer  # noqa: E402


def timed(call, repeat: int):
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    recognizer = SpeechRecognizer()
    opening, yes_no = answers.opening(default_catalog()), answers.yes_no()
    paths = {"(a) hint": lambda data, lang: recognizer.transcribe_sync(data, lang),
             "(b) hint + yes/no": lambda data, lang: recognizer.transcribe_sync(data, lang, yes_no, free_text=False),
             "(c) no hint + opening": lambda data, lang: recognizer.transcribe_sync(data, None, opening,
                                                                                  free_text=False)}
    clips = [c for c in load_manifest() if c.expect in ("speech", "attempt") and c.name != "long_speech.ogg"]
    totals: Dict[str, Dict[str, List[Tuple[float, float]]]] = {name: {"en": [], "hi/or": []} for name in paths}
    print("| clip | " + " | ".join(f"{name} wall / CPU s" for name in paths) + " |")
    print("|---|" + "---:|" * len(paths))
    for clip in clips:
        data = clip.path.read_bytes()
        cells = []
        for name, path in paths.items():
            path(data, clip.language)  # warm: the answers' grammars and priors are ready
            wall, cpu = timed(functools.partial(path, data, clip.language), args.repeat)
            totals[name]["en" if clip.language == "en" else "hi/or"].append((wall, cpu))
            cells.append(f"{wall:.2f} / {cpu:.2f}")
        print(f"| {clip.name} | " + " | ".join(cells) + " |")
    print("\n| path | English notes: wall / CPU s (median) | Hindi and Odia notes: wall / CPU s (median) |")
    print("|---|---:|---:|")
    for name, groups in totals.items():
        cells = [f"{statistics.median(w for w, _ in runs):.2f} / {statistics.median(c for _, c in runs):.2f}"
                 for runs in groups.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    recognizer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Which proxy language should Odia voice notes use with a Whisper model that has no Odia?

For every Odia clip in speech/fixtures/clips.tsv, transcribe with each candidate proxy
language, map the output script to Odia (what the NLU and the citizen read), and compare
it with what was said on the common Latin key of seva.textnorm: character similarity
(rapidfuzz ratio, 0-100) and whether the clip's key words were heard. Also counts how
many transcripts the confidence gate of speech/ would let through.

    .venv/bin/python bench/speech_odia_route.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import fuzz  # noqa: E402

from seva.textnorm import latin_key  # noqa: E402
from speech.clips import keywords_heard, load_manifest  # noqa: E402
from speech.recognizer import Route, SpeechRecognizer  # noqa: E402
from speech.settings import SpeechSettings  # noqa: E402

CANDIDATES = ["hi", "mr", "bn", "en"]


def main() -> None:
    settings = SpeechSettings.from_env()
    recognizer = SpeechRecognizer(settings)
    clips = [c for c in load_manifest() if c.language == "or" and c.expect in ("speech", "attempt")]
    print(f"{len(clips)} Odia clips, model {recognizer.model_folder('or')}\n")
    print("| proxy | similarity to what was said (mean, 0-100) | key words heard | passed the confidence gate "
          "| mean seconds |")
    print("|---|---|---|---|---|")
    for proxy in CANDIDATES:
        route = Route(model=recognizer.route("or").model, whisper_language=proxy, output_script="or",
                      prompt=None)
        sims, heard, passed, secs = [], 0, 0, []
        for clip in clips:
            start = time.perf_counter()
            result = recognizer.transcribe_with_route(clip.path.read_bytes(), route, "or")
            secs.append(time.perf_counter() - start)
            text = result.raw_text if result.raw_text is not None else ""
            sims.append(fuzz.ratio(latin_key(text), latin_key(clip.text)))
            heard += keywords_heard(text, clip.keywords)
            passed += result.ok
        print(f"| {proxy} | {statistics.mean(sims):.0f} | {heard}/{len(clips)} | {passed}/{len(clips)} "
              f"| {statistics.mean(secs):.2f} |")


if __name__ == "__main__":
    main()

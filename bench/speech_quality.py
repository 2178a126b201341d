"""How well voice works per language with the configured model (default: packaged base).

For every spoken clip in speech/fixtures/clips.tsv, transcribe it as a voice note in a
conversation of its language and report: transcripts accepted by the confidence gate,
clips whose key words were heard, and character similarity to what was said (rapidfuzz
ratio on the common Latin key of seva.textnorm, 0-100). The clips are espeak-ng voices,
which Whisper finds harder than people; treat the numbers as a floor, not a promise.

    .venv/bin/python -m bench.speech_quality
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz  # noqa: E402

from seva.textnorm import latin_key  # noqa: E402
from speech.clips import keywords_heard, load_manifest  # noqa: E402
from speech.recognizer import SpeechRecognizer  # noqa: E402

NAMES = {"en": "English", "hi": "Hindi", "or": "Odia"}


def main() -> int:
    recognizer = SpeechRecognizer()
    print("| language | route (Whisper language → script) | clips | accepted by the gate | key words heard "
          "| similarity (mean) |")
    print("|---|---|---|---|---|---|")
    details = []
    for lang in ("en", "hi", "or"):
        clips = [c for c in load_manifest() if c.language == lang and c.expect in ("speech", "attempt")
                 and c.name != "long_speech.ogg"]
        route = recognizer.route(lang)
        accepted = heard = 0
        similarity = []
        for clip in clips:
            result = recognizer.transcribe_sync(clip.path.read_bytes(), lang)
            accepted += result.ok
            heard += result.ok and keywords_heard(result.text, clip.keywords)
            similarity.append(fuzz.ratio(latin_key(result.text), latin_key(clip.text)))
            details.append((clip.name, result.outcome.value, result.text or f"({result.reason})"))
        print(f"| {NAMES[lang]} | {route.whisper_language or 'none'} → {route.output_script} | {len(clips)} | "
              f"{accepted}/{len(clips)} | {heard}/{len(clips)} | {statistics.mean(similarity):.0f} |")
    print("\n| clip | outcome | transcript |\n|---|---|---|")
    for name, outcome, text in details:
        print(f"| {name} | {outcome} | {text} |")
    recognizer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

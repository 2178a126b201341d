"""Speech from the command line.

    python -m speech prepare              build and verify the model folders, print them
    python -m speech transcribe FILE [--language en|hi|or]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from speech.model_store import ModelError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m speech")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare", help="build and verify the speech model (done by make run)")
    transcribe = commands.add_parser("transcribe", help="transcribe an audio file as a voice note would be")
    transcribe.add_argument("file", type=Path)
    transcribe.add_argument("--language", choices=["en", "hi", "or"], default=None)
    args = parser.parse_args(argv)

    from speech.recognizer import SpeechRecognizer

    try:
        started = time.perf_counter()
        recognizer = SpeechRecognizer(load=args.command == "transcribe")
    except (ModelError, ValueError) as error:
        print(f"speech: {error}", file=sys.stderr)
        return 1
    if args.command == "prepare":
        for lang in ("en", "hi", "or"):
            route = recognizer.route(lang)
            print(f"{lang}: {route.model} (Whisper language: {route.whisper_language or 'none'})")
        return 0
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    result = recognizer.transcribe_sync(args.file.read_bytes(), args.language)
    print(f"outcome:    {result.outcome.value}{' (' + result.reason + ')' if result.reason else ''}")
    print(f"language:   {result.language}")
    print(f"text:       {result.text or result.raw_text or ''}")
    print(f"confidence: {result.confidence:.2f}")
    print(f"audio:      {result.duration:.1f} s; model load {loaded:.1f} s, transcription "
          f"{time.perf_counter() - started:.2f} s")
    return 0 if result.ok else 2


if __name__ == "__main__":
    sys.exit(main())

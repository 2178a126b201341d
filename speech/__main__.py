"""Speech from the command line.

    python -m speech prepare [--answers]   build and verify the model folders; with --answers
                                           also the expected-answer grammars and their priors
    python -m speech transcribe FILE [--language en|hi|or] [--expect KIND]

``--expect`` says what the note answers, as at a turn of the conversation: ``yes_no``,
``district``, ``number``, ``date``, ``service`` (a request at the start: every service and
command), or ``choice:a|b|c`` (buttons with these titles).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from speech.model_store import ModelError

KINDS = ("yes_no", "district", "number", "date", "service")


def expectation(kind: str, language: str):
    """The answers of a kind of turn, built from the catalog as the WhatsApp channel does."""
    from seva import voice_expectations as answers
    from seva.catalog import default_catalog

    if kind.startswith("choice:"):
        titles = [t.strip() for t in kind.split(":", 1)[1].split("|") if t.strip()]
        return answers.for_buttons([{"title": t, "payload": t} for t in titles])
    if kind == "yes_no":
        return answers.yes_no()
    if kind == "district":
        return answers.districts(default_catalog(), language)
    if kind == "number":
        return answers.numbers()
    if kind == "date":
        return answers.dates()
    if kind == "service":
        return answers.opening(default_catalog())
    raise ValueError(f"--expect {kind!r}: use one of {', '.join(KINDS)} or choice:a|b|c")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m speech")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="build and verify the speech model (done by make run)")
    prepare.add_argument("--answers", action="store_true",
                         help="also compute the priors of the expected-answer grammars (cached on disk)")
    transcribe = commands.add_parser("transcribe", help="transcribe an audio file as a voice note would be")
    transcribe.add_argument("file", type=Path)
    transcribe.add_argument("--language", choices=["en", "hi", "or"], default=None)
    transcribe.add_argument("--expect", default=None, metavar="KIND",
                            help="what the note answers: " + ", ".join(KINDS) + ", or choice:a|b|c")
    args = parser.parse_args(argv)

    from speech.recognizer import SpeechRecognizer

    try:
        started = time.perf_counter()
        expected = expectation(args.expect, args.language or "hi") if getattr(args, "expect", None) else None
        recognizer = SpeechRecognizer(load=args.command == "transcribe" or args.answers)
    except (ModelError, ValueError) as error:
        print(f"speech: {error}", file=sys.stderr)
        return 1
    if args.command == "prepare":
        for lang in ("en", "hi", "or"):
            route = recognizer.route(lang)
            print(f"{lang}: {route.model} (Whisper language: {route.whisper_language or 'none'})")
        if args.answers:
            for lang in ("hi", "or", "en"):
                for kind in KINDS:
                    begun = time.perf_counter()
                    recognizer.prepare_answers(lang, expectation(kind, lang))
                    print(f"answers {lang} {kind}: ready in {time.perf_counter() - begun:.1f} s")
        return 0
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    result = recognizer.transcribe_sync(args.file.read_bytes(), args.language, expected, free_text=expected is None)
    print(f"outcome:    {result.outcome.value}{' (' + result.reason + ')' if result.reason else ''}")
    print(f"language:   {result.language}")
    print(f"text:       {result.text or result.raw_text or ''}")
    if expected is not None:
        print(f"answer:     {result.choice or ''}")
        print(f"maybe:      {' | '.join(result.alternatives)}")
        print(f"evidence:   {result.evidence:.1f}")
    print(f"confidence: {result.confidence:.2f}")
    print(f"audio:      {result.duration:.1f} s; model load {loaded:.1f} s, transcription "
          f"{time.perf_counter() - started:.2f} s")
    return 0 if result.usable else 2


if __name__ == "__main__":
    sys.exit(main())

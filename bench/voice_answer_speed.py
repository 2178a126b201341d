"""What hearing an expected answer costs, beside bare faster-whisper, in one run.

For a 5 s real Hindi note (speech/fixtures/real/hi_indicvoices_1.ogg) and short answer
clips, on this machine:
  (1) bare faster-whisper: WhisperModel.transcribe with the Hindi route's settings;
  (2) speech/ with expected answers: SpeechRecognizer.transcribe_sync(…, expected) — one
      encoder pass, then the grammar search (speech/matcher.py) and the decision;
      split into the encoder pass and the search, per turn: the opening (every service
      name and synonym in its written forms, and the commands), the 30 districts, yes/no;
  (3) the same answers scored one by one by CTranslate2 (Whisper.align, teacher-forced,
      one after another): what exhaustive scoring would cost, per candidate;
  (4) end to end: a signed webhook POST to `rasa run` (fake Graph API) until the first
      reply to the voice note reaches the fake, for a citizen whose language is Hindi.
Priors are computed before timing (they are cached on disk; `python -m speech prepare
--answers` does it ahead). Times in seconds, median of --repeat runs after a warm-up.

    .venv/bin/python -m bench.voice_answer_speed [--repeat 5]
"""
from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bench.speech_latency import bare, wait_count  # noqa: E402
from fakegraph.server import FakeGraph, envelope, media_message, text  # noqa: E402
from seva import voice_expectations as answers  # noqa: E402
from seva.catalog import default_catalog  # noqa: E402
from speech import audio as audio_io  # noqa: E402
from speech.grammar import Route as GrammarRoute  # noqa: E402
from speech.grammar import written_forms  # noqa: E402
from speech.recognizer import SpeechRecognizer  # noqa: E402
from tests.e2e.servers import Stack  # noqa: E402

NOTE = ROOT / "speech" / "fixtures" / "real" / "hi_indicvoices_1.ogg"
SECRET = "bench-secret"


def timed(function, repeat: int):
    function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def candidates(expected, route) -> list:
    """Every written form the grammar holds for the answers (what exhaustive scoring would
    have to score), carriers left out."""
    forms = []
    for answer in expected.answers:
        for phrase in answer.phrases:
            forms += [form for token, form in written_forms(phrase, route) if token == "en"]
    return forms


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-webhook", action="store_true", help="skip (4)")
    args = parser.parse_args()
    catalog = default_catalog()
    recognizer = SpeechRecognizer()
    route = recognizer.route("hi")
    model = recognizer._model(route.model)
    data = NOTE.read_bytes()
    seconds = audio_io.load(data, 10 ** 8, 600).duration
    turns = {"opening (services + commands)": answers.opening(catalog),
             "30 districts": answers.districts(catalog, "hi"), "yes/no": answers.yes_no()}
    for expected in turns.values():
        recognizer.prepare_answers("hi", expected)
    grammar_route = GrammarRoute("hi", route.whisper_language, route.own_model)

    clip = audio_io.load(data, 10 ** 8, 600)
    features, encoded = recognizer._encode(clip, route)
    one = timed(lambda: bare(model, NOTE, route), args.repeat)
    encode = timed(lambda: recognizer._encode(clip, route), args.repeat)
    rows = []
    for name, expected in turns.items():
        forms = candidates(expected, grammar_route)
        search = timed(functools.partial(recognizer._scores, route, "hi", expected, False, encoded), args.repeat)
        whole = timed(functools.partial(recognizer.transcribe_sync, data, "hi", expected, free_text=False), args.repeat)
        rows.append((name, len(expected.answers), len(forms), search, whole, forms))

    # (3) exhaustive: CTranslate2 align, one candidate after another on the same encoder
    # output (a batch would need the encoder output copied per candidate), opening's forms
    scorer = recognizer.answers(route.model)
    start = scorer.matcher.start_sequence("en")
    sample = [scorer.encode_text(" " + f) for f in rows[0][5][:32]]
    frames = features.shape[-1] // 2

    def exhaustive():
        for tokens in sample:
            model.model.align(encoded, start, [tokens], [frames])

    per_candidate = timed(exhaustive, max(1, args.repeat // 2)) / len(sample)
    recognizer.close()

    e2e = []
    if not args.no_webhook:
        fake = FakeGraph(app_secret=SECRET).start()
        stack = Stack.for_whatsapp(Path(tempfile.mkdtemp(prefix="bench-answers-")), fake, SECRET)
        try:
            stack.start_actions()
            stack.start_rasa()
            fake.webhook_url = stack.webhook_url
            for attempt in range(args.repeat + 1):
                wa_id = str(919300000000 + attempt)
                fake.deliver(envelope([text(wa_id, "नमस्ते")]))
                wait_count(fake, wa_id, 2)
                time.sleep(0.5)
                before = len(fake.messages_to(wa_id))
                media = fake.add_media(data)
                started = time.perf_counter()
                fake.deliver(envelope([media_message(wa_id, "audio", media, mime_type="audio/ogg; codecs=opus",
                                                     voice=True)]))
                answered = wait_count(fake, wa_id, before + 1)
                if attempt:
                    e2e.append(answered - started)
        finally:
            stack.stop()
            fake.stop()

    print(f"Note: {NOTE.name}, {seconds:.1f} s of real Hindi speech; Whisper base int8, "
          f"{recognizer.settings.threads} threads; median of {args.repeat} runs\n")
    print("| step | seconds | vs (1) bare faster-whisper |")
    print("|---|---:|---:|")
    print(f"| (1) bare faster-whisper transcription (beam 5) | {one:.2f} | 1.00 |")
    print(f"| encoder pass (once per note) | {encode:.2f} | {encode / one:.2f} |")
    for name, answers_n, forms_n, search, whole, _ in rows:
        print(f"| (2) search, {name}: {answers_n} answers, {forms_n} written forms | {search:.2f} | "
              f"{search / one:.2f} |")
        print(f"| (2) speech/ whole note, {name} | {whole:.2f} | {whole / one:.2f} |")
    print(f"| (3) exhaustive CTranslate2 align, per candidate | {per_candidate:.3f} | {per_candidate / one:.3f} |")
    print(f"| (3) exhaustive, {rows[0][2]} forms of the opening (extrapolated) | {per_candidate * rows[0][2]:.1f} | "
          f"{per_candidate * rows[0][2] / one:.1f} |")
    if e2e:
        print(f"| (4) end to end through the webhook, first reply (p50 / max) | {statistics.median(e2e):.2f} / "
              f"{max(e2e):.2f} | {statistics.median(e2e) / one:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

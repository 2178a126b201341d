"""What a voice note costs: bare faster-whisper vs our speech/ package vs the whole path.

In one run on this machine, for each understood clip in speech/fixtures/clips.tsv:
  (1) bare faster-whisper: WhisperModel.transcribe with the same model and settings;
  (2) speech/: SpeechRecognizer.transcribe_sync (decode, limits, route, gate, script);
  (3) end to end: a signed webhook POST to `rasa run` with the fake Graph API, timed until
      the bot's answer (the first message after the "I heard" echo) reaches the fake.
Then text replies to other users: p50/p95 of text turns with no voice traffic, and while
voice notes are being transcribed back to back.

    .venv/bin/python -m bench.speech_latency [--repeat 3] [--text-turns 40]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import percentile, rss_peak_mb  # noqa: E402
from fakegraph.server import FakeGraph, envelope, media_message, text  # noqa: E402
from speech.clips import load_manifest  # noqa: E402
from speech.recognizer import SpeechRecognizer, max_new_tokens  # noqa: E402
from speech.settings import SpeechSettings  # noqa: E402
from tests.e2e.servers import Stack  # noqa: E402

SECRET = "bench-secret"


def bare(model, path, route) -> float:
    """Seconds for bare faster-whisper to transcribe ``path`` with the route's settings."""
    started = time.perf_counter()
    segments, _ = model.transcribe(str(path), language=route.whisper_language, beam_size=5, temperature=0.0,
                                   condition_on_previous_text=False, without_timestamps=True, vad_filter=True,
                                   initial_prompt=route.prompt, max_new_tokens=max_new_tokens(30))
    " ".join(s.text for s in segments)  # the generator is lazy: decoding happens here
    return time.perf_counter() - started


def wait_count(fake, wa_id, count, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(fake.messages_to(wa_id)) >= count:
            return time.perf_counter()
        time.sleep(0.005)
    raise TimeoutError(f"{wa_id}: fewer than {count} messages")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--text-turns", type=int, default=40)
    parser.add_argument("--text-only", action="store_true", help="only the text-reply comparison")
    args = parser.parse_args()
    clips = [] if args.text_only else [c for c in load_manifest() if c.expect == "speech"]
    recognizer = SpeechRecognizer(SpeechSettings.from_env())
    model = recognizer._model(recognizer.route("en").model)

    rows = []
    for clip in clips:
        data = clip.path.read_bytes()
        route = recognizer.route(clip.language)
        bare(model, clip.path, route)  # same warm state for both
        one = [bare(model, clip.path, route) for _ in range(args.repeat)]
        two = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = recognizer.transcribe_sync(data, clip.language)
            two.append(time.perf_counter() - started)
        rows.append({"clip": clip, "seconds": result.duration, "one": one, "two": two, "three": []})
    local_rss = rss_peak_mb()
    recognizer.close()

    fake = FakeGraph(app_secret=SECRET).start()
    stack = Stack.for_whatsapp(Path(tempfile.mkdtemp(prefix="bench-speech-")), fake, SECRET)
    try:
        stack.start_actions()
        stack.start_rasa()
        fake.webhook_url = stack.webhook_url
        sender = 919700000000
        for row in rows:
            clip = row["clip"]
            for attempt in range(args.repeat + 1):
                sender += 1
                wa_id = str(sender)
                if clip.language != "en":  # set the conversation language first, as a citizen would
                    fake.deliver(envelope([text(wa_id, "नमस्ते")]))
                    wait_count(fake, wa_id, 2)
                    time.sleep(0.5)
                before = len(fake.messages_to(wa_id))
                media = fake.add_media(clip.path.read_bytes())
                started = time.perf_counter()
                fake.deliver(envelope([media_message(wa_id, "audio", media, mime_type="audio/ogg; codecs=opus",
                                                     voice=True)]))
                answered = wait_count(fake, wa_id, before + 2)  # the echo, then the answer
                if attempt:  # the first is a warm-up
                    row["three"].append(answered - started)

        def text_turns(prefix: int):
            latencies = []
            for i in range(args.text_turns):
                wa_id = str(prefix + i)
                started = time.perf_counter()
                fake.deliver(envelope([text(wa_id, "hello")]))
                latencies.append(wait_count(fake, wa_id, 1) - started)
                time.sleep(0.2)
            return latencies

        quiet_turns = text_turns(919600000000)
        stop = threading.Event()
        long_clip = next(c for c in load_manifest() if c.name == "en_ten_seconds.ogg")

        def voice_traffic():
            n = 919500000000
            while not stop.is_set():
                n += 1
                media = fake.add_media(long_clip.path.read_bytes())
                fake.deliver(envelope([media_message(str(n), "audio", media, mime_type="audio/ogg", voice=True)]))
                try:
                    wait_count(fake, str(n), 2, timeout=60)
                except TimeoutError:
                    pass

        talker = threading.Thread(target=voice_traffic, daemon=True)
        talker.start()
        time.sleep(2.0)
        busy_turns = text_turns(919400000000)
        stop.set()
        talker.join(timeout=60)
        rasa_rss = rss_peak_mb(str(stack.rasa.pid))
        actions_rss = rss_peak_mb(str(stack.actions.pid))
    finally:
        stack.stop()
        fake.stop()

    print(f"Whisper base (packaged), int8, {SpeechSettings.from_env().threads} threads, beam 5, "
          f"{args.repeat} runs per clip after a warm-up; times in seconds\n")
    print("| clip | audio s | (1) bare p50 | (2) speech/ p50 | (3) end to end p50 | (3) p95 | RTF (2) | (2)/(1) "
          "| (3)/(1) |")
    print("|---|---|---|---|---|---|---|---|---|")
    ones, twos, threes = [], [], []
    for row in rows:
        one, two, three = (statistics.median(row[k]) for k in ("one", "two", "three"))
        ones += row["one"]
        twos += row["two"]
        threes += row["three"]
        print(f"| {row['clip'].name} | {row['seconds']:.1f} | {one:.2f} | {two:.2f} | {three:.2f} | "
              f"{percentile(row['three'], 95):.2f} | {two / row['seconds']:.2f} | {two / one:.2f} | "
              f"{three / one:.2f} |")
    if not rows:
        ones = twos = threes = [float("nan")]
    print(f"| **all clips** | | {statistics.median(ones):.2f} | {statistics.median(twos):.2f} | "
          f"{statistics.median(threes):.2f} | {percentile(threes, 95):.2f} | | "
          f"{sum(twos) / sum(ones):.2f} | {sum(threes) / sum(ones):.2f} |")
    print("\nText replies to other users (seconds from POST to reply):\n")
    print("| traffic | turns | p50 | p95 | p95 ratio |")
    print("|---|---|---|---|---|")
    quiet95, busy95 = percentile(quiet_turns, 95), percentile(busy_turns, 95)
    print(f"| text only | {len(quiet_turns)} | {statistics.median(quiet_turns):.3f} | {quiet95:.3f} | 1.00 |")
    print(f"| while 10 s voice notes are transcribed back to back | {len(busy_turns)} | "
          f"{statistics.median(busy_turns):.3f} | {busy95:.3f} | {busy95 / quiet95:.2f} |")
    print("\nPeak RSS (MB):\n")
    print("| process | peak RSS |")
    print("|---|---|")
    print(f"| this script with the model loaded ((1) and (2)) | {local_rss:.0f} |")
    print(f"| `rasa run` with the speech model | {rasa_rss:.0f} |")
    print(f"| action server | {actions_rss:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

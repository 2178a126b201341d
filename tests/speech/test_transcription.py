"""Real faster-whisper inference on the committed clips (no mocks): what each clip must
produce with the packaged base model, and how the recogniser behaves under load."""
import asyncio
import os
import re
import threading
import time

import pytest

from speech.clips import keywords_heard, load_manifest
from speech.recognizer import SpeechRecognizer
from speech.result import Outcome
from speech.settings import SpeechSettings

CLIPS = load_manifest()
DEVANAGARI = re.compile(r"[\u0900-\u097f]")
ODIA = re.compile(r"[\u0b00-\u0b7f]")
# Arabic, Devanagari, Bengali letters; not the danda and double danda (U+0964, U+0965),
# which Unicode gives to Odia too as its full stop
NOT_ODIA_ROUTE = re.compile(r"[\u0600-\u06ff\u0900-\u0963\u0966-\u097f\u0980-\u09ff]")


@pytest.fixture(scope="module")
def recognizer():
    recognizer = SpeechRecognizer(SpeechSettings.from_env({}))
    yield recognizer
    recognizer.close()


def by_expectation(*expect):
    return [pytest.param(c, id=c.name) for c in CLIPS if c.expect in expect]


@pytest.mark.parametrize("clip", by_expectation("speech"))
def test_clip_is_understood(recognizer, clip):
    result = recognizer.transcribe_sync(clip.path.read_bytes(), clip.language)
    assert result.outcome is Outcome.OK, (result.reason, result.raw_text)
    assert keywords_heard(result.text, clip.keywords), result.text
    assert result.language == clip.language and 0 < result.confidence <= 1


@pytest.mark.parametrize("clip", by_expectation("attempt"))
def test_weak_clip_is_either_transcribed_in_the_right_script_or_called_unclear(recognizer, clip):
    result = recognizer.transcribe_sync(clip.path.read_bytes(), clip.language)
    assert result.outcome in (Outcome.OK, Outcome.UNCLEAR)
    if result.outcome is Outcome.OK:
        if clip.language == "hi":
            assert DEVANAGARI.search(result.text) and not re.search(r"[\u0600-\u06ff]", result.text), result.text
        else:  # Odia: whatever the proxy wrote comes back in Odia script (or Latin letters)
            assert not NOT_ODIA_ROUTE.search(result.text), result.text
    else:
        assert result.text == "" and result.reason


@pytest.mark.parametrize("clip", by_expectation("silent", "unclear", "too_long", "corrupt", "not_audio"))
def test_clip_that_cannot_be_used_gets_its_documented_outcome(recognizer, clip):
    result = recognizer.transcribe_sync(clip.path.read_bytes(), clip.language)
    assert result.outcome.value == clip.expect, result.reason
    assert result.text == ""


def test_without_a_hint_the_language_is_detected_between_english_and_hindi(recognizer):
    english = next(c for c in CLIPS if c.name == "en_income.ogg")
    hindi = next(c for c in CLIPS if c.name == "hi_income.ogg")
    detected = recognizer.transcribe_sync(english.path.read_bytes(), None)
    assert detected.language == "en"
    # detected (WhisperModel.detect_language), then transcribed as with a hint: the same words
    assert detected.text == recognizer.transcribe_sync(english.path.read_bytes(), "en").text
    result = recognizer.transcribe_sync(hindi.path.read_bytes(), None)
    assert result.language == "hi"
    assert result.outcome is Outcome.UNCLEAR or DEVANAGARI.search(result.text)
    assert result.text == recognizer.transcribe_sync(hindi.path.read_bytes(), "hi").text


def test_odia_conversation_gets_odia_script_back(recognizer):
    clip = next(c for c in CLIPS if c.name == "or_birth.ogg")
    result = recognizer.transcribe_sync(clip.path.read_bytes(), "or")
    assert result.language == "or"
    if result.ok:
        assert ODIA.search(result.text) and not DEVANAGARI.search(result.text)


def test_a_full_queue_answers_busy_at_once_and_the_rest_complete():
    recognizer = SpeechRecognizer(SpeechSettings.from_env({"SPEECH_QUEUE_LIMIT": "1", "SPEECH_WORKERS": "1"}))
    data = next(c for c in CLIPS if c.name == "en_income.ogg").path.read_bytes()

    async def four_at_once():
        return await asyncio.gather(*(recognizer.transcribe(data, "audio/ogg", "en") for _ in range(4)))

    try:
        outcomes = [r.outcome for r in asyncio.run(four_at_once())]
    finally:
        recognizer.close()
    assert outcomes.count(Outcome.BUSY) == 2  # one decoding + one waiting are admitted
    assert outcomes.count(Outcome.OK) == 2


def test_decoding_threads_run_at_lower_priority_than_the_bot(recognizer):
    def my_niceness():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert recognizer._pool.submit(my_niceness).result() == recognizer.settings.nice == 10
    assert my_niceness() == 0


def test_decoding_runs_off_the_event_loop(recognizer):
    """While a long note is decoded the loop keeps running other work (a ticker here)."""
    data = next(c for c in CLIPS if c.name == "long_speech.ogg").path.read_bytes()

    async def scenario():
        ticks = 0
        task = asyncio.ensure_future(recognizer.transcribe(data, "audio/ogg", "en"))
        while not task.done():
            await asyncio.sleep(0.02)
            ticks += 1
        return task.result(), ticks

    started = time.perf_counter()
    result, ticks = asyncio.run(scenario())
    elapsed = time.perf_counter() - started
    assert result.ok
    # a blocked loop would tick once or twice in total; a free one ticks all through
    assert ticks >= elapsed / 0.02 * 0.3, (ticks, elapsed)


def test_a_decoder_failure_is_reported_as_unclear_not_raised(recognizer, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("decoder out of memory")

    monkeypatch.setattr(recognizer, "_decode", explode)
    data = next(c for c in CLIPS if c.name == "en_income.ogg").path.read_bytes()
    result = recognizer.transcribe_sync(data, "en")
    assert result.outcome is Outcome.UNCLEAR and "RuntimeError" in result.reason

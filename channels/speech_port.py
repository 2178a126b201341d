"""The channel's door to speech recognition: audio bytes in, a SpeechResult out.

The WhatsApp channel downloads a voice note and hands it here. The real transcriber is
the ``speech`` package, loaded once when the channel is created (so the first voice note
does not pay for loading the model). Set ``SPEECH_ENABLED=false`` to run without it; if
the model cannot be loaded the error is logged at start-up and voice notes are answered
with "please type" in the citizen's language.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Optional, Protocol, Sequence

from speech.grammar import Expected
from speech.result import Outcome, SpeechResult
from speech.settings import MAX_BYTES, MAX_SECONDS

logger = logging.getLogger(__name__)


class Transcriber(Protocol):
    max_seconds: float
    max_bytes: int

    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str],
                         expected: Optional[Sequence[Expected]] = None, free_text: bool = True) -> SpeechResult:
        """The transcript or the expected answer heard, or the reason there is none
        (``SpeechResult.outcome``); see speech/recognizer.py."""


class NoTranscriber:
    """Used when speech is switched off or its model failed to load."""

    max_seconds = MAX_SECONDS
    max_bytes = MAX_BYTES

    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str],
                         expected: Optional[Sequence[Expected]] = None, free_text: bool = True) -> SpeechResult:
        return SpeechResult(Outcome.UNAVAILABLE, language=language_hint, reason="speech recognition is off")


class RecognizerTranscriber:
    """Adapts ``speech.recognizer.SpeechRecognizer`` to the channel's port."""

    def __init__(self, recognizer, prepare: bool = True):
        self.recognizer = recognizer
        self.max_seconds = recognizer.settings.max_seconds
        self.max_bytes = recognizer.settings.max_bytes
        if prepare:
            threading.Thread(target=self._prepare, name="speech-prepare", daemon=True).start()

    def _prepare(self) -> None:
        """Get the usual turns' answer grammars ready (priors from the cache, or computed
        once at a lower priority), so the first citizen to use one does not wait."""
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)
        except (AttributeError, OSError):
            pass
        try:
            from seva import voice_expectations as answers
            from seva.catalog import default_catalog

            catalog = default_catalog()
            opening = answers.opening(catalog)
            # the opening requests first (the most common voice note), a first message's too
            self.recognizer.prepare_answers("hi", opening, unknown_language=True)
            for language in ("or", "hi", "en"):
                self.recognizer.prepare_answers(language, opening)
            for language in ("or", "hi", "en"):
                for expected in (answers.yes_no(), answers.districts(catalog, language), answers.numbers(),
                                 answers.dates()):
                    self.recognizer.prepare_answers(language, expected)
            logger.info("Speech: expected-answer grammars ready")
        except Exception as error:  # preparing is an optimisation: the first note will do it instead
            logger.warning("Speech: could not prepare answer grammars (%s)", error, exc_info=True)

    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str],
                         expected: Optional[Sequence[Expected]] = None, free_text: bool = True) -> SpeechResult:
        return await self.recognizer.transcribe(audio, mime_type, language_hint, expected, free_text)


def default_transcriber() -> Transcriber:
    if os.environ.get("SPEECH_ENABLED", "true").strip().lower() in ("0", "false", "no", "off"):
        logger.info("Speech recognition is off (SPEECH_ENABLED=false): voice notes get 'please type'")
        return NoTranscriber()
    try:
        from speech.model_store import ModelError
        from speech.recognizer import SpeechRecognizer

        try:
            return RecognizerTranscriber(SpeechRecognizer())
        except (ModelError, ValueError) as error:
            logger.error("Speech recognition is unavailable: %s", error)
            return NoTranscriber()
    except ImportError as error:  # faster-whisper missing from the environment
        logger.error("Speech recognition is unavailable: %s", error)
        return NoTranscriber()

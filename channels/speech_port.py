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
from typing import Optional, Protocol

from speech.result import Outcome, SpeechResult

logger = logging.getLogger(__name__)


class Transcriber(Protocol):
    max_seconds: float
    max_bytes: int

    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str]) -> SpeechResult:
        """The transcript, or the reason there is none (``SpeechResult.outcome``)."""


class NoTranscriber:
    """Used when speech is switched off or its model failed to load."""

    max_seconds = 120.0
    max_bytes = 16 * 1024 * 1024

    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str]) -> SpeechResult:
        return SpeechResult(Outcome.UNAVAILABLE, language=language_hint, reason="speech recognition is off")


class RecognizerTranscriber:
    """Adapts ``speech.recognizer.SpeechRecognizer`` to the channel's port."""

    def __init__(self, recognizer):
        self.recognizer = recognizer
        self.max_seconds = recognizer.settings.max_seconds
        self.max_bytes = recognizer.settings.max_bytes

    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str]) -> SpeechResult:
        return await self.recognizer.transcribe(audio, mime_type, language_hint)


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

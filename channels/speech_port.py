"""The channel's door to speech recognition: audio bytes in, text (or nothing) out.

The WhatsApp channel downloads a voice note and hands it here. Until a transcriber is
plugged in (the speech/ package), ``transcribe`` answers None and the channel tells the
citizen, in their language, that voice notes are coming soon — never silence.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol


@dataclass(frozen=True)
class Transcript:
    text: str
    language: Optional[str]
    confidence: float


class Transcriber(Protocol):
    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str]) -> Optional[Transcript]:
        """The transcript, or None when speech cannot be understood or is not available."""


class NoTranscriber:
    """The default until speech recognition is configured: nothing is transcribed."""

    available = False

    async def transcribe(self, audio: bytes, mime_type: str, language_hint: Optional[str]) -> Optional[Transcript]:
        return None


def default_transcriber() -> Transcriber:
    return NoTranscriber()

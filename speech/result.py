"""What a transcription attempt produced, including every way it can fail."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional


class Outcome(str, Enum):
    OK = "ok"
    UNCLEAR = "unclear"  # speech, but too unsure to act on (low confidence, repetition, wrong script)
    SILENT = "silent"  # no sound worth decoding
    TOO_LONG = "too_long"
    TOO_LARGE = "too_large"
    NOT_AUDIO = "not_audio"
    CORRUPT = "corrupt"  # looks like audio, cannot be decoded
    BUSY = "busy"  # too many voice notes waiting; try again shortly
    UNAVAILABLE = "unavailable"  # no speech model loaded


@dataclass(frozen=True)
class SpeechResult:
    outcome: Outcome
    text: str = ""  # normalised transcript, only when ``outcome`` is OK
    language: Optional[str] = None  # en / hi / or: the route used
    confidence: float = 0.0  # 0..1, exp of the mean token log-probability
    duration: float = 0.0  # seconds of audio
    raw_text: Optional[str] = None  # what the model wrote, before normalisation and gating
    reason: str = ""  # why it was rejected, for logs and tests (never shown to citizens)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

"""What a transcription attempt produced, including every way it can fail."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional, Tuple


class Outcome(str, Enum):
    OK = "ok"  # a transcript to use as if typed
    CHOICE = "choice"  # one of the expected answers was heard (``SpeechResult.choice``)
    SUGGEST = "suggest"  # maybe one of these expected answers (``SpeechResult.alternatives``)
    TYPE_INSTEAD = "type_instead"  # free text (a name, an address) this route cannot write down reliably
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
    choice: Optional[str] = None  # the expected answer heard (CHOICE; also beside an OK English transcript)
    alternatives: Tuple[str, ...] = ()  # the likeliest expected answers, best first (SUGGEST)
    evidence: float = 0.0  # how strongly the audio supports the best expected answer (log-likelihood ratio)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def usable(self) -> bool:
        """Something to act on: a transcript or an answer."""
        return self.outcome in (Outcome.OK, Outcome.CHOICE)

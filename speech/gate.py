"""Decide whether a transcript is sure enough to act on.

A wrong guess is worse than asking again: the citizen would get an answer to something
they never said. Whisper signals doubt through the mean token log-probability and the
no-speech probability; a model that has lost its way repeats itself or copies its prompt.

faster-whisper applies the no-speech rule itself (``transcribe``'s ``no_speech_threshold``
and ``log_prob_threshold``, given NO_SPEECH and NO_SPEECH_LOGPROB): a window it judges
silent yields no segment. The rest is judged here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

MIN_AVG_LOGPROB = -1.0  # Whisper's own threshold for "this decode failed"
NO_SPEECH = 0.6  # transcribe's no_speech_threshold: above it, with a weak log-probability, nobody spoke
NO_SPEECH_LOGPROB = -0.5  # transcribe's log_prob_threshold ("weak"; one temperature, so no fallback)
MAX_COMPRESSION = 2.4  # per 30 s window, as Whisper itself judges: a looping decode compresses too well
MAX_RUN = 3  # the same word this many times in a row
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Decoded:
    text: str
    avg_logprob: float  # token-weighted mean over segments
    no_speech_prob: float  # highest over segments (1.0 when Whisper kept none)
    compression: float = 0.0  # highest gzip compression ratio of one segment's text


def repeated_run(text: str) -> int:
    """Length of the longest run of one word (or two-word phrase) repeated back to back."""
    words = [w.lower() for w in _WORDS.findall(text)]
    best = 1 if words else 0
    for size in (1, 2):
        run = 1
        for i in range(size, len(words) - size + 1, size):
            run = run + 1 if words[i:i + size] == words[i - size:i] else 1
            best = max(best, run)
    return best


def rejection(decoded: Decoded, unreadable: float, prompt: Optional[str] = None) -> Optional[str]:
    """Why the transcript should not be used, or None when it is good enough."""
    text = decoded.text.strip()
    if not _WORDS.search(text):
        return "no speech" if decoded.no_speech_prob > NO_SPEECH else "empty"
    if decoded.avg_logprob < MIN_AVG_LOGPROB:
        return f"low log-probability {decoded.avg_logprob:.2f}"
    if repeated_run(text) >= MAX_RUN or decoded.compression > MAX_COMPRESSION:
        return "repetition"
    if unreadable > 0.2:
        return f"unexpected script ({unreadable:.0%})"
    if prompt and _key(text) and _key(text) in _key(prompt):
        return "echo of the prompt"
    return None


def combine(segments: Sequence) -> Decoded:
    """One Decoded from faster-whisper segments (token-weighted log-probability; the
    compression ratio faster-whisper computed for each segment's text)."""
    text = " ".join(s.text.strip() for s in segments).strip()
    weights = [max(1, len(getattr(s, "tokens", []) or [])) for s in segments]
    total = sum(weights)
    avg = sum(s.avg_logprob * w for s, w in zip(segments, weights, strict=True)) / total if total else -10.0
    no_speech = max((s.no_speech_prob for s in segments), default=1.0)
    compression = max((s.compression_ratio for s in segments), default=0.0)
    return Decoded(text, avg, no_speech, compression)


def _key(text: str) -> str:
    return "".join(_WORDS.findall(text.lower()))

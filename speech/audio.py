"""Audio bytes to 16 kHz mono samples, refusing what is too large, too long or not audio.

Limits are checked before the expensive work: size before parsing, the container's
duration before decoding, and decoding stops as soon as the limit is passed (a file may
lie about its duration).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Optional

import av
import numpy as np

from speech.result import Outcome

SAMPLE_RATE = 16000
SILENCE_RMS = 0.003  # about -50 dBFS: quieter frames never count as voiced (speech_seconds)
_AUDIO_MAGIC = (b"OggS", b"RIFF", b"ID3", b"fLaC", b"#!AMR", b"\x1aE\xdf\xa3")


class AudioRejected(Exception):
    def __init__(self, outcome: Outcome, reason: str, duration: float = 0.0):
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.duration = duration


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32, mono, 16 kHz
    duration: float


def looks_like_audio(data: bytes) -> bool:
    """Whether the bytes start like a container or codec we know carries audio."""
    head = data[:12]
    return (head.startswith(_AUDIO_MAGIC) or head[4:8] == b"ftyp"
            or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0))  # MP3/AAC frame sync


def load(data: bytes, max_bytes: int, max_seconds: float) -> Audio:
    """Decoded samples, or AudioRejected saying which limit or check failed."""
    if len(data) > max_bytes:
        raise AudioRejected(Outcome.TOO_LARGE, f"{len(data)} bytes > {max_bytes}")
    if not data:
        raise AudioRejected(Outcome.NOT_AUDIO, "empty file")
    damaged = Outcome.CORRUPT if looks_like_audio(data) else Outcome.NOT_AUDIO
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except Exception as error:  # FFmpeg's many complaints about a file it cannot parse
        raise AudioRejected(damaged, f"cannot open: {error.__class__.__name__}") from None
    with container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise AudioRejected(Outcome.NOT_AUDIO, "no audio stream")
        declared = container.duration / 1_000_000 if container.duration else None
        if declared is not None and declared > max_seconds:
            raise AudioRejected(Outcome.TOO_LONG, f"{declared:.1f} s > {max_seconds:g} s", declared)
        samples = _decode(container, streams[0], max_seconds, damaged)
    duration = len(samples) / SAMPLE_RATE
    if duration == 0:
        raise AudioRejected(damaged, "no samples decoded")
    return Audio(samples, duration)  # a note with no speech in it is found by the VAD (speech/recognizer.py)


def _decode(container, stream, max_seconds: float, damaged: Outcome) -> np.ndarray:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    limit = int(max_seconds * SAMPLE_RATE)
    chunks, total = [], 0
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                array = out.to_ndarray().reshape(-1)
                chunks.append(array)
                total += array.size
            if total > limit:
                raise AudioRejected(Outcome.TOO_LONG, f"more than {max_seconds:g} s of audio", total / SAMPLE_RATE)
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except AudioRejected:
        raise
    except Exception as error:  # a damaged packet somewhere in the file
        if total < SAMPLE_RATE // 2:  # less than half a second survived: nothing to transcribe
            raise AudioRejected(damaged, f"decoding failed: {error.__class__.__name__}") from None
        # a damaged tail after real speech: keep what decoded, as WhatsApp's player would
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def speech_seconds(samples: np.ndarray, frame: float = 0.03) -> float:
    """Seconds of a clip that carry voice: 30 ms frames louder than a fifth of its loud
    frames (and than silence). Pauses and a quiet background do not count."""
    size = int(SAMPLE_RATE * frame)
    count = len(samples) // size
    if count == 0:
        return 0.0
    energy = np.sqrt(np.mean(np.square(samples[:count * size].reshape(count, size)), axis=1))
    floor = max(SILENCE_RMS, 0.2 * float(np.percentile(energy, 95)))
    return float(np.count_nonzero(energy > floor)) * frame


def duration_hint(data: bytes) -> Optional[float]:
    """The container's declared duration in seconds, if it has one (for benchmarks)."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            return container.duration / 1_000_000 if container.duration else None
    except Exception:
        return None

"""Speech settings from the environment (names in DESIGN.md), with embedded defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional

from seva.language import LANGUAGES  # noqa: F401  (re-exported for speech/)

# The voice limits, defined here only (the channel, the actions and the replies that quote
# them read these, or the values in force from SpeechSettings)
MAX_MEGABYTES = 16  # WhatsApp's own limit for audio
MAX_BYTES = MAX_MEGABYTES * 1024 * 1024
MAX_SECONDS = 120.0


def _number(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{key}={raw!r} is not a number") from None


@dataclass(frozen=True)
class SpeechSettings:
    model: str = ""  # SPEECH_MODEL: a CTranslate2 Whisper folder; empty = packaged base model
    language_models: Dict[str, str] = field(default_factory=dict)  # SPEECH_MODEL_OR / _HI / _EN
    # SPEECH_LANGUAGE_TOKEN_OR etc.: the Whisper language token a route decodes with;
    # "none" for fine-tunes trained without one.
    language_tokens: Dict[str, str] = field(default_factory=dict)
    odia_proxy: str = "hi"  # SPEECH_ODIA_PROXY: Whisper has no Odia; chosen by bench/speech_odia_route.py
    compute_type: str = "int8"
    threads: int = 2  # SPEECH_THREADS: CPU threads per decode
    workers: int = 1  # SPEECH_WORKERS: voice notes decoded at the same time
    queue_limit: int = 8  # SPEECH_QUEUE_LIMIT: voice notes allowed to wait; more get "busy"
    max_seconds: float = MAX_SECONDS  # SPEECH_MAX_SECONDS
    max_bytes: int = MAX_BYTES  # SPEECH_MAX_BYTES
    beam_size: int = 5
    nice: int = 10  # SPEECH_NICE: decoding yields the CPU to text replies (Linux thread niceness)
    cache_dir: Optional[str] = None  # SPEECH_CACHE_DIR

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "SpeechSettings":
        env = os.environ if env is None else env
        models = {lang: env[f"SPEECH_MODEL_{lang.upper()}"].strip() for lang in LANGUAGES
                  if env.get(f"SPEECH_MODEL_{lang.upper()}", "").strip()}
        tokens = {lang: env[f"SPEECH_LANGUAGE_TOKEN_{lang.upper()}"].strip().lower() for lang in LANGUAGES
                  if env.get(f"SPEECH_LANGUAGE_TOKEN_{lang.upper()}", "").strip()}
        return cls(
            model=env.get("SPEECH_MODEL", "").strip(),
            language_models=models,
            language_tokens=tokens,
            odia_proxy=env.get("SPEECH_ODIA_PROXY", "").strip() or "hi",
            compute_type=env.get("SPEECH_COMPUTE_TYPE", "").strip() or "int8",
            threads=int(_number(env, "SPEECH_THREADS", min(4, os.cpu_count() or 2))),
            workers=max(1, int(_number(env, "SPEECH_WORKERS", 1))),
            queue_limit=max(0, int(_number(env, "SPEECH_QUEUE_LIMIT", 8))),
            max_seconds=_number(env, "SPEECH_MAX_SECONDS", MAX_SECONDS),
            max_bytes=int(_number(env, "SPEECH_MAX_BYTES", MAX_BYTES)),
            beam_size=max(1, int(_number(env, "SPEECH_BEAM_SIZE", 5))),
            nice=max(0, min(19, int(_number(env, "SPEECH_NICE", 10)))),
            cache_dir=env.get("SPEECH_CACHE_DIR") or None,
        )

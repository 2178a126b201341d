"""Every use of faster-whisper's and CTranslate2's non-public parts, in one place.

The rest of speech/ uses faster-whisper's public API: ``WhisperModel(...)``,
``WhisperModel.transcribe`` (free transcripts: ``vad_filter``, its no-speech and
log-probability thresholds) and ``WhisperModel.detect_language`` (a note with no language
yet), with ``faster_whisper.vad.VadOptions``, the documented type of their
``vad_parameters``.

What is used here that faster-whisper does not document or export, and why:

1. Scoring expected answers (speech/matcher.py, speech/decoder.py) reads the encoder
   output of a note's first 30 s window, which ``transcribe`` never hands out:
   ``WhisperModel.feature_extractor`` (called on the samples; ``.nb_max_frames``),
   ``WhisperModel.encode(features)`` and ``faster_whisper.audio.pad_or_trim``.
2. The matcher's token ids: ``faster_whisper.tokenizer.Tokenizer(hf_tokenizer,
   multilingual, task=, language=)`` with ``.sot``, ``.transcribe``, ``.no_timestamps``,
   ``.eot``, ``.encode``, ``.decode`` and ``.tokenizer`` (the Hugging Face tokenizer);
   ``WhisperModel.hf_tokenizer`` and ``WhisperModel.model.is_multilingual`` to build it.
3. A configured model trained without a language token (``SPEECH_LANGUAGE_TOKEN_<LANG>=none``,
   the default for ``SPEECH_MODEL_OR``): ``transcribe`` always puts one in the prompt. We let
   ``transcribe`` build its options (``TranscriptionInfo.transcription_options``; nothing is
   decoded, its segments are lazy) and run ``WhisperModel.generate_segments`` with a
   ``Tokenizer`` whose ``.language`` is None, on the speech ``vad_filter`` would keep
   (``faster_whisper.vad.collect_chunks``).
4. Silence before any model work (the "silent" outcome, and no language detection or
   answer scoring on a note without speech): ``faster_whisper.vad.get_speech_timestamps``,
   the function ``vad_filter`` itself runs, with the same options.
5. speech/ct2_weights.py reads ``model.bin`` in CTranslate2's binary layout (versions 5 and
   6) for the numpy decoder; tests/speech/test_answers.py checks that decoder against
   CTranslate2's own scores.

The versions are pinned in requirements.txt (``PINNED`` below must match).
tests/unit/test_speech_parts.py (``test_the_whisper_internals_speech_uses_are_still_there``)
fails with the list of what changed when an upgrade moves any of them; ``problems()``
is what it checks.
"""
from __future__ import annotations

import inspect
import logging
from importlib import metadata
from typing import Dict, List, Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)

PINNED: Dict[str, str] = {"faster-whisper": "1.2.1", "ctranslate2": "4.8.5"}


# ------------------------------------------------------------- 1. the encoder
def encode_first_window(model, samples: np.ndarray):
    """The clip's log-mel features, and the encoder output of its first 30 s window: the
    window ``transcribe`` would encode first (it drops the feature extractor's last frame)."""
    from faster_whisper.audio import pad_or_trim

    features = model.feature_extractor(samples)
    first = min(model.feature_extractor.nb_max_frames, features.shape[-1] - 1)
    return features, model.encode(pad_or_trim(features[:, :first]))


# ------------------------------------------------------------ 2. token ids
def tokenizer(model, language: str = "en"):
    """faster-whisper's Tokenizer of a loaded model (special token ids, encode, decode)."""
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)


# ------------------------------------------------ 3. no language token
def transcribe_without_language_token(model, samples: np.ndarray, chunks: Sequence[dict], **options):
    """The segments ``model.transcribe(samples, vad_filter=True, **options)`` would give,
    decoded with no language token in the prompt (fine-tunes trained without one)."""
    from faster_whisper.vad import collect_chunks

    speech = np.concatenate(collect_chunks(samples, list(chunks))[0]) if chunks else samples
    if not model.model.is_multilingual:  # an English-only model has no language token anyway
        return model.transcribe(speech, vad_filter=False, **options)[0]
    _, info = model.transcribe(speech, language="en", vad_filter=False, **options)  # lazy: nothing decoded
    ids = tokenizer(model, "en")
    ids.language = None
    return model.generate_segments(model.feature_extractor(speech), ids, info.transcription_options,
                                   log_progress=False)


# ------------------------------------------------------------------ 4. silence
def speech_chunks(samples: np.ndarray, vad_options) -> List[dict]:
    """Where the note has speech (start and end samples), as ``vad_filter`` finds it."""
    from faster_whisper.vad import get_speech_timestamps

    return get_speech_timestamps(samples, vad_options)


# ------------------------------------------------------------------ checks
def installed() -> Dict[str, Optional[str]]:
    found: Dict[str, Optional[str]] = {}
    for name in PINNED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _parameters(function) -> List[str]:
    return [p for p in inspect.signature(function).parameters if p != "self"]


def problems(model=None) -> List[str]:
    """What no longer matches what this module relies on (empty when all is well).
    ``model``: a loaded WhisperModel, to check its instance attributes too."""
    from faster_whisper import WhisperModel, audio, transcribe, vad
    from faster_whisper import tokenizer as tokenizer_module
    from faster_whisper.feature_extractor import FeatureExtractor

    found: List[str] = []
    for name, version in installed().items():
        if version != PINNED[name]:
            found.append(f"{name} {version} is installed, speech/ is pinned to {PINNED[name]}")

    def expect(what: str, function, leading: Sequence[str]) -> None:
        if function is None:
            found.append(f"{what} is gone")
            return
        names = _parameters(function)
        if names[:len(leading)] != list(leading):
            found.append(f"{what} now takes ({', '.join(names)}), expected ({', '.join(leading)}, …)")

    expect("faster_whisper.vad.get_speech_timestamps", getattr(vad, "get_speech_timestamps", None),
           ["audio", "vad_options"])
    expect("faster_whisper.vad.collect_chunks", getattr(vad, "collect_chunks", None), ["audio", "chunks"])
    expect("faster_whisper.audio.pad_or_trim", getattr(audio, "pad_or_trim", None), ["array"])
    expect("WhisperModel.encode", getattr(WhisperModel, "encode", None), ["features"])
    expect("WhisperModel.generate_segments", getattr(WhisperModel, "generate_segments", None),
           ["features", "tokenizer", "options", "log_progress"])
    expect("WhisperModel.transcribe", getattr(WhisperModel, "transcribe", None), ["audio", "language"])
    expect("FeatureExtractor.__call__", FeatureExtractor.__call__, ["waveform"])
    expect("Tokenizer", getattr(tokenizer_module, "Tokenizer", None),
           ["tokenizer", "multilingual", "task", "language"])
    for name in ("sot", "transcribe", "no_timestamps", "eot", "encode", "decode"):
        if not hasattr(getattr(tokenizer_module, "Tokenizer", object), name):
            found.append(f"Tokenizer.{name} is gone")
    info_fields = getattr(transcribe.TranscriptionInfo, "__dataclass_fields__", {})
    if "transcription_options" not in info_fields:
        found.append("TranscriptionInfo.transcription_options is gone")
    segment_fields = set(getattr(transcribe.Segment, "__dataclass_fields__", {}))
    for name in ("text", "tokens", "avg_logprob", "no_speech_prob", "compression_ratio"):
        if name not in segment_fields:
            found.append(f"Segment.{name} is gone")
    if not hasattr(FeatureExtractor(), "nb_max_frames"):
        found.append("FeatureExtractor.nb_max_frames is gone")
    if model is not None:
        for name in ("feature_extractor", "hf_tokenizer", "model"):
            if not hasattr(model, name):
                found.append(f"WhisperModel.{name} is gone")
        if not isinstance(getattr(getattr(model, "model", None), "is_multilingual", None), bool):
            found.append("WhisperModel.model.is_multilingual is gone")
        try:
            if not hasattr(tokenizer(model), "language"):
                found.append("Tokenizer.language is gone")
        except Exception as error:  # noqa: BLE001 - reported, not raised
            found.append(f"Tokenizer(model.hf_tokenizer, …) fails: {error!r}")
    return found


def warn_if_changed() -> None:
    """Log once at model load when the installed versions are not the pinned ones."""
    changed = {name: version for name, version in installed().items() if version != PINNED[name]}
    if changed:
        logger.warning("Speech: %s installed; speech/whisper_internals.py was checked against %s "
                       "(run tests/unit/test_speech_parts.py)", changed, PINNED)

"""Transcribe voice notes with faster-whisper: one shared model per folder, loaded at
start-up, decoding in a bounded thread pool so the event loop keeps serving text.

Each conversation language has a *route*: which model folder, which Whisper language token
(or none, for fine-tunes trained without one), which prompt, and which script the output
is brought into. Odia has no Whisper token, so by default it goes through a proxy language
chosen by measurement (bench/speech_odia_route.py) and comes back transliterated to Odia.

faster-whisper's public API does what it offers: silence (Silero VAD, as ``vad_filter``
runs it), the language of a note with no hint (``WhisperModel.detect_language``) and free
transcripts (``WhisperModel.transcribe`` with ``vad_filter`` and its own no-speech
threshold). Scoring expected answers needs the encoder output, which that API does not
hand out: those few internals are in speech/whisper_internals.py, version-pinned.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from speech import audio as audio_io
from speech import gate, model_store, script, whisper_internals
from speech.answers import NULL_CLIPS, AnswerScorer, Heard, decide
from speech.grammar import Expected
from speech.grammar import Route as GrammarRoute
from speech.matcher import Scores
from speech.result import Outcome, SpeechResult
from speech.settings import SpeechSettings

logger = logging.getLogger(__name__)

# A neutral sentence in the script we want back: it keeps Hindi out of Urdu script
# without putting words in the model's mouth (a prompt naming a service gets copied
# into transcripts of unrelated speech; measured while choosing this one).
DEVANAGARI_PROMPT = "मैं हिंदी में बोल रहा हूँ।"
ENGLISH_IF_AT_LEAST = 0.5  # no hint: English or Hindi only (Odia cannot be detected); see _detect
DETECTION_WINDOWS = 1  # the language is detected on the first 30 s of speech
WINDOW_SECONDS = 30.0
Expectation = Union[Expected, Sequence[Expected]]  # what a turn can take: one or several answer sets


@dataclass(frozen=True)
class Route:
    model: Path  # CTranslate2 Whisper folder
    whisper_language: Optional[str]  # token to decode with; None = no language token
    output_script: str  # en / hi / or: the script the transcript is brought into
    prompt: Optional[str] = None
    own_model: bool = False  # a model configured for this language (SPEECH_MODEL_<LANG>)

    @property
    def writes_free_text(self) -> bool:
        """Whether its free transcripts can be trusted as if typed: English on any model,
        Hindi and Odia only on a model of their own (docs/speech.md, per field type)."""
        return self.output_script == "en" or self.own_model


@lru_cache(maxsize=1)
def vad_options():
    """faster-whisper's own VAD defaults (Silero; speech probability 0.5, silences under
    2 s kept, 0.4 s of padding): used for the "silent" outcome, for detection and for
    ``vad_filter``, so all three agree on where the speech is."""
    from faster_whisper.vad import VadOptions

    return VadOptions()


def max_new_tokens(seconds: float) -> int:
    """Tokens allowed per 30 s window: generous for fast Devanagari speech, never runaway."""
    return int(min(200, 16 + 14 * min(seconds, WINDOW_SECONDS)))


class SpeechRecognizer:
    """Bytes in, SpeechResult out. Thread-safe; ``transcribe`` is the async entry point."""

    def __init__(self, settings: Optional[SpeechSettings] = None, load: bool = True):
        self.settings = settings or SpeechSettings.from_env()
        cache = Path(self.settings.cache_dir) if self.settings.cache_dir else None
        default = model_store.resolve(self.settings.model, "SPEECH_MODEL", cache)
        self._routes: Dict[str, Route] = {}
        for lang in ("en", "hi", "or"):
            custom = self.settings.language_models.get(lang)
            folder = model_store.resolve(custom, f"SPEECH_MODEL_{lang.upper()}", cache) if custom else default
            self._routes[lang] = self._route_for(lang, folder, custom is not None)
        self._models: Dict[Path, object] = {}
        self._scorers: Dict[Path, AnswerScorer] = {}
        self._model_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="speech",
                                        initializer=_lower_priority, initargs=(self.settings.nice,))
        self._admitted = 0
        self._admit_lock = threading.Lock()
        if load:
            # loaded from a pool thread, so the decoder's own threads inherit its lower priority
            self._pool.submit(self.warm_up).result()

    def warm_up(self) -> None:
        """Load every route's model and the VAD, and decode once: the first decode of a
        fresh model pays for memory allocation (measured: about twice the time of the
        next), and a citizen's first voice note should not."""
        noise = np.random.default_rng(0).normal(0, 0.05, audio_io.SAMPLE_RATE).astype(np.float32)
        whisper_internals.speech_chunks(noise, vad_options())
        warmed = set()
        for language, route in self._routes.items():
            if route.model not in warmed:  # noise has no speech: decoded without the VAD
                self._decode(audio_io.Audio(noise, 1.0), route, language, vad=False)
                warmed.add(route.model)

    def _route_for(self, lang: str, folder: Path, custom: bool) -> Route:
        token = self.settings.language_tokens.get(lang)
        if token is None:
            if lang == "or":
                token = "none" if custom else self.settings.odia_proxy
            else:
                token = lang
        whisper_language = None if token == "none" else token
        prompt = DEVANAGARI_PROMPT if whisper_language in ("hi", "mr") and not custom else None
        return Route(folder, whisper_language, lang, prompt, own_model=custom)

    # ------------------------------------------------------------------ models
    def route(self, language: str) -> Route:
        return self._routes[language]

    def model_folder(self, language: str) -> Path:
        return self._routes[language].model

    def _model(self, folder: Path):
        with self._model_lock:
            model = self._models.get(folder)
            if model is None:
                from faster_whisper import WhisperModel  # heavy import, only where speech is used

                started = time.perf_counter()
                try:
                    model = WhisperModel(str(folder), device="cpu", compute_type=self.settings.compute_type,
                                         cpu_threads=self.settings.threads, num_workers=self.settings.workers)
                except Exception as error:  # CTranslate2 says why (format, compute type …)
                    raise model_store.ModelError(f"cannot load the speech model in {folder}: {error}") from error
                if not self._models:
                    whisper_internals.warn_if_changed()
                self._models[folder] = model
                logger.info("Speech model %s loaded in %.1f s", folder, time.perf_counter() - started)
            return model

    # --------------------------------------------------------------- async API
    async def transcribe(self, data: bytes, mime_type: str = "audio/ogg", language_hint: Optional[str] = None,
                         expected: Optional[Expectation] = None, free_text: bool = True) -> SpeechResult:
        """Transcribe off the event loop; BUSY at once when too many notes are waiting."""
        with self._admit_lock:
            if self._admitted >= self.settings.workers + self.settings.queue_limit:
                return SpeechResult(Outcome.BUSY, language=language_hint, reason="queue full")
            self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self.transcribe_sync, data, language_hint, expected,
                                              free_text)
        finally:
            with self._admit_lock:
                self._admitted -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- decoding
    def transcribe_sync(self, data: bytes, language_hint: Optional[str] = None,
                        expected: Optional[Expectation] = None, free_text: bool = True) -> SpeechResult:
        """The note's transcript or answer, or why there is none.

        ``expected``: the answers the turn can take (speech/grammar.py). Hindi and Odia on
        the base model are then matched against them instead of transcribed freely; a
        route that writes free text well (English, a language's own model) is transcribed
        as before and the answer heard is attached as a help (``choice``), never a cage.
        ``free_text``: whether the turn also takes free text (a name, an address): where
        the route cannot write it down, the citizen is asked to type (TYPE_INSTEAD)."""
        hint = language_hint if language_hint in self._routes else None
        try:
            clip = audio_io.load(data, self.settings.max_bytes, self.settings.max_seconds)
        except audio_io.AudioRejected as rejected:
            return SpeechResult(rejected.outcome, language=hint, duration=rejected.duration, reason=rejected.reason)
        try:
            chunks = whisper_internals.speech_chunks(clip.samples, vad_options())
            if not chunks:
                return SpeechResult(Outcome.SILENT, language=hint, duration=clip.duration, reason="no speech (VAD)")
            language = hint if hint is not None else self._detect(clip)
            route = self._routes[language]
            if expected is not None and not route.writes_free_text:
                return self._listen(clip, route, language, expected, free_text, hint is None)
            result = self._decode(clip, route, language, chunks=chunks)
            if expected is None:
                return result
            # the expected answers help, they do not cage: a transcript stays a transcript
            # (with the answer heard attached); one the gate refused may still be an answer
            heard = self._hear(clip, route, language, expected, hint is None, self._encode(clip, route)[1])
            if result.ok:
                return replace(result, choice=heard.value, evidence=heard.evidence) \
                    if heard.outcome == "choice" else result
            if result.outcome is Outcome.UNCLEAR and heard.outcome == "choice":
                return SpeechResult(Outcome.CHOICE, choice=heard.value, evidence=heard.evidence, language=language,
                                    duration=clip.duration, confidence=min(1.0, max(0.0, heard.evidence / 20.0)))
            if result.outcome is Outcome.UNCLEAR and heard.outcome == "suggest":
                return SpeechResult(Outcome.SUGGEST, alternatives=heard.alternatives, evidence=heard.evidence,
                                    language=language, duration=clip.duration)
            return result
        except Exception as error:  # a decoder failure must not leave the citizen without a reply
            logger.exception("Speech decoding failed")
            return SpeechResult(Outcome.UNCLEAR, language=hint, duration=clip.duration,
                                reason=f"decoder error: {error.__class__.__name__}")

    def _listen(self, clip: audio_io.Audio, route: Route, language: str, expected: Expectation, free_text: bool,
                unknown_language: bool) -> SpeechResult:
        """Hindi or Odia on the base model: which expected answer, if any (never a free
        transcript, which would be wrong more often than right)."""
        heard = self._hear(clip, route, language, expected, unknown_language, self._encode(clip, route)[1])
        spoken = heard.language if unknown_language and heard.language in self._routes else language
        common: Dict[str, Any] = dict(language=spoken, duration=clip.duration, evidence=heard.evidence,
                                      confidence=min(1.0, max(0.0, heard.evidence / 20.0)))
        if heard.outcome == "choice":
            return SpeechResult(Outcome.CHOICE, choice=heard.value, **common)
        if heard.outcome == "suggest":
            return SpeechResult(Outcome.SUGGEST, alternatives=heard.alternatives, **common)
        if free_text:
            return SpeechResult(Outcome.TYPE_INSTEAD, reason="free text on a route that cannot write it", **common)
        return SpeechResult(Outcome.UNCLEAR, reason=f"no expected answer (evidence {heard.evidence:.1f}, "
                                                    f"margin {heard.margin:.1f})", **common)

    def _hear(self, clip: audio_io.Audio, route: Route, language: str, expected: Expectation, unknown_language: bool,
              encoded) -> Heard:
        return decide(self._scores(route, language, expected, unknown_language, encoded),
                      _as_tuple(expected)[0].kind, speech_seconds=audio_io.speech_seconds(clip.samples))

    def _scores(self, route: Route, language: str, expected: Expectation, unknown_language: bool,
                encoded) -> Scores:
        languages = _answer_languages(language, unknown_language)
        grammar_route = GrammarRoute(language, route.whisper_language, route.own_model)
        return self.answers(route.model).score(np.asarray(encoded), _as_tuple(expected), grammar_route, languages)

    def prepare_answers(self, language: str, expected: Expectation, unknown_language: bool = False) -> None:
        """Compile the grammars of answer sets and compute their priors now (or load them
        from the cache), so the first citizen to need them does not wait."""
        route = self._routes[language]
        languages = _answer_languages(language, unknown_language)
        scorer = self.answers(route.model)
        grammar_route = GrammarRoute(language, route.whisper_language, route.own_model)
        for answers in _as_tuple(expected):
            for grammar in scorer.grammars(answers, grammar_route, languages):
                scorer.matcher.prepare(grammar)

    def score_answers(self, data: bytes, language: str, expected: Expectation) -> Tuple[Scores, float]:
        """Every expected answer's evidence for a note, best first, and the seconds of the
        note that carry voice (benchmarks calibrate speech/answers.py with these)."""
        clip = audio_io.load(data, self.settings.max_bytes, self.settings.max_seconds)
        route = self._routes[language]
        _, encoded = self._encode(clip, route)
        return self._scores(route, language, expected, False, encoded), audio_io.speech_seconds(clip.samples)

    def _encode(self, clip: audio_io.Audio, route: Route):
        """Features and the first window's encoder output, for scoring the expected answers."""
        return whisper_internals.encode_first_window(self._model(route.model), clip.samples)

    def answers(self, folder: Path) -> AnswerScorer:
        """The expected-answer scorer of a model folder (built once: decoder weights and
        the null clips' encodings)."""
        with self._model_lock:
            scorer = self._scorers.get(folder)
        if scorer is None:
            model = self._model(folder)
            nulls = []
            for path in sorted(NULL_CLIPS.glob("*.ogg")):
                null = audio_io.load(path.read_bytes(), self.settings.max_bytes, self.settings.max_seconds)
                nulls.append(np.asarray(whisper_internals.encode_first_window(model, null.samples)[1]))
            identity = f"{model_store.identity(folder)}|{_files_digest(sorted(NULL_CLIPS.glob('*.ogg')))}"
            cache = Path(self.settings.cache_dir) if self.settings.cache_dir else model_store.default_cache_dir()
            built = AnswerScorer(model, folder, nulls, cache / "priors", identity)
            with self._model_lock:
                scorer = self._scorers.setdefault(folder, built)
        return scorer

    def transcribe_with_route(self, data: bytes, route: Route, language: str) -> SpeechResult:
        """Decode with an explicit route (benchmarks compare routes with this)."""
        try:
            clip = audio_io.load(data, self.settings.max_bytes, self.settings.max_seconds)
        except audio_io.AudioRejected as rejected:
            return SpeechResult(rejected.outcome, language=language, duration=rejected.duration, reason=rejected.reason)
        if route.whisper_language in ("hi", "mr") and route.prompt is None:
            route = replace(route, prompt=DEVANAGARI_PROMPT)
        return self._decode(clip, route, language)

    def _detect(self, clip: audio_io.Audio) -> str:
        """English only when Whisper is sure it hears English, otherwise Hindi
        (``WhisperModel.detect_language`` on the note's speech, first 30 s: an encoder pass
        of its own).

        Speech in Odisha that is not clearly English is far likelier Hindi or Odia, and
        both take the Devanagari route. Whisper base spreads its doubt over unrelated
        languages for Indian voices (measured on the test clips: English clips score
        0.69-0.96 for "en", Hindi and Odia clips mostly below 0.35), so a plain arg-max
        between "en" and "hi" would send most Hindi to the English route. With one window
        faster-whisper returns the likeliest language and its probability; English must
        be that language with at least ENGLISH_IF_AT_LEAST.
        """
        model = self._model(self._routes["en"].model)
        detected, probability, _ = model.detect_language(
            clip.samples, vad_filter=True, vad_parameters=vad_options(),
            language_detection_segments=DETECTION_WINDOWS, language_detection_threshold=ENGLISH_IF_AT_LEAST)
        return "en" if detected == "en" and probability >= ENGLISH_IF_AT_LEAST else "hi"

    def _decode(self, clip: audio_io.Audio, route: Route, language: str, chunks=None, vad: bool = True
                ) -> SpeechResult:
        """A free transcript with ``WhisperModel.transcribe``, judged by speech/gate.py.

        ``vad_filter`` keeps only the speech; faster-whisper skips a window it judges
        silent (no-speech probability above gate.NO_SPEECH while the mean log-probability
        is not above gate.NO_SPEECH_LOGPROB). One temperature: a failed decode is reported,
        not retried, so the compression-ratio threshold only marks it (the gate reads it)."""
        model = self._model(route.model)
        options = dict(
            beam_size=self.settings.beam_size, best_of=1, temperature=0.0,
            no_speech_threshold=gate.NO_SPEECH, log_prob_threshold=gate.NO_SPEECH_LOGPROB,
            compression_ratio_threshold=gate.MAX_COMPRESSION, condition_on_previous_text=False,
            initial_prompt=route.prompt, without_timestamps=True, max_new_tokens=max_new_tokens(clip.duration),
        )
        if route.whisper_language is None:  # a fine-tune trained without a language token
            if chunks is None:
                chunks = whisper_internals.speech_chunks(clip.samples, vad_options()) if vad else ()
            segments = list(whisper_internals.transcribe_without_language_token(model, clip.samples, chunks,
                                                                                **options))
        else:
            found, _ = model.transcribe(clip.samples, language=route.whisper_language, vad_filter=vad,
                                        vad_parameters=vad_options() if vad else None, **options)
            segments = list(found)  # the segments are lazy: decoding happens here
        decoded = gate.combine(segments)
        text = script.to_route_script(decoded.text, route.output_script)
        reason = gate.rejection(replace(decoded, text=text), script.unreadable_share(text, route.output_script),
                                route.prompt)
        confidence = min(1.0, math.exp(decoded.avg_logprob))
        if reason:
            return SpeechResult(Outcome.UNCLEAR, language=language, confidence=confidence, duration=clip.duration,
                                raw_text=decoded.text, reason=reason)
        return SpeechResult(Outcome.OK, text=text, language=language, confidence=confidence,
                            duration=clip.duration, raw_text=decoded.text)


def _answer_languages(language: str, unknown_language: bool) -> Tuple[str, ...]:
    """Whose phrases a note is matched against: the conversation's language and English;
    with no language yet, English alone when Whisper heard English (it is transcribed, the
    answers only help), otherwise Hindi, Odia and English (Odia is heard as Hindi)."""
    if unknown_language and language != "en":
        return ("hi", "or", "en")
    return tuple(dict.fromkeys((language, "en")))


def _as_tuple(expected: Expectation) -> Tuple[Expected, ...]:
    return (expected,) if isinstance(expected, Expected) else tuple(expected)


def _files_digest(paths) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _lower_priority(nice: int) -> None:
    """Lower this thread's CPU priority (threads it starts inherit it). A voice note takes
    seconds and can wait a little; a text reply to someone else should not (bench:
    text p95 while voice notes decode back to back)."""
    if nice <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass

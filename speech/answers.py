"""Hear which expected answer a voice note gives, or that it gives none.

``AnswerScorer`` owns what matching needs for one model folder: the numpy text decoder,
the memories of the null clips (speech that says none of the answers, in Hindi, Odia and
English, ``speech/data/null/``), the compiled grammars of the turns it has seen and their
priors, which are kept on disk (``SPEECH_CACHE_DIR/priors``) because they cost a decoder
step per grammar node to compute and never change for the same model, clips and answers.

``decide`` turns the ranked scores into what the bot does: take the answer (``choice``),
offer the likeliest few (``suggest``), or say it did not understand (``none``). Its
thresholds were calibrated on the generated answer clips and the real recordings of
``../shared/voice-dev`` by ``bench/voice_answers.py`` (docs/speech.md has the table).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from speech import whisper_internals
from speech.decoder import WhisperTextDecoder
from speech.grammar import Expected, Grammar, Route, compile_grammar
from speech.matcher import Matcher, Scores

logger = logging.getLogger(__name__)

NULL_CLIPS = Path(__file__).resolve().parent / "data" / "null"
BEAM = 64  # hypotheses kept per step (bench/voice_answers.py: 32 lost a fifth of the districts)


@dataclass(frozen=True)
class Thresholds:
    """When an answer is taken: its evidence (log-likelihood ratio against null speech)
    and its lead over the next answer must both be this large."""

    accept: float
    margin: float
    suggest: float = float("inf")  # offer the likeliest answers from this evidence on
    spread: float = 8.0  # …those within this much of the best


# calibrated by bench/voice_answers.py (see docs/speech.md); per kind of turn. No wrong
# accept on the synthetic clips that say none of the answers or on the real recordings.
NEVER = float("inf")
THRESHOLDS: Dict[str, Thresholds] = {
    "yes_no": Thresholds(accept=5.0, margin=2.5),
    "choice": Thresholds(accept=5.0, margin=2.5),
    "language": Thresholds(accept=5.0, margin=2.5),
    "district": Thresholds(accept=9.0, margin=3.0, suggest=7.0),
    "service": Thresholds(accept=16.0, margin=6.0, suggest=12.0),
    "commands": Thresholds(accept=12.0, margin=4.0),
    # the base model's romanised Hindi and Odia numbers are right too rarely to be taken
    # (docs/speech.md): the likeliest are offered as buttons, typing digits always works
    "number": Thresholds(accept=NEVER, margin=NEVER, suggest=10.0),
    "date": Thresholds(accept=NEVER, margin=NEVER, suggest=10.0),
}


@dataclass(frozen=True)
class Heard:
    """What matching decided."""

    outcome: str  # choice / suggest / none
    value: Optional[str] = None  # the answer taken (choice)
    alternatives: Tuple[str, ...] = ()  # the likeliest answers, best first (suggest)
    evidence: float = 0.0  # of the best answer
    margin: float = 0.0  # over the second best
    text: str = ""  # the best path as forced, carriers included (logs and benchmarks only)
    language: str = ""  # the language the best path's words are in


# An answer must account for the speech. People say 10–15 letters (romanised) a second;
# the energy detector counts only the loudest parts as voiced (bench/voice_answers.py).
MIN_LETTERS_PER_SECOND = 7.5
LETTERS_SLACK = 4


def covers(letters: int, speech_seconds: float) -> bool:
    """Whether a path of this spoken length can be all that was said: "नहीं" does not
    account for "मैं नहीं आऊँगा आपको आना होगा …", though Whisper hears "नहीं" in it."""
    return letters + LETTERS_SLACK >= MIN_LETTERS_PER_SECOND * speech_seconds


def decide(scores: Scores, kind: str, thresholds: Optional[Thresholds] = None,
           speech_seconds: float = 0.0) -> Heard:
    """``speech_seconds``: how long the note has voice in it (speech/audio.speech_seconds)."""
    rule = thresholds or THRESHOLDS.get(kind, THRESHOLDS["choice"])
    ranked = scores.ranked
    if not ranked:
        return Heard("none")
    best = ranked[0]
    # the lead over the runner-up, in what answers are ranked by (evidence, or likelihood)
    margin = best.rank - ranked[1].rank if len(ranked) > 1 else best.evidence
    whole = covers(best.letters, speech_seconds)
    if whole and best.evidence >= rule.accept and margin >= rule.margin:
        return Heard("choice", best.value, (), best.evidence, margin, best.text, best.language)
    if best.evidence >= rule.suggest:
        close = tuple(s.value for s in ranked[:3] if s.evidence >= best.evidence - rule.spread)
        return Heard("suggest", None, close, best.evidence, margin, best.text, best.language)
    return Heard("none", None, (), best.evidence, margin, best.text, best.language)


class PriorsCache:
    """Grammar priors on disk, one file per (model, null clips, grammar)."""

    def __init__(self, folder: Optional[Path]):
        self.folder = folder

    def path(self, key: str) -> Optional[Path]:
        return self.folder / f"{key}.npz" if self.folder else None

    def load(self, key: str) -> Optional[List[Dict[int, Dict[int, float]]]]:
        path = self.path(key)
        if path is None or not path.exists():
            return None
        try:
            with np.load(path) as data:
                stages = int(data["stages"][0])
                result: List[Dict[int, Dict[int, float]]] = [{} for _ in range(stages)]
                columns = (data["stage"], data["node"], data["token"], data["value"])
                for stage, node, token, value in zip(*columns, strict=True):
                    result[int(stage)].setdefault(int(node), {})[int(token)] = float(value)
                return result
        except (OSError, ValueError, KeyError) as error:  # a damaged file is recomputed
            logger.warning("Speech priors cache %s unreadable (%s): recomputing", path.name, error)
            return None

    def save(self, key: str, priors: List[Dict[int, Dict[int, float]]]) -> None:
        path = self.path(key)
        if path is None:
            return
        rows = [(s, n, t, v) for s, stage in enumerate(priors) for n, row in stage.items() for t, v in row.items()]
        array = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp.npz")
            np.savez(temporary, stages=np.asarray([len(priors)]), stage=array[:, 0].astype(np.int32),
                     node=array[:, 1].astype(np.int32), token=array[:, 2].astype(np.int32),
                     value=array[:, 3].astype(np.float32))
            temporary.replace(path)
        except OSError as error:
            logger.warning("Speech priors cache not written (%s)", error)


class AnswerScorer:
    """Matching for one Whisper model folder (thread-safe)."""

    def __init__(self, model, folder: Path, null_memories, cache_dir: Optional[Path] = None,
                 identity: str = ""):
        self.model = model  # faster_whisper.WhisperModel
        self.decoder = WhisperTextDecoder(folder)
        self.tokenizer = whisper_internals.tokenizer(model)  # token ids (any language; used for ids)
        self.matcher = Matcher(self.decoder, self.tokenizer, [self.decoder.memory(m) for m in null_memories],
                               beam=BEAM, priors_cache=PriorsCache(cache_dir), identity=identity)
        self._grammars: Dict[tuple, List[Grammar]] = {}
        self._lock = threading.Lock()

    def encode_text(self, text: str) -> List[int]:
        return self.tokenizer.encode(text)

    def grammars(self, expected: Expected, route: Route, languages: Sequence[str]) -> List[Grammar]:
        """The compiled grammars of an answer set. Keyed by value: the channel builds a new
        but equal Expected for every note at the same kind of turn, and its grammar (with
        the matcher's search over it) is reused instead of compiled again."""
        key = (expected, route, tuple(languages))
        with self._lock:
            compiled = self._grammars.get(key)
            if compiled is None:
                if len(self._grammars) >= 64:
                    self._grammars.pop(next(iter(self._grammars)))
                grammars = [compile_grammar(expected, route, token, self.encode_text, languages)
                            for token in scoring_tokens(route)]
                compiled = self._grammars[key] = [g for g in grammars if g is not None]
            return compiled

    def score(self, encoded, expected: Sequence[Expected], route: Route, languages: Sequence[str]) -> Scores:
        """Every answer of every answer set, ranked together."""
        memory = self.decoder.memory(np.asarray(encoded))
        grammars = [g for answers in expected for g in self.grammars(answers, route, languages)]
        return self.matcher.score(memory, grammars, free_tokens=0)


def scoring_tokens(route: Route) -> List[Optional[str]]:
    """The language tokens answers are scored under. Hindi and Odia on the base model:
    romanised under ``<|en|>`` only (bench/voice_answers.py: as accurate as adding the
    Devanagari forms under ``<|hi|>``, at a third of the time, since Devanagari takes
    about one token per letter). A model of the route's own: its own token."""
    if route.own_model:
        return [route.whisper_language]
    return ["en"]

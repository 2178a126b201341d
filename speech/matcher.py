"""Score expected answers against a voice note with Whisper itself (teacher forcing).

Free decoding asks Whisper "what was said?"; with the base model and Odia or Hindi
speech the answer is mostly wrong. Here the question is narrower: "which of these
answers did they say, and did they say any of them?" For each written form of each
expected answer (``speech/grammar.py``) we compute the log-probability Whisper gives its
tokens given the audio, *minus* the log-probability it gives them given silence:

    evidence(answer) = log P(tokens | this note) − log P(tokens | no speech)

The second term is what Whisper's language model expects anyway. Without it short,
common phrases win whatever was said ("Okay." beat "नहीं" on most Hindi "no" clips);
with it, what counts is how much *this audio* raised the answer (measured on the
generated clips: yes/no top-1 from 18/36 to 35/36 in Hindi).

The search is a beam search over the grammar's token tries. Every hypothesis shares the
note's cross-attention memory and the silence's (``speech/decoder.py``); one decoder
step scores the next token of every hypothesis against both, and hypotheses whose
evidence falls behind are dropped. With a wide enough beam this finds the best answers
of a candidate set of any size in a few dozen steps.

Whisper's own greedy transcript, scored the same way, is the "none of these": speech
that matches no answer raises some transcript far more than any answer.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from speech.decoder import Memory, WhisperTextDecoder
from speech.grammar import Grammar, Trie

FINAL = -1
START = -2
FREQUENT_TOKENS = 8000  # Latin-script vocabulary kept for the softmax (see Matcher.vocabulary)
MAX_PREPARED = 32  # grammars whose searches are kept
MAX_STAGES = 256  # stages whose priors are kept in memory (all of them are on disk)
PRIOR_BATCH = 256  # rows per decoder step while computing priors
# Number and date grammars (Grammar.by_heard): a path that goes on where Whisper would rather
# stop gives up the difference, less this slack (in log-probability)
END_SLACK = 2.0
ENDS = (".", "?", "!", "।")
REPEAT_COST = 10.0  # evidence a path gives up for saying a phrase it has said already (see _beam)


@dataclass(frozen=True)
class Scored:
    """The best path through the grammar for one answer value."""

    value: str
    evidence: float  # log P(path | note) − log P(path | silence), end of text included
    heard: float  # log P(path | note)
    tokens: int
    text: str  # what was forced, carriers included
    whisper_language: Optional[str]
    language: str = ""  # the language of the words (en / hi / or): the first that is not English
    letters: int = 0  # spoken length of the whole path (carriers included), on the Latin key
    rank: float = 0.0  # what answers are ranked by: evidence, or heard for Grammar.by_heard

    @property
    def per_token(self) -> float:
        return self.evidence / self.tokens


@dataclass
class Scores:
    """Every answer's best path, best first, and Whisper's own greedy transcript per token."""

    ranked: List[Scored] = field(default_factory=list)
    free: Dict[Optional[str], Scored] = field(default_factory=dict)
    steps: int = 0  # decoder steps taken (for benchmarks)

    def free_evidence(self) -> float:
        return max((s.evidence for s in self.free.values()), default=0.0)


@dataclass
class _Moves:
    tokens: np.ndarray
    stages: List[int]
    nodes: List[int]
    picks: List[tuple]
    prior: np.ndarray  # log P(token | stage prefix, null speech); NaN for neutral tokens
    cost: np.ndarray  # evidence the move gives up (entering a carrier, the token cost)


@dataclass
class _Hypothesis:
    stage: int
    node: int
    picks: tuple  # ((stage, (tag, spoken length, text, language)), …) chosen so far
    heard: float
    evidence: float


class _Search:
    """One grammar made ready for search: the prior of every move (what Whisper writes
    there over silence) computed once, and the moves out of every position kept.

    The prior of a token is taken in the context of its own stage only (start sequence +
    the phrase so far), so it is computed once per trie node and reused after any carrier:
    for the first words after a carrier this is an approximation, elsewhere exact."""

    def __init__(self, grammar: Grammar, eot: int, priors: List[Dict[int, Dict[int, float]]],
                 token_cost: float = 0.0):
        self.grammar = grammar
        self.eot = eot
        self.token_cost = token_cost
        self.priors = priors  # stage → node → token → log P(token | stage prefix, silence)
        self._moves: Dict[Tuple[int, int], _Moves] = {}

    def moves(self, stage: int, node: int) -> _Moves:
        """Every next token from a position, with the position it leads to (a phrase that
        ends here may be followed by the first token of any stage allowed next)."""
        key = (stage, node)
        if key not in self._moves:
            if stage == START:
                found = [m for first in self.grammar.first for m in self._expand(first, 0, ())]
            else:
                found = list(self._expand(stage, node, ()))
            self._moves[key] = _Moves(np.asarray([m[0] for m in found], dtype=np.int64), [m[1] for m in found],
                                      [m[2] for m in found], [m[3] for m in found],
                                      np.asarray([m[4] for m in found], dtype=np.float64),
                                      np.asarray([m[5] for m in found], dtype=np.float64))
        return self._moves[key]

    def _expand(self, stage: int, node: int, picked: tuple):
        trie = self.grammar.stages[stage]
        cost = trie.cost if node == 0 else 0.0
        priors = self.priors[stage][node]
        for token, child in trie.children[node].items():
            # a neutral token earns no evidence (its prior is NaN: charged what it is heard at)
            yield token, stage, child, picked, np.nan if trie.neutral else priors[token], \
                cost + (0.0 if trie.neutral else self.token_cost)
        last = len(self.grammar.stages) - 1
        for payload in trie.ends[node]:
            chosen = picked + ((stage, payload),)
            if stage == last:
                yield self.eot, FINAL, 0, chosen, priors[self.eot], 0.0
            for following in self.grammar.follows[stage]:
                yield from self._expand(following, 0, chosen)


class Matcher:
    """Scores grammars against one note with a shared numpy decoder."""

    def __init__(self, decoder: WhisperTextDecoder, tokenizer, nulls: Sequence[Memory], beam: int = 24,
                 prune: float = 12.0, end_prior: bool = False, token_cost: float = 0.0, priors_cache=None,
                 identity: str = ""):
        self.decoder = decoder
        self.tokenizer = tokenizer  # faster_whisper.tokenizer.Tokenizer (any language; used for ids)
        self.nulls = list(nulls)  # memories of speech that says none of the answers: what Whisper expects anyway
        self.end_prior = end_prior
        self.token_cost = token_cost  # evidence each token must earn before it helps (insertion penalty)
        self.beam = beam
        self.prune = prune  # drop hypotheses this much evidence behind the best of their step
        self.eot = tokenizer.eot
        self.priors_cache = priors_cache  # speech.answers.PriorsCache, or None
        self.identity = identity  # what the priors depend on besides the grammar (model, null clips)
        self._vocabularies: Dict[Optional[str], np.ndarray] = {}
        self._searches: Dict[int, Tuple[Grammar, _Search]] = {}
        self._stage_memo: Dict[str, Dict[int, Dict[int, float]]] = {}
        self._lock = threading.Lock()
        # where Whisper would stop: end of text, or a full stop it writes just before
        self._end_tokens = np.asarray([self.eot] + sorted({tokenizer.encode(mark)[0] for mark in ENDS}),
                                      dtype=np.int64)

    # ------------------------------------------------------------ vocabularies
    def vocabulary(self, whisper_language: Optional[str]) -> np.ndarray:
        """Tokens a transcript under this language token may use, end of text included:
        for ``hi``, Devanagari letters and punctuation (Whisper base otherwise drifts into
        Urdu script); else the text tokens below FREQUENT_TOKENS (byte-pair merges are
        numbered by frequency: this keeps the words people say and makes the softmax ten
        times cheaper). Tokens a grammar needs are always added."""
        if whisper_language not in self._vocabularies:
            if whisper_language == "hi":
                ids = devanagari_tokens(self.tokenizer.tokenizer, self.eot)
            else:
                ids = list(range(min(FREQUENT_TOKENS, self.eot)))
            self._vocabularies[whisper_language] = np.asarray(sorted(set(ids) | {self.eot}), dtype=np.int64)
        return self._vocabularies[whisper_language]

    def start_sequence(self, whisper_language: Optional[str]) -> List[int]:
        t = self.tokenizer
        sequence = [t.sot]
        if whisper_language is not None and t.tokenizer.token_to_id(f"<|{whisper_language}|>") is not None:
            sequence.append(t.tokenizer.token_to_id(f"<|{whisper_language}|>"))
        sequence.append(t.transcribe)
        sequence.append(t.no_timestamps)
        return sequence

    def _vocabulary_with(self, grammar: Grammar) -> np.ndarray:
        base = self.vocabulary(grammar.whisper_language)
        used = {token for trie in grammar.stages for children in trie.children for token in children}
        missing = sorted(used - set(base.tolist()))
        return np.concatenate([base, np.asarray(missing, dtype=np.int64)]) if missing else base

    # --------------------------------------------------------------- preparing
    def prepare(self, grammar: Grammar) -> _Search:
        """The grammar's search, with its priors. Priors belong to a stage, not to the
        grammar (each stage is scored from the start sequence), so a turn that adds the
        commands to the districts reuses the districts' priors: computed once per stage,
        kept in memory and in the priors cache."""
        with self._lock:
            kept = self._searches.get(id(grammar))
            if kept is None or kept[0] is not grammar:
                if len(self._searches) >= MAX_PREPARED:
                    self._searches.pop(next(iter(self._searches)))
                priors = [self._stage_priors(trie, grammar.whisper_language) for trie in grammar.stages]
                kept = self._searches[id(grammar)] = (grammar, _Search(grammar, self.eot, priors, self.token_cost))
            return kept[1]

    def _stage_priors(self, trie: Trie, whisper_language: Optional[str]) -> Dict[int, Dict[int, float]]:
        if trie.neutral:  # carriers and punctuation earn no evidence: only the end of text's 0
            return {node: {self.eot: 0.0} for node in range(len(trie.children))}
        key = stage_key(trie, whisper_language, f"{self.identity}|{self.end_prior}|{FREQUENT_TOKENS}")
        priors = self._stage_memo.get(key)
        if priors is None and self.priors_cache is not None:
            loaded = self.priors_cache.load(key)
            priors = loaded[0] if loaded else None
        if priors is None:
            priors = self._priors(trie, whisper_language)
            if self.priors_cache is not None:
                self.priors_cache.save(key, [priors])
        if len(self._stage_memo) >= MAX_STAGES:
            self._stage_memo.pop(next(iter(self._stage_memo)))
        self._stage_memo[key] = priors
        return priors

    def _priors(self, trie: Trie, whisper_language: Optional[str]) -> Dict[int, Dict[int, float]]:
        """log P(token | stage prefix, null speech) for every edge of a stage, averaged over
        the null clips (and of the end of text after every node): one decoder step per trie
        node and null clip, in batches of at most PRIOR_BATCH rows. Normalised over the
        route's vocabulary and the stage's own tokens."""
        base = self.vocabulary(whisper_language)
        used = {token for children in trie.children for token in children}
        missing = sorted(used - set(base.tolist()))
        vocabulary = np.concatenate([base, np.asarray(missing, dtype=np.int64)]) if missing else base
        column = np.full(self.decoder.vocab_size, -1, dtype=np.int64)
        column[vocabulary] = np.arange(len(vocabulary))
        start = self.start_sequence(whisper_language)
        summed: Dict[int, Dict[int, float]] = {}
        for null in self.nulls:
            hidden, cache = self.decoder.start(null, [start])
            pending = [(hidden, cache, [0])]
            while pending:
                hidden, cache, nodes = pending.pop()
                probs = np.exp(self.decoder.log_probs(hidden, vocabulary))
                parents, tokens, children = [], [], []
                for row, node in enumerate(nodes):
                    wanted = list(trie.children[node]) + [self.eot]
                    into = summed.setdefault(node, {})
                    for token, p in zip(wanted, probs[row, column[wanted]].tolist(), strict=True):
                        into[token] = into.get(token, 0.0) + p / len(self.nulls)
                    for token, child in trie.children[node].items():
                        parents.append(row)
                        tokens.append(token)
                        children.append(child)
                for first in range(0, len(children), PRIOR_BATCH):
                    chunk = slice(first, first + PRIOR_BATCH)
                    step_hidden, step_cache = self.decoder.step(null, cache, np.asarray(parents[chunk]),
                                                                np.asarray(tokens[chunk]))
                    pending.append((step_hidden, step_cache, children[chunk]))
        priors = {node: {token: float(np.log(max(p, 1e-30))) for token, p in row.items()}
                  for node, row in summed.items()}
        if not self.end_prior:
            for after in priors.values():
                after[self.eot] = 0.0
        return priors

    # ------------------------------------------------------------------ scoring
    def score(self, memory: Memory, grammars: Sequence[Grammar], free_tokens: int = 40) -> Scores:
        scores = Scores()
        best: Dict[str, Scored] = {}
        for grammar in grammars:
            search = self.prepare(grammar)
            vocabulary = self._vocabulary_with(grammar)
            column = np.full(self.decoder.vocab_size, -1, dtype=np.int64)
            column[vocabulary] = np.arange(len(vocabulary))
            start = self.start_sequence(grammar.whisper_language)
            if free_tokens:
                scores.free[grammar.whisper_language] = self._free(memory, start, vocabulary, free_tokens)
            found, steps = self._beam(memory, search, start, vocabulary, column)
            scores.steps += steps
            for scored in found:
                if scored.value not in best or scored.rank > best[scored.value].rank:
                    best[scored.value] = scored
        scores.ranked = sorted(best.values(), key=lambda s: s.rank, reverse=True)
        return scores

    def _free(self, memory: Memory, start: List[int], vocabulary: np.ndarray, limit: int) -> Scored:
        """Greedy decode within ``vocabulary``: Whisper's own words, scored like an answer."""
        hidden, cache = self.decoder.start(memory, [start])
        tokens: List[int] = []
        heard = 0.0
        for _ in range(limit):
            log_probs = self.decoder.log_probs(hidden, vocabulary)[0]
            best = int(np.argmax(log_probs))
            heard += float(log_probs[best])
            tokens.append(int(vocabulary[best]))
            if tokens[-1] == self.eot:
                break
            hidden, cache = self.decoder.step(memory, cache, np.zeros(1, dtype=np.int64), np.asarray(tokens[-1:]))
        prior = float(np.log(np.mean([np.exp(self.decoder.sequence_log_probs(null, start, tokens, vocabulary).sum())
                                      for null in self.nulls])))
        text = self.tokenizer.decode([t for t in tokens if t != self.eot]).strip()
        return Scored("", heard - prior, heard, len(tokens), text, None)

    def _beam(self, memory: Memory, search: _Search, start, vocabulary, column) -> Tuple[List[Scored], int]:
        grammar = search.grammar
        hidden, cache = self.decoder.start(memory, [start])
        hypotheses = [_Hypothesis(START, 0, (), 0.0, 0.0)]
        found: List[Scored] = []
        steps = 0
        for depth in range(1, min(grammar.max_tokens, self.decoder.max_length - 8) + 1):
            heard_lp = self.decoder.log_probs(hidden, vocabulary)
            if grammar.by_heard:
                end_columns = column[self._end_tokens]
                ending = heard_lp[:, end_columns[end_columns >= 0]].max(axis=1)
            rows, heard, evidence, targets = [], [], [], []
            for row, hypothesis in enumerate(hypotheses):
                moves = search.moves(hypothesis.stage, hypothesis.node)
                if not len(moves.tokens):
                    continue
                step = heard_lp[row, column[moves.tokens]]
                prior = np.where(np.isnan(moves.prior), step, moves.prior)
                gained = (hypothesis.heard + step).tolist()
                earned = hypothesis.evidence + step - prior - moves.cost
                if grammar.by_heard:
                    going_on = ~np.isin(moves.tokens, self._end_tokens)
                    earned -= going_on * np.maximum(0.0, ending[row] - step - END_SLACK)
                earned = earned.tolist()
                said = {payload[2] for _, payload in hypothesis.picks if payload[2]}
                if said:  # Whisper likes to repeat itself, the priors (taken per stage) do not know
                    for index, picked in enumerate(moves.picks):
                        if picked and any(p[2] in said for _, p in picked if p[2]):
                            earned[index] -= REPEAT_COST
                for index in range(len(gained)):
                    if moves.stages[index] == FINAL:
                        scored = self._finish(grammar, hypothesis.picks + moves.picks[index], gained[index],
                                              earned[index], depth)
                        if scored is not None:
                            found.append(scored)
                    else:
                        rows.append(row)
                        heard.append(gained[index])
                        evidence.append(earned[index])
                        targets.append((index, moves, hypothesis))
            if not rows:
                break
            ranked = np.asarray(evidence)
            keep = np.argsort(-ranked, kind="stable")[: self.beam]
            keep = keep[ranked[keep] >= ranked[keep[0]] - self.prune]
            parents = np.asarray([rows[i] for i in keep], dtype=np.int64)
            tokens = np.asarray([targets[i][1].tokens[targets[i][0]] for i in keep], dtype=np.int64)
            hypotheses = []
            for i in keep:
                index, moves, parent = targets[i]
                hypotheses.append(_Hypothesis(moves.stages[index], moves.nodes[index],
                                              parent.picks + moves.picks[index], heard[i], evidence[i]))
            hidden, cache = self.decoder.step(memory, cache, parents, tokens)
            steps += 1
        return found, steps

    @staticmethod
    def _finish(grammar: Grammar, picks: tuple, heard: float, evidence: float, tokens: int) -> Optional[Scored]:
        value = grammar.interpret(picks)
        if value is None:
            return None
        last = len(grammar.stages) - 1
        text = " ".join(payload[2] for stage, payload in picks if payload[2] and stage != last)
        text += "".join(payload[2] for stage, payload in picks if stage == last)
        languages = [payload[3] for _, payload in picks if payload[3]]
        language = next((lang for lang in languages if lang != "en"), "en" if languages else "")
        letters = sum(payload[1] for _, payload in picks)
        return Scored(value, evidence, heard, tokens, text, grammar.whisper_language, language, letters, evidence)


# ------------------------------------------------------------------ tokens
def _byte_decoder() -> Dict[str, int]:
    """GPT-2's byte-level alphabet: token characters back to bytes."""
    visible = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = visible[:]
    extra = 0
    for byte in range(256):
        if byte not in visible:
            visible.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(visible, codes, strict=True)}


_DEVANAGARI_BYTES = {0xE0, 0xA4, 0xA5} | set(range(0x80, 0xC0))


def devanagari_tokens(hf_tokenizer, eot: int) -> List[int]:
    """Ids of text tokens made only of Devanagari UTF-8 bytes (after an optional space),
    and of the punctuation a Hindi transcript ends with."""
    decoder = _byte_decoder()
    ids = []
    for token_id in range(eot):
        piece = hf_tokenizer.id_to_token(token_id)
        if piece is None:
            continue
        try:
            raw = bytes(decoder[ch] for ch in piece)
        except KeyError:
            continue
        body = raw[1:] if raw.startswith(b" ") else raw
        if body and all(b in _DEVANAGARI_BYTES for b in body):
            ids.append(token_id)
        elif raw.strip() in (b".", b"?", b"!", b","):
            ids.append(token_id)
    return ids


def stage_key(trie: Trie, whisper_language: Optional[str], identity: str) -> str:
    """A fingerprint of everything a stage's priors depend on: its tokens, the language
    token, and the model and null clips (``identity``)."""
    digest = hashlib.sha256(identity.encode())
    digest.update(repr(whisper_language).encode())
    digest.update(b"|stage|%d" % trie.neutral)
    for children in trie.children:
        digest.update(repr(sorted(children.items())).encode())
    return digest.hexdigest()[:32]

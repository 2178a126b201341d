"""Whisper's text decoder in numpy, for scoring many candidate answers against one note.

CTranslate2 (through faster-whisper) encodes the audio once; this decoder then reads the
encoder output. What makes it cheap to score hundreds of candidates is that the
cross-attention keys and values of the encoder output are computed once per voice note
(``memory``) and shared by every hypothesis, where a batched CTranslate2 call recomputes
them for every batch item (measured: 165 ms per candidate, 30 s window).

Decoding is incremental: ``start`` runs the start sequence (``<|startoftranscript|>
<|hi|> <|transcribe|> <|notimestamps|>``) and returns a cache; each ``step`` feeds one
token per hypothesis, reorders the caches by each hypothesis' parent, and returns the
final hidden states. ``log_probs`` projects them onto the vocabulary, or onto a subset of
it (all Devanagari tokens, say) when only those can be written.

The numbers agree with CTranslate2's own (``align``'s token probabilities) to within its
int8 quantisation: tests/speech/test_matcher.py checks it on a real clip.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
from scipy.special import erf

from speech.ct2_weights import ModelWeights, WeightsError

_EPS = 1e-5


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, -1, keepdims=True)
    return centred / np.sqrt(variance + _EPS) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))


def _softmax(x: np.ndarray) -> np.ndarray:
    x = np.exp(x - x.max(-1, keepdims=True))
    return x / x.sum(-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    top = logits.max(-1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))


@dataclass
class _Layer:
    self_norm: tuple
    qkv: tuple  # fused query/key/value projection (weight transposed, bias)
    self_out: tuple
    cross_norm: tuple
    cross_query: tuple
    cross_kv: tuple
    cross_out: tuple
    ffn_norm: tuple
    ffn_in: tuple
    ffn_out: tuple


@dataclass
class Memory:
    """Cross-attention keys ``[H, hd, T]`` and values ``[H, T, hd]`` per layer, for one note."""

    keys: List[np.ndarray]
    values: List[np.ndarray]


@dataclass
class Cache:
    """Self-attention keys and values per layer, ``[B, H, S, hd]``: one row per hypothesis."""

    keys: List[np.ndarray]
    values: List[np.ndarray]

    @property
    def length(self) -> int:
        return self.keys[0].shape[2]

    def select(self, rows: np.ndarray) -> "Cache":
        return Cache([k[rows] for k in self.keys], [v[rows] for v in self.values])


class WhisperTextDecoder:
    """The decoder half of a CTranslate2 Whisper model, in float32 numpy."""

    def __init__(self, model_folder: Path):
        weights = ModelWeights(Path(model_folder) / "model.bin")
        if not weights.spec.startswith("Whisper"):
            raise WeightsError(f"{model_folder} holds a {weights.spec}, not a Whisper model")
        f = weights.float32
        self.heads = weights.scalar("decoder/num_heads")
        self.embeddings = f("decoder/embeddings/weight")  # [V, D]
        self.positions = f("decoder/position_encodings/encodings")  # [448, D]
        self.vocab_size, self.width = self.embeddings.shape
        self.head_width = self.width // self.heads
        self.max_length = self.positions.shape[0]
        projection = "decoder/projection/weight"
        self.output = (f(projection) if projection in weights else self.embeddings).T.copy()  # [D, V]
        self.output_bias = f("decoder/projection/bias") if "decoder/projection/bias" in weights else None
        self.final_norm = (f("decoder/layer_norm/gamma"), f("decoder/layer_norm/beta"))

        def linear(prefix: str) -> tuple:
            return f(prefix + "/weight").T.copy(), f(prefix + "/bias") if prefix + "/bias" in weights else 0.0

        def norm(prefix: str) -> tuple:
            return f(prefix + "/gamma"), f(prefix + "/beta")

        self.layers: List[_Layer] = []
        while f"decoder/layer_{len(self.layers)}/ffn/linear_0/weight" in weights:
            p = f"decoder/layer_{len(self.layers)}/"
            self.layers.append(_Layer(
                norm(p + "self_attention/layer_norm"), linear(p + "self_attention/linear_0"),
                linear(p + "self_attention/linear_1"), norm(p + "attention/layer_norm"),
                linear(p + "attention/linear_0"), linear(p + "attention/linear_1"),
                linear(p + "attention/linear_2"), norm(p + "ffn/layer_norm"), linear(p + "ffn/linear_0"),
                linear(p + "ffn/linear_1")))
        if not self.layers:
            raise WeightsError(f"{model_folder}: no decoder layers found")
        self._scale = np.float32(1.0 / np.sqrt(self.head_width))

    # ------------------------------------------------------------------ memory
    def memory(self, encoder_output: np.ndarray) -> Memory:
        """Cross-attention keys/values of one encoded window ``[T, D]`` (or ``[1, T, D]``)."""
        encoded = np.asarray(encoder_output, dtype=np.float32).reshape(-1, self.width)
        frames = encoded.shape[0]
        keys, values = [], []
        for layer in self.layers:
            weight, bias = layer.cross_kv
            kv = encoded @ weight + bias
            keys.append(np.ascontiguousarray(
                kv[:, :self.width].reshape(frames, self.heads, self.head_width).transpose(1, 2, 0)))
            values.append(np.ascontiguousarray(
                kv[:, self.width:].reshape(frames, self.heads, self.head_width).transpose(1, 0, 2)))
        return Memory(keys, values)

    # ----------------------------------------------------------------- decoding
    def _split(self, x: np.ndarray) -> np.ndarray:  # [B, S, D] -> [B, H, S, hd]
        batch, length, _ = x.shape
        return x.reshape(batch, length, self.heads, self.head_width).transpose(0, 2, 1, 3)

    def _run(self, memory: Memory, tokens: np.ndarray, cache: Optional[Cache]) -> Tuple[np.ndarray, Cache]:
        """Feed ``tokens`` ``[B, S]`` after ``cache``; the hidden states ``[B, S, D]`` and the new cache.

        Linear layers run on ``[B*S, D]`` matrices: numpy multiplies a 3-D array by a
        matrix as B separate products, which measured four times slower here."""
        batch, length = tokens.shape
        past = cache.length if cache is not None else 0
        if past + length > self.max_length:
            raise ValueError(f"sequence longer than the decoder's {self.max_length} positions")
        rows = batch * length
        x = (self.embeddings[tokens] + self.positions[past:past + length]).reshape(rows, self.width)
        mask = None
        if length > 1:
            mask = np.triu(np.full((length, past + length), -np.inf, np.float32), past + 1)
        keys, values = [], []
        for index, layer in enumerate(self.layers):
            h = _layer_norm(x, *layer.self_norm)
            qkv = (h @ layer.qkv[0] + layer.qkv[1]).reshape(batch, length, 3 * self.width)
            q, k, v = (self._split(qkv[..., i * self.width:(i + 1) * self.width]) for i in range(3))
            if cache is not None:
                k = np.concatenate([cache.keys[index], k], axis=2)
                v = np.concatenate([cache.values[index], v], axis=2)
            keys.append(k)
            values.append(v)
            scores = (q * self._scale) @ k.transpose(0, 1, 3, 2)  # [B, H, S, past+S]
            if mask is not None:
                scores = scores + mask
            attended = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(rows, self.width)
            x = x + attended @ layer.self_out[0] + layer.self_out[1]

            h = _layer_norm(x, *layer.cross_norm)
            q = (h @ layer.cross_query[0] + layer.cross_query[1]) * self._scale  # [B*S, D]
            q = q.reshape(rows, self.heads, self.head_width).transpose(1, 0, 2)  # [H, B*S, hd]
            weights = _softmax(q @ memory.keys[index])  # [H, B*S, T]
            attended = (weights @ memory.values[index]).transpose(1, 0, 2).reshape(rows, self.width)
            x = x + attended @ layer.cross_out[0] + layer.cross_out[1]

            h = _layer_norm(x, *layer.ffn_norm)
            x = x + _gelu(h @ layer.ffn_in[0] + layer.ffn_in[1]) @ layer.ffn_out[0] + layer.ffn_out[1]
        return _layer_norm(x, *self.final_norm).reshape(batch, length, self.width), Cache(keys, values)

    def start(self, memory: Memory, prefixes: Sequence[Sequence[int]]) -> Tuple[np.ndarray, Cache]:
        """Run start sequences of equal length; hidden state after the last token, and the cache."""
        hidden, cache = self._run(memory, np.asarray(prefixes, dtype=np.int64), None)
        return hidden[:, -1], cache

    def step(self, memory: Memory, cache: Cache, parents: np.ndarray, tokens: np.ndarray) -> Tuple[np.ndarray, Cache]:
        """Extend row ``parents[i]`` of ``cache`` with ``tokens[i]``; hidden states ``[B, D]``."""
        hidden, cache = self._run(memory, np.asarray(tokens, dtype=np.int64)[:, None], cache.select(parents))
        return hidden[:, 0], cache

    def log_probs(self, hidden: np.ndarray, vocabulary: Optional[np.ndarray] = None) -> np.ndarray:
        """Log-probabilities over the whole vocabulary, or normalised over ``vocabulary`` only
        (token ids; column ``j`` is then token ``vocabulary[j]``)."""
        weight = self.output if vocabulary is None else self.output[:, vocabulary]
        logits = hidden @ weight
        if self.output_bias is not None:
            logits = logits + (self.output_bias if vocabulary is None else self.output_bias[vocabulary])
        return log_softmax(logits)

    def sequence_log_probs(self, memory: Memory, prefix: Sequence[int], tokens: Sequence[int],
                           vocabulary: Optional[np.ndarray] = None) -> np.ndarray:
        """Teacher-forced log-probability of each of ``tokens`` after ``prefix`` (one pass)."""
        sequence = np.asarray([list(prefix) + list(tokens)], dtype=np.int64)
        hidden, _ = self._run(memory, sequence[:, :-1], None)
        rows = hidden[0, len(prefix) - 1:]
        if vocabulary is None:
            return self.log_probs(rows)[np.arange(len(tokens)), list(tokens)]
        column = {int(t): j for j, t in enumerate(vocabulary)}
        return self.log_probs(rows, vocabulary)[np.arange(len(tokens)), [column[int(t)] for t in tokens]]

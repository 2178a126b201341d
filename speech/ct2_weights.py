"""Read the weights of a CTranslate2 model folder (``model.bin``) into numpy arrays.

CTranslate2 runs Whisper fast, but it cannot score many candidate answers against one
voice note cheaply: every batch item recomputes the cross-attention keys and values of
the whole 30 s window. ``speech/decoder.py`` runs Whisper's text decoder in numpy
instead, sharing that work, and needs the same weights. The file layout is the one
``ctranslate2.specs.ModelSpec._serialize`` writes (binary version 6):

    u32 version · str spec name · u32 revision · u32 n, then n × (str name, u8 rank,
    u32 dims[rank], u8 dtype, u32 byte count, bytes) · u32 m, then m × (str alias, str name)

where ``str`` is a u16 length (with the trailing NUL) followed by UTF-8 and a NUL.
"""
from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
SUPPORTED_VERSIONS = (5, 6)


class WeightsError(ValueError):
    """The file is not a CTranslate2 model this reader understands."""


class ModelWeights:
    """Named arrays of one ``model.bin``, read lazily from a memory map."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            self._buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self.spec, self.version = "", 0
        self._index: Dict[str, Tuple[Tuple[int, ...], str, int]] = {}
        self._aliases: Dict[str, str] = {}
        try:
            self._read_index()
        except (struct.error, UnicodeDecodeError, IndexError) as error:
            raise WeightsError(f"{self.path} is not a CTranslate2 model file ({error})") from None

    def _read_index(self) -> None:
        data, offset = self._buffer, 0

        def number(fmt: str) -> int:
            nonlocal offset
            value = struct.unpack_from(fmt, data, offset)[0]
            offset += struct.calcsize(fmt)
            return value

        def text() -> str:
            nonlocal offset
            size = number("H")
            value = bytes(data[offset:offset + size - 1]).decode("utf-8")
            offset += size
            return value

        self.version = number("I")
        if self.version not in SUPPORTED_VERSIONS:
            raise WeightsError(f"{self.path}: CTranslate2 binary version {self.version} is not supported")
        self.spec = text()
        number("I")  # spec revision
        for _ in range(number("I")):
            name = text()
            dims = tuple(number("I") for _ in range(number("B")))
            dtype = _DTYPES[number("B")]
            size = number("I")
            self._index[name] = (dims, dtype, offset)
            offset += size
        for _ in range(number("I")):
            alias = text()
            self._aliases[alias] = text()

    def __contains__(self, name: str) -> bool:
        return self._aliases.get(name, name) in self._index

    def raw(self, name: str) -> np.ndarray:
        """The stored array, as stored (no copy)."""
        dims, dtype, offset = self._index[self._aliases.get(name, name)]
        count = int(np.prod(dims)) if dims else 1
        if dtype == "bfloat16":
            bits = np.frombuffer(self._buffer, dtype=np.uint16, count=count, offset=offset)
            return (bits.astype(np.uint32) << 16).view(np.float32).reshape(dims)
        return np.frombuffer(self._buffer, dtype=np.dtype(dtype), count=count, offset=offset).reshape(dims)

    def scalar(self, name: str) -> int:
        return int(self.raw(name).reshape(-1)[0])

    def float32(self, name: str) -> np.ndarray:
        """The array as float32, de-quantised when stored as int8/int16 with a per-row scale."""
        array = self.raw(name).astype(np.float32)
        scale_name = name[: -len("weight")] + "weight_scale" if name.endswith("weight") else None
        if scale_name and scale_name in self:
            scale = self.raw(scale_name).astype(np.float32)
            array = array / (scale.reshape(-1, *([1] * (array.ndim - 1))) if scale.size > 1 else scale)
        return array

    def close(self) -> None:
        self._buffer.close()

"""Lossless codecs for DL0 payloads, by name: each maps an array's bytes to compressed bytes.

``blosc2-zstd-bitshuffle`` (default) bit-shuffles the 16-bit samples before zstd, which is what
makes slowly varying ADC counts compress well; ``zstd`` and ``lz4`` are plain byte codecs; ``none``
stores the bytes as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import blosc2
import numpy as np
import zstandard

from ..errors import CtasimError

_ZSTD_LEVEL = 3
_BLOSC_LEVEL = 5


def _blosc(codec: blosc2.Codec, filt: blosc2.Filter) -> Callable[[np.ndarray], bytes]:
    def encode(a: np.ndarray) -> bytes:
        data = np.ascontiguousarray(a)
        # blosc2 chunks are limited to 2 GiB; DL0 blocks are far below that
        return blosc2.compress(data, typesize=data.dtype.itemsize, clevel=_BLOSC_LEVEL, filter=filt, codec=codec)

    return encode


ENCODERS: dict[str, Callable[[np.ndarray], bytes]] = {
    "none": lambda a: np.ascontiguousarray(a).tobytes(),
    "zstd": lambda a: zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(np.ascontiguousarray(a).tobytes()),
    "lz4": _blosc(blosc2.Codec.LZ4, blosc2.Filter.NOFILTER),
    "blosc2-zstd-bitshuffle": _blosc(blosc2.Codec.ZSTD, blosc2.Filter.BITSHUFFLE),
    "blosc2-lz4-shuffle": _blosc(blosc2.Codec.LZ4, blosc2.Filter.SHUFFLE),
}

DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "none": bytes,
    "zstd": lambda b: zstandard.ZstdDecompressor().decompress(b),
    "lz4": blosc2.decompress,
    "blosc2-zstd-bitshuffle": blosc2.decompress,
    "blosc2-lz4-shuffle": blosc2.decompress,
}

CODECS = tuple(ENCODERS)
DEFAULT_CODEC = "blosc2-zstd-bitshuffle"


def check_codec(name: str) -> str:
    if name not in ENCODERS:
        raise CtasimError(f"unknown codec {name!r}: expected one of {', '.join(CODECS)}")
    return name


def encode(codec: str, array: np.ndarray) -> bytes:
    """Compress an array's bytes with the named codec."""
    return ENCODERS[check_codec(codec)](array)


def decode(codec: str, payload: bytes, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Decompress bytes written by ``encode`` back into an array of the given dtype and shape."""
    raw = DECODERS[check_codec(codec)](bytes(payload))
    return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape)

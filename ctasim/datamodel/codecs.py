"""Lossless codecs for DL0 payloads, by name: each maps an array to compressed bytes and back.

Byte codecs: ``zstd`` (level 3; ``zstd-1``, ``zstd-9``, ``zstd-19`` at other levels), ``lz4`` and
``lz4hc`` (in a blosc2 frame, no filter), ``none`` (the bytes as they are). Blosc2 codecs shuffle
the bytes (``-shuffle``: byte k of every element together) or the bits (``-bitshuffle``) of each
element before compressing: slowly varying 16-bit ADC counts then leave long runs of equal high
bits, which is what makes them compress. ``blosc2-zstd-bitshuffle`` is the default.

``delta-<codec>``: integer arrays are first replaced by the differences along their last axis
(the time samples of a waveform; consecutive ids of a 1-d column), mapped to unsigned by zigzag
coding (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...) so that small differences of either sign have
small codes, then compressed with ``<codec>``. The arithmetic wraps modulo 2^bits, so it is exact
for every value (uint16 wrap-around included); float, bool and other non-integer arrays pass
through to ``<codec>`` unchanged. Names and their meaning are stable: DL0 archives name theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import blosc2
import numpy as np
import zstandard

from ..errors import CtasimError

_ZSTD_LEVEL = 3
_BLOSC_LEVEL = 5


@dataclass(frozen=True)
class _ByteCodec:
    compress: Callable[[np.ndarray], bytes]   # a C-contiguous array -> compressed bytes
    decompress: Callable[[bytes], bytes]


def _zstd(level: int) -> _ByteCodec:
    return _ByteCodec(lambda a: zstandard.ZstdCompressor(level=level).compress(a.tobytes()),
                      lambda b: zstandard.ZstdDecompressor().decompress(b))


def _blosc(codec: blosc2.Codec, filt: blosc2.Filter) -> _ByteCodec:
    # blosc2 chunks are limited to 2 GiB; DL0 blocks are far below that
    return _ByteCodec(lambda a: blosc2.compress(a, typesize=a.dtype.itemsize, clevel=_BLOSC_LEVEL,
                                                filter=filt, codec=codec),
                      blosc2.decompress)


_BYTE_CODECS: dict[str, _ByteCodec] = {
    "none": _ByteCodec(lambda a: a.tobytes(), bytes),
    "zstd": _zstd(_ZSTD_LEVEL),
    "zstd-1": _zstd(1),
    "zstd-9": _zstd(9),
    "zstd-19": _zstd(19),
    "lz4": _blosc(blosc2.Codec.LZ4, blosc2.Filter.NOFILTER),
    "lz4hc": _blosc(blosc2.Codec.LZ4HC, blosc2.Filter.NOFILTER),
    "blosc2-zstd-shuffle": _blosc(blosc2.Codec.ZSTD, blosc2.Filter.SHUFFLE),
    "blosc2-zstd-bitshuffle": _blosc(blosc2.Codec.ZSTD, blosc2.Filter.BITSHUFFLE),
    "blosc2-lz4-shuffle": _blosc(blosc2.Codec.LZ4, blosc2.Filter.SHUFFLE),
    "blosc2-lz4-bitshuffle": _blosc(blosc2.Codec.LZ4, blosc2.Filter.BITSHUFFLE),
}
#: byte codecs that also come with delta coding of the samples
_DELTA_BASES = ("zstd", "lz4", "blosc2-zstd-shuffle", "blosc2-zstd-bitshuffle", "blosc2-lz4-shuffle",
                "blosc2-lz4-bitshuffle")
DELTA_PREFIX = "delta-"

CODECS = tuple(_BYTE_CODECS) + tuple(DELTA_PREFIX + b for b in _DELTA_BASES)
DEFAULT_CODEC = "blosc2-zstd-bitshuffle"


def _delta_coded(dtype: np.dtype, shape: tuple[int, ...]) -> bool:
    """Whether delta coding applies: integers with at least two values along the last axis."""
    return dtype.kind in "iu" and len(shape) > 0 and shape[-1] > 1


def delta_encode(array: np.ndarray) -> np.ndarray:
    """Zigzag-coded differences along the last axis (unsigned, same item size; the first value
    itself) of an integer array; other arrays are returned as they are."""
    a = np.ascontiguousarray(array)
    if not _delta_coded(a.dtype, a.shape):
        return a
    bits = 8 * a.dtype.itemsize
    s = a.view(np.dtype(f"i{a.dtype.itemsize}"))
    d = s.copy()
    np.subtract(s[..., 1:], s[..., :-1], out=d[..., 1:])   # wraps modulo 2^bits
    return ((d << 1) ^ (d >> (bits - 1))).view(np.dtype(f"u{a.dtype.itemsize}"))


def delta_decode(coded: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Inverse of ``delta_encode`` for an array of ``dtype`` (coded: its unsigned codes)."""
    if not _delta_coded(dtype, coded.shape):
        return coded
    u = coded.view(np.dtype(f"u{dtype.itemsize}"))
    d = (u >> 1) ^ (np.zeros(1, u.dtype) - (u & 1))
    return np.cumsum(d, axis=-1, dtype=u.dtype).view(dtype)   # wraps modulo 2^bits


def check_codec(name: str) -> str:
    if name not in CODECS:
        raise CtasimError(f"unknown codec {name!r}: expected one of {', '.join(CODECS)}")
    return name


def _split(name: str) -> tuple[bool, _ByteCodec]:
    """(delta coding?, byte codec) of a codec name."""
    check_codec(name)
    delta = name.startswith(DELTA_PREFIX)
    return delta, _BYTE_CODECS[name.removeprefix(DELTA_PREFIX) if delta else name]


def encode(codec: str, array: np.ndarray) -> bytes:
    """Compress an array with the named codec."""
    delta, byte_codec = _split(codec)
    a = np.ascontiguousarray(array)
    return byte_codec.compress(delta_encode(a) if delta else a)


def decode(codec: str, payload: bytes, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Decompress bytes written by ``encode`` back into the array of the given dtype and shape."""
    delta, byte_codec = _split(codec)
    dt = np.dtype(dtype)
    raw = byte_codec.decompress(bytes(payload))
    if not (delta and _delta_coded(dt, tuple(shape))):
        return np.frombuffer(raw, dtype=dt).reshape(shape)
    coded = np.frombuffer(raw, dtype=np.dtype(f"u{dt.itemsize}")).reshape(shape)
    return delta_decode(coded, dt)

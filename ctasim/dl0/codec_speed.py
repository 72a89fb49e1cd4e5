"""Compression ratio and compress / decompress speed of the DL0 codecs on given arrays.

Speeds are MB (1e6 bytes) of uncompressed data per second of wall time, the best of ``repeat``
calls, with blosc2 on ``threads`` threads (1: per core). Every measured
round trip is checked to be bit-exact. The rows are plain dicts, ready for summary.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

import blosc2
import numpy as np

from ..datamodel import codecs
from ..errors import CtasimError


def _timed(func: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = func()
    return time.perf_counter() - t0, out


def measure_codec(codec: str, array: np.ndarray, repeat: int = 3) -> dict:
    """One codec on one array: bytes before and after, ratio, compress and decompress MB/s (best of
    ``repeat`` calls each; the first call's output is the one checked)."""
    array = np.ascontiguousarray(array)
    runs = [_timed(lambda: codecs.encode(codec, array)) for _ in range(max(repeat, 1))]
    payload = runs[0][1]
    t_enc = min(t for t, _ in runs)
    runs = [_timed(lambda: codecs.decode(codec, payload, array.dtype.str, array.shape)) for _ in range(max(repeat, 1))]
    t_dec = min(t for t, _ in runs)
    if runs[0][1].tobytes() != array.tobytes():
        raise CtasimError(f"codec {codec}: round trip of a {array.dtype} {array.shape} array is not bit-exact")
    mb = array.nbytes / 1e6
    return {
        "codec": codec, "nbytes": int(array.nbytes), "compressed_nbytes": len(payload),
        "ratio": array.nbytes / len(payload),
        "compress_mb_s": mb / t_enc if t_enc > 0 else None,
        "decompress_mb_s": mb / t_dec if t_dec > 0 else None,
    }


def measure_codecs(arrays: Mapping[str, np.ndarray], names: Iterable[str] = codecs.CODECS, repeat: int = 3,
                   threads: int = 1) -> list[dict]:
    """``measure_codec`` rows (plus ``data``: the array's name, ``dtype``, ``threads``) for every
    non-empty array and every codec in ``names``."""
    names = [codecs.check_codec(c) for c in names]
    previous = blosc2.nthreads
    blosc2.set_nthreads(threads)
    try:
        return [{"data": label, "dtype": str(a.dtype), "threads": threads, **measure_codec(c, a, repeat)}
                for label, a in arrays.items() if a.nbytes for c in names]
    finally:
        blosc2.set_nthreads(previous)

"""Deterministic random generators: every block derives its own from (seed, stream, block, ...).

Results therefore do not depend on how many workers run, where, or in which order blocks finish.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """Stable 32-bit integer for a stream name (crc32; Python's hash() is salted per process)."""
    return zlib.crc32(name.encode())


def block_rng(seed: int, stream: str, *keys: int) -> np.random.Generator:
    """Generator for (seed, stream name, block index, further integer keys such as tel_id)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), stream_key(stream), *map(int, keys)]))

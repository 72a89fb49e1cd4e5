"""Codec speed rows: sizes and ratios as measured, every codec and non-empty array, a lossy round trip refused."""

import numpy as np
import pytest

from ctasim.datamodel import codecs
from ctasim.dl0 import codec_speed
from ctasim.errors import CtasimError


def test_rows_for_every_codec_and_array(lst_block):
    arrays = {"waveform": lst_block[0].waveform[:3], "ids": np.arange(50, dtype=np.int64),
              "empty": np.zeros((0, 4), np.float32)}
    rows = codec_speed.measure_codecs(arrays, ["none", "zstd", "delta-lz4"], repeat=1)
    assert [(r["data"], r["codec"]) for r in rows] == [
        (d, c) for d in ("waveform", "ids") for c in ("none", "zstd", "delta-lz4")]
    for r in rows:
        a = arrays[r["data"]]
        assert r["nbytes"] == a.nbytes and r["dtype"] == str(a.dtype) and r["threads"] == 1
        assert r["compressed_nbytes"] == len(codecs.encode(r["codec"], a))
        assert r["ratio"] == pytest.approx(a.nbytes / r["compressed_nbytes"])
        assert r["compress_mb_s"] > 0 and r["decompress_mb_s"] > 0
    assert rows[0]["ratio"] == 1.0 and rows[1]["ratio"] > 2.0


def test_a_round_trip_that_is_not_exact_is_refused(monkeypatch):
    real = codecs.decode
    monkeypatch.setattr(codecs, "decode", lambda *args: real(*args) + 1)
    with pytest.raises(CtasimError, match="codec zstd: round trip of a int64 \\(5,\\) array is not bit-exact"):
        codec_speed.measure_codec("zstd", np.arange(5))

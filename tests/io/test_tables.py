"""HDF5 tables: round trips with units, block-wise appends, sub-array fields, chunked reading."""

import h5py
import numpy as np
import pytest

from ctasim.datamodel.simulation import SHOWER_DTYPE, SHOWER_UNITS
from ctasim.io.tables import append_table, iter_table, read_table, write_table


def _showers(n, start=0):
    rows = np.zeros(n, SHOWER_DTYPE)
    rows["event_id"] = np.arange(start, start + n)
    rows["true_energy"] = np.linspace(0.1, 10, n)
    return rows


def test_append_block_by_block_round_trip(tmp_path):
    with h5py.File(tmp_path / "t.h5", "w") as f:
        for k in range(3):
            append_table(
                f, "/simulation/event/subarray/shower", _showers(100, 100 * k), SHOWER_UNITS
            )
        ds = f["/simulation/event/subarray/shower"]
        assert ds.chunks is not None and ds.compression == "gzip" and ds.fletcher32
    with h5py.File(tmp_path / "t.h5", "r") as f:
        data, units = read_table(f, "/simulation/event/subarray/shower")
        assert units == SHOWER_UNITS
        np.testing.assert_array_equal(data["event_id"], np.arange(300))
        assert data.dtype == SHOWER_DTYPE
        assert [len(c) for c in iter_table(f, "/simulation/event/subarray/shower", rows=128)] == [
            128,
            128,
            44,
        ]


def test_image_subarray_field(tmp_path):
    dtype = np.dtype([("event_id", "i8"), ("image", "f4", (1855,)), ("image_mask", "?", (1855,))])
    rows = np.zeros(5, dtype)
    rows["event_id"] = np.arange(5)
    rows["image"] = np.random.default_rng(1).random((5, 1855), dtype=np.float32)
    rows["image_mask"] = rows["image"] > 0.5
    with h5py.File(tmp_path / "t.h5", "w") as f:
        write_table(f, "/dl1/event/telescope/images/tel_001", rows, {"image": "pe"})
        data, units = read_table(f, "/dl1/event/telescope/images/tel_001")
    np.testing.assert_array_equal(data["image"], rows["image"])
    np.testing.assert_array_equal(data["image_mask"], rows["image_mask"])
    assert units == {"image": "pe"}


def test_mismatches_are_refused(tmp_path):
    with h5py.File(tmp_path / "t.h5", "w") as f:
        append_table(f, "a", _showers(2), SHOWER_UNITS)
        with pytest.raises(ValueError, match="columns"):
            append_table(f, "a", np.zeros(2, [("x", "f8")]))
        with pytest.raises(ValueError, match="units"):
            append_table(f, "a", _showers(2), {"true_energy": "GeV"})
        with pytest.raises(ValueError, match="not in the table"):
            write_table(f, "b", _showers(2), {"nope": "m"})
        with pytest.raises(TypeError, match="fixed bytes"):
            write_table(f, "c", np.zeros(2, [("name", "U8")]))
        with pytest.raises(ValueError, match="exists"):
            write_table(f, "a", _showers(2))

"""HDF5 tables: round trips with units, block-wise appends, sub-array fields, chunked reading, and
units that astropy's and ctapipe's readers return."""

import h5py
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.datamodel import paths
from ctasim.datamodel.simulation import SHOWER_DTYPE, SHOWER_UNITS
from ctasim.io.tables import append_table, iter_table, read_table, table_units, write_table

SHOWERS = "/simulation/event/subarray/all_showers"


def _showers(n, start=0):
    rows = np.zeros(n, SHOWER_DTYPE)
    rows["event_id"] = np.arange(start, start + n)
    rows["true_energy"] = np.linspace(0.1, 10, n)
    return rows


def test_append_block_by_block_round_trip(tmp_path):
    with h5py.File(tmp_path / "t.h5", "w") as f:
        for k in range(3):
            append_table(f, SHOWERS, _showers(100, 100 * k), SHOWER_UNITS)
        ds = f[SHOWERS]
        assert ds.chunks is not None and ds.compression == "gzip" and ds.fletcher32
    with h5py.File(tmp_path / "t.h5", "r") as f:
        data, units = read_table(f, SHOWERS)
        assert units == SHOWER_UNITS
        np.testing.assert_array_equal(data["event_id"], np.arange(300))
        assert data.dtype == SHOWER_DTYPE
        assert [len(c) for c in iter_table(f, SHOWERS, rows=128)] == [128, 128, 44]


def test_units_in_ctapipe_attributes_and_astropy_header(tmp_path):
    dtype = np.dtype([("obs_id", "i4"), ("name", "S8"), ("time", "f8"), ("slope", "f4"), ("temperature", "f4")])
    units = {"time": "s", "slope": "ns / deg", "temperature": "deg_C"}
    with h5py.File(tmp_path / "t.h5", "w") as f:
        write_table(f, "/a/table", np.zeros(3, dtype), units)
        attrs = f["/a/table"].attrs
        assert attrs[paths.ATTR_COLUMN.format(pos=3, key="UNIT")] == "ns / deg"
        assert attrs[paths.ATTR_COLUMN.format(pos=3, key="TRANSFORM")] == "quantity"
        assert attrs[paths.ATTR_COLUMN.format(pos=1, key="TRANSFORM")] == "string"
        assert attrs[paths.ATTR_COLUMN.format(pos=1, key="MAXLEN")] == 8
        assert paths.ATTR_COLUMN.format(pos=0, key="UNIT") not in attrs
        assert list(f["/a"]) == ["table"]  # no companion datasets beside the table
    table = QTable.read(tmp_path / "t.h5", path="/a/table")
    assert {c: str(table[c].unit) for c in units} == units
    assert table["obs_id"].unit is None and table["name"].dtype.kind == "S"


@pytest.mark.reference
def test_ctapipe_reads_quantities(tmp_path):
    tableio = pytest.importorskip("ctapipe.io")
    rows = _showers(4)
    rows["true_x_max"] = 300.0
    with h5py.File(tmp_path / "t.h5", "w") as f:
        write_table(f, SHOWERS, rows, SHOWER_UNITS)
        write_table(f, "/names", np.array([(1, b"LSTCam")], [("tel_id", "i2"), ("camera_name", "S16")]))
    table = tableio.read_table(tmp_path / "t.h5", SHOWERS, table_cls=QTable)
    for column, unit in SHOWER_UNITS.items():
        assert table[column].unit == unit, column
    assert table["true_x_max"][0].to_value("kg / m2") == pytest.approx(3000.0)
    assert table["event_id"].unit is None
    assert tableio.read_table(tmp_path / "t.h5", "/names")["camera_name"][0] == "LSTCam"


def test_image_subarray_field(tmp_path):
    dtype = np.dtype([("event_id", "i8"), ("image", "f4", (1855,)), ("peak_time", "f4", (1855,)),
                      ("image_mask", "?", (1855,))])
    rows = np.zeros(5, dtype)
    rows["event_id"] = np.arange(5)
    rows["image"] = np.random.default_rng(1).random((5, 1855), dtype=np.float32)
    rows["image_mask"] = rows["image"] > 0.5
    with h5py.File(tmp_path / "t.h5", "w") as f:
        write_table(f, "/dl1/event/telescope/images/tel_001", rows, {"peak_time": "ns"})
        data, units = read_table(f, "/dl1/event/telescope/images/tel_001")
    np.testing.assert_array_equal(data["image"], rows["image"])
    np.testing.assert_array_equal(data["image_mask"], rows["image_mask"])
    assert units == {"peak_time": "ns"}
    table = QTable.read(tmp_path / "t.h5", path="/dl1/event/telescope/images/tel_001")
    assert table["peak_time"].unit == "ns" and table["peak_time"].shape == (5, 1855)
    assert table["image"].unit is None


def test_mismatches_are_refused(tmp_path):
    with h5py.File(tmp_path / "t.h5", "w") as f:
        append_table(f, "a", _showers(2), SHOWER_UNITS)
        with pytest.raises(ValueError, match="columns"):
            append_table(f, "a", np.zeros(2, [("x", "f8")]))
        with pytest.raises(ValueError, match="units"):
            append_table(f, "a", _showers(2), SHOWER_UNITS | {"true_energy": "GeV"})
        with pytest.raises(ValueError, match="units"):
            append_table(f, "a", _showers(2), {})
        append_table(f, "a", _showers(2), SHOWER_UNITS)
        append_table(f, "a", _showers(2))  # units not given: not checked
        assert f["a"].shape == (6,) and table_units(f["a"]) == SHOWER_UNITS
        with pytest.raises(ValueError, match="not in the table"):
            write_table(f, "b", _showers(2), {"nope": "m"})
        with pytest.raises(ValueError, match="'pe' is not an astropy unit"):
            write_table(f, "b", _showers(2), {"true_energy": "pe"})
        with pytest.raises(TypeError, match="fixed bytes"):
            write_table(f, "c", np.zeros(2, [("name", "U8")]))
        with pytest.raises(ValueError, match="exists"):
            write_table(f, "a", _showers(2))

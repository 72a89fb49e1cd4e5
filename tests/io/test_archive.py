"""DL0 archive: round trip, crash safety, damage and version detection, verification report."""

import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

from ctasim.datamodel import paths
from ctasim.datamodel.dl0 import EncodedBlock
from ctasim.datamodel.simulation import SHOWER_DTYPE, SHOWER_UNITS
from ctasim.errors import DataFileError
from ctasim.io.archive import DL0ArchiveReader, DL0ArchiveWriter, temporary_path
from ctasim.io.provenance import make_provenance
from ctasim.io.verify import verify_file

N_PIX = 1855


def make_block(tel_id, block_index, n=20, stream="gamma", codec="blosc2-zstd-bitshuffle"):
    rng = np.random.default_rng([tel_id, block_index])
    mask = rng.random((n, N_PIX)) < 0.03
    columns = {
        "event_id": np.arange(n, dtype=np.int64) + 1000 * block_index,
        "trigger_time": np.sort(rng.random(n)) + block_index,
        "charge": rng.normal(0, 1, (n, N_PIX)).astype(np.float32),
        "peak_time": rng.uniform(0, 40, (n, N_PIX)).astype(np.float32),
        "pixel_mask": mask,
        "waveform": rng.integers(380, 420, (int(mask.sum()), 1, 20), dtype=np.uint16),
    }
    return EncodedBlock.encode(
        stream, 7, tel_id, block_index, codec, columns, {"variant": "dvr", "t_start": 0.5}
    )


@pytest.fixture
def archive(tmp_path, subarray):
    path = tmp_path / "dl0" / "obs_000007.dl0.h5"
    blocks = [make_block(tel, b) for b in range(3) for tel in (1, 5)]
    with DL0ArchiveWriter(path, subarray, make_provenance("t", {"a": 1}, seed=3)) as w:
        written = [w.append(b) for b in blocks]
        assert w.append(blocks[0]) == 0  # a retried block is ignored
        showers = np.zeros(60, SHOWER_DTYPE)
        showers["event_id"] = np.arange(60)
        w.append_table(paths.SIMULATION_SHOWER, showers, SHOWER_UNITS)
    assert written == [b.nbytes for b in blocks]
    return path, blocks


def test_round_trip(archive):
    path, blocks = archive
    assert not temporary_path(path).exists()
    with DL0ArchiveReader(path) as r:
        assert r.tel_ids == [1, 5]
        assert r.provenance["seed"] == 3
        assert r.subarray.n_tels == 13
        got = list(r.iter_blocks(5))
        want = [b for b in blocks if b.tel_id == 5]
        assert [g.checksum() for g in got] == [b.checksum() for b in want]
        assert got[1].attrs == {"variant": "dvr", "t_start": 0.5}
        for g, b in zip(got, want):
            for name, values in b.decode().items():
                np.testing.assert_array_equal(g.decode()[name], values)
        index = r.block_index(1)
        assert index["first_event_id"].tolist() == [0, 1000, 2000]
        assert index["last_event_id"].tolist() == [19, 1019, 2019]
        assert r.read_telescope(1, ("event_id",))["event_id"].size == 60
        showers, units = r.read_table(paths.SIMULATION_SHOWER)
        assert showers.size == 60 and units == SHOWER_UNITS
    report = verify_file(path)
    assert report.ok, [str(p) for p in report.problems]
    assert report.blocks == 6 and report.events == 120
    assert report.payload_bytes == sum(b.nbytes for b in blocks)


def test_exception_inside_writer_leaves_no_file(tmp_path, subarray):
    path = tmp_path / "x.h5"
    with pytest.raises(RuntimeError), DL0ArchiveWriter(path, subarray) as w:
        w.append(make_block(1, 0))
        raise RuntimeError("crash")
    assert not path.exists() and not temporary_path(path).exists()


def test_killed_writer_leaves_no_final_file(tmp_path, subarray):
    path = tmp_path / "killed.h5"
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
        from test_archive import make_block
        from ctasim.instrument.config import load_subarray
        from ctasim.io.archive import DL0ArchiveWriter
        w = DL0ArchiveWriter({str(path)!r}, load_subarray("north_alpha"))
        w.append(make_block(1, 0))
        w._h5.flush()
        os._exit(1)
    """)
    subprocess.run([sys.executable, "-c", code], check=False)
    assert not path.exists() and temporary_path(path).exists()
    with pytest.raises(DataFileError, match=r"killed\.h5\.tmp"):
        DL0ArchiveReader(temporary_path(path))


def test_flipped_payload_byte_is_detected(archive):
    path, _ = archive
    with h5py.File(path, "r") as f:
        offset = f["/dl0/event/telescope/tel_005/payload"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as fh:
        fh.seek(offset + 5000)
        byte = fh.read(1)
        fh.seek(offset + 5000)
        fh.write(bytes([byte[0] ^ 0x01]))
    with DL0ArchiveReader(path) as r:
        list(r.iter_blocks(1))  # other telescopes still read
        with pytest.raises(DataFileError, match=r"tel_005 block row 0 .*checksum mismatch"):
            list(r.iter_blocks(5))
    report = verify_file(path)
    assert [p.kind for p in report.problems] == ["corrupted"] and report.blocks == 5
    assert "tel_005 block row 0" in str(report.problems[0])


def test_refused_files(tmp_path, archive):
    path, _ = archive
    with pytest.raises(DataFileError, match="no such file"):
        DL0ArchiveReader(tmp_path / "missing.h5")
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    with pytest.raises(DataFileError, match="not an HDF5 file"):
        DL0ArchiveReader(text)
    with h5py.File(path, "r+") as f:
        f.attrs[paths.ATTR_DATA_MODEL] = "1.0"
    with pytest.raises(DataFileError, match=r"data model 1.0 is incompatible") as err:
        DL0ArchiveReader(path)
    assert "\n" not in str(err.value)
    assert [p.kind for p in verify_file(path).problems] == ["mismatch"]


def test_writer_refusals(tmp_path, archive, subarray):
    path, _ = archive
    with pytest.raises(DataFileError, match="exists already"):
        DL0ArchiveWriter(path, subarray)
    with DL0ArchiveWriter(tmp_path / "y.h5", subarray) as w:
        with pytest.raises(ValueError, match="not in the archive's subarray"):
            w.append(make_block(99, 0))
        w.append(make_block(1, 0))
        with pytest.raises(DataFileError, match="different contents"):
            w.append(make_block(1, 0, n=5))


def test_coded_and_sparse_blocks_round_trip(tmp_path, subarray):
    """Blocks with lossy-coded charges (decoded through their attributes) and charges of the selected
    pixels only come back from the archive as the reducer's blocks decode them, also concatenated."""
    from ctasim.dl0.reduction import OnsiteReducer, ReductionConfig
    from ctasim.dl0.testing import synthetic_r1, toy_images

    tel = subarray.tel(1)
    rng = np.random.default_rng(2)
    events = synthetic_r1(tel, *toy_images(tel, 8, rng), rng, tel_id=1)
    cfg = ReductionConfig.for_variant("pixel_selection", charge_coding="poisson", peak_time_step_ns=0.25,
                                      keep_unselected_charges=False)
    blocks = [OnsiteReducer(subarray, cfg).reduce(events, "gamma", b)[0] for b in range(2)]
    path = tmp_path / "coded.dl0.h5"
    with DL0ArchiveWriter(path, subarray) as w:
        for b in blocks:
            w.append(b)
    with DL0ArchiveReader(path) as r:
        got = list(r.iter_blocks(1))
        assert [g.attrs for g in got] == [b.attrs for b in blocks]
        n_kept = blocks[0].shapes["waveform"][0]     # the selected pixels' rows
        assert got[0].dtypes["charge"] == "<i2" and got[0].shapes["charge"] == (n_kept,)
        for g, b in zip(got, blocks):
            for name, values in b.decode().items():
                np.testing.assert_array_equal(g.decode()[name], values)
        table = r.read_telescope(1, ("charge", "pixel_mask"))
    assert table["charge"].dtype == np.float32
    np.testing.assert_array_equal(table["charge"], np.concatenate([b.decode()["charge"] for b in blocks]))
    assert table["charge"].size == table["pixel_mask"].sum()

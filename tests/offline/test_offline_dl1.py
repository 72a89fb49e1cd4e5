"""DL0 -> DL1: content, recomputation from stored images, provenance, damaged inputs."""

from __future__ import annotations

import itertools

import h5py
import numpy as np
import pytest

from ctasim.datamodel import paths
from ctasim.datamodel.dl1 import PARAMETER_COLUMNS
from ctasim.errors import DataFileError
from ctasim.image import process_images
from ctasim.io.archive import DL0ArchiveReader
from ctasim.io.instrument import read_subarray
from ctasim.io.provenance import read_provenance
from ctasim.io.tables import table_units
from ctasim.offline.dl1 import process_dl1
from ctasim.offline.files import stem


@pytest.fixture(scope="module")
def dl1_run(tmp_path_factory, dl0_run):
    """DL1 of the shared DL0 run, pass 3 (read-only)."""
    import shutil

    run_dir = tmp_path_factory.mktemp("dl1run")
    shutil.copytree(dl0_run / "dl0", run_dir / "dl0")
    files, stats = process_dl1(run_dir, pass_number=3)
    return run_dir, files, stats


def test_files_and_stats(dl1_run):
    run_dir, files, stats = dl1_run
    assert [f.name for f in files] == [
        "synthetic_gamma_obs000001.dl1.h5",
        "synthetic_proton_obs000002.dl1.h5",
    ]
    assert stats["array_events"] == 800
    assert stats["telescope_events"] == stats["images_stored"] > 0
    assert stats["images_per_s"] > 0
    assert not list((run_dir / "dl1").glob("*.tmp"))


def test_parameters_recomputed_from_stored_images(dl1_run):
    run_dir, files, _ = dl1_run
    archive = run_dir / "dl0" / "synthetic_gamma_obs000001.dl0.h5"
    with DL0ArchiveReader(archive) as reader, h5py.File(files[0], "r") as h5:
        subarray = read_subarray(h5)
        for tel_id in reader.tel_ids:
            params = h5[paths.tel_table_path(paths.DL1_PARAMETERS, tel_id)]
            images = h5[paths.tel_table_path(paths.DL1_IMAGES, tel_id)][()]
            assert table_units(params)["hillas_length"] == "deg"
            params = params[()]
            assert (params["tel_id"] == tel_id).all() and (params["obs_id"] == 1).all()
            np.testing.assert_array_equal(params["event_id"], images["event_id"])
            np.testing.assert_array_equal(
                params["event_id"], reader.read_telescope(tel_id, ("event_id",))["event_id"]
            )
            # the timing fit restarts its generator per DL0 block: recompute block by block
            bounds = np.cumsum(np.r_[0, reader.block_index(tel_id)["n_events"]])
            for start, stop in itertools.pairwise(bounds):
                img = images[start:stop]
                masks, expected = process_images(img["image"], img["peak_time"], subarray.tel(tel_id))
                np.testing.assert_array_equal(masks, img["image_mask"])
                for name in PARAMETER_COLUMNS:
                    np.testing.assert_array_equal(params[name][start:stop], expected[name], err_msg=name)


def test_truth_trigger_provenance(dl1_run):
    run_dir, files, _ = dl1_run
    archive = run_dir / "dl0" / "synthetic_proton_obs000002.dl0.h5"
    with DL0ArchiveReader(archive) as reader, h5py.File(files[1], "r") as h5:
        for src, dst in (
            (paths.DL0_SUBARRAY_TRIGGER, paths.DL1_SUBARRAY_TRIGGER),
            (paths.SIMULATION_SHOWER, paths.SIMULATION_SHOWER),
            (paths.SIMULATION_SHOWER_DISTRIBUTION, paths.SIMULATION_SHOWER_DISTRIBUTION),
        ):
            expected, units = reader.read_table(src)
            np.testing.assert_array_equal(h5[dst][()], expected)
            assert table_units(h5[dst]) == units
        prov = read_provenance(h5)
        assert prov["stage"] == "dl1" and prov["pass_number"] == 3 and prov["obs_id"] == 2
        assert prov["inputs"][0]["sha256_blocks"] == reader.stored_checksum
        assert prov["scenario"]["array"]["pointing"] == {"alt_deg": 70.0, "az_deg": 0.0}


def test_keep_images_off(run_dir):
    files, stats = process_dl1(run_dir, keep_images=False)
    assert stats["images_stored"] == 0
    with h5py.File(files[0], "r") as h5:
        assert paths.DL1_IMAGES not in h5 and paths.DL1_PARAMETERS in h5


def _flip_payload_byte(path):
    with h5py.File(path, "r") as h5:
        ds = h5[paths.tel_table_path(paths.DL0_TELESCOPE, 1) + "/payload"]
        offset = ds.id.get_chunk_info(0).byte_offset + 100
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _rename_tmp(path):
    path.rename(path.with_name(path.name + ".tmp"))


@pytest.mark.parametrize(
    "damage, message",
    [(_flip_payload_byte, "checksum mismatch"), (_truncate, "truncated"), (_rename_tmp, "incomplete archive")],
)
def test_damaged_dl0_is_refused(run_dir, damage, message):
    archive = run_dir / "dl0" / "synthetic_proton_obs000002.dl0.h5"
    damage(archive)
    with pytest.raises(DataFileError) as err:
        process_dl1(run_dir)
    text = str(err.value)
    assert message in text and "\n" not in text and "synthetic_proton" in text
    # nothing published, no temporary left: the DL1 files of a pass appear together or not at all
    assert not list((run_dir / "dl1").glob("*")) if (run_dir / "dl1").exists() else True


def test_empty_run_dir(tmp_path):
    with pytest.raises(DataFileError, match="no DL0 files"):
        process_dl1(tmp_path)


def test_stem():
    assert stem("a/run_gamma_obs000001.dl0.h5") == "run_gamma_obs000001"
    assert stem("run_gamma_obs000001.dl1.h5.tmp") == "run_gamma_obs000001"

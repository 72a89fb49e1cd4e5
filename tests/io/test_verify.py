"""``ctasim verify`` and the commands that refuse what it rejects (ctasim.io.verify).

One tiny run (150 gammas + 150 protons, DL1, DL2 and models) is made once; each case damages one
file of a private copy and checks that ``verify_run`` names that path and kind and that ``ctasim
process`` (a subprocess: an abort or a signal would show) exits 2 with one line, no traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from chain_helpers import tiny_scenario

from ctasim.datamodel import paths
from ctasim.errors import DataFileError
from ctasim.io.checksums import seal_tables
from ctasim.io.verify import require_intact, verify_run
from ctasim.offline.dl2 import load_models
from ctasim.scenario import validate_scenario

GAMMA = "tiny_gamma_obs000001"
PROTON = "tiny_proton_obs000002"
DL0 = f"dl0/{GAMMA}.dl0.h5"
DL1 = f"dl1/{GAMMA}.dl1.h5"
DL2 = f"dl2/{GAMMA}.dl2.h5"
PEDESTAL = paths.tel_table_path(paths.DL0_MONITORING_PEDESTAL, 1)
PARAMETERS = paths.tel_table_path(paths.DL1_PARAMETERS, 1)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A finished tiny run with DL0, DL1, DL2 and models (read-only: use ``run``)."""
    from actors.orchestrator import run_scenario

    run_dir = tmp_path_factory.mktemp("finished")
    scenario = validate_scenario(tiny_scenario(run_dir).to_dict() | {"offline": {"dl1": True, "dl2": True}})
    run_scenario(scenario, run_dir, backend="local")
    return run_dir


@pytest.fixture
def run(finished_run, tmp_path) -> Path:
    """A private copy of the finished run: hard links (``own`` a file before changing it in place)."""
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy, copy_function=os.link)
    return copy


def own(path: Path) -> Path:
    """Replace a hard link by a copy of its own, so that changing it leaves the finished run intact."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)
    return path


def flip_byte(path: Path, dataset: str, at: int = 100) -> None:
    """Flip one bit of the stored bytes of ``dataset`` (its first chunk, or its contiguous data)."""
    own(path)
    with h5py.File(path, "r") as h5:
        ds = h5[dataset]
        offset = ds.id.get_chunk_info(0).byte_offset if ds.chunks else ds.id.get_offset()
        size = ds.id.get_chunk_info(0).size if ds.chunks else ds.id.get_storage_size()
    with open(path, "r+b") as fh:
        fh.seek(offset + min(at, size - 1))
        byte = fh.read(1)
        fh.seek(offset + min(at, size - 1))
        fh.write(bytes([byte[0] ^ 0x10]))


def truncate(path: Path) -> None:
    own(path)
    os.truncate(path, path.stat().st_size // 2)


def process(run_dir: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ctasim.cli", "process", str(run_dir), *options],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
                          env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[2])})


def assert_refused(run_dir: Path, rel: str, kind: str, words: str = "", *options: str) -> str:
    """``ctasim process`` refuses in one line naming ``rel`` with ``kind`` (and ``words``) first: the
    line is verify's first problem. Returns the line."""
    done = process(run_dir, *options)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr and done.stdout == "", done.stderr
    prefix = f"ctasim: error: {run_dir / rel}: "
    assert done.stderr.startswith(prefix) and done.stderr[len(prefix):].startswith(kind), done.stderr
    assert words in done.stderr, done.stderr
    assert not list((run_dir / "dl1").glob("*.tmp"))
    return done.stderr


def problems_of(run_dir: Path) -> set[tuple[Path, str]]:
    return {(p.path, p.kind) for p in verify_run(run_dir).problems}


def test_a_finished_run_verifies(finished_run, capsys):
    from ctasim.cli import main

    assert main(["verify", str(finished_run)]) == 0
    out = capsys.readouterr().out
    blocks = 0
    for path in (finished_run / "dl0").glob("*.h5"):
        with h5py.File(path, "r") as h5:
            blocks += int(h5.attrs["n_blocks"])
    # 2 JSON, 6 HDF5 and 3 model files
    assert re.fullmatch(rf"ok: 11 files, \d{{3,}} tables, {blocks} blocks verified\n", out), out


def test_verify_prints_one_line_per_problem(run, capsys):
    from ctasim.cli import main

    (run / DL0).unlink()
    truncate(run / "summary.json")
    assert main(["verify", str(run)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{run / DL0}: missing: listed in provenance.json or summary.json but gone"
    assert f"{run / DL1}: stale: made from dl0/{GAMMA}.dl0.h5, which is gone" in lines
    assert lines[-1].startswith(f"{run / 'summary.json'}: truncated: not valid JSON")


@pytest.mark.parametrize("rel, dataset, words", [
    (DL0, paths.tel_table_path(paths.DL0_TELESCOPE, 1) + "/payload", "tel_001 block row 0"),
    (DL0, paths.camera_neighbors_paths(0)[1], "instrument tables"),
    (DL0, paths.camera_geometry_path(1), paths.camera_geometry_path(1)),
    (DL0, PEDESTAL, PEDESTAL),
    (DL1, PARAMETERS, PARAMETERS),
], ids=["event_block", "instrument_neighbours", "instrument_geometry", "monitoring_pedestal", "dl1_parameters"])
def test_a_flipped_byte_is_named(run, rel, dataset, words):
    flip_byte(run / rel, dataset)
    assert_refused(run, rel, "corrupted", words)


@pytest.mark.parametrize("rel", [DL0, DL1])
def test_a_truncated_file_is_named(run, rel):
    truncate(run / rel)
    assert_refused(run, rel, "truncated", "bytes of the")


def test_a_deleted_archive_is_named_and_its_dl1_stale(run):
    (run / DL0).unlink()
    assert_refused(run, DL0, "missing", "listed in provenance.json")
    assert (run / DL1, "stale") in problems_of(run)


def test_a_deleted_dl1_file_makes_its_dl2_stale(run):
    (run / DL1).unlink()
    assert problems_of(run) >= {(run / DL1, "missing"), (run / DL2, "stale")}
    assert_refused(run, DL2, "stale", "which is gone")   # DL1 is rewritten, the DL2 made from the deleted file not


def test_a_changed_monitoring_table_makes_the_dl1_stale(run):
    """A DL0 file rewritten consistently (checksums sealed again) is intact, the DL1 made from it stale."""
    with h5py.File(own(run / DL0), "r+") as h5:
        weather = h5[paths.DL0_MONITORING_WEATHER]
        rows = weather[()]
        rows[rows.dtype.names[-1]] += 1.0
        weather[...] = rows
        seal_tables(h5)
    assert problems_of(run) == {(run / DL1, "stale")}
    with pytest.raises(DataFileError, match=re.escape(f"{DL1}: stale: made from dl0/{GAMMA}.dl0.h5, which changed")):
        require_intact(run)                       # irf, science
    require_intact(run, ("dl1", "dl2"))           # process --dl2 makes both again


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_a_damaged_model_is_refused_before_lightgbm(run, damage):
    path = own(run / "models" / "energy.model")
    text = path.read_text()
    cut = len(text) // 2
    path.write_text(text[:cut] if damage == "truncate" else text[:cut] + ("1" if text[cut] != "1" else "2")
                    + text[cut + 1:])
    kind = "truncated" if damage == "truncate" else "corrupted"
    assert_refused(run, "models/energy.model", kind, "checksum mismatch")
    with pytest.raises(DataFileError, match=r"energy\.model: LightGBM model text truncated or damaged"):
        load_models(run / "models", {"LST_LST_LSTCam"})       # --models DIR: refused before LightGBM reads it


def test_a_deleted_model_makes_the_dl2_stale(run):
    (run / "models" / "energy.model").unlink()
    assert_refused(run, "models/energy.model", "missing", "listed in")
    assert (run / DL2, "stale") in problems_of(run)


def test_summary_accounting_is_checked_against_the_files(run):
    path = own(run / "summary.json")
    summary = json.loads(path.read_text())
    for row in summary["accounting"]["counts"]:
        if row[:3] == ["telescope_events_archived", "gamma", "LST"]:
            row[3] += 1
    summary["accounting"]["stages"]["telescope_events_archived"]["total"] += 1
    summary["accounting"]["stages"]["telescope_events_archived"]["by_stream"]["gamma"] += 1
    summary["accounting"]["stages"]["telescope_events_archived"]["by_tel_type"]["LST"] += 1
    path.write_text(json.dumps(summary))
    n = summary["accounting"]["stages"]["telescope_events_archived"]["total"]
    assert_refused(run, "summary.json", "mismatch",
                   f"telescope_events_archived.total = {n}, the DL0 files hold {n - 1}")


def test_a_truncated_summary_is_named(run):
    truncate(run / "summary.json")
    assert_refused(run, "summary.json", "truncated", "not valid JSON")


def test_process_rewrites_missing_dl1_files(run):
    """Missing files of the levels a pass writes anew are no reason to refuse; damaged ones are."""
    for level in ("dl1", "dl2"):
        shutil.rmtree(run / level)
    with pytest.raises(DataFileError, match=r"dl2\.h5: missing"):
        require_intact(run, ("dl1",))
    assert require_intact(run, ("dl1", "dl2")).blocks > 0


def test_damaged_irf_and_dl3_fits_files_are_named(run):
    """IRF and DL3 files: every HDU read and its FITS checksums verified."""
    import numpy as np
    from astropy.io import fits

    hdu = fits.BinTableHDU.from_columns([fits.Column(name="ENERG_LO", format="E", array=np.arange(2000.0))])
    (run / "irf").mkdir()
    (run / "dl3").mkdir()
    flipped, cut = run / "irf" / "irf_pass1.fits", run / "dl3" / "obs_000001_pass1.fits.gz"
    for path in (flipped, cut):
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, checksum=True)
    data = bytearray(flipped.read_bytes())
    data[-100] ^= 0x01                                   # in the table's data, after both headers
    flipped.write_bytes(bytes(data))
    os.truncate(cut, cut.stat().st_size // 2)
    problems = verify_run(run).problems
    assert [(p.path, p.kind) for p in problems] == [(flipped, "corrupted"), (cut, "truncated")]
    assert "checksum mismatch" in str(problems[0]) and "gzip stream ends early" in str(problems[1])
    assert_refused(run, "irf/irf_pass1.fits", "corrupted")

"""DL2 -> IRFs, sensitivity and DL3 (ctasim.offline.irf) on the small run of conftest.py.

The conftest's toy books both populations as point sources and separates gammas from protons
perfectly; the fixture books the protons as drawn (a 1 deg view cone, ``toy_events``'
``max_offset_deg``) and gives the test protons a uniform gammaness, so some background passes the
cuts. Two bins per decade keep enough test gammas per bin.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import astropy.units as u
import h5py
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable
from dl2_edits import TOY_VIEWCONE_DEG, blur_gammaness, dl2_run, rewrite

from ctasim.datamodel import paths
from ctasim.errors import CtasimError, DataFileError
from ctasim.io.gadf_read import read_irfs
from ctasim.io.tables import read_table
from ctasim.irf.reference import curve_values, irf_curves
from ctasim.offline import run_offline
from ctasim.offline.irf import IRF_BIN_KEYS, MIGRATION_BINS, PROD5_KEYS, process_irf
from ctasim.report.run_report import Table, irf_section
from ctasim.scenario import IrfConfig, OfflineConfig, validate_scenario

DOCS = Path(__file__).resolve().parents[2] / "README.md"

CONFIG = IrfConfig(enabled=True, bins_per_decade=2, livetime_h=0.5, n_observations=2)


def _book_protons_as_drawn(rows):
    rows["viewcone_max"][rows["particle"] == b"proton"] = TOY_VIEWCONE_DEG
    return rows


@pytest.fixture(scope="module")
def dl2_toy(tmp_path_factory, dl0_run):
    """DL1 + DL2 of the shared DL0 run, protons booked with their view cone (read-only: copy it)."""
    run_dir = tmp_path_factory.mktemp("irf_dl2")
    for path in dl2_run(run_dir, dl0_run):
        rewrite(path, paths.SIMULATION_SHOWER_DISTRIBUTION, _book_protons_as_drawn)
    return run_dir


def _copy_dl2(src, dst):
    shutil.copytree(src / "dl2", dst / "dl2")
    return dst


@pytest.fixture(scope="module")
def irf_run(tmp_path_factory, dl2_toy):
    """(run_dir, irf section) after one IRF pass on the toy with blurred proton gammaness."""
    run_dir = _copy_dl2(dl2_toy, tmp_path_factory.mktemp("irf_run"))
    for path in (run_dir / "dl2").glob("*proton*.dl2.h5"):
        rewrite(path, paths.DL2_SUBARRAY_EVENTS, blur_gammaness)
    return run_dir, process_irf(run_dir, CONFIG)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_stage_writes_irfs_cuts_and_dl3(irf_run):
    run_dir, section = irf_run
    assert section["pass_number"] == 1
    point, full = run_dir / "irf" / "irf_pass1.fits.gz", run_dir / "irf" / "irf_full_enclosure_pass1.fits.gz"
    with fits.open(point) as hdul:
        assert [h.name for h in hdul[1:]] == ["EFFECTIVE AREA", "ENERGY DISPERSION", "BACKGROUND", "RAD_MAX"]
        assert {h.header["HDUCLAS3"] for h in hdul[1:]} == {"POINT-LIKE"}
        for hdu in hdul[1:]:
            assert all(np.isfinite(np.asarray(hdu.data[c.name], float)).all() for c in hdu.columns)
    with fits.open(full) as hdul:
        assert "PSF" in [h.name for h in hdul] and "RAD_MAX" not in [h.name for h in hdul]
    cuts = QTable.read(run_dir / "irf" / "cuts_pass1.ecsv")
    assert len(cuts) == len(section["bins"]["e_center_tev"])
    observations = section["dl3"]["observations"]
    assert [o["obs_id"] for o in observations] == [1, 2]
    assert sum(o["livetime_s"] for o in observations) == pytest.approx(1800.0)
    assert all(o["n_gammas"] > 0 for o in observations)
    for name in ("obs_000001_pass1.fits.gz", "obs_000002_pass1.fits.gz", "hdu-index.fits.gz", "obs-index.fits.gz"):
        assert (run_dir / "dl3" / name).is_file()


def test_summary_section_is_plain_json_with_finite_values(irf_run):
    _, section = irf_run
    assert json.loads(json.dumps(section, allow_nan=False)) == section
    bins = section["bins"]
    prod5 = {f"prod5_{site}_{key}" for site in ("north", "south") for key in PROD5_KEYS}
    assert set(bins) == set(IRF_BIN_KEYS) | prod5
    assert len({len(v) for v in bins.values()}) == 1
    valid = [i for i, cut in enumerate(bins["gammaness_cut"]) if cut is not None]
    assert valid, "no energy bin with a gammaness cut"
    for i in valid:
        assert 0.0 <= bins["gammaness_cut"][i] <= 1.0
        assert 0.05 <= bins["theta_cut_deg"][i] <= 0.32
        assert bins["effective_area_m2"][i] >= 0.0
        assert bins["background_rate_hz"][i] >= 0.0
    assert any(bins["sensitivity_crab"][i] is not None and bins["sensitivity_crab"][i] > 0 for i in valid)
    assert any(v is not None and v > 0 for v in bins["effective_area_m2"])
    assert section["counts"]["selected_gammas"] > 0 and section["wall_s"] > 0


def test_irf_keys_are_documented(irf_run):
    _, section = irf_run
    keys = [f"irf.{k}" for k in section]
    text = DOCS.read_text()
    missing = [k for k in keys if f"`{k}`" not in text]
    missing += [k for k in section["bins"] if not k.startswith("prod5_") and f"`{k}`" not in text]
    assert not missing, f"not documented in the README: {missing}"


def test_report_renders_the_irf_table(irf_run):
    _, section = irf_run
    blocks = irf_section({"irf": section})
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) == 1 and "Prod5 N" in tables[0].header
    assert len(tables[0].rows) == len(section["bins"]["e_center_tev"])
    flagged = irf_section({"irf": {"error": "IRF: empty selection after cuts"}})
    assert not [b for b in flagged if isinstance(b, Table)] and "empty selection" in flagged[-1].text


def test_reference_curves_of_our_own_irf_files_reproduce_the_summary(irf_run):
    """ctasim.irf.reference on this pass's IRF files (the code that computes the Prod5 values) gives the
    summary's figures: A_eff and background exactly, R68 and dE/E within the files' binning, the 50 h
    sensitivity close to the event-based one."""
    run_dir, section = irf_run
    bins = section["bins"]
    edges = np.append(bins["e_min_tev"], bins["e_max_tev"][-1]) * u.TeV
    point = curve_values(irf_curves(read_irfs(run_dir / "irf" / "irf_pass1.fits.gz"), edges), edges,
                         ("effective_area_m2", "energy_resolution", "background_rate_per_s_mev_sr",
                          "sensitivity_crab", "background_rate_hz"))
    full = curve_values(irf_curves(read_irfs(run_dir / "irf" / "irf_full_enclosure_pass1.fits.gz"), edges),
                        edges, ("effective_area_m2", "r68_deg"))

    def pairs(curves, key, ours=None):
        found = [(a, b) for a, b in zip(curves[key], bins[ours or key]) if b is not None]
        assert found and all(a is not None for a, _ in found), key
        return np.array(found, np.float64).T

    exact = ((point, "effective_area_m2", None), (full, "effective_area_m2", "effective_area_no_theta_cut_m2"),
             (point, "background_rate_per_s_mev_sr", None), (point, "background_rate_hz", None))
    for curves, key, ours in exact:
        np.testing.assert_allclose(*pairs(curves, key, ours), rtol=1e-5, err_msg=key)  # float32 files
    np.testing.assert_allclose(*pairs(full, "r68_deg"), atol=0.02)  # PSF table: 0.02 deg source-offset bins
    # 8-22 gammas per bin: the event quantiles and the histogram's linear CDF agree within one migration bin
    # at the median (11 % of mu), not better
    from_file, from_events = pairs(point, "energy_resolution")
    bias = np.array([b for b, r in zip(bins["energy_bias"], bins["energy_resolution"]) if r is not None], float)
    width = (MIGRATION_BINS[1] / MIGRATION_BINS[0] - 1.0) * (1.0 + bias)
    assert np.all(np.abs(from_file - from_events) < width), (from_file, from_events, width)
    # folding through 2 bins per decade of A_eff and migration vs the weighted events themselves
    ratio = np.divide(*pairs(point, "sensitivity_crab"))
    assert np.all((ratio > 1 / 1.7) & (ratio < 1.7)), ratio


def test_gammapy_opens_the_dl3_directory(irf_run):
    gammapy_data = pytest.importorskip("gammapy.data")
    run_dir, section = irf_run
    store = gammapy_data.DataStore.from_dir(run_dir / "dl3")
    assert list(store.obs_ids) == [1, 2]
    obs = store.obs(1, required_irf="point-like")
    assert len(obs.events.table) == section["dl3"]["observations"][0]["n_events"]
    assert obs.aeff.is_pointlike and obs.rad_max is not None


def test_second_pass_keeps_the_first(irf_run, tmp_path):
    run_dir = shutil.copytree(irf_run[0], tmp_path / "run")
    first = {p: _digest(p) for p in sorted((run_dir / "irf").iterdir()) + sorted((run_dir / "dl3").glob("obs_*"))}
    sections = run_offline(run_dir, OfflineConfig(), CONFIG)
    assert set(sections) == {"irf", "science"} and sections["irf"]["pass_number"] == 2
    assert (run_dir / "irf" / "irf_pass2.fits.gz").is_file()
    assert (run_dir / "dl3" / "obs_000001_pass2.fits.gz").is_file()
    assert {p: _digest(p) for p in first} == first
    assert run_offline(run_dir, OfflineConfig(), IrfConfig()) == {}  # not enabled: nothing runs


def test_multiplicity_quality_cut_keeps_only_events_with_enough_telescopes(irf_run, tmp_path):
    """ctapipe's IRF quality cut (multiplicity >= 4): the IRFs see exactly the valid test gammas with
    at least 4 telescopes; a zero cut is refused in one line naming the key."""
    run_dir = shutil.copytree(irf_run[0], tmp_path / "run")
    strict = process_irf(run_dir, CONFIG.model_copy(update={"min_multiplicity": 4}))
    parts = []
    for path in sorted((run_dir / "dl2").glob("*gamma*.dl2.h5")):
        with h5py.File(path, "r") as h5:
            parts.append(read_table(h5, paths.DL2_SUBARRAY_EVENTS)[0])
    rows = np.concatenate(parts)
    test = rows[~rows["is_train"] & rows["is_valid"]]
    assert (test["multiplicity"] < 4).any() and (test["multiplicity"] >= 4).any()
    assert strict["counts"]["test_gammas"] == int((test["multiplicity"] >= 4).sum())
    assert irf_run[1]["counts"]["test_gammas"] == len(test)
    base = {"name": "x", "seed": 1, "particles": [{"name": "g", "particle": "gamma", "n_showers": 10}],
            "offline": {"dl1": True, "dl2": True}}
    with pytest.raises(CtasimError, match=r"irf\.min_multiplicity"):
        validate_scenario(base | {"irf": {"enabled": True, "min_multiplicity": 0}})


def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def test_no_dl2_files(tmp_path):
    with pytest.raises(DataFileError) as excinfo:
        process_irf(tmp_path, CONFIG)
    assert "no DL2 files" in _one_line(excinfo)


def test_dl2_without_needed_columns(dl2_toy, tmp_path):
    run_dir = _copy_dl2(dl2_toy, tmp_path)
    path = sorted((run_dir / "dl2").glob("*.dl2.h5"))[0]
    rewrite(path, paths.DL2_SUBARRAY_EVENTS,
             lambda rows: rows[[n for n in rows.dtype.names if n != "gammaness"]].copy())
    with pytest.raises(DataFileError) as excinfo:
        process_irf(run_dir, CONFIG)
    assert "lacks column(s) gammaness" in _one_line(excinfo)


def test_no_test_protons(dl2_toy, tmp_path):
    run_dir = _copy_dl2(dl2_toy, tmp_path)
    for path in (run_dir / "dl2").glob("*proton*"):
        path.unlink()
    with pytest.raises(DataFileError) as excinfo:
        process_irf(run_dir, CONFIG)
    assert "test gammas and test protons" in _one_line(excinfo)


def test_empty_selection_after_cuts(dl2_toy, tmp_path):
    """The unblurred toy separates perfectly: no background passes the optimised cuts."""
    run_dir = _copy_dl2(dl2_toy, tmp_path)
    with pytest.raises(CtasimError) as excinfo:
        process_irf(run_dir, CONFIG)
    assert "empty selection" in _one_line(excinfo)
    assert not (run_dir / "irf").exists() or not any((run_dir / "irf").iterdir())


def test_cli_irf_on_a_directory_that_is_not_a_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ctasim.cli", "irf", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no summary.json" in done.stderr


def test_irf_scenario_section():
    base = {"name": "x", "seed": 1, "particles": [{"name": "g", "particle": "gamma", "n_showers": 10}],
            "offline": {"dl1": True, "dl2": True}}
    assert validate_scenario(base | {"irf": {"enabled": True}}).irf.livetime_h == 0.5
    bad = [{"enabled": True, "livetime_h": 0}, {"gammaness_efficiencies": [0.0]}, {"n_observations": 0},
           {"source_spectrum": {"type": "cosmic_proton"}}, {"unknown": 1}]
    for irf in bad:
        with pytest.raises(CtasimError, match=r"irf"):
            validate_scenario(base | {"irf": irf})
    with pytest.raises(CtasimError, match=r"needs offline\.dl2"):
        validate_scenario(base | {"offline": {"dl1": True}, "irf": {"enabled": True}})

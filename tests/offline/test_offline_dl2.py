"""DL1 -> DL2: event rows, train/test split, model training, saving and loading, performance."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

from ctasim.datamodel import paths
from ctasim.errors import DataFileError
from ctasim.offline import next_pass_number, run_offline
from ctasim.offline.dl1 import process_dl1
from ctasim.offline.dl2 import MODEL_FILES, process_dl2, train_split
from ctasim.offline.performance import CURVE_LABELS, performance, plot_performance, prod5_curves
from ctasim.paths import REFERENCE_DATA_ENV, prod5_irf_file
from ctasim.scenario import OfflineConfig


@pytest.fixture(scope="module")
def dl2_run(tmp_path_factory, dl0_run):
    """DL1 + DL2 (models trained in-run) of the shared DL0 run (read-only)."""
    run_dir = tmp_path_factory.mktemp("dl2run")
    shutil.copytree(dl0_run / "dl0", run_dir / "dl0")
    process_dl1(run_dir, keep_images=False)
    files, stats = process_dl2(run_dir, None, train_fraction=0.5)
    return run_dir, files, stats


def _copy(run_dir, tmp_path, levels=("dl0", "dl1")):
    for level in levels:
        shutil.copytree(run_dir / level, tmp_path / level)
    return tmp_path


def test_dl2_rows_match_array_events(dl2_run):
    run_dir, files, stats = dl2_run
    assert stats["array_events"] == 800 and stats["trained"]
    for dl2 in files:
        dl1 = run_dir / "dl1" / dl2.name.replace(".dl2.", ".dl1.")
        with h5py.File(dl1, "r") as h1, h5py.File(dl2, "r") as h2:
            trigger = h1[paths.DL1_SUBARRAY_TRIGGER][()]
            events = h2[paths.DL2_SUBARRAY_EVENTS][()]
            np.testing.assert_array_equal(events["event_id"], np.sort(trigger["event_id"]))
            np.testing.assert_array_equal(events["obs_id"], trigger["obs_id"])
            assert events["is_valid"].any()
            valid = events[events["is_valid"]]
            assert np.isfinite(valid["reco_energy"]).all() and np.isfinite(valid["gammaness"]).all()
            assert (valid["multiplicity"] >= 2).all()
            for name in h1[paths.DL1_PARAMETERS]:
                tel = h2[f"{paths.DL2_TELESCOPE}/{name}"][()]
                dl1_ids = h1[f"{paths.DL1_PARAMETERS}/{name}"]["event_id"]
                np.testing.assert_array_equal(tel["event_id"], np.sort(dl1_ids))
            # train/test flag is the deterministic hash split
            np.testing.assert_array_equal(events["is_train"], train_split(events["obs_id"], events["event_id"], 0.5))
            assert paths.SIMULATION_SHOWER in h2 and paths.DL1_SUBARRAY_TRIGGER in h2


def test_train_split_is_deterministic_and_balanced():
    obs = np.repeat(np.arange(1, 5), 5000)
    ev = np.tile(np.arange(5000), 4)
    split = train_split(obs, ev, 0.3)
    assert abs(split.mean() - 0.3) < 0.02
    perm = np.random.default_rng(0).permutation(obs.size)
    np.testing.assert_array_equal(train_split(obs[perm], ev[perm], 0.3), split[perm])


def test_models_trained_twice_are_identical(dl2_run, tmp_path):
    run_dir, files, _ = dl2_run
    again = _copy(run_dir, tmp_path)
    files2, _ = process_dl2(again, None)
    for name in MODEL_FILES.values():
        first = (run_dir / "models" / name).read_text().split("\n", 1)
        second = (again / "models" / name).read_text().split("\n", 1)
        assert first[1] == second[1]  # LightGBM text; the header differs in its creation time
        header = json.loads(first[0].split(" ", 2)[2])
        assert "train_split" in header["training_sample"]["description"]
    assert (again / "models" / "provenance.json").is_file()
    for a, b in zip(files, files2):
        with h5py.File(a, "r") as ha, h5py.File(b, "r") as hb:
            # byte-identical, NaNs of invalid events included
            assert ha[paths.DL2_SUBARRAY_EVENTS][()].tobytes() == hb[paths.DL2_SUBARRAY_EVENTS][()].tobytes()


def test_loaded_models_give_the_same_predictions(dl2_run, tmp_path):
    run_dir, files, _ = dl2_run
    other = _copy(run_dir, tmp_path)
    files2, stats = process_dl2(other, run_dir / "models")
    assert not stats["trained"] and stats["test_events"] == 800
    for a, b in zip(files, files2):
        with h5py.File(a, "r") as ha, h5py.File(b, "r") as hb:
            ea, eb = ha[paths.DL2_SUBARRAY_EVENTS][()], hb[paths.DL2_SUBARRAY_EVENTS][()]
        assert not eb["is_train"].any()
        np.testing.assert_array_equal(ea["gammaness"], eb["gammaness"])
        np.testing.assert_array_equal(ea["reco_energy"], eb["reco_energy"])


def test_model_from_another_version_is_refused(dl2_run, tmp_path):
    run_dir, _, _ = dl2_run
    models = tmp_path / "models"
    shutil.copytree(run_dir / "models", models)
    path = models / MODEL_FILES["energy"]
    path.write_text(path.read_text().replace('"ctasim_version": "0.', '"ctasim_version": "9.', 1))
    with pytest.raises(DataFileError, match="ctasim major version") as err:
        process_dl2(_copy(run_dir, tmp_path / "run"), models)
    assert "\n" not in str(err.value)
    with pytest.raises(DataFileError, match="no such model file"):
        process_dl2(_copy(run_dir, tmp_path / "run2"), tmp_path / "nowhere")


def test_performance_keys_and_plots(dl2_run, tmp_path):
    run_dir, _, _ = dl2_run
    perf = performance(run_dir)
    json.dumps(perf, allow_nan=False)
    n_bins = len(perf["energy_bins_tev"]) - 1
    assert n_bins == 18 and perf["site"] == "north"
    assert set(perf["curves"]) == set(CURVE_LABELS)
    for curve in perf["curves"].values():
        assert set(curve) == {"value", "n_events", "prod5_north", "prod5_south"}
        assert all(len(v) == n_bins for v in curve.values())
    c = perf["counts"]
    assert c["simulated_gammas"] == 410 and c["triggered_gammas"] == 400
    assert 0 < c["reconstructed_gammas"] <= c["triggered_gammas"]
    res = [v for v in perf["curves"]["angular_resolution_deg"]["value"] if v is not None]
    assert res and max(res) < 0.3
    auc = [v for v in perf["curves"]["roc_auc"]["value"] if v is not None]
    assert auc and min(auc) > 0.8
    files = plot_performance(perf, tmp_path / "plots")
    assert len(files) == len(CURVE_LABELS) and all(f.stat().st_size > 0 for f in files)


@pytest.mark.reference
def test_prod5_curves_from_the_official_files():
    if prod5_irf_file("north") is None:
        pytest.skip("Prod5 North IRF file not available")
    ref = prod5_curves("north", np.array([0.004, 0.006, 0.8, 1.25]))  # centres 0.0049 (none), 0.069, 1 TeV
    r68 = ref["angular_resolution_deg"]
    assert r68[0] is None and r68[2] == pytest.approx(0.058, rel=0.02)  # REFERENCE values, 1 TeV
    assert ref["energy_resolution"][2] == pytest.approx(0.081, rel=0.05)
    assert ref["effective_area_m2"][2] == pytest.approx(4.4e5, rel=0.06)
    assert ref["roc_auc"] == [None] * 3


def test_prod5_curves_are_null_without_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv(REFERENCE_DATA_ENV, str(tmp_path))
    ref = prod5_curves("south", np.array([0.1, 1.0, 10.0]))
    assert set(ref) == set(CURVE_LABELS) and all(v == [None, None] for v in ref.values())


def test_run_offline_passes(dl0_run, tmp_path):
    shutil.copytree(dl0_run / "dl0", tmp_path / "dl0")
    sections = run_offline(tmp_path, OfflineConfig(dl1=False, dl2=True))  # DL1 runs first: none yet
    assert set(sections) == {"dl1", "dl2", "data_quality"} and sections["dl1"]["pass_number"] == 1
    assert {"performance", "plots", "events_per_s"} <= set(sections["dl2"])
    json.dumps(sections, allow_nan=False)
    assert next_pass_number(tmp_path) == 2
    assert set(run_offline(tmp_path, OfflineConfig(dl1=True))) == {"dl1", "data_quality"}
    assert next_pass_number(tmp_path) == 3

"""LightGBM energy / gammaness models on learnable toy samples; model files."""

import json

import numpy as np
import pytest

import ctasim
from ctasim.errors import DataFileError
from ctasim.instrument.config import load_subarray
from ctasim.io.model_file import MODEL_MAGIC
from ctasim.reco.disp import DispRegressor
from ctasim.reco.dl2 import ModelSet, predict_dl2
from ctasim.reco.metrics import auc_per_energy_bin, energy_bias_resolution, energy_bins, roc_auc
from ctasim.reco.models import (
    DEFAULT_FEATURES,
    EnergyRegressor,
    ParticleClassifier,
    ResolutionTable,
    combine_per_event,
    telescope_features,
)
from ctasim.reco.stereo import reconstruct_stereo
from ctasim.reco.toy import toy_events

TOY = {
    "energy_range_tev": (0.1, 30.0),
    "hadron_fraction": 0.5,
    "psi_noise_deg": 2.0,
    "cog_noise_deg": 0.02,
    "intensity_noise": 0.15,
}


@pytest.fixture(scope="module")
def subarray():
    return load_subarray("north_alpha")


@pytest.fixture(scope="module")
def trained(subarray):
    table, truth = toy_events(subarray, 2000, seed=21, **TOY)
    features = telescope_features(table, reconstruct_stereo(table, subarray, 70.0, 0.0), subarray)
    gamma = truth["true_shower_primary_id"][features.event_id - 1] == 0
    energy = EnergyRegressor(n_estimators=80).fit(features, truth, "toy seed 21", rows=gamma)
    particle = ParticleClassifier(n_estimators=80).fit(features, truth, "toy seed 21")
    disp = DispRegressor(n_estimators=80).fit(features, truth, "toy seed 21", rows=gamma)
    return ModelSet(energy, particle, disp)


@pytest.fixture(scope="module")
def test_sample(subarray):
    table, truth = toy_events(subarray, 1500, seed=22, obs_id=2, **TOY)
    stereo = reconstruct_stereo(table, subarray, 70.0, 0.0)
    return table, truth, telescope_features(table, stereo, subarray)


def test_energy_and_gammaness_are_learned(subarray, trained, test_sample):
    table, truth, features = test_sample
    stereo = reconstruct_stereo(table, subarray, 70.0, 0.0)
    events, tel = predict_dl2(table, stereo, features, trained, truth=truth)
    ok = events["is_valid"]
    assert ok.mean() > 0.5
    gamma = events["true_shower_primary_id"] == 0
    sel = ok & gamma
    bins = energy_bins(0.1, 30.0, 2)
    res = energy_bias_resolution(events["true_energy"][sel], events["reco_energy"][sel], bins)
    # toy intensity noise 15% per telescope, several telescopes per event; the outer bins are
    # biased towards the inside of the training range, as any regressor
    assert max(res["energy_resolution"]) < 0.3
    assert max(abs(b) for b in res["energy_bias"][1:-1]) < 0.1
    auc = auc_per_energy_bin(events["true_energy"][ok], events["gammaness"][ok], gamma[ok], bins)
    assert min(auc["roc_auc"]) > 0.9
    assert np.isnan(events["reco_energy"][~ok]).all()
    # per-telescope predictions only for rows that entered the geometry
    assert np.isfinite(tel["reco_energy_tel"]).sum() == np.isfinite(tel["gammaness_tel"]).sum()
    assert ((tel["gammaness_tel"] >= 0) & (tel["gammaness_tel"] <= 1))[
        np.isfinite(tel["gammaness_tel"])
    ].all()


def test_combination_is_intensity_weighted(test_sample):
    _, _, features = test_sample
    values = np.where(features.selected, 1.0, np.nan)
    values[features.selected & (features.weight > np.median(features.weight))] = 3.0
    combined = combine_per_event(values, features)
    ev, w = features.event_index, features.weight
    k = int(ev[np.flatnonzero(features.selected)[0]])
    rows = (ev == k) & features.selected
    assert combined[k] == pytest.approx(np.sum(w[rows] * values[rows]) / np.sum(w[rows]))


def test_resolution_table_finds_the_scatter_of_each_bin_and_falls_back_where_sparse():
    rng = np.random.default_rng(3)
    n = 40_000
    types = np.where(rng.random(n) < 0.5, "LST", "MST")
    log_i = rng.uniform(2.0, 4.0, n)
    impact = rng.uniform(0.0, 500.0, n)
    sigma = np.where(impact < 120.0, 0.10, 0.04) * np.where(types == "LST", 1.0, 1.5)
    table = ResolutionTable.measure(types, log_i, impact, rng.normal(0.0, sigma))
    found = table.lookup(types, log_i, impact)
    np.testing.assert_allclose(found, sigma, rtol=0.15)
    # 10 rows only at 5.5 log10 p.e.: below MIN_ROWS, they take the type's overall value
    few = rng.normal(0.0, 0.3, 10)
    with_few = ResolutionTable.measure(np.r_[types, np.full(10, "LST")], np.r_[log_i, np.full(10, 5.5)],
                                       np.r_[impact, np.full(10, 50.0)], np.r_[rng.normal(0.0, sigma), few])
    lst = types == "LST"
    overall = 0.5 * np.diff(np.percentile(np.r_[rng.normal(0.0, sigma[lst]), few], [16, 84]))[0]
    assert with_few.lookup(np.array(["LST"]), np.array([5.5]), np.array([50.0]))[0] == pytest.approx(overall, rel=0.1)
    assert np.isnan(table.lookup(np.array(["SST"]), np.array([3.0]), np.array([50.0])))[0]


def test_energy_is_the_inverse_variance_mean_of_the_telescope_energies(trained, test_sample):
    features = test_sample[2]
    model = trained.energy
    assert set(model.header["resolution_table"]["sigma"]) == set(model.tel_types)
    event_energy, tel_energy = model.predict(features)
    w = model.telescope_weights(features)
    k = int(features.event_index[np.flatnonzero(features.selected & np.isfinite(tel_energy))[0]])
    rows = (features.event_index == k) & features.selected
    assert np.all(w[rows] > 0)
    expected = 10 ** (np.sum(w[rows] * np.log10(tel_energy[rows])) / np.sum(w[rows]))
    assert event_energy[k] == pytest.approx(expected)


def test_save_load_round_trip(tmp_path, trained, test_sample):
    features = test_sample[2]
    for model, cls in ((trained.energy, EnergyRegressor), (trained.particle, ParticleClassifier),
                       (trained.disp, DispRegressor)):
        path = model.save(tmp_path / f"{model.kind}.txt")
        loaded = cls.load(path)
        a, b = model.predict(features), loaded.predict(features)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        header = json.loads(path.read_text().splitlines()[0][len(MODEL_MAGIC) :])
        assert header["features"] == list(DEFAULT_FEATURES)
        assert header["ctasim_version"] == ctasim.__version__
        assert header["training_sample"]["description"] == "toy seed 21"
        primaries = {"energy": {"0"}, "gammaness": {"0", "101"}, "disp": {"0"}}[model.kind]
        assert set(header["training_sample"]["rows_per_primary_id"]) == primaries
        assert header["params"]["deterministic"] and header["params"]["num_threads"] == 1


def test_training_is_deterministic(subarray, trained):
    table, truth = toy_events(subarray, 2000, seed=21, **TOY)
    features = telescope_features(table, reconstruct_stereo(table, subarray, 70.0, 0.0), subarray)
    again = ParticleClassifier(n_estimators=80).fit(features, truth, "toy seed 21")
    assert again.booster.model_to_string() == trained.particle.booster.model_to_string()


def _rewrite_header(path, **changes):
    first, rest = path.read_text().split("\n", 1)
    header = json.loads(first[len(MODEL_MAGIC) :])
    header.update(changes)
    path.write_text(MODEL_MAGIC + json.dumps(header) + "\n" + rest)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ctasim_version": "7.0.0"}, "ctasim major version"),
        ({"ctasim_data_model": "9.0"}, "data model major version"),
        ({"features": ["log10_intensity"]}, "features"),
        ({"kind": "gammaness"}, "kind"),
    ],
)
def test_incompatible_model_refused(tmp_path, trained, changes, message):
    path = trained.energy.save(tmp_path / "energy.txt")
    _rewrite_header(path, **changes)
    with pytest.raises(DataFileError, match=message) as err:
        EnergyRegressor.load(path)
    assert "\n" not in str(err.value)


def test_damaged_or_foreign_file_refused(tmp_path, trained):
    bad = tmp_path / "bad.txt"
    bad.write_text("tree\nversion=v4\n")
    with pytest.raises(DataFileError, match="not a ctasim model"):
        EnergyRegressor.load(bad)
    with pytest.raises(DataFileError, match="no such model file"):
        EnergyRegressor.load(tmp_path / "missing.txt")
    path = trained.energy.save(tmp_path / "energy.txt")
    with pytest.raises(DataFileError, match="features"):
        EnergyRegressor.load(path, features=DEFAULT_FEATURES[:-1])


def test_roc_auc_matches_pairwise_definition():
    rng = np.random.default_rng(3)
    scores = np.round(rng.normal(size=300), 1)  # many ties
    labels = rng.uniform(size=300) < 0.4
    pos, neg = scores[labels], scores[~labels]
    pairwise = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert roc_auc(scores, labels) == pytest.approx(pairwise, rel=1e-12)
    assert roc_auc(np.array([0.1, 0.9]), np.array([False, True])) == 1.0
    assert np.isnan(roc_auc(np.array([0.5]), np.array([True])))


@pytest.mark.parametrize("cut", [0.3, 0.9, 0.999])
def test_truncated_model_text_is_refused_before_lightgbm_reads_it(tmp_path, trained, cut):
    """LightGBM aborts the whole process (exit 134) on some truncated model texts: never reach it."""
    path = trained.energy.save(tmp_path / "energy.txt")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(DataFileError, match="truncated or damaged") as err:
        EnergyRegressor.load(path)
    assert "\n" not in str(err.value)


def test_a_changed_digit_in_the_model_text_is_refused(tmp_path, trained):
    path = trained.energy.save(tmp_path / "energy.txt")
    text = path.read_text()
    i = text.index("leaf_value=") + len("leaf_value=")
    digit = next(k for k in range(i, len(text)) if text[k].isdigit())
    path.write_text(text[:digit] + str((int(text[digit]) + 1) % 10) + text[digit + 1:])
    with pytest.raises(DataFileError, match="checksum mismatch"):
        EnergyRegressor.load(path)

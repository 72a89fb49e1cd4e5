"""Stereo geometry: exact answers on noiseless toy showers, agreement with ctapipe."""

import numpy as np
import pytest

from ctasim.datamodel.ids import match_events
from ctasim.instrument.config import load_subarray
from ctasim.instrument.frames import altaz_to_vector
from ctasim.reco.metrics import angular_separation_deg
from ctasim.reco.stereo import (
    StereoQualityCuts,
    camera_radius_deg,
    quality_mask,
    reconstruct_stereo,
)
from ctasim.reco.toy import toy_events

NO_CUTS = StereoQualityCuts(min_intensity=None, min_n_pixels=None, max_leakage=None)


@pytest.fixture(scope="module")
def subarray():
    return load_subarray("north_alpha")


def true_h_max(truth):
    """Height a.s.l. (m) of the toy's shower maximum, inverted from its x_max."""
    return -8000.0 * np.log(truth["true_x_max"] / 1000.0)


@pytest.mark.parametrize("alt, az", [(70.0, 0.0), (55.0, 135.0), (85.0, 270.0)])
def test_exact_direction_and_h_max(subarray, alt, az):
    table, truth = toy_events(subarray, 300, seed=11, pointing_alt=alt, pointing_az=az)
    r = reconstruct_stereo(table, subarray, alt, az, cuts=NO_CUTS)
    assert r.is_valid.all()
    sep = angular_separation_deg(r.reco_alt, r.reco_az, truth["true_alt"], truth["true_az"])
    assert sep.max() < 1e-9
    np.testing.assert_allclose(r.reco_h_max, true_h_max(truth), rtol=1e-9)
    np.testing.assert_array_equal(r.multiplicity, np.bincount(r.event_index))
    # impact: distance of each telescope from the line (reco core, true direction)
    ev = table["event_id"] - 1
    core = np.stack([r.reco_core_x, r.reco_core_y, np.zeros(r.n_events)], -1)[ev]
    axis = altaz_to_vector(truth["true_alt"], truth["true_az"])[ev]
    pos = subarray.positions[table["tel_id"] - 1]
    np.testing.assert_allclose(
        r.impact_distance, np.linalg.norm(np.cross(pos - core, axis), axis=-1), atol=1e-6
    )


def test_exact_core_on_axis(subarray):
    """On-axis showers with the image axis along the radial direction of its centroid: the
    axis lines meet exactly at the core."""
    alt, az = 65.0, 40.0
    table, truth = toy_events(
        subarray, 200, seed=12, pointing_alt=alt, pointing_az=az, max_offset_deg=0.0
    )
    lon, lat = np.deg2rad(table["hillas_fov_lon"]), np.deg2rad(table["hillas_fov_lat"])
    table["hillas_psi"] = np.rad2deg(np.arctan(np.sin(lat) / (np.cos(lat) * np.sin(lon))))
    r = reconstruct_stereo(table, subarray, alt, az, cuts=NO_CUTS)
    np.testing.assert_allclose(r.reco_core_x, truth["true_core_x"], atol=1e-6)
    np.testing.assert_allclose(r.reco_core_y, truth["true_core_y"], atol=1e-6)


def test_row_order_and_per_event_pointing(subarray):
    table, _ = toy_events(subarray, 100, seed=13, psi_noise_deg=2.0)
    ref = reconstruct_stereo(table, subarray, 70.0, 0.0)
    perm = np.random.default_rng(0).permutation(table.size)
    shuffled = reconstruct_stereo(table[perm], subarray, np.full(100, 70.0), np.zeros(100))
    for name in ("reco_alt", "reco_az", "reco_core_x", "reco_core_y", "reco_h_max"):
        np.testing.assert_allclose(getattr(shuffled, name), getattr(ref, name), rtol=1e-12)
    np.testing.assert_allclose(shuffled.impact_distance, ref.impact_distance[perm], rtol=1e-12)
    np.testing.assert_array_equal(shuffled.event_index, ref.event_index[perm])


def test_quality_cuts_and_min_telescopes(subarray):
    table, _ = toy_events(subarray, 200, seed=14)
    cuts = StereoQualityCuts(
        min_intensity=200.0, min_n_pixels=3, max_leakage=0.05, min_telescopes=3
    )
    mask = quality_mask(table, cuts)
    expected = (
        (table["hillas_intensity"] > 200)
        & (table["morphology_n_pixels"] > 3)
        & (table["leakage_intensity_width_2"] <= 0.05)
    )
    np.testing.assert_array_equal(mask, expected)
    table["hillas_width"][:5] = 0.0
    table["hillas_psi"][5:10] = np.nan
    r = reconstruct_stereo(table, subarray, 70.0, 0.0, cuts=cuts)
    assert not r.used[:10].any()
    n_used = np.bincount(r.event_index, weights=r.used, minlength=r.n_events)
    np.testing.assert_array_equal(r.multiplicity, n_used)
    np.testing.assert_array_equal(r.is_valid, n_used >= 3)
    assert np.isnan(r.reco_alt[~r.is_valid]).all()
    assert np.isnan(r.impact_distance[~r.is_valid[r.event_index]]).all()
    assert np.isfinite(r.impact_distance[r.is_valid[r.event_index]]).all()


def test_bad_input(subarray):
    table, truth = toy_events(subarray, 5, seed=15)
    table["tel_id"][0] = 99
    with pytest.raises(ValueError, match="tel_id"):
        reconstruct_stereo(table, subarray, 70.0, 0.0)
    with pytest.raises(ValueError, match="event_id=7"):
        match_events(np.array([1, 1]), np.array([2, 7]), truth)
    empty = reconstruct_stereo(table[:0], subarray, 70.0, 0.0)
    assert empty.n_events == 0


@pytest.mark.reference
def test_agrees_with_ctapipe(subarray):
    pytest.importorskip("ctapipe")
    from ctasim import ctapipe_compat as cc

    alt, az = 65.0, 30.0
    table, _ = toy_events(
        subarray,
        300,
        seed=16,
        pointing_alt=alt,
        pointing_az=az,
        energy_range_tev=(0.02, 20.0),
        psi_noise_deg=3.0,
        cog_noise_deg=0.02,
    )
    cuts = StereoQualityCuts()
    csub = cc.to_ctapipe_subarray(subarray)
    for type_name, tel in subarray.telescope_types.items():
        cam = csub.tel[int(subarray.tel_ids_of_type(type_name)[0])].camera.geometry
        expected = np.rad2deg(cam.guess_radius().to_value("m") / tel.optics.effective_focal_length)
        assert camera_radius_deg(tel) == pytest.approx(expected, rel=1e-12)
    reconstructor = cc.make_hillas_reconstructor(csub, cuts)
    events = cc.to_ctapipe_events(table, alt, az)
    for event in events:
        reconstructor(event)
    ref = cc.geometry_arrays(events)
    r = reconstruct_stereo(table, subarray, alt, az, cuts=cuts)

    np.testing.assert_array_equal(r.is_valid, ref["is_valid"])
    assert 0.5 < r.is_valid.mean() < 1.0  # the cuts matter in this sample
    assert set(r.multiplicity[r.is_valid]) >= {2, 3, 5}
    v = r.is_valid
    np.testing.assert_array_equal(r.multiplicity[v], ref["n_tels"][v])
    sep = angular_separation_deg(r.reco_alt[v], r.reco_az[v], ref["alt"][v], ref["az"][v])
    assert sep.max() < 1e-6  # required: 0.01 deg
    np.testing.assert_allclose(r.reco_core_x[v], ref["core_x"][v], atol=1e-6)
    np.testing.assert_allclose(r.reco_core_y[v], ref["core_y"][v], atol=1e-6)
    np.testing.assert_allclose(r.reco_h_max[v], ref["h_max"][v], rtol=1e-9)
    impact_ref = np.array(
        [ref["impacts"][(int(i), int(t))] for i, t in zip(r.event_index, table["tel_id"])]
    )
    np.testing.assert_allclose(r.impact_distance, impact_ref, atol=1e-6, equal_nan=True)

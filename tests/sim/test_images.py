"""Camera images of gammas and protons: shape, position, timing, and gamma/hadron separation."""

import numpy as np
import pytest
from sim_helpers import LSTS, image_moments


def _camera_deg(north, tel_id=1):
    tel = north.tel(tel_id)
    geom, f = tel.camera.geometry, tel.optics.effective_focal_length
    return np.rad2deg(geom.pix_x / f), np.rad2deg(geom.pix_y / f)


def _table(north, sample):
    """Moments of all LST images of a sample, telescope frame in deg (camera x = f * fov_lat)."""
    _showers, events = sample
    x, y = _camera_deg(north)
    cols = []
    for tel_id in LSTS:
        for ev in events[tel_id]:
            if ev.n_events:
                m = image_moments(ev.true_image, x, y)
                cols.append(np.column_stack([*m, ev.true_impact_distance]))
    t = np.concatenate(cols)
    return dict(zip(["size", "cx", "cy", "length", "width", "ax", "ay", "impact"], t.T))


def test_gamma_images_have_reference_width_and_length(north, lst_gammas):
    t = _table(north, lst_gammas)
    ok = (t["size"] > 200) & (np.hypot(t["cx"], t["cy"]) < 1.5)
    # REFERENCE.md image size scale: ~0.1 deg wide, 0.1-0.6 deg long near 1 TeV
    assert 0.06 < np.median(t["width"][ok]) < 0.14
    assert 0.15 < np.median(t["length"][ok]) < 0.5
    assert np.median(t["length"][ok] / t["width"][ok]) > 2.0


def test_centroid_moves_away_from_the_source_with_impact(north, lst_gammas):
    t = _table(north, lst_gammas)
    ok = t["size"] > 100
    dist = np.hypot(t["cx"], t["cy"])[ok]      # the source is at the camera centre
    impact = t["impact"][ok]
    assert np.corrcoef(impact, dist)[0, 1] > 0.7
    near, far = dist[impact < 80], dist[(impact > 150) & (impact < 250)]
    assert np.median(far) > 2 * np.median(near)
    # the major axis points back to the source: small miss distance
    miss = np.abs(t["cx"] * t["ay"] - t["cy"] * t["ax"])[ok]
    assert np.median(miss[dist > 0.5]) < 0.1


def test_time_gradient_grows_with_impact(north, lst_gammas):
    """Light from deeper in the shower (farther from the source) arrives later: ~ b / (2 c)."""
    _showers, events = lst_gammas
    x, y = _camera_deg(north)
    tel = north.tel(1)
    ro = tel.camera.readout
    slopes, impacts = [], []
    for tel_id in LSTS:
        for ev in events[tel_id]:
            if not ev.n_events:
                continue
            sig = ev.waveform[:, 0].astype(np.float64) - ro.pedestal_adc     # high gain
            # pulse centroid within -2..+3 samples of the maximum (ns)
            i_max = np.clip(sig.argmax(-1), 2, ro.n_samples - 4)[..., None] + np.arange(-2, 4)
            around = np.clip(np.take_along_axis(sig, i_max, -1), 0, None)
            peak = (around * i_max).sum(-1) / around.sum(-1).clip(1e-9) * ro.sample_width_ns
            size, cx, cy, *_ = image_moments(ev.true_image, x, y)
            for k in np.flatnonzero(size > 300):
                pix = ev.true_image[k] >= 10
                r = np.hypot(cx[k], cy[k])
                if pix.sum() < 8 or r < 0.3:
                    continue
                along = (x[pix] * cx[k] + y[pix] * cy[k]) / r      # along source -> centroid
                slopes.append(np.polyfit(along, peak[k, pix], 1)[0])
                impacts.append(ev.true_impact_distance[k])
    slopes, impacts = np.array(slopes), np.array(impacts)
    far = (impacts > 150) & (impacts < 300)
    near = impacts < 80
    expected_far = np.median(impacts[far]) / (2 * 0.299792458) * np.pi / 180     # ns / deg
    assert np.median(slopes[far]) == pytest.approx(expected_far, rel=0.5)
    assert np.median(slopes[far]) > 2 * abs(np.median(slopes[near]))


def _auc(signal: np.ndarray, background: np.ndarray) -> float:
    """Probability that a background score exceeds a signal score (Mann-Whitney)."""
    scores = np.concatenate([signal, background])
    ranks = np.argsort(np.argsort(scores)) + 1
    r_bkg = ranks[signal.size:].sum()
    return (r_bkg - background.size * (background.size + 1) / 2) / (signal.size * background.size)


def test_proton_images_are_wider_and_separable(north, lst_gammas, lst_protons):
    g, p = _table(north, lst_gammas), _table(north, lst_protons)
    bins = np.logspace(np.log10(150), np.log10(3000), 5)
    sel = {k: (t["size"] > bins[0]) & (t["size"] < bins[-1]) & (np.hypot(t["cx"], t["cy"]) < 1.5)
           for k, t in (("g", g), ("p", p))}
    assert sel["g"].sum() > 150 and sel["p"].sum() > 100
    # scaled width and length: divided by the gamma median in the same intensity bin
    scores = {}
    for k, t in (("g", g), ("p", p)):
        b = np.digitize(t["size"], bins) - 1
        score = np.zeros(t["size"].size)
        for i in range(bins.size - 1):
            ref = (np.digitize(g["size"], bins) - 1 == i) & sel["g"]
            shape = t["width"] / np.median(g["width"][ref]) + 0.5 * t["length"] / np.median(g["length"][ref])
            score += (b == i) * shape
        scores[k] = score[sel[k]]
    gb = np.digitize(g["size"][sel["g"]], bins)
    pb = np.digitize(p["size"][sel["p"]], bins)
    assert all(np.median(p["width"][sel["p"]][pb == i]) > 1.3 * np.median(g["width"][sel["g"]][gb == i])
               for i in range(1, bins.size) if (pb == i).sum() > 10)
    assert _auc(scores["g"], scores["p"]) > 0.8

"""Pixel faults: injection physics (dead, hot, stars, NSB gradient), detection thresholds of the pixel
status, the mask in cleaning, and the scenario's one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scenario_helpers import refusal
from sim_helpers import POINTING

from ctasim.datamodel.monitoring import PIXEL_STATUS_DEAD, PIXEL_STATUS_NOISY, pixel_pedestal_dtype
from ctasim.dl0.pixel_status import DEAD_STD_FRACTION, NOISY_STD_FACTOR, classify, pixel_status
from ctasim.image import clean_images, default_cleaning
from ctasim.paths import SCENARIO_DIR
from ctasim.scenario import Pointing, StarConfig
from ctasim.sim.camera_sim import TelescopeSimulator
from ctasim.sim.electronics import pedestal_variance_pe2
from ctasim.sim.pixel_faults import STAR_PHOTONS_PER_M2_NS_MAG0, PixelFaultModel, Star
from ctasim.sim.source import Population, ShowerSource

HOT_RATE = 2.0


@pytest.fixture(scope="module")
def faulty():
    return PixelFaultModel(dead_fraction=0.05, hot_fraction=0.02, hot_rate_ghz=HOT_RATE, dead_pixels={1: (0, 1)})


def _pixel_var_pe2(sim, tel_id, n_events=40):
    ro = sim.subarray.tel(tel_id).camera.readout
    wf = sim.pedestal_waveforms(tel_id, 0, n_events)[:, 0].astype(np.float64)
    return wf.var(axis=(0, 2)) / ro.gain_adc_per_pe[0] ** 2


def test_dead_and_hot_pixels_are_drawn_per_telescope_and_fixed_by_the_seed(north, faulty):
    n = north.tel(1).camera.geometry.n_pixels
    dead, hot = faulty.dead_and_hot(1, n, seed=3)
    assert dead[:2].all() and not (dead & hot).any()
    assert dead.sum() in (round(0.05 * n), round(0.05 * n) + 1, round(0.05 * n) + 2)
    assert hot.sum() >= round(0.02 * n) - 2
    again = faulty.dead_and_hot(1, n, seed=3)
    other = faulty.dead_and_hot(2, n, seed=3)
    assert np.array_equal(dead, again[0]) and not np.array_equal(dead, other[0])


def test_dead_pixels_hold_electronic_noise_only_and_hot_ones_their_extra_rate(north, faulty):
    sim = TelescopeSimulator(north, [1], *POINTING, seed=3, pixel_faults=faulty)
    cam = north.tel(1).camera
    dead, hot = faulty.dead_and_hot(1, cam.geometry.n_pixels, 3)
    var = _pixel_var_pe2(sim, 1)
    quant = 1 / 12 / cam.readout.gain_adc_per_pe[0] ** 2
    assert np.median(var[dead]) == pytest.approx(cam.readout.electronic_noise_pe**2 + quant, rel=0.1)
    healthy = np.median(var[~dead & ~hot])
    assert healthy == pytest.approx(pedestal_variance_pe2(cam) + quant, rel=0.05)
    nsb_part = pedestal_variance_pe2(cam) - cam.readout.electronic_noise_pe**2
    expected_hot = nsb_part * (cam.nsb_rate_ghz + HOT_RATE) / cam.nsb_rate_ghz + cam.readout.electronic_noise_pe**2
    assert np.median(var[hot]) == pytest.approx(expected_hot, rel=0.1)


def test_dead_pixels_lose_their_cherenkov_light(north):
    pop = Population("gamma", "gamma", n_showers=100, energy_min_tev=1.0, energy_max_tev=10.0, max_scatter_m=200.0)
    block = ShowerSource(pop, north, *POINTING, 3, 100).block(0)
    model = PixelFaultModel(dead_fraction=0.3)
    events = TelescopeSimulator(north, [1], *POINTING, seed=3, pixel_faults=model).simulate(block)[1]
    healthy = TelescopeSimulator(north, [1], *POINTING, seed=3).simulate(block)[1]
    dead, _ = model.dead_and_hot(1, north.tel(1).camera.geometry.n_pixels, 3)
    assert events.n_events > 0 and events.true_image[:, dead].sum() == 0
    assert healthy.true_image[:, dead].sum() > 0
    assert events.n_events <= healthy.n_events     # a third of the light gone: no more triggers


def test_a_star_puts_its_light_where_it_is_and_as_bright_as_its_magnitude(north):
    tel = north.tel(1)
    model = PixelFaultModel(stars=(Star(0.5, -0.3, 4.0),))
    rate = model.star_rate_ghz(tel)
    pe_per_photon = tel.optics.mirror_area * tel.camera.photon_detection_efficiency
    total = STAR_PHOTONS_PER_M2_NS_MAG0 * 10 ** (-0.4 * 4.0) * pe_per_photon
    assert rate.sum() == pytest.approx(total, rel=1e-6)   # PSF well inside the camera
    geom = tel.camera.geometry
    lon, lat = tel.camera_to_fov_deg(geom.pix_x, geom.pix_y)
    brightest = np.argmax(rate)
    assert np.hypot(lon[brightest] - 0.5, lat[brightest] + 0.3) < 0.1    # within a pixel (0.1 deg)
    far = np.hypot(lon - 0.5, lat + 0.3) > 0.5
    assert rate[far].sum() == 0.0


def test_a_sky_star_moves_with_the_pointing():
    star = StarConfig(alt_deg=71.0, az_deg=0.0, magnitude=5.0)
    assert star.star(Pointing(alt_deg=70.0, az_deg=0.0), "north_alpha").fov_lat_deg == pytest.approx(1.0, abs=1e-6)
    moved = star.star(Pointing(alt_deg=70.5, az_deg=0.0), "north_alpha")
    assert moved.fov_lat_deg == pytest.approx(0.5, abs=1e-6) and moved.fov_lon_deg == pytest.approx(0.0, abs=1e-6)


def test_a_catalogue_star_is_where_the_site_sees_it_at_the_run_epoch():
    """psi1 Aur (HR 2289, RA 06h24m53.9s, Dec +49d17m16s; Yale Bright Star Catalogue) is 0.53 deg from North
    Alpha's alt 70, az 0 pointing at the run epoch (RA 96.06, Dec 48.78: ICRS of that pointing, astropy)."""
    from ctasim.instrument.config import load_subarray
    from ctasim.io.gadf import RunInfo, icrs_of

    pointing = Pointing(alt_deg=70.0, az_deg=0.0)
    psi1 = StarConfig(ra_deg=96.2246, dec_deg=49.2879, magnitude=4.9).star(pointing, "north_alpha")
    assert np.hypot(psi1.fov_lon_deg, psi1.fov_lat_deg) == pytest.approx(0.53, abs=0.02)
    sky = icrs_of(np.array([71.2]), np.array([2.0]), RunInfo.from_subarray(load_subarray("north_alpha")))
    by_catalogue = StarConfig(ra_deg=float(sky.ra.deg[0]), dec_deg=float(sky.dec.deg[0]), magnitude=5.0)
    by_horizontal = StarConfig(alt_deg=71.2, az_deg=2.0, magnitude=5.0)
    a, b = by_catalogue.star(pointing, "north_alpha"), by_horizontal.star(pointing, "north_alpha")
    assert (a.fov_lon_deg, a.fov_lat_deg) == pytest.approx((b.fov_lon_deg, b.fov_lat_deg), abs=1e-6)


def test_nsb_gradient_scales_the_rate_along_its_direction(north):
    tel = north.tel(5)
    scale = PixelFaultModel(gradient_per_deg=0.2, gradient_direction_deg=90.0).nsb_scale(tel)
    geom = tel.camera.geometry
    _, lat = tel.camera_to_fov_deg(geom.pix_x, geom.pix_y)
    np.testing.assert_allclose(scale, 1.0 + 0.2 * lat, atol=1e-9)


def _rows(std: np.ndarray, n_blocks: int = 2) -> np.ndarray:
    rows = np.zeros(n_blocks, pixel_pedestal_dtype(std.size))
    rows["n_pedestal_events"], rows["pixel_std_adc"] = 8, std
    return rows


def test_status_thresholds_against_the_camera_median(north):
    tel = north.tel(1)
    n = tel.camera.geometry.n_pixels
    std = np.full(n, 6.0, np.float32)
    std[:3] = 6.0 * (DEAD_STD_FRACTION - 0.05)      # dead
    std[3:6] = 6.0 * (DEAD_STD_FRACTION + 0.1)      # low, not dead
    std[6:9] = 6.0 * (NOISY_STD_FACTOR + 0.05)      # noisy
    std[9:12] = 6.0 * (NOISY_STD_FACTOR - 0.1)      # high, not noisy
    status = classify(tel, std)
    assert np.flatnonzero(status & PIXEL_STATUS_DEAD).tolist() == [0, 1, 2]
    assert np.flatnonzero(status & PIXEL_STATUS_NOISY).tolist() == [6, 7, 8]
    row = pixel_status(1, tel, _rows(std))
    assert row["unusable"][0].sum() == 6 and row["n_pedestal_events"][0] == 16
    assert row["camera_median_std_adc"][0] == pytest.approx(6.0)


def test_a_gradient_is_measured_and_its_dark_side_not_flagged_dead(north):
    tel = north.tel(5)
    geom = tel.camera.geometry
    ro = tel.camera.readout
    lon, lat = tel.camera_to_fov_deg(geom.pix_x, geom.pix_y)
    noise_var = (ro.gain_adc_per_pe[0] * ro.electronic_noise_pe) ** 2
    nsb_var = 30.0 * (1.0 + 0.3 * (lon * np.cos(np.pi / 3) + lat * np.sin(np.pi / 3)))   # 0.3/deg at 60 deg
    std = np.sqrt(np.maximum(nsb_var, 0.0) + noise_var).astype(np.float32)
    assert (std < DEAD_STD_FRACTION * np.median(std)).sum() > 0      # the camera median alone would flag them
    row = pixel_status(5, tel, _rows(std))
    assert row["pixel_status"][0].sum() == 0
    assert row["nsb_gradient_per_deg"][0] == pytest.approx(0.3, rel=0.02)
    assert row["nsb_gradient_direction_deg"][0] == pytest.approx(60.0, abs=1.0)


def test_unusable_pixels_never_survive_cleaning_nor_carry_a_picture(north):
    tel = north.tel(1)
    geom = tel.camera.geometry
    config = default_cleaning(tel.camera_name)
    image = np.zeros((1, geom.n_pixels), np.float32)
    p = 100
    nbrs = geom.neighbors_indices[geom.neighbors_indptr[p]:geom.neighbors_indptr[p + 1]]
    image[0, p] = 50.0                       # a bright (noisy) pixel...
    image[0, nbrs[:2]] = config.picture_pe + 1.0   # ...whose two picture neighbours need it
    unusable = np.zeros(geom.n_pixels, bool)
    unusable[p] = True
    times = np.zeros_like(image)
    assert clean_images(image, times, geom, config)[0, p]
    masked = clean_images(image, times, geom, config, unusable)
    assert not masked[0, p]
    assert masked.sum() < clean_images(image, times, geom, config).sum()


def _bad(tmp_path, pixels, **offline):
    data = yaml.safe_load((SCENARIO_DIR / "quickstart.yaml").read_text())
    data["faults"] = {"instrument": {"pixels": pixels}}
    data["offline"].update(offline)
    if offline:
        data["irf"] = {"enabled": False}
    return refusal(tmp_path, data)


@pytest.mark.parametrize("pixels, message", [
    ({"dead": {"pixels": {99: [1]}}}, "faults.instrument.pixels.dead.pixels[99]: tel_id 99 is not in layout"),
    ({"hot": {"pixels": {1: [5000]}}}, "faults.instrument.pixels.hot.pixels[1] = [5000]: expected pixel ids 0-1854"),
    ({"dead": {"fraction": 0.7}}, "faults.instrument.pixels.dead.fraction = 0.7"),
    ({"stars": [{"magnitude": 3.0, "fov_lon_deg": 0.5}]}, "alt_deg and az_deg, or ra_deg and dec_deg"),
    ({"stars": [{"magnitude": 3.0, "ra_deg": 96.0, "dec_deg": -80.0}]}, "stars[0]: RA 96, Dec -80 deg is below"),
    ({"stars": [{"magnitude": 3.0, "alt_deg": 60.0, "az_deg": 0.0}]}, "stars[0]: 10.0 deg from the pointing"),
    ({"nsb_gradient": {"fraction_per_deg": -0.1}}, "nsb_gradient.fraction_per_deg = -0.1"),
])
def test_bad_pixel_faults_are_one_line_naming_the_key(tmp_path, pixels, message):
    assert message in _bad(tmp_path, pixels)


def test_pixel_faults_need_dl1(tmp_path):
    assert "needs offline.dl1 or offline.dl2" in _bad(tmp_path, {"dead": {"fraction": 0.1}}, dl1=False, dl2=False)

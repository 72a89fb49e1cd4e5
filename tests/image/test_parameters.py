"""Image parameters on hand-made images whose answer is known analytically."""

import numpy as np
import pytest

from ctasim.datamodel.dl1 import PARAMETER_COLUMNS, PARAMETER_UNITS
from ctasim.image import (
    border_pixel_masks,
    image_parameters,
    process_images,
    telescope_pixels,
)
from ctasim.instrument.camera import build_camera_geometry
from ctasim.instrument.config import load_telescope_types

F = 10.0  # focal length, m
PITCH = 0.05  # m
PITCH_DEG = np.rad2deg(PITCH / F)
# 19-pixel hexagonal camera: pixel 0 at the centre; 18, 6, 0, 3, 15 on the camera x axis
# (x = -0.1 ... 0.1 m, i.e. along fov_lat); 0 has 6 neighbours, ring 1 (1-6) too, ring 2 fewer
GEOM = build_camera_geometry("test-hex-19", "hexagon", 19, PITCH)
ROW = [18, 6, 0, 3, 15]


def _block(charges: dict[int, float], times: dict[int, float] | None = None):
    image = np.zeros((1, GEOM.n_pixels), np.float32)
    mask = np.zeros((1, GEOM.n_pixels), bool)
    peak = np.zeros((1, GEOM.n_pixels), np.float32)
    for p, q in charges.items():
        image[0, p] = q
        mask[0, p] = True
    for p, t in (times or {}).items():
        peak[0, p] = t
    return image, peak, mask


def _params(charges, times=None):
    return image_parameters(*_block(charges, times), GEOM, F)[0]


def test_columns_are_the_data_model():
    params = _params({0: 5.0, 3: 5.0})
    assert params.dtype.names == PARAMETER_COLUMNS
    assert set(PARAMETER_UNITS) <= set(PARAMETER_COLUMNS)
    assert len(PARAMETER_COLUMNS) == 22


def test_telescope_pixels_equidistant():
    px = telescope_pixels(GEOM, F)
    np.testing.assert_allclose(px.fov_lon, np.rad2deg(GEOM.pix_y / F))
    np.testing.assert_allclose(px.fov_lat, np.rad2deg(GEOM.pix_x / F))
    np.testing.assert_allclose(px.width, PITCH_DEG)
    tel = load_telescope_types()["LST_LST_LSTCam"]
    lon, lat = tel.camera_to_fov_deg(tel.camera.geometry.pix_x, tel.camera.geometry.pix_y)
    px = telescope_pixels(tel.camera.geometry, tel.optics.effective_focal_length)
    np.testing.assert_array_equal(px.fov_lon, lon)
    np.testing.assert_array_equal(px.fov_lat, lat)


def test_border_masks():
    border1, border2 = border_pixel_masks(GEOM)
    assert np.flatnonzero(border1).tolist() == list(range(7, 19))
    assert np.flatnonzero(border2).tolist() == list(range(1, 19))


def test_two_equal_pixels():
    p = _params({0: 10.0, 3: 10.0})
    half = PITCH_DEG / 2
    assert p["hillas_intensity"] == 20.0
    assert p["hillas_fov_lon"] == pytest.approx(0.0, abs=1e-15)
    assert p["hillas_fov_lat"] == pytest.approx(half, rel=1e-12)
    assert p["hillas_r"] == pytest.approx(half, rel=1e-12)
    assert p["hillas_phi"] == pytest.approx(90.0, rel=1e-12)
    assert p["hillas_length"] == pytest.approx(half, rel=1e-9)
    assert p["hillas_width"] == 0.0
    assert p["hillas_psi"] == pytest.approx(90.0, rel=1e-12)
    assert p["hillas_skewness"] == pytest.approx(0.0, abs=1e-9)
    assert p["hillas_kurtosis"] == pytest.approx(1.0, rel=1e-9)
    # pixel 3 is in the width-2 border only
    assert (p["leakage_pixels_width_1"], p["leakage_pixels_width_2"]) == (0.0, 0.5)
    assert (p["leakage_intensity_width_1"], p["leakage_intensity_width_2"]) == (0.0, 0.5)
    # both pixels half a pixel from the centroid; zero width: no ellipse
    assert (p["concentration_cog"], p["concentration_core"], p["concentration_pixel"]) == (
        1.0,
        0.0,
        0.5,
    )
    # 2 points: the trimmed LTS fit has 1 point, no line (as ctapipe)
    assert np.isnan(p["timing_slope"]) and np.isnan(p["timing_deviation"])
    assert (p["morphology_n_pixels"], p["morphology_n_islands"]) == (2, 1)


def test_one_two_one_profile():
    p = _params({6: 1.0, 0: 2.0, 3: 1.0})
    assert p["hillas_fov_lat"] == pytest.approx(0.0, abs=1e-15)
    assert p["hillas_length"] == pytest.approx(PITCH_DEG / np.sqrt(2), rel=1e-9)
    assert p["hillas_kurtosis"] == pytest.approx(2.0, rel=1e-9)
    assert p["concentration_pixel"] == 0.5


def test_row_with_time_gradient_and_outlier():
    px = telescope_pixels(GEOM, F)
    times = {p: 5.0 + 3.0 * px.fov_lat[p] for p in ROW}
    times[15] += 20.0  # one late pixel: trimmed away by the LTS fit
    p = _params(dict.fromkeys(ROW, 1.0), times)
    assert p["hillas_length"] == pytest.approx(np.sqrt(2.0) * PITCH_DEG, rel=1e-9)
    assert p["hillas_kurtosis"] == pytest.approx(1.7, rel=1e-9)
    assert p["hillas_width"] == 0.0
    assert p["timing_slope"] == pytest.approx(3.0, rel=1e-5)  # float32 peak times
    assert p["timing_intercept"] == pytest.approx(5.0, rel=1e-6)
    assert p["timing_deviation"] == pytest.approx(np.sqrt(20.0**2 / 5), rel=1e-5)
    assert p["leakage_pixels_width_1"] == pytest.approx(2 / 5)


def test_islands():
    assert _params({0: 5.0, 15: 5.0})["morphology_n_islands"] == 2
    assert _params({0: 5.0, 3: 5.0, 15: 5.0})["morphology_n_islands"] == 1
    assert _params({7: 5.0, 8: 5.0, 10: 5.0, 17: 1.0})["morphology_n_islands"] == 4


@pytest.mark.parametrize("charges", [{}, {0: 7.0}, {0: 1.0, 3: -2.0}])
def test_unparametrisable_images_give_nan(charges):
    p = _params(charges)
    assert p["hillas_intensity"] == pytest.approx(sum(charges.values()))
    assert p["morphology_n_pixels"] == len(charges)
    assert p["morphology_n_islands"] == (1 if charges else 0)
    for column in PARAMETER_COLUMNS[1:20]:
        assert np.isnan(p[column]), column


def test_block_with_mixed_images_and_float64():
    image, peak, mask = _block({0: 10.0, 3: 10.0})
    images = np.concatenate([image, np.zeros_like(image), image]).astype(np.float64)
    masks = np.concatenate([mask, np.zeros_like(mask), mask])
    peaks = np.concatenate([peak, peak, peak])
    params = image_parameters(images, peaks, masks, GEOM, F)
    np.testing.assert_array_equal(params["hillas_intensity"], [20.0, 0.0, 20.0])
    assert params["hillas_length"][0] == params["hillas_length"][2]


def test_shape_checks():
    image, peak, mask = _block({0: 1.0})
    with pytest.raises(ValueError, match="peak_times"):
        image_parameters(image, peak[:, :5], mask, GEOM, F)


def test_process_images_uses_the_camera_default():
    tel = load_telescope_types()["MST_MST_FlashCam"]  # 9 / 4.5 p.e., 2 picture neighbours
    geom = tel.camera.geometry
    ring = geom.neighbors_indices[geom.neighbors_indptr[0] : geom.neighbors_indptr[1]]
    a = ring[0]
    b = next(
        q
        for q in ring
        if q in geom.neighbors_indices[geom.neighbors_indptr[a] : geom.neighbors_indptr[a + 1]]
    )
    c = next(q for q in ring if q not in (a, b))
    images = np.zeros((2, geom.n_pixels), np.float32)
    images[1, [0, a, b, c]] = [20.0, 12.0, 9.0, 4.5]  # a triangle of picture pixels + a boundary
    masks, params = process_images(images, np.zeros_like(images), tel)
    assert masks[0].sum() == 0
    assert np.flatnonzero(masks[1]).tolist() == sorted([0, a, b, c])
    assert params["hillas_intensity"].tolist() == [0.0, 45.5]

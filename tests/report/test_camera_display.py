"""Camera and waveform drawings render to valid PNG files."""

import numpy as np
import pytest

from ctasim.instrument.config import load_telescope_types
from ctasim.report.camera_display import pixel_polygons, plot_camera, plot_waveform

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path, min_bytes=10_000):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > min_bytes


@pytest.mark.parametrize("tel_type", ["LST_LST_LSTCam", "SST_GCT_CHEC"])
def test_plot_camera_png(tmp_path, tel_type):
    geom = load_telescope_types()[tel_type].camera.geometry
    r = np.hypot(geom.pix_x, geom.pix_y)
    values = 100.0 * np.exp(-((r - 0.3 * r.max()) ** 2) / (0.1 * r.max()) ** 2)
    path = plot_camera(
        geom, values, tmp_path / "plots" / "camera.png", title=tel_type, mask=values > 10
    )
    _assert_png(path)


def test_pixel_polygons_tile_the_camera():
    geom = load_telescope_types()["LST_LST_LSTCam"].camera.geometry
    poly = pixel_polygons(geom)
    assert poly.shape == (geom.n_pixels, 6, 2)
    x, y = poly[..., 0], poly[..., 1]  # shoelace area of each hexagon equals the pixel area
    area = 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1))
    np.testing.assert_allclose(area, geom.pix_area, rtol=1e-9)


def test_plot_waveform_png(tmp_path):
    t = np.arange(40)
    waveform = np.exp(-0.5 * ((t - 15) / 2.0) ** 2)[None, :] * np.arange(1, 5)[:, None]
    _assert_png(
        plot_waveform(waveform, [0, 3], tmp_path / "wf.png", sample_width_ns=1.0 / 1.024), 5_000
    )

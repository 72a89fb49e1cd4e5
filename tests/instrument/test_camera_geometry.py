"""Generated cameras against the real geometries in ../shared/reference-data/camgeom."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from ctasim.instrument.camera import build_camera_geometry
from ctasim.instrument.config import load_telescope_types

CAMERAS = {"LSTCam": "LST_LST_LSTCam", "NectarCam": "MST_MST_NectarCam",
           "FlashCam": "MST_MST_FlashCam", "CHEC": "SST_GCT_CHEC"}


def _reference(reference_data, name):
    from astropy.table import Table

    t = Table.read(reference_data / "camgeom" / f"{name}.camgeom.fits.gz")
    return t["pix_x"].quantity.to_value("m"), t["pix_y"].quantity.to_value("m"), t["pix_area"].quantity.to_value("m2")


def _pitch(x, y):
    d, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
    return np.median(d[:, 1])


@pytest.mark.reference
@pytest.mark.parametrize("camera", CAMERAS)
def test_camera_matches_reference(reference_data, camera):
    geom = load_telescope_types()[CAMERAS[camera]].camera.geometry
    rx, ry, rarea = _reference(reference_data, camera)
    assert geom.n_pixels == rx.size
    assert _pitch(geom.pix_x, geom.pix_y) == pytest.approx(_pitch(rx, ry), rel=1e-3)
    assert geom.pix_area[0] == pytest.approx(np.median(rarea), rel=1e-3)
    # outline of hexagonal rings (or square less corners): extent within 6 %
    assert geom.radius == pytest.approx(np.hypot(rx, ry).max(), rel=0.06)


@pytest.mark.reference
@pytest.mark.parametrize("camera", CAMERAS)
def test_neighbour_counts_match_reference(reference_data, camera):
    geom = load_telescope_types()[CAMERAS[camera]].camera.geometry
    rx, ry, _ = _reference(reference_data, camera)
    tree = cKDTree(np.column_stack([rx, ry]))
    ref_counts = np.array([len(n) - 1 for n in tree.query_ball_point(np.column_stack([rx, ry]), 1.1 * geom.pitch)])
    ours = geom.neighbor_counts()
    full = 6 if geom.pix_type == "hexagon" else 4
    assert ours.max() == ref_counts.max() == full
    if geom.pix_type == "hexagon":  # CHEC's module gaps (not modelled) cut its neighbour lists
        # fraction of interior pixels (all neighbours present) agrees within 3 %
        assert np.mean(ours == full) == pytest.approx(np.mean(ref_counts == full), abs=0.03)


def test_neighbours_are_symmetric_and_adjacent():
    geom = build_camera_geometry("test", "hexagon", 127, 0.05)
    rows = np.repeat(np.arange(geom.n_pixels), geom.neighbor_counts())
    cols = geom.neighbors_indices
    pairs = set(zip(rows.tolist(), cols.tolist()))
    assert all((c, r) in pairs for r, c in pairs)
    d = np.hypot(geom.pix_x[rows] - geom.pix_x[cols], geom.pix_y[rows] - geom.pix_y[cols])
    np.testing.assert_allclose(d, 0.05, rtol=1e-9)
    assert geom.neighbor_counts()[0] == 6  # 127 pixels = 6 full rings around the centre pixel


@pytest.mark.parametrize("pix_type,n", [("hexagon", 1855), ("square", 2048)])
def test_pixel_lookup_finds_pixel_centres_and_rejects_outside(pix_type, n):
    geom = build_camera_geometry("t", pix_type, n, 0.05, module_size=8 if pix_type == "square" else None)
    assert np.array_equal(geom.pixel_at(geom.pix_x, geom.pix_y), np.arange(n))
    rng = np.random.default_rng(1)
    # points well inside a pixel (within 0.4 pitch of its centre) map to that pixel
    k = rng.integers(0, n, 5000)
    r, phi = 0.4 * 0.05 * np.sqrt(rng.random(5000)) * 0.99, rng.uniform(0, 2 * np.pi, 5000)
    x, y = geom.pix_x[k] + r * np.cos(phi), geom.pix_y[k] + r * np.sin(phi)
    assert np.mean(geom.pixel_at(x, y) == k) > 0.99
    far = geom.radius + 0.2
    assert np.all(geom.pixel_at(np.array([far, -far]), np.array([0.0, 0.0])) == -1)

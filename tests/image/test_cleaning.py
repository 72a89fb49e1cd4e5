"""Tail cuts and the time constraint on hand-made images of a 19-pixel hexagonal camera."""

import numpy as np
import pytest

from ctasim.image import (
    CleaningConfig,
    clean_images,
    default_cleaning,
    tailcuts_clean,
    time_delta_clean,
)
from ctasim.instrument.camera import build_camera_geometry

# pixel 0 at the centre, 3 its neighbour on the +x side; 13 on the rim, not next to 0 or 3
GEOM = build_camera_geometry("test-hex-19", "hexagon", 19, 0.05)


def _image(charges):
    image = np.zeros((1, GEOM.n_pixels), np.float32)
    for p, q in charges.items():
        image[0, p] = q
    return image


def _selected(mask):
    return np.flatnonzero(mask[0]).tolist()


def test_picture_with_boundary_neighbour_kept_isolated_picture_dropped():
    image = _image({0: 10.0, 3: 6.0, 13: 10.0, 15: 6.0})  # 15 is next to 3, not to a picture pixel
    assert _selected(tailcuts_clean(image, GEOM, 8.0, 5.0)) == [0, 3]
    assert _selected(tailcuts_clean(image, GEOM, 8.0, 5.0, keep_isolated_pixels=True)) == [0, 3, 13]


def test_min_picture_neighbors():
    image = _image({0: 10.0, 3: 10.0, 4: 6.0, 13: 10.0})
    assert _selected(tailcuts_clean(image, GEOM, 8.0, 5.0, min_picture_neighbors=1)) == [0, 3, 4]
    assert _selected(tailcuts_clean(image, GEOM, 8.0, 5.0, min_picture_neighbors=2)) == []


def test_thresholds_are_inclusive():
    assert _selected(tailcuts_clean(_image({0: 8.0, 3: 5.0}), GEOM, 8.0, 5.0)) == [0, 3]


def test_time_delta_clean():
    image = _image({0: 10.0, 3: 6.0, 6: 6.0})
    times = _image({0: 10.0, 3: 10.5, 6: 15.0})
    mask = tailcuts_clean(image, GEOM, 8.0, 5.0)
    assert _selected(mask) == [0, 3, 6]
    assert _selected(time_delta_clean(mask, times, GEOM, 1, 1.0)) == [0, 3]
    config = CleaningConfig(8.0, 5.0, min_picture_neighbors=0, time_limit_ns=1.0)
    np.testing.assert_array_equal(
        clean_images(image, times, GEOM, config), time_delta_clean(mask, times, GEOM, 1, 1.0)
    )


def test_defaults_per_camera():
    assert default_cleaning("LSTCam") == CleaningConfig(8.5, 4.25)
    assert default_cleaning("CHEC").picture_pe == 4.0
    with pytest.raises(KeyError, match="known"):
        default_cleaning("NoSuchCam")


def test_shape_check():
    with pytest.raises(ValueError, match="images"):
        tailcuts_clean(np.zeros((2, 7), np.float32), GEOM, 8.0, 5.0)

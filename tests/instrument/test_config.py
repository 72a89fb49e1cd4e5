"""Instrument configuration: layouts load, and bad input gives a one-line error naming file and key."""

import numpy as np
import pytest

from ctasim.errors import ConfigError
from ctasim.instrument.config import TELESCOPES_FILE, load_subarray, load_telescope_types


@pytest.mark.parametrize(
    "layout,counts",
    [("north_alpha", {"LST": 4, "MST": 9}), ("south_alpha", {"MST": 14, "SST": 37}),
     ("south_omega", {"LST": 4, "MST": 25, "SST": 70})],
)
def test_layouts_have_the_prod5_telescope_counts(layout, counts):
    sub = load_subarray(layout)
    classes, n = np.unique(sub.size_classes(), return_counts=True)
    assert dict(zip(classes.tolist(), n.tolist())) == counts
    assert len(set(sub.tel_ids.tolist())) == sub.n_tels
    assert sub.tel_ids.dtype == np.int16


def test_telescope_numbers_from_reference():
    types = load_telescope_types()
    lst = types["LST_LST_LSTCam"]
    assert lst.optics.mirror_area == pytest.approx(386.7)
    assert lst.camera.readout.n_samples == 40 and lst.camera.readout.n_channels == 2
    assert types["SST_GCT_CHEC"].camera.readout.n_samples == 128
    # LST pixel angle ~0.1 deg, MST ~0.17-0.18 deg (REFERENCE.md)
    assert np.rad2deg(0.05 / lst.optics.equivalent_focal_length) == pytest.approx(0.10, abs=0.01)
    mst = types["MST_MST_NectarCam"]
    assert np.rad2deg(0.05 / mst.optics.equivalent_focal_length) == pytest.approx(0.175, abs=0.01)


def _write(tmp_path, text, name="bad.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_unknown_telescope_type_names_file_key_value(tmp_path):
    p = _write(tmp_path, "name: x\nsite: {lon_deg: 0, lat_deg: 0, altitude_m: 2000, obs_level_m: 2000}\n"
                         "telescopes:\n  - {tel_id: 1, type: LST_XXX, pos: [0, 0, 0]}\n")
    with pytest.raises(ConfigError) as err:
        load_subarray(p)
    msg = str(err.value)
    assert str(p) in msg and "telescopes[0].type" in msg and "LST_XXX" in msg and "\n" not in msg


def test_missing_camera_and_negative_rate(tmp_path):
    text = TELESCOPES_FILE.read_text()
    bad_cam = _write(tmp_path, text.replace("camera: CHEC}", "camera: NoSuchCam}"), "t1.yaml")
    with pytest.raises(ConfigError, match=r"telescope_types\.SST_GCT_CHEC\.camera = 'NoSuchCam'"):
        load_telescope_types(bad_cam)
    bad_rate = _write(tmp_path, text.replace("nsb_rate_ghz: 0.24", "nsb_rate_ghz: -0.24"), "t2.yaml")
    with pytest.raises(ConfigError, match=r"cameras\.LSTCam\.nsb_rate_ghz = -0\.24"):
        load_telescope_types(bad_rate)


def test_missing_layout_lists_available():
    with pytest.raises(ConfigError, match="north_alpha"):
        load_subarray("no_such_layout")

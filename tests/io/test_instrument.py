"""Instrument description: written tables follow DATA_MODEL.md and read back into the same subarray."""

import h5py
import numpy as np

from ctasim.datamodel import paths
from ctasim.io.instrument import read_instrument, read_subarray, write_instrument


def test_paths():
    assert paths.tel_table_name(1) == "tel_001"
    assert (
        paths.tel_table_path(paths.DL1_PARAMETERS, 42) == "/dl1/event/telescope/parameters/tel_042"
    )
    assert paths.camera_neighbors_paths("LSTCam")[0] == (
        "/configuration/instrument/telescope/camera/geometry_LSTCam_neighbors_indptr"
    )


def test_instrument_round_trip(tmp_path, subarray):
    with h5py.File(tmp_path / "i.h5", "w") as f:
        write_instrument(f, subarray)
    with h5py.File(tmp_path / "i.h5", "r") as f:
        tables = read_instrument(f)
        back = read_subarray(f)
        assert f[paths.camera_geometry_path("LSTCam")].attrs["pix_type"] == "hexagon"
        readout = f[paths.camera_readout_path("NectarCam")]
        assert (
            readout.attrs["n_samples"] == 60
            and "reference_pulse_shape_channel1" in readout.dtype.names
        )
    layout = tables.layout
    for col in ("tel_id", "name", "type", "camera_name", "optics_name", "pos_x", "pos_y", "pos_z"):
        assert col in layout.dtype.names
    assert set(tables.cameras) == {"LSTCam", "NectarCam"}
    np.testing.assert_array_equal(back.tel_ids, subarray.tel_ids)
    np.testing.assert_array_equal(back.positions, subarray.positions)
    assert back.tel_type_names == subarray.tel_type_names
    for name, tel in subarray.telescope_types.items():
        geom, geom_back = tel.camera.geometry, back.telescope_types[name].camera.geometry
        np.testing.assert_array_equal(geom_back.pix_x, geom.pix_x)
        np.testing.assert_array_equal(geom_back.neighbors_indices, geom.neighbors_indices)
        np.testing.assert_array_equal(geom_back.lookup.table, geom.lookup.table)
        assert (
            back.telescope_types[name].camera.readout.gain_adc_per_pe
            == tel.camera.readout.gain_adc_per_pe
        )
        assert back.telescope_types[name].optics == tel.optics

"""Instrument description: written in ctapipe's layout, read back into the same subarray by ctasim
and by ctapipe's ``SubarrayDescription.from_hdf``."""

import dataclasses

import h5py
import numpy as np
import pytest

from ctasim.datamodel import paths
from ctasim.io.instrument import CTAPIPE_TAB_VERSIONS, read_instrument, read_subarray, write_instrument


@pytest.fixture
def instrument_file(tmp_path, subarray):
    path = tmp_path / "i.h5"
    with h5py.File(path, "w") as f:
        write_instrument(f, subarray)
    return path


def test_paths():
    assert paths.tel_table_name(1) == "tel_001"
    assert (
        paths.tel_table_path(paths.DL1_PARAMETERS, 42) == "/dl1/event/telescope/parameters/tel_042"
    )
    assert paths.camera_geometry_path(1) == "/configuration/instrument/telescope/camera/geometry_1"
    assert paths.camera_neighbors_paths(0)[0] == (
        "/configuration/instrument/telescope/camera/geometry_0_neighbors_indptr"
    )


def test_layout_follows_ctapipe(instrument_file, subarray):
    with h5py.File(instrument_file, "r") as f:
        tables = read_instrument(f)
        assert f[paths.camera_geometry_path(0)].attrs["PIX_TYPE"] == "hexagon"
        readout = f[paths.camera_readout_path(1)]
        assert readout.attrs["CAM_ID"] == "NectarCam" and readout.attrs["NSAMPLES"] == 60
        assert "reference_pulse_shape_channel1" in readout.dtype.names
        assert f[paths.TELESCOPE_OPTICS].attrs["TAB_VER"] == CTAPIPE_TAB_VERSIONS["optics"]
    layout, attrs = tables.layout, tables.layout_attrs
    for col in ("tel_id", "tel_name", "name", "type", "camera_name", "optics_name", "pos_x", "pos_y", "pos_z",
                "camera_index", "optics_index", "tel_description"):
        assert col in layout.dtype.names
    assert attrs["TAB_VER"] == CTAPIPE_TAB_VERSIONS["layout"] and attrs["SUBARRAY"] == subarray.name
    # the reference location is the site (array centre) on the WGS84 ellipsoid
    radius = np.linalg.norm([attrs["reference_itrs_x"], attrs["reference_itrs_y"], attrs["reference_itrs_z"]])
    assert 6.36e6 < radius - subarray.site.altitude_m < 6.38e6
    assert set(tables.cameras) == {"LSTCam", "NectarCam"}
    lst = layout["camera_name"] == b"LSTCam"
    assert set(layout["camera_index"][lst]) == {0} and set(layout["camera_index"][~lst]) == {1}


def test_instrument_round_trip(instrument_file, subarray):
    with h5py.File(instrument_file, "r") as f:
        back = read_subarray(f)
    assert back.name == subarray.name and back.site == subarray.site
    np.testing.assert_array_equal(back.tel_ids, subarray.tel_ids)
    np.testing.assert_array_equal(back.positions, subarray.positions)
    assert back.tel_names == subarray.tel_names and back.tel_type_names == subarray.tel_type_names
    for name, tel in subarray.telescope_types.items():
        tel_back = back.telescope_types[name]
        geom, geom_back = tel.camera.geometry, tel_back.camera.geometry
        np.testing.assert_array_equal(geom_back.pix_x, geom.pix_x)
        np.testing.assert_array_equal(geom_back.neighbors_indptr, geom.neighbors_indptr)
        np.testing.assert_array_equal(geom_back.neighbors_indices, geom.neighbors_indices)
        np.testing.assert_array_equal(geom_back.lookup.table, geom.lookup.table)
        assert (geom_back.pix_type, geom_back.pitch, geom_back.pix_rotation_deg, geom_back.cam_rotation_deg) == (
            geom.pix_type, geom.pitch, geom.pix_rotation_deg, geom.cam_rotation_deg)
        assert dataclasses.astuple(tel_back.camera.readout) == dataclasses.astuple(tel.camera.readout)
        assert tel_back.camera.trigger == tel.camera.trigger
        assert tel_back.camera.nsb_rate_ghz == tel.camera.nsb_rate_ghz
        assert tel_back.camera.photon_detection_efficiency == tel.camera.photon_detection_efficiency
        assert tel_back.optics == tel.optics and tel_back.tel_type == tel.tel_type


def test_files_before_data_model_2_2_read_without_the_realism_settings(instrument_file):
    """2.1 files have no PSF growth column nor flat-field / time-jitter attributes (nor an
    instrument digest): read as 0."""
    from ctasim.io.instrument import DIGEST_ATTR

    with h5py.File(instrument_file, "r+") as f:
        del f[paths.INSTRUMENT].attrs[DIGEST_ATTR]
        optics = f[paths.TELESCOPE_OPTICS][()]
        attrs = dict(f[paths.TELESCOPE_OPTICS].attrs)
        del f[paths.TELESCOPE_OPTICS]
        names = [n for n in optics.dtype.names if n != "psf_offaxis_deg_per_deg"]
        f.create_dataset(paths.TELESCOPE_OPTICS, data=optics[names]).attrs.update(attrs)
        for i in range(2):
            readout = f[paths.camera_readout_path(i)].attrs
            del readout["flat_field_residual"], readout["time_jitter_ns"]
        back = read_subarray(f)
    for tel in back.telescope_types.values():
        assert tel.optics.psf_offaxis_deg_per_deg == 0.0
        assert tel.camera.readout.flat_field_residual == 0.0 and tel.camera.readout.time_jitter_ns == 0.0


@pytest.mark.reference
def test_ctapipe_reads_the_subarray(instrument_file, subarray):
    pytest.importorskip("ctapipe")
    import astropy.units as u
    from ctapipe.instrument import SubarrayDescription

    from ctasim.ctapipe_compat import to_ctapipe_subarray

    theirs = SubarrayDescription.from_hdf(instrument_file)
    expected = to_ctapipe_subarray(subarray)
    assert theirs.name == subarray.name
    np.testing.assert_array_equal(theirs.tel_ids, expected.tel_ids)
    np.testing.assert_allclose(theirs.tel_coords.cartesian.xyz.to_value(u.m),
                               expected.tel_coords.cartesian.xyz.to_value(u.m), rtol=0, atol=1e-9)
    for tel_id in expected.tel_ids:
        tel, ref = theirs.tel[tel_id], expected.tel[tel_id]
        assert tel.name == ref.name and tel.camera.name == ref.camera.name
        for c in ("pix_x", "pix_y"):
            np.testing.assert_allclose(getattr(tel.camera.geometry, c).to_value(u.m),
                                       getattr(ref.camera.geometry, c).to_value(u.m), rtol=0, atol=1e-9)
        assert tel.camera.geometry.pix_type == ref.camera.geometry.pix_type
        assert tel.optics.effective_focal_length == ref.optics.effective_focal_length
        assert tel.optics.equivalent_focal_length == ref.optics.equivalent_focal_length
        assert tel.optics.size_type == ref.optics.size_type
        assert tel.camera.readout.sampling_rate == ref.camera.readout.sampling_rate
        assert tel.camera.readout.n_samples == ref.camera.readout.n_samples
        assert tel.camera.readout.n_channels == ref.camera.readout.n_channels
        assert tel.camera.geometry.frame.focal_length == ref.optics.effective_focal_length


@pytest.mark.parametrize("path, column", [
    (paths.camera_neighbors_paths(0)[1], None),        # one neighbour index
    (paths.camera_geometry_path(1), "pix_x"),           # one pixel position
    (paths.TELESCOPE_OPTICS, "effective_focal_length"),
])
def test_one_changed_value_in_an_instrument_table_is_refused(instrument_file, path, column):
    """The event-block checksums do not cover the instrument: its own digest does."""
    from ctasim.errors import DataFileError

    with h5py.File(instrument_file, "r+") as f:
        data = f[path][()]
        if column is None:
            data[3] = data[4]
        else:
            data[column][0] += 0.001
        f[path][...] = data
    with h5py.File(instrument_file, "r") as f, pytest.raises(DataFileError, match="checksum mismatch") as err:
        read_subarray(f)
    assert "\n" not in str(err.value) and "/configuration/instrument" in str(err.value)


def test_a_changed_attribute_is_refused(instrument_file):
    from ctasim.errors import DataFileError

    with h5py.File(instrument_file, "r+") as f:
        f[paths.camera_readout_path(0)].attrs["trigger_threshold_pe"] = 1.0
    with h5py.File(instrument_file, "r") as f, pytest.raises(DataFileError, match="checksum mismatch"):
        read_subarray(f)

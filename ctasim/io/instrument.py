"""Write the instrument description (layout, optics, cameras) into any ctasim file and read it back.

The tables follow ctapipe's instrument layout, with the table versions its
``SubarrayDescription.from_hdf`` accepts (``CTAPIPE_TAB_VERSIONS``), plus the columns and
attributes ctasim needs to rebuild its own description (paths in ``paths.py``):

- ``/configuration/instrument/subarray/layout``: one row per telescope (tel_id, tel_name (e.g.
  ``L-01``), type (size class), camera_name, optics_name, pos_x/y/z (m, ground frame), name (the
  telescope type, e.g. ``LST_LST_LSTCam``), camera_index, optics_index, tel_description =
  ``<type>_<optics_name>_<camera_name>`` as ctapipe's); attributes ``TAB_VER``, ``SUBARRAY`` (the
  layout name), ``reference_itrs_x/y/z`` (m: the array centre the positions are relative to) and
  the site as ``site_name``, ``site_lon_deg``, ``site_lat_deg``, ``site_altitude_m``,
  ``site_obs_level_m``;
- ``.../telescope/optics``: one row per optics (optics_name, size_type, reflector_shape,
  mirror_area, n_mirrors, n_mirror_tiles, both focal lengths, psf_sigma_deg and its off-axis growth
  psf_offaxis_deg_per_deg, 0 in files before data model 2.2), row = optics_index;
- per camera, numbered by ``camera_index``: ``.../camera/geometry_{i}`` (pix_id, pix_x, pix_y,
  pix_area; attributes ``TAB_VER``, ``CAM_ID``, ``PIX_TYPE``, ``PIX_ROT``, ``CAM_ROT`` in deg and
  the lattice ``pitch`` in m), its neighbours as CSR arrays ``geometry_{i}_neighbors_indptr`` /
  ``_indices``, and ``.../camera/readout_{i}`` (the reference pulse, one row per pulse sample:
  ``reference_pulse_shape_channel{c}``, ``reference_pulse_sample_time`` in ns; attributes
  ``TAB_VER``, ``CAM_ID``, ``NCHAN``, ``NPIXELS``, ``NSAMPLES``, ``SAMPFREQ`` in GHz,
  ``REFWIDTH`` in ns, and ctasim's digitiser, NSB, efficiency and trigger settings in lower case);
- ``/configuration/instrument`` carries ``ctasim_sha256``, the digest of all of the above
  (``instrument_digest``), checked by ``read_instrument`` (files from data model 2.2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import erfa
import h5py
import numpy as np

from ..datamodel import paths
from ..errors import DataFileError
from ..instrument.camera import CameraGeometry
from ..instrument.subarray import Site, SubarrayDescription
from ..instrument.telescope import (
    PULSE_SAMPLE_WIDTH_NS,
    CameraDescription,
    CameraReadout,
    OpticsDescription,
    TelescopeDescription,
    TriggerSettings,
)
from .checksums import update_with_dataset
from .tables import read_table, write_table

# on /configuration/instrument: ``instrument_digest`` at writing (absent before data model 2.2)
DIGEST_ATTR = "ctasim_sha256"
#: versions of ctapipe's instrument tables that these files follow (ctapipe 0.28)
CTAPIPE_TAB_VERSIONS = {"layout": "2.0", "optics": "4.0", "geometry": "2.0", "readout": "3.0"}
WGS84 = 1  # erfa's ellipsoid number
LAYOUT_UNITS = {"pos_x": "m", "pos_y": "m", "pos_z": "m"}
OPTICS_DTYPE = np.dtype(
    [
        ("optics_name", "S32"),
        ("size_type", "S8"),
        ("reflector_shape", "S16"),
        ("mirror_area", "f8"),
        ("n_mirrors", "i4"),
        ("n_mirror_tiles", "i4"),
        ("equivalent_focal_length", "f8"),
        ("effective_focal_length", "f8"),
        ("psf_sigma_deg", "f8"),
        ("psf_offaxis_deg_per_deg", "f8"),
    ]
)
OPTICS_UNITS = {
    "mirror_area": "m2",
    "equivalent_focal_length": "m",
    "effective_focal_length": "m",
    "psf_sigma_deg": "deg",
}
GEOMETRY_DTYPE = np.dtype([("pix_id", "i4"), ("pix_x", "f8"), ("pix_y", "f8"), ("pix_area", "f8")])
GEOMETRY_UNITS = {"pix_x": "m", "pix_y": "m", "pix_area": "m2"}
READOUT_UNITS = {"reference_pulse_sample_time": "ns"}
# ctasim's readout settings without a ctapipe attribute, stored under their own names
_READOUT_ATTRS = ("adc_bits", "pedestal_adc", "electronic_noise_pe", "pulse_fwhm_ns", "excess_noise_factor",
                  "flat_field_residual", "time_jitter_ns")
# added in data model 2.2: 0 when reading older files
_LATER_READOUT_ATTRS = ("flat_field_residual", "time_jitter_ns")


@dataclass
class CameraTables:
    """One camera as stored: geometry rows, its attributes, CSR neighbours, readout rows + attributes."""

    geometry: np.ndarray
    geometry_attrs: dict
    neighbors_indptr: np.ndarray
    neighbors_indices: np.ndarray
    readout: np.ndarray
    readout_attrs: dict


@dataclass
class InstrumentTables:
    """The instrument tables of a file: layout (+ attributes), optics rows and cameras by name."""

    layout: np.ndarray
    layout_attrs: dict
    optics: np.ndarray
    cameras: dict[str, CameraTables]


def reference_itrs(site: Site) -> tuple[float, float, float]:
    """Earth-centred (ITRS) x, y, z in m of the array centre (site longitude, latitude, altitude; WGS84)."""
    xyz = erfa.gd2gc(WGS84, np.deg2rad(site.lon_deg), np.deg2rad(site.lat_deg), site.altitude_m)
    return float(xyz[0]), float(xyz[1]), float(xyz[2])


def _layout_rows(subarray: SubarrayDescription, cameras: list[str], optics: list[str]) -> np.ndarray:
    base = subarray.layout_table()  # its ``name`` is the telescope's own name (tel_name here)
    renamed = [("tel_name" if n == "name" else n, base.dtype[n]) for n in base.dtype.names]
    extra = [("name", "S32"), ("camera_index", "i4"), ("optics_index", "i4"), ("tel_description", "S48")]
    rows = np.zeros(base.size, np.dtype(renamed + extra))
    for (new, _), old in zip(renamed, base.dtype.names):
        rows[new] = base[old]
    rows["name"] = np.array(subarray.tel_type_names, dtype="S32")
    rows["camera_index"] = [cameras.index(n) for n in base["camera_name"].astype(str)]
    rows["optics_index"] = [optics.index(n) for n in base["optics_name"].astype(str)]
    parts = zip(base["type"], base["optics_name"], base["camera_name"])
    rows["tel_description"] = [b"_".join(p) for p in parts]
    return rows


def _write_optics(h5: h5py.Group, optics: dict[str, tuple[OpticsDescription, str]]) -> None:
    rows = np.zeros(len(optics), OPTICS_DTYPE)
    for row, (o, size_type) in zip(rows, optics.values()):
        row["optics_name"], row["size_type"], row["reflector_shape"] = o.name, size_type, "UNKNOWN"
        row["mirror_area"], row["n_mirrors"], row["n_mirror_tiles"] = o.mirror_area, 1, 1
        row["equivalent_focal_length"] = o.equivalent_focal_length
        row["effective_focal_length"] = o.effective_focal_length
        row["psf_sigma_deg"] = o.psf_sigma_deg
        row["psf_offaxis_deg_per_deg"] = o.psf_offaxis_deg_per_deg
    write_table(h5, paths.TELESCOPE_OPTICS, rows, OPTICS_UNITS, attrs={"TAB_VER": CTAPIPE_TAB_VERSIONS["optics"]})


def _write_camera(h5: h5py.Group, index: int, cam: CameraDescription) -> None:
    geom, ro = cam.geometry, cam.readout
    rows = np.zeros(geom.n_pixels, GEOMETRY_DTYPE)
    rows["pix_id"] = np.arange(geom.n_pixels)
    rows["pix_x"], rows["pix_y"], rows["pix_area"] = geom.pix_x, geom.pix_y, geom.pix_area
    write_table(
        h5,
        paths.camera_geometry_path(index),
        rows,
        GEOMETRY_UNITS,
        attrs={
            "TAB_VER": CTAPIPE_TAB_VERSIONS["geometry"],
            "CAM_ID": cam.name,
            "PIX_TYPE": geom.pix_type,
            "PIX_ROT": geom.pix_rotation_deg,
            "CAM_ROT": geom.cam_rotation_deg,
            "pitch": geom.pitch,
        },
    )
    indptr_path, indices_path = paths.camera_neighbors_paths(index)
    h5.create_dataset(indptr_path, data=geom.neighbors_indptr)
    h5.create_dataset(indices_path, data=geom.neighbors_indices)

    shape, _ = ro.reference_pulse()
    channels = [f"reference_pulse_shape_channel{c}" for c in range(ro.n_channels)]
    pulse = np.zeros(shape.size, [(c, "f8") for c in channels] + [("reference_pulse_sample_time", "f8")])
    for c in channels:
        pulse[c] = shape
    pulse["reference_pulse_sample_time"] = np.arange(shape.size) * PULSE_SAMPLE_WIDTH_NS
    attrs = {
        "TAB_VER": CTAPIPE_TAB_VERSIONS["readout"],
        "CAM_ID": cam.name,
        "NCHAN": ro.n_channels,
        "NPIXELS": geom.n_pixels,
        "NSAMPLES": ro.n_samples,
        "SAMPFREQ": ro.sampling_rate_ghz,
        "REFWIDTH": PULSE_SAMPLE_WIDTH_NS,
        **{k: getattr(ro, k) for k in _READOUT_ATTRS},
        "gain_adc_per_pe": np.asarray(ro.gain_adc_per_pe),
        "nsb_rate_ghz": cam.nsb_rate_ghz,
        "photon_detection_efficiency": cam.photon_detection_efficiency,
        "trigger_threshold_pe": cam.trigger.threshold_pe,
        "trigger_window_ns": cam.trigger.window_ns,
    }
    write_table(h5, paths.camera_readout_path(index), pulse, READOUT_UNITS, attrs=attrs)


def write_instrument(h5: h5py.Group, subarray: SubarrayDescription) -> None:
    """Write layout, optics and every camera of ``subarray`` under ``/configuration/instrument``."""
    types = [subarray.telescope_types[name] for name in dict.fromkeys(subarray.tel_type_names)]
    cameras = {t.camera.name: t.camera for t in types}
    optics = {t.optics.name: (t.optics, t.tel_type) for t in types}
    site = subarray.site
    x, y, z = reference_itrs(site)
    write_table(
        h5,
        paths.SUBARRAY_LAYOUT,
        _layout_rows(subarray, list(cameras), list(optics)),
        LAYOUT_UNITS,
        attrs={
            "TAB_VER": CTAPIPE_TAB_VERSIONS["layout"],
            "SUBARRAY": subarray.name,
            "reference_itrs_x": x,
            "reference_itrs_y": y,
            "reference_itrs_z": z,
            "site_name": site.name,
            "site_lon_deg": site.lon_deg,
            "site_lat_deg": site.lat_deg,
            "site_altitude_m": site.altitude_m,
            "site_obs_level_m": site.obs_level_m,
        },
    )
    _write_optics(h5, optics)
    for index, cam in enumerate(cameras.values()):
        _write_camera(h5, index, cam)
    h5[paths.INSTRUMENT].attrs[DIGEST_ATTR] = instrument_digest(h5)


def instrument_digest(h5: h5py.Group) -> str:
    """SHA-256 over every dataset under ``/configuration/instrument`` (name, dtype, bytes) and its
    attributes (name, dtype, bytes): the event-block checksums do not cover these tables, and a
    changed neighbour index or pixel position would silently change (or crash) the processing.
    A table that cannot be read raises a one-line DataFileError naming it."""
    digest = hashlib.sha256()
    items: dict[str, h5py.Dataset] = {}

    def collect(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Dataset):
            items[name] = obj

    h5[paths.INSTRUMENT].visititems(collect)
    for name, ds in sorted(items.items()):
        try:
            update_with_dataset(digest, name, ds)
        except OSError as err:  # a damaged chunk (Fletcher-32 or decompression)
            raise DataFileError(f"{h5.file.filename}: instrument table {ds.name} unreadable "
                                f"({str(err).splitlines()[0]})", kind="corrupted") from None
    return digest.hexdigest()


def _attrs(obj: h5py.HLObject) -> dict:
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in obj.attrs.items()}


def read_instrument(h5: h5py.Group) -> InstrumentTables:
    """The instrument tables of an open file; DataFileError if they are missing."""
    if paths.SUBARRAY_LAYOUT not in h5:
        raise DataFileError(
            f"{h5.file.filename}: no instrument description at {paths.SUBARRAY_LAYOUT}"
        )
    stored = _attrs(h5[paths.INSTRUMENT]).get(DIGEST_ATTR)
    if stored is not None and instrument_digest(h5) != stored:
        raise DataFileError(
            f"{h5.file.filename}: instrument tables under {paths.INSTRUMENT} damaged (checksum mismatch)",
            kind="corrupted",
        )
    layout, _ = read_table(h5, paths.SUBARRAY_LAYOUT)
    optics, _ = read_table(h5, paths.TELESCOPE_OPTICS)
    cameras = {}
    for index in np.unique(layout["camera_index"]).tolist():
        geom_ds = h5[paths.camera_geometry_path(index)]
        readout_ds = h5[paths.camera_readout_path(index)]
        indptr_path, indices_path = paths.camera_neighbors_paths(index)
        geometry_attrs = _attrs(geom_ds)
        cameras[str(geometry_attrs["CAM_ID"])] = CameraTables(
            geometry=geom_ds[()],
            geometry_attrs=geometry_attrs,
            neighbors_indptr=h5[indptr_path][()],
            neighbors_indices=h5[indices_path][()],
            readout=readout_ds[()],
            readout_attrs=_attrs(readout_ds),
        )
    return InstrumentTables(
        layout=layout,
        layout_attrs=_attrs(h5[paths.SUBARRAY_LAYOUT]),
        optics=optics,
        cameras=cameras,
    )


def _camera_description(name: str, cam: CameraTables) -> CameraDescription:
    g, ga, ra = cam.geometry, cam.geometry_attrs, cam.readout_attrs
    geometry = CameraGeometry(
        name=name,
        pix_x=np.ascontiguousarray(g["pix_x"]),
        pix_y=np.ascontiguousarray(g["pix_y"]),
        pix_area=np.ascontiguousarray(g["pix_area"]),
        pix_type=str(ga["PIX_TYPE"]),
        pitch=float(ga["pitch"]),
        pix_rotation_deg=float(ga["PIX_ROT"]),
        cam_rotation_deg=float(ga["CAM_ROT"]),
        neighbors_indptr=cam.neighbors_indptr,
        neighbors_indices=cam.neighbors_indices,
    )
    readout = CameraReadout(
        name=name,
        sampling_rate_ghz=float(ra["SAMPFREQ"]),
        n_samples=int(ra["NSAMPLES"]),
        n_channels=int(ra["NCHAN"]),
        adc_bits=int(ra["adc_bits"]),
        pedestal_adc=float(ra["pedestal_adc"]),
        gain_adc_per_pe=tuple(float(v) for v in ra["gain_adc_per_pe"]),
        electronic_noise_pe=float(ra["electronic_noise_pe"]),
        pulse_fwhm_ns=float(ra["pulse_fwhm_ns"]),
        excess_noise_factor=float(ra["excess_noise_factor"]),
        **{k: float(ra.get(k, 0.0)) for k in _LATER_READOUT_ATTRS},
    )
    return CameraDescription(
        name=name,
        geometry=geometry,
        readout=readout,
        nsb_rate_ghz=float(ra["nsb_rate_ghz"]),
        photon_detection_efficiency=float(ra["photon_detection_efficiency"]),
        trigger=TriggerSettings(float(ra["trigger_threshold_pe"]), float(ra["trigger_window_ns"])),
    )


def read_subarray(h5: h5py.Group) -> SubarrayDescription:
    """Rebuild the SubarrayDescription stored in an open file (same ids, positions, cameras)."""
    tables = read_instrument(h5)
    layout, la = tables.layout, tables.layout_attrs
    optics = [
        OpticsDescription(
            name=row["optics_name"].decode(),
            mirror_area=float(row["mirror_area"]),
            equivalent_focal_length=float(row["equivalent_focal_length"]),
            effective_focal_length=float(row["effective_focal_length"]),
            psf_sigma_deg=float(row["psf_sigma_deg"]),
            psf_offaxis_deg_per_deg=float(row["psf_offaxis_deg_per_deg"])
            if "psf_offaxis_deg_per_deg" in row.dtype.names else 0.0,
        )
        for row in tables.optics
    ]
    cameras = {name: _camera_description(name, cam) for name, cam in tables.cameras.items()}
    types = {}
    for row in layout:
        type_name = row["name"].decode()
        types.setdefault(
            type_name,
            TelescopeDescription(
                type_name=type_name,
                tel_type=row["type"].decode(),
                optics=optics[int(row["optics_index"])],
                camera=cameras[row["camera_name"].decode()],
            ),
        )
    return SubarrayDescription(
        name=str(la["SUBARRAY"]),
        site=Site(
            name=str(la["site_name"]),
            lon_deg=float(la["site_lon_deg"]),
            lat_deg=float(la["site_lat_deg"]),
            altitude_m=float(la["site_altitude_m"]),
            obs_level_m=float(la["site_obs_level_m"]),
        ),
        tel_ids=layout["tel_id"].astype(np.int16),
        tel_names=tuple(layout["tel_name"].astype(str)),
        tel_type_names=tuple(layout["name"].astype(str)),
        positions=np.column_stack([layout["pos_x"], layout["pos_y"], layout["pos_z"]]).astype(
            np.float64
        ),
        telescope_types=types,
    )

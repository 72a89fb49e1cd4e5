"""Write the instrument description (layout, optics, cameras) into any ctasim file and read it back.

Paths (``paths.py``): ``/configuration/instrument/subarray/layout`` (one row per telescope, plus a
``tel_description`` column with the telescope type name, as ctapipe), ``.../telescope/optics``
(one row per optics), per camera ``.../camera/geometry_{name}`` (pix_id, pix_x, pix_y, pix_area;
attributes pix_type, pitch, pix_rotation_deg, cam_rotation_deg), its neighbours as CSR arrays
``geometry_{name}_neighbors_indptr`` / ``_indices``, and ``.../camera/readout_{name}`` (the
reference pulse, one row per pulse sample, columns ``time`` and
``reference_pulse_shape_channel{i}``; the digitiser settings, NSB rate, photon detection efficiency
and trigger settings as attributes). Layout attributes hold the subarray name and the site.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from ..datamodel import paths
from ..errors import DataFileError
from ..instrument.camera import CameraGeometry, _build_lookup
from ..instrument.subarray import Site, SubarrayDescription
from ..instrument.telescope import (
    PULSE_SAMPLE_WIDTH_NS,
    CameraDescription,
    CameraReadout,
    OpticsDescription,
    TelescopeDescription,
    TriggerSettings,
)
from .tables import read_table, table_units, write_table

LAYOUT_UNITS = {"pos_x": "m", "pos_y": "m", "pos_z": "m"}
OPTICS_DTYPE = np.dtype(
    [
        ("optics_name", "S32"),
        ("mirror_area", "f8"),
        ("equivalent_focal_length", "f8"),
        ("effective_focal_length", "f8"),
        ("psf_sigma_deg", "f8"),
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
_READOUT_ATTRS = (
    "sampling_rate_ghz",
    "n_samples",
    "n_channels",
    "adc_bits",
    "pedestal_adc",
    "electronic_noise_pe",
    "pulse_fwhm_ns",
    "excess_noise_factor",
)


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


def _layout_rows(subarray: SubarrayDescription) -> np.ndarray:
    base = subarray.layout_table()
    dtype = np.dtype(base.dtype.descr + [("tel_description", "S32")])
    rows = np.zeros(base.size, dtype)
    for name in base.dtype.names:
        rows[name] = base[name]
    rows["tel_description"] = np.array(subarray.tel_type_names, dtype="S32")
    return rows


def _write_camera(h5: h5py.Group, cam: CameraDescription) -> None:
    geom, ro = cam.geometry, cam.readout
    rows = np.zeros(geom.n_pixels, GEOMETRY_DTYPE)
    rows["pix_id"] = np.arange(geom.n_pixels)
    rows["pix_x"], rows["pix_y"], rows["pix_area"] = geom.pix_x, geom.pix_y, geom.pix_area
    write_table(
        h5,
        paths.camera_geometry_path(cam.name),
        rows,
        GEOMETRY_UNITS,
        attrs={
            "pix_type": geom.pix_type,
            "pitch": geom.pitch,
            "pix_rotation_deg": geom.pix_rotation_deg,
            "cam_rotation_deg": geom.cam_rotation_deg,
        },
    )
    indptr_path, indices_path = paths.camera_neighbors_paths(cam.name)
    h5.create_dataset(indptr_path, data=geom.neighbors_indptr)
    h5.create_dataset(indices_path, data=geom.neighbors_indices)

    shape, _ = ro.reference_pulse()
    channels = [f"reference_pulse_shape_channel{i}" for i in range(ro.n_channels)]
    pulse = np.zeros(shape.size, [("time", "f8")] + [(c, "f8") for c in channels])
    pulse["time"] = np.arange(shape.size) * PULSE_SAMPLE_WIDTH_NS
    for c in channels:
        pulse[c] = shape
    attrs = {k: getattr(ro, k) for k in _READOUT_ATTRS}
    attrs |= {
        "gain_adc_per_pe": np.asarray(ro.gain_adc_per_pe),
        "reference_pulse_sample_width_ns": PULSE_SAMPLE_WIDTH_NS,
        "nsb_rate_ghz": cam.nsb_rate_ghz,
        "photon_detection_efficiency": cam.photon_detection_efficiency,
        "trigger_threshold_pe": cam.trigger.threshold_pe,
        "trigger_window_ns": cam.trigger.window_ns,
    }
    write_table(h5, paths.camera_readout_path(cam.name), pulse, {"time": "ns"}, attrs=attrs)


def write_instrument(h5: h5py.Group, subarray: SubarrayDescription) -> None:
    """Write layout, optics and every camera of ``subarray`` under ``/configuration/instrument``."""
    site = subarray.site
    write_table(
        h5,
        paths.SUBARRAY_LAYOUT,
        _layout_rows(subarray),
        LAYOUT_UNITS,
        attrs={
            "subarray_name": subarray.name,
            "site_name": site.name,
            "site_lon_deg": site.lon_deg,
            "site_lat_deg": site.lat_deg,
            "site_altitude_m": site.altitude_m,
            "site_obs_level_m": site.obs_level_m,
        },
    )
    types = list(subarray.telescope_types.values())
    optics = {t.optics.name: t.optics for t in types}
    rows = np.array(
        [
            (
                o.name,
                o.mirror_area,
                o.equivalent_focal_length,
                o.effective_focal_length,
                o.psf_sigma_deg,
            )
            for o in optics.values()
        ],
        OPTICS_DTYPE,
    )
    write_table(h5, paths.TELESCOPE_OPTICS, rows, OPTICS_UNITS)
    for cam in {t.camera.name: t.camera for t in types}.values():
        _write_camera(h5, cam)


def _attrs(obj: h5py.HLObject) -> dict:
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in obj.attrs.items()}


def read_instrument(h5: h5py.Group) -> InstrumentTables:
    """The instrument tables of an open file; DataFileError if they are missing."""
    if paths.SUBARRAY_LAYOUT not in h5:
        raise DataFileError(
            f"{h5.file.filename}: no instrument description at {paths.SUBARRAY_LAYOUT}"
        )
    layout, _ = read_table(h5, paths.SUBARRAY_LAYOUT)
    optics, _ = read_table(h5, paths.TELESCOPE_OPTICS)
    cameras = {}
    for name in dict.fromkeys(layout["camera_name"].astype(str)):
        geom_ds = h5[paths.camera_geometry_path(name)]
        indptr_path, indices_path = paths.camera_neighbors_paths(name)
        readout_ds = h5[paths.camera_readout_path(name)]
        cameras[name] = CameraTables(
            geometry=geom_ds[()],
            geometry_attrs=_attrs(geom_ds) | {"units": table_units(geom_ds)},
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
    xy = np.column_stack([g["pix_x"], g["pix_y"]])
    geometry = CameraGeometry(
        name=name,
        pix_x=np.ascontiguousarray(g["pix_x"]),
        pix_y=np.ascontiguousarray(g["pix_y"]),
        pix_area=np.ascontiguousarray(g["pix_area"]),
        pix_type=ga["pix_type"],
        pitch=float(ga["pitch"]),
        pix_rotation_deg=float(ga["pix_rotation_deg"]),
        cam_rotation_deg=float(ga["cam_rotation_deg"]),
        neighbors_indptr=cam.neighbors_indptr,
        neighbors_indices=cam.neighbors_indices,
        lookup=_build_lookup(xy, float(ga["pitch"]), ga["pix_type"]),
    )
    readout = CameraReadout(
        name=name,
        gain_adc_per_pe=tuple(float(v) for v in ra["gain_adc_per_pe"]),
        **{
            k: (int(ra[k]) if k in ("n_samples", "n_channels", "adc_bits") else float(ra[k]))
            for k in _READOUT_ATTRS
        },
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
    optics = {
        row["optics_name"].decode(): OpticsDescription(
            name=row["optics_name"].decode(),
            mirror_area=float(row["mirror_area"]),
            equivalent_focal_length=float(row["equivalent_focal_length"]),
            effective_focal_length=float(row["effective_focal_length"]),
            psf_sigma_deg=float(row["psf_sigma_deg"]),
        )
        for row in tables.optics
    }
    cameras = {name: _camera_description(name, cam) for name, cam in tables.cameras.items()}
    types = {}
    for row in layout:
        type_name = row["tel_description"].decode()
        types.setdefault(
            type_name,
            TelescopeDescription(
                type_name=type_name,
                tel_type=row["type"].decode(),
                optics=optics[row["optics_name"].decode()],
                camera=cameras[row["camera_name"].decode()],
            ),
        )
    return SubarrayDescription(
        name=str(la["subarray_name"]),
        site=Site(
            name=str(la["site_name"]),
            lon_deg=float(la["site_lon_deg"]),
            lat_deg=float(la["site_lat_deg"]),
            altitude_m=float(la["site_altitude_m"]),
            obs_level_m=float(la["site_obs_level_m"]),
        ),
        tel_ids=layout["tel_id"].astype(np.int16),
        tel_names=tuple(layout["name"].astype(str)),
        tel_type_names=tuple(layout["tel_description"].astype(str)),
        positions=np.column_stack([layout["pos_x"], layout["pos_y"], layout["pos_z"]]).astype(
            np.float64
        ),
        telescope_types=types,
    )

"""ctasim's instrument as ctapipe objects, built offline, for comparisons with ctapipe.

Needs ctapipe (the ``test`` extra); nothing in ctasim imports this module except tests,
benchmarks and the reference comparisons in ``image``, ``dl0`` and ``reco``. The same pixel
positions, neighbours (passed explicitly, so both sides use identical lists), focal lengths,
sampling and reference pulse (padded and centred as ctasim's integration correction uses it).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import EarthLocation
from ctapipe.coordinates import CameraFrame
from ctapipe.instrument import (
    CameraDescription,
    CameraReadout,
    OpticsDescription,
    PixelShape,
    ReflectorShape,
    SizeType,
    SubarrayDescription,
)
from ctapipe.instrument import CameraGeometry as CtapipeGeometry
from ctapipe.instrument import TelescopeDescription as CtapipeTelescope
from scipy.sparse import csr_array

from .dl0.extraction import padded_reference_pulse
from .instrument.camera import HEX, CameraGeometry
from .instrument.subarray import SubarrayDescription as CtasimSubarray
from .instrument.telescope import PULSE_SAMPLE_WIDTH_NS, TelescopeDescription

# site of one-telescope subarrays (CTAO-North), where no layout is given
DEFAULT_LOCATION = dict(lon=-17.892 * u.deg, lat=28.762 * u.deg, height=2177 * u.m)


def to_ctapipe_geometry(
    geom: CameraGeometry, focal_length_m: float, own_neighbors: bool = False
) -> CtapipeGeometry:
    """ctapipe ``CameraGeometry`` (camera frame, m) of ``geom`` on a telescope of focal length f;
    with ``own_neighbors`` ctapipe computes the neighbours from the positions itself (to test
    ours against them), else it gets ours."""
    n_pix = geom.n_pixels
    neighbors = None if own_neighbors else csr_array(
        (np.ones(geom.neighbors_indices.size, bool), geom.neighbors_indices, geom.neighbors_indptr),
        shape=(n_pix, n_pix),
    )
    return CtapipeGeometry(
        name=geom.name,
        pix_id=np.arange(n_pix),
        pix_x=geom.pix_x * u.m,
        pix_y=geom.pix_y * u.m,
        pix_area=geom.pix_area * u.m**2,
        pix_type=PixelShape.HEXAGON if geom.pix_type == HEX else PixelShape.SQUARE,
        pix_rotation=geom.pix_rotation_deg * u.deg,
        cam_rotation=geom.cam_rotation_deg * u.deg,
        neighbors=neighbors,
        frame=CameraFrame(focal_length=focal_length_m * u.m),
    )


def to_ctapipe_telescope(tel: TelescopeDescription, own_neighbors: bool = False) -> CtapipeTelescope:
    """ctapipe ``TelescopeDescription`` of a ctasim telescope type (``own_neighbors``: see
    ``to_ctapipe_geometry``)."""
    ro, opt = tel.camera.readout, tel.optics
    geometry = to_ctapipe_geometry(tel.camera.geometry, opt.effective_focal_length, own_neighbors)
    readout = CameraReadout(
        name=tel.camera_name,
        sampling_rate=ro.sampling_rate_ghz * u.GHz,
        reference_pulse_shape=np.tile(padded_reference_pulse(ro), (ro.n_channels, 1)),
        reference_pulse_sample_width=PULSE_SAMPLE_WIDTH_NS * u.ns,
        n_channels=ro.n_channels,
        n_pixels=geometry.n_pixels,
        n_samples=ro.n_samples,
    )
    optics = OpticsDescription(
        name=opt.name,
        size_type=SizeType(tel.tel_type),
        n_mirrors=1,
        equivalent_focal_length=opt.equivalent_focal_length * u.m,
        effective_focal_length=opt.effective_focal_length * u.m,
        mirror_area=opt.mirror_area * u.m**2,
        n_mirror_tiles=1,
        reflector_shape=ReflectorShape.UNKNOWN,
    )
    return CtapipeTelescope(
        name=tel.type_name, optics=optics, camera=CameraDescription(tel.camera_name, geometry, readout)
    )


def to_ctapipe_subarray(
    source: CtasimSubarray | TelescopeDescription, tel_id: int = 1, own_neighbors: bool = False
) -> SubarrayDescription:
    """A ctapipe ``SubarrayDescription`` of a whole ctasim subarray (same positions and site), or
    of one telescope type as telescope ``tel_id`` at the origin."""
    if isinstance(source, TelescopeDescription):
        return SubarrayDescription(
            name="ctasim",
            tel_positions={tel_id: [0.0, 0.0, 0.0] * u.m},
            tel_descriptions={tel_id: to_ctapipe_telescope(source, own_neighbors)},
            reference_location=EarthLocation(**DEFAULT_LOCATION),
        )
    types = {name: to_ctapipe_telescope(tel) for name, tel in source.telescope_types.items()}
    site = source.site
    return SubarrayDescription(
        name=source.name,
        tel_positions={int(t): source.position(t) * u.m for t in source.tel_ids},
        tel_descriptions={int(t): types[source.tel_type_names[i]] for i, t in enumerate(source.tel_ids)},
        reference_location=EarthLocation(
            lon=site.lon_deg * u.deg, lat=site.lat_deg * u.deg, height=site.obs_level_m * u.m
        ),
    )

"""The one bridge to ctapipe, for comparisons and benchmarks against it (needs the ``test`` extra).

Nothing in the library imports this module; tests and scripts do. It holds:

- ctasim's instrument as ctapipe objects: the same pixel positions, neighbours (passed
  explicitly, so both sides use identical lists), focal lengths, sampling and reference pulse
  (padded and centred as ctasim's integration correction uses it);
- ``ctapipe_toy_images``: images from ctapipe's toymodel, for the image-kernel comparisons;
- ctapipe's HillasReconstructor run on ctasim DL1 parameter rows, for the stereo comparisons.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import EarthLocation
from ctapipe.containers import (
    ArrayEventContainer,
    HillasParametersContainer,
    ImageParametersContainer,
    LeakageContainer,
    MorphologyContainer,
)
from ctapipe.coordinates import CameraFrame
from ctapipe.core import Component
from ctapipe.image.toymodel import Gaussian, SkewedGaussian, obtain_time_image
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
from ctapipe.reco import HillasReconstructor
from scipy.sparse import csr_array
from traitlets.config import Config

from .dl0.extraction import padded_reference_pulse
from .instrument.camera import HEX, CameraGeometry
from .instrument.subarray import SubarrayDescription as CtasimSubarray
from .instrument.telescope import PULSE_SAMPLE_WIDTH_NS, TelescopeDescription
from .reco.stereo import DEFAULT_CUTS, StereoQualityCuts, group_events

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


# -- toy images from ctapipe's toymodel --------------------------------------------------------

TOY_TIME_INTERCEPT_NS = 20.0
TOY_TIME_JITTER_NS = 0.5


def ctapipe_toy_images(
    camera_geometry,
    n_images: int,
    rng: np.random.Generator,
    intensity_range: tuple[float, float] = (50.0, 5000.0),
    nsb_level_pe: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Toy showers on a ctapipe camera-frame geometry -> (images p.e., peak times ns), float32.

    Intensities log-uniform in ``intensity_range``; centroids within 60 % of the camera radius;
    lengths 5-25 % and widths 3-6 % of the camera radius (ctapipe's toy scale on LSTCam: lengths
    0.05-0.3 m, widths ~0.05 m); every other image skewed; time gradient up to +-2 ns per
    shower length.
    """
    radius = float(np.hypot(camera_geometry.pix_x, camera_geometry.pix_y).max().to_value(u.m))
    n_pixels = camera_geometry.n_pixels
    images = np.empty((n_images, n_pixels), np.float32)
    times = np.empty((n_images, n_pixels), np.float32)
    for i in range(n_images):
        r, phi = 0.6 * radius * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        x, y = r * np.cos(phi) * u.m, r * np.sin(phi) * u.m
        length = rng.uniform(0.05, 0.25) * radius * u.m
        width = rng.uniform(0.03, 0.06) * radius * u.m
        psi = rng.uniform(0, 360) * u.deg
        if i % 2:
            model = SkewedGaussian(x, y, length, width, psi, skewness=rng.uniform(0.1, 0.5))
        else:
            model = Gaussian(x, y, length, width, psi)
        intensity = np.exp(rng.uniform(*np.log(intensity_range)))
        images[i], _, _ = model.generate_image(camera_geometry, intensity, nsb_level_pe, rng=rng)
        gradient = rng.uniform(-2.0, 2.0) * u.ns / length
        t = obtain_time_image(
            camera_geometry.pix_x,
            camera_geometry.pix_y,
            x,
            y,
            psi,
            gradient,
            TOY_TIME_INTERCEPT_NS * u.ns,
        )
        times[i] = t + rng.normal(0.0, TOY_TIME_JITTER_NS, n_pixels)
    return images, times


# -- ctapipe's HillasReconstructor on ctasim DL1 parameters -----------------------------------


def make_hillas_reconstructor(
    subarray: SubarrayDescription, cuts: StereoQualityCuts = DEFAULT_CUTS
) -> HillasReconstructor:
    """ctapipe HillasReconstructor whose StereoQualityQuery applies the same cuts as ``cuts``."""
    criteria = [("positive width", "parameters.hillas.width.value > 0")]
    if cuts.min_intensity is not None:
        criteria.append(("intensity", f"parameters.hillas.intensity > {cuts.min_intensity!r}"))
    if cuts.min_n_pixels is not None:
        criteria.append(("n_pixels", f"parameters.morphology.n_pixels > {cuts.min_n_pixels!r}"))
    if cuts.max_leakage is not None:
        criteria.append(
            ("leakage", f"parameters.leakage.intensity_width_2 <= {cuts.max_leakage!r}")
        )
    config = Config({"HillasReconstructor": {"StereoQualityQuery": {"quality_criteria": criteria}}})
    parent = Component(config=config)
    return HillasReconstructor(subarray, parent=parent)


def to_ctapipe_events(
    table: np.ndarray, pointing_alt: float, pointing_az: float
) -> list[ArrayEventContainer]:
    """One ArrayEventContainer per event (sorted by obs_id, event_id) with TelescopeFrame Hillas
    parameters, leakage, morphology and the (parallel) pointing in deg."""
    order, offsets, _, obs_ids, event_ids = group_events(table["obs_id"], table["event_id"])
    alt, az = u.Quantity(pointing_alt, u.deg), u.Quantity(pointing_az, u.deg)
    events = []
    for i in range(obs_ids.size):
        event = ArrayEventContainer()
        event.index.obs_id, event.index.event_id = int(obs_ids[i]), int(event_ids[i])
        event.monitoring.pointing.array_altitude = alt
        event.monitoring.pointing.array_azimuth = az
        rows = table[order[offsets[i] : offsets[i + 1]]]
        event.trigger.tels_with_trigger = np.asarray(rows["tel_id"], int)
        for row in rows:
            tel_id = int(row["tel_id"])
            event.monitoring.tel[tel_id].pointing.altitude = alt
            event.monitoring.tel[tel_id].pointing.azimuth = az
            event.dl1.tel[tel_id].parameters = ImageParametersContainer(
                hillas=HillasParametersContainer(
                    fov_lon=row["hillas_fov_lon"] * u.deg,
                    fov_lat=row["hillas_fov_lat"] * u.deg,
                    r=row["hillas_r"] * u.deg,
                    phi=row["hillas_phi"] * u.deg,
                    intensity=float(row["hillas_intensity"]),
                    length=row["hillas_length"] * u.deg,
                    width=row["hillas_width"] * u.deg,
                    psi=row["hillas_psi"] * u.deg,
                    skewness=float(row["hillas_skewness"]),
                    kurtosis=float(row["hillas_kurtosis"]),
                ),
                leakage=LeakageContainer(intensity_width_2=float(row["leakage_intensity_width_2"])),
                morphology=MorphologyContainer(n_pixels=int(row["morphology_n_pixels"])),
            )
        events.append(event)
    return events


def geometry_arrays(events: list[ArrayEventContainer]) -> dict:
    """Reconstructed geometry of ctapipe-processed events as arrays (deg, m; h_max a.s.l.) and
    impact distances keyed by (event position, tel_id)."""
    name = "HillasReconstructor"
    out = {k: [] for k in ("alt", "az", "core_x", "core_y", "h_max", "is_valid", "n_tels")}
    impacts = {}
    for i, event in enumerate(events):
        g = event.dl2.stereo.geometry[name]
        out["is_valid"].append(bool(g.is_valid))
        out["n_tels"].append(len(g.telescopes) if g.telescopes else 0)
        out["alt"].append(g.alt.to_value(u.deg))
        out["az"].append(g.az.to_value(u.deg))
        out["core_x"].append(g.core_x.to_value(u.m))
        out["core_y"].append(g.core_y.to_value(u.m))
        out["h_max"].append(g.h_max.to_value(u.m))
        for tel_id, dl2 in event.dl2.tel.items():
            impacts[(i, tel_id)] = dl2.impact[name].distance.to_value(u.m)
    result = {k: np.array(v) for k, v in out.items()}
    result["impacts"] = impacts
    return result

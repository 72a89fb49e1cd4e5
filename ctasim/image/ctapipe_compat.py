"""Bridges to ctapipe for validation and benchmarks (ctapipe imported lazily; optional).

- ``to_ctapipe_geometry``: the same camera as a ctapipe ``CameraGeometry`` in a ``CameraFrame``
  with the telescope's focal length (ctapipe computes its own neighbours from the positions).
- ``to_ctapipe_subarray``: a one-telescope ``SubarrayDescription`` for ``ImageProcessor``.
- ``toy_images``: ctapipe.image.toymodel Gaussian / skewed-Gaussian showers with Poisson night-sky
  noise, and peak times with a linear gradient along the shower axis plus Gaussian jitter.
"""

from __future__ import annotations

import numpy as np

from ..instrument.camera import HEX, CameraGeometry
from ..instrument.telescope import TelescopeDescription

TOY_TIME_INTERCEPT_NS = 20.0
TOY_TIME_JITTER_NS = 0.5


def to_ctapipe_geometry(geom: CameraGeometry, focal_length_m: float):
    """ctapipe ``CameraGeometry`` (camera frame, m) of ``geom`` on a telescope of focal length f."""
    import astropy.units as u
    from ctapipe.coordinates import CameraFrame
    from ctapipe.instrument import CameraGeometry as CtapipeGeometry
    from ctapipe.instrument import PixelShape

    return CtapipeGeometry(
        name=geom.name,
        pix_id=np.arange(geom.n_pixels),
        pix_x=geom.pix_x * u.m,
        pix_y=geom.pix_y * u.m,
        pix_area=geom.pix_area * u.m**2,
        pix_type=PixelShape.HEXAGON if geom.pix_type == HEX else PixelShape.SQUARE,
        pix_rotation=geom.pix_rotation_deg * u.deg,
        cam_rotation=geom.cam_rotation_deg * u.deg,
        frame=CameraFrame(focal_length=focal_length_m * u.m),
    )


def to_ctapipe_subarray(tel: TelescopeDescription, tel_id: int = 1):
    """One-telescope ctapipe ``SubarrayDescription`` (telescope ``tel_id`` at the origin)."""
    import astropy.units as u
    from astropy.coordinates import EarthLocation
    from ctapipe.instrument import (
        CameraDescription,
        CameraReadout,
        OpticsDescription,
        ReflectorShape,
        SizeType,
        SubarrayDescription,
    )
    from ctapipe.instrument import (
        TelescopeDescription as CtapipeTelescope,
    )

    ro = tel.camera.readout
    pulse, _ = ro.reference_pulse()
    geometry = to_ctapipe_geometry(tel.camera.geometry, tel.optics.effective_focal_length)
    readout = CameraReadout(
        name=tel.camera_name,
        sampling_rate=ro.sampling_rate_ghz * u.GHz,
        reference_pulse_shape=np.tile(pulse, (ro.n_channels, 1)),
        reference_pulse_sample_width=0.1 * u.ns,
        n_channels=ro.n_channels,
        n_pixels=geometry.n_pixels,
        n_samples=ro.n_samples,
    )
    optics = OpticsDescription(
        name=tel.optics.name,
        size_type=SizeType(tel.tel_type),
        n_mirrors=1,
        equivalent_focal_length=tel.optics.equivalent_focal_length * u.m,
        effective_focal_length=tel.optics.effective_focal_length * u.m,
        mirror_area=tel.optics.mirror_area * u.m**2,
        n_mirror_tiles=1,
        reflector_shape=ReflectorShape.UNKNOWN,
    )
    description = CtapipeTelescope(
        name=tel.type_name,
        optics=optics,
        camera=CameraDescription(tel.camera_name, geometry, readout),
    )
    return SubarrayDescription(
        name="ctasim",
        tel_positions={tel_id: [0.0, 0.0, 0.0] * u.m},
        tel_descriptions={tel_id: description},
        reference_location=EarthLocation(
            lon=-17.892 * u.deg, lat=28.762 * u.deg, height=2177 * u.m
        ),
    )


def toy_images(
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
    import astropy.units as u
    from ctapipe.image.toymodel import Gaussian, SkewedGaussian, obtain_time_image

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

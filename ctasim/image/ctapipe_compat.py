"""Toy images from ctapipe's toymodel for validation and benchmarks (ctapipe imported lazily).

``toy_images``: ctapipe.image.toymodel Gaussian / skewed-Gaussian showers with Poisson night-sky
noise, and peak times with a linear gradient along the shower axis plus Gaussian jitter. The
instrument as ctapipe objects is in ``ctasim.ctapipe_compat``.
"""

from __future__ import annotations

import numpy as np

TOY_TIME_INTERCEPT_NS = 20.0
TOY_TIME_JITTER_NS = 0.5


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

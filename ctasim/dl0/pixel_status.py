"""Pixel status from pedestal statistics: dead and noisy pixels, and the NSB gradient across a camera.

The camera stations send, per block, the std of every pixel's high-gain samples in their pedestal
events (``/dl0/monitoring/telescope/pixel_pedestal``). Pooled over a run (variances weighted by the
pedestal events), a pixel is

- dead (``PIXEL_STATUS_DEAD``) when its std is below ``DEAD_STD_FRACTION`` x the camera's median
  (then the expected, below):
  electronic noise alone, no night-sky p.e. (0.2-0.3 of a healthy pixel's std in every camera here);
- noisy (``PIXEL_STATUS_NOISY``) when its std is above ``NOISY_STD_FACTOR`` x the median: a hot
  pixel or a star (2.25x the median variance: about 1.3x the pixel's NSB rate added).

Both are unusable: masked in image cleaning (``ctasim.image.clean_images``). The NSB gradient is a
plane fitted to the usable pixels' NSB variance (pedestal variance minus the electronic noise's,
ADC^2) over their telescope-frame positions: its slope over its value at the camera centre (per deg)
and the slope's direction (deg from fov_lon towards fov_lat). A gradient is no fault: after a first
pass against the camera median, the pixels are classified twice more against the std the fitted
plane expects where they are (a strong gradient otherwise flags the dark side of a camera dead).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..datamodel.monitoring import PIXEL_STATUS_DEAD, PIXEL_STATUS_NOISY, pixel_status_dtype
from ..instrument.telescope import TelescopeDescription

DEAD_STD_FRACTION = 0.5
NOISY_STD_FACTOR = 1.5
HIGH_GAIN = 0


@njit(cache=True)
def _pixel_moments(samples):
    """Per pixel: the mean and the sum of squared deviations of ``samples`` [events, pixels, samples]."""
    n_ev, n_pix, n_s = samples.shape
    mean = np.zeros(n_pix)
    ss = np.zeros(n_pix)
    for p in range(n_pix):
        total = 0.0
        for e in range(n_ev):
            for k in range(n_s):
                total += samples[e, p, k]
        m = total / (n_ev * n_s)
        dev = 0.0
        for e in range(n_ev):
            for k in range(n_s):
                d = samples[e, p, k] - m
                dev += d * d
        mean[p], ss[p] = m, dev
    return mean, ss


def pedestal_statistics(samples: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(mean, std, std per pixel as float32) in ADC of pedestal samples [events, pixels, samples] (one gain
    channel), in one numba pass per pixel (numpy's two float64 copies of a block's pedestal traces took
    30 % of a night slice's camera simulation)."""
    mean, ss = _pixel_moments(samples)
    n = samples.shape[0] * samples.shape[2]
    overall = mean.mean()
    total_ss = ss.sum() + n * ((mean - overall) ** 2).sum()   # within + between pixels
    return float(overall), float(np.sqrt(total_ss / (n * mean.size))), np.sqrt(ss / n).astype(np.float32)


def pooled_pixel_std(rows: np.ndarray) -> tuple[int, np.ndarray]:
    """(pedestal events, per-pixel std in ADC) of ``pixel_pedestal_dtype`` rows of one telescope:
    the rows' variances weighted by their pedestal events."""
    n = rows["n_pedestal_events"].astype(np.float64)
    var = (n[:, None] * rows["pixel_std_adc"].astype(np.float64) ** 2).sum(axis=0) / n.sum()
    return int(n.sum()), np.sqrt(var)


def _nsb_plane(tel: TelescopeDescription, pixel_std_adc: np.ndarray, usable: np.ndarray) -> np.ndarray | None:
    """(centre, d/d fov_lon, d/d fov_lat) of the plane fitted to the usable pixels' NSB variance (ADC^2,
    deg); None with fewer than 3 usable pixels."""
    if usable.sum() < 3:
        return None
    lon, lat = _fov(tel)
    var_nsb = pixel_std_adc.astype(np.float64) ** 2 - _noise_var(tel)
    design = np.column_stack([np.ones(int(usable.sum())), lon[usable], lat[usable]])
    return np.linalg.lstsq(design, var_nsb[usable], rcond=None)[0]


def _fov(tel: TelescopeDescription) -> tuple[np.ndarray, np.ndarray]:
    geom = tel.camera.geometry
    return tel.camera_to_fov_deg(geom.pix_x, geom.pix_y)


def _noise_var(tel: TelescopeDescription) -> float:
    """Variance (ADC^2, high gain) of the electronic noise alone."""
    ro = tel.camera.readout
    return float((ro.gain_adc_per_pe[HIGH_GAIN] * ro.electronic_noise_pe) ** 2)


def nsb_gradient(tel: TelescopeDescription, pixel_std_adc: np.ndarray, usable: np.ndarray) -> tuple[float, float]:
    """(fraction of the central NSB per deg, direction deg) of the NSB across a camera, fitted to the
    usable pixels' NSB variance; (0, 0) when the fit has no positive NSB at the centre."""
    plane = _nsb_plane(tel, pixel_std_adc, usable)
    if plane is None or plane[0] <= 0:
        return 0.0, 0.0
    centre, d_lon, d_lat = plane
    return float(np.hypot(d_lon, d_lat) / centre), float(np.rad2deg(np.arctan2(d_lat, d_lon)) % 360.0)


def classify(tel: TelescopeDescription, pixel_std_adc: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Status bits (uint8 [n_pixels]) of pixels by their pedestal std: first against the camera median,
    then against the std the fitted NSB plane expects at each pixel (a gradient is no fault)."""
    std = pixel_std_adc.astype(np.float64)
    expected = np.full(std.size, np.median(std))
    lon, lat = _fov(tel)
    for i in range(iterations + 1):
        status = np.zeros(std.size, np.uint8)
        status[std < DEAD_STD_FRACTION * expected] |= PIXEL_STATUS_DEAD
        status[std > NOISY_STD_FACTOR * expected] |= PIXEL_STATUS_NOISY
        plane = _nsb_plane(tel, std, status == 0)
        if i == iterations or plane is None:
            break
        var = plane[0] + plane[1] * lon + plane[2] * lat + _noise_var(tel)
        expected = np.sqrt(np.maximum(var, _noise_var(tel)))
    return status


def pixel_status(tel_id: int, tel: TelescopeDescription, rows: np.ndarray) -> np.ndarray:
    """The ``pixel_status_dtype`` row of a telescope from its ``pixel_pedestal_dtype`` rows."""
    n_events, std = pooled_pixel_std(rows)
    status = classify(tel, std)
    unusable = status != 0
    gradient, direction = nsb_gradient(tel, std, ~unusable)
    row = np.zeros(1, pixel_status_dtype(std.size))
    row["tel_id"], row["n_pedestal_events"], row["camera_median_std_adc"] = tel_id, n_events, np.median(std)
    row["pixel_std_adc"], row["pixel_status"], row["unusable"] = std, status, unusable
    row["nsb_gradient_per_deg"], row["nsb_gradient_direction_deg"] = gradient, direction
    return row

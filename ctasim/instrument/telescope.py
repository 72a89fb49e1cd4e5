"""Descriptions of optics, camera readout, trigger and whole telescopes (plain frozen dataclasses)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .camera import CameraGeometry
from .frames import camera_to_telescope

PULSE_SAMPLE_WIDTH_NS = 0.1
# gamma-distribution pulse shape t^k exp(-t/tau): k sets the skewness, tau the width
PULSE_SHAPE_K = 3.0


@dataclass(frozen=True)
class OpticsDescription:
    """Reflector: mirror area (m^2), focal lengths (m) and point-spread function: a Gaussian of
    ``psf_sigma_deg`` on the optical axis, growing off axis in quadrature by
    ``psf_offaxis_deg_per_deg`` per deg of field angle (coma, mirror-facet misalignment)."""

    name: str
    mirror_area: float
    equivalent_focal_length: float
    effective_focal_length: float
    psf_sigma_deg: float
    psf_offaxis_deg_per_deg: float = 0.0


@dataclass(frozen=True, eq=False)
class CameraReadout:
    """Digitiser settings; ``gain_adc_per_pe`` is the pulse-peak amplitude per p.e. per channel."""

    name: str
    sampling_rate_ghz: float
    n_samples: int
    n_channels: int
    adc_bits: int
    pedestal_adc: float
    gain_adc_per_pe: tuple[float, ...]
    electronic_noise_pe: float
    pulse_fwhm_ns: float
    excess_noise_factor: float
    flat_field_residual: float = 0.0   # rms relative gain of a pixel left after flat-fielding
    time_jitter_ns: float = 0.0        # rms of a p.e.'s arrival time (photodetector transit-time spread)

    @property
    def sample_width_ns(self) -> float:
        return 1.0 / self.sampling_rate_ghz

    @property
    def adc_max(self) -> int:
        return (1 << self.adc_bits) - 1

    def reference_pulse(self) -> tuple[np.ndarray, float]:
        """Pulse shape normalised to a peak of 1, sampled every PULSE_SAMPLE_WIDTH_NS ns.

        Returns (shape, time of the peak in ns from the first sample).
        """
        return reference_pulse(self.pulse_fwhm_ns)

    def integral_per_peak(self) -> float:
        """Sum over readout samples of a unit-peak pulse (counts x samples per count of peak)."""
        shape, _ = self.reference_pulse()
        return float(shape.sum() * PULSE_SAMPLE_WIDTH_NS / self.sample_width_ns)


@functools.lru_cache(maxsize=64)
def reference_pulse(fwhm_ns: float) -> tuple[np.ndarray, float]:
    """Unit-peak gamma-shaped pulse of the given FWHM (ns); returns (shape, peak time ns). Computed
    once per FWHM (1 ms each, asked for per telescope and block): the shape is read-only."""
    k = PULSE_SHAPE_K
    # FWHM of t^k exp(-t) in units of tau, found numerically once
    t = np.linspace(0.0, 40.0, 40001)
    f = t**k * np.exp(-t)
    f /= f.max()
    above = t[f >= 0.5]
    tau = fwhm_ns / (above[-1] - above[0])
    t_ns = np.arange(0.0, 14.0 * k * tau, PULSE_SAMPLE_WIDTH_NS)
    shape = (t_ns / tau) ** k * np.exp(-t_ns / tau)
    shape /= shape.max()
    shape.setflags(write=False)
    return shape, float(k * tau)


@dataclass(frozen=True)
class TriggerSettings:
    """Camera trigger: pixel + neighbours group sum above threshold_pe within window_ns."""

    threshold_pe: float
    window_ns: float


@dataclass(frozen=True, eq=False)
class CameraDescription:
    """Camera: geometry, readout, night-sky background rate (p.e./ns per pixel) and trigger."""

    name: str
    geometry: CameraGeometry
    readout: CameraReadout
    nsb_rate_ghz: float
    photon_detection_efficiency: float
    trigger: TriggerSettings


@dataclass(frozen=True, eq=False)
class TelescopeDescription:
    """One telescope type, e.g. ``LST_LST_LSTCam`` of size class ``LST``."""

    type_name: str
    tel_type: str
    optics: OpticsDescription
    camera: CameraDescription

    @property
    def camera_name(self) -> str:
        return self.camera.name

    def camera_to_fov_deg(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera frame (m) -> telescope frame (fov_lon, fov_lat) in deg, as ctapipe's TelescopeFrame."""
        return camera_to_telescope(x, y, self.optics.effective_focal_length)

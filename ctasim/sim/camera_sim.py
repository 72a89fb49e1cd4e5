"""Telescope simulation: Cherenkov light of a block of showers -> triggered R1 waveforms per telescope.

Per telescope and block (random numbers from ``block_rng(seed, "camera/<stream>", block, tel_id)``
only, so a telescope's output does not depend on which other telescopes the simulator hosts):

0. the atmospheric extinction of every emission point's light (``light.emission_extinction``,
   model in ``ctasim.sim.atmosphere.Extinction``), once per block; per telescope the photons of a
   point are those surviving its path to the telescope (``light.transmitted_photons``);
1. showers whose light cannot reach the telescope (``light.photon_density_bound`` at its distance
   from the axis) are skipped, then a cheap estimate of the p.e. in the camera from
   ~``ESTIMATE_POINTS`` emission points per shower; showers below ``SKIP_FRACTION`` x trigger threshold
   (and without a muon near the mirror) are skipped;
2. p.e. of the others: Poisson number, positions and times (``ctasim.sim.light``, with the on-axis
   PSF), then the PSF's off-axis growth and the photodetector's transit-time spread
   (``instrument_smearing``), pixels;
3. trigger (``ctasim.sim.trigger``) on Cherenkov + NSB p.e.;
4. waveforms of triggered events (``ctasim.sim.electronics``): the readout window starts
   ``n_samples // 4`` samples before the trigger sample; each pixel's p.e. charges carry its gain
   error left after flat-fielding (``flat_field_gains``: fixed per telescope, from
   ``block_rng(seed, "flat_field", tel_id)``), which calibration with the nominal gain does not
   remove.

Pixel faults (``ctasim.sim.pixel_faults``): stars and an NSB gradient are per-pixel NSB factors of a
camera type's trace; a telescope with dead or hot pixels reads their noise (and trigger counts) from
their own traces, and the Cherenkov p.e. of its dead pixels are lost.

The NSB trace of a camera type is drawn once per simulator from ``block_rng(seed, "nsb/<camera>")``
and shared by the telescopes of that type and all blocks: each event reads a window at a random
offset of it (the window offsets come from the telescope's block generator). Drawing it per block
cost more than the rest of the simulation; the price is that pedestals of different events reuse
the same ``TRACE_SAMPLES``-long noise in different combinations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ..datamodel.r1 import TelescopeEvents
from ..instrument.frames import altaz_to_vector
from ..instrument.subarray import SubarrayDescription
from ..instrument.telescope import CameraDescription, TelescopeDescription
from ..rng import block_rng
from .atmosphere import DEFAULT_EXTINCTION, Extinction
from .blocks import ShowerBlock
from .electronics import (
    TRACE_SAMPLES,
    NoiseTrace,
    make_noise_trace,
    pulse_template,
    single_pe_charges,
    synthesize_with_overlay,
)
from .light import (
    emission_extinction,
    expected_cumulative,
    expected_per_shower,
    muon_geometry,
    muon_pe,
    photon_density_bound,
    shower_pe,
    transmitted_photons,
)
from .pixel_faults import PixelFaultModel, PixelOverlay
from .trigger import group_nsb_counts, group_trigger

ESTIMATE_POINTS = 24       # emission points per shower used by the cheap light estimate
SKIP_FRACTION = 0.25       # skip showers whose estimated p.e. are below this x trigger threshold
PRE_BINS = 4               # trigger bins kept before the first Cherenkov p.e.
MAX_TRIGGER_BINS = 512     # longest time span searched for a trigger (samples)
FOV_MARGIN_DEG = 0.5       # light this far outside the camera radius is still followed (PSF)

STATS_DTYPE = np.dtype([
    ("tel_id", "i2"),
    ("n_showers", "i8"),       # showers of the block tested
    ("n_candidates", "i8"),    # showers whose light was followed (not skipped)
    ("n_triggered", "i8"),     # triggered events (rows of TelescopeEvents)
    ("n_pe", "i8"),            # Cherenkov p.e. in the camera, all candidates
])


# uniform-sky noise traces by (seed, camera description), shared by the simulators of a process
# (e.g. several camera actors in one process): each costs ~0.5 s and ~50-100 MB to draw
MAX_SHARED_TRACES = 8
_SHARED_TRACES: dict[tuple[int, int], tuple[object, NoiseTrace]] = {}


class TelescopeSimulator:
    """Cameras of the telescopes ``tel_ids`` of a subarray pointing at (alt, az) deg.

    ``nsb_scale``: optional per-pixel NSB rate factors by camera name (non-uniform sky).
    ``extinction``: atmospheric extinction of the Cherenkov light (default ``DEFAULT_EXTINCTION``;
    ``ctasim.sim.atmosphere.NO_EXTINCTION`` switches it off).
    ``pixel_faults``: dead and hot pixels, stars and an NSB gradient (``ctasim.sim.pixel_faults``);
    its stars and gradient give the per-pixel NSB factors of cameras without an explicit ``nsb_scale``.
    """

    def __init__(self, subarray: SubarrayDescription, tel_ids: Iterable[int], pointing_alt_deg: float,
                 pointing_az_deg: float, seed: int,
                 nsb_scale: Mapping[str, np.ndarray] | None = None,
                 extinction: Extinction | None = None, pixel_faults: PixelFaultModel | None = None) -> None:
        self.subarray = subarray
        self.tel_ids = [int(t) for t in tel_ids]
        self.alt_rad = float(np.deg2rad(pointing_alt_deg))
        self.az_rad = float(np.deg2rad(pointing_az_deg))
        self.pointing = altaz_to_vector(pointing_alt_deg, pointing_az_deg)
        self.seed = int(seed)
        self.pixel_faults = pixel_faults or PixelFaultModel()
        self.nsb_scale = dict(nsb_scale or {})
        for tel in subarray.telescope_types.values():
            scale = self.pixel_faults.nsb_scale(tel)
            if scale is not None and tel.camera_name not in self.nsb_scale:
                self.nsb_scale[tel.camera_name] = scale
        self._overlays: dict[int, PixelOverlay | None] = {}
        self.extinction = DEFAULT_EXTINCTION if extinction is None else extinction
        self.obs_level_m = float(subarray.site.obs_level_m)
        self._traces: dict[str, NoiseTrace] = {}
        self._group_nsb: dict[str, np.ndarray] = {}
        self._digitisers: dict[str, tuple] = {}
        self._fov: dict[tuple[str, str], float] = {}
        self._flat_field: dict[int, np.ndarray] = {}

    def noise_trace(self, camera_name: str) -> NoiseTrace:
        """NSB + electronic-noise trace of a camera type (drawn on first use; with a uniform sky
        shared by every simulator of this process for the same seed and camera)."""
        if camera_name not in self._traces:
            tel = next(t for t in self.subarray.telescope_types.values() if t.camera_name == camera_name)
            scale = self.nsb_scale.get(camera_name)
            key = (self.seed, id(tel.camera))
            if scale is not None or key not in _SHARED_TRACES:
                rng = block_rng(self.seed, f"nsb/{camera_name}")
                trace = make_noise_trace(rng, tel.camera, TRACE_SAMPLES, scale)
                if scale is not None:
                    self._traces[camera_name] = trace
                    return trace
                if len(_SHARED_TRACES) >= MAX_SHARED_TRACES:
                    _SHARED_TRACES.pop(next(iter(_SHARED_TRACES)))
                _SHARED_TRACES[key] = (tel.camera, trace)  # keeps the camera alive: its id stays unique
            self._traces[camera_name] = _SHARED_TRACES[key][1]
        return self._traces[camera_name]

    def overlay(self, tel_id: int) -> PixelOverlay | None:
        """The dead and hot pixels of a telescope with their own noise traces (None: healthy; cached)."""
        if tel_id not in self._overlays:
            tel = self.subarray.tel(tel_id)
            self._overlays[tel_id] = self.pixel_faults.overlay(tel_id, tel, self.seed,
                                                               self.nsb_scale.get(tel.camera_name))
        return self._overlays[tel_id]

    def _overlay_args(self, tel_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pixels, amplitude, column, counts) of a telescope's overlay; empty for a healthy one."""
        ov = self.overlay(tel_id)
        if ov is None:
            n_pix = self.subarray.tel(tel_id).camera.geometry.n_pixels
            return (np.empty(0, np.int64), np.empty((1, 0), np.float32), np.full(n_pix, -1, np.int64),
                    np.empty((1, 0), np.uint8))
        return ov.pixels, ov.trace.amplitude, ov.column, ov.trace.nsb_counts

    def simulate(self, block: ShowerBlock) -> dict[int, TelescopeEvents]:
        """Triggered events of every hosted telescope (an entry per telescope, possibly empty)."""
        return self.simulate_with_stats(block)[0]

    def simulate_with_stats(self, block: ShowerBlock) -> tuple[dict[int, TelescopeEvents], np.ndarray]:
        """As ``simulate``, plus one STATS_DTYPE row per telescope (counts for trigger bookkeeping)."""
        events, stats = {}, np.zeros(len(self.tel_ids), STATS_DTYPE)
        ext = emission_extinction(block.emission, self.obs_level_m, self.extinction)
        for row, tel_id in enumerate(self.tel_ids):
            events[tel_id], stats[row] = self._simulate_telescope(block, tel_id, ext)
        return events, stats

    def pedestal_waveforms(self, tel_id: int, block_index: int, n_events: int, stream: str = "pedestal",
                           channels: int | None = None) -> np.ndarray:
        """Waveforms (uint16 [n, n_channels, n_pixels, n_samples]) without Cherenkov light; ``channels``:
        only the first so many gain channels (the same values; None: all)."""
        tel = self.subarray.tel(tel_id)
        ro = tel.camera.readout
        trace = self.noise_trace(tel.camera_name)
        rng = block_rng(self.seed, f"camera/{stream}", block_index, tel_id)
        start = rng.integers(0, TRACE_SAMPLES - ro.n_samples, n_events)
        empty = np.zeros(0)
        ov_pixels, ov_amplitude, _, _ = self._overlay_args(tel_id)
        shape, dt, n_samples, gains, pedestal, adc_max = self._digitiser(tel)
        return synthesize_with_overlay(trace.amplitude, start, np.zeros(n_events + 1, np.int64),
                                       empty.astype(np.int32), empty, empty, shape, dt, n_samples,
                                       gains[:channels], pedestal, adc_max, ov_pixels, ov_amplitude)

    def _group_counts(self, camera: CameraDescription) -> np.ndarray:
        """Trigger-group NSB counts of a camera type's noise trace, pixel-major (cached)."""
        if camera.name not in self._group_nsb:
            geom = camera.geometry
            self._group_nsb[camera.name] = group_nsb_counts(self.noise_trace(camera.name).nsb_counts,
                                                            geom.neighbors_indptr, geom.neighbors_indices)
        return self._group_nsb[camera.name]

    def _gains(self, tel_id: int) -> np.ndarray:
        """Relative gain of each pixel of a telescope left after flat-fielding (cached)."""
        if tel_id not in self._flat_field:
            self._flat_field[tel_id] = flat_field_gains(self.subarray.tel(tel_id).camera, self.seed, tel_id)
        return self._flat_field[tel_id]

    def _cos_fov(self, tel: TelescopeDescription) -> float:
        """Cosine of the largest angle from the optical axis whose light is followed (cached)."""
        key = (tel.camera_name, tel.optics.name)
        if key not in self._fov:
            radius = tel.camera.geometry.radius / tel.optics.effective_focal_length
            self._fov[key] = float(np.cos(radius + np.deg2rad(FOV_MARGIN_DEG)))
        return self._fov[key]

    def _digitiser(self, tel: TelescopeDescription) -> tuple:
        """Trailing arguments of ``synthesize_waveforms`` for a telescope's camera (cached)."""
        if tel.camera_name not in self._digitisers:
            ro = tel.camera.readout
            self._digitisers[tel.camera_name] = (
                pulse_template(tel.camera), ro.sample_width_ns, ro.n_samples,
                np.asarray(ro.gain_adc_per_pe, np.float64), ro.pedestal_adc, float(ro.adc_max))
        return self._digitisers[tel.camera_name]

    def _simulate_telescope(self, block: ShowerBlock, tel_id: int,
                            ext: tuple[np.ndarray, np.ndarray]) -> tuple[TelescopeEvents, tuple]:
        tel = self.subarray.tel(tel_id)
        cam, ro, optics = tel.camera, tel.camera.readout, tel.optics
        geom = cam.geometry
        rng = block_rng(self.seed, f"camera/{block.stream}", block.block_index, tel_id)
        position = self.subarray.position(tel_id)
        tx, ty, tz = position
        ax, ay, az = self.pointing
        focal = optics.effective_focal_length
        cos_fov = self._cos_fov(tel)
        em, showers = block.emission, block.showers
        pde = cam.photon_detection_efficiency
        threshold = cam.trigger.threshold_pe
        # photons of each point surviving the path to this telescope: filled for the showers whose
        # light is followed (``near``, then the other candidates), the only ones the kernels read
        photons = np.empty(em.x.size)
        points = (em.x, em.y, em.z, photons, em.cherenkov_angle, em.dir_x, em.dir_y, em.dir_z)
        tel_args = (tx, ty, tz, ax, ay, az, optics.mirror_area, cos_fov)

        skip_pe = SKIP_FRACTION * threshold
        bound = photon_density_bound(showers["true_energy"], impact_distance(showers, position))
        near = np.flatnonzero(bound * optics.mirror_area * pde >= skip_pe)
        transmitted_photons(near, em.offsets, em.x, em.y, em.z, em.photons, *ext, tx, ty, tz, photons)
        estimate = expected_per_shower(near, em.offsets, *points, *tel_args, ESTIMATE_POINTS) * pde
        candidate = np.zeros(block.n_showers, bool)
        candidate[near[estimate >= skip_pe]] = True
        mu = block.muons
        if mu is not None and mu.x.size:
            radius = np.sqrt(optics.mirror_area / np.pi)
            mu_expected, *mu_region = muon_geometry(mu.x, mu.y, mu.z, mu.dir_x, mu.dir_y, mu.dir_z,
                                                 mu.cherenkov_angle, mu.photons_per_m, tx, ty, tz,
                                                 ax, ay, az, radius, cos_fov)
            mu_owner = np.repeat(np.arange(block.n_showers), np.diff(mu.offsets))
            candidate[mu_owner[mu_expected > 0]] = True
        cand = np.flatnonzero(candidate)
        n_cand = cand.size
        transmitted_photons(np.setdiff1d(cand, near), em.offsets, em.x, em.y, em.z, em.photons, *ext,
                            tx, ty, tz, photons)

        # Cherenkov p.e. of the shower light
        cum = np.empty(em.x.size)           # filled for the candidates' points only
        expected_cumulative(cand, em.offsets, *points, *tel_args, cum)
        last = em.offsets[cand + 1] - 1
        lam = np.where(em.offsets[cand + 1] > em.offsets[cand], cum[np.maximum(last, 0)], 0.0) * pde
        n_pe = rng.poisson(lam)
        total = int(n_pe.sum())
        psf = np.deg2rad(optics.psf_sigma_deg)
        cx, cy, ct = shower_pe(cand, n_pe, em.offsets, cum, em.x, em.y, em.z, em.t, em.dir_x, em.dir_y,
                               em.dir_z, em.lateral_sigma, tx, ty, tz, self.alt_rad, self.az_rad, focal,
                               psf, rng.random(total), rng.standard_normal((total, 4)))
        owner = np.repeat(np.arange(n_cand), n_pe)
        if mu is not None and mu.x.size and n_cand:
            rows = np.flatnonzero(mu_expected > 0)
            n_try = rng.poisson(mu_expected[rows] * pde)
            m = int(n_try.sum())
            mx, my, mt, mrow = muon_pe(rows, n_try, *mu_region, mu.x, mu.y, mu.z, mu.t, mu.dir_x, mu.dir_y,
                                       mu.dir_z, mu.cherenkov_angle, tx, ty, tz, radius, self.alt_rad,
                                       self.az_rad, focal, psf, rng.random((m, 2)), rng.standard_normal((m, 2)))
            cx, cy, ct = np.concatenate([cx, mx]), np.concatenate([cy, my]), np.concatenate([ct, mt])
            owner = np.concatenate([owner, np.searchsorted(cand, mu_owner[rows[mrow]])])
        cx, cy, ct = instrument_smearing(tel, cx, cy, ct, rng)
        pixel = geom.pixel_at(cx, cy)
        keep = pixel >= 0
        ov_pixels, ov_amplitude, ov_column, ov_counts = self._overlay_args(tel_id)
        ov = self.overlay(tel_id)
        if ov is not None:   # a dead pixel gives no photo-signal
            keep[keep] = ~ov.dead[pixel[keep]]
        order = np.argsort(owner[keep], kind="stable")
        owner, pixel, ct = owner[keep][order], pixel[keep][order], ct[keep][order]
        pe_offsets = np.zeros(n_cand + 1, np.int64)
        np.cumsum(np.bincount(owner, minlength=n_cand), out=pe_offsets[1:])

        # trigger: time bins from PRE_BINS before each event's first p.e.
        dt = ro.sample_width_ns
        has_pe = pe_offsets[1:] > pe_offsets[:-1]
        t_ref = np.zeros(n_cand)
        if ct.size:
            t_ref[has_pe] = np.minimum.reduceat(ct, pe_offsets[:-1][has_pe])
        pe_bin = np.floor((ct - t_ref[owner]) / dt).astype(np.int64) + PRE_BINS
        window = max(1, round(cam.trigger.window_ns / dt))
        span = np.zeros(n_cand, np.int64)
        if ct.size:
            span[has_pe] = np.maximum.reduceat(pe_bin, pe_offsets[:-1][has_pe])
        n_bins = np.minimum(span + 1 + window, MAX_TRIGGER_BINS)
        in_range = pe_bin < n_bins[owner]
        n_pre = ro.n_samples // 4
        trace = self.noise_trace(cam.name)
        trace_start = rng.integers(n_pre + 1, TRACE_SAMPLES - MAX_TRIGGER_BINS - ro.n_samples, n_cand)
        sel_offsets = np.zeros(n_cand + 1, np.int64)
        np.cumsum(np.bincount(owner[in_range], minlength=n_cand), out=sel_offsets[1:])
        trig = group_trigger(sel_offsets, pixel[in_range], pe_bin[in_range], n_bins, trace.nsb_counts,
                             self._group_counts(cam), ov_column, ov_counts, trace_start, geom.neighbors_indptr,
                             geom.neighbors_indices, int(np.ceil(threshold)), window)

        # waveforms of the triggered events
        rows = np.flatnonzero(trig >= 0)
        first = trig[rows] - n_pre                                  # first read-out bin
        sel = np.flatnonzero(trig[owner] >= 0)                     # p.e. of triggered events
        n_sel = np.diff(pe_offsets)[rows]
        wf_offsets = np.zeros(rows.size + 1, np.int64)
        np.cumsum(n_sel, out=wf_offsets[1:])
        read_t0 = t_ref[rows] + (first - PRE_BINS) * dt              # ns, start of the first sample
        pe_time = ct[sel] - np.repeat(read_t0, n_sel)
        charge = single_pe_charges(rng, sel.size, ro.excess_noise_factor) * self._gains(tel_id)[pixel[sel]]
        waveform = synthesize_with_overlay(trace.amplitude, trace_start[rows] + first, wf_offsets,
                                           pixel[sel], pe_time, charge, *self._digitiser(tel), ov_pixels,
                                           ov_amplitude)
        flat = np.repeat(np.arange(rows.size), n_sel) * geom.n_pixels + pixel[sel]
        true_image = np.bincount(flat, minlength=rows.size * geom.n_pixels).astype(np.int32)
        true_image = true_image.reshape(rows.size, geom.n_pixels)

        sh = showers[cand[rows]]
        trigger_time = sh["time"] + (t_ref[rows] + (trig[rows] - PRE_BINS) * dt) * 1e-9
        events = TelescopeEvents(
            tel_id=tel_id,
            obs_id=int(showers["obs_id"][0]) if showers.size else 0,
            event_id=sh["event_id"].astype(np.int64),
            trigger_time=trigger_time,
            waveform=waveform,
            true_image=true_image,
            true_impact_distance=impact_distance(sh, position).astype(np.float32),
        )
        return events, (tel_id, block.n_showers, n_cand, rows.size, pixel.size)


def instrument_smearing(tel: TelescopeDescription, cx: np.ndarray, cy: np.ndarray, ct: np.ndarray,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p.e. camera positions (m) and times (ns) after the PSF's growth off axis (a Gaussian of
    ``psf_offaxis_deg_per_deg`` x field angle, in quadrature with the on-axis PSF already applied)
    and the photodetector's transit-time spread (Gaussian, ``time_jitter_ns``)."""
    optics, ro = tel.optics, tel.camera.readout
    if optics.psf_offaxis_deg_per_deg > 0.0 and cx.size:
        extra_m = optics.psf_offaxis_deg_per_deg * np.hypot(cx, cy)   # (deg/deg) x field angle x focal
        cx = cx + extra_m * rng.standard_normal(cx.size)
        cy = cy + extra_m * rng.standard_normal(cy.size)
    if ro.time_jitter_ns > 0.0 and ct.size:
        ct = ct + ro.time_jitter_ns * rng.standard_normal(ct.size)
    return cx, cy, ct


def flat_field_gains(camera: CameraDescription, seed: int, tel_id: int) -> np.ndarray:
    """Per-pixel gain relative to the nominal one after flat-fielding: 1 + ``flat_field_residual`` x
    a standard normal (clipped at 0.5), fixed per telescope for a seed."""
    rng = block_rng(seed, "flat_field", tel_id)
    residual = camera.readout.flat_field_residual
    return np.maximum(1.0 + residual * rng.standard_normal(camera.geometry.n_pixels), 0.5)


def impact_distance(showers: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Distance (m) of a ground-frame position from the axes of the showers (SHOWER_DTYPE rows)."""
    u = altaz_to_vector(showers["true_alt"], showers["true_az"]).reshape(-1, 3)
    rel = position[None, :] - np.column_stack([showers["true_core_x"], showers["true_core_y"],
                                               np.zeros(showers.size)])
    along = (rel * u).sum(axis=1)
    return np.linalg.norm(rel - along[:, None] * u, axis=1)

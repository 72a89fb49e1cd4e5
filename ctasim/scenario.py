"""Scenario files: schema, loading and validation.

A scenario YAML says which array, which particles and how many, the trigger and reduction
settings, the offline stages, the output directory and the seed. It is validated before anything
starts: unknown keys and wrong values are refused with one line naming the file, the key path,
the value and what was expected (pydantic models with ``extra="forbid"``, as gammapy's
AnalysisConfig).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from .dl0.reduction import VARIANT_STEPS, ReductionConfig, Variant
from .errors import ConfigError, CtasimError
from .image.cleaning import DEFAULT_CLEANING, CleaningConfig
from .instrument.config import available_layouts, layout_path, load_subarray, read_yaml
from .instrument.frames import altaz_to_telescope, telescope_to_altaz
from .io.provenance import scenario_hash
from .irf.cuts import GAMMA_EFFICIENCIES
from .onsite.realtime import RealTimeConfig
from .paths import SCENARIO_DIR
from .science.regions import reflected_positions
from .sim.atmosphere import DEFAULT_EXTINCTION, Extinction
from .sim.pixel_faults import PixelFaultModel, Star
from .sim.source import Population, arrival_rate_hz, check_flux_geometry
from .sim.telescope_faults import NO_FAULTS, TelescopeFaultSet
from .spectra import spectrum_from_config

_M = TypeVar("_M", bound=BaseModel)

# scenario and particle names become file and directory names (runs/{name}, <name>_<particle>_obs...)
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _safe_name(value: str) -> str:
    if not SAFE_NAME.fullmatch(value):
        raise ValueError("a name usable as a file name: 1-64 letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pointing(_Model):
    """Telescope pointing (all telescopes parallel), deg."""

    alt_deg: float = Field(70.0, gt=0.0, le=90.0)
    az_deg: float = Field(0.0, ge=0.0, lt=360.0)


class ArrayConfig(_Model):
    layout: str = "north_alpha"
    pointing: Pointing = Pointing()

    @field_validator("layout")
    @classmethod
    def _layout_exists(cls, v: str) -> str:
        if not layout_path(v).is_file():
            raise ValueError(f"a layout file or one of: {', '.join(available_layouts())}")
        return v


#: the arrival rate of a population that gives neither ``rate_hz`` nor ``rate_from_flux`` (Hz)
DEFAULT_RATE_HZ = 1000.0


class Spectrum(_Model):
    """Energy spectrum to draw primaries from (see ctasim.spectra). ``power_law`` is a point source,
    its flux ``normalization`` (1 / (TeV cm^2 s) at ``e_ref`` TeV) optional (a shape without it); the
    other types are absolute fluxes (cosmic_* diffuse, per sr)."""

    type: Literal["power_law", "crab_log_parabola", "crab_hegra", "cosmic_proton", "cosmic_electron",
                  "cosmic_helium"] = "power_law"
    index: float | None = Field(None, lt=0.0, description="power-law index (dN/dE ~ E^index), default -2")
    normalization: float | None = Field(None, gt=0.0, description="power-law flux at e_ref, 1 / (TeV cm^2 s)")
    e_ref: float | None = Field(None, gt=0.0, description="power-law reference energy (TeV), default 1")

    @model_validator(mode="after")
    def _index_only_for_power_law(self) -> Spectrum:
        for key in ("index", "normalization", "e_ref"):
            if self.type != "power_law" and getattr(self, key) is not None:
                raise ValueError(f"no {key} for spectrum type {self.type} (only power_law takes one)")
        return self

    def to_config(self) -> dict[str, Any]:
        """The mapping ``ctasim.spectra.spectrum_from_config`` takes."""
        if self.type == "power_law":
            extra = {k: getattr(self, k) for k in ("normalization", "e_ref") if getattr(self, k) is not None}
            return {"type": "power_law", "index": -2.0 if self.index is None else self.index} | extra
        return {"type": self.type}

    def has_absolute_flux(self) -> bool:
        """A flux, not only a shape: every fixed spectrum, a power law with a normalization."""
        return self.type != "power_law" or self.normalization is not None


class ParticleConfig(_Model):
    """One simulated population (a separate observation id, like a CORSIKA run).

    Its arrival rate is ``rate_hz`` (Hz; 1000 when neither is given) or, with ``rate_from_flux:
    true`` (then no ``rate_hz``), the rate of the spectrum's absolute flux through the simulated
    phase space (``ctasim.sim.source.arrival_rate_hz``: energy range x scatter disk on the ground,
    projected on the source direction, x the view cone's solid angle for a diffuse spectrum), so
    that simulated seconds are real seconds. That needs a spectrum with a flux (not a power law
    without ``normalization``), a view cone for a diffuse spectrum and none for a point source.
    Helium is simulated by the superposition model (``ctasim.sim.shower``)."""

    name: str
    particle: Literal["gamma", "proton", "electron", "helium"]
    spectrum: Spectrum = Spectrum()
    n_showers: int | None = Field(None, gt=0, description="showers to simulate; default rate x simulation.duration_s")
    energy_min_tev: float = Field(0.01, gt=0.0)
    energy_max_tev: float = Field(100.0, gt=0.0)
    max_scatter_m: float = Field(1000.0, gt=0.0)
    viewcone_deg: float = Field(0.0, ge=0.0, le=20.0)
    source_offset_deg: float = Field(0.0, ge=0.0, le=10.0)
    rate_hz: float | None = Field(None, gt=0.0, description="arrival rate of simulated showers (Hz)")
    rate_from_flux: bool = Field(False, description="arrival rate from the spectrum's flux (no rate_hz then)")
    start_s: float = Field(0.0, ge=0.0, description="simulated time of the first shower's block (s)")

    @model_validator(mode="before")
    @classmethod
    def _default_rate(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("rate_from_flux") in (None, False) and data.get("rate_hz") is None:
            return {**data, "rate_hz": DEFAULT_RATE_HZ}
        return data

    _name = field_validator("name")(_safe_name)

    @field_validator("rate_from_flux")
    @classmethod
    def _flux_given(cls, v: bool, info: ValidationInfo) -> bool:
        """rate_from_flux excludes rate_hz and needs a flux whose geometry fits the view cone (the other
        fields are validated before this one; a field that failed is absent and skipped here)."""
        if not v:
            return v
        rate, spectrum, viewcone = (info.data.get(k) for k in ("rate_hz", "spectrum", "viewcone_deg"))
        if rate is not None:
            raise ValueError(f"rate_hz or rate_from_flux, not both (rate_hz = {rate:g} given too)")
        if spectrum is None or viewcone is None:
            return v
        if not spectrum.has_absolute_flux():
            raise ValueError("a spectrum with an absolute flux (crab_hegra, crab_log_parabola, cosmic_proton, "
                             "cosmic_electron, cosmic_helium, or power_law with a normalization): "
                             "spectrum.normalization is missing")
        check_flux_geometry(spectrum_from_config(spectrum.to_config()).diffuse, viewcone)
        return v

    @model_validator(mode="after")
    def _energy_range(self) -> ParticleConfig:
        if self.energy_max_tev <= self.energy_min_tev:
            raise ValueError(f"energy_max_tev ({self.energy_max_tev}) above energy_min_tev ({self.energy_min_tev})")
        if self.rate_hz is None and not self.rate_from_flux:
            raise ValueError("rate_hz or rate_from_flux: true")
        return self


class SimulationConfig(_Model):
    """``duration_s``: simulated seconds of the run; a population without ``n_showers`` then simulates
    its arrival rate x duration_s showers (at least 1), so every population covers the same slice of time."""

    block_size: int = Field(200, gt=0, le=100_000, description="showers per block")
    duration_s: float | None = Field(None, gt=0.0, description="simulated time of the run (s)")


class AtmosphereConfig(_Model):
    """Extinction of the Cherenkov light on its way to the telescopes (``ctasim.sim.atmosphere``):
    Rayleigh scattering in the exponential atmosphere plus aerosols of vertical optical depth
    ``aerosol_tau_532`` at 532 nm above the observation level, falling off with
    ``aerosol_scale_height_m`` and scaling with wavelength as lambda^-angstrom. ``extinction: false``
    switches both off. The defaults are a clear dark site (``DEFAULT_EXTINCTION``)."""

    extinction: bool = True
    aerosol_tau_532: float = Field(DEFAULT_EXTINCTION.aerosol_tau_532, ge=0.0, le=3.0)
    aerosol_scale_height_m: float = Field(DEFAULT_EXTINCTION.aerosol_scale_height_m, gt=0.0, le=20_000.0)
    angstrom: float = Field(DEFAULT_EXTINCTION.angstrom, ge=0.0, le=4.0)

    def extinction_model(self) -> Extinction:
        """The simulator's extinction model for these settings."""
        return Extinction(enabled=self.extinction, aerosol_tau_532=self.aerosol_tau_532,
                          aerosol_scale_height_m=self.aerosol_scale_height_m, angstrom=self.angstrom)


class TriggerConfig(_Model):
    """Central (stereo) trigger: at least min_telescopes within window_ns.

    ``nsb_accidentals``: also simulate NSB-only (accidental) camera triggers at the rate each
    camera's NSB and threshold give (``ctasim.onsite.camera_station``); they enter the stereo
    coincidence like shower triggers. Off by default: existing runs are unchanged.
    """

    min_telescopes: int = Field(2, ge=1)
    window_ns: float = Field(100.0, gt=0.0)
    nsb_accidentals: bool = False


class ReductionSection(ReductionConfig):
    """The scenario's on-site reduction: a variant, its settings (``ctasim.dl0.reduction.
    ReductionConfig``) and per-step overrides.

    Variants: ``raw`` (compressed full waveforms), ``integrated`` (charge + peak time per pixel),
    ``pixel_selection`` (charges of all pixels + waveforms of the selected pixels). Steps left
    unset take the variant's default. ``compare_variants`` are also run on every block and
    metered (not archived), so the report compares them.
    """

    variant: Variant = "pixel_selection"
    gain_selection: bool | None = None
    integrate: bool | None = None
    pixel_selection: bool | None = None
    compare_variants: list[Variant] = Field(default_factory=list)

    def library_configs(self) -> list[ReductionConfig]:
        """The archived variant first, then the comparison variants (same settings, their own steps)."""
        overrides = self.model_dump(exclude={"variant", "compare_variants"}, exclude_none=True)
        variants = [self.variant] + [v for v in self.compare_variants if v != self.variant]
        first = ReductionConfig.for_variant(self.variant, **overrides)
        shared = {k: v for k, v in overrides.items() if k not in VARIANT_STEPS[self.variant]}
        return [first] + [ReductionConfig.for_variant(v, **shared) for v in variants[1:]]


class ExecutionConfig(_Model):
    """How the actor graph runs: backend, actor counts and flow control."""

    backend: Literal["ray", "local"] = "ray"
    telescopes_per_actor: int | Literal["auto"] = Field(
        "auto", description="telescopes hosted by one camera actor; auto: one camera actor per CPU")
    reducer_actors: int = Field(1, ge=1)
    max_blocks_in_flight: int = Field(4, ge=1, le=64)
    keep_r1: bool = False

    @field_validator("telescopes_per_actor", mode="before")
    @classmethod
    def _per_actor(cls, value: Any) -> Any:
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError("a positive integer or 'auto'")

    def camera_groups(self, tel_ids: Sequence[int], n_cpus: int) -> list[list[int]]:
        """Telescope ids of each camera actor: ``telescopes_per_actor`` consecutive ones, or (auto) one
        actor per CPU (at most one per telescope), the telescopes dealt round-robin so that every
        actor gets its share of each telescope type."""
        ids = [int(t) for t in tel_ids]
        if self.telescopes_per_actor == "auto":
            n = max(1, min(int(n_cpus), len(ids)))
            return [ids[i::n] for i in range(n)]
        k = self.telescopes_per_actor
        return [ids[i:i + k] for i in range(0, len(ids), k)]


class CleaningSpec(_Model):
    """Tail cuts of one camera (p.e.) and the optional time constraint (ns), as
    ``ctasim.image.cleaning.CleaningConfig``."""

    picture_pe: float = Field(gt=0.0, le=1e4)
    boundary_pe: float = Field(gt=0.0, le=1e4)
    min_picture_neighbors: int = Field(2, ge=0, le=6)
    keep_isolated_pixels: bool = False
    time_limit_ns: float | None = Field(None, gt=0.0, le=1e3)
    min_time_neighbors: int = Field(1, ge=1, le=6)

    @model_validator(mode="after")
    def _ordered(self) -> CleaningSpec:
        if self.boundary_pe > self.picture_pe:
            raise ValueError(f"boundary_pe {self.boundary_pe:g} above picture_pe {self.picture_pe:g}")
        return self


class OfflineConfig(_Model):
    """Offline stages run after the on-site chain (ctasim.offline). ``models``: a directory of
    trained models; None trains them on a deterministic ``train_fraction`` of this run's events
    and evaluates on the rest. ``cleaning``: tail cuts per camera name (LSTCam, NectarCam, FlashCam,
    CHEC) replacing that camera's default (``ctasim.image.cleaning.DEFAULT_CLEANING``)."""

    dl1: bool = False
    dl2: bool = False
    models: str | None = None
    keep_images: bool | None = None
    train_fraction: float = Field(0.5, gt=0.0, lt=1.0)
    cleaning: dict[str, CleaningSpec] = Field(default_factory=dict)

    @field_validator("cleaning")
    @classmethod
    def _known_cameras(cls, value: dict[str, CleaningSpec]) -> dict[str, CleaningSpec]:
        unknown = sorted(set(value) - set(DEFAULT_CLEANING))
        if unknown:
            raise ValueError(f"camera names among {sorted(DEFAULT_CLEANING)} (not {', '.join(unknown)})")
        return value

    def cleaning_configs(self) -> dict[str, CleaningConfig]:
        """The cleaning of every camera: the defaults with ``cleaning``'s replacements."""
        return DEFAULT_CLEANING | {name: CleaningConfig(**spec.model_dump()) for name, spec in self.cleaning.items()}


class IrfConfig(_Model):
    """The IRF / DL3 stage after DL2 (``ctasim.offline.irf``): cuts, IRFs, 50 h sensitivity and DL3
    observations of the simulated source. ``gammaness_efficiency`` None optimises the gammaness cut
    per energy bin over ``gammaness_efficiencies`` (gamma efficiencies), among the cuts that leave at
    least ``min_background_events`` simulated background events in the FoV ring (the loosest where
    none does; 0 as pyirf), each bin's choice smoothed over ``cut_smoothing_bins`` neighbouring bins
    on each side (``ctasim.irf.cuts.optimise_gammaness_cut``; 0: each bin on its own); a value fixes
    it. ``min_multiplicity``: the event quality cut before any IRF, as ctapipe's IRF tools
    (``EventQualitySelection``: at least 4 telescopes in the stereo reconstruction); gammas and
    background failing it count as not detected. ``spectral_fit``: also the DL4 on/off fit of the
    DL3 observations (``ctasim.offline.science``)."""

    enabled: bool = False
    livetime_h: float = Field(0.5, gt=0.0, le=1000.0, description="DL3 livetime of all observations (h)")
    n_observations: int = Field(1, ge=1, le=100)
    bins_per_decade: int = Field(5, ge=1, le=20)
    gammaness_efficiencies: list[float] = Field(default_factory=lambda: GAMMA_EFFICIENCIES.tolist(), min_length=1)
    gammaness_efficiency: float | None = Field(None, gt=0.0, le=1.0)
    min_background_events: int = Field(5, ge=0, le=10_000)
    cut_smoothing_bins: int = Field(1, ge=0, le=5)
    min_multiplicity: int = Field(2, ge=1, le=200, description="telescopes an event needs to enter the IRFs")
    theta_containment: float = Field(68.0, gt=0.0, lt=100.0, description="% of gammas in the theta cut")
    source_spectrum: Spectrum = Spectrum(type="crab_log_parabola")
    spectral_fit: bool = True

    @field_validator("gammaness_efficiencies")
    @classmethod
    def _efficiencies(cls, v: list[float]) -> list[float]:
        if any(not 0.0 < e <= 1.0 for e in v):
            raise ValueError(f"gamma efficiencies in (0, 1], got {v}")
        return v

    @field_validator("source_spectrum")
    @classmethod
    def _point_source(cls, v: Spectrum) -> Spectrum:
        if v.type in ("cosmic_proton", "cosmic_electron", "cosmic_helium"):
            raise ValueError(f"a point-source spectrum (power_law, crab_log_parabola, crab_hegra), got {v.type}")
        return v


class AlertsConfig(RealTimeConfig):
    """The real-time analysis on the on-site chain (``ctasim.onsite.realtime``) and its alerts.
    ``target_offset_deg`` None: the offset of the first point-source gamma population."""

    enabled: bool = False
    target_offset_deg: float | None = Field(None, gt=0.0, le=5.0)


class DeadPixels(_Model):
    """Dead pixels: ``fraction`` of every camera's pixels drawn per telescope, plus ``pixels`` listed
    by tel_id (pixel ids of that telescope's camera)."""

    fraction: float = Field(0.0, ge=0.0, le=0.5)
    pixels: dict[int, list[int]] = Field(default_factory=dict)


class HotPixels(DeadPixels):
    """Hot pixels (as ``DeadPixels``), each with ``rate_ghz`` spurious p.e. per ns on top of its NSB."""

    rate_ghz: float = Field(2.0, gt=0.0, le=100.0)


#: field angle beyond which a star lights no camera: half CHEC's 8.8 deg field, the widest, plus its PSF (est.)
MAX_STAR_OFFSET_DEG = 5.0


class StarConfig(_Model):
    """A star of V ``magnitude`` at a telescope-frame position (``fov_lon_deg``, ``fov_lat_deg``), at a
    horizontal position (``alt_deg``, ``az_deg``), or at catalogue coordinates (``ra_deg``, ``dec_deg``,
    ICRS) seen from the layout's site at the run epoch (``ctasim.io.gadf.RUN_EPOCH``, the time zero of the
    DL3 files); the pointing maps sky positions into the field of view."""

    magnitude: float = Field(ge=-2.0, le=12.0)
    fov_lon_deg: float | None = Field(None, ge=-10.0, le=10.0)
    fov_lat_deg: float | None = Field(None, ge=-10.0, le=10.0)
    alt_deg: float | None = Field(None, gt=0.0, le=90.0)
    az_deg: float | None = Field(None, ge=0.0, lt=360.0)
    ra_deg: float | None = Field(None, ge=0.0, lt=360.0)
    dec_deg: float | None = Field(None, ge=-90.0, le=90.0)

    @model_validator(mode="after")
    def _one_position(self) -> StarConfig:
        pairs = [(a is not None, b is not None) for a, b in ((self.fov_lon_deg, self.fov_lat_deg),
                                                             (self.alt_deg, self.az_deg), (self.ra_deg, self.dec_deg))]
        if sum(all(p) for p in pairs) != 1 or sum(any(p) for p in pairs) != 1:
            raise ValueError("one position: fov_lon_deg and fov_lat_deg, alt_deg and az_deg, or ra_deg and dec_deg")
        return self

    def star(self, pointing: Pointing, layout: str) -> Star:
        """The simulator's star, its position in the telescope frame of ``pointing`` (a catalogue position
        from ``layout``'s site at the run epoch)."""
        if self.fov_lon_deg is not None:
            return Star(self.fov_lon_deg, self.fov_lat_deg, self.magnitude)
        alt, az = self.alt_deg, self.az_deg
        if self.ra_deg is not None:
            from .io.gadf import altaz_at_epoch  # astropy's coordinates: only for catalogue stars

            alt, az = altaz_at_epoch(self.ra_deg, self.dec_deg, load_subarray(layout).site)
            if alt <= 0.0:
                raise ValueError(f"RA {self.ra_deg:g}, Dec {self.dec_deg:g} deg is below the horizon "
                                 f"(alt {alt:.1f} deg) at the run epoch")
        lon, lat = altaz_to_telescope(alt, az, pointing.alt_deg, pointing.az_deg)
        return Star(float(lon), float(lat), self.magnitude)


class NsbGradient(_Model):
    """NSB rate x (1 + ``fraction_per_deg`` x field angle along ``direction_deg``, from fov_lon towards
    fov_lat), at least 0."""

    fraction_per_deg: float = Field(0.0, ge=0.0, le=1.0)
    direction_deg: float = Field(0.0, ge=0.0, lt=360.0)


class PixelFaults(_Model):
    """Pixel-level faults injected into the simulated cameras (``ctasim.sim.pixel_faults``): dead and hot
    pixels, bright stars, non-uniform night-sky background; empty: healthy pixels. The data quality
    finds them from the pedestal events alone and masks them in cleaning (``ctasim.dl0.pixel_status``)."""

    dead: DeadPixels = DeadPixels()
    hot: HotPixels = HotPixels()
    stars: list[StarConfig] = Field(default_factory=list)
    nsb_gradient: NsbGradient = NsbGradient()

    def model(self, pointing: Pointing, layout: str) -> PixelFaultModel:
        """The simulator's fault model for the array pointing at ``pointing`` (stars at catalogue positions
        seen from ``layout``'s site)."""
        return PixelFaultModel(
            dead_fraction=self.dead.fraction, dead_pixels={t: tuple(p) for t, p in self.dead.pixels.items()},
            hot_fraction=self.hot.fraction, hot_pixels={t: tuple(p) for t, p in self.hot.pixels.items()},
            hot_rate_ghz=self.hot.rate_ghz, stars=tuple(s.star(pointing, layout) for s in self.stars),
            gradient_per_deg=self.nsb_gradient.fraction_per_deg,
            gradient_direction_deg=self.nsb_gradient.direction_deg)

    def check_pixels(self, layout: str, pointing: Pointing) -> None:
        """ValueError naming the key when a listed telescope or pixel is not in the layout's cameras, or a
        star is below the horizon or outside every field of view (``MAX_STAR_OFFSET_DEG``)."""
        for i, config in enumerate(self.stars):
            try:
                star = config.star(pointing, layout)
            except ValueError as err:
                raise ValueError(f"faults.instrument.pixels.stars[{i}]: {err}") from None
            offset = math.hypot(star.fov_lon_deg, star.fov_lat_deg)
            if offset > MAX_STAR_OFFSET_DEG:
                raise ValueError(f"faults.instrument.pixels.stars[{i}]: {offset:.1f} deg from the pointing, outside "
                                 f"every camera (at most {MAX_STAR_OFFSET_DEG:g} deg)")
        subarray = None
        for kind in ("dead", "hot"):
            for tel_id, pixels in getattr(self, kind).pixels.items():
                subarray = subarray or load_subarray(layout)
                key = f"faults.instrument.pixels.{kind}.pixels[{tel_id}]"
                if tel_id not in subarray.tel_ids:
                    raise ValueError(f"{key}: tel_id {tel_id} is not in layout {layout}")
                n = subarray.tel(tel_id).camera.geometry.n_pixels
                bad = [p for p in pixels if not 0 <= p < n]
                if bad:
                    raise ValueError(f"{key} = {bad}: expected pixel ids 0-{n - 1} of that camera")


class BrokenTelescope(_Model):
    """A broken telescope: ``no_data`` sends nothing, ``garbage`` sends random waveforms."""

    tel_id: int = Field(ge=1)
    mode: Literal["no_data", "garbage"]


class RunawayTrigger(_Model):
    """A camera whose trigger rate runs away: extra accidental triggers at ``rate_hz`` (Hz)."""

    tel_id: int = Field(ge=1)
    rate_hz: float = Field(gt=0.0, le=1e6)


#: most runaway triggers one telescope may get per block (their event ids hold 4096, NSB ones included)
RUNAWAY_MAX_PER_BLOCK = 3000


class TelescopeFaults(_Model):
    """Telescope-level faults (``ctasim.sim.telescope_faults``): broken telescopes (no data, or
    garbage), camera clock offsets (ns, by tel_id), cameras whose trigger rate runs away; empty:
    every telescope healthy. Their measured effect is against the healthy twin of ``faults.compare_healthy``
    or, instead, ``healthy_run``: an earlier run of the scenario without faults (one baseline for several
    fault studies)."""

    broken: list[BrokenTelescope] = Field(default_factory=list)
    clock_offset_ns: dict[int, float] = Field(default_factory=dict)
    runaway_trigger: list[RunawayTrigger] = Field(default_factory=list)
    healthy_run: str | None = None

    @model_validator(mode="after")
    def _one_entry_per_telescope(self) -> TelescopeFaults:
        for key, ids in (("broken", [b.tel_id for b in self.broken]),
                         ("runaway_trigger", [r.tel_id for r in self.runaway_trigger])):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{key}: one entry per tel_id, got {ids}")
        zero = [t for t, ns in self.clock_offset_ns.items() if ns == 0.0]
        if zero:
            raise ValueError(f"clock_offset_ns: non-zero offsets, got 0 for tel_id {zero}")
        return self

    def tel_ids(self) -> set[int]:
        """Every telescope with a fault."""
        return {b.tel_id for b in self.broken} | set(self.clock_offset_ns) | {r.tel_id for r in self.runaway_trigger}

    def any(self) -> bool:
        return bool(self.tel_ids())


class InstrumentFaults(_Model):
    """Instrument faults injected into the simulated cameras; empty: a healthy array."""

    pixels: PixelFaults = PixelFaults()
    telescopes: TelescopeFaults = TelescopeFaults()


#: how often Ray restarts a dead actor process (source, camera, central trigger, reducer, archiver)
#: before the run fails
MAX_RESTARTS = 3


class ProcessKill(_Model):
    """One actor process killed (SIGKILL, by itself) when it reaches the run's block ``block``: the
    position in the order blocks enter the chain (0-based). ``actor``: which camera or reducer actor
    (0-based; the archiver is one). A camera or reducer dies before handling the block, the archiver
    after storing it and before acknowledging it. Once per run: a restarted process or a resumed run
    does not kill itself again."""

    role: Literal["camera", "reducer", "archiver"]
    block: int = Field(ge=0, description="the block's position in the run (0-based)")
    actor: int = Field(0, ge=0)


class ProcessFaults(_Model):
    """Software and system faults injected into the on-site chain: actor processes killed at a chosen
    block (restarted by Ray, their blocks resubmitted), an archiver slowed by ``slow_archiver_s``
    wall seconds per block (back-pressure); empty: none."""

    kill: list[ProcessKill] = []
    slow_archiver_s: float = Field(0.0, ge=0.0, le=60.0, description="sleep of the archiver per block (s)")


class FaultsConfig(_Model):
    """Faults injected on demand (issue 10): every one is flagged in the report and counted."""

    instrument: InstrumentFaults = InstrumentFaults()
    process: ProcessFaults = ProcessFaults()
    compare_healthy: bool = Field(False, description="also run the scenario and seed without faults into "
                                                     "<run_dir>/healthy; their figures side by side in the summary")


class Scenario(_Model):
    name: str
    description: str = ""
    seed: int = Field(ge=0, lt=2**63)
    output_dir: str = "runs/{name}"
    array: ArrayConfig = ArrayConfig()
    particles: list[ParticleConfig] = Field(min_length=1)
    simulation: SimulationConfig = SimulationConfig()
    atmosphere: AtmosphereConfig = AtmosphereConfig()
    trigger: TriggerConfig = TriggerConfig()
    reduction: ReductionSection = ReductionSection()
    execution: ExecutionConfig = ExecutionConfig()
    offline: OfflineConfig = OfflineConfig()
    irf: IrfConfig = IrfConfig()
    alerts: AlertsConfig = AlertsConfig()
    faults: FaultsConfig = FaultsConfig()

    _name = field_validator("name")(_safe_name)

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        names = [p.name for p in self.particles]
        if len(set(names)) != len(names):
            raise ValueError(f"unique particle names, got {names}")
        if self.irf.enabled and not self.offline.dl2:
            raise ValueError("irf.enabled needs offline.dl2: true (IRFs are computed from DL2)")
        counted = [p.name for p in self.particles if p.n_showers is None]
        if counted and self.simulation.duration_s is None:
            raise ValueError(f"particles {', '.join(counted)} without n_showers need simulation.duration_s "
                             "(their showers are rate x duration)")
        if self.alerts.enabled and self.alerts.target_offset_deg is None and not self._point_sources():
            raise ValueError("alerts.enabled needs alerts.target_offset_deg or a point-source gamma population "
                             "(viewcone_deg 0, source_offset_deg > 0)")
        if self.alerts.enabled:
            rta = self.realtime_config()
            try:
                reflected_positions((rta.target_offset_deg, 0.0), (0.0, 0.0), rta.theta_cut_deg, rta.n_off)
            except CtasimError as err:
                raise ValueError(f"alerts.theta_cut_deg {rta.theta_cut_deg} with the target at "
                                 f"{rta.target_offset_deg} deg: {err}") from None
        pixel_faults = self.faults.instrument.pixels
        if pixel_faults != PixelFaults():
            if not (self.offline.dl1 or self.offline.dl2):
                raise ValueError("faults.instrument.pixels needs offline.dl1 or offline.dl2: true (the data quality "
                                 "finds pixel faults in DL1)")
            pixel_faults.check_pixels(self.array.layout, self.array.pointing)
        self._check_telescope_faults()
        self._check_kills()
        for i, p in enumerate(self.particles):
            if p.rate_from_flux:
                try:
                    check_flux_geometry(spectrum_from_config(p.spectrum.to_config()).diffuse, p.viewcone_deg,
                                        self.source_zenith_deg(p))
                except ValueError as err:
                    raise ValueError(f"particles[{i}].rate_from_flux: expected {err}") from None
        return self

    def _check_telescope_faults(self) -> None:
        faults = self.faults.instrument.telescopes
        if faults.healthy_run and self.faults.compare_healthy:
            raise ValueError("faults.compare_healthy or faults.instrument.telescopes.healthy_run, not both")
        if not faults.any():
            return
        layout = read_yaml(layout_path(self.array.layout))
        missing = sorted(faults.tel_ids() - {int(t["tel_id"]) for t in layout["telescopes"]})
        if missing:
            raise ValueError(f"faults.instrument.telescopes: tel_id {missing} not in layout {self.array.layout}")
        stream = self.accidental_stream()
        span = next(p for p in self.populations() if p.name == stream).block_span_s(0, self.simulation.block_size)
        for i, r in enumerate(faults.runaway_trigger):
            if r.rate_hz * span > RUNAWAY_MAX_PER_BLOCK:
                raise ValueError(f"faults.instrument.telescopes.runaway_trigger[{i}].rate_hz = {r.rate_hz}: at most "
                                 f"{RUNAWAY_MAX_PER_BLOCK} triggers per block of {span:.3g} s "
                                 f"({RUNAWAY_MAX_PER_BLOCK / span:.3g} Hz); use a smaller simulation.block_size")

    def accidental_stream(self) -> str:
        """The stream whose blocks carry accidental (NSB and runaway) camera triggers: the population
        with the most showers, whose blocks cover the run most finely and whose showers they can join
        (the night's accidentals are counted once)."""
        return max(self.populations(), key=lambda p: p.n_showers).name

    def telescope_fault_set(self) -> TelescopeFaultSet:
        """The simulator's view of ``faults.instrument.telescopes``."""
        f = self.faults.instrument.telescopes
        if not f.any():
            return NO_FAULTS
        return TelescopeFaultSet(
            no_data=frozenset(b.tel_id for b in f.broken if b.mode == "no_data"),
            garbage=frozenset(b.tel_id for b in f.broken if b.mode == "garbage"),
            clock_offset_ns=dict(f.clock_offset_ns), runaway_hz={r.tel_id: r.rate_hz for r in f.runaway_trigger},
            accidental_stream=self.accidental_stream())
    def _check_kills(self) -> None:
        """Every kill names an existing actor and block, at most MAX_RESTARTS per actor process."""
        kills = self.faults.process.kill
        if not kills:
            return
        n_blocks = sum(p.n_blocks(self.simulation.block_size) for p in self.populations())
        n_tels = len(self.array_tel_ids())
        per_actor = self.execution.telescopes_per_actor
        # with auto the camera actors are known once the backend's CPUs are (the orchestrator checks then)
        actors = {"camera": n_tels if per_actor == "auto" else -(-n_tels // per_actor),
                  "reducer": self.execution.reducer_actors, "archiver": 1}
        for i, k in enumerate(kills):
            if k.actor >= actors[k.role]:
                raise ValueError(f"faults.process.kill[{i}].actor = {k.actor}: expected below {actors[k.role]} "
                                 f"(the run's {k.role} actors)")
            if k.block >= n_blocks:
                raise ValueError(f"faults.process.kill[{i}].block = {k.block}: expected below {n_blocks} "
                                 "(the run's blocks)")
        if len({(k.role, k.actor, k.block) for k in kills}) < len(kills):
            raise ValueError("faults.process.kill: the same actor killed twice at one block (each kill happens once)")
        per_actor = Counter((k.role, k.actor) for k in kills)
        (role, actor), n = per_actor.most_common(1)[0]
        if n > MAX_RESTARTS:
            raise ValueError(f"faults.process.kill: {n} kills of {role} actor {actor}: expected at most "
                             f"{MAX_RESTARTS} (its restarts)")

    def array_tel_ids(self) -> list[int]:
        """Telescope ids of the scenario's layout."""
        return [int(t["tel_id"]) for t in read_yaml(layout_path(self.array.layout))["telescopes"]]

    def source_zenith_deg(self, particle: ParticleConfig) -> float:
        """Zenith angle (deg) of a population's source (the view cone's axis): the pointing moved by
        ``source_offset_deg`` towards positive fov_lon, as ``ctasim.sim.source.ShowerSource`` does."""
        alt, _ = telescope_to_altaz(particle.source_offset_deg, 0.0, self.array.pointing.alt_deg,
                                    self.array.pointing.az_deg)
        return 90.0 - float(alt)

    def _point_sources(self) -> list[ParticleConfig]:
        return [p for p in self.particles if p.particle == "gamma" and p.viewcone_deg == 0 and p.source_offset_deg > 0]

    def realtime_config(self) -> RealTimeConfig:
        """The real-time analysis settings, the target offset resolved."""
        offset = self.alerts.target_offset_deg
        if offset is None:
            offset = self._point_sources()[0].source_offset_deg
        return RealTimeConfig(**self.alerts.model_dump(exclude={"enabled"}) | {"target_offset_deg": offset})

    def flares(self) -> list[dict[str, float]]:
        """Simulated time spans (s) of the injected flares: point-source gamma populations at the alert
        target that start after the run start (each lasts n_showers / rate_hz)."""
        target = self.realtime_config().target_offset_deg
        pops = {pop.name: pop for pop in self.populations()}
        return [{"population": p.name, "start_s": p.start_s,
                 "stop_s": p.start_s + pops[p.name].n_showers / pops[p.name].rate_hz}
                for p in self._point_sources() if p.start_s > 0 and abs(p.source_offset_deg - target) < 1e-9]

    def populations(self) -> list[Population]:
        """The particle populations to simulate, one observation id each (1, 2, ...); a population with
        ``rate_from_flux`` carries its flux's arrival rate (``ctasim.sim.source.arrival_rate_hz``)."""
        out = []
        for i, p in enumerate(self.particles):
            pop = Population(
                name=p.name, particle=p.particle, spectrum=p.spectrum.to_config(), n_showers=p.n_showers or 1,
                energy_min_tev=p.energy_min_tev, energy_max_tev=p.energy_max_tev,
                max_scatter_m=p.max_scatter_m, viewcone_deg=p.viewcone_deg,
                source_offset_deg=p.source_offset_deg, rate_hz=p.rate_hz or DEFAULT_RATE_HZ, obs_id=i + 1,
                start_s=p.start_s,
            )
            if p.rate_from_flux:
                rate = arrival_rate_hz(spectrum_from_config(pop.spectrum), pop, self.source_zenith_deg(p))
                pop = dataclasses.replace(pop, rate_hz=rate)
            if p.n_showers is None:  # validated: simulation.duration_s is set
                pop = dataclasses.replace(pop, n_showers=max(1, round(pop.rate_hz * self.simulation.duration_s)))
            out.append(pop)
        return out

    def without_faults(self) -> Scenario:
        """The same scenario and seed with no fault injected (the healthy comparison run)."""
        return self.model_copy(update={"faults": FaultsConfig()})

    def run_dir(self, override: str | Path | None = None) -> Path:
        return Path(override) if override else Path(self.output_dir.format(name=self.name))

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """sha256 of the resolved scenario, as recorded in provenance and summary.json."""
        return scenario_hash(self.to_dict())


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _lookup(data: Any, loc: tuple) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _validated(model: type[_M], data: Any, source: str, prefix: tuple = ()) -> _M:
    """``model`` validated from ``data``; the first problem raises a one-line ConfigError naming the
    file, the key path (below ``prefix``), the value and what was expected."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        loc = prefix + tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = e["msg"].removeprefix("Value error, ").replace("Input should be ", "")
        if e["type"] == "extra_forbidden":
            msg = "a known key (unknown keys are refused)"
        elif e["type"] == "missing":
            raise ConfigError(source, _format_loc(loc), None, "a value (required key is missing)") from None
        if not loc:  # a cross-check of several keys: the message names them, the value would be the whole file
            raise ConfigError.about(source, msg) from None
        value = e.get("input", _lookup(data, loc[len(prefix):]))
        raise ConfigError(source, _format_loc(loc), value, msg) from None


def dvr_variants(data: Any, source: str = "<variants>") -> list[ReductionConfig]:
    """The variants of a data-volume reduction study (``ctasim dvr``, ``ctasim.offline.dvr``): a list
    of mappings, each a unique ``name``, a ``base`` variant (raw, integrated or pixel_selection;
    default raw) and ``ReductionConfig`` field overrides (window_samples, gain_selection, integrate,
    pixel_selection, picture_threshold_pe, n_rings, codec, float_dtype, charge_coding, ...); the
    first is the reference. The first problem raises a one-line ConfigError."""
    if not isinstance(data, list) or not data:
        raise ConfigError(source, "<root>", data, "a non-empty list of variants (name, base, settings)")
    out, seen = [], set()
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ConfigError(source, f"[{i}]", item, "a mapping of name, base and settings")
        settings = dict(item)
        name, base = settings.pop("name", None), settings.pop("base", "raw")
        if not isinstance(name, str) or not SAFE_NAME.fullmatch(name) or name in seen:
            raise ConfigError(source, f"[{i}].name", name, "a folder-safe name no other variant uses")
        if base not in VARIANT_STEPS:
            raise ConfigError(source, f"[{i}].base", base, f"one of {', '.join(VARIANT_STEPS)}")
        if "variant" in settings:
            raise ConfigError(source, f"[{i}].variant", settings["variant"], "no 'variant' key: 'name' labels it")
        seen.add(name)
        out.append(_validated(ReductionConfig, {"variant": name, **VARIANT_STEPS[base], **settings}, source, (i,)))
    return out


def validate_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping; the first problem raises a one-line ConfigError."""
    return _validated(Scenario, data, source)


def irf_config(data: Any, source: str = "<irf>") -> IrfConfig:
    """Validate an ``irf`` section on its own (``ctasim irf`` on a run); one-line ConfigError."""
    return _validated(IrfConfig, data, source, ("irf",))


class PassChanges(_Model):
    """What a reprocessing pass (``ctasim reprocess``) changes: keys of the run's ``offline`` and ``irf``
    sections, replaced one by one; ``label`` names the pass in the report."""

    label: str | None = None
    description: str = ""
    offline: dict[str, Any] = Field(default_factory=dict)
    irf: dict[str, Any] = Field(default_factory=dict)

    _label = field_validator("label")(lambda v: v if v is None else _safe_name(v))


def pass_configs(run_scenario: dict[str, Any], changes: Any, source: str) -> tuple[PassChanges, OfflineConfig,
                                                                                      IrfConfig]:
    """(changes, offline, irf) of a reprocessing pass: the run's resolved scenario sections with the
    ``changes`` mapping's keys replaced, DL1 and DL2 always re-run; one-line ConfigError naming ``source``."""
    if not isinstance(changes, dict | None):
        raise ConfigError(source, "<root>", changes, "a mapping of label, description, offline, irf")
    parsed = _validated(PassChanges, changes or {}, source)
    offline = (run_scenario.get("offline") or {}) | parsed.offline | {"dl1": True, "dl2": True}
    irf = (run_scenario.get("irf") or {}) | parsed.irf
    return (parsed, _validated(OfflineConfig, offline, source, ("offline",)),
            _validated(IrfConfig, irf, source, ("irf",)))


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file, or the name of one shipped with ctasim (``quickstart``)."""
    path = Path(name_or_path)
    shipped = SCENARIO_DIR / f"{name_or_path}.yaml"
    return shipped if not path.exists() and path.suffix == "" and shipped.is_file() else path


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with ctasim."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario YAML file (or a shipped scenario by name), optionally with
    top-level overrides (e.g. seed)."""
    path = scenario_path(path)
    if not path.is_file():
        raise ConfigError(str(path), "<file>", str(path),
                          f"an existing scenario file or a shipped scenario ({', '.join(shipped_scenarios())})")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), "<root>", data, "a mapping of scenario keys")
    data = {**data, **(overrides or {})}
    return validate_scenario(data, str(path))

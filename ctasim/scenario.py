"""Scenario files: schema, loading and validation.

A scenario YAML says which array, which particles and how many, the trigger and reduction
settings, the offline stages, the output directory and the seed. It is validated before anything
starts: unknown keys and wrong values are refused with one line naming the file, the key path,
the value and what was expected (pydantic models with ``extra="forbid"``, as gammapy's
AnalysisConfig).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from .dl0.reduction import VARIANT_STEPS, ReductionConfig, Variant
from .errors import ConfigError, CtasimError
from .instrument.config import available_layouts, layout_path, read_yaml
from .instrument.frames import telescope_to_altaz
from .io.provenance import scenario_hash
from .irf.cuts import GAMMA_EFFICIENCIES
from .onsite.realtime import RealTimeConfig
from .paths import SCENARIO_DIR
from .science.regions import reflected_positions
from .sim.atmosphere import DEFAULT_EXTINCTION, Extinction
from .sim.source import Population, arrival_rate_hz, check_flux_geometry
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
    telescopes_per_actor: int = Field(1, ge=1, description="telescopes hosted by one camera actor")
    reducer_actors: int = Field(1, ge=1)
    max_blocks_in_flight: int = Field(4, ge=1, le=64)
    keep_r1: bool = False


class OfflineConfig(_Model):
    """Offline stages run after the on-site chain (ctasim.offline). ``models``: a directory of
    trained models; None trains them on a deterministic ``train_fraction`` of this run's events
    and evaluates on the rest."""

    dl1: bool = False
    dl2: bool = False
    models: str | None = None
    keep_images: bool | None = None
    train_fraction: float = Field(0.5, gt=0.0, lt=1.0)


class IrfConfig(_Model):
    """The IRF / DL3 stage after DL2 (``ctasim.offline.irf``): cuts, IRFs, 50 h sensitivity and DL3
    observations of the simulated source. ``gammaness_efficiency`` None optimises the gammaness cut
    per energy bin over ``gammaness_efficiencies`` (gamma efficiencies), among the cuts that leave at
    least ``min_background_events`` simulated background events in the FoV ring (the loosest where
    none does; 0 as pyirf); a value fixes it. ``spectral_fit``: also the DL4 on/off fit of the DL3
    observations (``ctasim.offline.science``)."""

    enabled: bool = False
    livetime_h: float = Field(0.5, gt=0.0, le=1000.0, description="DL3 livetime of all observations (h)")
    n_observations: int = Field(1, ge=1, le=100)
    bins_per_decade: int = Field(5, ge=1, le=20)
    gammaness_efficiencies: list[float] = Field(default_factory=lambda: GAMMA_EFFICIENCIES.tolist(), min_length=1)
    gammaness_efficiency: float | None = Field(None, gt=0.0, le=1.0)
    min_background_events: int = Field(5, ge=0, le=10_000)
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


class PixelFaults(_Model):
    """Pixel-level faults injected into the simulated cameras: dead and hot pixels, bright stars,
    non-uniform night-sky background; empty: healthy pixels."""


class TelescopeFaults(_Model):
    """Telescope-level faults: a broken telescope (no data, or garbage), a clock offset, a camera
    whose trigger rate runs away; empty: every telescope healthy."""


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
        self._check_kills()
        for i, p in enumerate(self.particles):
            if p.rate_from_flux:
                try:
                    check_flux_geometry(spectrum_from_config(p.spectrum.to_config()).diffuse, p.viewcone_deg,
                                        self.source_zenith_deg(p))
                except ValueError as err:
                    raise ValueError(f"particles[{i}].rate_from_flux: expected {err}") from None
        return self

    def _check_kills(self) -> None:
        """Every kill names an existing actor and block, at most MAX_RESTARTS per actor process."""
        kills = self.faults.process.kill
        if not kills:
            return
        n_blocks = sum(p.n_blocks(self.simulation.block_size) for p in self.populations())
        n_tels = len(self.array_tel_ids())
        actors = {"camera": -(-n_tels // self.execution.telescopes_per_actor),
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


def validate_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping; the first problem raises a one-line ConfigError."""
    return _validated(Scenario, data, source)


def irf_config(data: Any, source: str = "<irf>") -> IrfConfig:
    """Validate an ``irf`` section on its own (``ctasim irf`` on a run); one-line ConfigError."""
    return _validated(IrfConfig, data, source, ("irf",))


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

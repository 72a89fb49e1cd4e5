"""Real-time analysis (RTA): fast DL1/DL2 of archived DL0 blocks, a rolling significance, alerts.

Per block (``RealTimeAnalysis.analyse``): the on-site fast DL2 of its DL0 (``fast_reco.fast_dl2``:
calibration, cleaning, image parameters, stereo geometry with at least ``min_telescopes`` images
passing the quality cuts) and, with ``models`` (a directory of trained DL2 models, fixed for the
run), keep events with gammaness at least ``gammaness_cut``. On events lie within ``theta_cut_deg``
of the target, off events within the same radius of ``n_off`` positions reflected about the
pointing (alpha = 1 / their number).
An event's time is its earliest telescope trigger time (s since the run start).

Blocks arrive in the order of their simulated start time (the orchestrator's order), so once a
block starting at t has arrived every event before t has been seen: the significance is evaluated
up to t only (complete data), at every on and off event time and at t, as the signed Li & Ma
significance of the counts in the window (t - window_s, t]. An alert is raised the first time it
reaches ``threshold_sigma`` with at least ``min_on_events`` on events in the window; the next one
only after it has fallen below ``rearm_sigma``. ``finish`` evaluates the rest of the data.

The analysis is deterministic (no wall-clock time inside): its host meters the wall seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..datamodel.dl0 import EncodedBlock
from ..errors import ConfigError, CtasimError
from ..instrument.frames import telescope_to_altaz
from ..instrument.subarray import SubarrayDescription
from ..io.atomic import write_text_atomic
from ..offline.dl2 import load_models
from ..reco.metrics import angular_separation_deg
from ..reco.models import ParticleClassifier
from ..reco.stereo import StereoQualityCuts
from ..science.regions import reflected_positions
from ..science.significance import signed_li_ma
from .fast_reco import fast_dl2


class RealTimeConfig(BaseModel):
    """Settings of the real-time analysis (see the module docstring); angles in deg, times in s.
    ``target_offset_deg``: the target's offset from the pointing towards positive fov_lon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_offset_deg: float = Field(0.5, gt=0.0, le=5.0)
    theta_cut_deg: float = Field(0.25, gt=0.0, le=2.0)
    n_off: int = Field(3, ge=1, le=20)
    window_s: float = Field(60.0, gt=0.0)
    threshold_sigma: float = Field(5.0, gt=0.0)
    rearm_sigma: float = Field(3.0, ge=0.0)
    min_on_events: int = Field(10, ge=1)
    min_telescopes: int = Field(2, ge=2)
    models: str | None = None
    gammaness_cut: float = Field(0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _rearm_below_threshold(self) -> RealTimeConfig:
        if self.rearm_sigma >= self.threshold_sigma:
            raise ValueError(f"rearm_sigma ({self.rearm_sigma}) below threshold_sigma ({self.threshold_sigma})")
        return self


@dataclass
class BlockResult:
    """What one block gave: counts and the alerts it raised (dicts as in ``alerts.json``)."""

    n_events: int
    n_selected: int
    n_on: int
    n_off: int
    alerts: list[dict[str, Any]] = field(default_factory=list)


class RealTimeAnalysis:
    """Rolling on/off significance of the target for an array pointing at (alt, az) deg."""

    def __init__(self, subarray: SubarrayDescription, pointing: tuple[float, float],
                 config: RealTimeConfig, particle_model: ParticleClassifier | None = None) -> None:
        if config.models is not None and particle_model is None:
            raise ConfigError("alerts", "models", config.models, "a loaded gammaness model for that directory")
        self.subarray, self.config, self.particle_model = subarray, config, particle_model
        self.pointing = (float(pointing[0]), float(pointing[1]))
        alt, az = telescope_to_altaz(config.target_offset_deg, 0.0, *self.pointing)
        self.target = (float(alt), float(az))
        try:
            offs = reflected_positions(self.target[::-1], self.pointing[::-1], config.theta_cut_deg, config.n_off)
        except CtasimError as err:
            raise ConfigError("alerts", "theta_cut_deg", config.theta_cut_deg, str(err)) from None
        self.off_positions = [(lat, lon) for lon, lat in offs]  # (alt, az)
        self.alpha = 1.0 / len(self.off_positions)
        self.cuts = StereoQualityCuts(min_telescopes=config.min_telescopes)
        self.on_times: list[np.ndarray] = []
        self.off_times: list[np.ndarray] = []
        self.complete_until = -np.inf
        self.armed = True
        self.alerts: list[dict[str, Any]] = []
        self.light_curve: dict[str, list[float]] = {"time_s": [], "significance": [], "n_on": [], "n_off": []}
        self.totals = {"blocks": 0, "array_events": 0, "selected_events": 0, "on_events": 0, "off_events": 0}

    def analyse(self, blocks: Sequence[EncodedBlock], complete_until_s: float, label: str = "") -> BlockResult:
        """One archived block's DL0 (one EncodedBlock per telescope); every event before
        ``complete_until_s`` (s) has now been seen. ``label`` names the block in alert records."""
        time, alt, az, n_events = self._directions(blocks)
        sep_on = angular_separation_deg(alt, az, *self.target)
        on = sep_on <= self.config.theta_cut_deg
        off = np.zeros_like(on)
        for position in self.off_positions:
            off |= angular_separation_deg(alt, az, *position) <= self.config.theta_cut_deg
        self.on_times.append(time[on])
        self.off_times.append(time[off & ~on])
        t = self.totals
        t["blocks"] += 1
        t["array_events"] += n_events
        t["selected_events"] += int(time.size)
        t["on_events"] += int(on.sum())
        t["off_events"] += int((off & ~on).sum())
        alerts = self._evaluate(float(complete_until_s), label)
        return BlockResult(n_events, int(time.size), int(on.sum()), int((off & ~on).sum()), alerts)

    def finish(self) -> list[dict[str, Any]]:
        """Evaluate the data after the last block's start; returns the alerts raised."""
        times = np.concatenate(self.on_times + self.off_times + [np.empty(0)])
        later = times[times > self.complete_until]
        return self._evaluate(float(later.max()), "end of run") if later.size else []

    def summary(self) -> dict[str, Any]:
        """The JSON-friendly ``alerts`` section: settings, alerts, light curve, totals."""
        return {
            "config": self.config.model_dump(mode="json"),
            "target_altaz_deg": list(self.target),
            "off_positions_altaz_deg": [list(p) for p in self.off_positions],
            "alpha": self.alpha,
            "threshold_sigma": self.config.threshold_sigma,
            "rearm_sigma": self.config.rearm_sigma,
            "window_s": self.config.window_s,
            "n_alerts": len(self.alerts),
            "alerts": [dict(a) for a in self.alerts],
            "light_curve": dict(self.light_curve, alpha=self.alpha),
            "totals": dict(self.totals),
        }

    def _directions(self, blocks: Sequence[EncodedBlock]) -> tuple[np.ndarray, ...]:
        """(time s, reco alt, reco az deg) of the selected events of a block, and its array events."""
        dl2 = fast_dl2(blocks, self.subarray, self.pointing, self.cuts, self.particle_model)
        keep = dl2.is_valid
        if self.particle_model is not None:
            keep &= dl2.gammaness >= self.config.gammaness_cut
        return dl2.time[keep], dl2.reco_alt[keep], dl2.reco_az[keep], dl2.n_events

    def _evaluate(self, until: float, label: str) -> list[dict[str, Any]]:
        """Significance at every on / off event time in (complete_until, until] and at ``until``."""
        if until <= self.complete_until:
            return []
        on, off = np.sort(np.concatenate(self.on_times)), np.sort(np.concatenate(self.off_times))
        w = self.config.window_s
        new = np.concatenate([on, off])
        times = np.unique(np.append(new[(new > self.complete_until) & (new <= until)], until))
        n_on = np.searchsorted(on, times, "right") - np.searchsorted(on, times - w, "right")
        n_off = np.searchsorted(off, times, "right") - np.searchsorted(off, times - w, "right")
        sig = signed_li_ma(n_on.astype(float), n_off.astype(float), self.alpha)
        raised = []
        for t, s, a, b in zip(times.tolist(), sig.tolist(), n_on.tolist(), n_off.tolist()):
            if self.armed and s >= self.config.threshold_sigma and a >= self.config.min_on_events:
                self.armed = False
                raised.append({"alert_id": len(self.alerts) + len(raised) + 1, "sim_time_s": t, "significance": s,
                               "n_on": a, "n_off": b, "alpha": self.alpha, "excess": a - self.alpha * b,
                               "window_s": w, "data_complete_until_s": until, "block": label})
            elif not self.armed and s < self.config.rearm_sigma:
                self.armed = True
        self.alerts += raised
        lc = self.light_curve
        lc["time_s"].append(until)
        lc["significance"].append(float(sig[-1]))
        lc["n_on"].append(int(n_on[-1]))
        lc["n_off"].append(int(n_off[-1]))
        self.complete_until = until
        self.on_times = [on[on > until - w]]
        self.off_times = [off[off > until - w]]
        return raised


def load_particle_model(config: RealTimeConfig, subarray: SubarrayDescription) -> ParticleClassifier | None:
    """The fixed gammaness model of ``config.models`` (None without); DataFileError when unusable."""
    if config.models is None:
        return None
    return load_models(config.models, set(subarray.tel_type_names)).particle


def write_alert(alert_dir: Path, alert: dict[str, Any]) -> Path:
    """``alert_dir/alert_NNNN.json`` of one alert record, written atomically."""
    alert_dir.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(alert_dir / f"alert_{alert['alert_id']:04d}.json", json.dumps(alert, indent=2) + "\n")


def realtime_timing(block_wall_s: Sequence[float], block_start_s: Sequence[float], block_span_s: Sequence[float],
                    array_events: int) -> dict[str, Any]:
    """Whether the analysis keeps up: its wall seconds per block beside each block's simulated span,
    and in total beside the simulated time the blocks cover (s)."""
    wall, start, span = (np.asarray(v, float) for v in (block_wall_s, block_start_s, block_span_s))
    if wall.size == 0:
        return {"blocks": 0, "keeps_up": None}
    covered = float((start + span).max() - start.min())
    return {
        "blocks": int(wall.size),
        "wall_s": float(wall.sum()),
        "simulated_s": covered,
        "keeps_up": bool(wall.sum() < covered),
        "block_wall_s_median": float(np.median(wall)),
        "block_wall_s_max": float(wall.max()),
        "block_span_s_median": float(np.median(span)),
        "blocks_slower_than_their_span": int((wall > span).sum()),
        "array_events_per_wall_s": array_events / float(wall.sum()) if wall.sum() > 0 else None,
    }


def alerts_section(analysis: dict[str, Any], flares: Sequence[dict[str, float]]) -> dict[str, Any]:
    """The ``alerts`` section of summary.json: the analysis summary with the injected ``flares``
    (simulated spans, s) and each alert's simulated latency after the start of the flare it
    follows (None for an alert before any flare: a false alarm)."""
    out = dict(analysis, flares=[dict(f) for f in flares])
    for alert in out["alerts"]:
        started = [f for f in flares if f["start_s"] <= alert["sim_time_s"]]
        flare = max(started, key=lambda f: f["start_s"]) if started else None
        alert["flare"] = None if flare is None else flare["population"]
        alert["latency_sim_s"] = None if flare is None else alert["sim_time_s"] - flare["start_s"]
    return out

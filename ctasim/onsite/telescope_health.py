"""Telescope health from the archived data alone: silent cameras, runaway trigger rates, clock
offsets and garbage data, each telescope compared with its peers (the other telescopes of its type).

Read from each stream's DL0 archive: the camera trigger-rate and pedestal tables (technical data)
and every camera trigger's time (``/dl0/event/telescope/trigger``); the simulation truth is not used.

- ``silent``: no camera trigger where its peers' median count is at least ``SILENT_MIN_EXPECTED``
  (Poisson probability of none below 5e-5);
- ``rate_anomaly``: more than ``RATE_FACTOR`` x its peers' median count and ``RATE_SIGMA`` Poisson
  sigma above it;
- ``clock_offset``: the median time from its triggers to the nearest trigger of another telescope
  (within ``CLOCK_SEARCH_NS``, after the pointing-dependent delays are compensated, as the central
  trigger does) is more than ``CLOCK_TOLERANCE_NS`` from zero over at least ``MIN_PAIRS`` pairs; or,
  with a normal rate, the fraction of its triggers with such a neighbour is below
  ``ISOLATED_FRACTION`` x its peers' median (it never coincides);
- ``garbage``: pedestal mean or std (camera average, ADC) more than ``PEDESTAL_FACTOR`` x away from
  its peers' median, either way.

Counts are summed over streams (each its own timeline); rates are counts / the stream's simulated
seconds, summed over streams. A figure that cannot be measured (no pedestal rows, no peers) is None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..array_trigger import pointing_delays
from ..datamodel import paths
from ..io.archive import DL0ArchiveReader

SILENT_MIN_EXPECTED = 10.0
RATE_FACTOR = 3.0
RATE_SIGMA = 5.0
CLOCK_SEARCH_NS = 5000.0
CLOCK_TOLERANCE_NS = 30.0
MIN_PAIRS = 10
ISOLATED_FRACTION = 0.2
PEDESTAL_FACTOR = 3.0

CRITERIA = {"silent_min_expected_triggers": SILENT_MIN_EXPECTED, "rate_factor": RATE_FACTOR,
            "rate_sigma": RATE_SIGMA, "clock_search_ns": CLOCK_SEARCH_NS, "clock_tolerance_ns": CLOCK_TOLERANCE_NS,
            "clock_min_pairs": MIN_PAIRS, "isolated_fraction": ISOLATED_FRACTION, "pedestal_factor": PEDESTAL_FACTOR}


def nearest_peer_dt_ns(tel_id: np.ndarray, time_s: np.ndarray, tel: int) -> np.ndarray:
    """Time (ns) from each trigger of telescope ``tel`` to the nearest trigger of any other telescope
    (delay-compensated times of one stream, s); triggers with none within ``CLOCK_SEARCH_NS`` left out."""
    mine = tel_id == tel
    other = np.sort(time_s[~mine])
    t = time_s[mine]
    if not other.size or not t.size:
        return np.empty(0)
    pos = np.searchsorted(other, t)
    before = other[np.maximum(pos - 1, 0)]
    after = other[np.minimum(pos, other.size - 1)]
    nearest = np.where(np.abs(t - before) <= np.abs(after - t), before, after)
    dt = (t - nearest) * 1e9
    return dt[np.abs(dt) <= CLOCK_SEARCH_NS]


def _peer_median(values: Mapping[int, float | None], tel: int, peers: Sequence[int]) -> float | None:
    vals = [values[p] for p in peers if p != tel and values.get(p) is not None]
    return float(np.median(vals)) if vals else None


def measure(files: Sequence[str | Path], stream_seconds: Mapping[str, float],
            pointing: tuple[float, float]) -> dict[int, dict[str, Any]]:
    """Per tel_id: ``type``, ``n_triggers``, ``n_read_out``, ``trigger_rate_hz``, ``pedestal_mean_adc``,
    ``pedestal_std_adc`` (None without pedestal rows), ``peer_dt_ns`` (array), ``n_triggers_in_table``."""
    out: dict[int, dict[str, Any]] = {}
    for path in files:
        with DL0ArchiveReader(path) as reader:
            sub = reader.subarray
            stream = str(reader.provenance.get("stream", ""))
            seconds = float(stream_seconds.get(stream, 0.0))
            tel_ids = [int(t) for t in sub.tel_ids]
            types = dict(zip(tel_ids, sub.size_classes().tolist()))
            for tel in tel_ids:
                entry = out.setdefault(tel, {"type": types[tel], "n_triggers": 0, "n_read_out": 0,
                                             "trigger_rate_hz": 0.0, "pedestal": [], "peer_dt_ns": [],
                                             "n_triggers_in_table": 0})
                rate_path = paths.tel_table_path(paths.DL0_MONITORING_TRIGGER_RATES, tel)
                if reader.has_table(rate_path):
                    rows, _ = reader.read_table(rate_path)
                    n = int(rows["n_triggers"].sum())
                    entry["n_triggers"] += n
                    entry["n_read_out"] += int(rows["n_read_out"].sum())
                    entry["trigger_rate_hz"] += n / seconds if seconds > 0 else 0.0
                ped_path = paths.tel_table_path(paths.DL0_MONITORING_PEDESTAL, tel)
                if reader.has_table(ped_path):
                    rows, _ = reader.read_table(ped_path)
                    entry["pedestal"].append(rows[["pedestal_mean_adc", "pedestal_std_adc"]])
            if reader.has_table(paths.DL0_TELESCOPE_TRIGGER):
                trig, _ = reader.read_table(paths.DL0_TELESCOPE_TRIGGER)
                delays = dict(zip(tel_ids, pointing_delays(sub.positions, *pointing).tolist()))
                t = trig["trigger_time"] - np.array([delays[int(x)] for x in trig["tel_id"]])
                for tel in tel_ids:
                    out[tel]["peer_dt_ns"].append(nearest_peer_dt_ns(trig["tel_id"], t, tel))
                    out[tel]["n_triggers_in_table"] += int((trig["tel_id"] == tel).sum())
    for entry in out.values():
        ped = np.concatenate(entry.pop("pedestal")) if entry["pedestal"] else None
        entry["pedestal_mean_adc"] = float(ped["pedestal_mean_adc"].mean()) if ped is not None else None
        entry["pedestal_std_adc"] = float(ped["pedestal_std_adc"].mean()) if ped is not None else None
        entry["peer_dt_ns"] = np.concatenate(entry["peer_dt_ns"]) if entry["peer_dt_ns"] else np.empty(0)
    return out


def assess(measured: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """Flags from ``measure``'s figures: ``telescopes`` (per ``tel_NNN``: the figures, the peers'
    medians and the telescope's ``flags``) and ``flags`` (a list of ``tel_id``, ``flag``, ``reason``)."""
    by_type: dict[str, list[int]] = {}
    for tel, m in measured.items():
        by_type.setdefault(m["type"], []).append(tel)
    counts = {t: float(m["n_triggers"]) for t, m in measured.items()}
    fraction = {t: m["peer_dt_ns"].size / m["n_triggers_in_table"] if m["n_triggers_in_table"] else None
                for t, m in measured.items()}
    ped_mean = {t: m["pedestal_mean_adc"] for t, m in measured.items()}
    ped_std = {t: m["pedestal_std_adc"] for t, m in measured.items()}
    telescopes, flags = {}, []
    for tel in sorted(measured):
        m = measured[tel]
        peers = by_type[m["type"]]
        dt = m["peer_dt_ns"]
        fig = {
            "tel_id": tel, "type": m["type"], "n_triggers": m["n_triggers"], "n_read_out": m["n_read_out"],
            "trigger_rate_hz": m["trigger_rate_hz"], "peers_median_triggers": _peer_median(counts, tel, peers),
            "pedestal_mean_adc": m["pedestal_mean_adc"], "pedestal_std_adc": m["pedestal_std_adc"],
            "peers_median_pedestal_mean_adc": _peer_median(ped_mean, tel, peers),
            "peers_median_pedestal_std_adc": _peer_median(ped_std, tel, peers),
            "n_peer_pairs": int(dt.size), "peer_dt_median_ns": float(np.median(dt)) if dt.size else None,
            "peer_fraction": fraction[tel], "peers_median_peer_fraction": _peer_median(fraction, tel, peers),
        }
        reasons = _flags(fig)
        fig["flags"] = sorted(reasons)
        telescopes[paths.tel_table_name(tel)] = fig
        flags += [{"tel_id": tel, "flag": f, "reason": r} for f, r in sorted(reasons.items())]
    return {"criteria": CRITERIA, "telescopes": telescopes, "flags": flags}


def _flags(fig: Mapping[str, Any]) -> dict[str, str]:
    """The flags of one telescope's figures, each with its reason in words."""
    out = {}
    n, mu = fig["n_triggers"], fig["peers_median_triggers"]
    if mu is not None and n == 0 and mu >= SILENT_MIN_EXPECTED:
        out["silent"] = f"no camera trigger where its peers' median is {mu:.0f}"
    runaway = mu is not None and mu > 0 and n > RATE_FACTOR * mu and (n - mu) / np.sqrt(mu) > RATE_SIGMA
    if runaway:
        out["rate_anomaly"] = (f"{n} camera triggers, {n / mu:.1f} x its peers' median {mu:.0f} "
                               f"({(n - mu) / np.sqrt(mu):.0f} sigma)")
    median_dt = fig["peer_dt_median_ns"]
    if median_dt is not None and fig["n_peer_pairs"] >= MIN_PAIRS and abs(median_dt) > CLOCK_TOLERANCE_NS:
        out["clock_offset"] = (f"median time to the nearest other telescope's trigger {median_dt:.0f} ns "
                               f"over {fig['n_peer_pairs']} pairs")
    frac, peers_frac = fig["peer_fraction"], fig["peers_median_peer_fraction"]
    if (not runaway and "clock_offset" not in out and frac is not None and peers_frac
            and n >= SILENT_MIN_EXPECTED and frac < ISOLATED_FRACTION * peers_frac):
        out["clock_offset"] = (f"never coincides: {100 * frac:.1f} % of its triggers have another telescope's "
                               f"within {CLOCK_SEARCH_NS:.0f} ns (peers' median {100 * peers_frac:.0f} %)")
    for key in ("mean", "std"):
        value, ref = fig[f"pedestal_{key}_adc"], fig[f"peers_median_pedestal_{key}_adc"]
        if value is not None and ref and ref > 0 and not 1 / PEDESTAL_FACTOR <= value / ref <= PEDESTAL_FACTOR:
            out["garbage"] = (f"pedestal {key} {value:.3g} ADC, {value / ref:.2g} x its peers' median {ref:.3g}")
            break
    return out


def telescope_health(files: Sequence[str | Path], stream_seconds: Mapping[str, float],
                     pointing: tuple[float, float]) -> dict[str, Any]:
    """``assess(measure(...))`` of a run's DL0 archives (``stream_seconds``: summary ``rates.streams``
    seconds; ``pointing`` (alt, az) deg)."""
    return assess(measure(files, stream_seconds, pointing))

"""Observations of a simulated source: the events passing the cuts, drawn from the weighted
simulation for a given livetime.

Input: the IRF event table (``events.event_table``) of every population with a ``weight`` column
in expected events per second of livetime (``weights.event_weights`` for ``PER_SECOND``): gammas
from the source weighted to its spectrum, protons and electrons to the cosmic-ray spectra. After
the gammaness cut an observation of livetime T holds each simulated event n times, n ~ Poisson(weight
x T), drawn with the generator of (seed, stream, obs_id) (``ctasim.rng.block_rng``), at arrival times
uniform within its single good time interval, so counts follow the livetime. An event drawn more
than once repeats its reconstructed values: the draw is never finer than the simulation. Every
drawn event keeps the ids of the simulated event it comes from (``sim_obs_id``, ``sim_event_id``).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import astropy.units as u
import numpy as np
from astropy.table import QTable, vstack

from ..errors import CtasimError
from ..io.gadf import DL3Observation
from ..rng import block_rng
from .cuts import evaluate_cut
from .events import require_columns
from .weights import positive_livetime

#: the livetime of weights "per second": ``event_weights(..., PER_SECOND)``
PER_SECOND = 1 * u.s
STREAM = "dl3"
REQUIRED_COLUMNS = ("obs_id", "event_id", "true_shower_primary_id", "true_energy", "reco_energy", "reco_alt",
                    "reco_az", "pointing_alt", "pointing_az", "gammaness", "weight")
#: columns an observation's events take from the simulated events (multiplicity when all populations have it)
DRAWN_COLUMNS = ("reco_energy", "reco_alt", "reco_az", "gammaness", "multiplicity", "true_energy",
                 "true_shower_primary_id")
#: pointings of the populations must agree to this (deg)
POINTING_TOLERANCE = 1e-9


def select_events(populations: Sequence[QTable], gammaness_cuts: QTable) -> QTable:
    """The events of all ``populations`` that pass ``gammaness_cuts`` (a cut table of ``cuts``: keep
    gammaness >= cut of the reconstructed-energy bin; events outside its bins fail), in one table.
    CtasimError for missing columns, bad weights, differing pointings or an empty selection."""
    if not populations:
        raise CtasimError("observation: no populations given")
    for i, table in enumerate(populations):
        require_columns(table, REQUIRED_COLUMNS, f"observation: population {i}")
    columns = list(REQUIRED_COLUMNS)
    if all("multiplicity" in table.colnames for table in populations):
        columns.append("multiplicity")
    stacked = vstack([QTable({name: table[name] for name in columns}) for table in populations])
    weight = np.asarray(stacked["weight"], np.float64)
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise CtasimError(f"observation: {np.count_nonzero(~(weight >= 0))} event weight(s) negative or not finite")
    passed = evaluate_cut(stacked["gammaness"], stacked["reco_energy"], gammaness_cuts, operator.ge) & (weight > 0)
    selected = stacked[passed]
    if len(selected) == 0:
        raise CtasimError("observation: no simulated event with a weight passes the gammaness cuts (empty selection)")
    for name in ("pointing_alt", "pointing_az"):
        values = u.Quantity(selected[name]).to_value(u.deg)
        if np.ptp(values) > POINTING_TOLERANCE:
            raise CtasimError(f"observation: the populations differ in {name} ({values.min()} - {values.max()} deg)")
    return selected


def expected_counts(selected: QTable, livetime: u.Quantity) -> dict[int, float]:
    """Expected events in ``livetime`` per true primary (CORSIKA id): sum of weight x livetime."""
    t = positive_livetime(livetime).to_value(u.s)
    primary = np.asarray(selected["true_shower_primary_id"])
    weight = np.asarray(selected["weight"], np.float64)
    return {int(p): float(weight[primary == p].sum() * t) for p in np.unique(primary)}


def draw_observation(selected: QTable, obs_id: int, livetime: u.Quantity, seed: int, t_start: u.Quantity = 0 * u.s,
                     deadc: float = 1.0, stream: str = STREAM) -> DL3Observation:
    """One observation of ``livetime`` from ``select_events`` output, starting ``t_start`` after the
    run epoch; its good time is livetime / deadc. Drawing no event gives an empty observation
    (``is_empty``), not an error."""
    t = positive_livetime(livetime).to_value(u.s)
    if not 0 < deadc <= 1:
        raise CtasimError(f"observation {obs_id}: deadc = {deadc}: expected 0 < deadc <= 1")
    start = u.Quantity(t_start, u.s).to_value(u.s)
    ontime = t / deadc
    rng = block_rng(seed, stream, obs_id)
    counts = rng.poisson(np.asarray(selected["weight"], np.float64) * t)
    index = np.repeat(np.arange(len(selected)), counts)
    times = start + ontime * rng.random(index.size)
    order = np.argsort(times, kind="stable")
    index, times = index[order], times[order]
    events = QTable()
    events["obs_id"] = np.full(index.size, obs_id, np.int32)
    events["event_id"] = np.arange(1, index.size + 1, dtype=np.int64)
    events["time"] = times * u.s
    for name in DRAWN_COLUMNS:
        if name in selected.colnames:
            events[name] = selected[name][index]
    events["sim_obs_id"], events["sim_event_id"] = selected["obs_id"][index], selected["event_id"][index]
    return DL3Observation(obs_id=int(obs_id), t_start=start, t_stop=start + ontime, livetime=t,
                          pointing_alt=float(u.Quantity(selected["pointing_alt"][0]).to_value(u.deg)),
                          pointing_az=float(u.Quantity(selected["pointing_az"][0]).to_value(u.deg)), events=events)


def draw_observations(populations: Sequence[QTable], gammaness_cuts: QTable, livetimes: u.Quantity, seed: int,
                      first_obs_id: int = 1, t_start: u.Quantity = 0 * u.s, deadc: float = 1.0,
                      stream: str = STREAM) -> list[DL3Observation]:
    """Consecutive observations, one per entry of ``livetimes`` (a time or an array of times), with
    obs_ids from ``first_obs_id``, the first starting ``t_start`` after the run epoch."""
    selected = select_events(populations, gammaness_cuts)
    observations = []
    start = u.Quantity(t_start, u.s)
    for k, livetime in enumerate(np.atleast_1d(u.Quantity(livetimes))):
        obs = draw_observation(selected, first_obs_id + k, livetime, seed, start, deadc, stream)
        observations.append(obs)
        start = obs.t_stop * u.s
    return observations

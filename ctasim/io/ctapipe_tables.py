"""The tables ctapipe's ``TableLoader`` needs beside ctasim's own, built from the tables a file holds.

TableLoader joins tables row by row with the array trigger ``/dl1/event/subarray/trigger``, so
each of these has one row per trigger row (or per telescope event), in trigger order:

- DL1 (``write_dl1_index``): ``/dl1/event/telescope/trigger`` (obs_id, event_id, tel_id of every
  telescope event with parameters, event by event, telescopes ascending) and
  ``/simulation/event/subarray/shower`` (the simulated shower of every triggered event, when the
  file holds the simulated showers: their columns but ``time``, which the trigger table has);
- DL2 (``write_dl2_groups``): ``/dl2/event/subarray/{geometry,energy,classification}/<algorithm>``
  (algorithm names in ``ctasim.datamodel.dl2``) with ctapipe's columns ``<algorithm>_<field>``:
  geometry alt, az (deg), core_x, core_y (m), h_max (m a.s.l.) of the plane intersection
  (HillasReconstructor) and alt, az of the disp direction (DispReconstructor, the event direction
  of the flat table); energy (TeV); classification
  prediction (gammaness); each with is_valid and telescopes (bool per layout row: the telescopes
  whose images the event's reconstruction used, i.e. that have a per-telescope estimate). A
  triggered event without a DL2 row is not valid (NaN values).
"""

from __future__ import annotations

from collections.abc import Sequence

import h5py
import numpy as np

from ..datamodel import paths
from ..datamodel.dl2 import (
    CLASSIFICATION_ALGORITHM,
    DISP_ALGORITHM,
    DL2_EVENT_UNITS,
    ENERGY_ALGORITHM,
    GEOMETRY_ALGORITHM,
)
from ..datamodel.ids import TELESCOPE_EVENT_COLUMNS, match_events
from ..errors import DataFileError
from ..instrument.subarray import SubarrayDescription
from .tables import read_table, write_table

#: ctapipe's DL2 groups: (group, algorithm, {ctapipe field: flat DL2 column})
DL2_GROUPS = (
    (paths.DL2_SUBARRAY_GEOMETRY, GEOMETRY_ALGORITHM,
     {"alt": "hillas_alt", "az": "hillas_az", "core_x": "reco_core_x", "core_y": "reco_core_y", "h_max": "reco_h_max"}),
    (paths.DL2_SUBARRAY_GEOMETRY, DISP_ALGORITHM, {"alt": "reco_alt", "az": "reco_az"}),
    (paths.DL2_SUBARRAY_ENERGY, ENERGY_ALGORITHM, {"energy": "reco_energy"}),
    (paths.DL2_SUBARRAY_CLASSIFICATION, CLASSIFICATION_ALGORITHM, {"prediction": "gammaness"}),
)
_IDS = ["obs_id", "event_id"]


def _trigger(h5: h5py.Group) -> np.ndarray:
    return h5[paths.DL1_SUBARRAY_TRIGGER].fields(_IDS)[()]


def _rows_of(obs_id: np.ndarray, event_id: np.ndarray, table: np.ndarray, what: str, h5: h5py.Group) -> np.ndarray:
    try:
        return match_events(obs_id, event_id, table)
    except ValueError as err:
        raise DataFileError(f"{h5.file.filename}: {what}: {err}") from None


def _select(rows: np.ndarray, columns: list[str]) -> np.ndarray:
    out = np.zeros(rows.size, [(c, rows.dtype[c]) for c in columns])
    for c in columns:
        out[c] = rows[c]
    return out


def write_dl1_index(h5: h5py.Group, tel_events: Sequence[np.ndarray]) -> None:
    """Write ctapipe's telescope-event index and triggered-shower table of a DL1 file from the ids
    (obs_id, event_id, tel_id) of its parameter rows, its array trigger and simulated showers (see
    the module docstring); nothing without an array trigger table."""
    if paths.DL1_SUBARRAY_TRIGGER not in h5:
        return
    trigger = _trigger(h5)
    tel_events = np.concatenate([np.zeros(0, TELESCOPE_EVENT_COLUMNS), *tel_events]).astype(TELESCOPE_EVENT_COLUMNS)
    position = _rows_of(tel_events["obs_id"], tel_events["event_id"], trigger, "telescope event not triggered", h5)
    write_table(h5, paths.DL1_TELESCOPE_TRIGGER, tel_events[np.lexsort((tel_events["tel_id"], position))])
    if paths.SIMULATION_SHOWER in h5:
        showers, units = read_table(h5, paths.SIMULATION_SHOWER)
        rows = _rows_of(trigger["obs_id"], trigger["event_id"], showers, "triggered event without a shower", h5)
        columns = [n for n in showers.dtype.names if n != "time"]  # the trigger table has the time
        write_table(h5, paths.SIMULATION_TRIGGERED_SHOWER, _select(showers[rows], columns),
                    {c: u for c, u in units.items() if c in columns})


def write_dl2_groups(h5: h5py.Group, events: np.ndarray, tel_rows: np.ndarray, subarray: SubarrayDescription) -> None:
    """Write ctapipe's DL2 groups of a DL2 file from its flat ``events`` and per-telescope
    ``tel_rows`` (``ctasim.datamodel.dl2``), aligned with the file's array trigger table."""
    trigger = _trigger(h5)
    row = _rows_of(events["obs_id"], events["event_id"], trigger, "DL2 event not triggered", h5)
    used = np.zeros((trigger.size, subarray.n_tels), bool)
    has_estimate = np.isfinite(tel_rows["reco_energy_tel"])
    tel_index = subarray.tel_indices(tel_rows["tel_id"])
    tel_event = _rows_of(tel_rows["obs_id"], tel_rows["event_id"], trigger, "DL2 telescope row not triggered", h5)
    used[tel_event[has_estimate], tel_index[has_estimate]] = True
    for group, algorithm, fields in DL2_GROUPS:
        columns = [(f"{algorithm}_{f}", "f8") for f in fields]
        dtype = np.dtype(trigger.dtype.descr + columns
                         + [(f"{algorithm}_is_valid", "?"), (f"{algorithm}_telescopes", "?", (subarray.n_tels,))])
        out = np.zeros(trigger.size, dtype)
        out["obs_id"], out["event_id"] = trigger["obs_id"], trigger["event_id"]
        valid = np.zeros(trigger.size, bool)
        valid[row] = events["is_valid"]
        for field, flat in fields.items():
            out[f"{algorithm}_{field}"] = np.nan
            out[f"{algorithm}_{field}"][row] = events[flat]
            valid &= np.isfinite(out[f"{algorithm}_{field}"])
        out[f"{algorithm}_is_valid"] = valid
        out[f"{algorithm}_telescopes"] = used & valid[:, None]
        units = {f"{algorithm}_{f}": DL2_EVENT_UNITS[flat] for f, flat in fields.items() if flat in DL2_EVENT_UNITS}
        write_table(h5, f"{group}/{algorithm}", out, units)

"""The IRF event table: ctasim DL2 event rows as an astropy QTable with pyirf's column names.

Columns (units): obs_id, event_id, true_shower_primary_id, true_energy and reco_energy (TeV),
true_alt, true_az, reco_alt, reco_az, pointing_alt, pointing_az (deg), true_source_fov_offset and
reco_source_fov_offset (deg, true / reconstructed direction to the pointing), theta (deg,
reconstructed direction to the assumed source: each event's true direction unless a source
position is given), gammaness and multiplicity (when the rows carry it). Only rows with
``is_valid`` are kept: the simulated totals come from the bookkeeping (``weights``), not from
here. Angles are exact great-circle separations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import astropy.units as u
import numpy as np
from astropy.table import QTable, Table

from ..datamodel.dl2 import DL2_EVENT_UNITS
from ..errors import CtasimError
from ..reco.metrics import angular_separation_deg

#: DL2 columns the table is built from (``ctasim.datamodel.dl2.DL2_EVENT_TRUE_DTYPE``)
DL2_COLUMNS = (
    "obs_id", "event_id", "true_shower_primary_id", "is_valid", "true_energy", "reco_energy", "true_alt",
    "true_az", "reco_alt", "reco_az", "pointing_alt", "pointing_az", "gammaness",
)
FLOAT_COLUMNS = ("true_energy", "reco_energy", "true_alt", "true_az", "reco_alt", "reco_az", "pointing_alt",
                 "pointing_az", "gammaness")

DL2Rows = np.ndarray | Table | Mapping[str, np.ndarray]


def column_names(rows: DL2Rows) -> list[str]:
    """Column names of a structured array, an astropy table or a mapping of columns."""
    if isinstance(rows, np.ndarray):
        return list(rows.dtype.names or ())
    if isinstance(rows, Table):
        return list(rows.colnames)
    return list(rows.keys())


def require_columns(table: DL2Rows, columns: Iterable[str], what: str) -> None:
    """CtasimError naming the missing columns unless ``table`` has all ``columns``."""
    missing = [c for c in columns if c not in column_names(table)]
    if missing:
        raise CtasimError(f"{what}: event table lacks column(s) {', '.join(missing)}")


def event_table(rows: DL2Rows, source_alt: u.Quantity | None = None, source_az: u.Quantity | None = None) -> QTable:
    """The IRF event table of DL2 event rows (with truth) that have ``is_valid``.

    ``rows``: a ``DL2_EVENT_TRUE_DTYPE`` structured array, a table or a mapping of columns (plain
    values in the data model's units, or Quantities). ``source_alt``/``source_az``: the assumed
    source position for ``theta`` (e.g. the source of a wobble observation); by default each
    event's true direction. Raises CtasimError for missing columns or non-finite values in valid
    rows."""
    require_columns(rows, DL2_COLUMNS, "DL2 events")
    if (source_alt is None) != (source_az is None):
        raise CtasimError("event table: give both source_alt and source_az, or neither")
    valid = np.asarray(_values(rows, "is_valid"), bool)
    table = QTable()
    for name in ("obs_id", "event_id", "true_shower_primary_id"):
        table[name] = np.asarray(_values(rows, name))[valid]
    for name in FLOAT_COLUMNS:
        unit = DL2_EVENT_UNITS.get(name)
        values = np.asarray(_values(rows, name, unit), np.float64)[valid]
        bad = ~np.isfinite(values)
        if bad.any():
            raise CtasimError(f"DL2 events: {bad.sum()} valid event(s) with a non-finite {name}")
        table[name] = values * u.Unit(unit) if unit else values
    if "multiplicity" in column_names(rows):
        table["multiplicity"] = np.asarray(_values(rows, "multiplicity"))[valid]
    deg = u.deg
    pointing = (table["pointing_alt"].to_value(deg), table["pointing_az"].to_value(deg))
    true = (table["true_alt"].to_value(deg), table["true_az"].to_value(deg))
    reco = (table["reco_alt"].to_value(deg), table["reco_az"].to_value(deg))
    table["true_source_fov_offset"] = angular_separation_deg(*true, *pointing) * deg
    table["reco_source_fov_offset"] = angular_separation_deg(*reco, *pointing) * deg
    source = true if source_alt is None else (source_alt.to_value(deg), source_az.to_value(deg))
    table["theta"] = angular_separation_deg(*reco, *source) * deg
    return table


def _values(rows: DL2Rows, name: str, unit: str | None = None) -> np.ndarray:
    """A column as plain values, converted to ``unit`` when it carries one."""
    column = rows[name]
    if unit is not None and getattr(column, "unit", None) is not None:
        return u.Quantity(column).to_value(unit)
    return np.asarray(column)

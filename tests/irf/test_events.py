"""The IRF event table built from ctasim DL2 rows: columns, units, exact angles, bad input."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import angular_separation
from astropy.table import QTable

from ctasim.datamodel.dl2 import DL2_EVENT_TRUE_DTYPE
from ctasim.errors import CtasimError
from ctasim.irf.events import event_table


def rows(n=3):
    r = np.zeros(n, DL2_EVENT_TRUE_DTYPE)
    r["obs_id"], r["event_id"], r["is_valid"] = 1, np.arange(n) + 1, True
    r["pointing_alt"], r["pointing_az"] = 70.0, 10.0
    r["true_alt"], r["true_az"] = 70.0, 10.0
    r["reco_alt"], r["reco_az"] = 70.1, 10.0
    r["true_energy"], r["reco_energy"], r["gammaness"] = 1.0, 1.2, 0.9
    r["multiplicity"] = 3
    return r


def test_columns_units_and_offsets_of_a_known_event():
    table = event_table(rows())
    assert {"true_energy", "reco_energy", "true_source_fov_offset", "reco_source_fov_offset", "theta",
            "gammaness", "multiplicity", "true_shower_primary_id"} <= set(table.colnames)
    assert table["true_energy"].unit == u.TeV and table["theta"].unit == u.deg
    assert table["true_source_fov_offset"].to_value(u.deg) == pytest.approx([0.0] * 3, abs=1e-9)
    assert table["reco_source_fov_offset"].to_value(u.deg) == pytest.approx([0.1] * 3, rel=1e-9)
    assert table["theta"].to_value(u.deg) == pytest.approx([0.1] * 3, rel=1e-9)


def test_angles_are_great_circle_separations():
    rng = np.random.default_rng(3)
    r = rows(1000)
    r["true_alt"], r["true_az"] = 70 + rng.normal(0, 2, 1000), 10 + rng.normal(0, 5, 1000)
    r["reco_alt"], r["reco_az"] = r["true_alt"] + rng.normal(0, 0.1, 1000), r["true_az"] + rng.normal(0, 0.3, 1000)
    table = event_table(r, source_alt=71 * u.deg, source_az=12 * u.deg)
    deg = u.deg
    expected = {
        "true_source_fov_offset": angular_separation(r["true_az"] * deg, r["true_alt"] * deg, 10 * deg, 70 * deg),
        "reco_source_fov_offset": angular_separation(r["reco_az"] * deg, r["reco_alt"] * deg, 10 * deg, 70 * deg),
        "theta": angular_separation(r["reco_az"] * deg, r["reco_alt"] * deg, 12 * deg, 71 * deg),
    }
    for name, value in expected.items():
        assert table[name].to_value(deg) == pytest.approx(value.to_value(deg), rel=1e-9, abs=1e-12)


def test_invalid_rows_are_dropped_and_quantity_tables_are_read_in_their_units():
    r = rows(4)
    r["is_valid"][1] = False
    r["reco_energy"][1] = np.nan
    table = QTable(r)
    table["reco_energy"] = r["reco_energy"] * 1000 * u.GeV
    out = event_table(table)
    assert out["event_id"].tolist() == [1, 3, 4]
    assert out["reco_energy"].to_value(u.TeV) == pytest.approx([1.2] * 3)


def test_bad_dl2_input_gives_one_line_errors():
    r = rows()
    with pytest.raises(CtasimError, match=r"lacks column.*gammaness"):
        event_table({name: r[name] for name in r.dtype.names if name != "gammaness"})
    r["reco_alt"][0] = np.nan
    with pytest.raises(CtasimError, match="non-finite reco_alt"):
        event_table(r)
    with pytest.raises(CtasimError, match="both source_alt and source_az"):
        event_table(rows(), source_alt=70 * u.deg)
    assert len(event_table(rows(0))) == 0

"""ctasim's DL1 and DL2 files in the tools CTA analysts use: ctapipe's TableLoader and read_table,
astropy's QTable.read and ctapipe's SubarrayDescription.from_hdf.

One small run (the tiny scenario through the library on-site chain, DL1 and DL2 with models
trained in-run) is built once for the module.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import astropy.units as u
import h5py
import numpy as np
import pytest
from astropy.table import QTable
from astropy.utils.metadata import MergeConflictWarning
from chain_helpers import run_library_chain, tiny_scenario

from ctasim.datamodel import paths
from ctasim.datamodel.dl1 import IMAGE_UNITS, PARAMETER_COLUMNS, PARAMETER_UNITS
from ctasim.datamodel.dl2 import DL2_EVENT_UNITS, DL2_TEL_UNITS
from ctasim.datamodel.ids import event_key
from ctasim.datamodel.monitoring import PIXEL_STATUS_UNITS, POINTING_UNITS
from ctasim.datamodel.simulation import (
    DISTRIBUTION_UNITS,
    IMPACT_DTYPE,
    IMPACT_UNITS,
    PIXEL_FAULT_UNITS,
    SHOWER_UNITS,
)
from ctasim.datamodel.trigger import TRIGGER_UNITS
from ctasim.instrument.config import load_subarray
from ctasim.io import instrument
from ctasim.io.ctapipe_tables import DL2_GROUPS
from ctasim.io.tables import table_units
from ctasim.offline.dl1 import process_dl1
from ctasim.offline.dl2 import process_dl2

ctapipe_io = pytest.importorskip("ctapipe.io")
pytestmark = pytest.mark.reference

#: (path or group + "/", units the data model gives its columns)
EXPECTED_UNITS = [
    (paths.SUBARRAY_LAYOUT, instrument.LAYOUT_UNITS),
    (paths.TELESCOPE_OPTICS, instrument.OPTICS_UNITS),
    (f"{paths.CAMERA_GROUP}/geometry_", instrument.GEOMETRY_UNITS),
    (f"{paths.CAMERA_GROUP}/readout_", instrument.READOUT_UNITS),
    (paths.DL0_MONITORING_POINTING, POINTING_UNITS),
    (paths.DL1_MONITORING_PIXEL_STATUS + "/", PIXEL_STATUS_UNITS),
    (paths.DL1_SUBARRAY_TRIGGER, TRIGGER_UNITS),
    (paths.DL1_TELESCOPE_TRIGGER, {}),
    (paths.DL1_PARAMETERS + "/", PARAMETER_UNITS),
    (paths.DL1_IMAGES + "/", IMAGE_UNITS),
    (paths.SIMULATION_SHOWER, SHOWER_UNITS),
    (paths.SIMULATION_TRIGGERED_SHOWER, {k: v for k, v in SHOWER_UNITS.items() if k != "time"}),
    (paths.SIMULATION_IMPACT + "/", IMPACT_UNITS),
    (paths.SIMULATION_SHOWER_DISTRIBUTION, DISTRIBUTION_UNITS),
    (paths.SIMULATION_PIXEL_FAULTS + "/", PIXEL_FAULT_UNITS),
    (paths.DL2_SUBARRAY_EVENTS, DL2_EVENT_UNITS),
    (paths.DL2_TELESCOPE + "/", DL2_TEL_UNITS),
    (paths.TABLE_CHECKSUMS, {}),
] + [
    (f"{group}/{alg}", {f"{alg}_{f}": DL2_EVENT_UNITS[c] for f, c in fields.items() if c in DL2_EVENT_UNITS})
    for group, alg, fields in DL2_GROUPS
]


def _expected_units(path: str) -> dict[str, str]:
    matches = [units for key, units in EXPECTED_UNITS
               if path == key or (key.endswith(("/", "_")) and path.startswith(key))]
    assert len(matches) == 1, f"{path}: no data-model units for this table"
    return matches[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The tiny scenario's DL1 and DL2 files (gamma and proton streams)."""
    scenario = tiny_scenario(tmp_path_factory.mktemp("ctapipe_run"))
    run_library_chain(scenario, load_subarray("north_alpha"))
    dl1, _ = process_dl1(scenario.run_dir(), keep_images=True)
    dl2, _ = process_dl2(scenario.run_dir())
    return dl1, dl2


def _tables(path) -> list[str]:
    found = []
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda name, obj: found.append("/" + name)
                      if isinstance(obj, h5py.Dataset) and obj.dtype.names else None)
    return found


@contextmanager
def strict_joins():
    """Warnings as errors where TableLoader would fall back to a join (rows not in trigger order)
    or find conflicting table metadata."""
    from ctapipe.io.tableloader import IndexNotMatching

    with warnings.catch_warnings():
        for category in (IndexNotMatching, MergeConflictWarning):
            warnings.simplefilter("error", category)
        yield


def test_tableloader_dl1_telescope_events(run):
    dl1, _ = run
    impact_columns = [c for c in IMPACT_DTYPE.names if c not in ("obs_id", "event_id", "tel_id")]
    for path in dl1:
        with strict_joins(), ctapipe_io.TableLoader(path) as loader:
            events = loader.read_telescope_events()
        with h5py.File(path, "r") as h5:
            params = np.concatenate([h5[f"{paths.DL1_PARAMETERS}/{n}"][()] for n in h5[paths.DL1_PARAMETERS]])
            showers = h5[paths.SIMULATION_SHOWER][()]
        assert len(events) == params.size > 0
        for column in PARAMETER_COLUMNS + ("true_energy", "true_shower_primary_id", *impact_columns):
            assert column in events.colnames, column
        # every row carries its own image's parameters and its own shower's truth
        key = event_key(events["obs_id"], events["event_id"]) * 100 + np.asarray(events["tel_id"])
        param_key = event_key(params["obs_id"], params["event_id"]) * 100 + params["tel_id"]
        order = np.argsort(param_key)
        rows = params[order][np.searchsorted(param_key[order], key)]
        np.testing.assert_array_equal(events["hillas_intensity"], rows["hillas_intensity"])
        np.testing.assert_array_equal(events["hillas_length"].quantity.to_value(u.deg), rows["hillas_length"])
        shower_key = event_key(showers["obs_id"], showers["event_id"])
        order = np.argsort(shower_key)
        truth = showers[order][np.searchsorted(shower_key[order], event_key(events["obs_id"], events["event_id"]))]
        np.testing.assert_array_equal(events["true_energy"].quantity.to_value(u.TeV), truth["true_energy"])
        assert events["hillas_length"].unit == u.deg and events["true_energy"].unit == u.TeV
        for column in impact_columns:
            assert np.isfinite(events[column]).all()
            assert events[column].unit == (u.Unit(IMPACT_UNITS[column]) if column in IMPACT_UNITS else None)


def test_tableloader_dl2_predictions(run):
    _, dl2 = run
    for path in dl2:
        with strict_joins(), ctapipe_io.TableLoader(path) as loader:
            events = loader.read_subarray_events()
            tel_events = loader.read_telescope_events()
        with h5py.File(path, "r") as h5:
            flat = h5[paths.DL2_SUBARRAY_EVENTS][()]
            n_trigger = h5[paths.DL1_SUBARRAY_TRIGGER].shape[0]
            n_tel_events = h5[paths.DL1_TELESCOPE_TRIGGER].shape[0]
        assert len(events) == n_trigger >= flat.size > 0
        key = event_key(flat["obs_id"], flat["event_id"])
        rows = np.searchsorted(event_key(events["obs_id"], events["event_id"]), key)
        assert (np.diff(event_key(events["obs_id"], events["event_id"])) > 0).all()
        pairs = {"LightGBMRegressor_energy": ("reco_energy", u.TeV), "HillasReconstructor_alt": ("hillas_alt", u.deg),
                 "HillasReconstructor_az": ("hillas_az", u.deg), "HillasReconstructor_core_x": ("reco_core_x", u.m),
                 "DispReconstructor_alt": ("reco_alt", u.deg), "DispReconstructor_az": ("reco_az", u.deg),
                 "LightGBMClassifier_prediction": ("gammaness", None)}
        for column, (flat_column, unit) in pairs.items():
            values = events[column][rows]
            assert values.unit == unit, column
            np.testing.assert_array_equal(values.quantity.to_value(unit) if unit else values, flat[flat_column],
                                          err_msg=column)
        valid = flat["is_valid"]
        assert valid.any()
        np.testing.assert_array_equal(events["HillasReconstructor_is_valid"][rows], valid)
        np.testing.assert_array_equal(events["LightGBMRegressor_is_valid"][rows], valid)
        np.testing.assert_array_equal(events["DispReconstructor_is_valid"][rows], valid)
        used = np.asarray(events["HillasReconstructor_telescopes"])[rows]
        np.testing.assert_array_equal(used.sum(axis=1)[valid], flat["multiplicity"][valid])
        assert not used[~valid].any()
        np.testing.assert_array_equal(events["true_energy"][rows].quantity.to_value(u.TeV), flat["true_energy"])
        # every telescope event of a DL2 file carries its array event's predictions
        assert len(tel_events) == n_tel_events > 0
        tel_rows = np.searchsorted(key, event_key(tel_events["obs_id"], tel_events["event_id"]))
        np.testing.assert_array_equal(tel_events["LightGBMRegressor_energy"].quantity.to_value(u.TeV),
                                      flat["reco_energy"][tel_rows])


def test_units_of_every_table(run):
    dl1, dl2 = run
    for path in dl1 + dl2:
        for table in _tables(path):
            expected = _expected_units(table)
            with h5py.File(path, "r") as h5:
                assert table_units(h5[table]) == expected, table
            read_back = {"ctapipe": ctapipe_io.read_table(path, table, table_cls=QTable),
                         "astropy": QTable.read(path, path=table)}
            for name, columns in read_back.items():
                for column in columns.colnames:
                    if column in expected:
                        assert isinstance(columns[column], u.Quantity), (name, table, column)
                        assert columns[column].unit == u.Unit(expected[column]), (name, table, column)
                    else:
                        assert getattr(columns[column], "unit", None) is None, (name, table, column)


def test_subarray_from_run_files(run):
    from ctapipe.instrument import SubarrayDescription

    dl1, dl2 = run
    north = load_subarray("north_alpha")
    for path in (dl1[0], dl2[0]):
        subarray = SubarrayDescription.from_hdf(path)
        np.testing.assert_array_equal(subarray.tel_ids, north.tel_ids)
        assert subarray.name == north.name

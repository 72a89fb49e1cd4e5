"""DL1 -> DL2: direction, energy and gammaness of every array event, models trained or loaded.

``process_dl2(run_dir, models)`` reads the DL1 parameter tables of every ``run_dir/dl1/*.dl1.h5``
(parameters only, not images), reconstructs the stereo geometry (``ctasim.reco.stereo``), and
predicts the direction from the disp (``ctasim.reco.disp``), the energy and the gammaness with the
LightGBM models of ``ctasim.reco.models``:

- ``models`` a directory: ``energy.model``, ``gammaness.model`` and ``disp.model`` are loaded from it (a model of
  another ctasim / data-model major version, or for other telescope types, raises a one-line
  DataFileError); every event is a test event;
- ``models`` None: the events are split deterministically by a hash of (obs_id, event_id)
  (``train_split``; the same event is always on the same side whatever the run size or file
  order), the energy and disp models are trained on the training gammas and the classifier on the
  training gammas and protons, all saved to ``run_dir/models/`` with ``provenance.json``; the other
  events are the test sample.

Output per DL1 file: ``run_dir/dl2/<stem>.dl2.h5`` (written as ``.tmp``, renamed when complete)
with the instrument, provenance (``stage = "dl2"``, inputs with sizes and content digests, models
used with the SHA-256 of each model text), the table checksums (``ctasim.io.checksums``),
``/dl2/events`` (``ctasim.reco.dl2`` columns incl. true_* plus ``is_train``: the event trained a
model of this pass), ``/dl2/telescope_events/tel_NNN``, the simulation truth tables and the trigger
tables copied from DL1 (for efficiencies and IRFs), and the same predictions in ctapipe's
``/dl2/event/subarray/{geometry,energy,classification}/<algorithm>`` groups
(``ctasim.io.ctapipe_tables``).
"""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..datamodel import paths
from ..datamodel.dl2 import DL2_EVENT_UNITS, DL2_EVENTS_FILE_DTYPE, DL2_TEL_UNITS
from ..datamodel.ids import PRIMARY_IDS, event_key, match_events
from ..errors import DataFileError
from ..io.atomic import atomic_h5
from ..io.checksums import seal_tables, stored_digest
from ..io.ctapipe_tables import write_dl2_groups
from ..io.instrument import read_subarray, write_instrument
from ..io.provenance import (
    make_provenance,
    read_provenance,
    write_provenance,
    write_provenance_json,
)
from ..io.tables import append_table, read_table, write_table
from ..reco.disp import DispRegressor
from ..reco.dl2 import ModelSet, predict_dl2, split_per_telescope
from ..reco.models import EnergyRegressor, ParticleClassifier, TelescopeFeatures, telescope_features
from ..reco.stereo import reconstruct_stereo
from .dl1 import COPIED_TABLES
from .executor import Executor, InProcessExecutor
from .files import DL2_SUFFIX, copy_tables, data_files, stem

MODEL_FILES = {"energy": "energy.model", "gammaness": "gammaness.model", "disp": "disp.model"}
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def train_split(obs_id: np.ndarray, event_id: np.ndarray, fraction: float) -> np.ndarray:
    """True for the events in the training sample: splitmix64 of ``event_key(obs_id, event_id)``
    mapped to [0, 1) and compared with ``fraction`` (deterministic, order-independent)."""
    z = event_key(obs_id, event_id).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = z + _MIX[0]
        z = (z ^ (z >> np.uint64(30))) * _MIX[1]
        z = (z ^ (z >> np.uint64(27))) * _MIX[2]
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53 < fraction


def _read_run(files: list[Path]) -> dict:
    """Concatenated DL1 parameters, shower truth and trigger tables of all DL1 files, the
    subarray, pointing (deg), which file every obs_id belongs to, the first file's provenance and
    each file's content digest (``ctasim.io.checksums``)."""
    tables, truth, trigger, digests, file_of_obs = [], [], [], [], {}
    subarray = pointing = first_prov = None
    for i, path in enumerate(files):
        if path.name.endswith(".tmp"):
            raise DataFileError(f"{path}: incomplete DL1 file (its writer never finished); re-run DL1")
        try:
            with h5py.File(path, "r") as h5:
                prov = read_provenance(h5)
                digests.append(stored_digest(h5))
                if subarray is None:
                    subarray, first_prov = read_subarray(h5), prov
                    point = prov.get("scenario", {}).get("array", {}).get("pointing", {})
                    pointing = (float(point.get("alt_deg", np.nan)), float(point.get("az_deg", np.nan)))
                group = h5.get(paths.DL1_PARAMETERS, {})
                tables += [group[name][()] for name in sorted(group)]
                truth.append(read_table(h5, paths.SIMULATION_SHOWER)[0])
                trig = read_table(h5, paths.DL1_SUBARRAY_TRIGGER)[0]
        except (OSError, KeyError) as err:
            raise DataFileError(f"{path}: unreadable DL1 file ({err})") from None
        trigger.append(trig[["obs_id", "event_id", "time"]])
        for obs_id in np.unique(trig["obs_id"]).tolist():
            if file_of_obs.setdefault(obs_id, i) != i:
                raise DataFileError(f"{path}: obs_id {obs_id} also in {files[file_of_obs[obs_id]]}")
    if not np.isfinite(pointing).all():
        raise DataFileError(f"{files[0]}: provenance has no scenario array.pointing (alt_deg, az_deg)")
    return {
        "table": np.concatenate(tables),
        "truth": np.concatenate(truth),
        "trigger": np.concatenate(trigger),
        "subarray": subarray,
        "pointing": pointing,
        "file_of_obs": file_of_obs,
        "provenance": first_prov,
        "digests": digests,
    }


def load_models(model_dir: str | Path, tel_types: set[str]) -> ModelSet:
    """Energy, gammaness and disp models from ``model_dir``; DataFileError when missing, of another
    version, or not trained for every telescope type in ``tel_types``."""
    model_dir = Path(model_dir)
    loaded = {}
    for key, cls in (("energy", EnergyRegressor), ("gammaness", ParticleClassifier), ("disp", DispRegressor)):
        path = model_dir / MODEL_FILES[key]
        if not path.is_file():
            raise DataFileError(f"{path}: no such model file (expected {', '.join(MODEL_FILES.values())})")
        model = cls.load(path)
        missing = sorted(tel_types - set(model.tel_types))
        if missing:
            raise DataFileError(f"{path}: model has no telescope types {missing} (trained for {list(model.tel_types)})")
        loaded[key] = model
    return ModelSet(energy=loaded["energy"], particle=loaded["gammaness"], disp=loaded["disp"])


#: the models of a pass: ModelSet field, class and training sample ("gamma" or "gamma+proton")
MODEL_JOBS = (("energy", EnergyRegressor, "gamma"), ("particle", ParticleClassifier, "gamma+proton"),
              ("disp", DispRegressor, "gamma"))


@dataclass(frozen=True)
class TrainingJob:
    """One model to train: its class, the telescope features and shower truth, the rows to train on."""

    cls: type
    features: TelescopeFeatures
    truth: np.ndarray
    rows: np.ndarray
    description: str


def fit_model(job: TrainingJob):
    """The model of ``job``, trained (deterministic: one thread, fixed seed)."""
    return job.cls().fit(job.features, job.truth, job.description, rows=job.rows)


def train_models(features: TelescopeFeatures, truth: np.ndarray, train_rows: np.ndarray, description: str,
                 executor: Executor | None = None) -> ModelSet:
    """Energy and disp models on the training gammas, classifier on the training gammas and protons;
    the three trained at once on ``executor`` (default: one after the other in this process), the
    same models either way."""
    primary = truth["true_shower_primary_id"][match_events(features.obs_id, features.event_id, truth)]
    gamma, proton = primary == PRIMARY_IDS["gamma"], primary == PRIMARY_IDS["proton"]
    if not (train_rows & gamma & features.selected).any() or not (train_rows & proton & features.selected).any():
        raise DataFileError(
            "cannot train models: the run needs reconstructed gamma and proton events in its training "
            "sample (simulate both, or give trained models)"
        )
    samples = {"gamma": (train_rows & gamma, "gammas"), "gamma+proton": (train_rows & (gamma | proton),
                                                                         "gammas vs protons")}
    jobs = [TrainingJob(cls, features, truth, samples[sample][0], f"{samples[sample][1]}; {description}")
            for _, cls, sample in MODEL_JOBS]
    executor = executor or InProcessExecutor()
    with closing(executor.map_ordered(fit_model, jobs, len(jobs))) as trained:
        return ModelSet(**{field: model for (field, _, _), model in zip(MODEL_JOBS, trained)})


def save_models(model_dir: Path, models: ModelSet, prov: dict) -> list[Path]:
    """Write the models and ``provenance.json`` into ``model_dir``."""
    files = [models.energy.save(model_dir / MODEL_FILES["energy"]),
             models.particle.save(model_dir / MODEL_FILES["gammaness"]),
             models.disp.save(model_dir / MODEL_FILES["disp"])]
    write_provenance_json(model_dir / "provenance.json", prov | {"outputs": [str(f) for f in files]})
    return files


def _write_dl2(path: Path, dl1_path: Path, subarray, prov: dict, events: np.ndarray, tel_rows: np.ndarray) -> None:
    """One DL2 file: provenance, instrument, the flat event and per-telescope tables, the truth and
    trigger tables of its DL1 file, and the same predictions in ctapipe's DL2 groups."""
    with atomic_h5(path) as h5:
        write_provenance(h5, prov)
        write_instrument(h5, subarray)
        write_table(h5, paths.DL2_SUBARRAY_EVENTS, events, DL2_EVENT_UNITS)
        for tel_id, rows in split_per_telescope(tel_rows).items():
            append_table(h5, paths.tel_table_path(paths.DL2_TELESCOPE, tel_id), rows, DL2_TEL_UNITS)
        with h5py.File(dl1_path, "r") as src:
            copy_tables(src, h5, COPIED_TABLES + (paths.DL1_SUBARRAY_TRIGGER, paths.DL1_TELESCOPE_TRIGGER,
                                                  paths.SIMULATION_TRIGGERED_SHOWER))
        write_dl2_groups(h5, events, tel_rows, subarray)
        seal_tables(h5)


def process_dl2(
    run_dir: str | Path, models: str | Path | None = None, train_fraction: float = 0.5, pass_number: int = 1,
    executor: Executor | None = None,
) -> tuple[list[Path], dict]:
    """DL1 -> DL2 for every DL1 file of a run directory (see the module docstring); the models, when
    trained, are trained at once on ``executor`` (default: in this process; the same models).

    Returns (DL2 files, stats) with stats ``files, models (dir), trained (bool), train_fraction,
    array_events, valid_events, train_events, test_events, wall_s, stereo_s, models_s,
    events_per_s`` (array events per wall second of the whole stage, I/O and training included).
    """
    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    dl1_files = data_files(run_dir, "dl1")
    run = _read_run(dl1_files)
    table, truth, subarray = run["table"], run["truth"], run["subarray"]
    t1 = time.perf_counter()
    stereo = reconstruct_stereo(table, subarray, *run["pointing"])
    features = telescope_features(table, stereo, subarray)
    t2 = time.perf_counter()
    inputs = [{"path": str(f), "sha256": digest, "bytes": f.stat().st_size}
              for f, digest in zip(dl1_files, run["digests"])]
    scenario_prov = run["provenance"]
    prov = make_provenance(
        scenario_prov.get("scenario_name", ""), scenario_prov.get("scenario", {}), scenario_prov.get("seed", 0),
        pass_number, extra={"stage": "dl2", "inputs": inputs},
    )
    is_train_event = np.zeros(stereo.n_events, bool)
    if models is None:
        is_train_event = train_split(stereo.obs_id, stereo.event_id, train_fraction)
        description = f"run {run_dir.name}, events with train_split(obs_id, event_id, {train_fraction})"
        model_set = train_models(features, truth, is_train_event[stereo.event_index], description, executor)
        model_dir = run_dir / "models"
        save_models(model_dir, model_set, prov | {"stage": "models", "train_fraction": train_fraction})
    else:
        model_dir = Path(models)
        model_set = load_models(model_dir, set(features.tel_type_name.tolist()))
    trig = run["trigger"]
    time_s = trig["time"][match_events(stereo.obs_id, stereo.event_id, trig)]
    predicted, tel_rows = predict_dl2(table, stereo, features, model_set, time_s, truth)
    t3 = time.perf_counter()
    events = np.zeros(stereo.n_events, DL2_EVENTS_FILE_DTYPE)
    for name in predicted.dtype.names:
        events[name] = predicted[name]
    events["is_train"] = is_train_event
    prov["models"] = {"dir": str(model_dir), "trained_in_run": models is None,
                      "sha256": {MODEL_FILES[key]: getattr(model_set, attr).header.get("text_sha256")
                                 for key, attr in (("energy", "energy"), ("gammaness", "particle"), ("disp", "disp"))}}

    event_file = np.array([run["file_of_obs"][o] for o in stereo.obs_id.tolist()], np.int64)
    row_file = event_file[stereo.event_index]
    files = []
    for i, dl1_path in enumerate(dl1_files):
        out = run_dir / "dl2" / (stem(dl1_path) + DL2_SUFFIX)
        _write_dl2(out, dl1_path, subarray, prov, events[event_file == i], tel_rows[row_file == i])
        files.append(out)
    wall = time.perf_counter() - t0
    stats = {
        "files": [str(f) for f in files],
        "models": str(model_dir),
        "trained": models is None,
        "train_fraction": train_fraction if models is None else 0.0,
        "array_events": int(stereo.n_events),
        "valid_events": int(stereo.is_valid.sum()),
        "train_events": int(is_train_event.sum()),
        "test_events": int((~is_train_event).sum()),
        "wall_s": wall,
        "stereo_s": t2 - t1,
        "models_s": t3 - t2,
        "events_per_s": stereo.n_events / wall if wall > 0 else None,
    }
    return files, stats

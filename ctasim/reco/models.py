"""Per-telescope LightGBM models for energy and gamma/hadron separation, combined per event.

One model per quantity for all telescope types (the type is a categorical feature). Each
telescope row that passed the stereo quality cuts in a valid stereo event gets a prediction:
log10(E/TeV) for ``EnergyRegressor``, P(gamma) for ``ParticleClassifier``. Event values are
weighted means over those rows, NaN for events without a predicted row:

- gammaness ``sum(w g_tel) / sum(w)`` with ``w = hillas_intensity`` (brighter images carry less
  fluctuation);
- energy ``log10 E = sum(w log10 E_tel) / sum(w)`` with ``w = 1 / sigma^2``, sigma the
  per-telescope resolution of log10 E looked up by (telescope type, log10 intensity, impact
  distance) as Eventdisplay's lookup tables do (``ResolutionTable``). The table is measured at
  training time on out-of-fold predictions (two boosters, each trained on half of the training
  events, predict the other half), so it is not the optimistic in-sample scatter. On fidelity_north
  (5-20 TeV gammas) it takes the event dE/E from 0.114 (intensity weights) to about 0.09: the
  brightest image is usually the nearest, whose light depends most on X_max. Model files without
  a table fall back to intensity weights.

Model files (``ctasim.io.model_file``) are text: line 1 is ``# ctasim-model `` followed by a
one-line JSON header (kind, ctasim and data-model versions, features, telescope types, LightGBM
parameters, training sample, provenance, the SHA-256 of the text); the rest is the LightGBM model
text. Training is deterministic (fixed seed, ``deterministic=True``, one thread).
"""

from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np

import ctasim
from ctasim.datamodel.ids import match_events
from ctasim.datamodel.version import DATA_MODEL_VERSION
from ctasim.errors import DataFileError
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.io.model_file import read_model_file, write_model_file

from .stereo import StereoResult

TEL_TYPE_FEATURE = "tel_type"
#: Default per-telescope features; ``log10_intensity`` is log10(hillas_intensity / p.e.).
DEFAULT_FEATURES = (
    "log10_intensity",
    "hillas_width",
    "hillas_length",
    "hillas_skewness",
    "hillas_kurtosis",
    "leakage_intensity_width_2",
    "concentration_cog",
    "concentration_core",
    "timing_slope",
    "impact_distance",
    "reco_h_max",
    "multiplicity",
    TEL_TYPE_FEATURE,
)
DEFAULT_PARAMS = {
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "seed": 0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbosity": -1,
}


@dataclass
class TelescopeFeatures:
    """Per-telescope feature rows of a block, aligned with the DL1 table's rows.

    ``columns`` maps feature name -> float64 [n_rows] (``tel_type`` is given by name in
    ``tel_type_name``; also every DL1 column and the event's ``pointing_alt``, ``pointing_az`` in
    deg); ``selected`` marks rows to train on / predict for; ``weight`` is the
    per-row combination weight (hillas_intensity, p.e.).
    """

    obs_id: np.ndarray
    event_id: np.ndarray
    tel_id: np.ndarray
    event_index: np.ndarray  # row -> event of the StereoResult
    n_events: int
    columns: dict[str, np.ndarray]
    tel_type_name: np.ndarray  # str [n_rows]
    selected: np.ndarray  # bool [n_rows]
    weight: np.ndarray  # float64 [n_rows]


def telescope_features(
    table: np.ndarray, stereo: StereoResult, subarray: SubarrayDescription
) -> TelescopeFeatures:
    """Feature columns for every row of a DL1 table reconstructed into ``stereo``."""
    cols = {name: np.asarray(table[name], np.float64) for name in table.dtype.names}
    ev = stereo.event_index
    cols["log10_intensity"] = np.log10(np.maximum(cols["hillas_intensity"], 1e-3))
    cols["impact_distance"] = stereo.impact_distance
    cols["reco_h_max"] = stereo.reco_h_max[ev]
    cols["multiplicity"] = stereo.multiplicity[ev].astype(np.float64)
    cols["pointing_alt"], cols["pointing_az"] = stereo.pointing_alt[ev], stereo.pointing_az[ev]
    type_of_id = np.empty(int(subarray.tel_ids.max()) + 1, dtype=object)
    type_of_id[subarray.tel_ids] = subarray.tel_type_names
    return TelescopeFeatures(
        obs_id=np.asarray(table["obs_id"]),
        event_id=np.asarray(table["event_id"]),
        tel_id=np.asarray(table["tel_id"]),
        event_index=ev,
        n_events=stereo.n_events,
        columns=cols,
        tel_type_name=type_of_id[np.asarray(table["tel_id"], np.int64)].astype(str),
        selected=stereo.used & stereo.is_valid[ev],
        weight=cols["hillas_intensity"],
    )


def combine_per_event(values: np.ndarray, features: TelescopeFeatures,
                      weight: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean per event of per-row ``values`` over selected, finite rows (NaN if none);
    ``weight`` per row, default ``features.weight`` (hillas_intensity)."""
    ok = features.selected & np.isfinite(values)
    w = np.where(ok, features.weight if weight is None else weight, 0.0)
    idx = features.event_index
    num = np.bincount(idx, weights=w * np.where(ok, values, 0.0), minlength=features.n_events)
    den = np.bincount(idx, weights=w, minlength=features.n_events)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _truth_per_row(features: TelescopeFeatures, truth: np.ndarray, column: str) -> np.ndarray:
    """Truth ``column`` of each feature row, joined on (obs_id, event_id)."""
    return truth[column][match_events(features.obs_id, features.event_id, truth)]


class _TelescopeModel:
    """LightGBM model on telescope rows; subclasses set the objective and the target."""

    kind = ""
    objective = ""

    def __init__(
        self,
        features: tuple[str, ...] = DEFAULT_FEATURES,
        n_estimators: int = 200,
        params: dict | None = None,
    ) -> None:
        self.features = tuple(features)
        self.n_estimators = int(n_estimators)
        self.params = {**DEFAULT_PARAMS, **(params or {}), "objective": self.objective}
        self.booster: lgb.Booster | None = None
        self.tel_types: tuple[str, ...] = ()
        self.header: dict = {}

    # subclasses: the training target of every row from the truth table
    def _target(self, features: TelescopeFeatures, truth: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _matrix(self, features: TelescopeFeatures, rows: np.ndarray) -> np.ndarray:
        x = np.empty((rows.size, len(self.features)))
        for j, name in enumerate(self.features):
            if name == TEL_TYPE_FEATURE:
                codes = {t: float(i) for i, t in enumerate(self.tel_types)}
                names = features.tel_type_name[rows]
                unknown = set(names.tolist()) - set(codes)
                if unknown:
                    raise ValueError(
                        f"telescope types {sorted(unknown)} unknown to the {self.kind} model"
                    )
                x[:, j] = [codes[t] for t in names.tolist()]
            else:
                x[:, j] = features.columns[name][rows]
        return x

    def fit(
        self,
        features: TelescopeFeatures,
        truth: np.ndarray,
        description: str = "",
        rows: np.ndarray | None = None,
    ) -> _TelescopeModel:
        """Train on the selected rows (and of those only ``rows``, a bool mask, when given).

        ``truth`` is the shower table (SHOWER_DTYPE columns) of the events in ``features``;
        ``description`` says what the training sample is and goes into the model header.
        """
        rows = np.flatnonzero(
            features.selected & (True if rows is None else np.asarray(rows, bool))
        )
        if rows.size == 0:
            raise ValueError(f"no selected telescope rows to train the {self.kind} model on")
        self.tel_types = tuple(sorted(set(features.tel_type_name[rows].tolist())))
        target = self._target(features, truth)[rows]
        categorical = (
            [self.features.index(TEL_TYPE_FEATURE)] if TEL_TYPE_FEATURE in self.features else []
        )
        data = lgb.Dataset(
            self._matrix(features, rows),
            label=target,
            feature_name=list(self.features),
            categorical_feature=categorical,
            params={"verbosity": -1},
        )
        self.booster = lgb.train(self.params, data, num_boost_round=self.n_estimators)
        energy = _truth_per_row(features, truth, "true_energy")[rows]
        primaries, counts = np.unique(
            _truth_per_row(features, truth, "true_shower_primary_id")[rows], return_counts=True
        )
        self.header = {
            "kind": self.kind,
            "ctasim_version": ctasim.__version__,
            "ctasim_data_model": DATA_MODEL_VERSION,
            "features": list(self.features),
            "tel_types": list(self.tel_types),
            "n_estimators": self.n_estimators,
            "params": self.params,
            "training_sample": {
                "description": description,
                "n_telescope_rows": int(rows.size),
                "n_events": int(np.unique(features.event_index[rows]).size),
                "true_energy_range_tev": [float(energy.min()), float(energy.max())],
                "rows_per_primary_id": {str(int(p)): int(c) for p, c in zip(primaries, counts)},
            },
            "provenance": {
                "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "lightgbm_version": lgb.__version__,
                "numpy_version": np.__version__,
                "python_version": platform.python_version(),
                "host": platform.node(),
            },
        }
        return self

    def predict_telescope(self, features: TelescopeFeatures) -> np.ndarray:
        """Prediction per row (NaN for rows not selected)."""
        if self.booster is None:
            raise RuntimeError(f"{type(self).__name__} is not trained")
        out = np.full(features.selected.size, np.nan)
        rows = np.flatnonzero(features.selected)
        if rows.size:
            out[rows] = self.booster.predict(self._matrix(features, rows), num_threads=1)
        return out

    def predict(self, features: TelescopeFeatures) -> tuple[np.ndarray, np.ndarray]:
        """(per-event value, per-row value): see the module docstring for the combination."""
        tel = self.predict_telescope(features)
        return self._combine(tel, features), tel

    def _combine(self, tel: np.ndarray, features: TelescopeFeatures) -> np.ndarray:
        return combine_per_event(tel, features)

    def save(self, path: str | Path) -> Path:
        """Write header (with the SHA-256 of the model text) + LightGBM model text to ``path``."""
        if self.booster is None:
            raise RuntimeError(f"{type(self).__name__} is not trained")
        return write_model_file(path, self.header, self.booster.model_to_string(num_iteration=-1))

    @classmethod
    def load(cls, path: str | Path, features: tuple[str, ...] = DEFAULT_FEATURES):
        """Read a model file, refusing other kinds, major versions or feature lists."""
        path = Path(path)
        header, text = read_model_file(path)
        checks = [
            ("kind", header.get("kind"), cls.kind),
            (
                "ctasim major version",
                _major(header.get("ctasim_version")),
                _major(ctasim.__version__),
            ),
            (
                "data model major version",
                _major(header.get("ctasim_data_model")),
                _major(DATA_MODEL_VERSION),
            ),
            ("features", header.get("features"), list(features)),
        ]
        for what, found, expected in checks:
            if found != expected:
                raise DataFileError(f"{path}: model {what} is {found!r}, expected {expected!r}")
        model = cls(
            features=tuple(header["features"]),
            n_estimators=header["n_estimators"],
            params=header["params"],
        )
        try:
            model.booster = lgb.Booster(model_str=text)
        except lgb.basic.LightGBMError as err:
            raise DataFileError(
                f"{path}: damaged LightGBM model ({str(err).splitlines()[0]})"
            ) from None
        model.tel_types = tuple(header["tel_types"])
        model.header = header
        return model


def _major(version) -> str | None:
    return str(version).split(".")[0] if version is not None else None


@dataclass
class ResolutionTable:
    """Per-telescope resolution of log10(E_reco / E_true) (half width of the 16-84 % interval) in bins
    of log10 intensity (p.e.) x impact distance (m), per telescope type; a bin with fewer than
    ``MIN_ROWS`` rows takes its type's value over all impacts in that intensity bin, then the type's
    overall value. JSON-friendly for the model header."""

    intensity_edges: list[float]
    impact_edges: list[float]
    sigma: dict[str, list[list[float]]]

    LOG_INTENSITY_EDGES = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0)
    IMPACT_EDGES_M = (0.0, 60.0, 120.0, 180.0, 250.0, 350.0, 500.0, 700.0, 1000.0, 2000.0)
    MIN_ROWS = 30
    MIN_SIGMA = 0.01   # floor (log10): one bin never outweighs the rest by more than ~1e3

    @classmethod
    def measure(cls, tel_type: np.ndarray, log_intensity: np.ndarray, impact: np.ndarray,
                residual: np.ndarray) -> ResolutionTable:
        """Table from per-row ``residual`` = log10(E_reco / E_true) of independent predictions."""
        ie, me = np.asarray(cls.LOG_INTENSITY_EDGES), np.asarray(cls.IMPACT_EDGES_M)
        bi = np.clip(np.searchsorted(ie, log_intensity, "right") - 1, 0, ie.size - 2)
        bm = np.clip(np.searchsorted(me, impact, "right") - 1, 0, me.size - 2)
        sigma = {}
        for t in sorted(set(tel_type.tolist())):
            of_type = tel_type == t
            overall = _half_width(residual[of_type])
            table = np.empty((ie.size - 1, me.size - 1))
            for i in range(ie.size - 1):
                in_i = of_type & (bi == i)
                row = _half_width(residual[in_i]) if in_i.sum() >= cls.MIN_ROWS else overall
                for j in range(me.size - 1):
                    cell = in_i & (bm == j)
                    table[i, j] = _half_width(residual[cell]) if cell.sum() >= cls.MIN_ROWS else row
            sigma[t] = np.maximum(table, cls.MIN_SIGMA).round(5).tolist()
        return cls(ie.tolist(), me.tolist(), sigma)

    def lookup(self, tel_type: np.ndarray, log_intensity: np.ndarray, impact: np.ndarray) -> np.ndarray:
        """sigma (log10) per row; NaN for types the table does not know."""
        ie, me = np.asarray(self.intensity_edges), np.asarray(self.impact_edges)
        bi = np.clip(np.searchsorted(ie, log_intensity, "right") - 1, 0, ie.size - 2)
        bm = np.clip(np.searchsorted(me, np.nan_to_num(impact, nan=me[-1]), "right") - 1, 0, me.size - 2)
        out = np.full(tel_type.size, np.nan)
        for t, table in self.sigma.items():
            rows = tel_type == t
            out[rows] = np.asarray(table)[bi[rows], bm[rows]]
        return out


def _half_width(x: np.ndarray) -> float:
    q16, q84 = np.percentile(x, [16.0, 84.0])
    return float(0.5 * (q84 - q16))


class EnergyRegressor(_TelescopeModel):
    """Per-telescope regression of log10(E_true / TeV); event energy (TeV) = 10 ** the inverse-variance
    weighted mean of log10 E_tel (``ResolutionTable``; see the module docstring)."""

    kind = "energy"
    objective = "regression"
    N_FOLDS = 2

    def _target(self, features, truth):
        return np.log10(_truth_per_row(features, truth, "true_energy"))

    def fit(self, features: TelescopeFeatures, truth: np.ndarray, description: str = "",
            rows: np.ndarray | None = None) -> EnergyRegressor:
        """Train (see ``_TelescopeModel.fit``), then measure the resolution table on out-of-fold
        predictions: fold k of the training events is predicted by a booster trained on the others."""
        super().fit(features, truth, description, rows)
        train = features.selected & (True if rows is None else np.asarray(rows, bool))
        fold = features.event_index % self.N_FOLDS
        residual = np.full(train.size, np.nan)
        for k in range(self.N_FOLDS):
            held = train & (fold == k)
            if not held.any() or not (train & (fold != k)).any():
                continue
            other = type(self)(self.features, self.n_estimators, self.params)
            _TelescopeModel.fit(other, features, truth, description, train & (fold != k))
            sub = dataclasses.replace(features, selected=held)
            residual[held] = np.log10(other.predict_telescope(sub)[held]) - self._target(features, truth)[held]
        ok = train & np.isfinite(residual)
        if ok.sum() >= ResolutionTable.MIN_ROWS:
            c = features.columns
            table = ResolutionTable.measure(features.tel_type_name[ok], c["log10_intensity"][ok],
                                            c["impact_distance"][ok], residual[ok])
            self.header["resolution_table"] = dataclasses.asdict(table)
        return self

    def predict_telescope(self, features: TelescopeFeatures) -> np.ndarray:
        """Energy (TeV) per row, NaN for rows not selected."""
        return 10.0 ** super().predict_telescope(features)

    def telescope_weights(self, features: TelescopeFeatures) -> np.ndarray:
        """Combination weight per row: 1 / sigma^2 from the resolution table (hillas_intensity for
        models without one, or rows of a type the table does not know)."""
        table = self.header.get("resolution_table")
        if table is None:
            return features.weight
        c = features.columns
        sigma = ResolutionTable(**table).lookup(features.tel_type_name, c["log10_intensity"], c["impact_distance"])
        return np.where(np.isfinite(sigma), 1.0 / np.maximum(sigma, ResolutionTable.MIN_SIGMA) ** 2, 0.0)

    def _combine(self, tel, features):
        return 10.0 ** combine_per_event(np.log10(tel), features, self.telescope_weights(features))


class ParticleClassifier(_TelescopeModel):
    """Per-telescope gamma/hadron classifier; gammaness = P(gamma) in [0, 1]."""

    kind = "gammaness"
    objective = "binary"

    def _target(self, features, truth):
        return (_truth_per_row(features, truth, "true_shower_primary_id") == 0).astype(np.float64)

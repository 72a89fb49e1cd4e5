"""Provenance of a run or file: what made it (versions, scenario + hash, seed, pass, host, time).

``make_provenance`` builds a JSON-friendly dict; ``write_provenance`` stores it as HDF5 file
attributes (``ctasim_version`` and ``ctasim_data_model`` at top level, every key also as
``provenance.<key>``, nested values as JSON text); ``write_provenance_json`` writes
``provenance.json``. Dependency versions come from ``importlib.metadata`` so nothing (Ray in
particular) is imported to learn its version.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .. import __version__
from ..datamodel.paths import ATTR_CTASIM_VERSION, ATTR_DATA_MODEL, ATTR_PROVENANCE_PREFIX
from ..datamodel.version import DATA_MODEL_VERSION
from .atomic import write_text_atomic

KEY_DEPENDENCIES = (
    "numpy",
    "numba",
    "scipy",
    "h5py",
    "astropy",
    "lightgbm",
    "ray",
    "blosc2",
    "zstandard",
)


def _json_default(obj: Any) -> Any:
    """JSON fallback for numpy scalars/arrays, paths and other objects (as text)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def to_json(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that also accepts numpy values and paths."""
    return json.dumps(obj, default=_json_default, **kwargs)


def scenario_hash(scenario: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a resolved scenario (sorted keys, no spaces)."""
    return hashlib.sha256(
        to_json(scenario, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def dependency_versions(names: tuple[str, ...] = KEY_DEPENDENCIES) -> dict[str, str | None]:
    """Installed version of each distribution (None when not installed); imports nothing."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def utc_now() -> str:
    """Current time, UTC, ISO 8601 with seconds (``2026-11-03T21:04:05+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_provenance(
    scenario_name: str,
    scenario: Mapping[str, Any],
    seed: int,
    pass_number: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Provenance dict of a run: ctasim and data-model versions, scenario, hash, seed, pass, host.

    ``extra`` (inputs, outputs, end time, ...) is merged in last.
    """
    prov = {
        "ctasim_version": __version__,
        "ctasim_data_model": DATA_MODEL_VERSION,
        "scenario_name": scenario_name,
        "scenario": json.loads(to_json(scenario)),
        "scenario_hash": scenario_hash(scenario),
        "seed": int(seed),
        "pass_number": int(pass_number),
        "creation_time_utc": utc_now(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python_version": sys.version.split()[0],
        "dependencies": dependency_versions(),
    }
    prov.update(extra or {})
    return prov


def write_provenance(h5: h5py.File, prov: Mapping[str, Any]) -> None:
    """Store provenance as file attributes (numbers and text as they are; booleans as int8 0/1,
    which PyTables, and so ctapipe, reads without warning; structures as JSON text)."""
    h5.attrs[ATTR_CTASIM_VERSION] = str(prov.get("ctasim_version", __version__))
    h5.attrs[ATTR_DATA_MODEL] = str(prov.get("ctasim_data_model", DATA_MODEL_VERSION))
    for key, value in prov.items():
        if isinstance(value, (bool, np.bool_)):
            h5.attrs[ATTR_PROVENANCE_PREFIX + key] = np.int8(value)
        elif isinstance(value, (str, int, float, np.generic)):
            h5.attrs[ATTR_PROVENANCE_PREFIX + key] = value
        else:
            h5.attrs[ATTR_PROVENANCE_PREFIX + key] = to_json(value, sort_keys=True)


def read_provenance(h5: h5py.File) -> dict[str, Any]:
    """Provenance written by ``write_provenance`` (JSON text parsed back into dicts and lists)."""
    prov = {}
    for key, value in h5.attrs.items():
        if not key.startswith(ATTR_PROVENANCE_PREFIX):
            continue
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, str) and value and value[0] in "{[":
            value = json.loads(value)
        elif isinstance(value, np.generic):
            value = value.item()
        prov[key[len(ATTR_PROVENANCE_PREFIX) :]] = value
    return prov


def write_provenance_json(path: str | Path, prov: Mapping[str, Any]) -> Path:
    """Write provenance as indented JSON (e.g. ``run_dir/provenance.json``), atomically."""
    return write_text_atomic(path, to_json(prov, indent=2, sort_keys=True) + "\n")

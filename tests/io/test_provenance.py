"""Provenance: complete, hash stable under key order, stored as attributes and JSON."""

import json
import subprocess
import sys

import h5py

from ctasim.datamodel.version import DATA_MODEL_VERSION
from ctasim.io.provenance import (
    make_provenance,
    read_provenance,
    scenario_hash,
    write_provenance,
    write_provenance_json,
)


def test_provenance_round_trip(tmp_path):
    scenario = {"name": "small", "array": {"layout": "north_alpha"}, "showers": 1000}
    prov = make_provenance("small", scenario, seed=42, pass_number=1)
    assert prov["scenario_hash"] == scenario_hash(
        {"showers": 1000, "array": {"layout": "north_alpha"}, "name": "small"}
    )
    assert prov["ctasim_data_model"] == DATA_MODEL_VERSION
    assert {"numpy", "numba", "h5py", "astropy", "lightgbm", "ray"} <= set(prov["dependencies"])
    assert prov["creation_time_utc"].endswith("+00:00")
    with h5py.File(tmp_path / "p.h5", "w") as f:
        write_provenance(f, prov)
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert f.attrs["ctasim_data_model"] == DATA_MODEL_VERSION
        assert read_provenance(f) == prov
    assert json.loads(write_provenance_json(tmp_path / "provenance.json", prov).read_text()) == prov


def test_provenance_does_not_import_ray():
    code = "import sys, ctasim.io.provenance as p; p.make_provenance('x', {}, 1); print('ray' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )

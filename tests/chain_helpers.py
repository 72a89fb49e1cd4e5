"""Helpers for the end-to-end tests: a tiny North Alpha scenario and a digest of a run's DL0."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ctasim.datamodel import paths
from ctasim.io.archive import DL0ArchiveReader
from ctasim.scenario import Scenario, validate_scenario

SIDE_TABLES = (paths.SIMULATION_SHOWER, paths.DL0_SUBARRAY_TRIGGER, paths.DL0_TELESCOPE_TRIGGER)


def tiny_scenario(run_dir: Path, telescopes_per_actor: int = 13, **execution) -> Scenario:
    """~1 minute in-process: 150 gammas + 150 protons on North Alpha in blocks of 75."""
    return validate_scenario({
        "name": "tiny",
        "seed": 7,
        "output_dir": str(run_dir),
        "array": {"layout": "north_alpha"},
        "particles": [
            {"name": "gamma", "particle": "gamma", "n_showers": 150, "energy_min_tev": 0.1,
             "energy_max_tev": 30.0, "max_scatter_m": 500.0, "rate_hz": 2000.0},
            {"name": "proton", "particle": "proton", "n_showers": 150, "energy_min_tev": 0.2,
             "energy_max_tev": 50.0, "max_scatter_m": 600.0, "viewcone_deg": 4.0, "rate_hz": 6000.0},
        ],
        "simulation": {"block_size": 75},
        "reduction": {"compare_variants": ["integrated"]},
        "execution": {"telescopes_per_actor": telescopes_per_actor, **execution},
    })


def dl0_digest(run_dir: Path) -> dict[str, str]:
    """Per DL0 file: SHA-256 over every block checksum (sorted by telescope, stream, block) and
    the contents of the truth and trigger tables. Provenance (times, host) is left out."""
    out = {}
    for path in sorted((Path(run_dir) / "dl0").glob("*.h5")):
        h = hashlib.sha256()
        with DL0ArchiveReader(path) as reader:
            for tel_id in reader.tel_ids:
                blocks = sorted(reader.iter_blocks(tel_id), key=lambda b: (b.stream, b.block_index))
                for b in blocks:
                    h.update(f"{tel_id}/{b.stream}/{b.block_index}/{b.n_events}/{b.checksum()}".encode())
            for table in SIDE_TABLES:
                rows, _ = reader.read_table(table)
                h.update(np.sort(rows, order=[n for n in ("obs_id", "event_id", "tel_id") if n in rows.dtype.names]).tobytes())
        out[path.name] = h.hexdigest()
    return out

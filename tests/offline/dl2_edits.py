"""Edits of a small run's DL2 files that make its toy populations usable for IRFs: the tables
rewritten in place (read, changed, written again with their units, the file's checksums sealed
again so that it verifies)."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np

from ctasim.io.checksums import seal_tables
from ctasim.io.tables import read_table, write_table
from ctasim.offline.dl1 import process_dl1
from ctasim.offline.dl2 import process_dl2

TOY_VIEWCONE_DEG = 1.0  # the view cone the conftest's protons are drawn in (deg)


def rewrite(path, table: str, change) -> None:
    """Replace ``table`` of the HDF5 file ``path`` by ``change(rows)``."""
    with h5py.File(path, "r+") as h5:
        rows, units = read_table(h5, table)
        rows = change(rows)
        del h5[table]
        write_table(h5, table, rows, units)
        seal_tables(h5)


def blur_gammaness(rows):
    """Uniform gammaness for the valid events (toy protons separate perfectly otherwise)."""
    valid = rows["is_valid"]
    rows["gammaness"][valid] = np.random.default_rng(3).uniform(0.0, 1.0, valid.sum())
    return rows


def dl2_run(run_dir: Path, dl0_run: Path) -> list[Path]:
    """DL1 + DL2 (models trained in-run) of a copy of ``dl0_run``'s archive in ``run_dir``; its DL2 files."""
    shutil.copytree(dl0_run / "dl0", run_dir / "dl0")
    process_dl1(run_dir, keep_images=False)
    process_dl2(run_dir, None, train_fraction=0.5)
    return sorted((run_dir / "dl2").glob("*.dl2.h5"))

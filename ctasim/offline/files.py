"""The files of a run directory's data levels, and copying tables from one level's file to the next."""

from __future__ import annotations

import re
from pathlib import Path

import h5py

from ..errors import DataFileError
from ..io.run_dir import level_files
from ..io.tables import read_table, write_table

DL0_SUFFIX = ".dl0.h5"
DL1_SUFFIX = ".dl1.h5"
DL2_SUFFIX = ".dl2.h5"


def stem(path: str | Path) -> str:
    """File name without its data-level suffix: ``run_gamma_obs000001.dl0.h5`` -> ``run_gamma_obs000001``."""
    return re.sub(r"\.dl[0-9]\.h5(\.tmp)?$", "", Path(path).name)


def data_files(run_dir: str | Path, level: str) -> list[Path]:
    """The files of one data level (``ctasim.io.run_dir.level_files``: leftover ``.tmp`` files
    included, so that readers refuse them); DataFileError when there is none."""
    folder = Path(run_dir) / level
    files = level_files(run_dir, level)
    if not files:
        raise DataFileError(f"{folder}: no {level.upper()} files (*.{level}.h5)")
    return files


def table_paths(h5: h5py.Group, path: str) -> list[str]:
    """``path`` if it is a table, the tables directly inside it if it is a group, else []."""
    node = h5.get(path)
    if isinstance(node, h5py.Dataset):
        return [path]
    if isinstance(node, h5py.Group):
        return [f"{path}/{name}" for name, item in node.items()
                if isinstance(item, h5py.Dataset) and item.dtype.names is not None]
    return []


def copy_tables(src: h5py.Group, dst: h5py.Group, tables: tuple[str, ...],
                renames: dict[str, str] | None = None) -> int:
    """Copy the tables (or groups of tables) present in ``src`` to ``dst``, read and written again
    (checksummed chunks are verified on read; units stored the current way); returns the rows
    copied. A damaged table raises a one-line DataFileError."""
    renames = renames or {}
    n_rows = 0
    for path in tables:
        for table in table_paths(src, path):
            try:
                rows, units = read_table(src, table)
            except OSError as err:
                raise DataFileError(f"{src.file.filename}: {table} is damaged ({err})") from None
            write_table(dst, renames.get(path, path) + table[len(path):], rows, units)
            n_rows += rows.size
    return n_rows


IRF_PASS = re.compile(r"^irf_pass(\d+)\.fits\.gz$")


def next_irf_pass(run_dir: str | Path) -> int:
    """1 + the highest N of ``run_dir/irf/irf_pass<N>.fits.gz`` (1 when there is none)."""
    found = [int(m.group(1)) for p in (Path(run_dir) / "irf").glob("irf_pass*.fits.gz")
             if (m := IRF_PASS.match(p.name))]
    return max(found, default=0) + 1

"""Structured numpy arrays <-> chunked, compressed HDF5 compound datasets with a ``units`` attribute.

A table is a 1-d compound dataset (h5py): one row per event, one field per column. Fixed-shape
per-event arrays (images ``[n_pix]``, waveforms ``[n_ch, n_pix, n_s]``) are sub-array fields of
the compound type, so they share the row order by construction. Every table is resizable along
rows, so writers append block by block and never hold a run in memory; ``iter_table`` reads it
back in chunks. Units are stored as the attribute ``units``: JSON ``{column: unit}``. Chunks carry
HDF5's Fletcher-32 checksum, so a damaged table raises ``OSError`` on read instead of returning
wrong numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import h5py
import numpy as np

from ..datamodel.paths import ATTR_UNITS

TARGET_CHUNK_BYTES = 1 << 20  # 1 MiB: HDF5's default chunk cache holds one such chunk
COMPRESSION = "gzip"  # readable by every HDF5 build (ctapipe/pytables included)
COMPRESSION_LEVEL = 1
DEFAULT_READ_ROWS = 100_000


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.names is None:
        raise TypeError(f"table data must be a structured array, got dtype {dtype}")
    for name in dtype.names:
        kind = dtype[name].base.kind
        if kind in "OU":
            raise TypeError(
                f"column {name!r} has dtype {dtype[name]}: store text as fixed bytes 'S<n>'"
            )


def _units_json(dtype: np.dtype, units: Mapping[str, str] | None) -> str:
    units = dict(units or {})
    unknown = sorted(set(units) - set(dtype.names))
    if unknown:
        raise ValueError(f"units given for columns not in the table: {', '.join(unknown)}")
    return json.dumps(units, sort_keys=True)


def chunk_rows(dtype: np.dtype) -> int:
    """Rows per HDF5 chunk so that a chunk holds about TARGET_CHUNK_BYTES."""
    return max(1, TARGET_CHUNK_BYTES // max(1, dtype.itemsize))


def create_table(
    parent: h5py.Group, path: str, dtype: np.dtype, units: Mapping[str, str] | None = None
) -> h5py.Dataset:
    """Create an empty, resizable, compressed table at ``path`` (groups created as needed)."""
    dtype = np.dtype(dtype)
    _check_dtype(dtype)
    ds = parent.create_dataset(
        path,
        shape=(0,),
        maxshape=(None,),
        dtype=dtype,
        chunks=(chunk_rows(dtype),),
        compression=COMPRESSION,
        compression_opts=COMPRESSION_LEVEL,
        shuffle=True,
        fletcher32=True,
    )
    ds.attrs[ATTR_UNITS] = _units_json(dtype, units)
    return ds


def append_table(
    parent: h5py.Group, path: str, data: np.ndarray, units: Mapping[str, str] | None = None
) -> h5py.Dataset:
    """Append rows to the table at ``path``, creating it (with ``units``) on first use.

    Rows must have the table's column names in its order; values are cast to its dtype. Units
    given on a later call must agree with the stored ones.
    """
    data = np.asarray(data)
    if path in parent:
        ds = parent[path]
        if data.dtype.names != ds.dtype.names:
            raise ValueError(
                f"{path}: columns {data.dtype.names} do not match the table's {ds.dtype.names}"
            )
        if units is not None and json.loads(_units_json(data.dtype, units)) != table_units(ds):
            raise ValueError(
                f"{path}: units {dict(units)} differ from the stored {table_units(ds)}"
            )
    else:
        ds = create_table(parent, path, data.dtype, units)
    n = ds.shape[0]
    if data.size:
        ds.resize(n + data.size, axis=0)
        ds[n:] = data.astype(ds.dtype, copy=False).ravel()
    return ds


def write_table(
    parent: h5py.Group,
    path: str,
    data: np.ndarray,
    units: Mapping[str, str] | None = None,
    attrs: Mapping[str, object] | None = None,
    overwrite: bool = False,
) -> h5py.Dataset:
    """Write a whole table (replacing an existing one only if ``overwrite``) plus extra attributes."""
    if path in parent:
        if not overwrite:
            raise ValueError(f"{path} exists already (pass overwrite=True to replace it)")
        del parent[path]
    ds = append_table(parent, path, data, units)
    for key, value in (attrs or {}).items():
        ds.attrs[key] = value
    return ds


def table_units(ds: h5py.Dataset) -> dict[str, str]:
    """The ``units`` attribute of a table as a dict (empty when absent)."""
    raw = ds.attrs.get(ATTR_UNITS)
    return json.loads(raw) if raw is not None else {}


def read_table(
    parent: h5py.Group, path: str, start: int | None = None, stop: int | None = None
) -> tuple[np.ndarray, dict[str, str]]:
    """Rows ``start:stop`` of a table and its units."""
    ds = parent[path]
    return ds[start:stop], table_units(ds)


def iter_table(
    parent: h5py.Group, path: str, rows: int = DEFAULT_READ_ROWS
) -> Iterator[np.ndarray]:
    """The table in consecutive slices of at most ``rows`` rows (bounded memory)."""
    ds = parent[path]
    for start in range(0, ds.shape[0], rows):
        yield ds[start : start + rows]

"""Structured numpy arrays <-> chunked, compressed HDF5 compound datasets with per-column units.

A table is a 1-d compound dataset (h5py): one row per event, one field per column. Fixed-shape
per-event arrays (images ``[n_pix]``, waveforms ``[n_ch, n_pix, n_s]``) are sub-array fields of
the compound type, so they share the row order by construction. Every table is resizable along
rows, so writers append block by block and never hold a run in memory; ``iter_table`` reads it
back in chunks. Chunks carry HDF5's Fletcher-32 checksum, so a damaged table raises ``OSError`` on
read instead of returning wrong numbers.

Units (astropy unit strings) are written once, when the table is created, in the two forms the
tools users already have read back (attribute names in ``ctasim.datamodel.paths``):

- ctapipe's HDF5 table convention (``ctapipe.io.read_table``, ``TableLoader``): for the column at
  position ``i``, ``CTAFIELD_{i}_UNIT`` and ``CTAFIELD_{i}_TRANSFORM = "quantity"``; byte-string
  columns get ``CTAFIELD_{i}_TRANSFORM = "string"`` and ``CTAFIELD_{i}_MAXLEN`` so that ctapipe
  returns them as text;
- astropy's (``QTable.read(file, path=...)``): ``__table_column_meta__``, the YAML column header
  of ``astropy.table.meta``, one line per element. It is an attribute of the table (a form
  astropy's HDF5 reader accepts) rather than the sibling dataset astropy writes itself, so that
  every group holds tables only and readers iterating per-telescope groups see nothing else.

``table_units`` reads the units back from the ctapipe attributes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

import h5py
import numpy as np

from ..datamodel.paths import ATTR_ASTROPY_META, ATTR_COLUMN
from .atomic import ensure_free_space

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


def _units_key(dtype: np.dtype, units: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    units = dict(units or {})
    unknown = sorted(set(units) - set(dtype.names))
    if unknown:
        raise ValueError(f"units given for columns not in the table: {', '.join(unknown)}")
    return tuple(sorted(units.items()))


@functools.lru_cache(maxsize=256)
def _unit_attrs(dtype: np.dtype, units: tuple[tuple[str, str], ...]) -> dict[str, object]:
    """The attributes that describe the columns of a new table (see the module docstring)."""
    # astropy.table takes ~0.6 s to import: only processes that create tables pay for it
    import astropy.units as u
    from astropy.table import Table
    from astropy.table.meta import get_yaml_from_table

    by_name = dict(units)
    header = Table(np.zeros(0, dtype))
    attrs: dict[str, object] = {}
    for pos, name in enumerate(dtype.names):
        if name in by_name:
            try:
                header[name].unit = u.Unit(by_name[name])
            except ValueError:
                raise ValueError(f"column {name!r}: {by_name[name]!r} is not an astropy unit") from None
            attrs[ATTR_COLUMN.format(pos=pos, key="UNIT")] = by_name[name]
            attrs[ATTR_COLUMN.format(pos=pos, key="TRANSFORM")] = "quantity"
        elif dtype[name].kind == "S" and dtype[name].ndim == 0:
            attrs[ATTR_COLUMN.format(pos=pos, key="TRANSFORM")] = "string"
            attrs[ATTR_COLUMN.format(pos=pos, key="MAXLEN")] = np.int64(dtype[name].itemsize)
    attrs[ATTR_ASTROPY_META] = np.array([line.encode() for line in get_yaml_from_table(header)])
    return attrs


def chunk_rows(dtype: np.dtype) -> int:
    """Rows per HDF5 chunk so that a chunk holds about TARGET_CHUNK_BYTES."""
    return max(1, TARGET_CHUNK_BYTES // max(1, dtype.itemsize))


def create_table(
    parent: h5py.Group, path: str, dtype: np.dtype, units: Mapping[str, str] | None = None
) -> h5py.Dataset:
    """Create an empty, resizable, compressed table at ``path`` (groups created as needed) with
    the units of its columns (``{column: astropy unit string}``)."""
    dtype = np.dtype(dtype)
    _check_dtype(dtype)
    attrs = _unit_attrs(dtype, _units_key(dtype, units))
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
    for key, value in attrs.items():
        ds.attrs[key] = value
    return ds


def append_table(
    parent: h5py.Group, path: str, data: np.ndarray, units: Mapping[str, str] | None = None
) -> h5py.Dataset:
    """Append rows to the table at ``path``, creating it (with ``units``) on first use.

    Rows must have the table's column names in its order; values are cast to its dtype. Units
    given on a later call must agree with the stored ones (one attribute compared).
    """
    data = np.asarray(data)
    ensure_free_space(parent.file.filename, data.nbytes)
    if path in parent:
        ds = parent[path]
        if data.dtype.names != ds.dtype.names:
            raise ValueError(
                f"{path}: columns {data.dtype.names} do not match the table's {ds.dtype.names}"
            )
        if units is not None:
            expected = _unit_attrs(ds.dtype, _units_key(ds.dtype, units))[ATTR_ASTROPY_META]
            stored = ds.attrs.get(ATTR_ASTROPY_META)
            if stored is None or not np.array_equal(stored, expected):
                raise ValueError(f"{path}: units {dict(units)} differ from the stored {table_units(ds)}")
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
    ensure_free_space(parent.file.filename, np.asarray(data).nbytes)
    if path in parent:
        if not overwrite:
            raise ValueError(f"{path} exists already (pass overwrite=True to replace it)")
        del parent[path]
    ds = append_table(parent, path, data, units)
    for key, value in (attrs or {}).items():
        ds.attrs[key] = value
    return ds


def table_units(ds: h5py.Dataset) -> dict[str, str]:
    """``{column: unit}`` of a table, from its ctapipe unit attributes (empty when it has none)."""
    names = set(ds.attrs)
    units = {}
    for pos, column in enumerate(ds.dtype.names or ()):
        key = ATTR_COLUMN.format(pos=pos, key="UNIT")
        if key in names:
            value = ds.attrs[key]
            units[column] = value.decode() if isinstance(value, bytes) else str(value)
    return units


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

"""Per-table SHA-256 checksums of an HDF5 file, written when the file is closed, checked by ``ctasim verify``.

Block checksums cover the DL0 event payload; these cover everything else: instrument, simulation,
trigger, monitoring, DL1 and DL2 tables (contents and attributes, e.g. units). ``seal_tables``
writes one row per dataset into ``/ctasim/table_checksums`` (``TABLE_CHECKSUMS``: path, sha256) and
the file's content digest ``ctasim_tables_sha256`` (SHA-256 over those rows) as a file attribute.
The digest depends on table contents only, not on provenance attributes such as the creation time,
so a pass that rewrites a file with the same contents keeps its digest: downstream files record it
to tell a changed upstream file ("stale") from a re-written identical one.

HDF5's Fletcher-32 catches a damaged chunk of a filtered table on every read; the checksums also
catch unfiltered datasets (CSR neighbour arrays, the block index attributes) and a table rewritten
consistently with other values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping

import h5py
import numpy as np

from ..datamodel import paths
from .tables import append_table, chunk_rows, write_table

TABLE_CHECKSUMS, ATTR_TABLES_DIGEST = paths.TABLE_CHECKSUMS, paths.ATTR_TABLES_DIGEST
PATH_BYTES = 200
CHECKSUM_DTYPE = np.dtype([("path", f"S{PATH_BYTES}"), ("sha256", "S64")])


def _bytes(values: np.ndarray) -> bytes:
    """The bytes of an array; variable-length strings element by element, each with its length."""
    if values.dtype.kind != "O":
        return values.tobytes()
    parts = [v if isinstance(v, bytes) else str(v).encode() for v in values.ravel().tolist()]
    return b"".join(len(p).to_bytes(8, "little") + p for p in parts)


def _slices(ds: h5py.Dataset) -> Iterator[np.ndarray]:
    """The dataset's values in consecutive slices along its first axis (bounded memory)."""
    if ds.shape == () or ds.shape is None:
        yield np.asarray(ds[()])
        return
    step = max(1, chunk_rows(ds.dtype) // max(1, int(np.prod(ds.shape[1:], dtype=np.int64))))
    for start in range(0, ds.shape[0], step):
        yield ds[start : start + step]


def update_with_dataset(digest, name: str, ds: h5py.Dataset) -> None:
    """Feed the ``hashlib`` object ``digest`` with ``name``, the dtype, the values (read in slices; a
    damaged chunk raises OSError) and the attributes (name, dtype, bytes, sorted) of ``ds``."""
    digest.update(f"{name}|{ds.dtype.str}|".encode())
    for part in _slices(ds):
        digest.update(_bytes(np.asarray(part)))
    _update_with_attrs(digest, ds)


def _update_with_attrs(digest, ds: h5py.Dataset) -> None:
    for key in sorted(ds.attrs):
        value = np.asarray(ds.attrs[key])
        digest.update(f"{key}|{value.dtype.str}|".encode())
        digest.update(_bytes(value))


class WrittenDigest:
    """``dataset_sha256`` of a 1-d table computed from the rows as they are appended (in the table's
    dtype), so sealing the file need not read them back; ``finish`` adds the attributes."""

    def __init__(self, ds: h5py.Dataset) -> None:
        self._digest = hashlib.sha256(f"{ds.name}|{ds.dtype.str}|".encode())

    def update(self, rows: np.ndarray) -> None:
        self._digest.update(_bytes(np.asarray(rows)))

    def finish(self, ds: h5py.Dataset) -> str:
        digest = self._digest.copy()
        _update_with_attrs(digest, ds)
        return digest.hexdigest()


def append_digested(h5: h5py.Group, path: str, rows: np.ndarray, units: Mapping[str, str] | None,
                    digests: dict[str, WrittenDigest]) -> h5py.Dataset:
    """``append_table``, feeding the table's ``WrittenDigest`` in ``digests`` (by dataset name): one is
    started for a table this call creates; a table that existed before without one gets none."""
    created = path not in h5
    ds = append_table(h5, path, rows, units)
    if created:
        digests[ds.name] = WrittenDigest(ds)
    if ds.name in digests:
        digests[ds.name].update(rows.astype(ds.dtype, copy=False))
    return ds


def dataset_sha256(ds: h5py.Dataset) -> str:
    """SHA-256 (hex) of one dataset: its path, dtype, values and attributes."""
    digest = hashlib.sha256()
    update_with_dataset(digest, ds.name, ds)
    return digest.hexdigest()


def covered_datasets(h5: h5py.File) -> list[str]:
    """Every dataset a table checksum covers (sorted): all but the DL0 block payloads (block
    checksums cover them) and the checksum table itself."""
    found: list[str] = []

    def collect(name: str, obj: h5py.HLObject) -> None:
        path = "/" + name
        if not isinstance(obj, h5py.Dataset) or path == TABLE_CHECKSUMS:
            return
        if path.startswith(paths.DL0_TELESCOPE + "/tel_") and path.endswith("/payload"):
            return
        found.append(path)

    h5.visititems(collect)
    return sorted(found)


def seal_tables(h5: h5py.File, written: Mapping[str, WrittenDigest] | None = None) -> str:
    """Write the checksum of every covered dataset and the file's content digest; returns the digest.
    ``written``: the digests of tables by path, kept while every row of them was written (not read back)."""
    names = covered_datasets(h5)
    too_long = [n for n in names if len(n.encode()) > PATH_BYTES]
    if too_long:
        raise ValueError(f"{too_long[0]}: dataset path longer than {PATH_BYTES} bytes, no checksum row fits it")
    written = written or {}
    rows = np.array([(n, written[n].finish(h5[n]) if n in written else dataset_sha256(h5[n])) for n in names],
                    CHECKSUM_DTYPE)
    write_table(h5, TABLE_CHECKSUMS, rows, overwrite=True)
    digest = hashlib.sha256(rows.tobytes()).hexdigest()
    h5.attrs[ATTR_TABLES_DIGEST] = digest
    return digest


def stored_digest(h5: h5py.File) -> str | None:
    """The file's content digest (``ctasim_tables_sha256``), None for files before data model 2.3."""
    value = h5.attrs.get(ATTR_TABLES_DIGEST)
    return value.decode() if isinstance(value, bytes) else (None if value is None else str(value))


def check_tables(h5: h5py.File) -> tuple[int, list[tuple[str, str]]]:
    """Read every covered dataset and compare it with its stored checksum.

    Returns (datasets read, [(kind, one-line detail)]): ``corrupted`` for a dataset that cannot be
    read or whose checksum differs, or one the checksum table does not list; ``missing`` for a
    listed dataset that is gone; ``corrupted`` for a checksum table that does not match the file's
    digest. Files without checksums (before data model 2.3) get the reading only (Fletcher-32).
    """
    problems: list[tuple[str, str]] = []
    stored: dict[str, str] | None = None
    if TABLE_CHECKSUMS in h5:
        try:
            rows = h5[TABLE_CHECKSUMS][()]
        except OSError as err:
            return 0, [("corrupted", f"{TABLE_CHECKSUMS} is unreadable ({err})")]
        if hashlib.sha256(rows.tobytes()).hexdigest() != stored_digest(h5):
            problems.append(("corrupted", f"{TABLE_CHECKSUMS} does not match {ATTR_TABLES_DIGEST}"))
        stored = {r["path"].decode(): r["sha256"].decode() for r in rows}
    names = covered_datasets(h5)
    for name in names:
        try:
            found = dataset_sha256(h5[name])
        except OSError as err:
            problems.append(("corrupted", f"{name} is unreadable ({str(err).splitlines()[0]})"))
            continue
        if stored is None:
            continue
        if name not in stored:
            problems.append(("corrupted", f"{name} is not in {TABLE_CHECKSUMS} (added after the file was closed)"))
        elif stored[name] != found:
            problems.append(("corrupted", f"{name}: checksum mismatch, its contents or attributes changed"))
    for name in sorted(set(stored or ()) - set(names)):
        problems.append(("missing", f"{name}: listed in {TABLE_CHECKSUMS} but gone from the file"))
    return len(names), problems

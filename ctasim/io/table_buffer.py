"""Rows for many tables of one HDF5 file, collected and written in large appends.

Blocks can hold a handful of events; appending each to a chunked, compressed table would
recompress its last chunk every time. A ``TableBuffer`` keeps the rows of every table path and
writes each table in one ``append_table`` call once ``flush_bytes`` are pending in all (and at
``flush()``), so memory stays bounded and the file sees few, large writes. With ``digests``, it
also keeps the checksum of every table it created, fed as rows are written (``seal_tables``
then need not read them back).
"""

from __future__ import annotations

from collections.abc import Mapping

import h5py
import numpy as np

from .checksums import WrittenDigest, append_digested
from .tables import append_table

FLUSH_BYTES = 16 << 20


class TableBuffer:
    """Pending rows per table path of ``h5``; every path keeps the dtype and units it started with."""

    def __init__(self, h5: h5py.Group, flush_bytes: int = FLUSH_BYTES, digests: bool = False) -> None:
        self.h5, self.flush_bytes, self._keep_digests = h5, flush_bytes, digests
        #: ``WrittenDigest`` by dataset name of each table this buffer created and alone wrote
        self.digests: dict[str, WrittenDigest] = {}
        self._rows: dict[str, list[np.ndarray]] = {}
        self._units: dict[str, Mapping[str, str] | None] = {}
        self._pending_bytes = 0

    def add(self, path: str, rows: np.ndarray, units: Mapping[str, str] | None = None) -> int:
        """Queue ``rows`` for the table at ``path``; returns their (uncompressed) bytes."""
        rows = np.asarray(rows)
        pending = self._rows.setdefault(path, [])
        known = self._units.setdefault(path, units)
        if pending and (rows.dtype != pending[0].dtype or dict(units or {}) != dict(known or {})):
            raise ValueError(f"{path}: rows of another dtype or units than the table's")
        pending.append(rows)
        self._pending_bytes += rows.nbytes
        if self._pending_bytes >= self.flush_bytes:
            self.flush()
        return int(rows.nbytes)

    def flush(self) -> None:
        """Write every pending row (one append per table)."""
        for path, rows in self._rows.items():
            if rows:
                if self._keep_digests:
                    append_digested(self.h5, path, np.concatenate(rows), self._units[path], self.digests)
                else:
                    append_table(self.h5, path, np.concatenate(rows), self._units[path])
        self._rows = {path: [] for path in self._rows}
        self._pending_bytes = 0

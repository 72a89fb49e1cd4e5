"""The DL0 archive: reduced telescope blocks plus side tables in one crash-safe, checksummed HDF5 file.

Writing (``DL0ArchiveWriter``) goes to ``<name>.tmp``; ``close()`` writes the table checksums
(``ctasim.io.checksums``), the completion attribute and the file checksum, flushes, fsyncs and
renames atomically to the final name. An exception inside the ``with`` block removes the temporary
file, and a killed process leaves only a ``.tmp`` file without the completion attribute, which the
reader refuses: no partial file ever looks complete.

HDF5 layout (paths in ``paths.py``)::

    /                                    attrs: ctasim_data_model, ctasim_version, provenance.*,
                                                ctasim_complete, ctasim_checksum, n_blocks,
                                                n_events, payload_bytes, ctasim_tables_sha256
    /ctasim/table_checksums              SHA-256 of every other dataset (``checksums.seal_tables``)
    /configuration/instrument/...        the subarray (``instrument.write_instrument``)
    /dl0/event/telescope/tel_NNN/
        payload   uint8 [total bytes]    every block's compressed columns, back to back (no filter:
                                         the bytes are compressed already)
        blocks    table, one row a block: stream, obs_id, block_index, n_events, first_event_id,
                  last_event_id, t_first, t_last (s), codec, checksum (SHA-256 of
                  ``EncodedBlock.checksum``), offset, nbytes (payload bytes), uncompressed_nbytes,
                  column_start, column_stop (rows of ``columns``)
        columns   table, one row per block column: name, dtype (numpy str), ndim, shape[6],
                  offset (into payload), nbytes
        block_attrs  variable-length text, one per block row: the block's ``attrs`` as JSON
    /dl0/event/subarray/trigger, /simulation/..., /dl0/monitoring/...   side tables
                  (``append_table``: chunked, compressed, Fletcher-32, per-column units as
                  ``ctasim.io.tables`` stores them)

A block is one contiguous read of ``payload``; thousands of blocks cost thousands of index rows,
not thousands of HDF5 objects. The file checksum is SHA-256 over the block checksums, telescope by
telescope (ascending tel_id), in row order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import h5py
import numpy as np

from ..datamodel import codecs, paths
from ..datamodel.dl0 import EncodedBlock
from ..errors import DataFileError
from ..instrument.subarray import SubarrayDescription
from .atomic import ensure_free_space, publish, temporary_path
from .checksums import WrittenDigest, append_digested, seal_tables
from .hdf5_file import data_model_of, open_hdf5
from .instrument import read_subarray, write_instrument
from .provenance import read_provenance, to_json, write_provenance
from .table_buffer import TableBuffer
from .tables import table_units

MAX_NDIM = 6
BLOCK_DTYPE = np.dtype(
    [
        ("stream", "S32"),
        ("obs_id", "i4"),
        ("block_index", "i8"),
        ("n_events", "i8"),
        ("first_event_id", "i8"),
        ("last_event_id", "i8"),
        ("t_first", "f8"),
        ("t_last", "f8"),
        ("codec", "S32"),
        ("checksum", "S64"),
        ("offset", "i8"),
        ("nbytes", "i8"),
        ("uncompressed_nbytes", "i8"),
        ("column_start", "i8"),
        ("column_stop", "i8"),
    ]
)
BLOCK_UNITS = {
    "t_first": "s",
    "t_last": "s",
    "nbytes": "byte",
    "uncompressed_nbytes": "byte",
    "offset": "byte",
}
COLUMN_DTYPE = np.dtype(
    [
        ("name", "S32"),
        ("dtype", "S16"),
        ("ndim", "i1"),
        ("shape", "i8", (MAX_NDIM,)),
        ("offset", "i8"),
        ("nbytes", "i8"),
    ]
)
COLUMN_UNITS = {"offset": "byte", "nbytes": "byte"}
PAYLOAD_CHUNK_BYTES = 1 << 20
BLOCK_FLUSH_BYTES = 32 << 20  # pending block payload written at once (per telescope, one append each)
READ_BATCH_BYTES = 8 << 20  # payload bytes ``iter_blocks`` reads at once


def _tel_group(tel_id: int) -> str:
    return paths.tel_table_path(paths.DL0_TELESCOPE, tel_id)


def _first_last(block: EncodedBlock, column: str, dtype: str, empty: Any) -> tuple[Any, Any]:
    """First and last value of a 1-d column (event_id, trigger_time) or ``empty`` if absent."""
    if column not in block.payload or block.n_events == 0:
        return empty, empty
    values = codecs.decode(
        block.codec, block.payload[column], block.dtypes[column], block.shapes[column]
    )
    return np.asarray(values, dtype)[[0, -1]].tolist()


@dataclass
class _PendingBlocks:
    """One telescope's blocks appended but not yet written: payload parts, column rows, block rows, attrs."""

    payload: list[bytes] = field(default_factory=list)
    columns: list[np.ndarray] = field(default_factory=list)
    blocks: list[tuple] = field(default_factory=list)
    attrs: list[str] = field(default_factory=list)


class DL0ArchiveWriter:
    """Crash-safe writer of one DL0 archive file (see the module docstring for the layout).

    ``path`` is the final name; ``subarray`` is written as the instrument description and fixes
    which tel_ids may be appended; ``provenance`` (``provenance.make_provenance``) becomes file
    attributes. Use as a context manager, or call ``close()`` (success) / ``abort()`` (failure).
    """

    def __init__(
        self,
        path: str | Path,
        subarray: SubarrayDescription,
        provenance: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        self.tmp_path = temporary_path(self.path)
        if self.path.exists() and not overwrite:
            raise DataFileError(f"{self.path}: exists already; refusing to overwrite an archive")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tel_ids = {int(t) for t in subarray.tel_ids}
        self._checksums: dict[int, list[bytes]] = {}
        self._seen: dict[tuple[int, str, int, int], str] = {}
        self.n_blocks = 0
        self.n_events = 0
        self.payload_bytes = 0
        self._pending: dict[int, _PendingBlocks] = {}  # blocks not yet written, by tel_id
        self._payload_rows: dict[int, tuple[int, int]] = {}  # tel_id -> (payload bytes, column rows) so far
        self._pending_bytes = 0
        self._digests: dict[str, WrittenDigest] = {}  # table checksums kept as the block index is written
        self._h5 = h5py.File(self.tmp_path, "w")
        # side tables: one append per table, not per block; their checksums kept as they are written
        self._tables = TableBuffer(self._h5, digests=True)
        try:
            write_provenance(self._h5, provenance or {})
            write_instrument(self._h5, subarray)
        except BaseException:
            self.abort()
            raise

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def is_open(self) -> bool:
        return self._h5 is not None

    def _file(self) -> h5py.File:
        if self._h5 is None:
            raise DataFileError(f"{self.path}: archive writer is closed")
        return self._h5

    # -- data ----------------------------------------------------------------------------------
    def append(self, block: EncodedBlock, checksum: str | None = None) -> int:
        """Store one telescope block; returns its payload bytes (0 for a repeated block).
        ``checksum``: the block's ``EncodedBlock.checksum()`` when the caller has it already (computed
        once per block; the reader verifies it).

        Blocks are buffered and written per telescope in one append of each dataset once
        ``BLOCK_FLUSH_BYTES`` of payload are pending (and at ``close``): few, large HDF5 writes.
        A block already stored (same tel_id, stream, obs_id, block_index) with the same checksum
        is ignored, so a retried call is harmless; one with a different checksum is refused.
        """
        self._file()
        tel_id = int(block.tel_id)
        if tel_id not in self._tel_ids:
            raise ValueError(f"{self.path}: tel_id {tel_id} is not in the archive's subarray")
        checksum = checksum or block.checksum()
        key = (tel_id, block.stream, int(block.obs_id), int(block.block_index))
        if key in self._seen:
            if self._seen[key] == checksum:
                return 0
            raise DataFileError(f"{self.path}: block {key} appended twice with different contents")
        names = sorted(block.payload)
        for name in names:
            if len(block.shapes[name]) > MAX_NDIM:
                raise ValueError(
                    f"column {name!r} has {len(block.shapes[name])} dimensions, at most {MAX_NDIM} are stored"
                )
        pending = self._pending.setdefault(tel_id, _PendingBlocks())
        start, column_start = self._payload_rows.get(tel_id, (0, 0))
        columns = np.zeros(len(names), COLUMN_DTYPE)
        offset = start
        for row, name in zip(columns, names):
            shape = block.shapes[name]
            row["name"], row["dtype"], row["ndim"] = name, block.dtypes[name], len(shape)
            row["shape"][: len(shape)] = shape
            row["offset"], row["nbytes"] = offset, len(block.payload[name])
            offset += len(block.payload[name])
            pending.payload.append(block.payload[name])
        nbytes = offset - start
        first_id, last_id = _first_last(block, "event_id", "i8", -1)
        t_first, t_last = _first_last(block, "trigger_time", "f8", np.nan)
        pending.columns.append(columns)
        pending.blocks.append((block.stream, block.obs_id, block.block_index, block.n_events, first_id, last_id,
                               t_first, t_last, block.codec, checksum, start, nbytes, block.uncompressed_nbytes(),
                               column_start, column_start + len(names)))
        pending.attrs.append(to_json(block.attrs, sort_keys=True))
        self._payload_rows[tel_id] = (offset, column_start + len(names))
        self._pending_bytes += nbytes

        self._seen[key] = checksum
        self._checksums.setdefault(tel_id, []).append(checksum.encode())
        self.n_blocks += 1
        self.n_events += block.n_events
        self.payload_bytes += nbytes
        if self._pending_bytes >= BLOCK_FLUSH_BYTES:
            self._flush_blocks()
        return nbytes

    def _flush_blocks(self) -> None:
        """Write every pending block: per telescope one append of payload, columns, blocks and attrs."""
        h5 = self._file()
        ensure_free_space(self.tmp_path, self._pending_bytes)
        for tel_id, pending in sorted(self._pending.items()):
            group = _tel_group(tel_id)
            if f"{group}/payload" not in h5:
                h5.create_dataset(f"{group}/payload", shape=(0,), maxshape=(None,), dtype=np.uint8,
                                  chunks=(PAYLOAD_CHUNK_BYTES,))
                attrs = h5.create_dataset(f"{group}/block_attrs", shape=(0,), maxshape=(None,),
                                          dtype=h5py.string_dtype(), chunks=(1024,))
                self._digests[attrs.name] = WrittenDigest(attrs)
            payload, attrs_ds = h5[f"{group}/payload"], h5[f"{group}/block_attrs"]
            data = np.frombuffer(b"".join(pending.payload), np.uint8)
            if data.size:
                start = payload.shape[0]
                payload.resize((start + data.size,))
                payload[start:] = data
            for name, rows, units in (("columns", np.concatenate(pending.columns), COLUMN_UNITS),
                                      ("blocks", np.array(pending.blocks, BLOCK_DTYPE), BLOCK_UNITS)):
                append_digested(h5, f"{group}/{name}", rows, units, self._digests)
            texts = np.array(pending.attrs, dtype=object)
            n = attrs_ds.shape[0]
            attrs_ds.resize((n + texts.size,))
            attrs_ds[n:] = texts
            self._digests[attrs_ds.name].update(texts)
        self._pending = {}
        self._pending_bytes = 0

    def append_table(
        self, path: str, data: np.ndarray, units: Mapping[str, str] | None = None
    ) -> int:
        """Append rows to a side table (shower truth, trigger, monitoring ...); returns bytes
        (uncompressed). Rows are buffered (``TableBuffer``); an archive is complete only once
        closed, so buffering loses nothing a crash would not void anyway."""
        if path.startswith(paths.DL0_TELESCOPE + "/tel_"):
            raise ValueError(
                f"{path}: telescope block storage is written by append(), not append_table()"
            )
        self._file()
        return self._tables.add(path, data, units)

    # -- closing -------------------------------------------------------------------------------
    def file_checksum(self) -> str:
        """SHA-256 over all block checksums (ascending tel_id, row order)."""
        return _combine(self._checksums)

    def close(self) -> Path:
        """Mark complete, flush, fsync and atomically rename to the final name; returns it.

        If completing fails (e.g. disk full), the temporary file is removed and the error raised."""
        h5 = self._file()
        try:
            self._flush_blocks()
            self._tables.flush()
            seal_tables(h5, written=self._digests | self._tables.digests)
            h5.attrs[paths.ATTR_FILE_CHECKSUM] = self.file_checksum()
            h5.attrs["n_blocks"] = self.n_blocks
            h5.attrs["n_events"] = self.n_events
            h5.attrs["payload_bytes"] = self.payload_bytes
            h5.attrs[paths.ATTR_COMPLETE] = np.int8(1)  # an integer: PyTables reads no HDF5 booleans
            h5.close()
        except BaseException:
            self.abort()
            raise
        self._h5 = None
        return publish(self.tmp_path, self.path)

    def abort(self) -> None:
        """Close without completing and delete the temporary file (idempotent)."""
        if self._h5 is not None:
            try:
                self._h5.close()
            except (OSError, RuntimeError):
                pass    # a file that cannot be completed is removed below all the same
            finally:
                self._h5 = None
        self.tmp_path.unlink(missing_ok=True)


def read_batches(nbytes: np.ndarray, batch_bytes: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) rows whose ``nbytes`` add up to at most ``batch_bytes`` (at least
    one row each), covering every row in order."""
    batches, start, total = [], 0, 0
    for row, n in enumerate(nbytes.tolist()):
        if row > start and total + n > batch_bytes:
            batches.append((start, row))
            start, total = row, 0
        total += n
    if start < len(nbytes):
        batches.append((start, len(nbytes)))
    return batches


def _combine(checksums: Mapping[int, list[bytes]]) -> str:
    h = hashlib.sha256()
    for tel_id in sorted(checksums):
        for c in checksums[tel_id]:
            h.update(c)
    return h.hexdigest()


class DL0ArchiveReader:
    """Read a complete DL0 archive; refuses, with a one-line ``DataFileError``, any file that is
    missing, not HDF5, not complete, of another data-model major version, or damaged."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._h5 = open_hdf5(self.path)
        try:
            self._check_header()
        except BaseException:
            self._h5.close()
            raise

    def _check_header(self) -> None:
        self.data_model = data_model_of(self._h5)
        attrs = self._h5.attrs
        if not attrs.get(paths.ATTR_COMPLETE, False):
            raise DataFileError(f"{self.path}: incomplete archive (the writer never closed it)", kind="truncated")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._h5.close()

    # -- metadata ------------------------------------------------------------------------------
    @property
    def file(self) -> h5py.File:
        """The open HDF5 file (read-only)."""
        return self._h5

    @property
    def provenance(self) -> dict[str, Any]:
        return read_provenance(self._h5)

    @property
    def subarray(self) -> SubarrayDescription:
        return read_subarray(self._h5)

    @property
    def stored_checksum(self) -> str:
        return str(self._h5.attrs[paths.ATTR_FILE_CHECKSUM])

    @property
    def n_events(self) -> int:
        """Telescope events in all blocks, as the writer counted them."""
        return int(self._h5.attrs["n_events"])

    def check_index(self) -> None:
        """The block index tables against the file checksum (they hold every block checksum);
        a mismatch raises a one-line DataFileError. Reads the index only, no payload."""
        checksums = {tel: list(self.block_index(tel)["checksum"]) for tel in self.tel_ids}
        if _combine(checksums) != self.stored_checksum:
            raise DataFileError(f"{self.path}: file checksum mismatch, the block index is damaged", kind="corrupted")

    @property
    def tel_ids(self) -> list[int]:
        """Telescopes that have at least one block, ascending."""
        group = self._h5.get(paths.DL0_TELESCOPE)
        if group is None:
            return []
        return sorted(int(name[4:]) for name in group if name.startswith("tel_"))

    def block_index(self, tel_id: int) -> np.ndarray:
        """The ``blocks`` index table of one telescope (BLOCK_DTYPE rows)."""
        return self._read(f"{_tel_group(tel_id)}/blocks")

    def _read(self, path: str, sel: Any = ()) -> np.ndarray:
        try:
            return self._h5[path][sel]
        except KeyError:
            raise DataFileError(f"{self.path}: no dataset {path}", kind="missing") from None
        except OSError as err:
            raise DataFileError(f"{self.path}: {path} is damaged ({err})", kind="corrupted") from None

    # -- blocks --------------------------------------------------------------------------------
    def read_block(self, tel_id: int, row: int, verify: bool = True) -> EncodedBlock:
        """Block ``row`` of a telescope's index (reading only its index and column rows); with
        ``verify`` its checksum is checked."""
        index = self._read(f"{_tel_group(tel_id)}/blocks", slice(row, row + 1))
        if index.size == 0:
            raise IndexError(f"{self.path}: {paths.tel_table_name(tel_id)} has no block row {row}")
        return next(self._blocks(tel_id, row, index, verify))

    def _blocks(self, tel_id: int, start: int, index: np.ndarray, verify: bool) -> Iterator[EncodedBlock]:
        """The blocks of the telescope's index rows ``index`` (rows ``start``, ``start + 1``, ...), their
        column, payload and attribute rows each read in one piece."""
        group = _tel_group(tel_id)
        stop = start + index.size
        if index.size == 0:
            return
        first_column = int(index["column_start"][0])
        cols = self._read(f"{group}/columns", slice(first_column, int(index["column_stop"][-1])))
        base = int(index["offset"].min())
        raw = self._read(f"{group}/payload", slice(base, int((index["offset"] + index["nbytes"]).max()))).tobytes()
        attrs = self._read(f"{group}/block_attrs", slice(start, stop))
        for k, row in enumerate(range(start, stop)):
            entry = index[k]
            block_cols = cols[int(entry["column_start"]) - first_column : int(entry["column_stop"]) - first_column]
            names = [c["name"].decode() for c in block_cols]
            offsets = [(int(c["offset"]) - base, int(c["offset"] + c["nbytes"]) - base) for c in block_cols]
            block = EncodedBlock(
                stream=entry["stream"].decode(),
                obs_id=int(entry["obs_id"]),
                tel_id=int(tel_id),
                block_index=int(entry["block_index"]),
                n_events=int(entry["n_events"]),
                codec=entry["codec"].decode(),
                payload={n: raw[a:b] for n, (a, b) in zip(names, offsets)},
                dtypes={n: c["dtype"].decode() for n, c in zip(names, block_cols)},
                shapes={n: tuple(int(s) for s in c["shape"][: c["ndim"]]) for n, c in zip(names, block_cols)},
                attrs=json.loads(attrs[k]),
            )
            if verify and block.checksum() != entry["checksum"].decode():
                raise DataFileError(
                    f"{self.path}: {paths.tel_table_name(tel_id)} block row {row} (stream {block.stream}, "
                    f"block_index {block.block_index}): checksum mismatch, the payload is damaged", kind="corrupted"
                )
            yield block

    def iter_blocks(self, tel_id: int | None = None, verify: bool = True,
                    rows: range | None = None) -> Iterator[EncodedBlock]:
        """Blocks of one telescope (or of all, ascending tel_id) in write order, checksum-verified;
        ``rows``: only those rows of the one telescope's index (a step-1 range). Consecutive blocks
        are read together, up to ``READ_BATCH_BYTES`` of payload at once."""
        if rows is not None and (tel_id is None or rows.step != 1):
            raise ValueError("iter_blocks: rows need one tel_id and a range of step 1")
        for tel in [tel_id] if tel_id is not None else self.tel_ids:
            index = self._read(f"{_tel_group(tel)}/blocks")
            span = range(index.size) if rows is None else range(index.size)[rows.start : rows.stop]
            for start, stop in read_batches(index["nbytes"][span.start : span.stop], READ_BATCH_BYTES):
                yield from self._blocks(tel, span.start + start, index[span.start + start : span.start + stop], verify)

    def read_telescope(
        self, tel_id: int, columns: tuple[str, ...] | None = None
    ) -> dict[str, np.ndarray]:
        """Decoded columns of all blocks of a telescope, concatenated along the first axis."""
        parts: dict[str, list[np.ndarray]] = {}
        for block in self.iter_blocks(tel_id):
            for name, values in block.decode().items():
                if columns is None or name in columns:
                    parts.setdefault(name, []).append(values)
        return {name: np.concatenate(v) for name, v in parts.items()}

    def check_blocks(self) -> tuple[dict[str, int], list[DataFileError]]:
        """Read every block of every telescope and verify its checksum, then the index against the
        file checksum; never raises for bad data. Returns ({"blocks", "events", "bytes"} of the
        blocks that verified, [one DataFileError per damaged block or index])."""
        counts = {"blocks": 0, "events": 0, "bytes": 0}
        failed: list[DataFileError] = []
        for tel_id in self.tel_ids:
            try:
                index = self.block_index(tel_id)
                for row in range(index.size):
                    try:
                        self.read_block(tel_id, row, verify=True)
                    except DataFileError as err:
                        failed.append(err)
                        continue
                    counts["blocks"] += 1
                    counts["events"] += int(index[row]["n_events"])
                    counts["bytes"] += int(index[row]["nbytes"])
            except DataFileError as err:
                failed.append(err)
        try:
            self.check_index()
        except DataFileError as err:
            failed.append(err)
        return counts, failed

    # -- side tables ---------------------------------------------------------------------------
    def has_table(self, path: str) -> bool:
        return path in self._h5

    def read_table(self, path: str) -> tuple[np.ndarray, dict[str, str]]:
        """A side table and its units."""
        data = self._read(path)
        return data, table_units(self._h5[path])

    def dataset_paths(self) -> list[str]:
        """Every dataset in the file except the block payloads."""
        found: list[str] = []
        self._h5.visititems(
            lambda name, obj: (
                found.append("/" + name)
                if isinstance(obj, h5py.Dataset) and not name.endswith("/payload")
                else None
            )
        )
        return found

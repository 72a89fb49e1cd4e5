"""Archive journal: every block the archiver receives, stored once, as its own small file.

``run_dir/dl0/journal/<stream>/block_NNNNNN.npz`` holds what the archiver writes for one block (its
DL0 telescope blocks, event side tables and technical data) and the block's acknowledgement. Each
file is written under a temporary name and renamed when complete, and a block already in the
journal is not written again: archiving is idempotent by (stream, block index), so an archiver
restarted after a kill, a block resubmitted after a camera restart, or a resumed run neither loses
nor duplicates data. ``RunArchiver.close`` merges the journal into the final DL0 files in block
order. ``scenario.json`` beside the blocks is the resolved scenario the run started with
(``ctasim run --resume`` continues from it). Files are numpy ``.npz`` archives read without pickle,
two zip members with CRC-32 (checked on reading): ``meta`` (JSON: the ack, each DL0 block's columns,
sizes and SHA-256, each table's path, units, dtype and shape) and ``data`` (every block's payload and
every table's rows, back to back, at the offsets ``meta`` gives). A DL0 block's SHA-256 is computed
once, when it is stored, and travels with it to the archive, whose reader verifies it.
"""

from __future__ import annotations

import functools
import json
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..datamodel.dl0 import EncodedBlock
from ..errors import CtasimError, DataFileError
from ..io.atomic import TMP_SUFFIX, ensure_free_space, publish, temporary_path, write_text_atomic
from ..io.provenance import to_json

JOURNAL_DIR = "journal"
SCENARIO_FILE = "scenario.json"

Table = tuple[str, np.ndarray, dict[str, str]]  # (HDF5 path, rows, units)


@dataclass
class JournalEntry:
    """One archived block: its acknowledgement (JSON-friendly mapping), DL0 blocks and side tables."""

    ack: dict[str, Any]
    blocks: list[EncodedBlock]
    tables: list[Table]
    checksums: list[str] = field(default_factory=list)  # SHA-256 of each block (computed once, when stored)


@functools.lru_cache(maxsize=256)
def _descr(dtype: np.dtype) -> Any:
    """The JSON-friendly ``.npy`` description of a table's dtype (a handful of dtypes, thousands of tables)."""
    return np.lib.format.dtype_to_descr(dtype)


@functools.lru_cache(maxsize=256)
def _dtype(descr_json: str) -> np.dtype:
    """``_descr`` back to the dtype (keyed by its JSON text)."""
    return np.lib.format.descr_to_dtype(json.loads(descr_json))


def journal_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "dl0" / JOURNAL_DIR


class ArchiveJournal:
    """The journal of the run in ``run_dir`` (created on the first write)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.dir = journal_dir(run_dir)

    def path(self, stream: str, block_index: int) -> Path:
        return self.dir / stream / f"block_{int(block_index):06d}.npz"

    def has(self, stream: str, block_index: int) -> bool:
        return self.path(stream, block_index).is_file()

    def block_indices(self, stream: str) -> list[int]:
        """Block indices of ``stream`` in the journal, ascending."""
        folder = self.dir / stream
        return sorted(int(p.stem.removeprefix("block_")) for p in folder.glob("block_*.npz")) if folder.is_dir() else []

    def write(self, stream: str, block_index: int, entry: JournalEntry) -> bool:
        """Store a block unless it is there already (then False: nothing written). Each DL0 block's
        SHA-256 is computed here (unless ``entry.checksums`` has it), once: it travels with the block."""
        path = self.path(stream, block_index)
        if path.is_file():
            return False
        checksums = entry.checksums or [b.checksum() for b in entry.blocks]
        meta: dict[str, Any] = {"ack": entry.ack, "blocks": [], "tables": []}
        parts: list[bytes] = []
        offset = 0
        for b, checksum in zip(entry.blocks, checksums):
            names = sorted(b.payload)
            sizes = [len(b.payload[n]) for n in names]
            meta["blocks"].append({"stream": b.stream, "obs_id": b.obs_id, "tel_id": b.tel_id,
                                   "block_index": b.block_index, "n_events": b.n_events, "codec": b.codec,
                                   "columns": names, "nbytes": sizes, "offset": offset, "dtypes": b.dtypes,
                                   "shapes": b.shapes, "attrs": b.attrs, "checksum": checksum})
            parts.extend(b.payload[n] for n in names)
            offset += sum(sizes)
        for table, rows, units in entry.tables:
            rows = np.ascontiguousarray(rows)
            meta["tables"].append({"path": table, "units": dict(units or {}), "offset": offset,
                                   "dtype": _descr(rows.dtype), "shape": rows.shape})
            parts.append(rows.tobytes())
            offset += rows.nbytes
        arrays = {"meta": np.frombuffer(to_json(meta).encode(), np.uint8),
                  "data": np.frombuffer(b"".join(parts), np.uint8)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(path)
        ensure_free_space(tmp, offset)
        try:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
            publish(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return True

    def read_ack(self, stream: str, block_index: int) -> dict[str, Any]:
        """The stored acknowledgement of a block (reads only its metadata)."""
        with self._open(stream, block_index) as npz:
            return self._meta(npz, stream, block_index)["ack"]

    def read(self, stream: str, block_index: int) -> JournalEntry:
        """A stored block with its DL0 blocks' checksums (one-line DataFileError if damaged: the zip
        members' CRC-32 is checked as they are read)."""
        path = self.path(stream, block_index)
        with self._open(stream, block_index) as npz:
            meta = self._meta(npz, stream, block_index)
            try:
                data = npz["data"].tobytes()
                blocks = [self._block(data, m) for m in meta["blocks"]]
                tables = [(t["path"], self._rows(data, t), t["units"]) for t in meta["tables"]]
            except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as err:
                raise DataFileError(f"{path}: damaged journal block ({err})") from None
        return JournalEntry(meta["ack"], blocks, tables, [m["checksum"] for m in meta["blocks"]])

    @staticmethod
    def _block(data: bytes, m: dict[str, Any]) -> EncodedBlock:
        payload, offset = {}, m["offset"]
        for name, size in zip(m["columns"], m["nbytes"]):
            payload[name] = data[offset:offset + size]
            offset += size
        return EncodedBlock(
            stream=m["stream"], obs_id=m["obs_id"], tel_id=m["tel_id"], block_index=m["block_index"],
            n_events=m["n_events"], codec=m["codec"], payload=payload,
            dtypes=m["dtypes"], shapes={k: tuple(v) for k, v in m["shapes"].items()}, attrs=m["attrs"])

    @staticmethod
    def _rows(data: bytes, t: dict[str, Any]) -> np.ndarray:
        dtype = _dtype(to_json(t["dtype"]))
        shape = tuple(t["shape"])
        n = int(np.prod(shape, dtype=np.int64))
        return np.frombuffer(data, dtype, n, t["offset"]).reshape(shape).copy()

    def _open(self, stream: str, block_index: int) -> Any:
        path = self.path(stream, block_index)
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, zipfile.BadZipFile) as err:
            raise DataFileError(f"{path}: unreadable journal block ({err})") from None

    def _meta(self, npz: Any, stream: str, block_index: int) -> dict[str, Any]:
        try:
            return json.loads(npz["meta"].tobytes())
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as err:
            raise DataFileError(f"{self.path(stream, block_index)}: damaged journal block ({err})") from None

    def remove_temporaries(self) -> int:
        """Delete block files a killed writer left half-written; returns how many."""
        stale = [p for pattern in (f"*{TMP_SUFFIX}", f"*/*{TMP_SUFFIX}") for p in self.dir.glob(pattern)]
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)

    def write_scenario(self, scenario: Mapping[str, Any]) -> None:
        """Record the resolved scenario the run starts with (kept if present: a resumed run)."""
        path = self.dir / SCENARIO_FILE
        if not path.is_file():
            self.dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, to_json(scenario, indent=1, sort_keys=True))

    def read_scenario(self) -> dict[str, Any]:
        """The scenario of the interrupted run; one-line CtasimError if there is none."""
        path = self.dir / SCENARIO_FILE
        run_dir = self.dir.parent.parent
        if not path.is_file():
            if (run_dir / "summary.json").is_file():
                raise CtasimError(f"{run_dir}: the run is complete (summary.json), nothing to resume")
            raise CtasimError(f"{run_dir}: no {path.relative_to(run_dir)}: not an interrupted ctasim run, "
                              "nothing to resume")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise CtasimError(f"{path}: not valid JSON ({err}); cannot resume") from None

    def remove(self) -> None:
        """Delete the journal (the run is complete: its DL0 files, summary and report are written)."""
        shutil.rmtree(self.dir, ignore_errors=True)

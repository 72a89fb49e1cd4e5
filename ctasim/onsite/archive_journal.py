"""Archive journal: every block the archiver receives, stored once, as its own small file.

``run_dir/dl0/journal/<stream>/block_NNNNNN.npz`` holds what the archiver writes for one block (its
DL0 telescope blocks, event side tables and technical data) and the block's acknowledgement. Each
file is written under a temporary name and renamed when complete, and a block already in the
journal is not written again: archiving is idempotent by (stream, block index), so an archiver
restarted after a kill, a block resubmitted after a camera restart, or a resumed run neither loses
nor duplicates data. ``RunArchiver.close`` merges the journal into the final DL0 files in block
order. ``scenario.json`` beside the blocks is the resolved scenario the run started with
(``ctasim run --resume`` continues from it). Files are numpy ``.npz`` archives (zip members with
CRC-32) read without pickle; each DL0 block's SHA-256 is checked again on reading.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
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
        """Store a block unless it is there already (then False: nothing written)."""
        path = self.path(stream, block_index)
        if path.is_file():
            return False
        meta = {"ack": entry.ack, "blocks": [], "tables": []}
        arrays: dict[str, np.ndarray] = {}
        for i, b in enumerate(entry.blocks):
            names = sorted(b.payload)
            meta["blocks"].append({"stream": b.stream, "obs_id": b.obs_id, "tel_id": b.tel_id,
                                   "block_index": b.block_index, "n_events": b.n_events, "codec": b.codec,
                                   "columns": names, "dtypes": b.dtypes, "shapes": b.shapes, "attrs": b.attrs,
                                   "checksum": b.checksum()})
            arrays.update({f"b{i}_{j}": np.frombuffer(b.payload[n], np.uint8) for j, n in enumerate(names)})
        for j, (table, rows, units) in enumerate(entry.tables):
            meta["tables"].append({"path": table, "units": dict(units or {})})
            arrays[f"t{j}"] = np.ascontiguousarray(rows)
        arrays["meta"] = np.frombuffer(to_json(meta).encode(), np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(path)
        ensure_free_space(tmp, sum(a.nbytes for a in arrays.values()))
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
        """A stored block, every DL0 block's checksum verified (one-line DataFileError if damaged)."""
        path = self.path(stream, block_index)
        with self._open(stream, block_index) as npz:
            meta = self._meta(npz, stream, block_index)
            try:
                blocks = [self._block(npz, i, m) for i, m in enumerate(meta["blocks"])]
                tables = [(t["path"], npz[f"t{j}"], t["units"]) for j, t in enumerate(meta["tables"])]
            except (KeyError, ValueError, OSError, zipfile.BadZipFile) as err:
                raise DataFileError(f"{path}: damaged journal block ({err})") from None
        for block, m in zip(blocks, meta["blocks"]):
            if block.checksum() != m["checksum"]:
                raise DataFileError(f"{path}: tel_id {block.tel_id}: checksum mismatch, the journal is damaged")
        return JournalEntry(meta["ack"], blocks, tables)

    @staticmethod
    def _block(npz: Any, i: int, m: dict[str, Any]) -> EncodedBlock:
        return EncodedBlock(
            stream=m["stream"], obs_id=m["obs_id"], tel_id=m["tel_id"], block_index=m["block_index"],
            n_events=m["n_events"], codec=m["codec"],
            payload={n: npz[f"b{i}_{j}"].tobytes() for j, n in enumerate(m["columns"])},
            dtypes=m["dtypes"], shapes={k: tuple(v) for k, v in m["shapes"].items()}, attrs=m["attrs"])

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

"""Archive journal: a block stored once, read back exactly, a damaged file refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from ctasim.datamodel.dl0 import EncodedBlock
from ctasim.errors import CtasimError, DataFileError
from ctasim.onsite.archive_journal import ArchiveJournal, JournalEntry

ROWS = np.array([(1, 10, 0.5), (1, 11, 0.7)], [("obs_id", "i4"), ("event_id", "i8"), ("time", "f8")])


def entry(charge_scale: float = 1.0) -> JournalEntry:
    block = EncodedBlock.encode("gamma", 1, 3, 4, "zstd", {
        "event_id": np.array([10, 11]), "charge": charge_scale * np.arange(12, dtype=np.float32).reshape(2, 6)},
        attrs={"variant": "integrated"})
    return JournalEntry({"stream": "gamma", "block_index": 4}, [block], [("/dl0/event/subarray/trigger", ROWS,
                                                                          {"time": "s"})])


def test_a_block_is_stored_once_and_read_back_exactly(tmp_path):
    journal = ArchiveJournal(tmp_path)
    assert journal.write("gamma", 4, entry()) is True
    assert journal.write("gamma", 4, entry(charge_scale=2.0)) is False  # the first copy is kept
    back = journal.read("gamma", 4)
    (block,) = back.blocks
    assert block.checksum() == entry().blocks[0].checksum() and block.attrs == {"variant": "integrated"}
    assert np.array_equal(block.decode()["charge"], entry().blocks[0].decode()["charge"])
    path, rows, units = back.tables[0]
    assert path == "/dl0/event/subarray/trigger" and rows.tobytes() == ROWS.tobytes() and units == {"time": "s"}
    assert journal.read_ack("gamma", 4) == {"stream": "gamma", "block_index": 4}
    assert journal.block_indices("gamma") == [4] and journal.block_indices("proton") == []


def test_a_damaged_journal_block_is_refused_in_one_line(tmp_path):
    journal = ArchiveJournal(tmp_path)
    journal.write("gamma", 4, entry())
    path = journal.path("gamma", 4)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match=r"block_000004\.npz: .*") as err:
        journal.read("gamma", 4)
    assert "\n" not in str(err.value)


def test_no_journal_means_nothing_to_resume(tmp_path):
    with pytest.raises(CtasimError, match="not an interrupted ctasim run"):
        ArchiveJournal(tmp_path).read_scenario()
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(CtasimError, match="the run is complete"):
        ArchiveJournal(tmp_path).read_scenario()
    ArchiveJournal(tmp_path).write_scenario({"name": "x", "seed": 1})
    assert ArchiveJournal(tmp_path).read_scenario() == {"name": "x", "seed": 1}

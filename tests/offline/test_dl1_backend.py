"""Offline DL1 through the execution backend: Ray tasks write the same DL1 files as the in-process
executor, units in flight stay bounded, a damaged archive still fails in one line with nothing
published, and a run on Ray and ``ctasim process`` run their DL1 on the backend they are given."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest
from chain_helpers import small_scenario

from actors.backend import RayBackend
from actors.offline_executor import RayExecutor
from actors.orchestrator import run_scenario
from ctasim.cli import main
from ctasim.datamodel import paths
from ctasim.errors import DataFileError
from ctasim.offline.dl1 import process_dl1
from ctasim.scenario import validate_scenario


@pytest.fixture(scope="module")
def ray_run(tmp_path_factory, ray_session) -> Path:
    """The small scenario (3 telescopes) run on Ray with offline DL1 (archives with waveforms and pedestal
    rows); read-only."""
    run_dir = tmp_path_factory.mktemp("ray_run") / "run"
    scenario = validate_scenario(small_scenario(run_dir, blocks_per_stream=2) | {"offline": {"dl1": True}})
    run_scenario(scenario, run_dir, backend="ray")
    return run_dir


@pytest.fixture(scope="module")
def ray_executor(ray_session) -> RayExecutor:
    return RayExecutor(RayBackend())  # joins the module's Ray session (and leaves it up)


def _fresh(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "dl0", dst / "dl0")
    return dst


def _datasets(path: Path) -> dict[str, object]:
    """Every dataset's dtype and values (bytes, so NaN compares equal; text as a list), the table
    checksums included, and the file's content digest."""
    found: dict[str, object] = {}

    def add(name: str, obj) -> None:
        if isinstance(obj, h5py.Dataset):
            values = obj[()]
            found[name] = (obj.dtype.str, values.tolist() if values.dtype.kind == "O" else values.tobytes())

    with h5py.File(path, "r") as h5:
        h5.visititems(add)
        found["tables_digest"] = h5.attrs[paths.ATTR_TABLES_DIGEST]
    return found


def _contents(files: list[Path]) -> dict[str, dict[str, object]]:
    return {path.name: _datasets(path) for path in files}


class ReadAheadExecutor:
    """Computes up to ``max_in_flight`` units ahead of the consumer (as a pool would), in this process,
    and records the most it ever held pending and whether the units came with their blocks."""

    name, workers = "read-ahead", 3

    def __init__(self, shares_files: bool = True) -> None:
        self.most_pending, self.limits, self.shares_files, self.carried = 0, [], shares_files, set()

    def map_ordered(self, fn, args, max_in_flight):
        self.limits.append(max_in_flight)
        pending, args = [], iter(args)
        while True:
            units = [a for _, a in zip(range(max_in_flight - len(pending)), args)]
            self.carried |= {a.blocks is not None for a in units}
            pending += [fn(a) for a in units]
            self.most_pending = max(self.most_pending, len(pending))
            if not pending:
                return
            yield pending.pop(0)


def test_a_run_on_ray_makes_its_dl1_with_ray_tasks(ray_run, tmp_path):
    dl1 = json.loads((ray_run / "summary.json").read_text())["dl1"]
    assert dl1["executor"] == "ray" and dl1["workers"] == 2 and dl1["telescope_events"] > 0
    local_files, _ = process_dl1(_fresh(ray_run, tmp_path))
    assert _contents([Path(f) for f in dl1["files"]]) == _contents(local_files)


def test_ray_tasks_write_the_same_dl1_as_in_process(ray_run, ray_executor, tmp_path):
    local_files, local = process_dl1(_fresh(ray_run, tmp_path / "local"), pass_number=2)
    ray_files, remote = process_dl1(_fresh(ray_run, tmp_path / "ray"), pass_number=2, executor=ray_executor,
                                    unit_events=1)
    assert local["executor"] == "in-process" and remote["executor"] == "ray" and remote["workers"] == 2
    assert remote["units"] > local["units"] >= 4  # one block a unit on Ray, one telescope a unit in-process
    assert remote["telescope_events"] == local["telescope_events"] == local["images_stored"] > 0
    expected = _contents(local_files)
    assert all(f"dl1/monitoring/telescope/pixel_status/tel_{t:03d}" in expected[local_files[0].name] for t in (1, 3))
    assert _contents(ray_files) == expected


@pytest.mark.parametrize("shares_files", [True, False])
def test_units_in_flight_are_bounded_and_files_do_not_depend_on_the_unit_size(dl0_run, tmp_path, shares_files):
    local_files, _ = process_dl1(_fresh(dl0_run, tmp_path / "local"))
    executor = ReadAheadExecutor(shares_files)
    files, stats = process_dl1(_fresh(dl0_run, tmp_path / "ahead"), executor=executor, unit_events=40)
    assert executor.limits == [6]  # two units per worker, for the whole run (both files)
    assert executor.most_pending == 6 and stats["units"] > 6
    assert executor.carried == {not shares_files}  # without shared files, the driver reads the blocks
    assert _contents(files) == _contents(local_files)


def test_the_ray_executor_keeps_order_and_a_bounded_number_of_tasks(ray_executor):
    pulled = []

    def args():
        for i in range(12):
            pulled.append(i)
            yield i

    def negate(x):  # defined here: Ray ships it by value (the workers cannot import tests)
        return -x

    seen = []
    for i, value in enumerate(ray_executor.map_ordered(negate, args(), max_in_flight=3)):
        seen.append(int(value))
        assert len(pulled) - i <= 3  # submitted and not yet handed back
    assert seen == [-i for i in range(12)]


def _flip_block_payload(archive: Path) -> None:
    with h5py.File(archive, "r") as h5:
        offset = h5[paths.tel_table_path(paths.DL0_TELESCOPE, 1) + "/payload"].id.get_chunk_info(0).byte_offset + 100
    with open(archive, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_a_damaged_archive_on_ray_fails_in_one_line_and_publishes_nothing(dl0_run, ray_executor, tmp_path):
    run_dir = _fresh(dl0_run, tmp_path)
    _flip_block_payload(run_dir / "dl0" / "synthetic_proton_obs000002.dl0.h5")
    with pytest.raises(DataFileError) as err:
        process_dl1(run_dir, executor=ray_executor, unit_events=40)
    text = str(err.value)
    assert "checksum mismatch" in text and "synthetic_proton_obs000002" in text and "\n" not in text
    assert not list((run_dir / "dl1").iterdir())  # the gamma file was complete: not published either


def test_process_runs_dl1_on_the_backend_it_is_given(ray_run, tmp_path, capsys):
    runs = {}
    for name, options in (("ray", []), ("local", ["--no-ray"]), ("unreachable", ["--address", "127.0.0.1:9"])):
        shutil.copytree(ray_run, tmp_path / name)
        shutil.rmtree(tmp_path / name / "dl1")
        runs[name] = main(["process", str(tmp_path / name), *options])
    err = capsys.readouterr().err
    assert runs == {"ray": 0, "local": 0, "unreachable": 2}
    assert err.count("\n") == 1 and "--address 127.0.0.1:9: no Ray cluster answers there" in err, err
    assert not list((tmp_path / "unreachable" / "dl1").glob("*"))
    dl1 = {name: json.loads((tmp_path / name / "summary.json").read_text())["dl1"] for name in ("ray", "local")}
    assert dl1["ray"]["executor"] == "ray" and dl1["local"]["executor"] == "in-process"
    assert _contents([Path(f) for f in dl1["ray"]["files"]]) == _contents([Path(f) for f in dl1["local"]["files"]])

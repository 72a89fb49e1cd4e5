"""A read-only output place: every command that writes ends in one line, exit status 2, nothing changed.

Root ignores directory permissions, so the place is a read-only mount (skipped where it cannot be made).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
import yaml
from chain_helpers import tiny_scenario
from toy_run import write_run_json

from ctasim.cli import main


def _mount(args: list[str]) -> None:
    if subprocess.run(["mount", *args], capture_output=True).returncode != 0:
        pytest.skip("cannot mount here (needs root)")


@pytest.fixture
def read_only_run(tmp_path, dl0_run):
    """A copy of the toy run (DL0, summary.json, provenance.json) seen through a read-only bind mount."""
    run_dir = tmp_path / "run"
    shutil.copytree(dl0_run / "dl0", run_dir / "dl0")
    write_run_json(run_dir, {"name": "synthetic", "seed": 1, "offline": {"dl1": True}})
    view = tmp_path / "view"
    view.mkdir()
    _mount(["--bind", str(run_dir), str(view)])
    try:
        _mount(["-o", "remount,ro,bind", str(view)])
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=False)


def _digest(folder) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", [["process"], ["process", "--dl2"], ["reprocess"]])
def test_offline_commands_on_a_read_only_run(read_only_run, command, capsys):
    before = _digest(read_only_run)
    assert main([command[0], str(read_only_run), *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "read-only" in err.lower() and str(read_only_run) in err, err
    assert _digest(read_only_run) == before


def test_a_run_into_a_read_only_disk(tmp_path, capsys):
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount(["-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(disk)])
    try:
        scenario = tmp_path / "tiny.yaml"
        scenario.write_text(yaml.safe_dump(tiny_scenario(disk / "run").to_dict()))
        assert main(["run", str(scenario), "--no-ray", "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Read-only file system" in err and str(disk / "run") in err, err
        assert not any(disk.iterdir())
    finally:
        subprocess.run(["umount", str(disk)], check=False)

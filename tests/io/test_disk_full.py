"""A disk that fills during a run: one line, exit status 2, no ``.tmp`` left, other runs untouched."""

import subprocess
from collections import namedtuple

import pytest
import yaml
from chain_helpers import tiny_scenario

import ctasim.io.atomic as atomic
from ctasim.errors import CtasimError


def test_a_write_that_would_leave_less_than_the_reserve_is_refused(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda _: usage(1e9, 1e9 - 9e6, 9e6))
    atomic.ensure_free_space(tmp_path / "f.h5", 0.5e6)            # 9 MB free: 0.5 + 8 MB fit
    with pytest.raises(CtasimError, match="disk full") as err:
        atomic.ensure_free_space(tmp_path / "f.h5", 2e6)
    assert "\n" not in str(err.value) and "f.h5" in str(err.value)


@pytest.fixture
def small_disk(tmp_path):
    """A 10 MB tmpfs (skipped where it cannot be mounted, e.g. without root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=10m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_run_onto_a_full_disk_ends_in_one_line(small_disk, tmp_path, capsys):
    from ctasim.cli import main

    earlier = small_disk / "earlier"
    earlier.mkdir()
    (earlier / "summary.json").write_text("{}")
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny_scenario(small_disk / "run", n_showers=600).to_dict()))
    assert main(["run", str(scenario), "--no-ray", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "disk full" in err
    assert not list(small_disk.rglob("*.tmp"))
    assert (earlier / "summary.json").read_text() == "{}"

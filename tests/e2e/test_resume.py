"""A SIGKILLed `ctasim run` leaves no Ray process behind, and `ctasim run --resume RUN_DIR` finishes
it with the archive an uninterrupted run writes (DL0 digest). The driver is a subprocess on an
embedded Ray; a slow archiver (0.5 s per block) leaves time to kill it mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from chain_helpers import dl0_digest, small_scenario

from actors.orchestrator import run_scenario
from actors.ray_reaper import ray_descendants
from ctasim.onsite.archive_journal import ArchiveJournal
from ctasim.scenario import validate_scenario

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def ctasim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "ctasim.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_killed_driver_leaves_no_ray_and_resumes_to_the_same_archive(tmp_path):
    pytest.importorskip("ray")
    reference = tmp_path / "reference" / "run"
    run_scenario(validate_scenario(small_scenario(reference)), backend="local")
    run_dir = tmp_path / "killed" / "run"
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(small_scenario(run_dir, faults={"slow_archiver_s": 0.5})))
    env = os.environ | {"PYTHONPATH": str(REPO)}
    driver = subprocess.Popen([sys.executable, "-m", "ctasim.cli", "run", str(scenario), "-q"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = ArchiveJournal(run_dir)
    try:
        wait_for(lambda: len(journal.block_indices("gamma") + journal.block_indices("proton")) >= 2
                 or driver.poll() is not None, 240, "two archived blocks")
        assert driver.poll() is None, "the run ended before it could be killed"
        ray_processes = ray_descendants(driver.pid)
        titles = {" ".join(psutil.Process(p).cmdline()) for p in ray_processes}
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
    # the agents are what outlived a killed driver before ray_reaper (about 200 MB)
    assert any("DashboardAgent" in t for t in titles) and any("RuntimeEnvAgent" in t for t in titles)

    def ray_left() -> list[int]:
        return [p for p, t in ray_processes.items() if psutil.pid_exists(p) and psutil.Process(p).create_time() == t
                and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]

    wait_for(lambda: not ray_left(), 20, f"Ray processes {ray_left()} to end after the driver's SIGKILL")
    assert not (run_dir / "summary.json").exists()

    done = ctasim("run", "--resume", str(run_dir), "-q")
    assert done.returncode == 0, done.stderr
    assert "restarts:      0; resumed after" in done.stdout
    assert dl0_digest(run_dir) == dl0_digest(reference)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["restarts"]["resumed_blocks"] >= 2 and summary["timing"]["n_blocks"] == 6
    assert summary["accounting"]["closed"] is True
    assert not journal.dir.exists() and not list(run_dir.rglob("*.tmp"))

    again = ctasim("run", "--resume", str(run_dir), "-q")
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "nothing to resume" in again.stderr


def test_resume_refuses_a_scenario_beside_it_and_a_directory_that_is_not_a_run(tmp_path):
    both = ctasim("run", "quickstart", "--resume", str(tmp_path))
    assert both.returncode == 2 and both.stderr.count("\n") == 1 and "SCENARIO" in both.stderr
    empty = ctasim("run", "--resume", str(tmp_path))
    assert empty.returncode == 2 and "not an interrupted ctasim run" in empty.stderr
    neither = ctasim("run")
    assert neither.returncode == 2 and "--resume RUN_DIR" in neither.stderr

"""The run directory: a new run never mixes with an earlier one's files (ctasim.io.run_dir, ctasim run)."""

import subprocess
import sys

import pytest

from ctasim.errors import CtasimError
from ctasim.io.run_dir import prepare_run_dir


def test_new_and_empty_directories_are_used(tmp_path):
    assert prepare_run_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "empty").mkdir()
    assert prepare_run_dir(tmp_path / "empty") == tmp_path / "empty"


def test_an_earlier_run_is_refused_and_replaced_only_when_told(tmp_path):
    run = tmp_path / "run"
    (run / "dl0").mkdir(parents=True)
    (run / "dl0" / "old_proton.h5").write_bytes(b"old")
    (run / "summary.json").write_text("{}")
    with pytest.raises(CtasimError, match=r"run: the run directory is not empty .*--overwrite"):
        prepare_run_dir(run)
    assert (run / "dl0" / "old_proton.h5").exists()          # refused: untouched
    prepare_run_dir(run, overwrite=True)
    assert run.is_dir() and not any(run.iterdir())           # replaced: nothing of the old run left


def test_foreign_files_are_never_removed(tmp_path):
    (tmp_path / "thesis.tex").write_text("mine")
    with pytest.raises(CtasimError, match=r"not a ctasim run directory.*not replaced"):
        prepare_run_dir(tmp_path, overwrite=True)
    assert (tmp_path / "thesis.tex").read_text() == "mine"
    with pytest.raises(CtasimError, match="exists and is not a directory"):
        prepare_run_dir(tmp_path / "thesis.tex")


def test_cli_refuses_in_one_line_before_simulating(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "provenance.json").write_text("{}")
    done = subprocess.run([sys.executable, "-m", "ctasim.cli", "run", "quickstart", "--output", str(run)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not empty" in done.stderr and "--overwrite" in done.stderr
    assert (run / "provenance.json").exists()

"""Multi-pass reprocessing (ctasim.offline.reprocess, ``ctasim reprocess``) of the small DL0 run of conftest.py.

Pass 1 is the run: DL1 + DL2 of the toy archives with summary.json and provenance.json as a run
writes them; later passes re-run the offline stages from the same DL0 into ``passes/pass<K>``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import h5py
import pytest
from toy_run import write_run_json

from ctasim.cli import main
from ctasim.errors import CtasimError
from ctasim.io.provenance import read_provenance
from ctasim.io.verify import verify_run
from ctasim.offline import reprocess as reprocess_module
from ctasim.offline import run_offline
from ctasim.offline.reprocess import INCOMPLETE, pass_dirs, reprocess
from ctasim.scenario import OfflineConfig

#: the toy archives' scenario (tests/offline/conftest.py), with DL1 and DL2
SCENARIO = {"name": "synthetic", "seed": 1,
            "array": {"layout": "north_alpha", "pointing": {"alt_deg": 70.0, "az_deg": 0.0}},
            "offline": {"dl1": True, "dl2": True}}
TIGHT = {"label": "tight", "offline": {"cleaning": {"LSTCam": {"picture_pe": 30.0, "boundary_pe": 15.0},
                                                     "NectarCam": {"picture_pe": 30.0, "boundary_pe": 15.0}}}}


@pytest.fixture(scope="module")
def base_run(tmp_path_factory, dl0_run) -> Path:
    """The toy run with its pass 1 (DL1, DL2, summary.json, provenance.json); read-only: copy it."""
    run_dir = tmp_path_factory.mktemp("reprocess_base")
    shutil.copytree(dl0_run / "dl0", run_dir / "dl0")
    write_run_json(run_dir, SCENARIO, run_offline(run_dir, OfflineConfig(dl1=True, dl2=True)))
    return run_dir


@pytest.fixture
def run_dir(tmp_path, base_run) -> Path:
    shutil.copytree(base_run, tmp_path / "run")
    return tmp_path / "run"


def _digests(run_dir: Path) -> dict[str, str]:
    """SHA-256 of every file of the run outside passes/."""
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and "passes" not in p.relative_to(run_dir).parts}


def _figure(summary: dict, name: str) -> list:
    return next(f["values"] for f in summary["passes"]["figures"] if f["name"] == name)


def test_a_new_pass_beside_the_run_leaves_the_run_untouched(run_dir):
    before = _digests(run_dir)
    folder, summary = reprocess(run_dir, TIGHT, "tight.yaml")
    assert folder == run_dir / "passes" / "pass2" and not (folder / INCOMPLETE).exists()
    assert _digests(run_dir) == before
    for name in ("summary.json", "report.md", "report.html", "provenance.json"):
        assert (folder / name).is_file(), name
    assert sorted(p.name for p in (folder / "dl1").iterdir()) == sorted(p.name for p in (run_dir / "dl1").iterdir())
    with h5py.File(next((folder / "dl1").iterdir()), "r") as h5:
        prov = read_provenance(h5)
    assert prov["pass_number"] == 2 and prov["cleaning"]["LSTCam"]["picture_pe"] == 30.0
    assert prov["cleaning"]["CHEC"]["picture_pe"] == 4.0  # unchanged cameras keep their default
    assert Path(prov["inputs"][0]["path"]).parent == run_dir / "dl0"
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["stage"] == "reprocess" and len(provenance["inputs"]) == 2
    assert summary["passes"]["labels"] == ["pass1 (run)", "pass2 (tight)"]
    # tighter cleaning: fewer images survive, fewer gammas are reconstructed
    surviving = _figure(summary, "images surviving cleaning (fraction)")
    reconstructed = _figure(summary, "reconstructed gammas (DL2)")
    assert surviving[1] < surviving[0] and reconstructed[1] < reconstructed[0], (surviving, reconstructed)
    report = (folder / "report.md").read_text()
    assert "Passes side by side" in report and "pass2 (tight)" in report and "picture_pe" in report
    assert verify_run(run_dir).ok, [str(p) for p in verify_run(run_dir).problems]
    gone = next((folder / "dl2").iterdir())
    gone.unlink()
    assert [(p.path, p.kind) for p in verify_run(run_dir).problems] == [(gone, "missing")]


def test_a_pass_without_changes_reproduces_the_run(run_dir):
    _, summary = reprocess(run_dir, {"label": "again"})
    base = json.loads((run_dir / "summary.json").read_text())
    assert summary["dl1"]["images_surviving_cleaning"] == base["dl1"]["images_surviving_cleaning"]
    for key in ("angular_resolution_deg", "energy_resolution", "roc_auc"):
        assert summary["dl2"]["performance"]["curves"][key]["value"] == \
            base["dl2"]["performance"]["curves"][key]["value"], key
    _, third = reprocess(run_dir, TIGHT)
    assert [n for n, _ in pass_dirs(run_dir)] == [2, 3]
    assert third["passes"]["labels"] == ["pass1 (run)", "pass2 (again)", "pass3 (tight)"]


def test_an_interrupted_pass_leaves_nothing_that_counts(run_dir, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reprocess_module, "run_offline", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reprocess(run_dir, TIGHT)
    assert not (run_dir / "passes" / "pass2").exists()
    monkeypatch.undo()
    leftover = run_dir / "passes" / "pass2"  # as a SIGKILLed pass leaves it
    leftover.mkdir(parents=True)
    (leftover / INCOMPLETE).touch()
    assert pass_dirs(run_dir) == []
    folder, _ = reprocess(run_dir, TIGHT)
    assert folder == leftover and not (folder / INCOMPLETE).exists()


@pytest.mark.parametrize("changes, message", [
    ({"offline": {"cleaning": {"LSTCam": {"picture_pe": 5.0, "boundary_pe": 9.0}}}}, "above picture_pe"),
    ({"offline": {"cleaning": {"MAGIC": {"picture_pe": 5.0, "boundary_pe": 2.0}}}}, "not MAGIC"),
    ({"offlin": {}}, "offlin"),
    ({"label": "../x"}, "label"),
    ({"offline": {"models": "/nonexistent/models"}}, "/nonexistent/models"),
    (["not", "a", "mapping"], "a mapping"),
])
def test_bad_changes_are_refused_before_any_work(run_dir, changes, message):
    with pytest.raises(CtasimError, match=message):
        reprocess(run_dir, changes, "changes.yaml")
    assert not (run_dir / "passes").exists()


def test_command_line(run_dir, tmp_path, capsys):
    changes = tmp_path / "tight.yaml"
    changes.write_text(json.dumps(TIGHT))  # JSON is YAML
    assert main(["reprocess", str(run_dir), "--config", str(changes), "--label", "cli"]) == 0
    assert "pass 2:" in capsys.readouterr().out
    assert json.loads((run_dir / "passes" / "pass2" / "summary.json").read_text())["pass"]["label"] == "cli"
    (run_dir / "dl0" / next((run_dir / "dl0").iterdir()).name).unlink()
    assert main(["reprocess", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ctasim: error:") and "\n" not in err and "missing" in err, err

"""write_run_report: summary.json (atomic), report.md/.html, plots, provenance.json."""

import json
import os

import numpy as np
import pytest
from handmade_run import SCENARIO
from matplotlib.image import imread

from ctasim.report import run_report as R
from ctasim.report.summary import SUMMARY_KEYS


@pytest.fixture(scope="module")
def written(tmp_path_factory, summary_base):
    """One report of the hand-made run (plus a key without a renderer of its own), shared by tests."""
    summary = summary_base | {"later_stage": {"auc": 0.93, "resolution": {"1 TeV": 0.08}}}
    run_dir = tmp_path_factory.mktemp("report") / "run"
    return run_dir, R.write_run_report(run_dir, summary, SCENARIO)


def test_files_and_json(written):
    run_dir, report = written
    assert report == run_dir / "report.md"
    names = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")}
    assert {"summary.json", "report.md", "report.html", "provenance.json", "plots"} <= names
    data = json.loads((run_dir / "summary.json").read_text())
    assert set(SUMMARY_KEYS) <= set(data) and data["later_stage"]["auc"] == 0.93
    assert data["reduction"]["overall_with_technical"] == pytest.approx(10.8)
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["scenario_hash"] == data["scenario"]["hash"] and prov["seed"] == 7
    assert "summary.json" in prov["outputs"] and "dl0/a.dl0.h5" in prov["outputs"]
    assert not list(run_dir.glob(".*.tmp"))


def test_report_tables_and_reference_sentence(written):
    run_dir, report = written
    md = report.read_text()
    for text in (
        "## Accounting",
        "| -> array triggered | 25 | 25.0% |",
        "| -> dropped: outside_window | 10 |",
        "| -> lost: archive_write | 1 |",
        "## Data-volume reduction",
        "| integration -> pixel_selection | 0.50 |",
        "| compression -> dl0_archived | 0.90 |",
        "| **overall incl. technical data** | 10.80 |",
        "| pixel_selection (archived) | 1.00 | 2.00 | 5.40 | 0.50 | 2.78 | 15.00 |",
        "| raw | 1.00 | 1.00 | 1.00 | 1.00 | 3.00 | 3.00 |",
        "Overall reduction 10.8x, 15% of the 70x target (a further 6.5x needed).",
        "Technical data add 25.0% on top of the archived event data (K. Kosack, CTA data-processing "
        "overview talk (2017): ~20%).",
        "LST: read-out R1 4.8 Gb/s against 40 Gb/s in K. Kosack, CTA data-processing overview talk (2017)",
        "| r1_read_out | 1.35e+07 | 1.08e+06 | 8.64 | 10.4 |",  # B/s sim., B/event, Gb/s
        "within the 10-day limit",
        "Cores to keep up with a 10 kHz array trigger in real time, extrapolated from this run's 25 array events",
        "| camera | 60.0 | 600 |",  # 1.5 s / 25 array events = 60 core-ms each
        "| **total** | 80.0 | **800** |",
        "## later_stage",
        "| resolution.1 TeV | 0.08 |",
        "![reduction factors](plots/reduction.png)",
    ):
        assert text in md, text
    for private in ("REFERENCE.md", "shared/", "seed material"):
        assert private not in md, private  # the report cites public sources only
    html = (run_dir / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html
    assert '<img src="plots/rate_waterfall.png"' in html and "<b>overall</b>" in html


def test_plots_are_real_images(written):
    run_dir, _ = written
    pngs = sorted((run_dir / "plots").glob("*.png"))
    assert [p.name for p in pngs] == ["accounting.png", "rate_waterfall.png", "reduction.png"]
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        img = imread(p)
        assert img.shape[0] > 200 and img.shape[1] > 400
        assert np.unique(img.reshape(-1, img.shape[-1]), axis=0).shape[0] > 20  # not blank


def test_open_accounting_is_shown(summary):
    summary["accounting"] |= {"closed": False, "error": "accounting does not close for X"}
    md = R.to_markdown(R.render_blocks(summary))
    assert "**The accounting does not close:** accounting does not close for X" in md


def test_existing_provenance_is_kept(tmp_path, summary):
    (tmp_path / "provenance.json").write_text('{"mine": 1}')
    R.write_run_report(tmp_path, summary, SCENARIO)
    assert json.loads((tmp_path / "provenance.json").read_text()) == {"mine": 1}


def test_summary_write_is_atomic(tmp_path, summary, monkeypatch):
    path = tmp_path / "summary.json"
    with pytest.raises(ValueError):
        R.write_summary_json(path, {"x": float("nan")})  # not plain JSON: nothing written
    assert not path.exists()
    R.write_summary_json(path, summary)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        R.write_summary_json(path, summary | {"files": ["other"]})
    assert path.read_bytes() == before  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]  # no temp left


def test_new_section_is_one_function(summary, monkeypatch):
    monkeypatch.setitem(R.SECTIONS, "alerts", lambda s: [R.Heading("Alerts"), R.Para("none")])
    md = R.to_markdown(R.render_blocks(summary | {"alerts": {"n": 0}}))
    assert "## Alerts\n\nnone" in md and md.index("## Alerts") < md.index("## Files")


def test_dl2_section_sets_prod5_beside_measured_values():
    curve = {"value": [0.2, None], "n_events": [50, 0], "prod5_north": [0.13, 0.058], "prod5_south": [0.15, 0.056]}
    no_ref = {"value": [0.99, None], "n_events": [80, 0], "prod5_north": [None, None], "prod5_south": [None, None]}
    summary = {"dl2": {
        "valid_events": 120, "array_events": 200, "trained": True, "models": "m",
        "performance": {"site": "north", "energy_center_tev": [0.1, 1.0],
                        "counts": {"test_gammas": 60, "test_protons": 20},
                        "curves": {"angular_resolution_deg": curve, "roc_auc": no_ref}},
        "plots": [],
    }}
    md = R.to_markdown(R.dl2_section(summary))
    assert "| E (TeV) | R68 (deg) | Prod5 N | AUC (E_reco) |" in md  # no reference column for AUC
    assert "| 0.1 | 0.200 | 0.130 | 0.990 |" in md
    assert "| 1 | n/a | 0.058 | n/a |" in md
    assert "120 of 200 array events" in md

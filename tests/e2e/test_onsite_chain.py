"""End-to-end on-site chain: accounting closes, DL0 verifies, in-process == Ray (any actor count).

Ray is started once for this module.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from chain_helpers import dl0_digest, tiny_scenario

from actors.orchestrator import ActorGraph, run_scenario
from ctasim.datamodel import paths
from ctasim.io.archive import DL0ArchiveReader
from ctasim.io.verify import verify_file

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("local")
    result = run_scenario(tiny_scenario(run_dir), backend="local")
    return run_dir, result.summary


def test_accounting_closes_exactly(local_run):
    _, summary = local_run
    acc = summary["accounting"]
    assert acc["closed"] is True
    total = {k: v["total"] for k, v in acc["stages"].items()}
    assert total["showers_simulated"] == 300
    assert total["showers_simulated"] == (total["showers_no_telescope_trigger"]
                                          + total["showers_below_multiplicity"]
                                          + total["showers_array_triggered"])
    dropped = sum(v for k, v in total.items() if k.startswith("telescope_triggers_dropped."))
    assert total["telescope_triggers"] == total["telescope_events_read_out"] + dropped
    assert total["telescope_events_read_out"] == total["telescope_events_archived"] > 0
    assert total["array_events"] == total["array_events_archived"] > 0


def test_dl0_files_verify_and_report_written(local_run):
    run_dir, summary = local_run
    files = sorted((run_dir / "dl0").glob("*.h5"))
    assert len(files) == 2 and not list((run_dir / "dl0").glob("*.tmp"))
    n_events = 0
    for f in files:
        report = verify_file(f)
        assert report.ok, [str(p) for p in report.problems]
        n_events += report.events
    assert n_events == summary["accounting"]["stages"]["telescope_events_archived"]["total"]
    on_disk = json.loads((run_dir / "summary.json").read_text())
    assert on_disk["accounting"]["closed"] is True
    assert (run_dir / "report.md").stat().st_size > 500


def test_technical_data_hold_no_nan(local_run):
    run_dir, _ = local_run
    for f in sorted((run_dir / "dl0").glob("*.h5")):
        with DL0ArchiveReader(f) as reader:
            tables = [p for p in reader.dataset_paths() if p.startswith(paths.DL0_MONITORING)]
            assert sum(p.startswith(paths.DL0_MONITORING_PEDESTAL) for p in tables) == len(reader.subarray.tel_ids)
            for table in tables:
                rows, _ = reader.read_table(table)
                assert rows.size and not any(np.isnan(rows[c]).any() for c in rows.dtype.names
                                             if rows.dtype[c].kind == "f"), table


def test_pixel_selection_keeps_few_percent_and_reduces(local_run):
    _, summary = local_run
    red = summary["reduction"]
    kept = red["kept_waveform_fraction"]["pixel_selection"]["fraction"]
    assert 0.005 < kept < 0.10  # the seed material assumes ~3 % of pixels
    assert red["kept_waveform_fraction"]["integrated"]["kept"] == 0
    # integration + selection + compression: an order of magnitude at least, below the raw size
    assert red["overall"] > 10.0
    assert red["variants"]["integrated"]["overall"] > red["variants"]["pixel_selection"]["overall"]


def test_ray_equals_in_process_for_any_actor_count(local_run, ray_session, tmp_path):
    run_dir, _ = local_run
    expected = dl0_digest(run_dir)
    for per_actor in (13, 5):
        out = tmp_path / f"ray_{per_actor}"
        graph = ActorGraph(tiny_scenario(out, telescopes_per_actor=per_actor), backend="ray")
        try:
            graph.run()
        finally:
            graph.shutdown()
        assert dl0_digest(out) == expected, f"Ray with {per_actor} telescopes per actor differs"

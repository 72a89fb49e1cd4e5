"""scripts/bench.py assembles its table from canned sub-results: no benchmark runs here."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"
spec = importlib.util.spec_from_file_location("bench_table_script", SCRIPT)
bench = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
spec.loader.exec_module(bench)

def onsite_run(showers: int, events: int, chain_s: float, peak_mb: float, driver_mb: float) -> dict:
    return {"showers": showers, "array_events": events, "chain_s": chain_s, "array_events_per_s": events / chain_s,
            "peak_mb": peak_mb, "driver_mb": driver_mb, "first_block_s": 1.0, "camera_actors": 2,
            "share_pct": {"archiver": 25.0, "camera": 60.0, "reducer": 10.0}}


# bench_onsite.py --json's document (``figures``), with Ray and the fresh-install first blocks
ONSITE = {
    "runs": {"local": {"1": onsite_run(200, 40, 2.0, 500, 400), "2": onsite_run(400, 80, 4.0, 520, 420)},
             "ray": {"1": onsite_run(200, 40, 1.6, 900, 300), "2": onsite_run(400, 80, 2.4, 1000, 310)}},
    "ray_over_in_process": {"1": 0.8, "2": 0.6, "steady": 0.4},
    "fresh_install": {"local": {"first_block_s": 12.0, "camera_actors": 1},
                      "ray": {"first_block_s": 30.0, "camera_actors": 2}},
}


def canned() -> dict:
    return {
        "mode": "quick",
        "cpu_count": 2,
        "load_average": [1.0, 1.5, 2.0],
        "sim": [{"layout": "north_alpha", "particle": "gamma", "showers": 200, "n_telescopes": 13,
                 "images_per_cpu_s": 6000.0, "r1_mb_per_cpu_s": 250.0},
                {"layout": "south_alpha", "particle": "gamma", "showers": 200, "n_telescopes": 51,
                 "images_per_cpu_s": 1000.0, "r1_mb_per_cpu_s": 80.0}],
        "onsite": ONSITE,
        "run": {"array_events": 40, "r1_read_out_bytes": 40e6, "stage_seconds": {"camera": 3.0, "archiver": 1.0},
                "cores_for_10khz": {"array_trigger_rate_hz": 1e4, "array_events": 40,
                                    "stages": {"archiver": 250.0, "camera": 750.0}, "total": 1000.0,
                                    "onsite_total": 250.0},
                "dl2": {"array_events": 40, "wall_s": 4.0, "stereo_s": 1.0, "models_s": 2.0, "events_per_s": 10.0},
                "dl1_bytes": 8e6},
        "offline": {"telescope_events": 500, "units": 4, "passes": [
            {"executor": "in-process cold", "cpus": 1, "images_per_s_per_core": 500.0, "mb_per_s_per_core": 5.0},
            {"executor": "in-process", "cpus": 1, "images_per_s_per_core": 1000.0, "mb_per_s_per_core": 10.0},
            {"executor": "ray", "cpus": 2, "images_per_s_per_core": 950.0, "mb_per_s_per_core": 9.5}],
            "ratio_ray_over_in_process": 1.9, "identical_tables": True},
        "irf": {"dl2_events": 1000, "ctasim_s": 0.5, "pyirf_s": 2.0, "speedup_pyirf_over_ctasim": 4.0},
        "ctapipe": [
            {"section": "calib", "step": "R1 -> charge", "ctasim_us": 100.0, "reference_us": 310.0, "ratio": 3.1,
             "target": 10.0},
            {"section": "image", "step": "cleaning + parameters", "ctasim_us": 7.0, "reference_us": 910.0,
             "ratio": 130.0, "target": 100.0}],
    }


def by_quantity(rows):
    return {(r.stage, r.quantity): r for r in rows}


def test_rows_carry_each_figure_its_target_and_verdict():
    rows = by_quantity(bench.assemble(canned()))
    sim = rows[("simulation", "north_alpha: triggered telescope images/s per core")]
    assert sim.value == 6000.0 and sim.status == "met"
    assert rows[("simulation", "south_alpha: triggered telescope images/s per core")].status == "**not met**"
    chain = rows[("on-site chain", "array events/s per core, in-process")]
    assert chain.value == 20.0 and str(chain.target) == ">= 300" and chain.status == "**not met**"
    assert rows[("on-site chain", "array events/s per core, Ray (2 CPUs)")].value == pytest.approx(12.5)
    # 40 MB of R1 for the same 40 array events, in 2.0 s in-process and 1.6 s on 2 CPUs
    assert rows[("on-site chain", "R1 MB/s per core, in-process")].value == pytest.approx(20.0)
    assert rows[("on-site chain", "R1 MB/s per core, Ray (2 CPUs)")].value == pytest.approx(12.5)
    steady = rows[("on-site chain", "speed-up 1 -> 2 CPUs, the extra 200 showers (steady state)")]
    assert steady.value == pytest.approx(2.5) and steady.status == "met"
    archiver = rows[("on-site chain", "archiver share of the chain's wall time, in-process (closing the archive "
                     "included)")]
    assert archiver.value == pytest.approx(25.0) and archiver.status == "**not met**"
    assert rows[("fresh install", "first block, empty numba cache, in-process")].status == "met"   # 12 s < 15 s
    assert rows[("fresh install", "first block, empty numba cache, Ray")].status == "**not met**"
    local_mem = rows[("on-site chain", "peak memory growth, run twice as long, in-process")]
    ray_mem = rows[("on-site chain", "peak memory growth, run twice as long, Ray")]
    assert local_mem.value == pytest.approx(4.0) and local_mem.status == "met"
    assert ray_mem.value == pytest.approx(100 / 9) and ray_mem.status == "**not met**"
    assert rows[("on-site chain", "cores for a 10 kHz array trigger in real time, in-process")].value == 1000.0
    assert rows[("on-site chain", "of which the on-site software (without the simulated source and cameras)")
                ].value == 250.0
    dl1 = rows[("DL1", "images/s per core, in-process (archive -> DL1 file)")]
    assert dl1.value == 1000.0 and dl1.status == "**not met**"   # the warm pass, not the cold one
    assert rows[("DL1", "speed-up 1 -> 2 CPUs (Ray / in-process images/s)")].status == "met"
    assert rows[("DL2", "DL1 MB/s per core, in-process")].value == pytest.approx(2.0)
    assert rows[("DL2", "on Ray")].status == "not measured"
    assert rows[("IRF", "DL2 events/s per core (cuts, IRFs, sensitivity)")].value == pytest.approx(2000.0)
    assert rows[("ctasim vs ctapipe", "calib: R1 -> charge")].status == "**not met**"
    assert rows[("ctasim vs ctapipe", "image: cleaning + parameters")].status == "met"


def test_markdown_table_and_json_from_an_earlier_results_file(tmp_path, capsys):
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps({"results": canned()}))
    md, js = tmp_path / "bench.md", tmp_path / "bench.json"
    assert bench.main(["--results", str(saved), "--output", str(md), "--json", str(js)]) == 0
    table = md.read_text()
    assert capsys.readouterr().out == table
    assert table.startswith("ctasim benchmark (quick sizes; 2 CPUs; load average at the end 1.0, 1.5, 2.0)")
    for line in (
        "| on-site chain | array events/s per core, in-process | 20 | >= 300 | **not met** | "
        "bench_onsite.py --showers 200 | 40 array events, 200 showers |",
        "| on-site chain | peak memory growth, run twice as long, in-process | 4 % | within ±10 % | met |",
        "| simulation | north_alpha: triggered telescope images/s per core | 6,000 | >= 5,000 | met |",
        "| fresh install | first block, empty numba cache, Ray | 30 s | < 15 s | **not met** |",
    ):
        assert line in table, line
    assert len([x for x in table.splitlines() if x.startswith("| ")]) == 1 + len(bench.assemble(canned()))
    rows = json.loads(js.read_text())["rows"]
    assert {r["status"] for r in rows} == {"met", "**not met**", "", "not measured"}


def test_last_json_document_of_a_noisy_output():
    text = "compiling...\n(raylet) {not json\n[\n  1,\n  2\n]\n{\n  \"a\": [\n    1\n  ]\n}\n"
    assert bench.last_json(text) == {"a": [1]}
    with pytest.raises(ValueError, match="no JSON"):
        bench.last_json("nothing here")

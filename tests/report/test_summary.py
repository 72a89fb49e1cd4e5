"""summary.json content from a hand-made run, against hand arithmetic (numbers in conftest.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
from handmade_run import RATE_HZ, SCENARIO, handmade_accounting, handmade_rates

import ctasim
from ctasim import accounting as A
from ctasim.datamodel.version import DATA_MODEL_VERSION
from ctasim.io.provenance import scenario_hash
from ctasim.rates import BudgetAssumptions, budget
from ctasim.report import summary as S

DOCS = Path(__file__).resolve().parents[2] / "README.md"


def test_top_level_and_scenario(summary):
    assert tuple(summary) == S.SUMMARY_KEYS
    assert summary["scenario"] == {
        "name": "handmade",
        "seed": 7,
        "hash": scenario_hash(SCENARIO),
        "layout": "north_alpha",
        "backend": "local",
        "ctasim_version": ctasim.__version__,
        "data_model": DATA_MODEL_VERSION,
    }
    assert summary["files"] == ["dl0/a.dl0.h5"]
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary  # plain JSON


def test_reduction_factors(summary):
    red = summary["reduction"]
    ps = "reduce.pixel_selection."
    assert red["archived_variant"] == "pixel_selection"
    assert red["chain"] == [
        "r1_read_out",
        ps + "window_cut",
        ps + "gain_selection",
        ps + "integration",
        ps + "pixel_selection",
        ps + "compression",
        "dl0_archived",
    ]
    r1, ids = 27e6, 80 * 16
    assert list(red["steps"].values()) == pytest.approx(
        [
            r1 / (r1 + ids),
            (r1 + ids) / 13.5e6,
            13.5e6 / 2.5e6,
            2.5e6 / 5e6,
            5e6 / 1.8e6,
            1.8e6 / 2e6,
        ]
    )
    assert red["overall"] == pytest.approx(27e6 / 2e6)  # 13.5
    assert red["variants"]["pixel_selection"]["overall"] == pytest.approx(27e6 / 1.8e6)  # 15
    assert red["variants"]["raw"]["overall"] == pytest.approx(27e6 / 9e6)  # 3
    assert red["variants"]["raw"]["chain"][-1] == "reduce.raw.compression"
    assert red["trigger"] == pytest.approx(34e6 / 27e6)
    assert red["technical_data"]["percent_of_event_data"] == pytest.approx(25.0)
    assert red["overall_with_technical"] == pytest.approx(27e6 / 2.5e6)  # 10.8
    target = red["target"]
    assert target["factor"] == 70.0 and target["met"] is False
    assert target["fraction"] == pytest.approx(10.8 / 70)
    assert target["gap"] == pytest.approx(70 / 10.8)
    assert target["sentence"] == (
        "overall reduction 10.8x, 15% of the 70x target (a further 6.5x needed)"
    )
    lst = red["by_tel_type"]["LST"]
    assert lst["read_out_gbit_per_s"] == pytest.approx(15e6 * 40 * 8 / 1e9)  # 4.8
    assert lst["archived_gbit_per_s"] == pytest.approx(1.25e6 * 40 * 8 / 1e9)
    assert lst["factor"] == pytest.approx(12.0)
    assert lst["reference_read_out_gbit_per_s"] == 40.0
    assert lst["reference_factor"] == pytest.approx(40 / 11)


def test_extrapolation(summary, subarray):
    ex = summary["rates"]["extrapolated"]
    ps = "reduce.pixel_selection."
    assert list(ex["stages"])[:9] == [
        "r1_camera_triggers",
        "r1_read_out",
        ps + "window_cut",
        ps + "gain_selection",
        ps + "integration",
        ps + "pixel_selection",
        ps + "compression",
        "dl0_archived",
        "technical_data",
    ]
    assert list(ex["stages"])[9:11] == [ps + "r1", "reduce.raw.r1"]
    scale = RATE_HZ / 25  # 25 array events -> 1 kHz
    assert ex["measured_array_rate_hz"] == pytest.approx(12.5)  # 25 events in 2 s
    ro = ex["stages"]["r1_read_out"]
    assert ro["bytes_per_array_event"] == pytest.approx(27e6 / 25)
    assert ro["gbyte_per_s"] == pytest.approx(27e6 * scale / 1e9)  # 1.08 GB/s
    assert ro["pb_per_year"] == pytest.approx(1.08e9 * 1314 * 3600 / 1e15)
    assert ro["link_days_per_night"] == pytest.approx(1.08e9 * 8 * 8 * 3600 / 1e9 / 86400)
    assert ro["by_tel_type"]["MST"]["gbit_per_s"] == pytest.approx(12e6 * scale * 8 / 1e9)
    shipped = ex["shipped"]
    assert shipped["bytes_per_s"] == pytest.approx(2.5e6 * scale)
    assert shipped["within_link_limit"] is True and shipped["link_limit_days"] == 10.0
    # measured figures at the simulated rate come from RateMeter unchanged
    assert summary["rates"]["stages"]["r1_read_out"]["bytes_per_s"] == pytest.approx(27e6 / 2)
    # side by side with the analytic budget of the same layout and trigger rate
    b = budget(subarray, BudgetAssumptions(array_trigger_rate_hz=RATE_HZ))
    vs = summary["rates"]["vs_budget"]
    assert list(vs) == ["r1_camera_triggers", *summary["reduction"]["chain"]]
    assert vs["reduce.pixel_selection.window_cut"]["budget_stage"] == "readout_window"
    assert vs["dl0_archived"]["budget_stage"] == "compression"
    want = b["total"]["bytes_per_s"]["central_trigger"] * 8 / 1e9
    assert vs["r1_read_out"]["budget_gbit_per_s"] == pytest.approx(want)
    assert vs["r1_read_out"]["ratio"] == pytest.approx(ro["gbit_per_s"] / want)
    assert summary["rates"]["budget"]["subarray"] == "north_alpha"


def test_timing(summary):
    t = summary["timing"]
    assert t["wall_seconds"] == 10.0 and t["n_blocks"] == 4
    assert t["showers_per_s"] == pytest.approx(10.0)
    assert t["array_events_per_s"] == pytest.approx(2.5)
    assert t["telescope_events_per_s"] == pytest.approx(8.0)
    assert t["stage_seconds"] == {"archiver": 0.5, "camera": 1.5}
    assert t["stage_seconds_total"] == pytest.approx(2.0)


def test_cores_for_a_10khz_array_trigger_from_stage_seconds_per_array_event(summary):
    cores = summary["timing"]["cores_for_10khz"]  # 25 array events; camera 1.5 s, archiver 0.5 s
    assert cores["array_trigger_rate_hz"] == 1e4 and cores["array_events"] == 25
    assert cores["stages"] == pytest.approx({"archiver": 0.5 / 25 * 1e4, "camera": 1.5 / 25 * 1e4})  # 200, 600
    assert cores["total"] == pytest.approx(800.0)
    assert cores["onsite_total"] == pytest.approx(200.0)  # the archiver: the camera is simulated hardware
    assert S.cores_for_rate({"camera": 2.0}, 0) == {"array_trigger_rate_hz": 1e4, "array_events": 0,
                                                    "stages": {}, "total": None, "onsite_total": None}
    assert S.cores_for_rate({"camera": 2.0}, 4, rate_hz=100.0)["total"] == pytest.approx(50.0)


def test_accounting_closes_and_open_one_is_reported(summary, subarray):
    assert summary["accounting"]["closed"] is True and summary["accounting"]["error"] is None
    assert summary["accounting"]["stages"][A.TELESCOPE_TRIGGERS]["by_tel_type"] == {
        "LST": 60,
        "MST": 40,
    }
    acc = handmade_accounting()
    acc.add(A.TELESCOPE_EVENTS_ARCHIVED, 1, "gamma", "MST")  # counted twice
    s = S.build_summary(SCENARIO, acc, handmade_rates(), {}, 1, [], 1.0, "local", subarray)
    assert s["accounting"]["closed"] is False
    assert "does not close" in s["accounting"]["error"]
    assert "telescope_events_read_out = 30" in s["accounting"]["error"]


def test_empty_run_gives_nulls_not_errors(subarray):
    s = S.build_summary(SCENARIO, A.Accounting(), A.RateMeter(), {}, 0, [], 0.0, "local", subarray)
    assert s["reduction"]["overall"] is None and s["reduction"]["target"]["met"] is False
    assert s["timing"]["showers_per_s"] is None
    assert json.loads(json.dumps(s, allow_nan=False)) == s


def test_jsonable():
    assert S.jsonable({1: (np.int64(3), np.float32(0.5), float("nan"))}) == {"1": [3, 0.5, None]}


@pytest.mark.parametrize(
    ("measured", "words"),
    [
        (35.0, "half of the 70x target"),
        (140.0, "meets the 70x target (2.0x beyond it)"),
        (28.0, "40% of the 70x target"),
    ],
)
def test_describe_reduction(measured, words):
    assert words in S.describe_reduction(measured, 70.0)


def test_chains_from_stage_names():
    stages = [
        "r1_read_out",
        "reduce.a.compression",
        "reduce.a.integration",
        "reduce.a.r1",
        "reduce.b.compression",
        "reduce.x.not_a_step",
        "dl0_archived",
        "technical_data",
    ]
    assert S.reduction_variants(stages) == ["a", "b"]
    assert S.archived_chain(stages, "a") == [
        "r1_read_out",
        "reduce.a.integration",
        "reduce.a.compression",
        "dl0_archived",
    ]
    assert S.archived_chain(stages, None) == ["r1_read_out", "dl0_archived"]
    assert S.archived_variant({"reduction": {"variant": "b"}}, ["a", "b"]) == "b"
    assert S.archived_variant({}, ["a", "b"]) is None
    assert S.archived_variant({}, ["a"]) == "a"
    assert S.data_path_order(stages, "a") == [
        "r1_read_out",
        "reduce.a.integration",
        "reduce.a.compression",
        "dl0_archived",
        "technical_data",
        "reduce.a.r1",
        "reduce.b.compression",
        "reduce.x.not_a_step",
    ]


def test_every_key_is_documented(summary):
    text = DOCS.read_text()  # the one list of keys (summary.py's docstring points there)
    keys = [f"{top}.{sub}" for top, v in summary.items() if isinstance(v, dict) for sub in v]
    keys.remove("rates.extrapolated")  # documented key by key:
    keys += [f"rates.extrapolated.{k}" for k in summary["rates"]["extrapolated"]]
    keys += ["files"]
    missing = [k for k in keys if f"`{k}`" not in text]
    assert not missing, f"not documented in the README: {missing}"


def test_array_trigger_rate_sums_the_species_over_their_own_spans():
    acc = A.Accounting()
    acc.add(A.ARRAY_EVENTS, 30, "proton")
    acc.add(A.ARRAY_EVENTS, 5, "gamma")
    streams = {"proton": {"seconds": 0.01}, "gamma": {"seconds": 1.0}, "empty": {"seconds": 0.0}}
    physical = {"particles": [{"rate_from_flux": True}, {"rate_from_flux": True}]}
    at = S.array_trigger(acc, streams, physical)
    assert at["by_stream"]["proton"]["rate_hz"] == pytest.approx(3000.0)
    assert at["by_stream"]["gamma"]["rate_hz"] == pytest.approx(5.0)
    assert at["by_stream"]["empty"]["rate_hz"] is None and at["by_stream"]["empty"]["fraction"] is None
    assert at["rate_hz"] == pytest.approx(3005.0)
    assert at["by_stream"]["proton"]["fraction"] == pytest.approx(3000 / 3005)
    assert at["physical"] is True and at["reference_hz"] == {"seed": 1e4, "simtools_example": 9e3}
    assert S.array_trigger(acc, streams, {"particles": [{"rate_from_flux": True}, {"rate_hz": 9}]})["physical"] is False

"""Analytic data-rate budget against hand arithmetic."""

import pytest

from ctasim.instrument.config import load_subarray
from ctasim.rates import (
    SEED_REFERENCE,
    BudgetAssumptions,
    budget,
    event_bytes,
    format_budget,
    volume_figures,
)


def test_lst_raw_event_size_matches_reference():
    a = BudgetAssumptions()
    sizes = event_bytes(1855, 2, 40, 20, a)
    assert sizes["central_trigger"] == 1855 * 2 * 40 * 2 == 296_800  # REFERENCE.md: 297 kB
    assert sizes["readout_window"] == 1855 * 2 * 20 * 2
    assert sizes["gain_selection"] == 1855 * 20 * 2
    assert sizes["integration"] == pytest.approx(1855 * (0.03 * 40 + 0.97 * 4))
    assert sizes["compression"] == pytest.approx(sizes["pixel_selection"] / 2.5)
    assert SEED_REFERENCE["raw_event_bytes_est"]["NectarCam"] == 445_200


def test_pixel_selection_adds_a_mask_and_drops_pixels():
    sizes = event_bytes(
        1000, 1, 10, 10, BudgetAssumptions(waveform_pixel_fraction=0.0, pixel_fraction_kept=0.1)
    )
    assert sizes["pixel_selection"] == pytest.approx(1000 * 0.1 * 4 + 1000 / 8)


def test_volume_figures():
    f = volume_figures(1e9)  # 1 GB/s
    assert f["gbit_per_s"] == 8.0
    assert f["pb_per_year"] == pytest.approx(1e9 * 1314 * 3600 / 1e15)
    assert f["link_days_per_night"] == pytest.approx(8 * 8 * 3600 / 86400)  # 8 h night at 1 Gb/s


def test_budget_north_alpha():
    sub = load_subarray("north_alpha")
    a = BudgetAssumptions(array_trigger_rate_hz=1000.0, participation={"LST": 0.5, "MST": 0.2})
    b = budget(sub, a)
    lst = b["types"]["LST_LST_LSTCam"]
    assert lst["n_tels"] == 4 and lst["readout_rate_hz"] == 500.0
    assert lst["bytes_per_s"]["central_trigger"] == pytest.approx(4 * 500 * 296_800)
    assert lst["bytes_per_s"]["camera"] == pytest.approx(4 * 10e3 * 296_800)
    mst = b["types"]["MST_MST_NectarCam"]
    assert mst["bytes_per_s"]["central_trigger"] == pytest.approx(9 * 200 * 445_200)
    assert mst["readout_samples"] == 15
    total = b["total"]["bytes_per_s"]["central_trigger"]
    assert total == pytest.approx(4 * 500 * 296_800 + 9 * 200 * 445_200)
    assert b["total"]["figures"]["central_trigger"]["gbyte_per_s"] == pytest.approx(total / 1e9)
    assert b["reduction"]["overall"] == pytest.approx(
        total / b["total"]["bytes_per_s"]["compression"]
    )
    text = format_budget(b)
    assert "LST_LST_LSTCam" in text and "PB/yr" in text and "220" in text

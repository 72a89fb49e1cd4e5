"""IRF and alert figures of the run report (ctasim.report.irf_plots) and their report sections."""

import astropy.units as u
import numpy as np
import pytest
from handmade_run import SCENARIO
from matplotlib.image import imread

from ctasim.io import gadf
from ctasim.irf.reference import reference_note
from ctasim.paths import REFERENCE_DATA_ENV
from ctasim.report import irf_plots as P
from ctasim.report import run_report as R
from ctasim.report.plots import write_plots

EDGES = np.geomspace(0.03, 100.0, 8)
MIGRATION = np.geomspace(0.2, 5.0, 31)
N = EDGES.size - 1


def _irf_bins(with_prod5: bool) -> dict:
    center = np.sqrt(EDGES[:-1] * EDGES[1:])
    bins = {
        "e_min_tev": EDGES[:-1].tolist(), "e_max_tev": EDGES[1:].tolist(), "e_center_tev": center.tolist(),
        "effective_area_m2": [None, *np.geomspace(1e4, 3e5, N - 1)],
        "effective_area_no_theta_cut_m2": [None, *np.geomspace(2e4, 4e5, N - 1)],
        "r68_deg": [None, *np.geomspace(0.2, 0.05, N - 1)],
        "energy_resolution": [None, *np.linspace(0.3, 0.1, N - 1)],
        "energy_bias": [None, *np.linspace(0.1, -0.05, N - 1)],
        "background_rate_per_s_mev_sr": [*np.geomspace(1e-1, 1e-8, N - 1), None],
        "background_rate_hz": [*np.geomspace(1e-1, 1e-6, N - 1), None],
        "sensitivity_erg_cm2_s": [None, *np.geomspace(1e-11, 3e-13, N - 1)],
        "sensitivity_crab": [None, *np.geomspace(0.1, 0.01, N - 1)],
        "theta_cut_deg": [0.2] * N, "gammaness_cut": [0.5] * N,
    }
    for site, scale in (("north", 1.0), ("south", 1.5)):
        for key in ("effective_area_m2", "r68_deg", "energy_resolution", "background_rate_per_s_mev_sr",
                    "sensitivity_erg_cm2_s", "sensitivity_crab"):
            bins[f"prod5_{site}_{key}"] = ([None if v is None else v * scale for v in bins[key]] if with_prod5
                                           else [None] * N)
    return {k: [None if v is None else float(v) for v in vs] for k, vs in bins.items()}


@pytest.fixture
def irf_summary(tmp_path, subarray, summary_base):
    """The hand-made summary with an IRF section (its point-like IRF file written under tmp_path/irf) and alerts."""
    rng = np.random.default_rng(5)
    offsets = [0.0, 1.0] * u.deg
    matrix = np.exp(-0.5 * (np.log(np.sqrt(MIGRATION[1:] * MIGRATION[:-1])) / 0.2) ** 2)
    edisp = np.broadcast_to(matrix[None, :, None], (N, MIGRATION.size - 1, 1)) * rng.uniform(0.5, 1.5, (N, 1, 1))
    edges = EDGES * u.TeV
    irf_file = gadf.write_irf_file(tmp_path / "irf" / "irf_pass1.fits.gz", [
        gadf.aeff_2d_hdu(np.full((N, 1), 1e5) * u.m**2, edges, offsets, point_like=True),
        gadf.edisp_2d_hdu(edisp, edges, MIGRATION, offsets, point_like=True),
        gadf.bkg_2d_hdu(np.full((N, 1), 1e-5) * u.Unit("1 / (s MeV sr)"), edges, offsets, point_like=True),
        gadf.rad_max_2d_hdu(np.full((N, 1), 0.1) * u.deg, edges, offsets),
    ], gadf.RunInfo.from_subarray(subarray))
    irf = {"pass_number": 1, "site": "north", "reference": "CTAO Prod5 test note",
           "sensitivity_time_h": 50.0, "bins": _irf_bins(True), "files": [str(irf_file)],
           "dl3": {"observations": []}, "counts": {}}
    time_s = np.arange(0.0, 400.0, 5.0)
    alerts = {
        "threshold_sigma": 5.0, "rearm_sigma": 3.0, "window_s": 60.0, "n_alerts": 1,
        "alerts": [{"alert_id": 1, "sim_time_s": 250.3, "significance": 5.4, "n_on": 30, "n_off": 20,
                    "alpha": 0.2, "latency_sim_s": 50.3, "latency_wall_s": 0.8}],
        "flares": [{"population": "flare", "start_s": 200.0, "stop_s": 380.0}],
        "light_curve": {"time_s": time_s.tolist(), "significance": np.where(time_s > 240, 6.0, 1.0).tolist(),
                        "n_on": [10] * time_s.size, "n_off": [40] * time_s.size, "alpha": 0.2},
        "timing": {"blocks": 80, "wall_s": 1.2, "simulated_s": 400.0, "keeps_up": True, "block_wall_s_median": 0.01,
                   "block_span_s_median": 5.0, "array_events_per_wall_s": 1200.0},
    }
    return summary_base | {"irf": irf, "alerts": alerts}


def _ink(path):
    """Share of the PNG's pixels that are not white (a "no data" panel: its text only, < 1%)."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = imread(path)
    assert img.shape[0] > 200 and img.shape[1] > 300
    return float((img[..., :3] < 0.95).any(axis=-1).mean())


def test_irf_and_alert_plots_are_written(irf_summary, tmp_path):
    written = write_plots(irf_summary, tmp_path / "run" / "plots")
    assert set(P.IRF_PLOTS) | set(P.ALERT_PLOTS) <= set(written)
    for name in (*P.IRF_PLOTS, *P.ALERT_PLOTS):
        assert _ink(written[name]) > 0.05, name  # drawn, not a "no data" panel


def test_without_irfs_or_alerts_no_such_plot_is_written(summary, irf_summary, tmp_path):
    assert set(write_plots(summary, tmp_path / "a")) == {"accounting.png", "rate_waterfall.png", "reduction.png"}
    flagged = irf_summary | {"irf": {"error": "IRF: empty selection after cuts"}, "alerts": {"error": "no events"}}
    assert set(write_plots(flagged, tmp_path / "b")) == {"accounting.png", "rate_waterfall.png", "reduction.png"}


@pytest.mark.parametrize("change", ["absent", "error", "no_light_curve"])
def test_each_plot_draws_a_no_data_panel(summary, irf_summary, tmp_path, change):
    if change == "absent":
        broken = summary
    elif change == "error":
        broken = irf_summary | {"irf": {"error": "IRF: no test protons"}, "alerts": {"error": "x"}}
    else:
        broken = irf_summary | {"alerts": {"n_alerts": 0}, "irf": irf_summary["irf"] | {"bins": {}}}
    for name, plot in (P.IRF_PLOTS | P.ALERT_PLOTS).items():
        path = plot(broken, tmp_path / name)
        assert _ink(path) < 0.01, name


def test_reference_lines_are_skipped_without_prod5_values(irf_summary, tmp_path):
    irf_summary["irf"]["bins"] = _irf_bins(False)
    for name, plot in P.IRF_PLOTS.items():
        assert _ink(plot(irf_summary, tmp_path / name)) > 0.05, name


def test_energy_dispersion_is_read_beside_the_plots_when_the_listed_path_moved(irf_summary, tmp_path):
    moved = tmp_path / "elsewhere" / "irf_pass1.fits.gz"
    irf_summary["irf"]["files"] = [str(moved)]
    assert P.point_like_irf_file(irf_summary, tmp_path / "plots" / "x.png") == tmp_path / "irf" / "irf_pass1.fits.gz"
    assert P.point_like_irf_file(irf_summary, tmp_path / "other" / "plots" / "x.png") is None


def test_report_shows_the_irf_plots_and_the_alerts(irf_summary, tmp_path):
    report = R.write_run_report(tmp_path / "run", irf_summary, SCENARIO)
    md = report.read_text()
    for name in (*P.IRF_PLOTS, *P.ALERT_PLOTS):
        assert f"(plots/{name})" in md and (tmp_path / "run" / "plots" / name).is_file()
    assert md.index("## IRFs and sensitivity") < md.index("(plots/irf_sensitivity.png)") < md.index("## Real-time")
    for text in (
        "## Real-time alerts",
        "over a 60 s window of simulated time; an alert is raised at 5 sigma and the trigger re-arms below 3 sigma. "
        "1 alert(s); injected flare 200-380 s. The analysis keeps up: 1.20 s of wall time for 400 s of data in "
        "80 blocks (median 0.010 s per block of median span 5.00 s; 1200 array events per wall second).",
        "| alert | sim time (s) | significance (sigma) | latency sim (s) | latency wall (s) |",
        "| 1 | 250.3 | 5.40 | 50.3 | 0.80 |",
        "![alert light curve](plots/alerts_light_curve.png)",
        "Prod5 North beside: CTAO Prod5 test note.",
    ):
        assert text in md, text
    assert "Real-time alerts" not in R.to_markdown(R.render_blocks({k: v for k, v in irf_summary.items()
                                                                    if k != "alerts"}))


def test_irf_section_says_when_the_reference_files_are_absent(irf_summary, tmp_path, monkeypatch):
    monkeypatch.setenv(REFERENCE_DATA_ENV, str(tmp_path))
    irf_summary["irf"] |= {"reference": reference_note(), "bins": _irf_bins(False)}
    md = R.to_markdown(R.irf_section(irf_summary))
    assert "reference IRF files not found" in md and REFERENCE_DATA_ENV in md
    assert "shared/" not in md  # the report cites public sources only

"""PNG figures of the IRF and alert sections of a run report, drawn from a ``summary.json`` dict.

IRF figures (``IRF_PLOTS``) plot this run's per-energy-bin figures of ``irf.bins`` as markers and the
CTAO Prod5 North and South values beside them (``prod5_<site>_<key>``, computed from the official IRF
files by ``ctasim.irf.reference``) as lines, a line left out where its values are null; log energy
axes. The energy-dispersion image is read from the run's point-like IRF file (``irf.files``) with
``ctasim.io.gadf_read``. ``plot_light_curve`` draws ``alerts.light_curve``. Each function takes the
summary and the output path, returns that path, and draws a "no data" panel when its section is
absent or holds an ``error``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..errors import CtasimError
from ..io.gadf_read import read_irfs
from .plots import _no_data, _save

SITES = ("north", "south")
POINT_LIKE_FILE = re.compile(r"^irf_pass\d+\.fits\.gz$")
SITE_STYLE = {"north": "-", "south": "--"}


def irf_bins(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``irf.bins`` of the summary, None when the IRF section is absent, an error or has no bins."""
    irf = summary.get("irf")
    if not isinstance(irf, Mapping) or "error" in irf or not irf.get("bins", {}).get("e_center_tev"):
        return None
    return irf["bins"]


def _values(values: Sequence[float | None] | None, n: int) -> np.ndarray:
    """A JSON list as floats, NaN for null (and for a missing list)."""
    if values is None:
        return np.full(n, np.nan)
    return np.array([np.nan if v is None else v for v in values], np.float64)


def _energy_plot(summary: Mapping[str, Any], path: Path, key: str, ylabel: str, title: str,
                 xlabel: str, extra: Sequence[tuple[str, str]] = (), log_y: bool = True) -> Path:
    """Ours (markers: ``key`` and the ``extra`` (key, label) series) against Prod5 North / South (lines)."""
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    bins = irf_bins(summary)
    if bins is None:
        _no_data(ax, "IRFs")
        return _save(fig, path)
    _draw_energy_series(ax, bins, key, extra)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _draw_energy_series(ax: Any, bins: Mapping[str, Any], key: str, extra: Sequence[tuple[str, str]] = ()) -> None:
    energy = np.asarray(bins["e_center_tev"], np.float64)
    n = energy.size
    for series, label, marker in ((key, "ctasim (this run)", "o"), *((k, lab, "s") for k, lab in extra)):
        ax.plot(energy, _values(bins.get(series), n), marker, linestyle="none",
                fillstyle="full" if marker == "o" else "none", label=label)
    for site in SITES:
        ref = _values(bins.get(f"prod5_{site}_{key}"), n)
        if np.isfinite(ref).any():
            ax.plot(energy, ref, SITE_STYLE[site], color="k", label=f"CTAO Prod5 {site.capitalize()}")


def plot_effective_area(summary: Mapping[str, Any], path: Path) -> Path:
    """Effective area (m^2) per true energy: after both cuts, and without the theta cut."""
    return _energy_plot(summary, path, "effective_area_m2", "effective area (m$^2$)", "Effective area",
                        "true energy (TeV)", extra=(("effective_area_no_theta_cut_m2", "ctasim, no theta cut"),))


def plot_energy_resolution(summary: Mapping[str, Any], path: Path) -> Path:
    """Energy resolution (half the 16-84% width of E_reco/E_true) and bias (median - 1) per true energy."""
    fig = Figure(figsize=(6.5, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    bins = irf_bins(summary)
    if bins is None:
        _no_data(top, "IRFs")
        bottom.set_axis_off()
        return _save(fig, path)
    _draw_energy_series(top, bins, "energy_resolution")
    energy = np.asarray(bins["e_center_tev"], np.float64)
    bottom.plot(energy, _values(bins.get("energy_bias"), energy.size), "o", linestyle="none",
                label="ctasim (this run)")
    bottom.axhline(0.0, color="k", linewidth=0.8)
    top.set_ylabel("$\\Delta E/E$ (16-84% half width)")
    bottom.set_ylabel("bias (median $E_{reco}/E_{true}$ - 1)")
    bottom.set_xlabel("true energy (TeV)")
    top.set_title("Energy resolution and bias")
    for ax in (top, bottom):
        ax.set_xscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def plot_angular_resolution(summary: Mapping[str, Any], path: Path) -> Path:
    """68% containment radius (deg) per true energy."""
    return _energy_plot(summary, path, "r68_deg", "angular resolution R68 (deg)", "Angular resolution",
                        "true energy (TeV)")


def plot_background_rate(summary: Mapping[str, Any], path: Path) -> Path:
    """Background rate (1/(s MeV sr), FoV 0-1 deg) per reconstructed energy."""
    return _energy_plot(summary, path, "background_rate_per_s_mev_sr",
                        "background rate (s$^{-1}$ MeV$^{-1}$ sr$^{-1}$)", "Background rate, FoV offset 0-1 deg",
                        "reconstructed energy (TeV)")


def plot_sensitivity(summary: Mapping[str, Any], path: Path) -> Path:
    """Differential point-source sensitivity E^2 dN/dE (erg/(cm^2 s)) per reconstructed energy."""
    hours = (summary.get("irf") or {}).get("sensitivity_time_h", 50)
    return _energy_plot(summary, path, "sensitivity_erg_cm2_s", "$E^2\\,dN/dE$ (erg cm$^{-2}$ s$^{-1}$)",
                        f"Differential sensitivity, {hours:g} h", "reconstructed energy (TeV)")


def point_like_irf_file(summary: Mapping[str, Any], path: Path) -> Path | None:
    """The run's point-like IRF file: as listed in ``irf.files``, else by name in ``<run>/irf`` beside
    ``<run>/plots/<png>``; None when neither exists."""
    for name in (summary.get("irf") or {}).get("files", []):
        listed = Path(name)
        if POINT_LIKE_FILE.match(listed.name):
            for candidate in (listed, path.parent.parent / "irf" / listed.name):
                if candidate.is_file():
                    return candidate
    return None


def plot_energy_dispersion(summary: Mapping[str, Any], path: Path) -> Path:
    """The run's migration matrix dP/dmu (mu = E_reco / E_true) vs true energy at the source offset."""
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    irf_file = point_like_irf_file(summary, path) if irf_bins(summary) is not None else None
    try:
        edisp = None if irf_file is None else read_irfs(irf_file).require("energy_dispersion")
    except CtasimError:
        edisp = None
    if edisp is None or not np.any(edisp.matrix[:, :, 0] > 0):
        _no_data(ax, "energy dispersion")
        return _save(fig, path)
    matrix = np.where(edisp.matrix[:, :, 0] > 0, edisp.matrix[:, :, 0], np.nan)
    mesh = ax.pcolormesh(edisp.true_energy_bins.value, edisp.migration_bins, matrix.T,
                         norm=LogNorm(vmin=np.nanmax(matrix) * 1e-3, vmax=np.nanmax(matrix)))
    fig.colorbar(mesh, ax=ax, label="dP/d$\\mu$")
    ax.axhline(1.0, color="0.5", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("true energy (TeV)")
    ax.set_ylabel("migration $\\mu = E_{reco}/E_{true}$")
    offsets = edisp.fov_offset_bins.value
    ax.set_title(f"Energy dispersion (point-like), FoV offset {offsets[0]:g}-{offsets[1]:g} deg")
    return _save(fig, path)


def plot_light_curve(summary: Mapping[str, Any], path: Path) -> Path:
    """Rolling Li & Ma significance vs simulated time, threshold and re-arm levels, the injected flare
    (shaded) and each alert's time."""
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.add_subplot()
    alerts = summary.get("alerts")
    curve = alerts.get("light_curve") if isinstance(alerts, Mapping) and "error" not in alerts else None
    if not curve or not curve.get("time_s"):
        _no_data(ax, "alert light curve")
        return _save(fig, path)
    time_s = np.asarray(curve["time_s"], np.float64)
    ax.plot(time_s, _values(curve.get("significance"), time_s.size), "-", label="rolling significance")
    for key, style, label in (("threshold_sigma", "r--", "alert threshold"), ("rearm_sigma", "g:", "re-arm level")):
        if alerts.get(key) is not None:
            ax.axhline(alerts[key], color=style[0], linestyle=style[1:], label=f"{label} ({alerts[key]:g} sigma)")
    for i, flare in enumerate(alerts.get("flares", [])):
        ax.axvspan(flare["start_s"], flare["stop_s"], color="orange", alpha=0.2,
                   label="injected flare" if i == 0 else None)
    for i, alert in enumerate(alerts.get("alerts", [])):
        ax.axvline(alert["sim_time_s"], color="k", linewidth=1.2, label="alert" if i == 0 else None)
    ax.set_xlabel("simulated time (s)")
    window = alerts.get("window_s")
    ax.set_ylabel("Li & Ma significance (sigma)" + (f", {window:g} s window" if window else ""))
    ax.set_title(f"Real-time alerts: {alerts.get('n_alerts', len(alerts.get('alerts', [])))} alert(s)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


IRF_PLOTS = {
    "irf_effective_area.png": plot_effective_area,
    "irf_energy_resolution.png": plot_energy_resolution,
    "irf_angular_resolution.png": plot_angular_resolution,
    "irf_background_rate.png": plot_background_rate,
    "irf_sensitivity.png": plot_sensitivity,
    "irf_energy_dispersion.png": plot_energy_dispersion,
}
ALERT_PLOTS = {"alerts_light_curve.png": plot_light_curve}

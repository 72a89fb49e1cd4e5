"""PNG figures of a run report, drawn from a ``summary.json`` dict.

Figures are made with ``matplotlib.figure.Figure`` and saved through its Agg canvas, so nothing
touches pyplot's global state or the interactive backend. Each function takes the summary and
the output path and returns that path. The IRF and alert figures are in ``irf_plots``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from .summary import accounting_levels, archived_path, short_stage

DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def _no_data(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in this run", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def plot_accounting(summary: Mapping[str, Any], path: Path) -> Path:
    """Stacked horizontal bars: share (%) of each level's events ending in each state."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax = fig.add_subplot()
    stages = summary["accounting"]["stages"]
    levels = accounting_levels(stages)
    if not any(stages.get(st, {}).get("total") for _, _, parts in levels for _, st in parts):
        _no_data(ax, "counted events")
        return _save(fig, path)
    labels = []
    for row, (level, _, parts) in enumerate(reversed(levels)):
        counts = [(state, stages.get(st, {}).get("total", 0)) for state, st in parts]
        total = sum(k for _, k in counts)
        labels.append(f"{level} ({total})")
        left = 0.0
        for state, k in counts:
            share = 100.0 * k / total if total else 0.0
            ax.barh(row, share, left=left, edgecolor="white", label=f"{level}: {state}")
            if share > 4:
                ax.text(left + share / 2, row, str(k), ha="center", va="center", fontsize=8)
            left += share
    ax.set_yticks(range(len(levels)), labels)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, reverse=True)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the level's events (%)")
    ax.set_title(f"Event accounting ({'closes' if summary['accounting']['closed'] else 'OPEN'})")
    return _save(fig, path)


def plot_rate_waterfall(summary: Mapping[str, Any], path: Path) -> Path:
    """Grouped bars (log scale): extrapolated Gb/s per stage of the archived data path and
    telescope type, with the analytic budget's total as a marker where a stage matches."""
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ex = summary["rates"]["extrapolated"]["stages"]
    stages = archived_path(summary)
    types = sorted({t for s in stages for t in ex[s]["by_tel_type"]})
    groups = [*types, "total"]
    values = np.array(
        [
            [ex[s]["by_tel_type"].get(t, {}).get("gbit_per_s") or np.nan for t in types]
            + [ex[s].get("gbit_per_s") or np.nan]
            for s in stages
        ],
        dtype=float,
    ).reshape(len(stages), len(groups))
    if not np.isfinite(values).any() or np.nanmax(values) <= 0:
        _no_data(ax, "extrapolated data rates")
        return _save(fig, path)
    x = np.arange(len(stages))
    width = 0.8 / len(groups)
    for g, name in enumerate(groups):
        ax.bar(x + (g - (len(groups) - 1) / 2) * width, values[:, g], width, label=name)
    vs_budget = summary["rates"]["vs_budget"]
    budget_x = [i for i, s in enumerate(stages) if s in vs_budget]
    if budget_x:
        ax.plot(
            x[budget_x],
            [vs_budget[stages[i]]["budget_gbit_per_s"] for i in budget_x],
            "k_",
            markersize=30,
            markeredgewidth=2,
            label="analytic budget (total)",
        )
    ax.set_yscale("log")
    ax.set_xticks(x, [short_stage(s) for s in stages], rotation=20, ha="right")
    ax.set_ylabel("Gb/s")
    rate_khz = summary["rates"]["extrapolated"]["array_trigger_rate_hz"] / 1e3
    ax.set_title(f"Data rate per stage, extrapolated to {rate_khz:g} kHz array triggers")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(fig, path)


def plot_reduction(summary: Mapping[str, Any], path: Path) -> Path:
    """Bars (log scale): reduction factor of every step of the archived chain (labelled by the
    stage it leads to), overall, with technical data, each variant's overall; ~70x as a line."""
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.add_subplot()
    red = summary["reduction"]
    bars = {
        **{short_stage(step.split("->")[1]): f for step, f in red["steps"].items()},
        "overall": red["overall"],
        "overall + technical": red["overall_with_technical"],
        **{f"variant {v}": e["overall"] for v, e in red["variants"].items()},
    }
    bars = {k: v for k, v in bars.items() if v}
    if not bars:
        _no_data(ax, "reduction factors")
        return _save(fig, path)
    x = np.arange(len(bars))
    colors = {"overall": "tab:orange", "overall + technical": "tab:red"}
    ax.bar(
        x,
        list(bars.values()),
        color=[
            colors.get(k, "tab:green" if k.startswith("variant ") else "tab:blue") for k in bars
        ],
    )
    for i, v in enumerate(bars.values()):
        ax.text(i, v, f"{v:.1f}x", ha="center", va="bottom", fontsize=8)
    target = red["target"]["factor"]
    ax.axhline(target, color="k", linestyle="--", label=f"target ~{target:g}x")
    ax.set_yscale("log")
    ax.set_ylim(min(1.0, 0.5 * min(bars.values())), 2.0 * max(target, *bars.values()))
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.set_xticks(x, list(bars), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("bytes before / bytes after")
    ax.set_title(red["target"]["sentence"], fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


PLOTS = {
    "accounting.png": plot_accounting,
    "rate_waterfall.png": plot_rate_waterfall,
    "reduction.png": plot_reduction,
}


def write_plots(summary: Mapping[str, Any], plot_dir: Path) -> dict[str, Path]:
    """Every figure of ``PLOTS`` into ``plot_dir`` when the summary has the on-site chain's accounting (a
    reprocessing pass has none), ``irf_plots.IRF_PLOTS`` when it has IRFs (not an error) and
    ``irf_plots.ALERT_PLOTS`` when it has alerts; returns file name -> path."""
    from .irf_plots import ALERT_PLOTS, IRF_PLOTS, irf_bins  # imported here: irf_plots draws with _save, _no_data

    plots = dict(PLOTS) if "accounting" in summary else {}
    if irf_bins(summary) is not None:
        plots |= IRF_PLOTS
    if isinstance(summary.get("alerts"), Mapping) and "error" not in summary["alerts"]:
        plots |= ALERT_PLOTS
    return {name: plot(summary, plot_dir / name) for name, plot in plots.items()}

"""Side-by-side figures of a run's processing passes (``ctasim reprocess``), from their summaries.

``pass_comparison([(label, summary), ...])`` returns the ``passes`` section of a pass's summary.json::

    labels    one per pass, pass 1 (the run itself) first
    changes   per pass, what it changed ({} for pass 1)
    figures   [{name, values: one per pass}] scalar figures (None where a pass lacks one)
    curves    {name: {energy_center_tev, values: [[per pass] per energy bin]}} DL2 performance curves
              (true energy; AUC reconstructed energy) and the IRF pass's sensitivity (reconstructed energy)

The report draws them as tables (``ctasim.report.run_report.passes_section``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Summary = dict[str, Any]

#: DL2 performance curves compared per energy bin: summary key -> report label
PERFORMANCE_CURVES = {"angular_resolution_deg": "R68 (deg)", "energy_resolution": "dE/E",
                      "roc_auc": "AUC (E_reco)", "effective_area_m2": "A_eff before cuts (m^2)"}


def _get(summary: Summary, *keys: str) -> Any:
    value: Any = summary
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _surviving_fraction(summary: Summary) -> float | None:
    kept, total = _get(summary, "dl1", "images_surviving_cleaning"), _get(summary, "dl1", "telescope_events")
    return kept / total if kept is not None and total else None


def _best_sensitivity(summary: Summary) -> float | None:
    values = [v for v in _get(summary, "irf", "bins", "sensitivity_crab") or [] if v is not None]
    return min(values) if values else None


#: scalar figures: report label -> how to read it from one pass's summary
FIGURES: dict[str, Callable[[Summary], Any]] = {
    "telescope images (DL1)": lambda s: _get(s, "dl1", "telescope_events"),
    "images surviving cleaning (fraction)": _surviving_fraction,
    "reconstructed gammas (DL2)": lambda s: _get(s, "dl2", "performance", "counts", "reconstructed_gammas"),
    "best 50 h sensitivity (Crab units)": _best_sensitivity,
    "fitted spectral index": lambda s: _get(s, "science", "fit", "index"),
    "fitted index error": lambda s: _get(s, "science", "fit", "index_error"),
}


def _curve(passes: Sequence[Summary], centers_of: Callable[[Summary], Any],
           values_of: Callable[[Summary], Any]) -> dict[str, Any] | None:
    """Per energy bin of the first pass with the curve, the values of every pass (None where a pass has
    other bins or no curve)."""
    centers = next((c for s in passes if (c := centers_of(s))), None)
    if not centers:
        return None
    columns = [values_of(s) if centers_of(s) == centers else None for s in passes]
    return {"energy_center_tev": centers,
            "values": [[None if col is None else col[i] for col in columns] for i in range(len(centers))]}


def pass_comparison(labelled: Sequence[tuple[str, Summary]]) -> dict[str, Any]:
    """The ``passes`` section (see the module docstring) of ``(label, summary)`` pairs, pass 1 first."""
    passes = [s for _, s in labelled]
    curves = {}
    for key, name in PERFORMANCE_CURVES.items():
        curve = _curve(passes, lambda s: _get(s, "dl2", "performance", "energy_center_tev"),
                       lambda s, key=key: _get(s, "dl2", "performance", "curves", key, "value"))
        if curve:
            curves[name] = curve
    sensitivity = _curve(passes, lambda s: _get(s, "irf", "bins", "e_center_tev"),
                         lambda s: _get(s, "irf", "bins", "sensitivity_crab"))
    if sensitivity:
        curves["50 h sensitivity (Crab units)"] = sensitivity
    return {
        "labels": [label for label, _ in labelled],
        "changes": [_get(s, "pass", "changes") or {} for s in passes],
        "figures": [{"name": name, "values": [read(s) for s in passes]} for name, read in FIGURES.items()],
        "curves": curves,
    }

"""How close a run's IRFs are to CTAO Prod5: per energy bin, the factor between ours and Prod5's.

``fidelity(bins, site)`` takes summary.json's ``irf.bins`` (our values and the ``prod5_<site>_<key>``
beside them, ``ctasim.irf.reference``) and returns, for each quantity of ``LIMITS``, the bins between
``e_min_tev`` and ``e_max_tev`` that have both values (a null is a bin with too few events, or no
Prod5 value) with ``factor = max(ours / prod5, prod5 / ours)`` (>= 1: how far off, either way) and
``ratio = ours / prod5``; the worst factor per quantity and overall, and whether each stays within
its limit. A bin where ours is 0 and Prod5's is not (no event passed: the background of a too clean
toy) has factor and ratio None and ``zero`` true, and puts its quantity outside the limit. A bin
needs enough events to be compared (``MIN_EVENTS`` of each count in ``COUNTS``: gammas after cuts for
R68, dE/E and A_eff; for the background rate the background events after cuts and the gammas its
gammaness cut was set on, since a cut from a handful of gammas says nothing about the background
behind it); one with fewer is listed with ``few`` true and no factor, and does not count. The Prod5
files are full-enclosure IRFs
(HDUCLAS3 FULL-ENCLOSURE): their effective area holds the gammaness and quality cuts but no
direction cut, so ours is taken without the theta cut (``OURS``: ``effective_area_no_theta_cut_m2``;
summaries that lack it fall back to ``effective_area_m2``); with it, 68 % of our gammas would stand
beside all of theirs. The
limits are the physics-fidelity targets of the project (R68 and dE/E within 1.3x of Prod5, the
effective area after cuts within 1.5x, the background rate after cuts within 3x).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: quantity of ``irf.bins`` -> largest factor from Prod5 accepted
LIMITS = {"r68_deg": 1.3, "energy_resolution": 1.3, "effective_area_m2": 1.5, "background_rate_per_s_mev_sr": 3.0}
E_MIN_TEV, E_MAX_TEV = 0.05, 30.0
#: quantity -> the ``irf.bins`` counts of the events behind it (each needs its ``MIN_EVENTS``)
COUNTS = {"r68_deg": ("n_gammas",), "energy_resolution": ("n_gammas",), "effective_area_m2": ("n_gammas",),
          "background_rate_per_s_mev_sr": ("n_background", "n_gammas")}
MIN_EVENTS = {"n_gammas": 20, "n_background": 5}
#: quantity -> the ``irf.bins`` column of ours that matches Prod5's full-enclosure IRF (default: the same)
OURS = {"effective_area_m2": "effective_area_no_theta_cut_m2"}


def fidelity(bins: Mapping[str, Any], site: str, e_min_tev: float = E_MIN_TEV,
             e_max_tev: float = E_MAX_TEV) -> dict[str, Any]:
    """Per quantity of LIMITS: ``rows`` (e_center_tev, ours, prod5, ratio, factor), ``worst`` factor
    (None without comparable bins), ``limit`` and ``within``; ``worst`` of all and ``within`` overall."""
    center = np.asarray(bins["e_center_tev"], float)
    out: dict[str, Any] = {"site": site, "e_min_tev": e_min_tev, "e_max_tev": e_max_tev, "quantities": {}}
    for key, limit in LIMITS.items():
        ours, prod5 = bins.get(OURS.get(key, key)) or bins.get(key) or [], bins.get(f"prod5_{site}_{key}") or []
        counts = [bins.get(name) or [None] * len(center) for name in COUNTS[key]]  # none given: enough
        rows = []
        for i, (e, a, b) in enumerate(zip(center, ours, prod5)):
            if not (e_min_tev <= e <= e_max_tev and a is not None and b is not None and b > 0 and a >= 0):
                continue
            short = [(c[i], name) for c, name in zip(counts, COUNTS[key])
                     if c[i] is not None and c[i] < MIN_EVENTS[name]]
            few, (n, count) = bool(short), short[0] if short else (counts[0][i], COUNTS[key][0])
            row = {"e_center_tev": float(e), "ours": float(a), "prod5": float(b), "n_events": n, "count": count,
                   "few": few,
                   "zero": a == 0 and not few}
            comparable = not (few or a == 0)
            row |= {"ratio": a / b, "factor": max(a / b, b / a)} if comparable else {"ratio": None, "factor": None}
            rows.append(row)
        worst = max((r["factor"] for r in rows if r["factor"] is not None), default=None)
        zero = any(r["zero"] for r in rows)
        within = False if zero else (None if worst is None else worst <= limit)
        out["quantities"][key] = {"rows": rows, "worst": worst, "zero_bins": sum(r["zero"] for r in rows),
                                  "few_bins": sum(r["few"] for r in rows), "limit": limit, "within": within}
    found = [q["worst"] for q in out["quantities"].values() if q["worst"] is not None]
    out["worst"] = max(found, default=None)
    verdicts = [q["within"] for q in out["quantities"].values()]
    out["within"] = None if any(v is None for v in verdicts) else all(verdicts)
    return out


def fidelity_table(result: Mapping[str, Any]) -> list[str]:
    """Markdown lines: one row per energy and quantity (ours, Prod5, ratio), then the worst factors."""
    site = result["site"]
    lines = [f"| quantity | E (TeV) | ctasim | Prod5 {site} | ours / Prod5 |", "|---|---|---|---|---|"]
    for key, q in result["quantities"].items():
        for r in q["rows"]:
            what = {"n_gammas": "gammas", "n_background": "events"}.get(r.get("count"), "events")
            ratio = (f"too few {what} ({r['n_events']})" if r["few"] else "0 (none passed)" if r["zero"]
                     else f"{r['ratio']:.2f}")
            lines.append(f"| {key} | {r['e_center_tev']:.3g} | {r['ours']:.3g} | {r['prod5']:.3g} | {ratio} |")
    lines.append("")
    for key, q in result["quantities"].items():
        worst = "no comparable bin" if q["worst"] is None else f"{q['worst']:.2f}x"
        worst += f", {q['zero_bins']} bin(s) with none passing" if q["zero_bins"] else ""
        worst += f", {q['few_bins']} bin(s) with too few events" if q["few_bins"] else ""
        verdict = {True: "within", False: "OUTSIDE", None: "-"}[q["within"]]
        lines.append(f"- {key}: worst {worst} (limit {q['limit']}x, {verdict})")
    overall = "no comparable bin" if result["worst"] is None else f"{result['worst']:.2f}x"
    lines.append(f"- worst factor overall: {overall}")
    return lines

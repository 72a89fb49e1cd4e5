"""Performance of a run from its DL2 files, beside CTAO's published Prod5 Alpha figures.

``performance(run_dir)`` returns a JSON-friendly dict (the ``performance`` part of summary.json's
``dl2`` section)::

    energy_bins_tev, energy_center_tev   true-energy bin edges / geometric centres (TeV)
    site                                 "north" or "south" (from the layout's site name)
    reference                            where the Prod5 values come from
    counts                               simulated / triggered / reconstructed gammas, test
                                         gammas and protons
    curves: {name: {value: [per bin], n_events: [per bin], prod5_north: [...], prod5_south: [...]}}

Curves (a value is None in a bin with too few events, ``ctasim.reco.metrics``):

- ``angular_resolution_deg``: 68% containment of the reco-true angle, valid test gammas;
- ``energy_bias``, ``energy_resolution``: median - 1 and half the 16-84% width of
  E_reco/E_true, valid test gammas;
- ``roc_auc``: gamma (0) vs proton (101) test events, valid ones, per reconstructed-energy bin (the
  same bins): images of similar brightness, as a cut per reconstructed energy sees them (per true
  energy a triggered proton is far dimmer than a gamma, which its intensity gives away);
- ``trigger_efficiency``: simulated gammas (shower table) that made an array trigger;
- ``reconstruction_efficiency``: simulated gammas with a valid stereo reconstruction;
- ``effective_area_m2``: reconstruction efficiency x pi r^2 of the simulated scatter radius
  (before any gamma/hadron or direction cut: CTAO's values include those cuts, so ours is an
  upper bound of the comparable figure).

Test events are those with ``is_train`` False; the efficiencies use all simulated gammas (the
geometry does not depend on the trained models). ``prod5_*`` hold the CTAO Prod5 value at each bin
centre, computed from the official Prod5 IRF files by ``ctasim.irf.reference`` (A_eff, R68, energy
resolution and bias at FoV offset 0.5 deg, interpolated in log E; None outside the files' energies, for
curves without a Prod5 counterpart, or when the files are not found: ``reference`` then says so).
``plot_performance`` draws the curves with the reference.
"""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import h5py
import numpy as np

from ..datamodel import paths
from ..datamodel.ids import PRIMARY_IDS, event_key
from ..errors import DataFileError
from ..io.tables import read_table
from ..irf.reference import prod5_values, reference_note
from ..reco.metrics import (
    angular_resolution,
    auc_per_energy_bin,
    efficiency,
    energy_bias_resolution,
    energy_bins,
)
from .files import data_files

#: Prod5 curve (``ctasim.irf.reference``) beside each of our curves; the others have none
PROD5_CURVES = {"angular_resolution_deg": "r68_deg", "energy_resolution": "energy_resolution",
                "energy_bias": "energy_bias", "effective_area_m2": "effective_area_m2"}
E_MIN_TEV, E_MAX_TEV, BINS_PER_DECADE = 0.02, 100.0, 5
CURVE_LABELS = {
    "angular_resolution_deg": "68% angular resolution (deg)",
    "energy_bias": "energy bias (median E_reco/E_true - 1)",
    "energy_resolution": "energy resolution (16-84% half width)",
    "roc_auc": "gamma/proton ROC AUC (per reconstructed energy)",
    "trigger_efficiency": "trigger efficiency",
    "reconstruction_efficiency": "reconstruction efficiency",
    "effective_area_m2": "effective area, no cuts (m^2)",
}


def prod5_curves(site: str, bins: np.ndarray) -> dict[str, list[float | None]]:
    """Prod5 value of each curve at the centres of ``bins`` (TeV edges): None for a curve without a
    Prod5 counterpart, outside the Prod5 energies or without the reference files."""
    values = prod5_values(site, bins * u.TeV, tuple(PROD5_CURVES.values()))
    return {name: values[PROD5_CURVES[name]] if name in PROD5_CURVES else [None] * (len(bins) - 1)
            for name in CURVE_LABELS}


def _read_dl2(files: list[Path]) -> dict[str, np.ndarray | str]:
    """DL2 events, shower truth, trigger and shower distribution of all files, and the site."""
    parts: dict[str, list[np.ndarray]] = {"events": [], "showers": [], "trigger": [], "distribution": []}
    site_name = ""
    sources = {
        "events": paths.DL2_SUBARRAY_EVENTS,
        "showers": paths.SIMULATION_SHOWER,
        "trigger": paths.DL1_SUBARRAY_TRIGGER,
        "distribution": paths.SIMULATION_SHOWER_DISTRIBUTION,
    }
    for path in files:
        try:
            with h5py.File(path, "r") as h5:
                for key, table in sources.items():
                    parts[key].append(read_table(h5, table)[0])
                site_name = str(h5[paths.SUBARRAY_LAYOUT].attrs.get("site_name", ""))
        except (OSError, KeyError) as err:
            raise DataFileError(f"{path}: unreadable DL2 file ({err})") from None
    out: dict[str, np.ndarray | str] = {k: np.concatenate(v) for k, v in parts.items()}
    out["site"] = "south" if "south" in site_name.lower() else "north"
    return out


def performance(run_dir: str | Path) -> dict:
    """Per-true-energy-bin performance of a run's DL2 test events (see the module docstring)."""
    data = _read_dl2(data_files(run_dir, "dl2"))
    ev, showers, site = data["events"], data["showers"], data["site"]
    bins = energy_bins(E_MIN_TEV, E_MAX_TEV, BINS_PER_DECADE)
    primary = ev["true_shower_primary_id"]
    test_valid = ~ev["is_train"] & ev["is_valid"]
    g = test_valid & (primary == PRIMARY_IDS["gamma"]) & np.isfinite(ev["reco_energy"])
    gh = test_valid & np.isin(primary, (PRIMARY_IDS["gamma"], PRIMARY_IDS["proton"])) & np.isfinite(ev["gammaness"])

    sim_gamma = showers[showers["true_shower_primary_id"] == PRIMARY_IDS["gamma"]]
    e_sim = sim_gamma["true_energy"]
    sim_keys = event_key(sim_gamma["obs_id"], sim_gamma["event_id"])
    trigger, valid_events = data["trigger"], ev[ev["is_valid"]]
    triggered = np.isin(sim_keys, event_key(trigger["obs_id"], trigger["event_id"]))
    valid = np.isin(sim_keys, event_key(valid_events["obs_id"], valid_events["event_id"]))
    dist = data["distribution"]
    radius = dist["max_scatter_radius"][dist["particle"] == b"gamma"]
    area = np.pi * float(radius.max()) ** 2 if radius.size else np.nan

    results = {
        **angular_resolution(ev["true_energy"][g], ev["reco_alt"][g], ev["reco_az"][g], ev["true_alt"][g],
                             ev["true_az"][g], bins),
        **energy_bias_resolution(ev["true_energy"][g], ev["reco_energy"][g], bins),
    }
    curves = {
        name: {"value": results[name], "n_events": results["n_events"]}
        for name in ("angular_resolution_deg", "energy_bias", "energy_resolution")
    }
    auc = auc_per_energy_bin(ev["reco_energy"][gh], ev["gammaness"][gh], primary[gh] == PRIMARY_IDS["gamma"], bins)
    curves["roc_auc"] = {"value": auc["roc_auc"], "n_events": auc["n_events"]}
    for name, selected in (("trigger_efficiency", triggered), ("reconstruction_efficiency", valid)):
        eff = efficiency(selected, e_sim, bins)
        curves[name] = {"value": eff["efficiency"], "n_events": eff["n_events"]}
    curves["effective_area_m2"] = {
        "value": [None if v is None else v * area for v in curves["reconstruction_efficiency"]["value"]],
        "n_events": curves["reconstruction_efficiency"]["n_events"],
    }
    centers = np.sqrt(bins[:-1] * bins[1:])
    for ref_site in ("north", "south"):
        for name, values in prod5_curves(ref_site, bins).items():
            curves[name][f"prod5_{ref_site}"] = values
    return {
        "energy_bins_tev": bins.tolist(),
        "energy_center_tev": centers.tolist(),
        "site": site,
        "reference": reference_note(),
        "counts": {
            "simulated_gammas": int(sim_gamma.size),
            "triggered_gammas": int(triggered.sum()),
            "reconstructed_gammas": int(valid.sum()),
            "test_gammas": int(g.sum()),
            "test_protons": int((gh & (primary == PRIMARY_IDS["proton"])).sum()),
        },
        "curves": curves,
    }


def plot_performance(perf: dict, plot_dir: str | Path) -> list[Path]:
    """One PNG per curve of ``performance()`` in ``plot_dir`` (ours vs Prod5 of the run's site)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_dir = Path(plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)
    centers = np.asarray(perf["energy_center_tev"])
    site = perf["site"]
    files = []
    for name, curve in perf["curves"].items():
        fig, ax = plt.subplots(figsize=(6, 4))
        value = np.array([np.nan if v is None else v for v in curve["value"]], float)
        ax.plot(centers, value, "o-", label="ctasim (this run)")
        ref = np.array([np.nan if v is None else v for v in curve[f"prod5_{site}"]], float)
        if np.isfinite(ref).any():
            ax.plot(centers, ref, "k--", label=f"CTAO Prod5 Alpha {site.capitalize()}")
        ax.set_xscale("log")
        if name in ("angular_resolution_deg", "effective_area_m2"):
            ax.set_yscale("log")
        ax.set_xlabel("true energy (TeV)")
        ax.set_ylabel(CURVE_LABELS[name])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = plot_dir / f"{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        files.append(path)
    return files

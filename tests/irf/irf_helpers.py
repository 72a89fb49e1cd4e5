"""Toy populations (ctasim.irf.toy) as weighted IRF event tables, shared by the IRF tests."""

import astropy.units as u

from ctasim.irf.events import event_table
from ctasim.irf.toy import toy_population
from ctasim.irf.weights import event_weights, simulation_info
from ctasim.spectra import CRAB_MAGIC, IRFDOC_ELECTRON, IRFDOC_PROTON, LogParabola, PowerLaw, PowerLawWithBump

LIVETIME = 50 * u.h
POPULATIONS = {
    "gamma": dict(particle="gamma", n_showers=200_000, seed=1, obs_id=1),
    "gamma_diffuse": dict(particle="gamma", n_showers=400_000, seed=2, viewcone_deg=3.0, obs_id=2),
    "proton": dict(particle="proton", n_showers=1_000_000, seed=3, energy_min_tev=0.1, energy_max_tev=200.0,
                   max_scatter_m=1000.0, viewcone_deg=5.0, obs_id=3),
    "electron": dict(particle="electron", n_showers=200_000, seed=4, energy_min_tev=0.03, energy_max_tev=30.0,
                     spectral_index=-2.5, viewcone_deg=5.0, obs_id=4),
}
TARGETS = {
    "gamma": LogParabola(**CRAB_MAGIC),
    "proton": PowerLaw(**IRFDOC_PROTON),
    "electron": PowerLawWithBump(**IRFDOC_ELECTRON),
}


def toy_tables() -> dict:
    """name -> (DL2 rows, distribution row, SimulationInfo, weighted event table)."""
    out = {}
    for name, kwargs in POPULATIONS.items():
        rows, distribution = toy_population(**kwargs)
        info = simulation_info(distribution)
        table = event_table(rows)
        target = TARGETS.get(name)
        if target is not None:
            table["weight"] = event_weights(table["true_energy"], info, target, LIVETIME)
        out[name] = (rows, distribution, info, table)
    return out

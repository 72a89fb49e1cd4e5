"""Benchmark: ctasim stereo geometry vs ctapipe's HillasReconstructor on the same toy events.

Run as ``python scripts/bench_stereo.py``; both run on one core (the ctasim kernel is serial).
"""

from __future__ import annotations

import json
import time

import numpy as np

from ctasim.instrument.config import load_subarray
from ctasim.reco.metrics import angular_separation_deg
from ctasim.reco.stereo import StereoQualityCuts, reconstruct_stereo
from ctasim.reco.toy import toy_events


def bench_stereo(
    n_events: int = 20_000,
    n_ctapipe: int = 200,
    repeats: int = 5,
    layout: str = "north_alpha",
    seed: int = 1,
) -> dict:
    """µs per array event (2-10 telescopes each) for ctasim and ctapipe, their ratio, and the
    largest direction / core difference between the two on the ctapipe events."""
    from ctasim import ctapipe_compat as cc

    subarray = load_subarray(layout)
    alt, az = 70.0, 0.0
    table, _ = toy_events(
        subarray,
        n_events,
        seed=seed,
        pointing_alt=alt,
        pointing_az=az,
        energy_range_tev=(0.03, 30.0),
        psi_noise_deg=3.0,
        cog_noise_deg=0.02,
    )
    cuts = StereoQualityCuts()
    reconstruct_stereo(table[:100], subarray, alt, az, cuts=cuts)  # compile / load the cache
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = reconstruct_stereo(table, subarray, alt, az, cuts=cuts)
        times.append(time.perf_counter() - t0)
    ctasim_us = 1e6 * min(times) / n_events

    sub_rows = table[table["event_id"] <= n_ctapipe]
    csub = cc.to_ctapipe_subarray(subarray)
    reconstructor = cc.make_hillas_reconstructor(csub, cuts)
    events = cc.to_ctapipe_events(sub_rows, alt, az)
    reconstructor(events[0])  # first call sets up astropy caches
    t0 = time.perf_counter()
    for event in events:
        reconstructor(event)
    ctapipe_us = 1e6 * (time.perf_counter() - t0) / len(events)

    ref = cc.geometry_arrays(events)
    mine = reconstruct_stereo(sub_rows, subarray, alt, az, cuts=cuts)
    v = mine.is_valid & ref["is_valid"]
    return {
        "layout": layout,
        "n_events_ctasim": n_events,
        "n_events_ctapipe": len(events),
        "mean_telescopes_per_event": float(table.size / n_events),
        "valid_fraction": float(result.is_valid.mean()),
        "ctasim_us_per_event": ctasim_us,
        "ctapipe_us_per_event": ctapipe_us,
        "speedup": ctapipe_us / ctasim_us,
        "same_validity": bool(np.array_equal(mine.is_valid, ref["is_valid"])),
        "max_direction_diff_deg": float(
            angular_separation_deg(
                mine.reco_alt[v], mine.reco_az[v], ref["alt"][v], ref["az"][v]
            ).max()
        ),
        "max_core_diff_m": float(
            np.hypot(
                mine.reco_core_x[v] - ref["core_x"][v], mine.reco_core_y[v] - ref["core_y"][v]
            ).max()
        ),
        "max_h_max_rel_diff": float(np.abs(mine.reco_h_max[v] / ref["h_max"][v] - 1).max()),
    }


if __name__ == "__main__":
    print(json.dumps(bench_stereo(), indent=2))

"""Helpers of the simulator tests: simulate a population through some cameras, image moments."""

from __future__ import annotations

import numpy as np

from ctasim.sim.camera_sim import TelescopeSimulator
from ctasim.sim.source import Population, ShowerSource

POINTING = (70.0, 0.0)
LSTS = [1, 2, 3, 4]


def simulate(subarray, population: Population, tel_ids, seed: int = 7, block_size: int = 200):
    """All blocks of a population through the cameras tel_ids: (showers, {tel_id: [events]})."""
    src = ShowerSource(population, subarray, *POINTING, seed, block_size)
    sim = TelescopeSimulator(subarray, tel_ids, *POINTING, seed)
    showers, events = [], {t: [] for t in tel_ids}
    for b in range(src.n_blocks):
        block = src.block(b)
        showers.append(block.showers)
        for tel_id, ev in sim.simulate(block).items():
            events[tel_id].append(ev)
    return np.concatenate(showers), events


def image_moments(image: np.ndarray, x: np.ndarray, y: np.ndarray):
    """Intensity, centroid (x, y), length, width, and major-axis unit vector of images [n, n_pix]
    (plain second moments; positions in any unit)."""
    w = image.astype(np.float64)
    size = w.sum(axis=1)
    mx, my = (w * x).sum(1) / size, (w * y).sum(1) / size
    dx, dy = x[None] - mx[:, None], y[None] - my[:, None]
    cxx, cyy, cxy = (w * dx * dx).sum(1) / size, (w * dy * dy).sum(1) / size, (w * dx * dy).sum(1) / size
    half_tr = 0.5 * (cxx + cyy)
    disc = np.sqrt(np.maximum(half_tr**2 - (cxx * cyy - cxy**2), 0.0))
    psi = 0.5 * np.arctan2(2 * cxy, cxx - cyy)
    return size, mx, my, np.sqrt(half_tr + disc), np.sqrt(np.maximum(half_tr - disc, 0.0)), np.cos(psi), np.sin(psi)

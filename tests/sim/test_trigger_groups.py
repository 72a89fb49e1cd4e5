"""The trigger's pixel-major group sums of the NSB trace give the same triggers as summing the group's
pixels sample by sample (the path faulty pixels with their own traces take)."""

import numpy as np

from ctasim.instrument.config import load_subarray
from ctasim.sim.trigger import group_nsb_counts, group_trigger


def _camera():
    tel = next(iter(load_subarray("north_alpha").telescope_types.values()))
    return tel.camera.geometry


def test_group_counts_are_the_pixel_and_its_neighbours_per_sample():
    geom = _camera()
    rng = np.random.default_rng(1)
    nsb = rng.poisson(0.3, (64, geom.n_pixels)).astype(np.uint8)
    groups = group_nsb_counts(nsb, geom.neighbors_indptr, geom.neighbors_indices)
    assert groups.shape == (geom.n_pixels, 64) and groups.dtype == np.uint16
    for c in (0, 7, geom.n_pixels - 1):
        members = [c, *geom.neighbors_indices[geom.neighbors_indptr[c]:geom.neighbors_indptr[c + 1]]]
        np.testing.assert_array_equal(groups[c], nsb[:, members].sum(axis=1))


def test_group_sums_and_own_traces_trigger_the_same_events():
    geom = _camera()
    rng = np.random.default_rng(2)
    n_trace, n_ev = 512, 40
    nsb = rng.poisson(0.5, (n_trace, geom.n_pixels)).astype(np.uint8)
    n_pe = rng.integers(0, 60, n_ev)
    offsets = np.concatenate([[0], np.cumsum(n_pe)])
    centre = rng.integers(0, geom.n_pixels, n_ev)
    pixel = np.concatenate([geom.neighbors_indices[geom.neighbors_indptr[c]:geom.neighbors_indptr[c + 1]][
        rng.integers(0, geom.neighbors_indptr[c + 1] - geom.neighbors_indptr[c], k)] for c, k in zip(centre, n_pe)])
    n_bins = np.full(n_ev, 40, np.int64)
    pe_bin = rng.integers(0, 40, offsets[-1])
    start = rng.integers(0, n_trace - 40, n_ev)
    args = (geom.neighbors_indptr, geom.neighbors_indices, 6, 4)
    groups = group_nsb_counts(nsb, geom.neighbors_indptr, geom.neighbors_indices)
    healthy = group_trigger(offsets, pixel, pe_bin, n_bins, nsb, groups, np.full(geom.n_pixels, -1, np.int64),
                            np.zeros((1, 0), np.uint8), start, *args)
    # every pixel reads its own trace column (the same counts): the sample-by-sample sums
    own = group_trigger(offsets, pixel, pe_bin, n_bins, nsb, groups, np.arange(geom.n_pixels, dtype=np.int64),
                        np.ascontiguousarray(nsb), start, *args)
    np.testing.assert_array_equal(healthy, own)
    assert 0 < np.count_nonzero(healthy >= 0) < n_ev   # some events trigger, some do not

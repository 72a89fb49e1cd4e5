"""Sky maps: the grid's projection, counts per pixel, ring and on/off background; a point source
injected at a known position is the significance peak, the rest of the map ~N(0, 1)."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from ctasim.errors import CtasimError
from ctasim.science.maps import counts_map, exclusion_mask, on_off_maps, ring_background, sky_grid

CENTER = SkyCoord(83.63 * u.deg, 22.01 * u.deg)
SOURCE = CENTER.spherical_offsets_by(0.4 * u.deg, -0.3 * u.deg)
PSF = 0.05 * u.deg


@pytest.fixture(scope="module")
def grid():
    return sky_grid(CENTER, 3 * u.deg, 0.02 * u.deg)


def observation(grid, seed, n_source=400, background_per_pixel=1.5):
    """RA, Dec of a flat background over the grid plus a Gaussian point source at SOURCE."""
    rng = np.random.default_rng(seed)
    n = rng.poisson(background_per_pixel * np.prod(grid.shape))
    background = grid.wcs.pixel_to_world(rng.uniform(-0.5, grid.shape[1] - 0.5, n),
                                         rng.uniform(-0.5, grid.shape[0] - 0.5, n))
    source = SOURCE.spherical_offsets_by(rng.normal(0, 1, n_source) * PSF, rng.normal(0, 1, n_source) * PSF)
    return (np.concatenate([background.ra.deg, source.ra.deg]) * u.deg,
            np.concatenate([background.dec.deg, source.dec.deg]) * u.deg)


def test_grid_is_a_tangent_projection_with_a_fits_header(grid):
    assert grid.shape == (150, 150)
    header = grid.header()
    assert header["CTYPE1"] == "RA---TAN" and header["CDELT1"] == pytest.approx(-0.02)
    wcs = WCS(fits.Header(header))
    x, y = wcs.world_to_pixel(SOURCE)
    assert (float(x), float(y)) == pytest.approx(tuple(map(float, grid.pixel(SOURCE))))
    # the centre sits between the middle pixels of an even grid; pixel centres round-trip
    assert tuple(map(float, grid.pixel(CENTER))) == pytest.approx((74.5, 74.5))
    centres = grid.pixel_centers()
    assert centres[10, 20].separation(grid.wcs.pixel_to_world(20, 10)).arcsec < 1e-6


def test_counts_map_counts_every_event_on_the_grid_once(grid):
    ra, dec = observation(grid, seed=1)
    counts = counts_map(ra, dec, grid)
    assert counts.shape == grid.shape and counts.sum() == len(ra)
    # an event beyond the grid and one on the far side of the sky (not projectable) are left out
    far = counts_map([CENTER.ra.deg + 5, CENTER.ra.deg + 180] * u.deg, [CENTER.dec.deg, -CENTER.dec.deg] * u.deg, grid)
    assert far.sum() == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ring_background_significance_peaks_at_the_source_and_is_standard_normal_elsewhere(grid, seed):
    ra, dec = observation(grid, seed)
    maps = ring_background(counts_map(ra, dec, grid), grid, on_radius=0.1 * u.deg, inner_radius=0.3 * u.deg,
                           outer_radius=0.5 * u.deg, exclusion=exclusion_mask(grid, SOURCE, 0.3 * u.deg))
    peak = np.unravel_index(np.nanargmax(maps.significance), grid.shape)
    assert grid.pixel_centers()[peak].separation(SOURCE) < 0.03 * u.deg
    assert np.nanmax(maps.significance) > 15
    # a flat acceptance: alpha is the ratio of on-disk to ring pixels away from the edges and the exclusion
    assert maps.alpha[100, 100] == pytest.approx(np.pi * 5**2 / (np.pi * (25**2 - 15**2)), rel=0.05)
    elsewhere = maps.significance[~exclusion_mask(grid, SOURCE, 0.5 * u.deg)]
    assert np.all(np.isfinite(elsewhere))
    assert abs(elsewhere.mean()) < 0.1 and 0.9 < elsewhere.std() < 1.1
    np.testing.assert_allclose(maps.excess, maps.n_on - maps.alpha * maps.n_off)


def test_on_off_pair_of_maps_with_a_given_alpha(grid):
    """Off counts from regions 5x the on region (alpha 0.2): no source -> N(0, 1); a source pixel stands out."""
    rng = np.random.default_rng(3)
    mu_background = np.full(grid.shape, 50.0)
    mu_source = np.zeros(grid.shape)
    mu_source[40, 100] = 100.0
    maps = on_off_maps(rng.poisson(mu_background + mu_source), rng.poisson(mu_background / 0.2), 0.2, grid)
    assert np.unravel_index(np.argmax(maps.significance), grid.shape) == (40, 100)
    rest = np.delete(maps.significance.ravel(), 40 * grid.shape[1] + 100)
    assert abs(rest.mean()) < 0.05 and 0.95 < rest.std() < 1.05


def test_pixels_without_an_off_measurement_are_nan_not_zero(grid):
    counts = np.ones(grid.shape)
    everything = np.ones(grid.shape, bool)
    maps = ring_background(counts, grid, 0.1 * u.deg, 0.3 * u.deg, 0.5 * u.deg, exclusion=everything)
    assert np.all(np.isnan(maps.alpha)) and np.all(np.isnan(maps.significance))


@pytest.mark.parametrize("call, match", [
    (lambda g: sky_grid(CENTER, 3 * u.deg, 0 * u.deg), "pixel size"),
    (lambda g: sky_grid(CENTER, 3 * u.m, 0.1 * u.deg), "angles"),
    (lambda g: ring_background(np.ones((3, 3)), g, 0.1 * u.deg, 0.3 * u.deg, 0.5 * u.deg), "shape"),
    (lambda g: ring_background(np.ones(g.shape), g, 0.1 * u.deg, 0.5 * u.deg, 0.3 * u.deg), "radii"),
    (lambda g: on_off_maps(np.ones(g.shape), np.ones(g.shape), 0.0, g), "alpha"),
    (lambda g: counts_map([1, 2] * u.deg, [1] * u.deg, g), "RA and Dec"),
])
def test_bad_map_input_is_a_one_line_error(grid, call, match):
    with pytest.raises(CtasimError, match=match) as error:
        call(grid)
    assert "\n" not in str(error.value)

"""Cherenkov light on the ground and in the camera: pool density, radius, frame convention."""

import numpy as np
import pytest
from sim_helpers import POINTING

from ctasim.instrument.frames import altaz_to_vector
from ctasim.sim.atmosphere import cherenkov_angle
from ctasim.sim.light import (
    expected_per_shower,
    muon_geometry,
    muon_pe,
    photon_density_bound,
    shower_pe,
)
from ctasim.sim.shower import FRANK_TAMM_PER_M, simulate_showers

OBS_LEVEL_M = 2158.0   # CORSIKA observation level of the North site (REFERENCE.md)
RADII = np.array([0.0, 25, 50, 75, 100, 125, 150, 200, 300, 400])


def _density(energy: float, n: int = 60) -> np.ndarray:
    """Mean photon density (photons / m^2) of vertical gammas at the RADII from the core."""
    em, *_ = simulate_showers(np.random.default_rng(int(energy * 1000)), "gamma", np.full(n, energy),
                              np.full(n, 90.0), np.zeros(n), np.zeros(n), np.zeros(n), OBS_LEVEL_M)
    points = (em.x, em.y, em.z, em.photons, em.cherenkov_angle, em.dir_x, em.dir_y, em.dir_z)
    # a 1 m^2 detector looking up, no field-of-view limit
    every = np.arange(n)
    return np.array([expected_per_shower(every, em.offsets, *points, r, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, -1.0, 0).mean()
                     for r in RADII])


@pytest.fixture(scope="module")
def pool():
    return {e: _density(e) for e in (0.1, 1.0, 10.0)}


def test_photon_density_about_100_per_m2_per_tev(pool):
    inner = (RADII >= 25) & (RADII <= 100)
    assert pool[1.0][inner].mean() == pytest.approx(100.0, rel=0.3)


def test_photon_density_grows_linearly_with_energy(pool):
    inner = (RADII >= 25) & (RADII <= 125)
    per_tev = {e: d[inner].mean() / e for e, d in pool.items()}
    assert per_tev[0.1] == pytest.approx(per_tev[1.0], rel=0.3)
    # deeper showers put more light near the core: 1.31x per TeV at 10 TeV (CORSIKA pools grow
    # ~E^1.1-1.15, i.e. 1.26-1.4x per decade)
    assert 1.0 < per_tev[10.0] / per_tev[1.0] < 1.45


def test_light_pool_is_flat_to_about_120_m_then_falls(pool):
    for energy, d in pool.items():
        plateau = d[(RADII >= 25) & (RADII <= 100)]
        if energy <= 1.0:   # deeper, higher-energy showers add light near the core
            assert plateau.max() / plateau.min() < 1.5
        r_half = np.interp(0.5, (d / plateau.mean())[::-1][:-1], RADII[::-1][:-1])
        assert 120.0 <= r_half <= 180.0
        assert d[RADII == 400] < 0.05 * plateau.mean()
        # the bound used to skip far telescopes stays above the pool, well above beyond 200 m
        bound = photon_density_bound(energy, RADII)
        assert np.all(bound > d) and np.all(bound[RADII >= 200] > 3 * d[RADII >= 200])


def test_camera_position_matches_ctapipe_frames():
    """A direction seen by a telescope lands where ctapipe's CameraFrame puts it."""
    astropy_units = pytest.importorskip("astropy.units")
    from astropy.coordinates import AltAz, SkyCoord
    from ctapipe.coordinates import CameraFrame, TelescopeFrame

    u = astropy_units
    focal = 28.0
    alt, az = 71.2, 358.7         # 1.2 deg above and ~0.4 deg west of the pointing
    v = altaz_to_vector(alt, az)
    # one emission point 10 km away along v from a telescope at the origin, no PSF, no spread
    one = np.array([0.0, 1.0])
    x, y, t = shower_pe(np.array([0]), np.array([1]), np.array([0, 1]), one[1:], v[:1] * 1e4, v[1:2] * 1e4,
                        v[2:] * 1e4, np.zeros(1), np.zeros(1), np.zeros(1), np.full(1, -1.0), np.zeros(1),
                        0.0, 0.0, 0.0, np.deg2rad(POINTING[0]), np.deg2rad(POINTING[1]), focal, 0.0,
                        np.full(1, 0.5), np.zeros((1, 4)))
    pointing = AltAz(alt=POINTING[0] * u.deg, az=POINTING[1] * u.deg)
    coord = SkyCoord(alt=alt * u.deg, az=az * u.deg, frame=AltAz())
    cam = coord.transform_to(TelescopeFrame(telescope_pointing=pointing)).transform_to(
        CameraFrame(focal_length=focal * u.m, telescope_pointing=pointing))
    assert x[0] == pytest.approx(cam.x.to_value(u.m), abs=1e-6)
    assert y[0] == pytest.approx(cam.y.to_value(u.m), abs=1e-6)
    assert t[0] == pytest.approx(1e4 / 0.299792458)


@pytest.mark.parametrize("impact_m, arc", [(3.0, False), (20.0, True)])
def test_muon_paints_a_ring_of_the_cherenkov_angle(impact_m, arc):
    """A muon through (near) the mirror: p.e. on a circle of radius theta_c * f around its direction."""
    focal, area = 28.0, 386.7
    radius = np.sqrt(area / np.pi)
    theta = float(cherenkov_angle(OBS_LEVEL_M))
    d = -altaz_to_vector(*POINTING)                    # muon moving along the optical axis
    start = np.array([impact_m, 0.0, 0.0]) - 3000.0 * d
    args = [np.array([v]) for v in (*start, *d)]
    expected, *region = muon_geometry(*args, np.array([theta]), np.array([FRANK_TAMM_PER_M * np.sin(theta) ** 2]),
                                      0.0, 0.0, 0.0, *(-d), radius, -1.0)
    n = int(expected[0] * 0.1)
    rng = np.random.default_rng(3)
    x, y, _, _ = muon_pe(np.array([0]), np.array([n]), *region, *args[:3], np.zeros(1), *args[3:],
                         np.array([theta]), 0.0, 0.0, 0.0, radius, np.deg2rad(POINTING[0]),
                         np.deg2rad(POINTING[1]), focal, 0.0, rng.random((n, 2)), np.zeros((n, 2)))
    r = np.hypot(x, y)
    assert np.allclose(r, focal * np.tan(theta), rtol=0.01)
    phi = np.arctan2(y, x)
    coverage = np.unique(np.floor((phi + np.pi) / (2 * np.pi) * 36)).size / 36
    assert (coverage < 0.6) if arc else (coverage == 1.0)
    if not arc:   # a full ring of an LST collects ~1000-3000 p.e. (0.1 photon -> p.e.)
        assert 1000 < x.size < 3000

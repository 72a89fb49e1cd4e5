"""Cherenkov light from emission points and muons to a telescope: expected photons and p.e. positions.

For an emission point P (photons w) and a telescope at T with mirror area A, the expected photons
on the mirror are ``w A cos(axis) g(psi) / (2 pi sin(psi) |T-P|^2)`` where psi is the angle of T-P
to the local particle direction and g (normalised in psi) the angular distribution of Cherenkov
photons around it: a ring at the local Cherenkov angle smeared by the electrons' scattering, plus
a broad scattered tail (Nerling et al. 2006, astro-ph/0506729: exponential in psi with a scale of
degrees that shrinks with density). Photoelectrons land at the camera position of the direction
P - T (ctapipe's convention, ``ctasim.instrument.frames``), blurred by the optical PSF.

Atmospheric extinction (``ctasim.sim.atmosphere.Extinction``): the photons of an emission point
reaching a telescope are multiplied by the band-averaged transmission of their path, ``exp(a - k m)``
with m = |T-P| / (z_P - z_T) the airmass of that path (flat atmosphere) and (a, k) per point from
``emission_extinction``; the bound ``photon_density_bound`` stays an upper bound. Muon light is
emitted within ~1 km of the telescope and is not attenuated (< 2 %).

Muons: a muon crossing the plane through T perpendicular to it at distance b from T paints the
mirror (a disk of radius sqrt(A / pi)) with light emitted over the last (b + R) / tan(theta_c) of
its track: a ring of radius theta_c around its direction, an arc when b > R.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..instrument.frames import vector_to_fov
from .atmosphere import C_M_PER_NS, Extinction
from .blocks import LightEmission
from .shower import YIELD_PHOTONS_PER_TEV, perpendicular_basis

# g(psi), calibrated (est.) so that the light pool of 0.1-10 TeV gammas is flat to ~100 m and falls
# beyond ~120 m (REFERENCE.md, TOY_PHYSICS.md); angles in units of the local Cherenkov angle.
# The scattered tail has a near and a wide part: the wide one (the low-energy electrons scattered
# far off the axis, Nerling et al.'s exponential of several degrees: 4 Cherenkov angles here)
# carries the light 300-700 m from the core, 1.9 % of the pool's density at 500 m for 1 TeV (est.;
# 0.6 % with the near tail alone, which left the A_eff of 2-20 TeV gammas, whose cores fall beyond
# the outer MSTs, at 0.55-0.6x Prod5's; with it 0.57-0.85x, now limited by the cameras' field of view)
RING_FRACTION = 0.45        # photons in the smeared ring, the rest in the scattered tail
RING_SCALE = 1.25           # ring centre: Cherenkov angle widened by the electrons' scattering
RING_WIDTH = 0.45           # Gaussian width of the ring
TAIL_SCALE = 1.2            # exponential scale of the near tail
WIDE_TAIL_SCALE = 4.0       # exponential scale of the wide tail
WIDE_TAIL_FRACTION = 0.7    # share of the tail photons in the wide tail
MIN_SIN_PSI = 1e-3          # regularises the ring term on the axis (rad)
# upper bound of the photon density per TeV at a distance r from the shower axis, used to skip
# far telescopes before any per-point work: POOL_BOUND * min(1, (POOL_BOUND_R / (r - margin))^3);
# above the simulated pool everywhere (also without extinction), by > 3x beyond 200 m
# (tests/sim/test_light.py); scales with the emitted yield: 500 photons / m^2 / TeV
POOL_BOUND_PER_TEV = 2.5e-5 * YIELD_PHOTONS_PER_TEV
POOL_BOUND_R_M = 170.0
POOL_BOUND_MARGIN_M = 100.0     # lateral offsets of points and hadronic sub-showers


@njit(cache=True)
def _angular_density(psi, theta_c):
    """g(psi) / (2 pi sin psi): photons per steradian around the particle direction (rad^-2)."""
    sr = RING_WIDTH * theta_c
    t0 = TAIL_SCALE * theta_c
    t1 = WIDE_TAIL_SCALE * theta_c
    ring = RING_FRACTION * np.exp(-0.5 * ((psi - RING_SCALE * theta_c) / sr) ** 2) / (sr * np.sqrt(2 * np.pi))
    ring /= max(np.sin(psi), MIN_SIN_PSI)
    # tail psi/t^2 exp(-psi/t) divided by sin(psi) ~ psi: finite on the axis
    tail = (1.0 - RING_FRACTION) * ((1.0 - WIDE_TAIL_FRACTION) * np.exp(-psi / t0) / (t0 * t0)
                                    + WIDE_TAIL_FRACTION * np.exp(-psi / t1) / (t1 * t1))
    return (ring + tail) / (2 * np.pi)


@njit(cache=True)
def _point_photons(x, y, z, w, theta_c, dx, dy, dz, tx, ty, tz, ax, ay, az, area, cos_fov):
    """Expected photons on a mirror of area (m^2) at T, pointing a, from one emission point."""
    vx, vy, vz = x - tx, y - ty, z - tz
    d2 = vx * vx + vy * vy + vz * vz
    d = np.sqrt(d2)
    cos_axis = (vx * ax + vy * ay + vz * az) / d
    if cos_axis < cos_fov:
        return 0.0
    cos_psi = -(vx * dx + vy * dy + vz * dz) / d
    psi = np.arccos(min(max(cos_psi, -1.0), 1.0))
    return w * area * cos_axis * _angular_density(psi, theta_c) / d2


def emission_extinction(em: LightEmission, obs_level_m: float,
                        extinction: Extinction) -> tuple[np.ndarray, np.ndarray]:
    """Per emission point (a, k): ln(transmission) ~ a - k m for light reaching the observation level
    at airmass m, expanded around the airmass of the point's own direction (``Extinction``)."""
    airmass = 1.0 / np.maximum(-em.dir_z, 0.05)
    return extinction.log_transmission_coefficients(obs_level_m + em.z, obs_level_m, airmass)


@njit(cache=True)
def transmitted_photons(showers, offsets, x, y, z, photons, a, k, tx, ty, tz, out):
    """For the points of the given showers, the photons surviving the path to a telescope at
    (tx, ty, tz), into out: photons x exp(a - k m), m = |T-P| / (z_P - z_T) the path's airmass in a
    flat atmosphere (a = k = 0: no extinction)."""
    for i in showers:
        for j in range(offsets[i], offsets[i + 1]):
            if k[j] == 0.0 and a[j] == 0.0:
                out[j] = photons[j]
                continue
            vx, vy, vz = x[j] - tx, y[j] - ty, z[j] - tz
            m = np.sqrt(vx * vx + vy * vy + vz * vz) / max(vz, 1.0)
            out[j] = photons[j] * np.exp(min(a[j] - k[j] * m, 0.0))


def photon_density_bound(energy_tev: np.ndarray, distance_m: np.ndarray) -> np.ndarray:
    """Upper bound (photons / m^2) of the Cherenkov photon density at distance_m from the axes of
    showers of energy_tev (TeV)."""
    r = np.maximum(np.asarray(distance_m) - POOL_BOUND_MARGIN_M, 1e-9)
    return POOL_BOUND_PER_TEV * energy_tev * np.minimum(1.0, (POOL_BOUND_R_M / r) ** 3)


@njit(cache=True)
def expected_per_shower(showers, offsets, x, y, z, w, theta_c, dx, dy, dz, tx, ty, tz, ax, ay, az,
                        area, cos_fov, n_sample):
    """Expected photons of each of the given showers, estimated from about ``n_sample`` evenly
    strided points of each (all points when n_sample <= 0). Points are in random order within a
    sub-shower, so the strided subset is an unbiased sample."""
    out = np.zeros(showers.size)
    for j in range(showers.size):
        i = showers[j]
        n_pts = offsets[i + 1] - offsets[i]
        stride = max(1, n_pts // n_sample) if n_sample > 0 else 1
        acc = 0.0
        for k in range(offsets[i], offsets[i + 1], stride):
            acc += _point_photons(x[k], y[k], z[k], w[k], theta_c[k], dx[k], dy[k], dz[k],
                                  tx, ty, tz, ax, ay, az, area, cos_fov)
        out[j] = acc * n_pts / len(range(offsets[i], offsets[i + 1], stride)) if n_pts else 0.0
    return out


@njit(cache=True)
def expected_cumulative(showers, offsets, x, y, z, w, theta_c, dx, dy, dz, tx, ty, tz, ax, ay, az,
                        area, cos_fov, cum):
    """For the given showers, the running sum of expected photons over their points, into cum."""
    for i in showers:
        acc = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            acc += _point_photons(x[k], y[k], z[k], w[k], theta_c[k], dx[k], dy[k], dz[k],
                                  tx, ty, tz, ax, ay, az, area, cos_fov)
            cum[k] = acc


@njit(cache=True)
def shower_pe(showers, n_pe, offsets, cum, x, y, z, t, dx, dy, dz, sigma, tx, ty, tz, alt_pnt,
              az_pnt, focal, psf_rad, uniform, normal):
    """Camera positions (m) and arrival times (ns) of n_pe[j] p.e. of each shower showers[j].

    Each p.e. picks an emission point with probability proportional to its expected light, moves
    it laterally by its ``sigma``, and is blurred by the PSF. ``uniform`` [n] and ``normal`` [n, 4]
    are the random numbers (drawn by the caller for reproducibility).
    """
    total = n_pe.sum()
    cx = np.empty(total)
    cy = np.empty(total)
    ct = np.empty(total)
    m = 0
    for j in range(showers.size):
        i = showers[j]
        lo, hi = offsets[i], offsets[i + 1]
        tot = cum[hi - 1]
        for _ in range(n_pe[j]):
            k = lo + np.searchsorted(cum[lo:hi], uniform[m] * tot, side="right")
            k = min(k, hi - 1)
            e1x, e1y, e1z, e2x, e2y, e2z = perpendicular_basis(dx[k], dy[k], dz[k])
            a1, a2 = normal[m, 0] * sigma[k], normal[m, 1] * sigma[k]
            vx = x[k] + a1 * e1x + a2 * e2x - tx
            vy = y[k] + a1 * e1y + a2 * e2y - ty
            vz = z[k] + a1 * e1z + a2 * e2z - tz
            d = np.sqrt(vx * vx + vy * vy + vz * vz)
            lon, lat = vector_to_fov(vx / d, vy / d, vz / d, alt_pnt, az_pnt)
            cx[m] = focal * (lat + psf_rad * normal[m, 2])
            cy[m] = focal * (lon + psf_rad * normal[m, 3])
            ct[m] = t[k] + d / C_M_PER_NS
            m += 1
    return cx, cy, ct


@njit(cache=True)
def _muon_foot(x, y, z, dx, dy, dz, tx, ty, tz):
    """Distance along the track to its closest approach F to T, and b = F - T (m)."""
    along = (tx - x) * dx + (ty - y) * dy + (tz - z) * dz
    return along, x + along * dx - tx, y + along * dy - ty, z + along * dz - tz


@njit(cache=True)
def muon_geometry(x, y, z, dx, dy, dz, theta_c, photons_per_m, tx, ty, tz, ax, ay, az, radius,
                  cos_fov):
    """Per muon, the emission region that can reach the mirror disk (radius m) around T.

    Light emitted a distance s before the closest approach F lands on a circle of radius
    s tan(theta_c) around F; only s in [(b - R), (b + R)] / tan(theta_c) and azimuths within
    asin(R / b) of the direction to T can hit. Returns (expected photons emitted into that region,
    s_lo, s_hi, half azimuth range); 0 photons for muons outside the field of view or too far.
    """
    n = x.size
    expected = np.zeros(n)
    s_lo = np.zeros(n)
    s_hi = np.zeros(n)
    half = np.zeros(n)
    for k in range(n):
        along, bx, by, bz = _muon_foot(x[k], y[k], z[k], dx[k], dy[k], dz[k], tx, ty, tz)
        if along <= 0.0 or -(dx[k] * ax + dy[k] * ay + dz[k] * az) < cos_fov:
            continue
        b = np.sqrt(bx * bx + by * by + bz * bz)
        tan_t = np.tan(theta_c[k])
        lo = max(b - radius, 0.0) / tan_t
        hi = min((b + radius) / tan_t, along)
        if hi <= lo:
            continue
        s_lo[k], s_hi[k] = lo, hi
        half[k] = np.pi if b <= radius else np.arcsin(radius / b)
        expected[k] = photons_per_m[k] * (hi - lo) * half[k] / np.pi
    return expected, s_lo, s_hi, half


@njit(cache=True)
def muon_pe(muons, n_cand, s_lo, s_hi, half, x, y, z, t, dx, dy, dz, theta_c, tx, ty, tz, radius,
            alt_pnt, az_pnt, focal, psf_rad, uniform, normal):
    """Camera positions (m) and times (ns) of the photons of muons[j] (n_cand[j] candidates each,
    drawn in the region of ``muon_geometry``) that hit the mirror disk; returns
    (x, y, t, muon row j of each p.e.)."""
    total = n_cand.sum()
    cx = np.empty(total)
    cy = np.empty(total)
    ct = np.empty(total)
    owner = np.empty(total, np.int64)
    m = 0
    r = 0
    for j in range(muons.size):
        k = muons[j]
        along, bx, by, bz = _muon_foot(x[k], y[k], z[k], dx[k], dy[k], dz[k], tx, ty, tz)
        e1x, e1y, e1z, e2x, e2y, e2z = perpendicular_basis(dx[k], dy[k], dz[k])
        phi_t = np.arctan2(-(bx * e2x + by * e2y + bz * e2z), -(bx * e1x + by * e1y + bz * e1z))
        ct_, st_ = np.cos(theta_c[k]), np.sin(theta_c[k])
        tan_t = st_ / ct_
        for _ in range(n_cand[j]):
            s = s_lo[k] + uniform[r, 0] * (s_hi[k] - s_lo[k])
            phi = phi_t + (2.0 * uniform[r, 1] - 1.0) * half[k]
            cp, sp = np.cos(phi), np.sin(phi)
            ox = cp * e1x + sp * e2x
            oy = cp * e1y + sp * e2y
            oz = cp * e1z + sp * e2z
            lx, ly, lz = bx + s * tan_t * ox, by + s * tan_t * oy, bz + s * tan_t * oz
            r += 1
            if lx * lx + ly * ly + lz * lz > radius * radius:
                continue
            # the light comes from the direction opposite to its motion
            lon, lat = vector_to_fov(-(ct_ * dx[k] + st_ * ox), -(ct_ * dy[k] + st_ * oy),
                                     -(ct_ * dz[k] + st_ * oz), alt_pnt, az_pnt)
            cx[m] = focal * (lat + psf_rad * normal[r - 1, 0])
            cy[m] = focal * (lon + psf_rad * normal[r - 1, 1])
            ct[m] = t[k] + along / C_M_PER_NS
            owner[m] = j
            m += 1
    return cx[:m], cy[:m], ct[:m], owner[:m]

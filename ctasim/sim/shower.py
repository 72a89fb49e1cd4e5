"""Toy air showers: Cherenkov emission points of gamma, electron, proton and helium showers, and muons.

An electromagnetic (sub-)shower starts at a depth, follows an axis, and emits its light at points
sampled from the PDG gamma-function longitudinal profile ``dE/dt ~ t^(a-1) exp(-b t)``
(t = depth / X0 after the start). Each point carries photons proportional to the shower energy
(less for the shower's old tail), the local Cherenkov angle, and a lateral spread scaling as the Moliere
radius (1 / density). A gamma is one such shower; a proton is several electromagnetic
sub-showers (the pi0 photons of its hadronic cascade) with transverse-momentum kicks and lateral
offsets, plus muons reaching the ground; the share of its energy that goes electromagnetic grows
with energy (``proton_em_fraction``) and fluctuates from shower to shower
(``EM_FRACTION_CONCENTRATION``). A helium nucleus of energy E is, by the superposition model,
four proton-like cascades of E/4 on the same axis, each starting at its own first interaction
(``HELIUM_INTERACTION_G_CM2``). Inclined showers: all depths (first interaction, t = X / X0 of
the profile, X_max) are slant depths along the (sub-)shower axis; a point at slant depth X lies at
the height where the vertical depth is X cos(zenith) (flat atmosphere, ``ctasim.sim.atmosphere``),
so at 40 deg zenith the same X_max is H ln(cos 20 / cos 40) = 1.6 km higher than at 20 deg and ~1.5x
farther along the axis (tests/sim/test_zenith.py). Density-dependent quantities (Cherenkov angle,
lateral spread) follow the local height. See ../shared/TOY_PHYSICS.md; values marked (est.) are calibrated
against ../shared/REFERENCE.md by tests/sim.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit

from ..instrument.frames import altaz_to_vector
from .atmosphere import (
    C_M_PER_NS,
    cherenkov_angle,
    height_of_vertical_depth,
    relative_density,
    vertical_depth,
)
from .blocks import LightEmission, MuonTracks

X0_G_CM2 = 36.7                 # radiation length in air (REFERENCE.md)
EC_TEV = 85e-6                  # critical energy in air, 85 MeV (REFERENCE.md)
PROFILE_B = 0.5                 # PDG longitudinal profile slope b
GAMMA_FIRST_INT_X0 = 9.0 / 7.0  # mean depth of a photon's first pair production, in X0
# t_max counted from the first interaction so that the mean X_max is Heitler's X0 ln(E/Ec)
# (REFERENCE.md X_max table); electrons start radiating at once: one X0 shallower (PDG C_e - C_g)
TMAX_OFFSET = {"gamma": -GAMMA_FIRST_INT_X0, "electron": -GAMMA_FIRST_INT_X0 - 1.0}
MIN_TMAX = 0.5                  # X0, floor for sub-showers near the critical energy
# past the maximum the electrons fall below the Cherenkov threshold: the light per unit energy
# deposit decays as exp(-(t - t_max) / AGE_DECAY_X0) (est.; removes a spurious spike of light
# from the shower's tail near the ground)
AGE_DECAY_X0 = 3.0

# photons (300-600 nm) emitted per TeV of electromagnetic energy (calibrated, est.) so that vertical
# 1 TeV gammas give ~100 photons/m^2 inside the light pool at 2.2 km (REFERENCE.md) after the
# atmospheric extinction of ctasim.sim.atmosphere (band-averaged transmission 0.77 for them): 97
# photons/m^2 reach the ground, 126 would without extinction (1.6e7 before extinction was modelled,
# 2.0e7 before the wide tail of ctasim.sim.light took 30 % of the light out of the pool).
# The yield per g/cm^2 of track does not depend on altitude (sin^2 theta_c ~ density cancels the
# 1/density of the path length per g/cm^2), so points carry equal shares of it.
YIELD_PHOTONS_PER_TEV = 2.9e7
LATERAL_SIGMA_M = 9.0           # lateral spread of emitters at 8 km a.s.l., per axis (est., gives
                                # ~0.1 deg wide 1 TeV gamma images, REFERENCE.md)
LATERAL_REF_HEIGHT_M = 8000.0
# Emission points of a sub-shower: 200 (E/TeV)^0.25 below 1 TeV, 200 (E/TeV)^0.6 above, clipped (est.).
# Points are the toy's shower-to-shower fluctuations: each carries photons of one lateral position, so
# the fewer the points, the lumpier the image and the poorer its axis. Calibrated against the Prod5
# North R68 (600 sqrt(E/TeV) points gave images too clean: R68 0.58-0.84x Prod5 at 0.17-7 TeV; with
# these 0.69-1.12x North, 0.86-1.30x South). Fewer points also make the simulation faster.
POINTS_AT_1_TEV = 200.0
POINTS_INDEX_BELOW_1_TEV, POINTS_INDEX_ABOVE_1_TEV = 0.25, 0.6
MIN_POINTS, MAX_POINTS = 24, 3000

PROTON_INTERACTION_G_CM2 = 85.0   # p-air interaction length (TOY_PHYSICS.md: 80-90)
PION_INTERACTION_G_CM2 = 120.0    # later generations start this much deeper on average (est.)
# Electromagnetic share of a proton's energy (its Cherenkov yield per TeV relative to a gamma's):
# Heitler-Matthews (Matthews 2005, Astropart. Phys. 22, 387): the energy left in hadrons after the
# cascade has run down to the pion critical energy xi is (E / xi)^(beta - 1), with the same beta as
# the muon number N_mu ~ E^beta (MUONS_PER_TEV below). xi = 20 GeV, beta = 0.9 give 0.32 at 1 TeV,
# the "about a third of a gamma's" of TOY_PHYSICS.md (est.); 0.15 at 0.1 TeV, 0.46 at 10 TeV.
PION_CRITICAL_TEV = 0.02
HADRON_BETA = 0.9
MIN_EM_FRACTION = 0.1             # floor near threshold: pi0s of the first interactions (est.)
# The EM share fluctuates from shower to shower (how much the leading pi0s of the first interactions
# carry): per shower a Beta variate of mean proton_em_fraction(E) and concentration
# EM_FRACTION_CONCENTRATION, i.e. an rms of sqrt(f (1 - f) / 11): 72 % of the mean at 0.1 TeV,
# 45 % at 1 TeV (est.; simulated EM-energy fractions of 0.1-1 TeV proton showers scatter by tens of
# percent). Near threshold the triggered protons are the EM-rich, gamma-like ones.
EM_FRACTION_CONCENTRATION = 10.0
SUBSHOWERS_PER_DECADE = 2.5       # extra EM sub-showers per decade above 10 GeV (est.)
PT_MEAN_GEV = 0.35                # mean transverse momentum (TOY_PHYSICS.md 0.3-0.4 GeV)
SUBSHOWER_OFFSET_M = 20.0         # lateral offset of sub-shower axes per axis (est.)
MAX_KICK_RAD = np.deg2rad(10.0)
MUONS_PER_TEV = 8.0               # muons above ~4 GeV at ground per proton: 8 (E/TeV)^HADRON_BETA (est.)
# Helium (superposition model): mass number 4, the nucleus' first interaction at the He-air
# interaction length. 55 g/cm^2 (est.): the geometric (Bradt-Peters) scaling of the 85 g/cm^2
# p-air length, sigma ~ (A_proj^1/3 + A_air^1/3 - 1)^2 with A_air = 14.5, i.e. sigma_He-air /
# sigma_p-air = 1.54. In that interaction w of the 4 nucleons are wounded (1 + binomial, mean
# <w> = A lambda_He / lambda_p = 2.6, Glauber); the spectators go on as free nucleons and interact
# after a further exponential(PROTON_INTERACTION_G_CM2). So the mean depth at which a nucleon
# starts its cascade is lambda_He + (1 - <w>/A) lambda_p = lambda_p, as in the pure superposition
# model, while the nucleus' first interaction is shallower than a proton's.
HELIUM_MASS_NUMBER = 4
HELIUM_INTERACTION_G_CM2 = 55.0
HELIUM_WOUNDED_MEAN = HELIUM_MASS_NUMBER * HELIUM_INTERACTION_G_CM2 / PROTON_INTERACTION_G_CM2
MUON_P_RANGE_GEV = (4.0, 200.0)   # muon momenta, dN/dp ~ p^-2 (est.)
# Frank-Tamm photons per metre in 300-600 nm per unit sin^2(theta_c): 2 pi alpha (1/300nm - 1/600nm)
FRANK_TAMM_PER_M = 2.0 * np.pi / 137.036 * (1.0 / 300e-9 - 1.0 / 600e-9)


@njit(cache=True)
def perpendicular_basis(ax, ay, az):
    """Two unit vectors perpendicular to the unit vector a and to each other."""
    if abs(ax) < 0.9:
        rx, ry, rz = 1.0, 0.0, 0.0
    else:
        rx, ry, rz = 0.0, 1.0, 0.0
    e1x, e1y, e1z = ay * rz - az * ry, az * rx - ax * rz, ax * ry - ay * rx
    n = np.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    e1x, e1y, e1z = e1x / n, e1y / n, e1z / n
    return e1x, e1y, e1z, ay * e1z - az * e1y, az * e1x - ax * e1z, ax * e1y - ay * e1x


@njit(cache=True)
def lateral_sigma(h_m):
    """Lateral spread (m, per axis) of a shower's emitters at height h (m a.s.l.), ~ Moliere radius."""
    return LATERAL_SIGMA_M * relative_density(LATERAL_REF_HEIGHT_M) / relative_density(h_m)


@njit(cache=True)
def _tilt(ax, ay, az, angle, phi):
    """Unit vector at ``angle`` (rad) from a, at azimuth phi around it."""
    e1x, e1y, e1z, e2x, e2y, e2z = perpendicular_basis(ax, ay, az)
    c, s = np.cos(angle), np.sin(angle)
    cp, sp = np.cos(phi), np.sin(phi)
    return (c * ax + s * (cp * e1x + sp * e2x), c * ay + s * (cp * e1y + sp * e2y),
            c * az + s * (cp * e1z + sp * e2z))


@njit(cache=True)
def tilt_vectors(ax, ay, az, angle, phi):
    """Arrays of unit vectors tilted from the unit vectors a by angle (rad) at azimuth phi."""
    out = np.empty((ax.size, 3))
    for k in range(ax.size):
        out[k, 0], out[k, 1], out[k, 2] = _tilt(ax[k], ay[k], az[k], angle[k], phi[k])
    return out


@njit(cache=True)
def _axis_point(core_x, core_y, ux, uy, uz, slant_depth, obs_level):
    """Point of the axis (core, upward unit vector u) at a slant depth; returns (x, y, z, s) where
    s (m) is the distance along the axis above the core."""
    h = height_of_vertical_depth(slant_depth * uz)
    s = (h - obs_level) / uz
    return core_x + s * ux, core_y + s * uy, s * uz, s


@njit(cache=True)
def _subshower_points(sub_shower, sub_start_depth, sub_energy, sub_tmax, sub_kick, sub_kick_phi, sub_off1,
                      sub_off2, core_x, core_y, ux, uy, uz, obs_level, point_sub, point_t,
                      point_n1, point_n2, n_points_sub,
                      x, y, z, t, photons, theta_c, dx, dy, dz, sigma, keep):
    """Positions, times and yields of all emission points (numba; randoms drawn by the caller).

    ``point_t`` is the depth after the sub-shower start in X0, ``point_n1/2`` standard normals for
    the lateral offset of the point.
    """
    n_sub = sub_shower.size
    sx = np.empty(n_sub)
    sy = np.empty(n_sub)
    sz = np.empty(n_sub)
    st = np.empty(n_sub)
    ddx = np.empty(n_sub)
    ddy = np.empty(n_sub)
    ddz = np.empty(n_sub)
    for j in range(n_sub):
        i = sub_shower[j]
        px, py, pz, s = _axis_point(core_x[i], core_y[i], ux[i], uy[i], uz[i], sub_start_depth[j],
                                    obs_level)
        e1x, e1y, e1z, e2x, e2y, e2z = perpendicular_basis(ux[i], uy[i], uz[i])
        sx[j] = px + sub_off1[j] * e1x + sub_off2[j] * e2x
        sy[j] = py + sub_off1[j] * e1y + sub_off2[j] * e2y
        sz[j] = pz + sub_off1[j] * e1z + sub_off2[j] * e2z
        st[j] = -s / C_M_PER_NS
        ddx[j], ddy[j], ddz[j] = _tilt(-ux[i], -uy[i], -uz[i], sub_kick[j], sub_kick_phi[j])
    for k in range(point_sub.size):
        j = point_sub[k]
        cosz = -ddz[j]
        h_start = obs_level + sz[j]
        xv = vertical_depth(h_start) + point_t[k] * X0_G_CM2 * cosz
        h = height_of_vertical_depth(xv)
        if h <= obs_level or cosz <= 0.0:
            keep[k] = False
            continue
        keep[k] = True
        path = (h_start - h) / cosz
        sig = lateral_sigma(h)
        e1x, e1y, e1z, e2x, e2y, e2z = perpendicular_basis(ddx[j], ddy[j], ddz[j])
        # half of the lateral spread in the point position, half per photon (see LightEmission)
        a1 = point_n1[k] * sig * np.sqrt(0.5)
        a2 = point_n2[k] * sig * np.sqrt(0.5)
        x[k] = sx[j] + path * ddx[j] + a1 * e1x + a2 * e2x
        y[k] = sy[j] + path * ddy[j] + a1 * e1y + a2 * e2y
        z[k] = sz[j] + path * ddz[j] + a1 * e1z + a2 * e2z
        t[k] = st[j] + path / C_M_PER_NS
        age = np.exp(-max(point_t[k] - sub_tmax[j], 0.0) / AGE_DECAY_X0)
        photons[k] = sub_energy[j] * YIELD_PHOTONS_PER_TEV * age / n_points_sub[j]
        theta_c[k] = cherenkov_angle(h)
        dx[k], dy[k], dz[k] = ddx[j], ddy[j], ddz[j]
        sigma[k] = sig * np.sqrt(0.5)


def proton_em_fraction(energy_tev: np.ndarray) -> np.ndarray:
    """Share of a proton's (a nucleon's) energy that ends in electromagnetic sub-showers:
    ``1 - (E / PION_CRITICAL_TEV)^(HADRON_BETA - 1)``, at least MIN_EM_FRACTION (see the constants)."""
    e = np.maximum(np.asarray(energy_tev, float), PION_CRITICAL_TEV)
    return np.clip(1.0 - (e / PION_CRITICAL_TEV) ** (HADRON_BETA - 1.0), MIN_EM_FRACTION, 1.0)


def n_points(energy_tev: np.ndarray) -> np.ndarray:
    """Emission points of a sub-shower of the given electromagnetic energy (TeV)."""
    e = np.asarray(energy_tev, float)
    index = np.where(e < 1.0, POINTS_INDEX_BELOW_1_TEV, POINTS_INDEX_ABOVE_1_TEV)
    return np.clip(np.rint(POINTS_AT_1_TEV * e**index), MIN_POINTS, MAX_POINTS).astype(np.int64)


def simulate_showers(
    rng: np.random.Generator,
    particle: str,
    energy: np.ndarray,
    alt_deg: np.ndarray,
    az_deg: np.ndarray,
    core_x: np.ndarray,
    core_y: np.ndarray,
    obs_level_m: float,
) -> tuple[LightEmission, MuonTracks | None, np.ndarray, np.ndarray]:
    """Cherenkov emission of showers of one particle type (gamma, electron, proton, helium).

    Energies in TeV (a nucleus: its total energy), arrival directions (alt, az) in deg, cores (m)
    on the observation level (m a.s.l.). Returns (emission, muons or None, first-interaction height in m above the
    observation level, X_max slant depth in g/cm^2).
    """
    n = energy.size
    u = altaz_to_vector(alt_deg, az_deg).reshape(n, 3)
    ux, uy, uz = (np.ascontiguousarray(u[:, k]) for k in range(3))
    core_x, core_y = np.asarray(core_x, float), np.asarray(core_y, float)
    ground_depth = vertical_depth(obs_level_m) / uz
    if particle == "helium":
        return _nucleus_showers(rng, energy, ux, uy, uz, core_x, core_y, obs_level_m, ground_depth)
    first_len = PROTON_INTERACTION_G_CM2 if particle == "proton" else GAMMA_FIRST_INT_X0 * X0_G_CM2
    x_first = np.minimum(rng.exponential(first_len, n), 0.9 * ground_depth)
    emission, muons, x_max = _cascades(rng, particle, energy, ux, uy, uz, core_x, core_y, obs_level_m, x_first)
    h_first = height_of_vertical_depth(x_first * uz) - obs_level_m
    return emission, muons, h_first, x_max


def _nucleus_showers(rng, energy, ux, uy, uz, core_x, core_y, obs_level_m, ground_depth):
    """Helium by the superposition model: per nucleus ``HELIUM_MASS_NUMBER`` proton-like cascades of
    E / A on the nucleus' axis and core, each from its own first interaction (see the constants);
    returns what ``simulate_showers`` does, per nucleus (first interaction: the nucleus' one)."""
    n, a = energy.size, HELIUM_MASS_NUMBER
    x_nucleus = np.minimum(rng.exponential(HELIUM_INTERACTION_G_CM2, n), 0.9 * ground_depth)
    n_wounded = 1 + rng.binomial(a - 1, (HELIUM_WOUNDED_MEAN - 1.0) / (a - 1), n)
    owner = np.repeat(np.arange(n), a)                 # the nucleons of a nucleus are consecutive
    spectator = np.tile(np.arange(a), n) >= n_wounded[owner]
    later = np.where(spectator, rng.exponential(PROTON_INTERACTION_G_CM2, owner.size), 0.0)
    x_nucleon = np.minimum(x_nucleus[owner] + later, 0.9 * ground_depth[owner])
    emission, muons, x_max = _cascades(rng, "proton", energy[owner] / a, ux[owner], uy[owner], uz[owner],
                                       core_x[owner], core_y[owner], obs_level_m, x_nucleon)
    # consecutive nucleons: nucleus i owns the points (muons) of nucleons a*i ... a*i + a - 1
    emission = dataclasses.replace(emission, offsets=np.ascontiguousarray(emission.offsets[::a]))
    muons = dataclasses.replace(muons, offsets=np.ascontiguousarray(muons.offsets[::a]))
    x_max = x_max.reshape(n, a).mean(axis=1)           # equal nucleon energies: the energy-weighted mean
    h_first = height_of_vertical_depth(x_nucleus * uz) - obs_level_m
    return emission, muons, h_first, x_max


def _cascades(rng, particle, energy, ux, uy, uz, core_x, core_y, obs_level_m, x_first):
    """Emission (and for protons muons) of showers starting at slant depths ``x_first`` (g/cm^2):
    (emission, muons or None, X_max slant depth)."""
    n = energy.size
    ground_depth = vertical_depth(obs_level_m) / uz
    if particle == "proton":
        n_sub = 1 + rng.poisson(SUBSHOWERS_PER_DECADE * np.log10(np.maximum(energy / 0.01, 1.0)))
        sub_shower = np.repeat(np.arange(n), n_sub)
        first = np.zeros(sub_shower.size, bool)
        first[np.concatenate([[0], np.cumsum(n_sub)[:-1]])] = True
        frac = rng.exponential(1.0, sub_shower.size)      # flat Dirichlet split of the EM energy
        frac /= np.bincount(sub_shower, frac, n)[sub_shower]
        mean_em = np.minimum(proton_em_fraction(energy), 0.95)   # a Beta needs a mean below 1
        em = rng.beta(mean_em * EM_FRACTION_CONCENTRATION, (1.0 - mean_em) * EM_FRACTION_CONCENTRATION)
        sub_energy = (em * energy)[sub_shower] * frac
        sub_depth = x_first[sub_shower] + np.where(first, 0.0, rng.exponential(PION_INTERACTION_G_CM2, sub_shower.size))
        sub_depth = np.minimum(sub_depth, 0.95 * ground_depth[sub_shower])
        pt = rng.gamma(2.0, PT_MEAN_GEV / 2.0, sub_shower.size)
        kick = np.minimum(pt / (sub_energy * 1e3), MAX_KICK_RAD)
        off1, off2 = rng.normal(0.0, SUBSHOWER_OFFSET_M, (2, sub_shower.size)) * ~first
        tmax_offset = TMAX_OFFSET["gamma"]
    else:
        sub_shower = np.arange(n)
        sub_energy = energy.astype(np.float64)
        sub_depth = x_first
        kick = np.zeros(n)
        off1 = off2 = np.zeros(n)
        tmax_offset = TMAX_OFFSET[particle]
    kick_phi = rng.uniform(0.0, 2 * np.pi, sub_shower.size)
    t_max = np.maximum(np.log(sub_energy / EC_TEV) + tmax_offset, MIN_TMAX)

    n_pts = n_points(sub_energy)
    point_sub = np.repeat(np.arange(sub_shower.size), n_pts)
    point_t = rng.gamma(np.repeat(PROFILE_B * t_max + 1.0, n_pts), 1.0 / PROFILE_B)
    normals = rng.standard_normal((2, point_sub.size))
    m = point_sub.size
    out = [np.empty(m) for _ in range(10)]
    keep = np.empty(m, bool)
    _subshower_points(sub_shower, sub_depth, sub_energy, t_max, kick, kick_phi, off1, off2,
                      core_x, core_y, ux, uy, uz, float(obs_level_m),
                      point_sub, point_t, normals[0], normals[1], n_pts, *out, keep)
    counts = np.bincount(sub_shower[point_sub[keep]], minlength=n)
    emission = LightEmission(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                             *(a[keep] for a in out))

    # X_max: energy-weighted depth of the sub-showers' maxima (slant, along the primary)
    sub_xmax = sub_depth + X0_G_CM2 * t_max
    x_max = np.bincount(sub_shower, sub_energy * sub_xmax, n) / np.bincount(sub_shower, sub_energy, n)
    muons = _muons(rng, energy, x_first, ux, uy, uz, core_x, core_y, obs_level_m) if particle == "proton" else None
    return emission, muons, x_max


def _muons(rng, energy, x_first, ux, uy, uz, core_x, core_y, obs_level_m) -> MuonTracks:
    """Muons of proton showers: produced on the axis below the first interaction, kicked by pT/p."""
    n_mu = rng.poisson(MUONS_PER_TEV * energy**HADRON_BETA)
    owner = np.repeat(np.arange(energy.size), n_mu)
    depth = x_first[owner] + rng.exponential(PION_INTERACTION_G_CM2, owner.size)
    depth = np.minimum(depth, 0.95 * vertical_depth(obs_level_m) / uz[owner])
    h = height_of_vertical_depth(depth * uz[owner])
    s = (h - obs_level_m) / uz[owner]
    p_lo, p_hi = MUON_P_RANGE_GEV
    p = 1.0 / (1.0 / p_lo - rng.random(owner.size) * (1.0 / p_lo - 1.0 / p_hi))   # dN/dp ~ p^-2
    kick = np.minimum(rng.gamma(2.0, PT_MEAN_GEV / 2.0, owner.size) / p, MAX_KICK_RAD)
    phi = rng.uniform(0.0, 2 * np.pi, owner.size)
    d = tilt_vectors(-ux[owner], -uy[owner], -uz[owner], kick, phi)
    theta = float(cherenkov_angle(float(obs_level_m)))
    return MuonTracks(
        offsets=np.concatenate([[0], np.cumsum(n_mu)]).astype(np.int64),
        x=np.asarray(core_x)[owner] + s * ux[owner],
        y=np.asarray(core_y)[owner] + s * uy[owner],
        z=s * uz[owner],
        t=-s / C_M_PER_NS,
        dir_x=np.ascontiguousarray(d[:, 0]), dir_y=np.ascontiguousarray(d[:, 1]),
        dir_z=np.ascontiguousarray(d[:, 2]),
        cherenkov_angle=np.full(owner.size, theta),
        photons_per_m=np.full(owner.size, FRANK_TAMM_PER_M * np.sin(theta) ** 2),
    )

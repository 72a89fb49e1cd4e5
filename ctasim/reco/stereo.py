"""Stereo shower geometry from Hillas parameters: direction, core, height of maximum, impacts.

The algorithm and its weights are those of ctapipe's ``HillasReconstructor`` (ctapipe 0.28),
without astropy frames and vectorised over a whole block of array events:

- Each selected image defines a plane through the telescope containing its centroid (cog) and a
  second point ``p2 = cog + 0.1 * camera_radius * (cos psi, sin psi)`` (telescope frame, deg);
  the plane normal is ``cog x p2`` (ground-frame vectors, not normalised).
- Direction: weighted mean of the cross products of all pairs of normals (each flipped to point
  upwards, z >= 0), pair weight ``w_i * w_j`` with ``w = intensity * length / width``;
  normalised. Cross products are not normalised, as in ctapipe.
- Core: unweighted least-squares intersection of the image-axis lines drawn from each telescope
  position in the tilted frame of the array pointing, then projected onto the ground along the
  pointing direction. For parallel pointing the axis angle in the tilted frame is
  ``arctan(cos psi / sin psi)``, ctapipe's "corrected psi".
- Height of shower maximum: least-squares intersection of the lines from each telescope along its
  cog direction; reported above sea level (observation level + z).
- Impact distance of every telescope row of a valid event: distance of the telescope position
  from the reconstructed shower axis (m).

Frames and units follow ``ctasim.instrument.frames``: ground x north, y west, z up (m); angles
in deg at the interface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ctasim.instrument.frames import fov_to_vector
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.instrument.telescope import TelescopeDescription

#: Fraction of the camera radius used as the step to the second point on the image axis (ctapipe).
AXIS_STEP_FRACTION = 0.1


@dataclass(frozen=True)
class StereoQualityCuts:
    """Which telescope images enter the stereo reconstruction; a cut set to None is not applied.

    Defaults: ``hillas_intensity > 50`` p.e. and ``morphology_n_pixels > 3`` (ctapipe's
    StereoQualityQuery), ``leakage_intensity_width_2 <= 0.2`` (common practice, e.g. lstchain),
    at least 2 telescopes per event. Rows with width <= 0 or non-finite Hillas values are always
    dropped.
    """

    min_intensity: float | None = 50.0  # p.e., exclusive
    min_n_pixels: int | None = 3  # exclusive
    max_leakage: float | None = 0.2  # leakage_intensity_width_2, inclusive
    min_telescopes: int = 2


DEFAULT_CUTS = StereoQualityCuts()


@dataclass
class StereoResult:
    """Per-event geometry (sorted by obs_id, event_id) and per-row values in the input row order.

    Angles in deg, lengths in m; ``reco_h_max`` above sea level. Invalid events hold NaN.
    """

    obs_id: np.ndarray  # int32 [n_events]
    event_id: np.ndarray  # int64 [n_events]
    pointing_alt: np.ndarray  # float64 [n_events] deg
    pointing_az: np.ndarray  # deg
    reco_alt: np.ndarray  # float64 [n_events] deg
    reco_az: np.ndarray  # deg, [0, 360)
    reco_core_x: np.ndarray  # m
    reco_core_y: np.ndarray  # m
    reco_h_max: np.ndarray  # m a.s.l.
    multiplicity: np.ndarray  # int16, telescopes used
    is_valid: np.ndarray  # bool
    event_index: np.ndarray  # int64 [n_rows], event of each input row
    used: np.ndarray  # bool [n_rows], row passed the quality cuts
    impact_distance: np.ndarray  # float64 [n_rows] m, NaN where the event is invalid

    @property
    def n_events(self) -> int:
        return int(self.obs_id.size)


def camera_radius_deg(tel: TelescopeDescription) -> float:
    """Camera radius (deg) as ctapipe's ``CameraGeometry.guess_radius``.

    Mean distance of the border pixels (fewer neighbours than the maximum) from the mean pixel
    position, converted with the effective focal length.
    """
    geom = tel.camera.geometry
    n_neighbors = geom.neighbor_counts()
    border = n_neighbors < n_neighbors.max()
    r = np.hypot(geom.pix_x[border] - geom.pix_x.mean(), geom.pix_y[border] - geom.pix_y.mean())
    return float(np.rad2deg(r.mean() / tel.optics.effective_focal_length))


def axis_steps_deg(subarray: SubarrayDescription) -> np.ndarray:
    """Step (deg) to the second image-axis point for every telescope, in layout order."""
    radius = {name: camera_radius_deg(t) for name, t in subarray.telescope_types.items()}
    return AXIS_STEP_FRACTION * np.array([radius[name] for name in subarray.tel_type_names])


def quality_mask(table: np.ndarray, cuts: StereoQualityCuts = DEFAULT_CUTS) -> np.ndarray:
    """Boolean mask of the DL1 rows usable for stereo reconstruction under ``cuts``."""
    mask = np.ones(table.shape[0], bool)
    for col in (
        "hillas_fov_lon",
        "hillas_fov_lat",
        "hillas_psi",
        "hillas_intensity",
        "hillas_length",
    ):
        mask &= np.isfinite(table[col])
    mask &= table["hillas_width"] > 0  # also rejects NaN
    if cuts.min_intensity is not None:
        mask &= table["hillas_intensity"] > cuts.min_intensity
    if cuts.min_n_pixels is not None:
        mask &= table["morphology_n_pixels"] > cuts.min_n_pixels
    if cuts.max_leakage is not None:
        mask &= table["leakage_intensity_width_2"] <= cuts.max_leakage
    return mask


def group_events(obs_id: np.ndarray, event_id: np.ndarray):
    """Group rows by (obs_id, event_id).

    Returns (order, offsets, event_index, unique obs_id, unique event_id): ``order`` sorts the
    rows by event; rows of event i are ``order[offsets[i]:offsets[i+1]]``; ``event_index[k]`` is
    the event of row k.
    """
    order = np.lexsort((event_id, obs_id))
    so, se = obs_id[order], event_id[order]
    new = np.ones(order.size, bool)
    new[1:] = (so[1:] != so[:-1]) | (se[1:] != se[:-1])
    starts = np.flatnonzero(new)
    offsets = np.append(starts, order.size).astype(np.int64)
    event_index = np.empty(order.size, np.int64)
    event_index[order] = np.cumsum(new) - 1
    return order, offsets, event_index, so[starts], se[starts]


def reconstruct_stereo(
    table: np.ndarray,
    subarray: SubarrayDescription,
    pointing_alt: float | np.ndarray,
    pointing_az: float | np.ndarray,
    cuts: StereoQualityCuts = DEFAULT_CUTS,
    mask: np.ndarray | None = None,
    axis_step_deg: np.ndarray | None = None,
) -> StereoResult:
    """Reconstruct the geometry of every array event in a block of DL1 parameter rows.

    Parameters
    ----------
    table : structured array, one row per telescope image (all telescopes concatenated, any
        order) with obs_id, event_id, tel_id, hillas_fov_lon, hillas_fov_lat, hillas_psi (deg),
        hillas_intensity (p.e.), hillas_length, hillas_width (deg), and the columns of the active
        cuts (morphology_n_pixels, leakage_intensity_width_2).
    subarray : layout giving telescope positions (m) and camera radii.
    pointing_alt, pointing_az : array pointing (deg), parallel for all telescopes; a scalar or one
        value per event in the order of the result (sorted by obs_id, event_id).
    cuts : quality cuts, used when ``mask`` is None.
    mask : optional precomputed row selection (overrides ``cuts`` except ``min_telescopes``).
    axis_step_deg : per-layout-telescope axis step (deg); default ``axis_steps_deg(subarray)``.
    """
    n_rows = table.shape[0]
    order, offsets, event_index, obs_id, event_id = group_events(
        np.asarray(table["obs_id"]), np.asarray(table["event_id"])
    )
    n_events = obs_id.size
    tel_index = subarray.tel_indices(table["tel_id"])
    use = quality_mask(table, cuts) if mask is None else np.asarray(mask, bool)
    steps = axis_steps_deg(subarray) if axis_step_deg is None else np.asarray(axis_step_deg, float)

    def sorted_f8(values) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(values, np.float64)[order])

    with np.errstate(divide="ignore", invalid="ignore"):  # rows with width <= 0 are not used
        weight = table["hillas_intensity"] * table["hillas_length"] / table["hillas_width"]
    alt_p = np.deg2rad(np.broadcast_to(np.asarray(pointing_alt, np.float64), (n_events,)))
    az_p = np.deg2rad(np.broadcast_to(np.asarray(pointing_az, np.float64), (n_events,)))
    if n_rows and not (np.isfinite(alt_p).all() and np.isfinite(az_p).all()):
        raise ValueError("pointing_alt / pointing_az must be finite")
    out = np.full((n_events, 5), np.nan)
    multiplicity = np.zeros(n_events, np.int16)
    impact_sorted = np.full(n_rows, np.nan)
    _stereo_kernel(
        offsets,
        np.ascontiguousarray(tel_index[order]),
        np.ascontiguousarray(use[order]),
        np.deg2rad(sorted_f8(table["hillas_fov_lon"])),
        np.deg2rad(sorted_f8(table["hillas_fov_lat"])),
        np.deg2rad(sorted_f8(table["hillas_psi"])),
        sorted_f8(weight),
        np.ascontiguousarray(subarray.positions, np.float64),
        np.deg2rad(steps),
        np.ascontiguousarray(alt_p),
        np.ascontiguousarray(az_p),
        int(cuts.min_telescopes),
        out,
        multiplicity,
        impact_sorted,
    )
    impact = np.empty(n_rows)
    impact[order] = impact_sorted
    is_valid = np.isfinite(out[:, 0])
    return StereoResult(
        obs_id=obs_id.astype(np.int32),
        event_id=event_id.astype(np.int64),
        pointing_alt=np.rad2deg(alt_p),
        pointing_az=np.rad2deg(az_p),
        reco_alt=np.rad2deg(out[:, 0]),
        reco_az=np.rad2deg(out[:, 1]) % 360.0,
        reco_core_x=out[:, 2],
        reco_core_y=out[:, 3],
        reco_h_max=out[:, 4] + subarray.site.obs_level_m,
        multiplicity=multiplicity,
        is_valid=is_valid,
        event_index=event_index,
        used=use,
        impact_distance=impact,
    )


@njit(cache=True)
def _solve3(a, b):
    """Solve the 3x3 system a x = b by Cramer's rule; NaNs when singular."""
    c00 = a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]
    c01 = a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]
    c02 = a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]
    det = a[0, 0] * c00 + a[0, 1] * c01 + a[0, 2] * c02
    x = np.empty(3)
    if det == 0.0:
        x[:] = np.nan
        return x
    for k in range(3):
        m = a.copy()
        m[:, k] = b
        x[k] = (
            m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
            - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
            + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0])
        ) / det
    return x


@njit(cache=True, error_model="numpy")
def _stereo_kernel(
    offsets,
    tel_index,
    use,
    lon,
    lat,
    psi,
    weight,
    positions,
    step,
    alt_p,
    az_p,
    min_tel,
    out,
    multiplicity,
    impact,
):
    """Per event: direction (alt, az rad), core (m), relative h_max (m) into ``out``; impacts."""
    n_events = offsets.size - 1
    max_rows = 0
    for i in range(n_events):
        max_rows = max(max_rows, offsets[i + 1] - offsets[i])
    normals = np.empty((max_rows, 3))
    cogs = np.empty((max_rows, 3))
    w = np.empty(max_rows)
    ux = np.empty(max_rows)
    uy = np.empty(max_rows)
    tel = np.empty(max_rows, np.int64)
    s_mat = np.empty((3, 3))
    c_vec = np.empty(3)
    for i in range(n_events):
        alt, az = alt_p[i], az_p[i]
        n = 0
        for k in range(offsets[i], offsets[i + 1]):
            if not use[k]:
                continue
            t = tel_index[k]
            d = step[t]
            cx, cy, cz = fov_to_vector(lon[k], lat[k], alt, az)
            px, py, pz = fov_to_vector(
                lon[k] + d * np.cos(psi[k]), lat[k] + d * np.sin(psi[k]), alt, az
            )
            normals[n, 0] = cy * pz - cz * py
            normals[n, 1] = cz * px - cx * pz
            normals[n, 2] = cx * py - cy * px
            cogs[n, 0], cogs[n, 1], cogs[n, 2] = cx, cy, cz
            w[n] = weight[k]
            # axis direction in the tilted frame: (cos a, sin a) with a = arctan(cos psi/sin psi)
            a = np.arctan(np.cos(psi[k]) / np.sin(psi[k]))
            ux[n], uy[n] = np.cos(a), np.sin(a)
            tel[n] = t
            n += 1
        multiplicity[i] = n
        if n < max(min_tel, 2):
            continue

        # direction: weighted mean of pairwise plane intersections, flipped upwards
        sx = sy = sz = 0.0
        for a_ in range(n):
            for b_ in range(a_ + 1, n):
                xx = normals[a_, 1] * normals[b_, 2] - normals[a_, 2] * normals[b_, 1]
                yy = normals[a_, 2] * normals[b_, 0] - normals[a_, 0] * normals[b_, 2]
                zz = normals[a_, 0] * normals[b_, 1] - normals[a_, 1] * normals[b_, 0]
                ww = w[a_] * w[b_]
                if zz < 0:
                    ww = -ww
                sx += ww * xx
                sy += ww * yy
                sz += ww * zz
        norm = np.sqrt(sx * sx + sy * sy + sz * sz)
        if not norm > 0.0:
            continue
        dx, dy, dz = sx / norm, sy / norm, sz / norm

        # core: intersection of the axis lines in the tilted frame of the array pointing
        cos_z, sin_z = np.sin(alt), np.cos(alt)
        cos_az, sin_az = np.cos(az), np.sin(az)
        t0 = (cos_z * cos_az, -cos_z * sin_az, -sin_z)
        t1 = (sin_az, cos_az, 0.0)
        t2 = (sin_z * cos_az, -sin_z * sin_az, cos_z)
        a00 = a01 = a11 = b0 = b1 = 0.0
        for j in range(n):
            p = positions[tel[j]]
            qx = t0[0] * p[0] + t0[1] * p[1] + t0[2] * p[2]
            qy = t1[0] * p[0] + t1[1] * p[1] + t1[2] * p[2]
            m00 = ux[j] * ux[j] - 1.0
            m01 = ux[j] * uy[j]
            m11 = uy[j] * uy[j] - 1.0
            a00 += m00
            a01 += m01
            a11 += m11
            b0 += m00 * qx + m01 * qy
            b1 += m01 * qx + m11 * qy
        det = a00 * a11 - a01 * a01
        if det == 0.0:
            continue
        tx = (a11 * b0 - a01 * b1) / det
        ty = (a00 * b1 - a01 * b0) / det
        gx = tx * t0[0] + ty * t1[0]
        gy = tx * t0[1] + ty * t1[1]
        gz = tx * t0[2] + ty * t1[2]
        core_x = gx - t2[0] * gz / t2[2]
        core_y = gy - t2[1] * gz / t2[2]

        # height of maximum: intersection of the cog lines of sight
        s_mat[:, :] = 0.0
        c_vec[:] = 0.0
        for j in range(n):
            p = positions[tel[j]]
            for r in range(3):
                for c in range(3):
                    m = cogs[j, r] * cogs[j, c] - (1.0 if r == c else 0.0)
                    s_mat[r, c] += m
                    c_vec[r] += m * p[c]
        h = _solve3(s_mat, c_vec)

        out[i, 0] = np.arctan2(dz, np.sqrt(dx * dx + dy * dy))
        out[i, 1] = -np.arctan2(dy, dx)
        out[i, 2] = core_x
        out[i, 3] = core_y
        out[i, 4] = h[2]
        for k in range(offsets[i], offsets[i + 1]):
            p = positions[tel_index[k]]
            ex, ey, ez = p[0] - core_x, p[1] - core_y, p[2]
            cx = ey * dz - ez * dy
            cy = ez * dx - ex * dz
            cz = ex * dy - ey * dx
            impact[k] = np.sqrt(cx * cx + cy * cy + cz * cz)

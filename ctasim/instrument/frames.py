"""Coordinate conventions shared by simulation and reconstruction (ctapipe's, without astropy).

- Ground frame: x north, y west, z up (m), origin at the array centre on the observation level.
- A direction (alt, az), az from north towards east, is the unit vector
  ``(cos alt cos az, -cos alt sin az, sin alt)`` pointing back to where light comes from.
- Telescope frame (deg): spherical offsets (fov_lon, fov_lat) from the pointing, fov_lon growing
  with azimuth and fov_lat with altitude (ctapipe's TelescopeFrame).
- Camera frame (m): ``x = f * fov_lat``, ``y = f * fov_lon`` (rad) for focal length f, exactly
  ctapipe's CameraFrame <-> TelescopeFrame transformation with zero camera rotation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def altaz_to_vector(alt_deg, az_deg) -> np.ndarray:
    """Unit direction vectors [..., 3] in the ground frame for alt, az (deg)."""
    alt, az = np.deg2rad(alt_deg), np.deg2rad(az_deg)
    return np.stack([np.cos(alt) * np.cos(az), -np.cos(alt) * np.sin(az), np.sin(alt)], axis=-1)


def vector_to_altaz(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ground-frame direction vectors [..., 3] -> (alt, az) in deg, az in [0, 360)."""
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    alt = np.rad2deg(np.arcsin(np.clip(v[..., 2], -1.0, 1.0)))
    az = np.rad2deg(np.arctan2(-v[..., 1], v[..., 0])) % 360.0
    return alt, az


@njit(cache=True)
def vector_to_fov(vx, vy, vz, alt_pnt, az_pnt):
    """Ground-frame unit vector -> (fov_lon, fov_lat) in rad for pointing alt_pnt, az_pnt (rad)."""
    # ground (x north, y west) -> AltAz cartesian (x north, y east)
    ya = -vy
    ca, sa = np.cos(az_pnt), np.sin(az_pnt)
    x1 = vx * ca + ya * sa
    y1 = -vx * sa + ya * ca
    cl, sl = np.cos(alt_pnt), np.sin(alt_pnt)
    x2 = x1 * cl + vz * sl
    z2 = -x1 * sl + vz * cl
    return np.arctan2(y1, x2), np.arcsin(np.minimum(np.maximum(z2, -1.0), 1.0))


@njit(cache=True)
def fov_to_vector(lon, lat, alt_pnt, az_pnt):
    """Inverse of vector_to_fov: (fov_lon, fov_lat) rad -> ground-frame unit vector components."""
    x2 = np.cos(lat) * np.cos(lon)
    y1 = np.cos(lat) * np.sin(lon)
    z2 = np.sin(lat)
    cl, sl = np.cos(alt_pnt), np.sin(alt_pnt)
    x1 = x2 * cl - z2 * sl
    vz = x2 * sl + z2 * cl
    ca, sa = np.cos(az_pnt), np.sin(az_pnt)
    vx = x1 * ca - y1 * sa
    ya = x1 * sa + y1 * ca
    return vx, -ya, vz


def telescope_to_altaz(fov_lon_deg, fov_lat_deg, alt_pnt_deg: float, az_pnt_deg: float):
    """Telescope frame (fov_lon, fov_lat) deg -> (alt, az) deg for the given pointing."""
    vx, vy, vz = fov_to_vector(
        np.deg2rad(np.asarray(fov_lon_deg, float)),
        np.deg2rad(np.asarray(fov_lat_deg, float)),
        np.deg2rad(alt_pnt_deg),
        np.deg2rad(az_pnt_deg),
    )
    return vector_to_altaz(np.stack([vx, vy, vz], axis=-1))


def altaz_to_telescope(alt_deg, az_deg, alt_pnt_deg, az_pnt_deg) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of telescope_to_altaz: (alt, az) deg -> (fov_lon, fov_lat) deg for the pointing(s)."""
    v = altaz_to_vector(alt_deg, az_deg)
    lon, lat = vector_to_fov(v[..., 0], v[..., 1], v[..., 2], np.deg2rad(alt_pnt_deg), np.deg2rad(az_pnt_deg))
    return np.rad2deg(lon), np.rad2deg(lat)


def camera_to_telescope(x, y, focal_length: float):
    """Camera frame (m) -> (fov_lon, fov_lat) in deg."""
    return np.rad2deg(np.asarray(y) / focal_length), np.rad2deg(np.asarray(x) / focal_length)

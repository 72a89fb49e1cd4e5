"""Regions of a wobble observation: off positions reflected about the pointing.

Positions are (lon, lat) pairs in deg on the sphere (the horizontal frame's az, alt, or RA, Dec).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import angular_separation, offset_by, position_angle

from ..errors import CtasimError

#: reflected off regions asked for (alpha = 1 / N_OFF when they fit)
N_OFF = 5


def reflected_positions(source: tuple[float, float], pointing: tuple[float, float],
                        radius_deg: float, n_off: int = N_OFF) -> list[tuple[float, float]]:
    """(lon, lat) in deg of up to ``n_off`` positions at the source's offset from the pointing, rotated
    about it by equal steps, as many as keep regions of ``radius_deg`` apart from the on region and each other."""
    lon, lat = (np.deg2rad(v) for v in source)
    p_lon, p_lat = (np.deg2rad(v) for v in pointing)
    offset = angle_rad(angular_separation(p_lon, p_lat, lon, lat))
    radius = np.deg2rad(radius_deg)
    if offset <= radius:
        raise CtasimError(f"the source is {np.rad2deg(offset):.3f} deg from the pointing, within the on "
                          f"region ({radius_deg:.3f} deg): no reflected off regions")
    fitting = int(np.floor(np.pi / np.arcsin(min(1.0, radius / offset)))) - 1
    n = min(n_off, fitting)
    if n < 1:
        raise CtasimError("no reflected off region fits beside the on region")
    angle0 = angle_rad(position_angle(p_lon, p_lat, lon, lat))
    out = []
    for k in range(1, n + 1):
        r_lon, r_lat = offset_by(p_lon, p_lat, angle0 + 2 * np.pi * k / (n + 1), offset)
        out.append((float(np.rad2deg(angle_rad(r_lon))), float(np.rad2deg(angle_rad(r_lat)))))
    return out


def angle_rad(angle) -> np.ndarray | float:
    """An angle of astropy's spherical helpers (plain numbers taken as radians) in radians."""
    return u.Quantity(angle, u.rad).value

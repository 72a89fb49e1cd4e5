"""PNG drawings of one camera image and of pixel waveforms (matplotlib, no pyplot state).

``plot_camera`` draws every pixel as its polygon (hexagons or squares of the camera's pitch and
pixel rotation) in one ``PolyCollection`` coloured by value, with a colour bar, like ctapipe's
``CameraDisplay``; pixels of an optional mask (e.g. the cleaning mask) are outlined.
Figures are saved through the Agg canvas of ``matplotlib.figure.Figure``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from ..instrument.camera import HEX, CameraGeometry

DPI = 110
MASK_EDGE_COLOR = "red"  # outline of masked pixels


def pixel_polygons(geom: CameraGeometry) -> np.ndarray:
    """Vertices (m) of every pixel, [n_pixels, n_corners, 2], from the pitch and pixel rotation."""
    if geom.pix_type == HEX:  # flat sides facing the lattice neighbours along x
        corners, first_deg, radius = 6, 30.0, geom.pitch / np.sqrt(3.0)
    else:
        corners, first_deg, radius = 4, 45.0, geom.pitch / np.sqrt(2.0)
    angle = np.deg2rad(first_deg + geom.pix_rotation_deg + 360.0 / corners * np.arange(corners))
    offsets = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    centres = np.column_stack([geom.pix_x, geom.pix_y])
    return centres[:, None, :] + offsets[None, :, :]


def plot_camera(
    geom: CameraGeometry,
    values: np.ndarray,
    path: str | Path,
    title: str = "",
    cmap: str = "viridis",
    mask: np.ndarray | None = None,
    label: str = "charge (p.e.)",
) -> Path:
    """Draw ``values`` [n_pixels] on the camera (x, y in m) as a PNG at ``path``; returns it."""
    values = np.asarray(values, dtype=float)
    if values.shape != (geom.n_pixels,):
        raise ValueError(f"values: expected shape ({geom.n_pixels},), got {values.shape}")
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = fig.add_subplot()
    polygons = pixel_polygons(geom)
    # edges in the face colour close the anti-aliasing seams between pixels
    pixels = PolyCollection(polygons, array=values, cmap=cmap, edgecolors="face", linewidths=0.3)
    ax.add_collection(pixels)
    if mask is not None:
        outline = polygons[np.asarray(mask, dtype=bool)]
        ax.add_collection(
            PolyCollection(outline, facecolors="none", edgecolors=MASK_EDGE_COLOR, linewidths=0.8)
        )
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(title or geom.name)
    fig.colorbar(pixels, ax=ax, label=label)
    return _save(fig, Path(path))


def plot_waveform(
    waveform: np.ndarray,
    pixel_ids,
    path: str | Path,
    sample_width_ns: float = 1.0,
    title: str = "",
) -> Path:
    """Samples of ``waveform`` [n_pixels, n_samples] for the given pixels vs time (ns) as a PNG."""
    waveform = np.asarray(waveform)
    if waveform.ndim != 2:
        raise ValueError(f"waveform: expected [n_pixels, n_samples], got shape {waveform.shape}")
    t = np.arange(waveform.shape[1]) * sample_width_ns
    fig = Figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for pix in np.atleast_1d(pixel_ids):
        ax.step(t, waveform[pix], where="mid", label=f"pixel {pix}")
    ax.set_xlabel("time (ns)")
    ax.set_ylabel("amplitude")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return _save(fig, Path(path))


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path

"""Event display of a run: one camera image (or the stored waveforms of its brightest pixels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dl0.reduction import calibrate_dl0
from .errors import CtasimError
from .io.archive import DL0ArchiveReader
from .report.camera_display import plot_camera, plot_waveform

N_WAVEFORM_PIXELS = 5


def _find_event(run_dir: Path, event_id: int | None, tel_id: int | None):
    """(reader path, tel_id, decoded columns, row) of the requested or the brightest image."""
    files = sorted((run_dir / "dl0").glob("*.dl0.h5"))
    if not files:
        raise CtasimError(f"{run_dir}: no DL0 archive under dl0/ (is it a ctasim run directory?)")
    best = None
    for path in files:
        with DL0ArchiveReader(path) as reader:
            subarray = reader.subarray
            tels = [tel_id] if tel_id is not None else reader.tel_ids
            for tid in tels:
                if tid not in reader.tel_ids:
                    continue
                for block in reader.iter_blocks(tid):
                    cols = block.decode()
                    rows = np.flatnonzero(cols["event_id"] == event_id) if event_id is not None else None
                    if rows is not None and rows.size == 0:
                        continue
                    image, _ = calibrate_dl0(cols, subarray.tel(tid))
                    row = int(rows[0]) if rows is not None else int(np.argmax(image.sum(axis=1)))
                    size = float(image[row].sum())
                    if best is None or (event_id is None and size > best[0]):
                        best = (size, path, tid, cols, image[row], row, subarray)
                    if event_id is not None:
                        return best[1:]
    if best is None:
        parts = [f"event {event_id}"] * (event_id is not None) + [f"telescope {tel_id}"] * (tel_id is not None)
        what = " of ".join(parts)
        raise CtasimError(f"{run_dir}: {what} not found in the DL0 archives")
    return best[1:]


def display_event(run_dir: str | Path, event_id: int | None = None, tel_id: int | None = None,
                  output: str | Path | None = None, waveform: bool = False) -> Path:
    """Draw one telescope image of a run (brightest by default) as a PNG; returns its path."""
    run_dir = Path(run_dir)
    if output is not None and Path(output).suffix.lower() != ".png":
        raise CtasimError(f"{output}: the event display is written as PNG (use a .png file name)")
    path, tid, cols, image, row, subarray = _find_event(run_dir, event_id, tel_id)
    ev = int(cols["event_id"][row])
    tel = subarray.tel(tid)
    suffix = "_waveform" if waveform else ""
    output = Path(output) if output else run_dir / "plots" / f"event_{ev}_tel_{tid:03d}{suffix}.png"
    title = f"{path.name}: event {ev}, tel {tid} ({tel.type_name}), {image.sum():.0f} p.e."
    if not waveform:
        mask = cols["pixel_mask"][row] if "pixel_mask" in cols else None
        return plot_camera(tel.camera.geometry, image, output, title=title, mask=mask)
    if "waveform" not in cols:
        raise CtasimError(f"{path.name}: telescope {tid} stored no waveforms (reduction variant integrated)")
    n_pix = tel.camera.geometry.n_pixels
    mask = cols["pixel_mask"] if "pixel_mask" in cols else np.ones((cols["event_id"].size, n_pix), bool)
    first = int(mask[:row].sum())
    kept = np.flatnonzero(mask[row])
    traces = cols["waveform"][first:first + kept.size, 0, :].astype(np.float32)
    top = np.argsort(image[kept])[::-1][:N_WAVEFORM_PIXELS]
    full = np.zeros((n_pix, traces.shape[1]), np.float32)
    full[kept] = traces
    return plot_waveform(full, kept[top], output, tel.camera.readout.sample_width_ns, title=title)

"""DL0 -> DL1: calibrated images, cleaning masks and image parameters of every archived event.

``process_dl1(run_dir)`` reads every DL0 archive ``run_dir/dl0/<stem>.dl0.h5`` (written by the
archiver), refuses it with a one-line ``DataFileError`` if it is damaged or incomplete, and writes
``run_dir/dl1/<stem>.dl1.h5`` block by block and telescope by telescope (never the whole run in
memory), crash-safely (``<name>.tmp``, renamed when complete). Paths are in ``ctasim.datamodel.paths``:

- ``/configuration/instrument/...``: the archive's subarray;
- ``/dl1/event/subarray/trigger``: the stereo trigger table (copy of the DL0 one);
- ``/dl1/event/telescope/parameters/tel_NNN``: obs_id, event_id, tel_id + the DATA_MODEL
  parameter columns (``ctasim.datamodel.dl1.PARAMETER_COLUMNS``), rows in archive order;
- ``/dl1/event/telescope/images/tel_NNN``: obs_id, event_id, tel_id, image (float32 p.e.),
  peak_time (float32 ns), image_mask (bool), same row order; written when ``keep_images`` or, by
  default, when the archive holds fewer than ``KEEP_IMAGES_BELOW`` telescope events;
- ``/simulation/...`` truth tables and ``/dl0/monitoring/subarray/pointing``: copied unchanged.

File attributes carry the provenance (``ctasim.io.provenance``) with ``stage = "dl1"``, the pass
number and every input file with its SHA-256 block checksum and size.

Images: ``ctasim.dl0.reduction.calibrate_dl0`` (stored charges and peak times, or the camera's
extractor on stored waveforms); cleaning and parameters: ``ctasim.image.process_images`` with the
camera's default cleaning and a fresh ``default_rng(0)`` per block for the timing fit, so every
block's parameters can be recomputed from its stored images alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from ..datamodel import paths
from ..datamodel.dl1 import DL1_PARAMETERS_DTYPE, IMAGE_UNITS, PARAMETER_UNITS, PARAMETERS_DTYPE, image_dtype
from ..dl0.reduction import calibrate_dl0
from ..errors import DataFileError
from ..image import process_images
from ..io.archive import DL0ArchiveReader, verify_archive
from ..io.atomic import TMP_SUFFIX, publish, temporary_path
from ..io.instrument import write_instrument
from ..io.provenance import make_provenance, write_provenance
from ..io.tables import append_table

DL0_SUFFIX = ".dl0.h5"
DL1_SUFFIX = ".dl1.h5"
KEEP_IMAGES_BELOW = 20_000  # telescope events per archive: images are kept by default below this
#: Side tables copied from the DL0 archive into every DL1 file, under the same path.
COPIED_TABLES = (
    paths.SIMULATION_SHOWER,
    paths.SIMULATION_SHOWER_DISTRIBUTION,
    paths.SIMULATION_IMPACT,
    paths.DL0_MONITORING_POINTING,
)


def stem(path: str | Path) -> str:
    """File name without its data-level suffix: ``run_gamma_obs000001.dl0.h5`` -> ``run_gamma_obs000001``."""
    return re.sub(r"\.dl[0-9]\.h5(\.tmp)?$", "", Path(path).name)


def data_files(run_dir: str | Path, level: str) -> list[Path]:
    """The files of one data level (``dl0``, ``dl1``, ``dl2``) in ``run_dir/<level>``, sorted,
    including leftover ``.tmp`` files (an interrupted writer) so that readers refuse them.

    Raises DataFileError when there is none.
    """
    folder = Path(run_dir) / level
    files = sorted(folder.glob(f"*.{level}.h5")) + sorted(folder.glob(f"*.{level}.h5{TMP_SUFFIX}"))
    if not files:
        raise DataFileError(f"{folder}: no {level.upper()} files (*.{level}.h5)")
    return files


@contextmanager
def atomic_h5(path: Path) -> Iterator[h5py.File]:
    """An HDF5 file written as ``<path>.tmp``, fsynced and renamed to ``path`` on success,
    deleted on failure: a reader never sees a partial file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with h5py.File(tmp, "w") as h5:
            yield h5
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_archive(path: Path) -> None:
    """Verify every checksum of a DL0 archive; the first problem (or a writer's leftover
    temporary file) raises a one-line DataFileError."""
    if path.name.endswith(TMP_SUFFIX):
        raise DataFileError(f"{path}: incomplete archive (temporary file of an interrupted writer)")
    report = verify_archive(path)
    if not report["ok"]:
        more = len(report["failed"]) - 1
        raise DataFileError(report["failed"][0] + (f" (and {more} more problems)" if more else ""))


def copy_tables(src: h5py.File, dst: h5py.File, tables: tuple[str, ...], renames: dict[str, str] | None = None) -> None:
    """Copy datasets or groups (with attributes, chunking, compression) present in ``src``."""
    renames = renames or {}
    for path in tables:
        if path in src:
            target = renames.get(path, path)
            parent, name = target.rsplit("/", 1)
            src.copy(src[path], dst.require_group(parent), name=name)


class TableBuffer:
    """Rows for ``append_table`` collected per table path and written in pieces of at least
    ``flush_bytes``: archive blocks can hold a handful of events, and appending each to a
    compressed, chunked table would recompress its chunk every time. Bounded memory."""

    def __init__(self, h5: h5py.File, flush_bytes: int = 4 << 20) -> None:
        self.h5, self.flush_bytes = h5, flush_bytes
        self.rows: dict[str, list[np.ndarray]] = {}
        self.units: dict[str, dict[str, str]] = {}

    def add(self, path: str, rows: np.ndarray, units: dict[str, str]) -> None:
        self.rows.setdefault(path, []).append(rows)
        self.units[path] = units
        if sum(r.nbytes for r in self.rows[path]) >= self.flush_bytes:
            self.flush(path)

    def flush(self, path: str | None = None) -> None:
        """Write the rows of ``path`` (of every table when None)."""
        for p in [path] if path is not None else list(self.rows):
            if self.rows.get(p):
                append_table(self.h5, p, np.concatenate(self.rows.pop(p)), self.units[p])


def _dl1_rows(obs_id: int, tel_id: int, event_id: np.ndarray, params: np.ndarray) -> np.ndarray:
    rows = np.empty(event_id.size, DL1_PARAMETERS_DTYPE)
    rows["obs_id"], rows["event_id"], rows["tel_id"] = obs_id, event_id, tel_id
    for name in PARAMETERS_DTYPE.names:
        rows[name] = params[name]
    return rows


def _image_rows(obs_id: int, tel_id: int, event_id, image, peak_time, mask) -> np.ndarray:
    rows = np.empty(event_id.size, image_dtype(image.shape[1]))
    rows["obs_id"], rows["event_id"], rows["tel_id"] = obs_id, event_id, tel_id
    rows["image"], rows["peak_time"], rows["image_mask"] = image, peak_time, mask
    return rows


def dl1_file(archive: Path, out_path: Path, keep_images: bool | None, pass_number: int) -> dict:
    """Turn one verified DL0 archive into one DL1 file; returns its counts and timings."""
    t0 = time.perf_counter()
    n_images = n_kept = 0
    seconds_images = 0.0
    with DL0ArchiveReader(archive) as reader:
        subarray, prov_in = reader.subarray, reader.provenance
        n_tel_events = sum(int(reader.block_index(t)["n_events"].sum()) for t in reader.tel_ids)
        keep = n_tel_events < KEEP_IMAGES_BELOW if keep_images is None else keep_images
        prov = make_provenance(
            prov_in.get("scenario_name", ""),
            prov_in.get("scenario", {}),
            prov_in.get("seed", 0),
            pass_number,
            extra={
                "stage": "dl1",
                "stream": prov_in.get("stream"),
                "obs_id": prov_in.get("obs_id"),
                "inputs": [
                    {
                        "path": str(archive),
                        "sha256_blocks": reader.stored_checksum,
                        "bytes": archive.stat().st_size,
                    }
                ],
                "images_kept": bool(keep),
            },
        )
        with atomic_h5(out_path) as h5:
            write_provenance(h5, prov)
            write_instrument(h5, subarray)
            out = TableBuffer(h5)
            for tel_id in reader.tel_ids:
                tel = subarray.tel(tel_id)
                par_path = paths.tel_table_path(paths.DL1_PARAMETERS, tel_id)
                img_path = paths.tel_table_path(paths.DL1_IMAGES, tel_id)
                for block in reader.iter_blocks(tel_id, verify=False):  # verified by check_archive
                    columns = block.decode()
                    t1 = time.perf_counter()
                    image, peak_time = calibrate_dl0(columns, tel)
                    masks, params = process_images(image, peak_time, tel)
                    seconds_images += time.perf_counter() - t1
                    event_id = columns["event_id"]
                    out.add(par_path, _dl1_rows(block.obs_id, tel_id, event_id, params), PARAMETER_UNITS)
                    if keep:
                        rows = _image_rows(block.obs_id, tel_id, event_id, image, peak_time, masks)
                        out.add(img_path, rows, IMAGE_UNITS)
                        n_kept += event_id.size
                    n_images += event_id.size
                out.flush()
            with h5py.File(archive, "r") as src:
                copy_tables(src, h5, (paths.DL0_SUBARRAY_TRIGGER,), {paths.DL0_SUBARRAY_TRIGGER: paths.DL1_SUBARRAY_TRIGGER})
                copy_tables(src, h5, COPIED_TABLES)
                n_array_events = src[paths.DL0_SUBARRAY_TRIGGER].shape[0] if paths.DL0_SUBARRAY_TRIGGER in src else 0
    return {
        "array_events": n_array_events,
        "telescope_events": n_images,
        "images_stored": n_kept,
        "wall_s": time.perf_counter() - t0,
        "image_processing_s": seconds_images,
    }


def process_dl1(
    run_dir: str | Path, keep_images: bool | None = None, pass_number: int = 1
) -> tuple[list[Path], dict]:
    """DL0 -> DL1 for every archive of a run directory (see the module docstring).

    Every archive is verified before anything is written; a damaged or incomplete one (also a
    leftover ``.tmp``) raises a one-line DataFileError. ``keep_images`` None keeps images of
    archives below ``KEEP_IMAGES_BELOW`` telescope events. Returns (DL1 files, stats) with stats
    ``files, array_events, telescope_events, images_stored, wall_s, image_processing_s,
    images_per_s`` (telescope images through calibration + cleaning + parameters per wall
    second of the whole stage, I/O included) and ``per_file`` (the same per file name).
    """
    t0 = time.perf_counter()
    archives = data_files(run_dir, "dl0")
    for archive in archives:
        check_archive(archive)
    out_dir = Path(run_dir) / "dl1"
    files, per_file = [], {}
    for archive in archives:
        out = out_dir / (stem(archive) + DL1_SUFFIX)
        per_file[out.name] = dl1_file(archive, out, keep_images, pass_number)
        files.append(out)
    totals = {
        k: sum(f[k] for f in per_file.values())
        for k in ("array_events", "telescope_events", "images_stored", "image_processing_s")
    }
    wall = time.perf_counter() - t0
    stats = {
        "pass_number": int(pass_number),
        "files": [str(f) for f in files],
        **totals,
        "wall_s": wall,
        "images_per_s": totals["telescope_events"] / wall if wall > 0 else None,
        "per_file": per_file,
    }
    return files, stats

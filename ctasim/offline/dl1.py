"""DL0 -> DL1: calibrated images, cleaning masks and image parameters of every archived event.

``process_dl1(run_dir)`` reads every DL0 archive ``run_dir/dl0/<stem>.dl0.h5`` (written by the
archiver) once, verifying every block checksum while decoding, and writes
``run_dir/dl1/<stem>.dl1.h5`` telescope by telescope in archive order. The work is cut into
independent units of whole blocks (``ctasim.offline.dl1_units``) run by an executor
(``ctasim.offline.executor``: in this process by default, Ray tasks with ``actors.offline_executor``);
the driver writes their results in a fixed order with a bounded number of units in flight (never
the whole run in memory), so the files are the same whatever the executor. The DL1 files are
written as ``<name>.tmp`` and published together once every archive has been processed: a damaged
or incomplete archive raises a one-line ``DataFileError`` and leaves no new DL1 file. Paths are in
``ctasim.datamodel.paths``:

- ``/configuration/instrument/...``: the archive's subarray;
- ``/dl1/event/subarray/trigger``: the stereo trigger table (copy of the DL0 one);
- ``/dl1/event/telescope/parameters/tel_NNN``: obs_id, event_id, tel_id + the DATA_MODEL
  parameter columns (``ctasim.datamodel.dl1.PARAMETER_COLUMNS``), rows in archive order;
- ``/dl1/event/telescope/images/tel_NNN``: obs_id, event_id, tel_id, image (float32 p.e.),
  peak_time (float32 ns), image_mask (bool), same row order; written when ``keep_images`` or, by
  default, when the archive holds fewer than ``KEEP_IMAGES_BELOW`` telescope events;
- ``/simulation/...`` truth tables and ``/dl0/monitoring/subarray/pointing``: copied (read, verified
  and written again);
- ``/dl1/monitoring/telescope/pixel_status/tel_NNN``: each telescope's pixel status found from the
  per-pixel pedestal std of every archive of the run (``ctasim.dl0.pixel_status``), the same in every
  DL1 file of the run; its unusable (dead or noisy) pixels are masked in cleaning.
- ``/dl1/event/telescope/trigger`` and ``/simulation/event/subarray/shower``: ctapipe's
  telescope-event index and triggered showers, in trigger order (``ctasim.io.ctapipe_tables``).

File attributes carry the provenance (``ctasim.io.provenance``) with ``stage = "dl1"``, the pass
number and every input file with its content digest (``sha256``, ``ctasim.io.checksums``), SHA-256
block checksum and size; ``/ctasim/table_checksums`` holds the checksum of every table.

Images: ``ctasim.dl0.reduction.calibrate_dl0`` (stored charges and peak times, or the camera's
extractor on stored waveforms); cleaning and parameters: ``ctasim.image.process_images`` with the
camera's default cleaning and a fresh ``default_rng(0)`` per block for the timing fit, so every
block's parameters can be recomputed from its stored images alone.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..datamodel import paths
from ..datamodel.dl1 import IMAGE_UNITS, PARAMETER_UNITS
from ..datamodel.ids import TELESCOPE_EVENT_COLUMNS
from ..datamodel.monitoring import PIXEL_STATUS_UNITS
from ..dl0.pixel_status import pixel_status
from ..errors import DataFileError
from ..image.cleaning import DEFAULT_CLEANING, CleaningConfig
from ..instrument.subarray import SubarrayDescription
from ..io.archive import DL0ArchiveReader
from ..io.atomic import TMP_SUFFIX, published_together
from ..io.checksums import seal_tables, stored_digest
from ..io.ctapipe_tables import write_dl1_index
from ..io.instrument import write_instrument
from ..io.provenance import make_provenance, write_provenance
from ..io.table_buffer import TableBuffer
from .dl1_units import UNIT_EVENTS, Dl1Unit, Dl1UnitResult, dl1_unit, plan_units, with_blocks
from .executor import Executor, InProcessExecutor, units_in_flight
from .files import DL1_SUFFIX, copy_tables, data_files, stem

KEEP_IMAGES_BELOW = 20_000  # telescope events per archive: images are kept by default below this
#: Side tables copied from the DL0 archive into every DL1 file, under the same path.
COPIED_TABLES = (
    paths.SIMULATION_SHOWER,
    paths.SIMULATION_SHOWER_DISTRIBUTION,
    paths.SIMULATION_IMPACT,
    paths.DL0_MONITORING_POINTING,
    paths.SIMULATION_PIXEL_FAULTS,
)


def run_pixel_status(archives: list[Path]) -> dict[int, np.ndarray]:
    """The ``pixel_status_dtype`` row of every telescope with per-pixel pedestal rows in the run's
    archives (all archives pooled); leftover ``.tmp`` archives are skipped (``plan_file`` refuses them)."""
    rows: dict[int, list[np.ndarray]] = {}
    subarray = None
    for archive in archives:
        if archive.name.endswith(TMP_SUFFIX):
            continue
        with DL0ArchiveReader(archive) as reader:
            subarray = reader.subarray
            for tel_id in subarray.tel_ids.tolist():
                path = paths.tel_table_path(paths.DL0_MONITORING_PIXEL_PEDESTAL, tel_id)
                if reader.has_table(path):
                    rows.setdefault(tel_id, []).append(reader.read_table(path)[0])
    return {t: pixel_status(t, subarray.tel(t), np.concatenate(r)) for t, r in rows.items()}


@dataclass(frozen=True)
class FilePlan:
    """One DL0 archive's DL1 file to write: its subarray, whether it keeps images, its cleaning, the
    pixel status rows written (by tel_id) and its work units in file order."""

    archive: Path
    subarray: SubarrayDescription
    keep_images: bool
    cleaning: Mapping[str, CleaningConfig]
    status: Mapping[int, np.ndarray]
    units: list[Dl1Unit]


def plan_file(archive: Path, keep_images: bool | None, status: Mapping[int, np.ndarray],
              cleaning: Mapping[str, CleaningConfig] | None, unit_events: int = UNIT_EVENTS) -> FilePlan:
    """The plan of one archive, reading its block index only (checked against the file checksum): a
    leftover ``.tmp``, an incomplete or damaged archive raises a one-line DataFileError."""
    cleaning = DEFAULT_CLEANING if cleaning is None else cleaning
    if archive.name.endswith(TMP_SUFFIX):
        raise DataFileError(f"{archive}: incomplete archive (temporary file of an interrupted writer)")
    with DL0ArchiveReader(archive) as reader:
        reader.check_index()
        keep = reader.n_events < KEEP_IMAGES_BELOW if keep_images is None else keep_images
        subarray = reader.subarray
        units = plan_units(reader, subarray, keep, cleaning, status, unit_events)
    return FilePlan(archive, subarray, bool(keep), cleaning, status, units)


def write_dl1_file(plan: FilePlan, tmp_path: Path, pass_number: int, results: Iterator[Dl1UnitResult]) -> dict:
    """Write the DL1 file of ``plan`` at ``tmp_path`` from the results of its units, taken from
    ``results`` in the plan's order (exactly ``len(plan.units)`` of them: the iterator may go on with
    the next file's); returns its counts and timings."""
    t0 = time.perf_counter()
    archive, keep = plan.archive, plan.keep_images
    n_images = n_kept = n_cleaned = 0
    seconds_images = 0.0
    with DL0ArchiveReader(archive) as reader, h5py.File(tmp_path, "w") as h5:
        subarray, prov_in = plan.subarray, reader.provenance
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
                        "sha256": stored_digest(reader.file),
                        "sha256_blocks": reader.stored_checksum,
                        "bytes": archive.stat().st_size,
                    }
                ],
                "images_kept": keep,
                "cleaning": {name: dataclasses.asdict(c) for name, c in sorted(plan.cleaning.items())},
            },
        )
        write_provenance(h5, prov)
        write_instrument(h5, subarray)
        out = TableBuffer(h5, digests=True)  # the checksums of its tables without reading them back
        for tel_id, row in sorted(plan.status.items()):
            out.add(paths.tel_table_path(paths.DL1_MONITORING_PIXEL_STATUS, tel_id), row, PIXEL_STATUS_UNITS)
        tel_events = []  # (obs_id, event_id, tel_id) of every parameter row, for ctapipe's index
        for unit, result in zip(plan.units, results):
            rows = result.parameters
            out.add(paths.tel_table_path(paths.DL1_PARAMETERS, unit.tel_id), rows, PARAMETER_UNITS)
            tel_events.append(rows[["obs_id", "event_id", "tel_id"]].astype(TELESCOPE_EVENT_COLUMNS))  # a copy
            if keep:
                out.add(paths.tel_table_path(paths.DL1_IMAGES, unit.tel_id), result.images, IMAGE_UNITS)
                n_kept += result.images.size
            n_images += rows.size
            n_cleaned += result.n_cleaned
            seconds_images += result.image_processing_s
        out.flush()
        with h5py.File(archive, "r") as src:
            n_array_events = copy_tables(src, h5, (paths.DL0_SUBARRAY_TRIGGER,),
                                         {paths.DL0_SUBARRAY_TRIGGER: paths.DL1_SUBARRAY_TRIGGER})
            copy_tables(src, h5, COPIED_TABLES)
        write_dl1_index(h5, tel_events)  # ctapipe's telescope-event index and triggered showers
        seal_tables(h5, out.digests)
    return {
        "array_events": n_array_events,
        "telescope_events": n_images,
        "images_surviving_cleaning": n_cleaned,
        "images_stored": n_kept,
        "wall_s": time.perf_counter() - t0,
        "image_processing_s": seconds_images,
    }


def process_dl1(
    run_dir: str | Path, keep_images: bool | None = None, pass_number: int = 1,
    cleaning: Mapping[str, CleaningConfig] | None = None, dl0_run: str | Path | None = None,
    executor: Executor | None = None, unit_events: int = UNIT_EVENTS,
) -> tuple[list[Path], dict]:
    """DL0 -> DL1 for every archive of a run directory (see the module docstring): the archives of
    ``dl0_run/dl0`` (default ``run_dir``; a reprocessing pass reads its run's), the DL1 files into
    ``run_dir/dl1``, each camera cleaned with ``cleaning[camera name]`` (default: its default cleaning).

    The work units (``ctasim.offline.dl1_units``: about ``unit_events`` telescope events of one
    telescope each) of all archives run on ``executor`` (default: in this process), at most
    ``units_in_flight`` ahead of the file being written; the files are the same for any executor
    and unit size.

    A damaged or incomplete archive (also a leftover ``.tmp``) raises a one-line DataFileError
    and no DL1 file of this pass is published. ``keep_images`` None keeps images of archives
    below ``KEEP_IMAGES_BELOW`` telescope events. Returns (DL1 files, stats) with stats
    ``files, array_events, telescope_events, images_stored, wall_s, image_processing_s,
    images_per_s`` (telescope images through calibration + cleaning + parameters per wall
    second of the whole stage, I/O included), ``executor``, ``workers``, ``units`` and ``per_file``
    (the same per file name).
    """
    t0 = time.perf_counter()
    executor = executor or InProcessExecutor()
    archives = data_files(run_dir if dl0_run is None else dl0_run, "dl0")
    files = [Path(run_dir) / "dl1" / (stem(a) + DL1_SUFFIX) for a in archives]
    per_file = {}
    status = run_pixel_status(archives)
    plans = [plan_file(archive, keep_images, status, cleaning, unit_events) for archive in archives]
    units = [unit for plan in plans for unit in plan.units]
    args = units if executor.shares_files else map(with_blocks, units)  # read lazily, as units are submitted
    with published_together(files) as tmps, \
            closing(executor.map_ordered(dl1_unit, args, units_in_flight(executor))) as results:
        for plan, out, tmp in zip(plans, files, tmps):
            per_file[out.name] = write_dl1_file(plan, tmp, pass_number, results)
    totals = {
        k: sum(f[k] for f in per_file.values())
        for k in ("array_events", "telescope_events", "images_surviving_cleaning", "images_stored",
                  "image_processing_s")
    }
    wall = time.perf_counter() - t0
    stats = {
        "pass_number": int(pass_number),
        "files": [str(f) for f in files],
        **totals,
        "wall_s": wall,
        "images_per_s": totals["telescope_events"] / wall if wall > 0 else None,
        "executor": executor.name,
        "workers": int(executor.workers),
        "units": len(units),
        "per_file": per_file,
    }
    return files, stats

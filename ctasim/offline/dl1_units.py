"""The independent work units of DL0 -> DL1: consecutive block rows of one telescope of one archive.

``plan_units`` cuts an archive into units of about ``unit_events`` telescope events (whole blocks);
``dl1_unit`` computes one from its plain arguments alone (it opens the archive itself), so any
executor (``ctasim.offline.executor``) can run it in any process. Each block is calibrated, cleaned
and parametrised on its own (the timing fit's generator restarts per block), so a unit's rows are
the same however the archive is cut: the DL1 file does not depend on the unit size or the executor.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datamodel.dl0 import EncodedBlock
from ..datamodel.dl1 import DL1_PARAMETERS_DTYPE, image_dtype, parameter_rows
from ..dl0.reduction import calibrate_dl0
from ..image import process_images
from ..image.cleaning import CleaningConfig
from ..instrument.subarray import SubarrayDescription
from ..instrument.telescope import TelescopeDescription
from ..io.archive import DL0ArchiveReader

UNIT_EVENTS = 2_000  # telescope events per work unit (whole blocks): ~0.3 s of one core, ~35 MB of LST images


@dataclass(frozen=True)
class Dl1Unit:
    """Block rows ``start:stop`` of telescope ``tel_id`` in the DL0 ``archive``, with what processing
    them needs: the telescope (given, not read again from the file: ~0.07 s a subarray), its cleaning,
    its unusable pixels (bool per pixel, masked in cleaning; None: all usable) and whether to return
    the images. ``blocks``: those rows' encoded blocks already read (``with_blocks``: for a worker
    that cannot read the driver's files); None: the unit reads them from ``archive``."""

    archive: str
    tel_id: int
    start: int
    stop: int
    tel: TelescopeDescription
    cleaning: CleaningConfig
    keep_images: bool
    unusable: np.ndarray | None = None
    blocks: tuple[EncodedBlock, ...] | None = None


@dataclass(frozen=True)
class Dl1UnitResult:
    """A unit's DL1 rows in archive order: parameter rows (``DL1_PARAMETERS_DTYPE``), image rows
    (``image_dtype``; None unless kept), images surviving cleaning and the seconds spent in
    calibration + cleaning + parameters."""

    parameters: np.ndarray
    images: np.ndarray | None
    n_cleaned: int
    image_processing_s: float


def plan_units(reader: DL0ArchiveReader, subarray: SubarrayDescription, keep_images: bool,
               cleaning: Mapping[str, CleaningConfig], status: Mapping[int, np.ndarray],
               unit_events: int = UNIT_EVENTS) -> list[Dl1Unit]:
    """The units of one open archive (of ``subarray``), telescope by telescope (ascending), rows in
    order: each unit whole blocks of about ``unit_events`` telescope events (reads the block index only)."""
    units = []
    for tel_id in reader.tel_ids:
        tel = subarray.tel(tel_id)
        unusable = status[tel_id]["unusable"][0] if tel_id in status else None
        for start, stop in _row_ranges(reader.block_index(tel_id)["n_events"], unit_events):
            units.append(Dl1Unit(str(reader.path), tel_id, start, stop, tel, cleaning[tel.camera_name], keep_images,
                                 unusable))
    return units


def _row_ranges(n_events: np.ndarray, unit_events: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) block rows each holding at least ``unit_events`` events (the last
    one what is left)."""
    ranges, start, total = [], 0, 0
    for row, n in enumerate(n_events.tolist()):
        total += n
        if total >= unit_events:
            ranges.append((start, row + 1))
            start, total = row + 1, 0
    if start < len(n_events):
        ranges.append((start, len(n_events)))
    return ranges


def _read_blocks(unit: Dl1Unit) -> Iterator[EncodedBlock]:
    """The unit's blocks from its archive, checksums verified (a damaged one: one-line DataFileError)."""
    with DL0ArchiveReader(Path(unit.archive)) as reader:
        yield from reader.iter_blocks(unit.tel_id, verify=True, rows=range(unit.start, unit.stop))


def with_blocks(unit: Dl1Unit) -> Dl1Unit:
    """``unit`` carrying its encoded blocks, read here (checksums verified), so that a process without
    access to this machine's files (a worker on another node, no shared filesystem) can compute it."""
    return dataclasses.replace(unit, blocks=tuple(_read_blocks(unit)))


def dl1_unit(unit: Dl1Unit) -> Dl1UnitResult:
    """Decode, calibrate, clean and parametrise the unit's blocks (``unit.blocks``, else read from its
    archive with checksums verified: a damaged block raises the archive's one-line DataFileError)."""
    params, images, n_cleaned, seconds = [], [], 0, 0.0
    for block in _read_blocks(unit) if unit.blocks is None else unit.blocks:
        columns = block.decode()
        t0 = time.perf_counter()
        image, peak_time = calibrate_dl0(columns, unit.tel)
        masks, values = process_images(image, peak_time, unit.tel, unit.cleaning, unusable=unit.unusable)
        seconds += time.perf_counter() - t0
        event_id = columns["event_id"]
        params.append(parameter_rows(block.obs_id, unit.tel_id, event_id, values))
        n_cleaned += int(np.count_nonzero(values["morphology_n_pixels"] > 0))
        if unit.keep_images:
            images.append(image_rows(block.obs_id, unit.tel_id, event_id, image, peak_time, masks))
    n_pixels = unit.tel.camera.geometry.n_pixels
    return Dl1UnitResult(
        parameters=np.concatenate(params) if params else np.empty(0, DL1_PARAMETERS_DTYPE),
        images=(np.concatenate(images) if images else np.empty(0, image_dtype(n_pixels))) if unit.keep_images else None,
        n_cleaned=n_cleaned,
        image_processing_s=seconds,
    )


def image_rows(obs_id: int, tel_id: int, event_id: np.ndarray, image: np.ndarray, peak_time: np.ndarray,
               mask: np.ndarray) -> np.ndarray:
    """Rows of ``/dl1/event/telescope/images/tel_NNN`` (``image_dtype``) of one telescope's events."""
    rows = np.empty(event_id.size, image_dtype(image.shape[1]))
    rows["obs_id"], rows["event_id"], rows["tel_id"] = obs_id, event_id, tel_id
    rows["image"], rows["peak_time"], rows["image_mask"] = image, peak_time, mask
    return rows

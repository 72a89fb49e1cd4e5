"""The data-volume reduction study: every reduction variant derived from one archive of full R1 and
reconstructed with the same models, so the same showers go through every variant.

``derive_archive(raw, out, config)``: each block of a ``raw``-variant DL0 archive (full R1 waveforms,
lossless) is decoded back to R1 (``ctasim.dl0.r1_decode``) and reduced by ``OnsiteReducer`` - the
code the on-site reducer runs - with the variant's ``ReductionConfig``; the blocks go to a new DL0
archive with every side table of the original (truth, triggers, technical data), so its bytes are
those of real archived blocks.

``run_study(run_dir, variants, irf)``: for each variant, ``run_dir/dvr/<name>/`` gets the derived
archives (``dl0/``), then DL1, DL2 with the run's models (``run_dir/models``: every event is a test
event, in every variant alike) and, with ``irf`` enabled, the IRFs and the 50 h sensitivity. The
folder holds ``INCOMPLETE`` until done. Returns the summary's ``dvr`` section: per variant its
DL0 bytes per telescope event (per telescope type) and per array event, the reduction factor from
R1, and the DL2 / IRF figures per energy bin beside their ratio to the first variant (the
reference, normally ``raw``).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..datamodel import paths
from ..dl0.r1_decode import r1_events
from ..dl0.reduction import OnsiteReducer, ReductionConfig
from ..errors import CtasimError, DataFileError
from ..io.archive import DL0ArchiveReader, DL0ArchiveWriter
from ..rates import volume_figures
from .files import data_files

#: array events per second each variant's bytes are extrapolated to: the mission's O(10 kHz) (est.)
ARRAY_RATE_HZ = 10_000.0
DVR_DIR = "dvr"
INCOMPLETE = "INCOMPLETE"
#: IRF figures compared per energy bin (summary ``irf.bins`` keys)
COMPARED = ("r68_deg", "energy_resolution", "effective_area_m2", "sensitivity_crab")


def derive_archive(raw: str | Path, out: str | Path, config: ReductionConfig) -> dict[str, Any]:
    """Write the DL0 archive ``out`` of variant ``config`` from the full-R1 archive ``raw``; returns
    its bytes: ``r1`` and ``dl0`` per telescope type and in all, telescope events per type."""
    sizes: dict[str, dict[str, int]] = {}
    with DL0ArchiveReader(raw) as reader:
        subarray, prov = reader.subarray, reader.provenance
        reducer = OnsiteReducer(subarray, config)
        types = dict(zip(subarray.tel_ids.tolist(), subarray.size_classes().tolist()))
        writer = DL0ArchiveWriter(out, subarray, prov | {"dvr_variant": config.variant}, overwrite=True)
        try:
            for tel_id in reader.tel_ids:
                tel = subarray.tel(tel_id)
                for block in reader.iter_blocks(tel_id):
                    events = r1_events(block, tel, str(raw))
                    reduced, stats = reducer.reduce(events, block.stream, block.block_index)
                    writer.append(reduced)
                    s = sizes.setdefault(types[tel_id], {"r1": 0, "dl0": 0, "telescope_events": 0})
                    s["r1"] += stats.bytes["r1"]
                    s["dl0"] += reduced.nbytes
                    s["telescope_events"] += events.n_events
            for path in reader.dataset_paths():
                if path.startswith("/" + paths.DL0_TELESCOPE.strip("/") + "/tel_") or not path.startswith(
                        ("/dl0/", "/simulation/")):
                    continue
                rows, units = reader.read_table(path)
                writer.append_table(path, rows, units)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return sizes


def reprocessable(config: ReductionConfig) -> list[str]:
    """What can no longer be redone from a variant's DL0, one plain sentence per step that loses it."""
    lost = []
    if config.window_samples is not None:
        lost.append(f"samples outside the {config.window_samples}-sample window around the image are gone")
    if config.gain_selection:
        lost.append("one gain channel per pixel: the other gain cannot be recalibrated")
    if config.integrate and not config.stores_waveforms:
        lost.append("charges only: they cannot be re-extracted with another window or method")
    elif config.integrate and config.pixel_selection:
        lost.append("waveforms of the selected pixels only: the others' charges cannot be re-extracted")
    if config.pixel_selection and (not config.integrate or not config.keep_unselected_charges):
        lost.append("unselected pixels have no charge: the image cannot be re-cleaned beyond the selection")
    if config.integrate and config.charge_coding != "float":
        lost.append(f"charges coded '{config.charge_coding}' (step {config.charge_step_sigma} of the Poisson noise)")
    if config.integrate and config.float_dtype == "float16":
        lost.append("charges and peak times kept to float16 (about 3 significant digits)")
    return lost


def extrapolated(bytes_per_array_event: float, rate_hz: float = ARRAY_RATE_HZ) -> dict[str, float]:
    """GB/s at ``rate_hz`` array events per second, PB per year and days to ship one night over the link
    (``ctasim.rates.volume_figures``' hours and link; DL0 blocks only, side tables and technical data not
    counted)."""
    figures = volume_figures(bytes_per_array_event * rate_hz)
    return {"assumed_array_rate_hz": rate_hz, "gb_per_s": figures["gbyte_per_s"],
            "pb_per_year": figures["pb_per_year"], "link_days_per_night": figures["link_days_per_night"]}


def _curves(performance: dict[str, Any]) -> dict[str, list[float | None]]:
    """The DL2 curves compared per true-energy bin, with their bin centres (TeV)."""
    curves = performance.get("curves", {})
    return {"energy_center_tev": performance.get("energy_center_tev", [])} | {
        k: curves[k]["value"] for k in ("angular_resolution_deg", "energy_resolution", "effective_area_m2", "roc_auc")
        if k in curves}


def _merge(total: dict[str, dict[str, int]], part: dict[str, dict[str, int]]) -> None:
    for tel_type, s in part.items():
        t = total.setdefault(tel_type, dict.fromkeys(s, 0))
        for k, v in s.items():
            t[k] += v


def _array_events(archive: Path) -> int:
    with DL0ArchiveReader(archive) as reader:
        return int(reader.read_table(paths.DL0_SUBARRAY_TRIGGER)[0].size)


def _ratios(values: Sequence[float | None], reference: Sequence[float | None]) -> list[float | None]:
    return [None if v is None or r is None or r == 0 else float(v) / float(r) for v, r in zip(values, reference)]


def run_study(run_dir: str | Path, variants: Sequence[ReductionConfig], irf=None) -> dict[str, Any]:
    """The study on a finished run whose archives are full R1 (see the module docstring)."""
    from ..scenario import OfflineConfig
    from . import run_offline

    run_dir = Path(run_dir)
    models = run_dir / "models"
    if not (models / "energy.model").is_file():
        raise DataFileError(f"{models}: no trained models; the study reuses the run's (run DL2 first)")
    names = [v.variant for v in variants]
    if len(set(names)) != len(names) or not names:
        raise CtasimError(f"dvr: variant names must be unique and at least one, got {names}")
    archives = data_files(run_dir, "dl0")
    n_array = sum(_array_events(a) for a in archives)   # the same events in every variant
    out: dict[str, Any] = {"reference": names[0], "variants": {}}
    reference_bins = reference_curves = None
    for config in variants:
        folder = run_dir / DVR_DIR / config.variant
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "dl0").mkdir(parents=True)
        (folder / INCOMPLETE).write_text("being built\n")
        sizes: dict[str, dict[str, int]] = {}
        for archive in archives:
            _merge(sizes, derive_archive(archive, folder / "dl0" / archive.name, config))
        sections = run_offline(folder, OfflineConfig(dl1=True, dl2=True, models=str(models)), irf, dl0_run=folder)
        r1 = sum(s["r1"] for s in sizes.values())
        dl0 = sum(s["dl0"] for s in sizes.values())
        entry: dict[str, Any] = {
            "config": config.model_dump(mode="json"),
            "bytes_per_telescope_event": {t: s["dl0"] / max(s["telescope_events"], 1) for t, s in sizes.items()},
            "bytes_per_array_event": dl0 / max(n_array, 1),
            "r1_bytes_per_array_event": r1 / max(n_array, 1),
            "reduction_factor_from_r1": r1 / dl0 if dl0 else None,
            "array_events": n_array,
            **extrapolated(dl0 / max(n_array, 1)),
            "reprocessable": reprocessable(config),
            "performance": _curves(sections["dl2"]["performance"]),
        }
        reference_curves = reference_curves or entry["performance"]
        entry["performance_ratio_to_reference"] = {
            k: _ratios(v, reference_curves[k]) for k, v in entry["performance"].items() if k != "energy_center_tev"}
        if "irf" in sections:
            bins = sections["irf"]["bins"]
            entry["irf_bins"] = {"e_center_tev": bins["e_center_tev"]} | {k: bins.get(k) for k in COMPARED}
            reference_bins = reference_bins or entry["irf_bins"]
            entry["ratio_to_reference"] = {k: _ratios(entry["irf_bins"][k] or [], reference_bins[k] or [])
                                           for k in COMPARED if entry["irf_bins"].get(k) is not None}
        out["variants"][config.variant] = entry
        (folder / INCOMPLETE).unlink()
    return out

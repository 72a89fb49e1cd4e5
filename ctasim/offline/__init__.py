"""Offline stages over an archived run directory: DL0 -> DL1 -> DL2, models and performance, IRFs and DL3.

Each stage reads the previous level's files from ``run_dir`` and can run any number of times
("passes"); outputs are replaced atomically. ``run_offline`` runs what a scenario's ``offline``
section (and its ``irf`` section) asks and returns the summary.json sections ``dl1``, ``dl2``, ``irf``
and ``science`` (the DL4 spectral fit of the IRF pass, ``ctasim.offline.science``).

The stages' modules are imported when first used (``__getattr__``, and inside ``run_offline``): a
process that runs DL1 work units (``ctasim.offline.dl1_units``, e.g. a Ray worker) does not import
the DL2 models, IRFs and science (LightGBM, scikit-learn, gammapy's dependencies: ~3 s).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py

from ..errors import CtasimError, DataFileError
from ..io.provenance import read_provenance

if TYPE_CHECKING:
    from .executor import Executor

__all__ = ["merge_sections", "next_pass_number", "performance", "plot_performance", "process_dl1", "process_dl2",
           "process_irf", "run_offline"]
#: the public names of the stage modules, imported on first access
_LAZY = {"performance": ".performance", "plot_performance": ".performance", "process_dl1": ".dl1",
         "process_dl2": ".dl2", "process_irf": ".irf"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)


def next_pass_number(run_dir: str | Path) -> int:
    """1 + the highest pass number recorded in the run's DL1 files (1 when there are none)."""
    dl1 = sorted((Path(run_dir) / "dl1").glob("*.dl1.h5"))
    passes = [0]
    for path in dl1:
        try:
            with h5py.File(path, "r") as h5:
                passes.append(int(read_provenance(h5).get("pass_number", 0)))
        except OSError as err:
            raise DataFileError(f"{path}: unreadable DL1 file ({err}); remove it to reprocess") from None
    return max(passes) + 1


def merge_sections(summary: dict, sections: dict) -> dict:
    """Put ``run_offline``'s sections into a summary: each replaces the key of its name, except
    ``data_quality``, whose parts (``pixels``, ...) replace only the parts of that name."""
    for key, value in sections.items():
        if key == "data_quality":
            summary.setdefault(key, {}).update(value)
        else:
            summary[key] = value
    return summary


def run_offline(run_dir: str | Path, config, irf=None, dl0_run: str | Path | None = None,
                pass_number: int | None = None, executor: Executor | None = None) -> dict:
    """Run the offline stages ``config`` (``ctasim.scenario.OfflineConfig``: dl1, dl2, models,
    keep_images, train_fraction, cleaning) asks for on ``run_dir``; DL2 runs DL1 first when the run has
    no DL1 files yet. DL1 reads the archives of ``dl0_run/dl0`` (default ``run_dir``; a reprocessing
    pass reads its run's, ``ctasim.offline.reprocess``). ``irf`` (``ctasim.scenario.IrfConfig``) with
    ``enabled``: then the IRF / DL3 stage on the run's DL2 files (a new IRF pass; ``ctasim.offline.irf``),
    and with ``spectral_fit`` the DL4 science of that pass (``ctasim.offline.science``, also kept as
    ``science/science_pass<K>.json``; ``{"error": reason}`` when it cannot fit). ``pass_number`` numbers
    every stage's outputs (default: ``next_pass_number`` for DL1 and DL2, the next IRF pass of
    ``run_dir/irf`` for the IRFs). ``executor`` runs DL1's work units and DL2's model trainings
    (``ctasim.offline.executor``; default: in this process).

    Returns ``{"dl1": stats}``, ``{"dl2": stats | {"performance": ..., "plots": [...]}}``, with either
    ``{"data_quality": {"pixels": ...}}`` (``ctasim.offline.pixel_quality``), and/or
    ``{"irf": ..., "science": ...}`` (JSON-friendly), plots in ``run_dir/plots``.
    """
    from .dl1 import process_dl1
    from .dl2 import process_dl2
    from .irf import irf_stage
    from .performance import performance, plot_performance
    from .pixel_quality import pixel_quality
    from .science import science_section, write_science_pass

    run_dir = Path(run_dir)
    given_pass, pass_number = pass_number, pass_number or next_pass_number(run_dir)
    sections: dict = {}
    has_dl1 = any((run_dir / "dl1").glob("*.dl1.h5"))
    if config.dl1 or (config.dl2 and not has_dl1):
        _, sections["dl1"] = process_dl1(run_dir, keep_images=config.keep_images, pass_number=pass_number,
                                         cleaning=config.cleaning_configs(), dl0_run=dl0_run, executor=executor)
    if config.dl2:
        _, stats = process_dl2(run_dir, config.models, config.train_fraction, pass_number=pass_number,
                               executor=executor)
        perf = performance(run_dir)
        plots = plot_performance(perf, run_dir / "plots")
        sections["dl2"] = stats | {"performance": perf, "plots": [str(p) for p in plots]}
    if config.dl1 or config.dl2:
        sections["data_quality"] = {"pixels": pixel_quality(run_dir)}
    if irf is not None and irf.enabled:
        sections["irf"], products = irf_stage(run_dir, irf, given_pass)
        if irf.spectral_fit:
            try:
                sections["science"] = write_science_pass(run_dir, science_section(products))
            except CtasimError as err:
                sections["science"] = {"error": str(err)}
    return sections

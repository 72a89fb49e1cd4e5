"""The output directory of a run: created empty, never mixed with an earlier run's files.

``prepare_run_dir(path, overwrite)`` creates ``path`` (and its parents). An existing directory must
be empty; with ``overwrite`` an earlier ctasim run there (it holds one of ``RUN_MARKERS``) is
removed first. A non-empty directory that is not a ctasim run is never removed. Every refusal is
a one-line ``CtasimError`` naming the directory.

``check_archive_complete(run_dir, provenance)``: every DL0 file the run's provenance lists as an
output is still in ``run_dir/dl0`` (by name, so a moved run directory passes); reprocessing a run
with a DL0 file missing would silently keep the DL1 made from it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import CtasimError

#: what a ctasim run directory holds from its first block on
RUN_MARKERS = ("provenance.json", "summary.json", "dl0")


def prepare_run_dir(path: str | Path, overwrite: bool = False) -> Path:
    """Create the empty run directory ``path`` (see the module docstring); returns it."""
    run_dir = Path(path)
    if run_dir.exists() and not run_dir.is_dir():
        raise CtasimError(f"{run_dir}: exists and is not a directory; give another --output")
    try:
        occupied = run_dir.is_dir() and any(run_dir.iterdir())
        if occupied and not overwrite:
            raise CtasimError(f"{run_dir}: the run directory is not empty (an earlier run?); give --overwrite "
                              "to replace that run, --resume to continue an interrupted one, or another --output")
        if occupied:
            if not any((run_dir / marker).exists() for marker in RUN_MARKERS):
                raise CtasimError(f"{run_dir}: not empty and not a ctasim run directory (none of "
                                  f"{', '.join(RUN_MARKERS)}); not replaced, give another --output")
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CtasimError(f"{run_dir}: cannot prepare the run directory ({err.strerror or err})") from None
    return run_dir


def check_archive_complete(run_dir: str | Path, provenance: dict) -> None:
    """One-line CtasimError naming the first DL0 output of ``provenance`` (provenance.json) that is
    missing from ``run_dir/dl0``."""
    run_dir = Path(run_dir)
    for output in provenance.get("outputs", []):
        name = Path(output).name
        if name.endswith(".dl0.h5") and not (run_dir / "dl0" / name).is_file():
            raise CtasimError(f"{run_dir / 'dl0' / name}: listed in provenance.json but missing; the run's "
                              "archive is incomplete, not reprocessed")

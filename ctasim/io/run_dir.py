"""The output directory of a run: created empty, never mixed with an earlier run's files.

``prepare_run_dir(path, overwrite)`` creates ``path`` (and its parents). An existing directory must
be empty; with ``overwrite`` an earlier ctasim run there (it holds one of ``RUN_MARKERS``) is
removed first. A non-empty directory that is not a ctasim run is never removed. Every refusal is
a one-line ``CtasimError`` naming the directory.

``load_run(run_dir)``: the summary.json and provenance.json of a finished run, or a one-line error.
``level_files(run_dir, level)`` lists the HDF5 files of one data level. What a finished run
directory holds is checked by ``ctasim.io.verify``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import CtasimError
from .atomic import TMP_SUFFIX

#: the folder of a run's reprocessing passes (``ctasim.offline.reprocess``) and the file a pass being
#: written holds until it is finished
PASSES_DIR = "passes"
PASS_INCOMPLETE = "INCOMPLETE"
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


def load_run(run_dir: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(summary.json, provenance.json) of an existing run directory; one-line CtasimError if either
    is missing or not JSON."""
    loaded = []
    for name in ("summary.json", "provenance.json"):
        path = Path(run_dir) / name
        if not path.is_file():
            raise CtasimError(f"{run_dir}: no {name} (is it a complete ctasim run directory?)")
        try:
            loaded.append(json.loads(path.read_text()))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise CtasimError(f"{path}: not valid JSON ({err})") from None
    return loaded[0], loaded[1]


def level_files(run_dir: str | Path, level: str) -> list[Path]:
    """The HDF5 files of one data level (``dl0``, ``dl1``, ``dl2``) in ``run_dir/<level>``, sorted,
    leftover ``.tmp`` files of an interrupted writer included (after the others), so that readers
    refuse them."""
    folder = Path(run_dir) / level
    return sorted(folder.glob(f"*.{level}.h5")) + sorted(folder.glob(f"*.{level}.h5{TMP_SUFFIX}"))

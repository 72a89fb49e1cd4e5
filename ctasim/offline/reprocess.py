"""Multi-pass reprocessing: the offline stages again from a run's DL0 with a new configuration.

``reprocess(run_dir, changes, source)`` re-runs DL0 -> DL1 -> DL2 (-> IRF, DL3, DL4 when the run's
``irf`` section, or the changes, enable it) with the run's ``offline`` and ``irf`` sections, some keys
replaced by ``changes`` (``ctasim.scenario.PassChanges``: cleaning per camera, models, training
fraction, IRF cuts, ...). Pass 1 is the run itself (its ``dl1/``, ``dl2/``, ``irf/`` ... and
summary.json); pass K >= 2 lives in ``run_dir/passes/pass<K>/`` with the same folders and

- ``summary.json``: ``pass`` (number, label, changes, base run, the DL0 archives with their stored
  checksums), the offline sections, and ``passes``, every pass side by side
  (``ctasim.report.pass_comparison``), drawn in ``report.md`` / ``report.html``;
- ``provenance.json``: stage ``reprocess``, the base run, the DL0 archives read, the changes (every DL1
  file of the pass records its DL0 input and cleaning too).

A pass reads the run's DL0 and writes only in its own folder, so the run and earlier passes stay
untouched. While it is built the folder holds ``INCOMPLETE`` (removed last): an interrupted pass
never counts as a finished one, and the next ``reprocess`` replaces it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from ..errors import CtasimError
from ..io.archive import DL0ArchiveReader
from ..io.provenance import make_provenance, write_provenance_json
from ..io.run_dir import PASS_INCOMPLETE as INCOMPLETE
from ..io.run_dir import PASSES_DIR, load_run
from ..io.verify import require_intact
from ..report.pass_comparison import pass_comparison
from ..report.run_report import PROVENANCE_FILE, SUMMARY_FILE, write_run_report
from ..scenario import pass_configs
from . import run_offline
from .files import data_files

PASS_DIR = re.compile(r"^pass(\d+)$")


def pass_dirs(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(number, folder) of the finished reprocessing passes of ``run_dir``, by number (pass 1, the run
    itself, not included)."""
    root = Path(run_dir) / PASSES_DIR
    found = [(int(m.group(1)), p) for p in root.glob("pass*")
             if (m := PASS_DIR.match(p.name)) and p.is_dir() and not (p / INCOMPLETE).exists()]
    return sorted(found)


def pass_summaries(run_dir: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """(label, summary) of pass 1 (the run) and of every finished pass, in pass order."""
    summary, _ = load_run(run_dir)
    out = [("pass1 (run)", summary)]
    for number, folder in pass_dirs(run_dir):
        path = folder / SUMMARY_FILE
        if not path.is_file():
            raise CtasimError(f"{folder}: a pass folder without {SUMMARY_FILE}; remove it or reprocess again")
        data = json.loads(path.read_text())
        out.append((_label(number, data.get("pass", {}).get("label")), data))
    return out


def _label(number: int, label: str | None) -> str:
    return f"pass{number}" + (f" ({label})" if label else "")


def _archives(run_dir: Path) -> list[dict[str, Any]]:
    """Name, stored block checksum and size of every DL0 archive the pass reads."""
    out = []
    for path in data_files(run_dir, "dl0"):
        with DL0ArchiveReader(path) as reader:
            out.append({"file": path.name, "sha256_blocks": reader.stored_checksum, "bytes": path.stat().st_size})
    return out


def reprocess(run_dir: str | Path, changes: Any, source: str = "<changes>") -> tuple[Path, dict[str, Any]]:
    """A new pass of ``run_dir`` with ``changes`` (a PassChanges mapping, from ``source``); returns its
    folder and summary. One-line CtasimError for an incomplete run or bad changes, before any work."""
    run_dir = Path(run_dir)
    for folder in (run_dir / PASSES_DIR).glob("pass*"):
        if (folder / INCOMPLETE).exists():  # an interrupted pass: replaced, never verified
            shutil.rmtree(folder)
    require_intact(run_dir, ("dl1", "dl2", "models"))  # the DL0 it reads and the run's files must be sound
    summary, provenance = load_run(run_dir)
    scenario = dict(provenance.get("scenario") or summary["scenario"])
    parsed, offline, irf = pass_configs(scenario, changes, source)
    if offline.models is not None and not Path(offline.models).is_dir():
        raise CtasimError(f"{source}: offline.models = {offline.models!r}: no such directory of trained models")
    number = max((n for n, _ in pass_dirs(run_dir)), default=1) + 1
    work = run_dir / PASSES_DIR / f"pass{number}"
    try:
        work.mkdir(parents=True)
        (work / INCOMPLETE).write_text("a reprocessing pass is being written here\n")
    except OSError as err:
        raise CtasimError(f"{work}: cannot create the pass folder ({err.strerror or err})") from None
    try:
        sections = run_offline(work, offline, irf, dl0_run=run_dir, pass_number=number)
        resolved = scenario | {"offline": offline.model_dump(), "irf": irf.model_dump()}
        info = {
            "number": number,
            "label": parsed.label,
            "description": parsed.description,
            "changes": {"offline": parsed.offline, "irf": parsed.irf},
            "base_run": str(run_dir.resolve()),
            "dl0": _archives(run_dir),
        }
        pass_summary = {"scenario": resolved, "pass": info, **sections}
        labels_and_summaries = [*pass_summaries(run_dir), (_label(number, parsed.label), pass_summary)]
        pass_summary["passes"] = pass_comparison(labels_and_summaries)
        write_provenance_json(work / PROVENANCE_FILE, make_provenance(
            str(scenario.get("name", "")), resolved, int(scenario.get("seed", 0)), number,
            extra={"stage": "reprocess", "base_run": info["base_run"], "inputs": info["dl0"],
                   "changes": info["changes"]}))
        write_run_report(work, pass_summary, resolved)
        (work / INCOMPLETE).unlink()
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return work, pass_summary

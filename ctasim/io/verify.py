"""``ctasim verify RUN_DIR``: every file, table and block checksum of a run, its accounting and provenance chain.

``verify_run(run_dir)`` reads the whole run directory and returns a ``Verification``: the files,
tables and DL0 blocks it checked and one ``Problem`` (path, kind, one-line detail) per finding:

- every HDF5 file of ``dl0/``, ``dl1/``, ``dl2/`` (leftover ``.tmp`` files too): opened
  (``hdf5_file``: missing, truncated, not HDF5), its data-model version, its instrument digest,
  every table read and compared with its checksum (``checksums``: instrument, simulation, trigger,
  monitoring, DL1 and DL2 tables), every DL0 block read and compared with its checksum, the block
  index with the file checksum;
- every model file (``model_file``: header and the SHA-256 of the LightGBM text) and the files
  ``models/provenance.json`` lists;
- every FITS file of ``irf/`` and ``dl3/``: each HDU read, its CHECKSUM / DATASUM verified
  (``gadf_read.check_fits_file``); the IRF files summary.json lists are present;
- ``summary.json`` and ``provenance.json``: readable JSON; the DL0 files they list are present;
  each DL0 file made by the run's scenario (hash) and seed; the accounting in summary.json is
  self-consistent (stages = counts, ``closed`` = the balances hold) and equal to the counts
  recomputed from the DL0 files (simulated showers, archived array and telescope events, per stream
  and telescope type); the DL1, DL2 and model files summary.json lists are present;
- the provenance chain: each DL1 file's DL0 input, each DL2 file's DL1 inputs and models present
  with the content digest recorded when it was made, else the downstream file is ``stale``;
- every reprocessing pass ``passes/pass<K>`` (``ctasim reprocess``): its summary.json, DL1, DL2, model,
  IRF and DL3 files as above, its DL1 made from the run's DL0; an interrupted pass is ``truncated``.

Kinds (``KINDS``): missing, truncated, corrupted (unreadable or checksum mismatch), stale (made
from an upstream file that is gone or changed since), mismatch (disagrees with another file).
``require_intact`` raises the first problem as a one-line ``DataFileError`` (``process``, ``irf``
and ``science`` call it on their run directory before reading anything).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py

from ..accounting import (
    ARRAY_EVENTS_ARCHIVED,
    SHOWERS_SIMULATED,
    TELESCOPE_EVENTS_ARCHIVED,
    Accounting,
    AccountingError,
)
from ..datamodel import paths
from ..errors import DataFileError
from .archive import DL0ArchiveReader
from .atomic import TMP_SUFFIX
from .checksums import check_tables, stored_digest
from .hdf5_file import data_model_of, open_hdf5
from .instrument import read_instrument
from .model_file import MODEL_SUFFIX, read_model_file
from .provenance import read_provenance
from .run_dir import PASS_INCOMPLETE, PASSES_DIR, level_files

KINDS = ("missing", "truncated", "corrupted", "stale", "mismatch")
#: run-directory folders of files, in the order they are made (and problems reported)
LEVELS = ("dl0", "dl1", "models", "dl2", "irf", "dl3")
FITS_LEVELS = ("irf", "dl3")
#: the accounting stages a run's DL0 files hold the counts of
ARCHIVED_STAGES = (SHOWERS_SIMULATED, ARRAY_EVENTS_ARCHIVED, TELESCOPE_EVENTS_ARCHIVED)


@dataclass(frozen=True)
class Problem:
    """One finding: the file (or summary.json for its figures), a kind of ``KINDS``, one line of detail."""

    path: Path
    kind: str
    detail: str

    @property
    def level(self) -> str:
        """The run-directory folder of the file (``dl0``, ``dl1``, ``models``, ``dl2``), else ``run``."""
        return self.path.parent.name if self.path.parent.name in LEVELS else "run"

    def __str__(self) -> str:
        detail = " ".join(self.detail.split())
        return f"{self.path}: {detail}" if detail.startswith(self.kind) else f"{self.path}: {self.kind}: {detail}"


@dataclass
class FileCheck:
    """What one file's verification found: its problems, the tables and blocks read, its provenance,
    content digest and (DL0) the counts of the accounting stages it holds."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    tables: int = 0
    blocks: int = 0
    events: int = 0
    payload_bytes: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)
    digest: str | None = None
    block_checksum: str | None = None
    accounting: Accounting = field(default_factory=Accounting)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, detail: str) -> None:
        self.problems.append(Problem(self.path, kind, detail))

    def add_error(self, err: DataFileError) -> None:
        """A reader's DataFileError as a problem of this file (its own path prefix removed)."""
        self.add(err.kind or "corrupted", str(err).removeprefix(f"{self.path}: "))


@dataclass
class Verification:
    """The result of ``verify_run``: counts of what was checked and the problems found."""

    run_dir: Path
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    tables: int = 0
    blocks: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary_line(self) -> str:
        return f"ok: {self.files} files, {self.tables} tables, {self.blocks} blocks verified"


def verify_file(path: str | Path) -> FileCheck:
    """Verify one HDF5 file of a run (DL0 archive, DL1 or DL2 file); never raises for bad data."""
    check = FileCheck(Path(path))
    is_dl0 = check.path.name.endswith(".dl0.h5") or check.path.name.endswith(".dl0.h5" + TMP_SUFFIX)
    try:
        reader = DL0ArchiveReader(check.path) if is_dl0 else None
        h5 = reader.file if reader is not None else open_hdf5(check.path)
    except DataFileError as err:
        check.add_error(err)
        return check
    try:
        _check_contents(check, h5, reader)
    except (OSError, KeyError, ValueError) as err:  # damage in the file's own structure
        check.add("corrupted", f"unreadable ({str(err).splitlines()[0] if str(err) else type(err).__name__})")
    finally:
        h5.close()
    return check


def _check_contents(check: FileCheck, h5: h5py.File, reader: DL0ArchiveReader | None) -> None:
    try:
        data_model_of(h5)
        check.provenance = read_provenance(h5)
    except DataFileError as err:
        check.add_error(err)
        return
    except ValueError:  # json.JSONDecodeError
        check.add("corrupted", "provenance attributes are not readable JSON")
    check.digest = stored_digest(h5)
    tables = None
    try:
        tables = read_instrument(h5)
    except DataFileError as err:
        check.add_error(err)
    check.tables, found = check_tables(h5)
    for kind, detail in found:
        check.add(kind, detail)
    if reader is None:
        return
    check.block_checksum = reader.stored_checksum
    counts, failed = reader.check_blocks()
    for err in failed:
        check.add_error(err)
    check.blocks, check.events, check.payload_bytes = counts["blocks"], counts["events"], counts["bytes"]
    if failed or check.problems or tables is None:
        return
    stream = str(check.provenance.get("stream", ""))
    tel_types = dict(zip(tables.layout["tel_id"].tolist(), (t.decode() for t in tables.layout["type"].tolist())))
    for name, stage in ((paths.SIMULATION_SHOWER, SHOWERS_SIMULATED), (paths.DL0_SUBARRAY_TRIGGER,
                                                                       ARRAY_EVENTS_ARCHIVED)):
        check.accounting.add(stage, h5[name].shape[0] if name in h5 else 0, stream)
    for tel_id in reader.tel_ids:
        n = int(reader.block_index(tel_id)["n_events"].sum())
        check.accounting.add(TELESCOPE_EVENTS_ARCHIVED, n, stream, tel_types[tel_id])


def _read_json(path: Path, problems: list[Problem]) -> Any:
    """The JSON document at ``path``, or None with a problem (missing, truncated, corrupted)."""
    if not path.is_file():
        problems.append(Problem(path, "missing", f"no {path.name} in {path.parent} (is it a ctasim run directory?)"))
        return None
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text)
    except UnicodeDecodeError:
        problems.append(Problem(path, "corrupted", "not UTF-8 text"))
    except json.JSONDecodeError as err:
        kind = "corrupted" if text.rstrip().endswith(("}", "]")) else "truncated"   # it lacks its end
        problems.append(Problem(path, kind, f"not valid JSON ({err.msg}: line {err.lineno} column {err.colno})"))
    except OSError as err:
        problems.append(Problem(path, "corrupted", f"unreadable ({err.strerror or err})"))
    return None


def _read_object(path: Path, problems: list[Problem]) -> dict:
    """The JSON object at ``path`` ({} with a problem when it is not one)."""
    value = _read_json(path, problems)
    if value is not None and not isinstance(value, dict):
        problems.append(Problem(path, "corrupted", f"not a JSON object but a {type(value).__name__}"))
    return value if isinstance(value, dict) else {}


def _listed(entries: Iterable[Any], suffix: str) -> list[str]:
    """File names of ``entries`` (paths, e.g. summary.json's ``files``) that end in ``suffix``."""
    return [Path(str(e)).name for e in entries or () if str(e).endswith(suffix)]


def _present(run_dir: Path, level: str, names: Iterable[str], source: str, problems: list[Problem]) -> None:
    """A ``missing`` problem for each file named by ``source`` that is not in ``run_dir/level``
    (by name: a moved run directory passes)."""
    for name in dict.fromkeys(names):
        path = run_dir / level / name
        if not path.is_file():
            problems.append(Problem(path, "missing", f"listed in {source} but gone"))


def verify_run(run_dir: str | Path) -> Verification:
    """Verify a run directory (see the module docstring); never raises for bad data."""
    run_dir = Path(run_dir)
    result = Verification(run_dir)
    if not run_dir.is_dir():
        what = "a file, not a run directory" if run_dir.exists() else "no such run directory"
        result.problems.append(Problem(run_dir, "missing", what))
        return result
    run_problems: list[Problem] = []
    summary, provenance = (_read_object(run_dir / name, run_problems) for name in ("summary.json", "provenance.json"))
    result.files += 2

    checks = {level: {p.name: verify_file(p) for p in level_files(run_dir, level)} for level in ("dl0", "dl1", "dl2")}
    by_level: dict[str, list[Problem]] = {level: [] for level in LEVELS}
    for level, files in checks.items():
        for check in files.values():
            by_level[level] += check.problems
            result.files += 1
            result.tables += check.tables
            result.blocks += check.blocks

    dl0_listed = _listed(provenance.get("outputs", []), ".dl0.h5") + _listed(summary.get("files", []), ".dl0.h5")
    _present(run_dir, "dl0", dl0_listed, "provenance.json or summary.json", by_level["dl0"])
    for level in ("dl1", "dl2"):
        _present(run_dir, level, _listed((summary.get(level) or {}).get("files", []), f".{level}.h5"),
                 "summary.json", by_level[level])
    _check_scenario(checks["dl0"].values(), provenance, by_level["dl0"])
    models = _check_models(run_dir, by_level["models"])
    result.files += len(models)
    _check_chain(run_dir, checks, models, by_level)
    fits_files = [p for level in FITS_LEVELS for p in sorted((run_dir / level).glob("*.fits*"))]
    result.files += len(fits_files)
    result.tables += _check_fits(fits_files, by_level)
    irf_files = [Path(str(p)) for p in (summary.get("irf") or {}).get("files", [])]
    for level in FITS_LEVELS:
        _present(run_dir, level, [p.name for p in irf_files if p.parent.name == level], "summary.json",
                 by_level[level])
    if summary and checks["dl0"] and not by_level["dl0"]:
        _check_accounting(run_dir / "summary.json", summary, checks["dl0"].values(), run_problems)
    for level in LEVELS:
        result.problems += by_level[level]
    result.problems += run_problems
    for folder in sorted(p for p in (run_dir / PASSES_DIR).glob("pass*") if p.is_dir()):
        _verify_pass(folder, checks["dl0"], result)
    return result


def _verify_pass(folder: Path, dl0: dict[str, FileCheck], result: Verification) -> None:
    """A reprocessing pass (``ctasim.offline.reprocess``): its summary.json, DL1 and DL2 files, models and
    IRF / DL3 files, and its chain, the DL1 files made from the run's DL0 files ``dl0``."""
    if (folder / PASS_INCOMPLETE).exists():
        result.problems.append(Problem(folder, "truncated", f"an interrupted reprocessing pass ({PASS_INCOMPLETE}); "
                                       "the next ctasim reprocess replaces it"))
        return
    by_level: dict[str, list[Problem]] = {level: [] for level in LEVELS}
    summary = _read_object(folder / "summary.json", by_level["dl0"])
    checks = {"dl0": dl0} | {level: {p.name: verify_file(p) for p in level_files(folder, level)}
                             for level in ("dl1", "dl2")}
    for level in ("dl1", "dl2"):
        for check in checks[level].values():
            by_level[level] += check.problems
            result.files, result.tables = result.files + 1, result.tables + check.tables
        _present(folder, level, _listed((summary.get(level) or {}).get("files", []), f".{level}.h5"),
                 f"{folder / 'summary.json'}", by_level[level])
    models = _check_models(folder, by_level["models"])
    _check_chain(folder, checks, models, by_level)
    fits_files = [p for level in FITS_LEVELS for p in sorted((folder / level).glob("*.fits*"))]
    result.files += 1 + len(models) + len(fits_files)
    result.tables += _check_fits(fits_files, by_level)
    for level in LEVELS:
        result.problems += by_level[level]


def _check_fits(files: list[Path], by_level: dict[str, list[Problem]]) -> int:
    """Every HDU of the IRF and DL3 FITS files read, their FITS checksums verified; returns the HDUs read."""
    if not files:
        return 0
    from .gadf_read import check_fits_file  # astropy's FITS: only for runs that have such files

    n_hdus = 0
    for path in files:
        try:
            n_hdus += check_fits_file(path)
        except DataFileError as err:
            by_level[path.parent.name].append(Problem(path, err.kind or "corrupted",
                                                      str(err).removeprefix(f"{path}: ")))
    return n_hdus


def _check_scenario(dl0: Iterable[FileCheck], provenance: dict, problems: list[Problem]) -> None:
    """A DL0 file made by another scenario or seed than the run's provenance.json is a mismatch."""
    want = (provenance.get("scenario_hash"), provenance.get("seed"))
    if want == (None, None):
        return
    for check in dl0:
        got = (check.provenance.get("scenario_hash"), check.provenance.get("seed"))
        if check.ok and got != want:
            problems.append(Problem(check.path, "mismatch", f"made by scenario hash {str(got[0])[:12]} seed {got[1]}, "
                                    f"the run's provenance.json has {str(want[0])[:12]} seed {want[1]}"))


def _check_models(run_dir: Path, problems: list[Problem]) -> dict[str, str | None]:
    """Every model file of ``run_dir/models`` (header and text checksum) and the ones its
    provenance.json lists; returns {file name: text SHA-256 or None when damaged}."""
    folder = run_dir / "models"
    if not folder.is_dir():
        return {}
    found: dict[str, str | None] = {}
    for path in sorted(folder.glob(f"*{MODEL_SUFFIX}")):
        try:
            header, _ = read_model_file(path)
            found[path.name] = header.get("text_sha256")
        except DataFileError as err:
            text = str(err)
            problems.append(Problem(path, err.kind or "corrupted", text.removeprefix(f"{path}: ")))
            found[path.name] = None
    prov_path = folder / "provenance.json"
    if prov_path.exists():
        prov = _read_object(prov_path, problems)
        _present(run_dir, "models", _listed(prov.get("outputs", []), MODEL_SUFFIX), f"{prov_path}", problems)
    return found


def _check_chain(run_dir: Path, checks: dict[str, dict[str, FileCheck]], models: dict[str, str | None],
                 by_level: dict[str, list[Problem]]) -> None:
    """Each DL1 file's DL0 input and each DL2 file's DL1 inputs and models as they were when it was made."""
    for level, upstream in (("dl1", "dl0"), ("dl2", "dl1")):
        for check in (c for c in checks[level].values() if c.ok):
            for entry in check.provenance.get("inputs", []):
                name = Path(str(entry.get("path", ""))).name
                why = _changed(checks[upstream].get(name), entry.get("sha256"), entry.get("sha256_blocks"))
                if why:
                    by_level[level].append(Problem(check.path, "stale", f"made from {upstream}/{name}, {why}"))
    for check in (c for c in checks["dl2"].values() if c.ok):
        used = check.provenance.get("models")
        if not isinstance(used, dict):
            continue
        for name, sha in (used.get("sha256") or {}).items():
            path = (run_dir / "models" if used.get("trained_in_run", True) else Path(str(used.get("dir")))) / name
            have = models.get(name, "gone") if path.parent == run_dir / "models" else _external_model(path)
            if have == "gone":
                by_level["dl2"].append(Problem(check.path, "stale", f"made with {path}, which is gone"))
            elif have is not None and sha and have != sha:  # None: damaged, reported with the model
                by_level["dl2"].append(Problem(check.path, "stale", f"made with {path}, which changed since "
                                               f"(text {sha[:12]}, now {have[:12]})"))


def _changed(source: FileCheck | None, digest: str | None, block_checksum: str | None) -> str | None:
    """Why an upstream file is not the one a downstream file recorded (None when it is, or when
    its own damage is reported)."""
    if source is None:
        return "which is gone"
    if not source.ok:
        return None
    if digest and digest != source.digest:
        return f"which changed since (content {digest[:12]}, now {str(source.digest)[:12]})"
    if not digest and block_checksum not in (None, source.block_checksum):
        return "which changed since (block checksum differs)"
    return None


def _external_model(path: Path) -> str | None:
    """Text SHA-256 of a model outside the run directory, ``gone`` if absent, None if damaged."""
    if not path.is_file():
        return "gone"
    try:
        return read_model_file(path)[0].get("text_sha256")
    except DataFileError:
        return None


def _check_accounting(path: Path, summary: dict, dl0: Iterable[FileCheck], problems: list[Problem]) -> None:
    """summary.json's accounting: self-consistent and equal to the counts the DL0 files hold."""
    section = summary.get("accounting")
    if not isinstance(section, dict) or not isinstance(section.get("counts"), list):
        problems.append(Problem(path, "mismatch", "no accounting.counts"))
        return
    try:
        recorded = Accounting.from_dict(section)
    except (KeyError, TypeError, ValueError) as err:
        problems.append(Problem(path, "corrupted", f"accounting.counts unreadable ({err})"))
        return
    stages = recorded.to_dict()["stages"]
    files = Accounting.merged(c.accounting for c in dl0).to_dict()["stages"]
    for stage in ARCHIVED_STAGES:
        empty = {"total": 0, "by_stream": {}, "by_tel_type": {}}
        want, got = files.get(stage, empty), stages.get(stage, empty)
        for key in ("total", "by_stream", "by_tel_type"):
            if got.get(key) != want[key]:
                problems.append(Problem(path, "mismatch", f"accounting.stages.{stage}.{key} = {_short(got.get(key))}, "
                                        f"the DL0 files hold {_short(want[key])}"))
                break
    for stage, entry in sorted((section.get("stages") or {}).items()):
        if entry != stages.get(stage):
            problems.append(Problem(path, "mismatch", f"accounting.stages.{stage} = {_short(entry)} disagrees with "
                                    f"accounting.counts ({_short(stages.get(stage))})"))
    try:
        recorded.check()
        closes = True
    except AccountingError:
        closes = False
    if section.get("closed") is not closes:
        problems.append(Problem(path, "mismatch", f"accounting.closed = {section.get('closed')}, but the counts "
                                f"{'close' if closes else 'do not close'}"))


def _short(value: Any) -> str:
    return json.dumps(value, sort_keys=True)[:120]


def require_intact(run_dir: str | Path, rewrites: tuple[str, ...] = ()) -> Verification:
    """``verify_run``, raising the first problem as a one-line DataFileError; ``rewrites``: levels
    (``dl1``, ``dl2``, ``models``) the caller is about to write anew, whose missing or stale files are
    no reason to refuse (damaged ones are)."""
    result = verify_run(run_dir)
    refused = [p for p in result.problems if not (p.level in rewrites and p.kind in ("missing", "stale"))]
    if refused:
        more = f"; {len(refused) - 1} more: ctasim verify {run_dir}" if len(refused) > 1 else ""
        raise DataFileError(f"{refused[0]} (refused{more})", kind=refused[0].kind)
    return result

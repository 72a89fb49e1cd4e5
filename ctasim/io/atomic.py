"""Crash-safe publication of files: write under a temporary name, then ``publish`` it.

A reader sees either no file (or the previous one) or the complete new one, never a partial one.
HDF5 outputs are written as ``<name>.tmp`` (readers refuse such a leftover by its suffix);
text outputs (report, summary, provenance) as a hidden unique temporary beside the final name.

A full disk: HDF5 cannot recover from a failed write (it then fails to close the file and may
crash the process), so every HDF5 write first checks ``ensure_free_space``: the bytes to write
plus ``DISK_RESERVE_BYTES``, kept for closing the file, must be free, else a one-line
``CtasimError`` names the path and the numbers; the writer then closes and removes its ``.tmp``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import h5py

from ..errors import CtasimError

TMP_SUFFIX = ".tmp"
DISK_RESERVE_BYTES = 8 << 20    # kept free for HDF5 to flush its metadata and close a file


def ensure_free_space(path: str | Path, need_bytes: int) -> None:
    """One-line CtasimError unless ``need_bytes`` + ``DISK_RESERVE_BYTES`` are free on the disk of
    ``path`` (a file about to be written)."""
    free = shutil.disk_usage(Path(path).parent).free
    if free < need_bytes + DISK_RESERVE_BYTES:
        raise CtasimError(f"{path}: disk full ({free / 1e6:.1f} MB free; {need_bytes / 1e6:.1f} MB to write "
                          f"and {DISK_RESERVE_BYTES / 1e6:.0f} MB kept to close the file); free space or "
                          "write elsewhere")


def temporary_path(path: str | Path) -> Path:
    """Where a file is written until it is complete: ``<name>.tmp`` beside the final name."""
    path = Path(path)
    return path.with_name(path.name + TMP_SUFFIX)


def publish(tmp: str | Path, path: str | Path) -> Path:
    """fsync the finished ``tmp``, rename it atomically to ``path``, fsync the directory."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(Path(path).parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return Path(path)


def ensure_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed; one-line CtasimError if files cannot be written there (an
    unwritable parent raises the OSError of ``mkdir``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise CtasimError(f"{folder}: cannot write there (read-only or not permitted); nothing published")
    return folder


@contextmanager
def published_together(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """The temporary paths of files that appear together: all are published when the block
    succeeds, none (every temporary removed) when it raises."""
    finals = [Path(p) for p in paths]
    tmps = [temporary_path(p) for p in finals]
    for p in finals:
        ensure_writable(p.parent)
    try:
        yield tmps
        for tmp, final in zip(tmps, finals):
            publish(tmp, final)
    except BaseException:
        for tmp in tmps:
            with suppress(OSError):  # a read-only place: the first error is the one to tell
                tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_h5(path: str | Path) -> Iterator[h5py.File]:
    """An HDF5 file written as ``<path>.tmp`` and published on success, removed on failure."""
    with published_together([path]) as (tmp,), h5py.File(tmp, "w") as h5:
        yield h5


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to a hidden temporary file beside ``path``, then publish it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; reports are meant to be read by others
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

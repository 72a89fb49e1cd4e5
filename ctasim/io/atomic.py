"""Crash-safe publication of files: write under a temporary name, then ``publish`` it.

A reader sees either no file (or the previous one) or the complete new one, never a partial one.
"""

from __future__ import annotations

import os
from pathlib import Path

TMP_SUFFIX = ".tmp"


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

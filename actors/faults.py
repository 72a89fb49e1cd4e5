"""Process faults injected into actors (scenario ``faults.process``): kills and a slow archiver.

``with_process_faults`` gives a subclass of an actor class whose block method first sleeps (the
slow archiver) and kills its own process with SIGKILL at the chosen blocks: a camera in
``simulate`` and a reducer in ``reduce`` before handling the block, the archiver in ``append``
after storing it and before acknowledging it. Each kill leaves a marker file in
``run_dir/faults/`` first, so the process Ray restarts (and a resumed run) does not kill itself
again: every kill happens once per run.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctasim.io.atomic import write_text_atomic

FAULTS_DIR = "faults"
#: the method that receives each block, per killable role
BLOCK_METHODS = {"camera": "simulate", "reducer": "reduce", "archiver": "append"}
KILL_AFTER = ("archiver",)  # roles that die after handling the block, not before


def kill_marker(run_dir: str | Path, role: str, actor: int, position: int) -> Path:
    """The file that records that ``role`` actor ``actor`` was killed at the run's block ``position``."""
    return Path(run_dir) / FAULTS_DIR / f"killed_{role}{actor}_block{position:06d}"


def _block_key(role: str, args: tuple) -> tuple[str, int]:
    if role == "camera":
        return args[0].stream, int(args[0].block_index)
    return args[0], int(args[1])


def with_process_faults(cls: type, role: str, actor: int, run_dir: str | Path,
                        kills: Mapping[tuple[str, int], int], slow_s: float = 0.0) -> type:
    """``cls``, or a subclass that kills its process at the blocks ``kills`` ((stream, block index)
    -> the block's position in the run) and sleeps ``slow_s`` s per block."""
    if not kills and not slow_s:
        return cls
    method = BLOCK_METHODS[role]
    handle = getattr(cls, method)

    def kill_if_due(key: tuple[str, int]) -> None:
        if key not in kills:
            return
        marker = kill_marker(run_dir, role, actor, kills[key])
        if marker.exists():
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(marker, f"{role} actor {actor} killed at block {kills[key]} ({key[0]} #{key[1]})\n")
        os.kill(os.getpid(), signal.SIGKILL)

    def faulty(self: Any, *args: Any) -> Any:
        key = _block_key(role, args)
        if slow_s:
            time.sleep(slow_s)
        if role not in KILL_AFTER:
            kill_if_due(key)
        result = handle(self, *args)
        if role in KILL_AFTER:
            kill_if_due(key)
        return result

    faulty.__doc__ = handle.__doc__
    return type(cls.__name__, (cls,), {method: faulty, "__doc__": cls.__doc__})

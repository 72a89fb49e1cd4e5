"""How the offline stages run their independent work units: in this process, or on a backend.

An executor maps a picklable top-level function over an iterable of arguments and yields the
results in submission order, with at most ``max_in_flight`` units computed ahead of the one the
caller consumes (so memory stays bounded however long the run). The library ships the in-process
executor; ``actors.offline_executor`` runs the same units as Ray tasks. The function must be
deterministic in its arguments: every executor then gives the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over ``args``; ``workers``: units it computes at once (sizes ``max_in_flight``);
    ``shares_files``: whether every process it runs units in reads this machine's files (else the
    units must carry their input data)."""

    name: str
    workers: int
    shares_files: bool

    def map_ordered(self, fn: Callable[[A], R], args: Iterable[A], max_in_flight: int) -> Iterator[R]:
        """``fn(a)`` for every ``a`` of ``args``, yielded in the order of ``args``; at most
        ``max_in_flight`` results pending (computed or computing, not yet yielded) at any time.
        The iterator has ``close()``: closing it early drops the pending units."""
        ...


class InProcessExecutor:
    """One unit at a time, in this process, when the caller asks for it (nothing computed ahead)."""

    name = "in-process"
    workers = 1
    shares_files = True

    def map_ordered(self, fn: Callable[[A], R], args: Iterable[A], max_in_flight: int = 1) -> Iterator[R]:
        return (fn(a) for a in args)


def units_in_flight(executor: Executor, per_worker: int = 2) -> int:
    """Units to keep pending: ``per_worker`` per worker (one computing, one queued), at least 1."""
    return max(1, per_worker * int(executor.workers))

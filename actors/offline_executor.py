"""The offline stages' executor on the chain's backend: work units as Ray tasks, or in-process.

``RayExecutor`` implements ``ctasim.offline.executor.Executor`` on a ``RayBackend`` (embedded or a
cluster): each unit is one Ray task of one CPU, at most ``max_in_flight`` submitted and not yet
consumed, results handed back in submission order (Ray resolves and holds the others meanwhile), so
the driver's memory is bounded by the units in flight. A library error raised in a task (a damaged
archive's one-line DataFileError) comes back as itself, not wrapped in Ray's multi-line error.
Tasks are not retried: a unit is deterministic, a failed one fails the stage (nothing is published).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ctasim.offline.executor import Executor, InProcessExecutor

from .backend import LocalBackend, RayBackend

CPUS_PER_UNIT = 1.0


class RayExecutor:
    """Units as Ray tasks of ``CPUS_PER_UNIT``; ``workers``: the cluster's CPUs (at least 1);
    ``shares_files`` only when the cluster is this one node (a task may run on any node, and a
    filesystem shared between nodes is not assumed)."""

    name = "ray"

    def __init__(self, backend: RayBackend) -> None:
        self.backend, self.ray = backend, backend.ray
        self.workers = max(1, int(backend.cpus() // CPUS_PER_UNIT))
        self.shares_files = len([n for n in self.ray.nodes() if n["Alive"]]) == 1

    def map_ordered(self, fn: Callable[[Any], Any], args: Iterable[Any], max_in_flight: int) -> Iterator[Any]:
        task = self.ray.remote(fn).options(num_cpus=CPUS_PER_UNIT, max_retries=0)
        return self._ordered(task, iter(args), max(1, int(max_in_flight)))

    def _ordered(self, task: Any, args: Iterator[Any], limit: int) -> Iterator[Any]:
        pending: deque = deque()
        try:
            while True:
                for arg in args:
                    pending.append(task.remote(arg))
                    if len(pending) >= limit:
                        break
                if not pending:
                    return
                self.ray.wait([pending[0]], num_returns=1)  # the oldest unit: results leave in order
                yield self.backend.get(pending.popleft())
        finally:
            for ref in pending:  # closed early or failed: the rest is not wanted
                self.ray.cancel(ref)


def offline_executor(backend: LocalBackend | RayBackend) -> Executor:
    """The executor of the offline stages on ``backend``: Ray tasks on Ray, else in this process."""
    return RayExecutor(backend) if isinstance(backend, RayBackend) else InProcessExecutor()

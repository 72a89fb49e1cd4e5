"""Execution backends: the same actor classes run in-process or as Ray actors.

The orchestrator talks to actors only through a backend: ``create`` an actor, ``call`` a method
(returns a future: a Ray ObjectRef, or the value itself in-process), ``get`` results, ``wait`` for
the first of several futures. Arguments may be futures; Ray resolves top-level ObjectRefs in the
callee, the in-process backend passes values through. So one orchestration code path serves
``--no-ray``, an embedded local Ray and a cluster.

Restarts: an actor created ``restartable`` is restarted by Ray (at most ``MAX_RESTARTS`` times)
when its process dies; ``get`` then raises ``ActorDied`` naming it (for the result of any call that
depended on it), and ``process_of`` (which waits for the new process) tells a restarted actor by
its new pid. Tasks are not retried by Ray: the orchestrator resubmits whole blocks, whose results
are deterministic. An embedded Ray is watched by
``ray_reaper``, so a killed driver leaves no Ray process behind.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from ctasim.errors import CtasimError
from ctasim.onsite.camera_station import BlockNotBuffered
from ctasim.scenario import MAX_RESTARTS

from . import ray_reaper

CONNECT_TIMEOUT_S = 5.0   # to reach a cluster's --address before handing it to ray.init
RESTART_TIMEOUT_S = 120.0  # for a restarted actor to answer again


class ActorDied(Exception):
    """The process of the actor ``actor_id`` died while (or before) computing a result;
    ``init_error``: the last line of the error its constructor raised, if that is why."""

    def __init__(self, actor_id: str, init_error: str | None = None) -> None:
        super().__init__(f"actor {actor_id} died" + (f" in its constructor: {init_error}" if init_error else ""))
        self.actor_id, self.init_error = actor_id, init_error


class LocalBackend:
    """Everything in this process, calls executed immediately (for debugging and profiling)."""

    name = "local"

    def create(self, cls: type, *args: Any, spread_index: int | None = None, out_of_order: bool = False,
               restartable: bool = False, on_driver_node: bool = False, **kwargs: Any) -> Any:
        return cls(*args, **kwargs)

    def actor_id(self, actor: Any) -> str:
        return str(id(actor))

    def cpus(self) -> int:
        """CPUs the chain's actors share: one, this process."""
        return 1

    def processes(self, actors: Sequence[Any]) -> list[str]:
        return [self.process_of(a) for a in actors]

    def process_of(self, actor: Any, timeout_s: float = RESTART_TIMEOUT_S) -> str:
        return f"local:{os.getpid()}"

    def call(self, actor: Any, method: str, *args: Any, num_returns: int = 1) -> Any:
        return getattr(actor, method)(*args)

    def get(self, futures: Any) -> Any:
        return futures

    def wait(self, futures: Sequence[Any]) -> tuple[list, list]:
        return list(futures[:1]), list(futures[1:])

    def put(self, value: Any) -> Any:
        return value

    def node_of(self, actor: Any) -> str:
        return "local"

    def kill(self, actor: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass


class RayBackend:
    """Actors as Ray actor processes; connects to ``address`` or starts an embedded local Ray."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        import ray

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        self.ray = ray
        self._owns_ray = not ray.is_initialized()
        self.reaper = None
        if self._owns_ray:
            if address:
                check_reachable(address)
            ray.init(
                address=address or "local",  # embedded: a new Ray, never a `ray start` one found on the machine
                num_cpus=None if address else num_cpus,
                include_dashboard=False,
                logging_level="ERROR",
                log_to_driver=False,
                # the library and actors must be importable in the workers (editable install or cwd)
                runtime_env=None,
            )
            if not address:
                self.reaper = ray_reaper.start_reaper()

    def create(self, cls: type, *args: Any, spread_index: int | None = None, out_of_order: bool = False,
               restartable: bool = False, on_driver_node: bool = False, **kwargs: Any) -> Any:
        """Start ``cls`` as an actor; with ``spread_index`` k, pin it to the k-th alive node (mod n);
        ``on_driver_node``: pin it to this process's node (the actors that write the run directory,
        so that it is whole on the driver's disk without a shared filesystem);
        ``out_of_order`` lets a call whose arguments are ready run before earlier ones still waiting
        (a camera simulates the next block while the previous one waits for the trigger decision);
        ``restartable``: Ray restarts a dead process (constructor run again), its calls not retried."""
        options: dict[str, Any] = {"num_cpus": 0, "allow_out_of_order_execution": out_of_order,
                                   "max_restarts": MAX_RESTARTS if restartable else 0, "max_task_retries": 0}
        node = None
        if on_driver_node:
            node = _current_node()
        elif spread_index is not None:
            nodes = sorted(n["NodeID"] for n in self.ray.nodes() if n["Alive"])
            node = nodes[spread_index % len(nodes)]
        if node is not None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node, soft=False)
        return self.ray.remote(cls).options(**options).remote(*args, **kwargs)

    def call(self, actor: Any, method: str, *args: Any, num_returns: int = 1) -> Any:
        fn = getattr(actor, method)
        if num_returns != 1:
            fn = fn.options(num_returns=num_returns)
        return fn.remote(*args)

    def get(self, futures: Any) -> Any:
        """Results; an actor's CtasimError comes back as itself (its one-line message), not
        wrapped in Ray's multi-line RayTaskError; a dead actor process as ``ActorDied``; a block a
        restarted camera no longer buffers as ``BlockNotBuffered``."""
        try:
            return self.ray.get(futures)
        except self.ray.exceptions.RayActorError as err:
            init_error = None
            if getattr(err, "actor_init_failed", False):
                init_error = next((line for line in reversed(err.error_msg.splitlines()) if line.strip()), "")
            raise ActorDied(err.actor_id, init_error) from None
        except self.ray.exceptions.RayTaskError as err:
            if isinstance(err.cause, (CtasimError, BlockNotBuffered)):
                raise err.cause from None
            raise

    def actor_id(self, actor: Any) -> str:
        return actor._actor_id.hex()

    def cpus(self) -> int:
        """CPUs of the Ray cluster (every node's), at least one."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def processes(self, actors: Sequence[Any]) -> list[str]:
        """``node:pid`` of each actor's process (asked of all at once: they start in parallel)."""
        return self.get([actor.__ray_call__.remote(_process) for actor in actors])

    def process_of(self, actor: Any, timeout_s: float = RESTART_TIMEOUT_S) -> str:
        """``node:pid`` of the actor's process, waiting for it while Ray restarts it; ``ActorDied``
        if it is dead for good or does not answer within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.ray.get(actor.__ray_call__.remote(_process), timeout=max(1.0, deadline - time.monotonic()))
            except self.ray.exceptions.ActorDiedError:
                raise ActorDied(self.actor_id(actor)) from None
            except (self.ray.exceptions.RayActorError, self.ray.exceptions.GetTimeoutError):
                if time.monotonic() > deadline:
                    raise ActorDied(self.actor_id(actor)) from None
                time.sleep(0.2)

    def wait(self, futures: Sequence[Any]) -> tuple[list, list]:
        return self.ray.wait(list(futures), num_returns=1)

    def put(self, value: Any) -> Any:
        return self.ray.put(value)

    def node_of(self, actor: Any) -> str:
        return self.ray.get(actor.__ray_call__.remote(lambda self: _current_node()))

    def kill(self, actor: Any) -> None:
        """End the actor's process for good (no restart); Ray itself stays up."""
        self.ray.kill(actor, no_restart=True)

    def shutdown(self) -> None:
        if self._owns_ray:
            self.ray.shutdown()
        if self.reaper is not None:
            ray_reaper.stop(self.reaper)
            self.reaper = None


def _process(actor: Any) -> str:
    return f"{_current_node()}:{os.getpid()}"


def _current_node() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """One-line CtasimError unless something listens at a ``host:port`` (or ``ray://host:port``)
    Ray address within ``timeout_s``: ``ray.init`` would keep retrying for minutes. ``auto`` and
    addresses without a port are left to Ray."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise CtasimError(f"--address {address}: no Ray cluster answers there ({err.strerror or err}); "
                          "start one with `ray start --head`, or leave --address out for an embedded Ray") from None


def make_backend(kind: str, address: str | None = None) -> LocalBackend | RayBackend:
    """``local`` (in-process) or ``ray`` (embedded local Ray, or the cluster at ``address``)."""
    if kind == "local":
        return LocalBackend()
    return RayBackend(address=address)

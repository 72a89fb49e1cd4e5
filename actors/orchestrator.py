"""Builds the on-site actor graph of a scenario and drives shower blocks through it.

    source --block--> cameras --trigger times--> central trigger --decision--> cameras (readout)
           --accepted R1--> reducer --DL0--> archiver --ack--> [real-time analysis --ack-->] monitor

Blocks enter in the order of their simulated start time (all populations interleaved), as data
would reach a real chain; the real-time analysis (scenario ``alerts``) relies on that order.

Large data travel as futures (Ray object references) from actor to actor; the driver holds only
references and the small per-block acknowledgements. At most ``max_blocks_in_flight`` blocks are
in the chain at once, so memory stays flat however long the run.

The same code drives the in-process backend (``--no-ray``) and Ray (local or a cluster), and
every role can be replaced by a user class with the same methods (``ActorGraph.replace``).

Restarts: sources, cameras, central trigger, reducers and the archiver are restarted by Ray when
their process dies. The driver then collects every block in flight, waits for the restarted actor
and submits the blocks that failed again, from the source on: each block is deterministic in
(seed, stream, block), and the archiver stores a block once (its journal), so the archive is the
same as an uninterrupted run's. The summary's ``restarts`` lists them. ``resume=True`` continues an
interrupted run in its run directory: the blocks in the archive journal are counted from their
stored acknowledgements and not run again.
"""

from __future__ import annotations

import resource
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ctasim.errors import CtasimError
from ctasim.instrument.config import load_subarray
from ctasim.offline import merge_sections, run_offline
from ctasim.offline.pixel_quality import pixel_fault_effect
from ctasim.onsite.archive_journal import ArchiveJournal
from ctasim.onsite.camera_station import BlockNotBuffered
from ctasim.onsite.realtime import alerts_section, load_particle_model
from ctasim.onsite.telescope_health import telescope_health
from ctasim.report.run_report import write_run_report
from ctasim.report.telescope_quality import fault_section, load_healthy_run
from ctasim.scenario import MAX_RESTARTS, OfflineConfig, Scenario
from ctasim.sim.telescope_faults import NO_FAULTS

from .archiver import ArchiverActor
from .backend import ActorDied, make_backend
from .camera import CameraActor
from .central_trigger import CentralTriggerActor
from .faults import kill_marker, with_process_faults
from .monitor import MonitorActor
from .offline_executor import offline_executor
from .realtime import RealTimeActor
from .reducer import ReducerActor
from .source import SourceActor

HEALTHY_DIR = "healthy"  # the fault-free twin of a run with faults.compare_healthy, inside its run directory
ROLES = ("source", "camera", "central_trigger", "reducer", "archiver", "monitor", "realtime")
#: roles whose state is rebuilt by their constructor (or the archive journal): Ray may restart them
RESTARTABLE = ("source", "camera", "central_trigger", "reducer", "archiver")


@dataclass
class RunResult:
    """Where a run wrote its files, and the monitor's summary (the summary.json content)."""

    run_dir: Path
    summary: dict


class ActorGraph:
    """The on-site chain of one scenario on a backend ('local' or 'ray').

    Build it, optionally ``replace`` a role with your own class, ``run`` it, read ``summary()``.
    """

    def __init__(self, scenario: Scenario, run_dir: str | Path | None = None, backend: str = "ray",
                 address: str | None = None, resume: bool = False) -> None:
        self.scenario = scenario
        self.run_dir = scenario.run_dir(run_dir)
        self.backend_kind = backend
        self.address = address
        self.resume = resume
        self.restarts: list[dict[str, Any]] = []
        self.resumed_blocks = 0
        if scenario.faults.process.kill and backend == "local":
            raise CtasimError("faults.process.kill needs the Ray backend: in-process (--no-ray) there is no actor "
                              "process to kill")
        if resume and scenario.alerts.enabled:
            raise CtasimError(f"{self.run_dir}: --resume of a run with alerts.enabled is not supported (the "
                              "real-time analysis needs every block in one pass); run it again with --overwrite")
        self.classes: dict[str, type] = {
            "source": SourceActor, "camera": CameraActor, "central_trigger": CentralTriggerActor,
            "reducer": ReducerActor, "archiver": ArchiverActor, "monitor": MonitorActor,
            "realtime": RealTimeActor,
        }
        self.backend = None
        self.actors: dict[str, Any] = {}
        self.subarray = load_subarray(scenario.array.layout)

    def replace(self, role: str, cls: type) -> None:
        """Use ``cls`` (same constructor and methods as the default) for ``role``."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
        if self.actors:
            raise RuntimeError("replace roles before start()")
        self.classes[role] = cls

    def camera_groups(self) -> list[list[int]]:
        """Telescope ids hosted by each camera actor (``telescopes_per_actor`` auto: one actor per CPU
        of the backend, in-process one)."""
        n_cpus = self.backend.cpus() if self.backend is not None else 1
        return self.scenario.execution.camera_groups(self.subarray.tel_ids, n_cpus)

    def _check_camera_kills(self, n_cameras: int) -> None:
        """One-line CtasimError for a camera kill naming an actor the run does not have."""
        for i, k in enumerate(self.scenario.faults.process.kill):
            if k.role == "camera" and k.actor >= n_cameras:
                raise CtasimError(f"faults.process.kill[{i}].actor = {k.actor}: expected below {n_cameras} "
                                  "(the run's camera actors)")

    def _create(self, role: str, index: int, *args: Any, **kwargs: Any) -> Any:
        """Actor ``index`` of ``role``, with the scenario's process faults and Ray restarts where they apply."""
        faults = self.scenario.faults.process
        cls = self.classes[role]
        if role in ("camera", "reducer", "archiver"):
            kills = {self.order[k.block]: k.block for k in faults.kill if k.role == role and k.actor == index}
            slow = faults.slow_archiver_s if role == "archiver" else 0.0
            cls = with_process_faults(cls, role, index, self.run_dir, kills, slow)
        actor = self.backend.create(cls, *args, restartable=role in RESTARTABLE, **kwargs)
        self.names[self.backend.actor_id(actor)] = (role, index)
        return actor

    def start(self) -> None:
        self._t_start = time.perf_counter()
        sc = self.scenario
        if sc.alerts.enabled:
            load_particle_model(sc.realtime_config(), self.subarray)  # a bad models dir fails here, in one line
        ArchiveJournal(self.run_dir).write_scenario(sc.to_dict())
        b = make_backend(self.backend_kind, self.address)
        self.backend = b
        self.names: dict[str, tuple[str, int]] = {}  # actor id -> (role, index)
        self.processes: dict[tuple[str, int], str] = {}  # restartable actor -> its process (node:pid)
        pointing = (sc.array.pointing.alt_deg, sc.array.pointing.az_deg)
        # kept referenced for the graph's life: Ray restarts an actor with its constructor arguments
        subarray = self.subarray_ref = b.put(self.subarray)
        self.populations = sc.populations()
        self.population_of = {p.name: p for p in self.populations}
        self.order = self.blocks()
        self.position = {key: n for n, key in enumerate(self.order)}
        self.actors["monitor"] = self._create("monitor", 0, sc.to_dict(), self.subarray)
        self.actors["source"] = {
            p.name: self._create("source", i, p, subarray, pointing, sc.seed, sc.simulation.block_size)
            for i, p in enumerate(self.populations)
        }
        buffered = sc.execution.max_blocks_in_flight + 1
        # accidental triggers ride on one stream (the night's NSB is counted once)
        nsb = {"nsb_stream": sc.accidental_stream()} if sc.trigger.nsb_accidentals else {}
        pixel_faults = sc.faults.instrument.pixels.model(sc.array.pointing, sc.array.layout)
        telescope_faults = sc.telescope_fault_set()
        tel = {"telescope_faults": telescope_faults} if telescope_faults != NO_FAULTS else {}
        groups = self.camera_groups()
        self._check_camera_kills(len(groups))
        self._warm_first = len(groups) > 1
        self.actors["camera"] = [
            self._create("camera", i, subarray, group, pointing, sc.seed, buffered, spread_index=i,
                         out_of_order=True, extinction=sc.atmosphere.extinction_model(), pixel_faults=pixel_faults,
                         **nsb, **tel)
            for i, group in enumerate(groups)
        ]
        self.actors["central_trigger"] = self._create(
            "central_trigger", 0, subarray, sc.trigger.min_telescopes, sc.trigger.window_ns, pointing
        )
        self.actors["reducer"] = [
            self._create("reducer", i, subarray, sc.reduction) for i in range(sc.execution.reducer_actors)
        ]
        self.actors["archiver"] = self._create(
            "archiver", 0, str(self.run_dir), subarray, sc.to_dict(), sc.seed, self.populations, pointing,
            pixel_faults, on_driver_node=True
        )
        if sc.alerts.enabled:
            self.actors["realtime"] = self._create("realtime", 0, str(self.run_dir), subarray, pointing,
                                                   sc.realtime_config(), on_driver_node=True)
        restartable = [name for name in self.names.values() if name[0] in RESTARTABLE]
        self.processes = dict(zip(restartable, b.processes([self._actor(*name) for name in restartable])))

    def _submit(self, stream: str, block_index: int) -> Any:
        """Send one block through the chain; returns the future of the archiver's acknowledgement
        (passed on by the real-time analysis when there is one)."""
        b, a = self.backend, self.actors
        showers, block = b.call(a["source"][stream], "block", block_index, num_returns=2)
        reports = [b.call(a["camera"][0], "simulate", block)]
        if self._warm_first:
            # the first camera compiles the numba kernels (and fills their cache) alone; the others then
            # load them instead of all compiling the same kernels at once on the same cores
            b.wait(reports)
            self._warm_first = False
        reports += [b.call(cam, "simulate", block) for cam in a["camera"][1:]]
        decision = b.call(a["central_trigger"], "decide", stream, block_index, showers, *reports)
        readouts = [b.call(cam, "readout", stream, block_index, decision) for cam in a["camera"]]
        reducer = a["reducer"][block_index % len(a["reducer"])]
        reduced = b.call(reducer, "reduce", stream, block_index, *readouts)
        ack = b.call(a["archiver"], "append", stream, block_index, showers, decision, reduced)
        if "realtime" not in a:
            return ack
        population = self.population_of[stream]
        size = self.scenario.simulation.block_size
        return b.call(a["realtime"], "analyse", population.block_start_s(block_index, size),
                      population.block_span_s(block_index, size), reduced, ack)

    def blocks(self) -> list[tuple[str, int]]:
        """All (stream, block index) pairs in the order of their simulated start time (ties: the
        scenario's population order): a block's position here is its ``block`` in ``faults.process``."""
        size = self.scenario.simulation.block_size
        keyed = [(p.block_start_s(i, size), k, i, p.name)
                 for k, p in enumerate(self.scenario.populations()) for i in range(p.n_blocks(size))]
        return [(name, i) for _, _, i, name in sorted(keyed)]

    def run(self, progress: bool = False, keep_journal: bool = False) -> RunResult:
        """Drive every block through the chain with bounded blocks in flight, then close the archive;
        the archive journal is removed then, unless ``keep_journal`` (``run_scenario`` removes it once
        the report is written, so a run killed before can be resumed)."""
        try:
            result = self._run(progress)
        except ActorDied as err:
            role, index = getattr(self, "names", {}).get(err.actor_id, ("unknown", -1))
            if err.init_error is not None:
                raise CtasimError(f"{role} actor {index} failed to start: {err.init_error}") from None
            raise CtasimError(f"{role} actor {index} died and was not restarted; `ctasim run --resume "
                              f"{self.run_dir}` continues the run") from None
        if not keep_journal:
            ArchiveJournal(self.run_dir).remove()
        return result

    def _run(self, progress: bool) -> RunResult:
        if not self.actors:
            self.start()
        b, a = self.backend, self.actors
        t0 = time.perf_counter()
        todo = deque(self.order)
        if self.resume:
            archived = b.get(b.call(a["archiver"], "archived"))
            for ack in b.get(b.call(a["archiver"], "acks", archived)):
                b.call(a["monitor"], "record", ack)
            done = {tuple(k) for k in archived}
            todo = deque(k for k in self.order if k not in done)
            self.resumed_blocks = len(done)
        in_flight: list[tuple[Any, tuple[str, int]]] = []
        limit = self.scenario.execution.max_blocks_in_flight
        first_block_s = 0.0
        bar = self._bar = tqdm(total=len(self.order), initial=self.resumed_blocks, unit="block",
                               disable=not progress, desc=self.scenario.name)
        try:
            while todo or in_flight:
                while todo and len(in_flight) < limit:
                    key = todo.popleft()
                    in_flight.append((self._submit(*key), key))
                done_futures, _ = b.wait([f for f, _ in in_flight])
                entry = next(e for e in in_flight if e[0] is done_futures[0])
                in_flight.remove(entry)
                try:
                    ack = b.get(entry[0])
                except (ActorDied, BlockNotBuffered) as err:
                    failed = self._recover(err, entry[1], in_flight)
                    todo.extendleft(reversed(failed))
                    in_flight = []
                    continue
                b.call(a["monitor"], "record", ack)
                first_block_s = first_block_s or time.perf_counter() - self._t_start
                bar.update(1)
            self._check_processes([])  # a process that died between blocks
            t_close = time.perf_counter()
            files = b.get(b.call(a["archiver"], "close"))
            close_s = time.perf_counter() - t_close
        except BaseException:
            try:
                b.get(b.call(a["archiver"], "abort"))  # no partial archive left looking complete
            except ActorDied:
                pass  # a dead archiver completes nothing
            raise
        finally:
            bar.close()
        wall = time.perf_counter() - t0
        summary = b.get(b.call(a["monitor"], "summary", files, wall, self.backend_kind))
        # in-process, every "actor" shares the driver's process: one figure for all
        memory = b.get([b.call(cam, "memory") for cam in a["camera"]])
        summary["timing"]["camera_actor_memory"] = memory if b.name == "ray" else memory[:1]
        seconds = {stream: span["seconds"] for stream, span in summary["rates"]["streams"].items()}
        pointing = (self.scenario.array.pointing.alt_deg, self.scenario.array.pointing.az_deg)
        summary.setdefault("data_quality", {})["telescopes"] = telescope_health(files, seconds, pointing)
        summary["timing"]["driver_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # actor start-up (and numba compilation on a fresh install) to the first archived block
        summary["timing"]["first_block_seconds"] = first_block_s
        summary["timing"]["camera_actors"] = len(a["camera"])
        summary["timing"]["archive_close_seconds"] = close_s  # merging the journal into the DL0 files
        summary["restarts"] = self.restarts_section()
        if self.scenario.faults.process.kill or self.scenario.faults.process.slow_archiver_s:
            summary.setdefault("faults", {})["process"] = self.process_faults_section()
        if "realtime" in a:
            summary["alerts"] = alerts_section(b.get(b.call(a["realtime"], "finish")), self.scenario.flares())
        return RunResult(self.run_dir, summary)

    def _recover(self, error: ActorDied | BlockNotBuffered, key: tuple[str, int],
                 in_flight: list[tuple[Any, tuple[str, int]]]) -> list[tuple[str, int]]:
        """After an actor process died (or a restarted camera lost a block): collect every block still
        in flight (acks recorded), wait for the dead actors' restarts, record them; returns the failed
        blocks in run order."""
        b = self.backend
        dead = {error.actor_id} if isinstance(error, ActorDied) else set()
        failed, lost = [key], isinstance(error, BlockNotBuffered)
        for future, other in in_flight:
            try:
                ack = b.get(future)
            except ActorDied as err:
                dead.add(err.actor_id)
                failed.append(other)
                continue
            except BlockNotBuffered:
                failed.append(other)
                lost = True
                continue
            b.call(self.actors["monitor"], "record", ack)
            self._bar.update(1)
        if lost and not (dead or self.restarts):
            raise error  # a block missing from a camera that never restarted: a flow-control bug
        failed.sort(key=self.position.__getitem__)
        for actor_id in sorted(dead):
            role = self.names.get(actor_id, ("unknown", -1))[0]
            if role not in RESTARTABLE:
                raise CtasimError(f"the {role} actor died at block {self.position[failed[0]]}; it cannot be "
                                  f"restarted (its state is the run's): `ctasim run --resume {self.run_dir}` "
                                  "continues the run")
        self._check_processes(failed)
        return failed

    def _check_processes(self, failed: list[tuple[str, int]]) -> None:
        """Record every restartable actor whose process changed (restarted), waiting for those
        restarting; a failed block may name only one of several that died."""
        b = self.backend
        for (role, index), process in self.processes.items():
            try:
                now = b.process_of(self._actor(role, index))
            except ActorDied:
                raise CtasimError(f"{role} actor {index} died and was not restarted (at most {MAX_RESTARTS} "
                                  f"restarts); `ctasim run --resume {self.run_dir}` continues the run") from None
            if now != process:
                self.processes[role, index] = now
                first = failed[0] if failed else None
                self.restarts.append({"role": role, "actor": index,
                                      "block": self.position[first] if first else None,
                                      "stream": first[0] if first else None,
                                      "block_index": first[1] if first else None,
                                      "resubmitted_blocks": [self.position[k] for k in failed]})

    def _actor(self, role: str, index: int) -> Any:
        """The handle of actor ``index`` of ``role`` (None if there is none)."""
        actors = self.actors.get(role)
        if isinstance(actors, dict):
            actors = list(actors.values())
        if not isinstance(actors, list):
            actors = [actors]
        return actors[index] if 0 <= index < len(actors) else None

    def restarts_section(self) -> dict[str, Any]:
        """Summary ``restarts``: actor processes that died and were restarted, and a resume."""
        return {"count": len(self.restarts), "max_restarts": MAX_RESTARTS, "events": self.restarts,
                "resumed_blocks": self.resumed_blocks}

    def process_faults_section(self) -> dict[str, Any]:
        """Summary ``faults.process``: the injected kills (and whether each happened) and the slow archiver."""
        faults = self.scenario.faults.process
        kills = [k.model_dump() | {"done": kill_marker(self.run_dir, k.role, k.actor, k.block).exists()}
                 for k in faults.kill]
        return {"kill": kills, "slow_archiver_s": faults.slow_archiver_s}

    def summary(self) -> dict:
        """The monitor's current figures (accounting, rates, reduction, timing)."""
        return self.backend.get(self.backend.call(self.actors["monitor"], "summary", [], 0.0, self.backend_kind))

    def stop_actors(self) -> None:
        """End every actor of the chain, keeping the backend (its Ray session) for the offline stages."""
        for actors in self.actors.values():
            handles = actors.values() if isinstance(actors, dict) else actors if isinstance(actors, list) else [actors]
            for handle in handles:
                self.backend.kill(handle)
        self.actors = {}

    def shutdown(self) -> None:
        if self.backend is not None:
            self.backend.shutdown()
        self.actors = {}


def run_scenario(scenario: Scenario, run_dir: str | Path | None = None, backend: str | None = None,
                 address: str | None = None, progress: bool = False, resume: bool = False) -> RunResult:
    """Run the on-site chain (or continue an interrupted one: ``resume``), the offline stages the
    scenario asks for, and write the report; then the archive journal is removed. Offline DL1 and
    DL2's three model trainings run on the chain's backend (``actors.offline_executor``: Ray tasks on
    the same Ray session once the chain's actors are gone, or in this process for ``local``); the rest
    of DL2 and the IRFs in this process. With ``faults.compare_healthy`` also the same scenario without
    faults in ``<run_dir>/healthy``, whose figures the summary sets beside this run's
    (``data_quality.pixels.effect``, ``data_quality.telescopes.effect``; for the telescopes,
    ``faults.instrument.telescopes.healthy_run`` may name an earlier such run instead)."""
    graph = ActorGraph(scenario, run_dir, backend or scenario.execution.backend, address, resume)
    try:
        result = graph.run(progress=progress, keep_journal=True)
        if scenario.offline.dl1 or scenario.offline.dl2:
            graph.stop_actors()  # their memory back; Ray stays up for the offline units
            merge_sections(result.summary, run_offline(result.run_dir, scenario.offline,
                                                       executor=offline_executor(graph.backend)))
    finally:
        graph.shutdown()
    healthy = None
    if scenario.faults.compare_healthy:
        twin = run_scenario(scenario.without_faults(), result.run_dir / HEALTHY_DIR, backend, address, progress)
        healthy = (twin.run_dir, twin.summary)
    if "pixels" in result.summary.get("data_quality", {}):
        result.summary["data_quality"]["pixels"]["effect"] = pixel_fault_effect(result.summary,
                                                                                healthy[1] if healthy else None)
    if scenario.irf.enabled:
        # too few simulated events for IRFs is a result of the run, flagged in the summary, not a failed run
        try:
            result.summary.update(run_offline(result.run_dir, OfflineConfig(), scenario.irf))
        except CtasimError as err:
            result.summary["irf"] = {"error": str(err)}
    faults = scenario.faults.instrument.telescopes
    if faults.any():
        if faults.healthy_run:
            healthy = (Path(faults.healthy_run), load_healthy_run(faults.healthy_run, scenario))
        result.summary["data_quality"]["telescopes"] |= fault_section(
            faults, result.summary["data_quality"]["telescopes"], result.run_dir, result.summary, healthy)
    write_run_report(result.run_dir, result.summary, scenario)
    ArchiveJournal(result.run_dir).remove()
    return result


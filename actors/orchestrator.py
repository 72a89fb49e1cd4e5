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
"""

from __future__ import annotations

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
from ctasim.onsite.realtime import alerts_section, load_particle_model
from ctasim.onsite.telescope_health import telescope_health
from ctasim.report.run_report import write_run_report
from ctasim.report.telescope_quality import fault_section, load_healthy_run
from ctasim.scenario import OfflineConfig, Scenario
from ctasim.sim.telescope_faults import NO_FAULTS

from .archiver import ArchiverActor
from .backend import make_backend
from .camera import CameraActor
from .central_trigger import CentralTriggerActor
from .monitor import MonitorActor
from .realtime import RealTimeActor
from .reducer import ReducerActor
from .source import SourceActor

HEALTHY_DIR = "healthy"  # the fault-free twin of a run with faults.compare_healthy, inside its run directory
ROLES = ("source", "camera", "central_trigger", "reducer", "archiver", "monitor", "realtime")


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
                 address: str | None = None) -> None:
        self.scenario = scenario
        self.run_dir = scenario.run_dir(run_dir)
        self.backend_kind = backend
        self.address = address
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
        """Telescope ids hosted by each camera actor."""
        ids = [int(t) for t in self.subarray.tel_ids]
        k = self.scenario.execution.telescopes_per_actor
        return [ids[i:i + k] for i in range(0, len(ids), k)]

    def start(self) -> None:
        sc = self.scenario
        if sc.alerts.enabled:
            load_particle_model(sc.realtime_config(), self.subarray)  # a bad models dir fails here, in one line
        b = make_backend(self.backend_kind, self.address)
        self.backend = b
        pointing = (sc.array.pointing.alt_deg, sc.array.pointing.az_deg)
        subarray = b.put(self.subarray)
        self.populations = sc.populations()
        self.population_of = {p.name: p for p in self.populations}
        self.actors["monitor"] = b.create(self.classes["monitor"], sc.to_dict(), self.subarray)
        self.actors["source"] = {
            p.name: b.create(self.classes["source"], p, subarray, pointing, sc.seed, sc.simulation.block_size)
            for p in self.populations
        }
        buffered = sc.execution.max_blocks_in_flight + 1
        # accidental triggers ride on one stream (the night's NSB is counted once)
        nsb = {"nsb_stream": sc.accidental_stream()} if sc.trigger.nsb_accidentals else {}
        pixel_faults = sc.faults.instrument.pixels.model(sc.array.pointing, sc.array.layout)
        telescope_faults = sc.telescope_fault_set()
        tel = {"telescope_faults": telescope_faults} if telescope_faults != NO_FAULTS else {}
        self.actors["camera"] = [
            b.create(self.classes["camera"], subarray, group, pointing, sc.seed, buffered, spread_index=i,
                     out_of_order=True, extinction=sc.atmosphere.extinction_model(), pixel_faults=pixel_faults,
                     **nsb, **tel)
            for i, group in enumerate(self.camera_groups())
        ]
        self.actors["central_trigger"] = b.create(
            self.classes["central_trigger"], subarray, sc.trigger.min_telescopes, sc.trigger.window_ns, pointing
        )
        self.actors["reducer"] = [
            b.create(self.classes["reducer"], subarray, sc.reduction)
            for _ in range(sc.execution.reducer_actors)
        ]
        self.actors["archiver"] = b.create(
            self.classes["archiver"], str(self.run_dir), subarray, sc.to_dict(), sc.seed, self.populations, pointing,
            pixel_faults
        )
        if sc.alerts.enabled:
            self.actors["realtime"] = b.create(self.classes["realtime"], str(self.run_dir), subarray, pointing,
                                               sc.realtime_config())

    def _submit(self, stream: str, block_index: int) -> Any:
        """Send one block through the chain; returns the future of the archiver's acknowledgement
        (passed on by the real-time analysis when there is one)."""
        b, a = self.backend, self.actors
        showers, block = b.call(a["source"][stream], "block", block_index, num_returns=2)
        reports = [b.call(cam, "simulate", block) for cam in a["camera"]]
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
        scenario's population order)."""
        b, size = self.backend, self.scenario.simulation.block_size
        counts = [b.get(b.call(self.actors["source"][p.name], "n_blocks")) for p in self.populations]
        keyed = [(p.block_start_s(i, size), k, i, p.name)
                 for k, (p, n) in enumerate(zip(self.populations, counts)) for i in range(n)]
        return [(name, i) for _, _, i, name in sorted(keyed)]

    def run(self, progress: bool = False) -> RunResult:
        """Drive every block through the chain with bounded blocks in flight, then close the archive."""
        if not self.actors:
            self.start()
        b, a = self.backend, self.actors
        t0 = time.perf_counter()
        todo = deque(self.blocks())
        in_flight: list[Any] = []
        limit = self.scenario.execution.max_blocks_in_flight
        bar = tqdm(total=len(todo), unit="block", disable=not progress, desc=self.scenario.name)
        try:
            while todo or in_flight:
                while todo and len(in_flight) < limit:
                    in_flight.append(self._submit(*todo.popleft()))
                done, in_flight = b.wait(in_flight)
                for ack in b.get(done):
                    b.call(a["monitor"], "record", ack)
                    bar.update(1)
            files = b.get(b.call(a["archiver"], "close"))
        except BaseException:
            b.get(b.call(a["archiver"], "abort"))  # no partial archive left looking complete
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
        if "realtime" in a:
            summary["alerts"] = alerts_section(b.get(b.call(a["realtime"], "finish")), self.scenario.flares())
        return RunResult(self.run_dir, summary)

    def summary(self) -> dict:
        """The monitor's current figures (accounting, rates, reduction, timing)."""
        return self.backend.get(self.backend.call(self.actors["monitor"], "summary", [], 0.0, self.backend_kind))

    def shutdown(self) -> None:
        if self.backend is not None:
            self.backend.shutdown()
        self.actors = {}


def run_scenario(scenario: Scenario, run_dir: str | Path | None = None, backend: str | None = None,
                 address: str | None = None, progress: bool = False) -> RunResult:
    """Run the on-site chain, the offline stages the scenario asks for, and write the report; with
    ``faults.compare_healthy`` also the same scenario without faults in ``<run_dir>/healthy``, whose
    figures the summary sets beside this run's (``data_quality.pixels.effect``, ``data_quality.telescopes.effect``;
    for the telescopes, ``faults.instrument.telescopes.healthy_run`` may name an earlier such run instead)."""
    graph = ActorGraph(scenario, run_dir, backend or scenario.execution.backend, address)
    try:
        result = graph.run(progress=progress)
    finally:
        graph.shutdown()
    if scenario.offline.dl1 or scenario.offline.dl2:
        merge_sections(result.summary, run_offline(result.run_dir, scenario.offline))
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
    return result


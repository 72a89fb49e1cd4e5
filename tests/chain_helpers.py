"""Helpers for the chain tests: a tiny North Alpha scenario, the on-site chain driven with library
components only (no actors), and a digest of a run's DL0."""

from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np

from ctasim.datamodel import paths
from ctasim.io.archive import DL0ArchiveReader
from ctasim.io.checksums import stored_digest
from ctasim.onsite.archive_writer import RunArchiver
from ctasim.onsite.camera_station import PEDESTAL_EVENTS_PER_BLOCK, CameraStation
from ctasim.onsite.central_trigger import CentralTrigger
from ctasim.onsite.monitor import RunMonitor
from ctasim.onsite.reducer import BlockReducer
from ctasim.scenario import Scenario, validate_scenario
from ctasim.sim.source import ShowerSource

SORT_COLUMNS = ("obs_id", "event_id", "tel_id", "time")


def tiny_scenario(run_dir: Path, telescopes_per_actor: int = 13, n_showers: int = 150, **execution) -> Scenario:
    """A few seconds in-process: ``n_showers`` gammas + as many protons on North Alpha in blocks of 75."""
    return validate_scenario({
        "name": "tiny",
        "seed": 7,
        "output_dir": str(run_dir),
        "array": {"layout": "north_alpha"},
        "particles": [
            {"name": "gamma", "particle": "gamma", "n_showers": n_showers, "energy_min_tev": 0.1,
             "energy_max_tev": 30.0, "max_scatter_m": 500.0, "rate_hz": 2000.0},
            {"name": "proton", "particle": "proton", "n_showers": n_showers, "energy_min_tev": 0.2,
             "energy_max_tev": 50.0, "max_scatter_m": 600.0, "viewcone_deg": 4.0, "rate_hz": 6000.0},
        ],
        "simulation": {"block_size": 75},
        "reduction": {"compare_variants": ["integrated"]},
        "execution": {"telescopes_per_actor": telescopes_per_actor, **execution},
    })


SMALL_ARRAY = """name: small_array
site: {name: 'CTAO-North (La Palma)', lon_deg: -17.8920302, lat_deg: 28.7621661, altitude_m: 2177.0,
       obs_level_m: 2158.0}
telescopes:
  - {tel_id: 1, name: L-01, type: LST_LST_LSTCam, pos: [-70.93, -52.07, 43.00]}
  - {tel_id: 2, name: M-01, type: MST_MST_NectarCam, pos: [0.00, 0.00, 29.00]}
  - {tel_id: 3, name: M-02, type: MST_MST_NectarCam, pos: [27.07, 198.71, 12.20]}
"""


def small_scenario(run_dir: Path, blocks_per_stream: int = 3, faults: dict | None = None, **execution) -> dict:
    """Seconds on Ray: 1 LST + 2 MST (two camera actors), gammas and protons in blocks of 50 showers,
    ``blocks_per_stream`` blocks each; the layout file is written beside ``run_dir``. A mapping, to
    write as YAML or validate."""
    layout = Path(run_dir).parent / "small_array.yaml"
    layout.parent.mkdir(parents=True, exist_ok=True)
    layout.write_text(SMALL_ARRAY)
    n = 50 * blocks_per_stream
    return {
        "name": "small", "seed": 11, "output_dir": str(run_dir), "array": {"layout": str(layout)},
        "particles": [
            {"name": "gamma", "particle": "gamma", "n_showers": n, "energy_min_tev": 0.3, "energy_max_tev": 30.0,
             "max_scatter_m": 300.0, "rate_hz": 2000.0},
            {"name": "proton", "particle": "proton", "n_showers": n, "energy_min_tev": 0.5, "energy_max_tev": 50.0,
             "max_scatter_m": 400.0, "viewcone_deg": 3.0, "rate_hz": 4000.0},
        ],
        "simulation": {"block_size": 50},
        "execution": {"telescopes_per_actor": 2, "max_blocks_in_flight": 3, **execution},
        "faults": {"process": faults or {}},
    }


def run_library_chain(scenario: Scenario, subarray, telescopes_per_station: int = 5,
                      n_pedestal_events: int = PEDESTAL_EVENTS_PER_BLOCK) -> tuple[list[str], RunMonitor]:
    """Every block of the scenario through the ctasim.onsite components, in this process and in
    block order, as the orchestrator wires them: (archive files, the monitor that got every ack)."""
    sc = scenario
    pointing = (sc.array.pointing.alt_deg, sc.array.pointing.az_deg)
    populations = sc.populations()
    ids = [int(t) for t in subarray.tel_ids]
    stations = [CameraStation(subarray, ids[i:i + telescopes_per_station], pointing, sc.seed, 1, n_pedestal_events,
                              extinction=sc.atmosphere.extinction_model())
                for i in range(0, len(ids), telescopes_per_station)]
    trigger = CentralTrigger(subarray, sc.trigger.min_telescopes, sc.trigger.window_ns, pointing)
    reducer = BlockReducer(subarray, sc.reduction.library_configs())
    archiver = RunArchiver(sc.run_dir(), subarray, sc.to_dict(), sc.seed, populations, pointing)
    monitor = RunMonitor(sc.to_dict(), subarray)
    for pop in populations:
        source = ShowerSource(pop, subarray, *pointing, sc.seed, sc.simulation.block_size)
        for i in range(source.n_blocks):
            block = source.block(i)
            truth = block.truth()
            decision = trigger.decide(pop.name, i, truth, *[s.simulate(block) for s in stations])
            readouts = [s.readout(pop.name, i, decision) for s in stations]
            reduced = reducer.reduce(pop.name, i, *readouts)
            monitor.record(archiver.append(pop.name, i, truth, decision, reduced))
    return archiver.close(), monitor


def offline_digests(run_dir: Path) -> dict[str, str]:
    """The content digest (``ctasim_tables_sha256``: every table, not the provenance) of every DL1 and
    DL2 file of a run."""
    out = {}
    for path in sorted([*(Path(run_dir) / "dl1").glob("*.h5"), *(Path(run_dir) / "dl2").glob("*.h5")]):
        with h5py.File(path, "r") as h5:
            out[f"{path.parent.name}/{path.name}"] = stored_digest(h5)
    return out


def dl0_digest(run_dir: Path) -> dict[str, str]:
    """Per DL0 file: SHA-256 over every block checksum (sorted by telescope, stream, block) and the
    contents of every other table (truth, triggers, monitoring, instrument; rows sorted by ids and
    time). Provenance (times, host) and the block index (offsets follow arrival order) are left out."""
    out = {}
    for path in sorted((Path(run_dir) / "dl0").glob("*.h5")):
        h = hashlib.sha256()
        with DL0ArchiveReader(path) as reader:
            for tel_id in reader.tel_ids:
                blocks = sorted(reader.iter_blocks(tel_id), key=lambda b: (b.stream, b.block_index))
                for b in blocks:
                    h.update(f"{tel_id}/{b.stream}/{b.block_index}/{b.n_events}/{b.checksum()}".encode())
            for table in sorted(reader.dataset_paths()):
                if table.startswith(paths.DL0_TELESCOPE + "/tel_"):
                    continue
                rows, _ = reader.read_table(table)
                keys = [n for n in SORT_COLUMNS if n in (rows.dtype.names or ())]
                h.update(table.encode())
                h.update((np.sort(rows, order=keys) if keys else rows).tobytes())
        out[path.name] = h.hexdigest()
    return out

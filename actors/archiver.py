"""Archiver actor: writes DL0 blocks, truth and technical-data tables, one archive per stream.

Files are written under temporary names and renamed when complete (``ctasim.io.archive``); an
archive whose run fails is removed, never left looking complete. Every block's bytes on disk are
metered, and every read-out event is counted as archived, so the accounting closes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.recfunctions import repack_fields

from ctasim.accounting import (
    ARRAY_EVENTS_ARCHIVED,
    STAGE_DL0_ARCHIVED,
    STAGE_TECHNICAL,
    TELESCOPE_EVENTS_ARCHIVED,
    TELESCOPE_EVENTS_REDUCED,
)
from ctasim.datamodel import paths
from ctasim.datamodel.simulation import SHOWER_UNITS
from ctasim.datamodel.trigger import TELESCOPE_TRIGGER_UNITS, TRIGGER_UNITS
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.io.archive import DL0ArchiveWriter
from ctasim.io.provenance import make_provenance
from ctasim.rng import block_rng

from .central_trigger import Decision
from .reducer import Reduced
from .source import BlockTruth

IMPACT_UNITS = {"impact_distance": "m", "true_image_intensity": "p.e."}
TRIGGER_RATE_COLUMNS = ("tel_id", "time", "n_triggers", "trigger_rate_hz", "n_read_out")
PEDESTAL_COLUMNS = ("tel_id", "time", "pedestal_mean_adc", "pedestal_std_adc")
MONITORING_UNITS = {"time": "s", "trigger_rate_hz": "Hz", "pedestal_mean_adc": "adc", "pedestal_std_adc": "adc"}
POINTING_DTYPE = np.dtype([("time", "f8"), ("pointing_alt", "f8"), ("pointing_az", "f8")])
DISTRIBUTION_DTYPE = np.dtype([
    ("obs_id", "i4"), ("particle", "S16"), ("n_showers", "i8"), ("energy_min", "f8"), ("energy_max", "f8"),
    ("spectral_index", "f8"), ("max_scatter_radius", "f8"), ("viewcone_min", "f8"), ("viewcone_max", "f8"),
    ("source_offset", "f8"),
])
DISTRIBUTION_UNITS = {"energy_min": "TeV", "energy_max": "TeV", "max_scatter_radius": "m",
                      "viewcone_min": "deg", "viewcone_max": "deg", "source_offset": "deg"}


@dataclass
class Ack:
    """What the archiver reports per block: counts, bytes per stage, simulated span, wall times."""

    stream: str
    block_index: int
    accounting: dict
    rates: dict
    timing: dict
    waveform_pixels: dict


class ArchiverActor:
    """One DL0 archive per stream under ``run_dir/dl0``; ``close()`` completes them all."""

    def __init__(self, run_dir: str, subarray: SubarrayDescription, scenario: dict, scenario_hash: str,
                 seed: int, populations: list[dict]) -> None:
        self.dir = Path(run_dir) / "dl0"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.subarray = subarray
        self.scenario, self.seed = scenario, seed
        self.populations = {p["name"]: p for p in populations}
        self.pointing = (scenario["array"]["pointing"]["alt_deg"], scenario["array"]["pointing"]["az_deg"])
        self.writers: dict[str, DL0ArchiveWriter] = {}
        self.tel_types = dict(zip(subarray.tel_ids.tolist(), subarray.size_classes().tolist()))

    def _writer(self, stream: str) -> DL0ArchiveWriter:
        if stream not in self.writers:
            pop = self.populations[stream]
            name = f"{self.scenario['name']}_{stream}_obs{pop['obs_id']:06d}.dl0.h5"
            prov = make_provenance(self.scenario["name"], self.scenario, self.seed,
                                   extra={"stream": stream, "obs_id": pop["obs_id"]})
            self.writers[stream] = DL0ArchiveWriter(self.dir / name, self.subarray, prov, overwrite=True)
        return self.writers[stream]

    def append(self, stream: str, block_index: int, truth: BlockTruth, decision: Decision,
               reduced: Reduced) -> Ack:
        t0 = time.perf_counter()
        w = self._writer(stream)
        obs_id = self.populations[stream]["obs_id"]
        acc = decision.accounting
        rates = decision.rates.merge(reduced.rates)
        for block in reduced.blocks:
            nbytes = w.append(block)
            tel_type = self.tel_types[block.tel_id]
            acc.add(TELESCOPE_EVENTS_ARCHIVED, block.n_events, stream, tel_type)
            rates.add(STAGE_DL0_ARCHIVED, nbytes, block.n_events, tel_type, block.tel_id, stream)
        acc.add(ARRAY_EVENTS_ARCHIVED, decision.result.n_events, stream)
        for tel_id, n in reduced.n_events_reduced.items():
            acc.add(TELESCOPE_EVENTS_REDUCED, n, stream, self.tel_types[tel_id])
        event_tables = [
            (paths.SIMULATION_SHOWER, truth.showers, SHOWER_UNITS),
            (paths.DL0_SUBARRAY_TRIGGER, decision.result.trigger_table(obs_id), TRIGGER_UNITS),
            (paths.DL0_TELESCOPE_TRIGGER, decision.result.telescope_trigger_table(obs_id), TELESCOPE_TRIGGER_UNITS),
        ]
        for tel_id, rows in reduced.impact.items():
            event_tables.append((paths.tel_table_path(paths.SIMULATION_IMPACT, tel_id), rows, IMPACT_UNITS))
        for path, rows, units in event_tables:
            if rows.size:
                rates.add(STAGE_DL0_ARCHIVED, w.append_table(path, rows, units), stream=stream)
        pointing = np.array([(truth.t_stop, *self.pointing)], dtype=POINTING_DTYPE)
        technical = [(paths.DL0_MONITORING_POINTING, pointing, {"time": "s", "pointing_alt": "deg", "pointing_az": "deg"})]
        mon = reduced.monitoring
        for i, tel_id in enumerate(mon["tel_id"].tolist()):
            for group, columns in ((paths.DL0_MONITORING_TRIGGER_RATES, TRIGGER_RATE_COLUMNS),
                                   (paths.DL0_MONITORING_PEDESTAL, PEDESTAL_COLUMNS)):
                rows = repack_fields(mon[i:i + 1][list(columns)])
                units = {c: u for c, u in MONITORING_UNITS.items() if c in columns}
                technical.append((paths.tel_table_path(group, tel_id), rows, units))
        technical.append((paths.DL0_MONITORING_WEATHER, weather_record(truth.t_stop, self.seed, stream, block_index),
                          {"time": "s", "temperature": "deg_C", "relative_humidity": "%", "wind_speed": "m / s"}))
        for path, rows, units in technical:
            rates.add(STAGE_TECHNICAL, w.append_table(path, rows, units), stream=stream)
        timing = dict(reduced.timing, source=truth.seconds, central_trigger=decision.seconds,
                      archiver=time.perf_counter() - t0)
        return Ack(stream, block_index, acc.to_dict(), rates.to_dict(), timing, reduced.waveform_pixels)

    def close(self) -> list[str]:
        """Complete every archive (shower distribution table, checksum, atomic rename)."""
        files = []
        for stream, w in self.writers.items():
            p = self.populations[stream]
            index = p["spectrum"].get("index", np.nan)
            dist = np.array([(p["obs_id"], p["particle"], p["n_showers"], p["energy_min_tev"],
                              p["energy_max_tev"], index, p["max_scatter_m"], 0.0, p["viewcone_deg"],
                              p["source_offset_deg"])], dtype=DISTRIBUTION_DTYPE)
            w.append_table(paths.SIMULATION_SHOWER_DISTRIBUTION, dist, DISTRIBUTION_UNITS)
            files.append(str(w.close()))
        self.writers = {}
        return files

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()
        self.writers = {}


def weather_record(time_s: float, seed: int, stream: str, block_index: int) -> np.ndarray:
    """A toy weather-station record (temperature, humidity, wind), deterministic per block."""
    rng = block_rng(seed, f"weather/{stream}", block_index)
    dtype = [("time", "f8"), ("temperature", "f4"), ("relative_humidity", "f4"), ("wind_speed", "f4")]
    return np.array([(time_s, 10.0 + rng.normal(0, 0.5), 30.0 + rng.normal(0, 2), abs(rng.normal(5, 2)))], dtype)

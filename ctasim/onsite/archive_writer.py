"""Run archiver: one DL0 archive per stream (``ctasim.io.archive``) with its side tables.

Per block it stores the DL0 blocks of the archived variant, then the event side tables (shower
truth, stereo and camera triggers, truth impacts: metered as ``dl0_archived``) and the technical
data (pointing, weather, per-telescope trigger rates and pedestals, per-pixel pedestal std:
``technical_data``) in the archive journal (``archive_journal``), once per (stream, block index): a
block received again (a restarted archiver, a resubmitted or resumed block) is not stored again and
gets its first acknowledgement back. ``close`` merges the journal in block order into one file per
stream, adds the shower distribution of each stream's population (and, when pixel faults were
injected, their truth per telescope: ``/simulation/service/pixel_faults``) and completes the files;
the journal stays until the run is complete (``ArchiveJournal.remove``). Every read-out event is
counted as archived, so the accounting closes; a pedestal row without pedestal events is left out
and counted (``monitoring_rows_left_out.pedestal``), never written as NaN.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.recfunctions import repack_fields

from ..accounting import (
    ARRAY_EVENTS_ARCHIVED,
    MONITORING_ROWS_LEFT_OUT,
    STAGE_DL0_ARCHIVED,
    STAGE_TECHNICAL,
    TELESCOPE_EVENTS_ARCHIVED,
    TELESCOPE_EVENTS_REDUCED,
    Accounting,
)
from ..datamodel import paths
from ..datamodel.monitoring import (
    CAMERA_MONITORING_UNITS,
    PEDESTAL_COLUMNS,
    PIXEL_PEDESTAL_UNITS,
    POINTING_UNITS,
    TRIGGER_RATE_COLUMNS,
    WEATHER_UNITS,
    units_of,
)
from ..datamodel.simulation import (
    DISTRIBUTION_DTYPE,
    DISTRIBUTION_UNITS,
    IMPACT_UNITS,
    PIXEL_FAULT_UNITS,
    SHOWER_UNITS,
    ShowerTruth,
)
from ..datamodel.trigger import TELESCOPE_TRIGGER_UNITS, TRIGGER_UNITS
from ..instrument.subarray import SubarrayDescription
from ..io.archive import DL0ArchiveWriter
from ..io.provenance import make_provenance
from ..sim.pixel_faults import PixelFaultModel
from ..sim.source import Population
from ..spectra import PowerLaw
from .archive_journal import ArchiveJournal, JournalEntry
from .central_trigger import Decision
from .reducer import Reduced
from .technical import pointing_record, weather_record

MONITORING_TABLES = (
    (paths.DL0_MONITORING_TRIGGER_RATES, TRIGGER_RATE_COLUMNS),
    (paths.DL0_MONITORING_PEDESTAL, PEDESTAL_COLUMNS),
)


@dataclass
class Ack:
    """What the archiver reports per block: counts, bytes per stage, kept waveform pixels, wall times."""

    stream: str
    block_index: int
    accounting: dict  # Accounting.to_dict()
    rates: dict       # RateMeter.raw_dict()
    waveform_pixels: dict[str, list[int]]
    timing: dict[str, float] = field(default_factory=dict)  # wall seconds per stage, set by the hosts
    archived_unix_s: float = 0.0  # wall clock when the block was stored (metering), set by the host


def shower_distribution(population: Population) -> np.ndarray:
    """The ``/simulation/service/shower_distribution`` row of a population (DISTRIBUTION_DTYPE);
    ``spectral_index`` is NaN when the simulated spectrum is not a power law."""
    spectrum = population.validate()
    index = spectrum.index if isinstance(spectrum, PowerLaw) else np.nan
    return np.array([(population.obs_id, population.particle, population.n_showers, population.energy_min_tev,
                      population.energy_max_tev, index, population.max_scatter_m, 0.0, population.viewcone_deg,
                      population.source_offset_deg)], DISTRIBUTION_DTYPE)


class RunArchiver:
    """One DL0 archive per stream under ``run_dir/dl0``, named after the scenario, stream and obs_id;
    ``pointing`` (alt, az) deg of the array; ``pixel_faults`` the injected pixel faults (their truth is
    archived); ``close()`` completes them all, ``abort()`` removes a file being completed (the journal
    stays, for ``ctasim run --resume``)."""

    def __init__(self, run_dir: str | Path, subarray: SubarrayDescription, scenario: Mapping[str, Any], seed: int,
                 populations: Sequence[Population], pointing: tuple[float, float],
                 pixel_faults: PixelFaultModel | None = None) -> None:
        self.dir = Path(run_dir) / "dl0"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.journal = ArchiveJournal(run_dir)
        self.journal.remove_temporaries()  # what a killed archiver was writing
        self.subarray = subarray
        self.scenario, self.seed = scenario, int(seed)
        self.populations = {p.name: p for p in populations}
        self.pointing = (float(pointing[0]), float(pointing[1]))
        self.writer: DL0ArchiveWriter | None = None
        self.pixel_faults = pixel_faults or PixelFaultModel()
        self.tel_types = dict(zip(subarray.tel_ids.tolist(), subarray.size_classes().tolist()))

    def path(self, stream: str) -> Path:
        """The final DL0 file of a stream."""
        return self.dir / f"{self.scenario['name']}_{stream}_obs{self.populations[stream].obs_id:06d}.dl0.h5"

    def append(self, stream: str, block_index: int, truth: ShowerTruth, decision: Decision, reduced: Reduced) -> Ack:
        """Archive one block (DL0 blocks, event side tables, technical data) unless it is archived
        already; its counts and bytes in the Ack (the first one, for a block received again)."""
        if self.journal.has(stream, block_index):
            return Ack(**self.journal.read_ack(stream, block_index))
        obs_id = self.populations[stream].obs_id
        acc = decision.accounting
        rates = decision.rates.merge(reduced.rates)
        for block in reduced.blocks:
            tel_type = self.tel_types[block.tel_id]
            acc.add(TELESCOPE_EVENTS_ARCHIVED, block.n_events, stream, tel_type)
            rates.add(STAGE_DL0_ARCHIVED, block.nbytes, block.n_events, tel_type, block.tel_id, stream)
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
        event_tables = [t for t in event_tables if t[1].size]
        for _, rows, _ in event_tables:
            rates.add(STAGE_DL0_ARCHIVED, rows.nbytes, stream=stream)
        technical = self._technical(stream, block_index, truth, reduced.monitoring, acc, reduced.pixel_pedestal)
        for _, rows, _ in technical:
            rates.add(STAGE_TECHNICAL, rows.nbytes, stream=stream)
        ack = Ack(stream, block_index, acc.to_dict(), rates.raw_dict(), reduced.waveform_pixels)
        # the fields as they are (plain dicts and lists already): dataclasses.asdict deep-copies them all
        fields = {f.name: getattr(ack, f.name) for f in dataclasses.fields(ack)}
        entry = JournalEntry(fields, list(reduced.blocks), event_tables + technical)
        self.journal.write(stream, block_index, entry)
        return ack

    def archived(self) -> list[tuple[str, int]]:
        """(stream, block index) of every block archived so far (in the journal), by stream and block."""
        return [(s, i) for s in self.populations for i in self.journal.block_indices(s)]

    def acks(self, blocks: Sequence[tuple[str, int]]) -> list[Ack]:
        """The acknowledgements of archived blocks (a resumed run's monitor counts them again)."""
        return [Ack(**self.journal.read_ack(s, i)) for s, i in blocks]

    def _technical(self, stream: str, block_index: int, truth: ShowerTruth, monitoring: np.ndarray, acc: Accounting,
                   pixel_pedestal: Mapping[int, np.ndarray]) -> list[tuple[str, np.ndarray, dict[str, str]]]:
        """(path, rows, units) of the block's technical data; pedestal rows without pedestal
        events are left out and counted in ``acc`` (a camera without them sends no pixel rows)."""
        out = [(paths.DL0_MONITORING_POINTING, pointing_record(truth.t_stop, *self.pointing), POINTING_UNITS)]
        for i, tel_id in enumerate(monitoring["tel_id"].tolist()):
            for group, columns in MONITORING_TABLES:
                if group == paths.DL0_MONITORING_PEDESTAL and monitoring["n_pedestal_events"][i] == 0:
                    acc.add(f"{MONITORING_ROWS_LEFT_OUT}.pedestal", 1, stream, self.tel_types[tel_id])
                    continue
                rows = repack_fields(monitoring[i:i + 1][list(columns)])
                out.append((paths.tel_table_path(group, tel_id), rows, units_of(columns, CAMERA_MONITORING_UNITS)))
        for tel_id, row in sorted(pixel_pedestal.items()):
            out.append((paths.tel_table_path(paths.DL0_MONITORING_PIXEL_PEDESTAL, tel_id), row, PIXEL_PEDESTAL_UNITS))
        out.append((paths.DL0_MONITORING_WEATHER, weather_record(truth.t_stop, self.seed, stream, block_index),
                    WEATHER_UNITS))
        return out

    def close(self) -> list[str]:
        """Merge the journal, stream by stream in block order, into the final files (shower
        distribution table, checksum, atomic rename); returns them."""
        files = []
        for stream, population in self.populations.items():
            indices = self.journal.block_indices(stream)
            if not indices:
                continue
            prov = make_provenance(self.scenario["name"], self.scenario, self.seed,
                                   extra={"stream": stream, "obs_id": population.obs_id})
            self.writer = DL0ArchiveWriter(self.path(stream), self.subarray, prov, overwrite=True)
            for block_index in indices:
                entry = self.journal.read(stream, block_index)
                for block, checksum in zip(entry.blocks, entry.checksums):
                    self.writer.append(block, checksum)
                for path, rows, units in entry.tables:
                    self.writer.append_table(path, rows, units)
            self.writer.append_table(paths.SIMULATION_SHOWER_DISTRIBUTION, shower_distribution(population),
                                     DISTRIBUTION_UNITS)
            if not self.pixel_faults.empty:
                for tel_id in self.subarray.tel_ids.tolist():
                    truth = self.pixel_faults.truth(tel_id, self.subarray.tel(tel_id), self.seed)
                    self.writer.append_table(paths.tel_table_path(paths.SIMULATION_PIXEL_FAULTS, tel_id), truth,
                                             PIXEL_FAULT_UNITS)
            files.append(str(self.writer.close()))
            self.writer = None
        return files

    def abort(self) -> None:
        """Remove the file being completed, if any (a failed run leaves nothing looking complete)."""
        if self.writer is not None:
            self.writer.abort()
            self.writer = None

"""Run archiver: one verified archive per stream, every side table in its place, nothing NaN,
and the accounting of a library-only run closes."""

from __future__ import annotations

import numpy as np
import pytest
from chain_helpers import run_library_chain, tiny_scenario

from ctasim.accounting import RateMeter
from ctasim.datamodel import paths
from ctasim.datamodel.monitoring import CAMERA_MONITORING_DTYPE, PEDESTAL_COLUMNS, TRIGGER_RATE_COLUMNS
from ctasim.datamodel.simulation import IMPACT_DTYPE, SHOWER_DTYPE, ShowerTruth
from ctasim.io.archive import DL0ArchiveReader
from ctasim.io.verify import verify_file
from ctasim.onsite.archive_writer import RunArchiver, shower_distribution
from ctasim.onsite.camera_station import PEDESTAL_EVENTS_PER_BLOCK, TriggerReport
from ctasim.onsite.central_trigger import CentralTrigger
from ctasim.onsite.reducer import Reduced
from ctasim.sim.source import Population

POINTING = (70.0, 0.0)  # alt, az (deg)


def test_one_verified_archive_per_stream_and_the_accounting_closes(library_run):
    _, files, monitor = library_run
    assert [f.rsplit("/", 1)[1] for f in files] == ["tiny_gamma_obs000001.dl0.h5", "tiny_proton_obs000002.dl0.h5"]
    summary = monitor.summary(files, 1.0, "library")
    assert summary["accounting"]["closed"] is True
    stages = summary["accounting"]["stages"]
    reports = [verify_file(f) for f in files]
    assert all(r.ok for r in reports), [str(p) for r in reports for p in r.problems]
    assert sum(r.events for r in reports) == stages["telescope_events_archived"]["total"] > 0
    assert stages["telescope_events_archived"]["total"] == stages["telescope_events_read_out"]["total"]
    assert "monitoring_rows_left_out.pedestal" not in stages
    assert monitor.n_blocks == 4 and set(summary["rates"]["stages"]) >= {"technical_data", "dl0_archived"}


def test_side_tables_in_their_places(library_run, north):
    scenario, files, _ = library_run
    for path, pop in zip(files, scenario.populations()):
        with DL0ArchiveReader(path) as reader:
            showers, units = reader.read_table(paths.SIMULATION_SHOWER)
            assert showers.dtype == SHOWER_DTYPE and showers.size == pop.n_showers and units["true_energy"] == "TeV"
            dist, _ = reader.read_table(paths.SIMULATION_SHOWER_DISTRIBUTION)
            assert dist.tobytes() == shower_distribution(pop).tobytes()
            pointing, _ = reader.read_table(paths.DL0_MONITORING_POINTING)
            weather, _ = reader.read_table(paths.DL0_MONITORING_WEATHER)
            assert pointing.size == weather.size == 2
            assert np.all(pointing["pointing_alt"] == scenario.array.pointing.alt_deg)
            for tel_id in reader.tel_ids:
                archived = reader.read_telescope(tel_id, columns=["event_id"])["event_id"]
                impact, _ = reader.read_table(paths.tel_table_path(paths.SIMULATION_IMPACT, tel_id))
                assert impact.dtype == IMPACT_DTYPE and sorted(impact["event_id"]) == sorted(archived)
            for tel_id in north.tel_ids.tolist():
                rates, _ = reader.read_table(paths.tel_table_path(paths.DL0_MONITORING_TRIGGER_RATES, tel_id))
                ped, units = reader.read_table(paths.tel_table_path(paths.DL0_MONITORING_PEDESTAL, tel_id))
                assert rates.dtype.names == TRIGGER_RATE_COLUMNS and ped.dtype.names == PEDESTAL_COLUMNS
                assert rates.size == ped.size == 2 and units["pedestal_mean_adc"] == "adu"
                assert np.all(ped["n_pedestal_events"] == PEDESTAL_EVENTS_PER_BLOCK)
                assert not any(np.isnan(ped[c]).any() for c in ("pedestal_mean_adc", "pedestal_std_adc"))
                baseline = north.tel(tel_id).camera.readout.pedestal_adc
                assert np.allclose(ped["pedestal_mean_adc"], baseline, rtol=0.03)


def test_pedestal_rows_without_pedestal_events_are_left_out_and_counted(tmp_path, north):
    scenario = tiny_scenario(tmp_path, n_showers=75)
    files, monitor = run_library_chain(scenario, north, n_pedestal_events=0)
    summary = monitor.summary(files, 1.0, "library")
    assert summary["accounting"]["closed"] is True
    left_out = summary["accounting"]["stages"]["monitoring_rows_left_out.pedestal"]
    assert left_out["total"] == 2 * north.n_tels  # two streams of one block
    assert left_out["by_tel_type"] == {"LST": 2 * 4, "MST": 2 * 9}
    for path in files:
        with DL0ArchiveReader(path) as reader:
            assert not any(p.startswith(paths.DL0_MONITORING_PEDESTAL) for p in reader.dataset_paths())
            assert reader.has_table(paths.tel_table_path(paths.DL0_MONITORING_TRIGGER_RATES, 1))


def test_shower_distribution_of_a_population():
    pop = Population("gamma", "gamma", {"type": "power_law", "index": -2.2}, n_showers=500, energy_min_tev=0.02,
                     energy_max_tev=200.0, max_scatter_m=800.0, viewcone_deg=5.0, source_offset_deg=0.5, obs_id=4)
    row = shower_distribution(pop)[0]
    assert row.tolist() == (4, b"gamma", 500, 0.02, 200.0, -2.2, 800.0, 0.0, 5.0, 0.5)
    assert shower_distribution(Population("crab", "gamma", {"type": "crab_hegra"}))["spectral_index"][0] == -2.62
    bent = Population("crab", "gamma", {"type": "crab_log_parabola"})
    assert np.isnan(shower_distribution(bent)["spectral_index"][0])  # not a power law


@pytest.fixture
def empty_block(north):
    """One block in which no camera triggered: its decision and (empty) reduced data."""
    truth = ShowerTruth("gamma", 0, np.zeros(3, SHOWER_DTYPE), 0.0, 0.5)
    none = TriggerReport(np.zeros(0, np.int16), np.zeros(0, np.int64), np.zeros(0))
    decision = CentralTrigger(north, 2, 1000.0, POINTING).decide("gamma", 0, truth, none)
    reduced = Reduced([], RateMeter(), {}, np.zeros(0, CAMERA_MONITORING_DTYPE), {}, {})
    return truth, decision, reduced


def test_an_aborted_run_leaves_no_archive_file_and_keeps_its_journal(tmp_path, north, empty_block):
    pop = Population("gamma", "gamma")
    archiver = RunArchiver(tmp_path, north, {"name": "aborted"}, 1, [pop], POINTING)
    ack = archiver.append("gamma", 0, *empty_block)
    assert ack.accounting["stages"]["showers_simulated"]["total"] == 3 and ack.timing == {}
    archiver.abort()
    assert not list((tmp_path / "dl0").glob("*.h5*"))
    assert archiver.archived() == [("gamma", 0)]  # kept for `ctasim run --resume`


def test_a_block_received_again_is_archived_once(tmp_path, north, empty_block):
    """A restarted archiver (a new instance on the same run) gets block 0 again: the first ack comes
    back, nothing is stored twice, and a half-written journal file of the dead one is removed."""
    pop = Population("gamma", "gamma")
    first = RunArchiver(tmp_path, north, {"name": "again"}, 1, [pop], POINTING)
    ack = first.append("gamma", 0, *empty_block)
    stale = first.journal.path("gamma", 1).with_suffix(".npz.tmp")
    stale.write_bytes(b"half")
    again = RunArchiver(tmp_path, north, {"name": "again"}, 1, [pop], POINTING)
    assert not stale.exists()
    assert again.append("gamma", 0, *empty_block) == ack
    assert again.acks(again.archived()) == [ack]
    (path,) = again.close()
    with DL0ArchiveReader(path) as reader:
        showers, _ = reader.read_table(paths.SIMULATION_SHOWER)
    assert showers.size == 3

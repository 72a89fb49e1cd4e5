"""Run monitor: acks of every block add up; the summary says whether the accounting closes."""

from __future__ import annotations

from chain_helpers import tiny_scenario

from ctasim.accounting import ARRAY_EVENTS, SHOWERS_ARRAY_TRIGGERED, SHOWERS_SIMULATED, Accounting, RateMeter
from ctasim.onsite.archive_writer import Ack
from ctasim.onsite.monitor import RunMonitor


def ack(block_index: int, n_showers: int, n_triggered: int) -> Ack:
    acc = Accounting()
    acc.add(SHOWERS_SIMULATED, n_showers, "gamma")
    acc.add(SHOWERS_ARRAY_TRIGGERED, n_triggered, "gamma")
    acc.add(ARRAY_EVENTS, n_triggered, "gamma")
    rates = RateMeter()
    rates.add("dl0_archived", 1000 * n_triggered, n_triggered, stream="gamma")
    rates.add_time_span(block_index * 0.5, (block_index + 1) * 0.5, "gamma")
    return Ack("gamma", block_index, acc.to_dict(), rates.to_dict(), {"integrated": [0, 100]},
               {"camera": 1.5, "archiver": 0.25})


def test_acks_add_up_and_an_open_balance_is_reported(tmp_path, north):
    monitor = RunMonitor(tiny_scenario(tmp_path).to_dict(), north)
    monitor.record(ack(0, 10, 4))
    monitor.record(ack(1, 10, 6))
    assert monitor.n_blocks == 2 and monitor.waveform_pixels == {"integrated": [0, 200]}
    assert monitor.stage_seconds == {"camera": 3.0, "archiver": 0.5}
    assert monitor.accounting.total(SHOWERS_SIMULATED) == 20 and monitor.rates.stream_seconds("gamma") == 1.0
    summary = monitor.summary([], 2.0, "local")
    assert summary["rates"]["stages"]["dl0_archived"]["bytes"] == 10_000
    # 20 simulated showers but only 10 in a final state: the summary says so, it does not raise
    assert summary["accounting"]["closed"] is False

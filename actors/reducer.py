"""OnsiteReducer actor: reduces the read-out R1 events of a block to DL0 (ctasim.dl0.reduction).

The first configuration is the archived variant; further ones (``compare_variants``) are run on
the same events and only metered, so the report can compare reduction strategies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ctasim.accounting import RateMeter, reduction_stage
from ctasim.datamodel.dl0 import EncodedBlock
from ctasim.datamodel.r1 import TelescopeEvents
from ctasim.dl0.reduction import OnsiteReducer, ReductionConfig
from ctasim.instrument.subarray import SubarrayDescription

from .camera import Readout

IMPACT_DTYPE = np.dtype([("obs_id", "i4"), ("event_id", "i8"), ("tel_id", "i2"),
                         ("impact_distance", "f4"), ("true_image_intensity", "f4")])


@dataclass
class Reduced:
    """DL0 blocks of one block's read-out events, with bytes per step, truth and monitoring rows."""

    blocks: list[EncodedBlock]
    rates: RateMeter
    impact: dict[int, np.ndarray]
    monitoring: np.ndarray
    timing: dict[str, float]
    n_events_reduced: dict[int, int]
    waveform_pixels: dict[str, list[int]]  # variant -> [pixels with waveform kept, pixels seen]


def impact_rows(events: TelescopeEvents) -> np.ndarray:
    """Rows of ``/simulation/event/telescope/impact/tel_NNN`` for read-out events."""
    rows = np.zeros(events.n_events, IMPACT_DTYPE)
    rows["obs_id"], rows["event_id"], rows["tel_id"] = events.obs_id, events.event_id, events.tel_id
    rows["impact_distance"] = events.impact_distance
    rows["true_image_intensity"] = events.true_image.sum(axis=1)
    return rows


class ReducerActor:
    """Reduces every telescope's accepted events with the archived and comparison variants."""

    def __init__(self, subarray: SubarrayDescription, configs: list[ReductionConfig]) -> None:
        self.reducers = [OnsiteReducer(subarray, c) for c in configs]
        self.tel_types = dict(zip(subarray.tel_ids.tolist(), subarray.size_classes().tolist()))

    def reduce(self, stream: str, block_index: int, *readouts: Readout) -> Reduced:
        t0 = time.perf_counter()
        blocks, impact, reduced, pixels = [], {}, {}, {}
        rates = RateMeter()
        for readout in readouts:
            for tel_id, events in readout.events.items():
                if events.n_events == 0:
                    continue
                tel_type = self.tel_types[tel_id]
                for k, reducer in enumerate(self.reducers):
                    block, stats = reducer.reduce(events, stream, block_index)
                    for step, nbytes in stats.bytes.items():
                        rates.add(reduction_stage(stats.variant, step), nbytes, events.n_events, tel_type, tel_id,
                                  stream)
                    n_pix = stats.n_events * stats.n_pixels
                    kept, seen = pixels.get(stats.variant, (0, 0))
                    pixels[stats.variant] = [kept + round(stats.kept_waveform_fraction * n_pix), seen + n_pix]
                    if k == 0:
                        blocks.append(block)
                impact[tel_id] = impact_rows(events)
                reduced[tel_id] = events.n_events
        monitoring = np.concatenate([r.monitoring for r in readouts])
        timing = {"camera": sum(r.seconds for r in readouts), "reducer": time.perf_counter() - t0}
        return Reduced(blocks, rates, impact, monitoring, timing, reduced, pixels)

"""Benchmark R1 -> (charge, peak time) of ctasim against ctapipe's CameraCalibrator, and the
on-site reducer, on the same toy LST events (1855 pixels, 40 samples, 2 gains), on one core.

    python scripts/bench_calibration.py [--events 200]

ctapipe is given the calibrated, gain-selected R1 waveforms ctasim computes (its R1 level), so
its time excludes the pedestal / gain / gain-selection work that the ctasim time includes.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ctasim.ctapipe_compat import to_ctapipe_subarray
from ctasim.datamodel.r1 import TelescopeEvents
from ctasim.dl0.calibration import calibrate_waveforms, r1_to_dl1
from ctasim.dl0.extraction import resolve_settings
from ctasim.dl0.reduction import VARIANTS, OnsiteReducer, ReductionConfig
from ctasim.dl0.testing import synthetic_r1, toy_images
from ctasim.instrument.config import load_subarray
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.instrument.telescope import TelescopeDescription

LST_TYPE = "LST_LST_LSTCam"


def _block_times(func, repeat: int) -> np.ndarray:
    """Wall times (s) of ``repeat`` calls after one warm-up call."""
    func()
    times = np.empty(repeat)
    for i in range(repeat):
        t0 = time.perf_counter()
        func()
        times[i] = time.perf_counter() - t0
    return times


def _ctapipe_us_per_event(tel, waveforms: np.ndarray, gain: np.ndarray, n_events: int) -> float:
    """Median µs per event of CameraCalibrator (NeighborPeakWindowSum) on R1 events."""
    from ctapipe.calib import CameraCalibrator
    from ctapipe.containers import ArrayEventContainer, R1CameraContainer
    from ctapipe.image.extractor import NeighborPeakWindowSum

    subarray = to_ctapipe_subarray(tel)
    calibrator = CameraCalibrator(subarray, image_extractor=NeighborPeakWindowSum(subarray))
    n_pix = waveforms.shape[1]
    times = []
    for e in range(n_events):
        event = ArrayEventContainer()
        event.r1.tel[1] = R1CameraContainer(waveform=waveforms[e][None],
                                            selected_gain_channel=gain[e].astype(np.int8),
                                            pixel_status=np.zeros(n_pix, np.uint8))
        event.monitoring.tel[1].camera.coefficients.outlier_mask = np.zeros((2, n_pix), bool)
        t0 = time.perf_counter()
        calibrator(event)
        times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]) * 1e6)


def lst_events(
    n_events: int, seed: int = 1
) -> tuple[SubarrayDescription, TelescopeDescription, TelescopeEvents]:
    """(north_alpha subarray, its first LST, toy R1 events of that LST)."""
    subarray = load_subarray("north_alpha")
    tel_id = int(subarray.tel_ids_of_type(LST_TYPE)[0])
    tel = subarray.tel(tel_id)
    rng = np.random.default_rng(seed)
    charge, times = toy_images(tel, n_events, rng)
    return subarray, tel, synthetic_r1(tel, charge, times, rng, tel_id=tel_id)


def bench_r1_to_dl1(tel: TelescopeDescription, events: TelescopeEvents, repeat: int = 5, n_ctapipe: int = 100) -> dict:
    """µs per event of R1 -> (charge, peak time): ctasim's ``r1_to_dl1`` (best and median of
    ``repeat`` block runs) for neighbor_peak (7/3) and local_peak, and ctapipe's
    CameraCalibrator with NeighborPeakWindowSum (median over ``n_ctapipe`` events; None
    without ctapipe)."""
    n_events = len(events.waveform)
    result: dict = {"n_events": n_events, "camera": tel.camera_name,
                    "waveform_shape": list(events.waveform.shape[1:])}
    for method in ("neighbor_peak", "local_peak"):
        settings = resolve_settings(tel.camera_name, method, 7 if method == "neighbor_peak" else None,
                                    3 if method == "neighbor_peak" else None)
        times = _block_times(lambda s=settings: r1_to_dl1(events.waveform, tel, s), repeat) / n_events * 1e6
        result[f"ctasim_{method}_us_per_event"] = float(times.min())
        result[f"ctasim_{method}_median_us_per_event"] = float(np.median(times))
    wf, gain = calibrate_waveforms(events.waveform, tel.camera.readout)
    try:
        result["ctapipe_neighbor_peak_us_per_event"] = _ctapipe_us_per_event(
            tel, wf, gain, min(n_events, n_ctapipe))
        result["speedup_neighbor_peak"] = (result["ctapipe_neighbor_peak_us_per_event"]
                                           / result["ctasim_neighbor_peak_us_per_event"])
    except ImportError:
        result["ctapipe_neighbor_peak_us_per_event"] = None
    return result


def bench_calibration(n_events: int = 200, seed: int = 1) -> dict:
    """Timings (µs per event, events/s) and compression factors on toy LST events."""
    subarray, tel, events = lst_events(n_events, seed)
    result = bench_r1_to_dl1(tel, events)

    reducer = {}
    for variant in VARIANTS + ("pixel_selection_window20",):
        cfg = (ReductionConfig.for_variant("pixel_selection", window_samples=20, variant=variant)
               if variant.endswith("window20") else ReductionConfig.for_variant(variant))
        red = OnsiteReducer(subarray, cfg)
        red.reduce(events, "bench", 0)
        t0 = time.perf_counter()
        _, stats = red.reduce(events, "bench", 0)
        total = time.perf_counter() - t0
        reducer[variant] = {
            "events_per_s": n_events / total,
            "events_per_s_per_step": stats.events_per_second(),
            "factors": stats.factors(),
            "kept_waveform_fraction": stats.kept_waveform_fraction,
            "bytes_per_event": {k: v / n_events for k, v in stats.bytes.items()},
        }
    result["reducer"] = reducer
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(bench_calibration(args.events), indent=2, default=float))


if __name__ == "__main__":
    main()

"""Lossless DL0 codecs: every codec gives back every DL0 column bit for bit; delta coding's transform."""

import numpy as np
import pytest

from ctasim.datamodel import codecs
from ctasim.dl0.calibration import r1_to_dl1
from ctasim.errors import CtasimError


@pytest.fixture(scope="module")
def dl0_columns(lst_block, north):
    """One array of every DL0 column's dtype and shape, from realistic toy LST events (pedestal, noise,
    pulses), plus edge cases: uint16 samples jumping across the whole range, empty arrays."""
    events = lst_block[0]
    charge, peak_time, gain = r1_to_dl1(events.waveform, north.tel(events.tel_id))
    waveform = np.ascontiguousarray(np.moveaxis(events.waveform[:10], 1, 2).reshape(-1, 2, events.waveform.shape[-1]))
    rng = np.random.default_rng(5)
    wrap = np.array([[[0, 65535, 1, 65534, 0, 32768, 32767, 65535]]], np.uint16)
    return {
        "waveform": waveform,                                          # uint16 [n_kept, n_ch, n_w]
        "waveform_gain_selected": np.ascontiguousarray(waveform[:, :1]),
        "waveform_wrap": wrap,
        "charge": charge,                                              # float32 [n, n_pix]
        "charge_f16": charge.astype(np.float16),
        "peak_time": peak_time,
        "charge_coded": np.rint(charge * 2).astype(np.int16),          # coded charges
        "pixel_mask": charge > 8,                                      # bool [n, n_pix]
        "event_id": np.asarray(events.event_id, np.int64),
        "event_id_extremes": np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, -1, 0], np.int64),
        "trigger_time": np.asarray(events.trigger_time, np.float64),
        "gain_channel": gain.reshape(-1)[:500].astype(np.uint8),
        "window_start": rng.integers(0, 20, 60).astype(np.uint16),
        "empty_waveform": np.zeros((0, 1, 40), np.uint16),
        "empty_ids": np.zeros(0, np.int64),
        "empty_charge": np.zeros((0, 1855), np.float32),
        "empty_mask": np.zeros((0, 1855), np.bool_),
    }


@pytest.mark.parametrize("codec", codecs.CODECS)
def test_codec_round_trip_is_bit_exact(dl0_columns, codec):
    for name, array in dl0_columns.items():
        payload = codecs.encode(codec, array)
        out = codecs.decode(codec, payload, array.dtype.str, array.shape)
        assert out.dtype == array.dtype and out.shape == array.shape, name
        assert out.tobytes() == array.tobytes(), f"{codec} changed {name}"


@pytest.mark.parametrize("codec", [c for c in codecs.CODECS if c != "none"])
def test_codec_compresses_waveforms(dl0_columns, codec):
    waveform = dl0_columns["waveform"]
    assert len(codecs.encode(codec, waveform)) < 0.8 * waveform.nbytes


def test_delta_coding_known_answer():
    a = np.array([[100, 101, 99, 99], [0, 65535, 0, 1]], np.uint16)
    # first value, then zigzag(difference): +1 -> 2, -2 -> 3, 0 -> 0, -1 -> 1
    np.testing.assert_array_equal(codecs.delta_encode(a), [[200, 2, 3, 0], [0, 1, 2, 2]])
    np.testing.assert_array_equal(codecs.delta_decode(codecs.delta_encode(a), a.dtype), a)
    for passthrough in (np.array([1.5, 2.5], np.float32), np.array([True, False]), np.array([[7], [9]], np.uint16)):
        np.testing.assert_array_equal(codecs.delta_encode(passthrough), passthrough)


def test_delta_coding_shrinks_smooth_samples():
    ramp = (1000 + 3 * np.arange(4000)).astype(np.uint16).reshape(100, 1, 40)
    assert len(codecs.encode("delta-zstd", ramp)) < len(codecs.encode("zstd", ramp))


def test_unknown_codec_is_refused():
    with pytest.raises(CtasimError, match="unknown codec 'delta-none'"):
        codecs.encode("delta-none", np.zeros(3))

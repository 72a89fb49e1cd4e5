"""Lossy charge and peak-time storage: every coding keeps its stated error bound, on random and on
simulated charges, and saves real bytes; charges of the selected pixels only; the byte accounting."""

import numpy as np
import pytest

from ctasim.datamodel import charge_coding, codecs
from ctasim.dl0.calibration import r1_to_dl1
from ctasim.dl0.reduction import OnsiteReducer, ReductionConfig, calibrate_dl0
from ctasim.errors import CtasimError

#: float32 rounding of a decoded value (relative)
F32 = 2.0**-23


def _random_charges(rng):
    return np.concatenate([
        rng.normal(0.0, 1.3, 20000),                    # noise: negative charges too
        np.exp(rng.uniform(np.log(0.1), np.log(3e4), 20000)),
        [0.0, -50.0, -1e-6, 1e-6, 1e5],
    ])


@pytest.mark.parametrize("step", [0.1, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("q0", [0.5, 1.5, 4.0])
def test_poisson_coding_keeps_its_bound_on_random_charges(step, q0):
    q = _random_charges(np.random.default_rng(int(step * 10 + q0 * 100)))
    codes = charge_coding.poisson_encode(q, step, q0)
    assert codes.dtype == np.int16
    decoded = charge_coding.decode_values(charge_coding.spec("poisson", step=step, q0_pe2=q0), codes)
    assert decoded.dtype == np.float32
    err = np.abs(decoded.astype(np.float64) - q)
    bound = charge_coding.poisson_error_bound(q, step, q0)
    assert np.all(err <= bound + F32 * np.abs(q))
    assert np.max(err / bound) > 0.9      # the bound is tight: the coding spends its error budget
    noise = np.sqrt(np.maximum(q, 0) + q0)
    assert np.max(err / noise) <= step / 2 + step**2 / 16 / np.sqrt(q0) + 1e-6


def test_poisson_transform_is_smooth_and_monotonic():
    q = np.linspace(-20, 200, 100001)
    y = charge_coding.poisson_transform(q, 1.5)
    assert np.all(np.diff(y) > 0)
    np.testing.assert_allclose(charge_coding.poisson_inverse(y, 1.5), q, atol=1e-9)
    eps = 1e-6
    left, zero, right = charge_coding.poisson_transform(np.array([-eps, 0.0, eps]), 1.5)
    assert (right - zero) / eps == pytest.approx((zero - left) / eps, rel=1e-5)   # no kink at q = 0


def test_codes_widen_to_int32_and_refuse_non_finite():
    q = np.array([0.0, 1e7])
    codes = charge_coding.poisson_encode(q, 0.1, 1.5)
    assert codes.dtype == np.int32
    decoded = charge_coding.decode_values(charge_coding.spec("poisson", step=0.1, q0_pe2=1.5), codes)
    assert np.all(np.abs(decoded - q) <= charge_coding.poisson_error_bound(q, 0.1, 1.5) + F32 * q)
    with pytest.raises(CtasimError, match="non-finite"):
        charge_coding.poisson_encode(np.array([1.0, np.nan]), 0.5, 1.5)
    with pytest.raises(CtasimError, match="int32 range"):
        charge_coding.step_encode(np.array([1e12]), 0.25)
    with pytest.raises(CtasimError, match="value coding 'zfp'"):
        charge_coding.decode_values({"scheme": "zfp"}, codes)


@pytest.mark.parametrize("step", [0.1, 0.25, 1.0])
def test_step_coding_keeps_its_bound(step):
    t = np.random.default_rng(3).uniform(-5.0, 80.0, 10000)
    codes = charge_coding.step_encode(t, step)
    decoded = charge_coding.decode_values(charge_coding.spec("step", step=step), codes)
    err = np.abs(decoded - t)
    assert np.all(err <= step / 2 + F32 * np.abs(t)) and np.max(err) > 0.45 * step


def test_float16_keeps_its_bound(lst_block, north):
    q = _random_charges(np.random.default_rng(9))
    q = q[np.abs(q) <= 65504]
    stored = OnsiteReducer(north, ReductionConfig.for_variant("integrated", float_dtype="float16"))
    block, _ = stored.reduce(lst_block[0], "gamma", 0)
    assert block.dtypes["charge"] == "<f2"
    x16 = ReductionConfig(float_dtype="float16").value_columns(q, q)[0]["charge"]
    err = np.abs(x16.astype(np.float64) - q)
    assert np.all(err <= np.maximum(2.0**-11 * np.abs(q), 2.0**-25))
    big = ReductionConfig(float_dtype="float16").value_columns(np.array([1e6, -1e6]), np.zeros(2))[0]["charge"]
    assert big.tolist() == [65504.0, -65504.0]


LOSSY = {
    "poisson": dict(charge_coding="poisson", peak_time_step_ns=0.25),
    "poisson_coarse": dict(charge_coding="poisson", charge_step_sigma=1.0, charge_q0_pe2=2.0),
    "poisson_sparse": dict(charge_coding="poisson", peak_time_step_ns=0.25, keep_unselected_charges=False),
}


def _check_lossy(block, cfg, charge, peak_time):
    """Decoded charges and peak times of a block within the coding's bounds of the exact ones."""
    cols = block.decode()
    mask = cols["pixel_mask"] if cfg.sparse_charges else np.ones(charge.shape, bool)
    q, t = charge[mask].astype(np.float64), peak_time[mask].astype(np.float64)
    assert block.dtypes["charge"] == "<i2" and cols["charge"].dtype == np.float32
    bound = charge_coding.poisson_error_bound(q, cfg.charge_step_sigma, cfg.charge_q0_pe2)
    assert np.all(np.abs(cols["charge"].ravel() - q) <= bound + F32 * np.abs(q))
    if cfg.peak_time_step_ns is not None:
        assert block.dtypes["peak_time"] == "<i2"
        assert np.all(np.abs(cols["peak_time"].ravel() - t) <= cfg.peak_time_step_ns / 2 + F32 * t)
    else:
        np.testing.assert_array_equal(cols["peak_time"].ravel(), peak_time[mask])


@pytest.mark.parametrize("name", list(LOSSY))
@pytest.mark.parametrize("tel_id", [1, 5])
def test_lossy_coding_on_simulated_charges(simulated_events, north, name, tel_id):
    events = simulated_events[tel_id]
    assert events.n_events > 10
    charge, peak_time, _ = r1_to_dl1(events.waveform, north.tel(tel_id))
    variant = "pixel_selection" if LOSSY[name].get("keep_unselected_charges") is False else "integrated"
    cfg = ReductionConfig.for_variant(variant, **LOSSY[name])
    block, stats = OnsiteReducer(north, cfg).reduce(events, "gamma", 0)
    _check_lossy(block, cfg, charge, peak_time)
    exact, exact_stats = OnsiteReducer(north, ReductionConfig.for_variant(variant)).reduce(events, "gamma", 0)
    # the bits saved are real: coded charges compress to fewer bytes than float32 ones, also than float16 ones
    f16, _ = OnsiteReducer(north, ReductionConfig.for_variant(variant, float_dtype="float16")).reduce(events, "g", 0)
    assert len(block.payload["charge"]) < len(f16.payload["charge"]) < len(exact.payload["charge"])
    assert stats.bytes["compression"] < exact_stats.bytes["compression"]
    # byte accounting: the stored integers, before and after pixel selection
    assert stats.bytes["pixel_selection"] == block.uncompressed_nbytes()
    ids = 16 * events.n_events
    value_bytes = 2 + (2 if cfg.peak_time_step_ns else 4)
    assert stats.bytes["integration"] == ids + events.n_events * charge.shape[1] * value_bytes
    cols = block.decode()
    image, times = calibrate_dl0(cols, north.tel(tel_id))
    stored = cols["pixel_mask"] if cfg.sparse_charges else slice(None)
    np.testing.assert_array_equal(image[stored], cols["charge"])      # the decoded float32 charges, as they are
    np.testing.assert_array_equal(times[stored], cols["peak_time"])


def test_sparse_charges_keep_selected_pixels_only(lst_block, north):
    events = lst_block[0]
    tel = north.tel(events.tel_id)
    cfg = ReductionConfig.for_variant("pixel_selection", keep_unselected_charges=False)
    block, stats = OnsiteReducer(north, cfg).reduce(events, "gamma", 0)
    full, full_stats = OnsiteReducer(north, ReductionConfig.for_variant("pixel_selection")).reduce(events, "gamma", 0)
    cols, full_cols = block.decode(), full.decode()
    mask = cols["pixel_mask"]
    np.testing.assert_array_equal(mask, full_cols["pixel_mask"])
    charge, peak_time, _ = r1_to_dl1(events.waveform, tel)
    np.testing.assert_array_equal(cols["charge"], charge[mask])        # rows in np.nonzero(mask) order
    np.testing.assert_array_equal(cols["peak_time"], peak_time[mask])
    image, times = calibrate_dl0(cols, tel)
    np.testing.assert_array_equal(image[mask], charge[mask])
    np.testing.assert_array_equal(times[mask], peak_time[mask])
    assert not image[~mask].any() and not times[~mask].any()
    # re-extraction from the stored waveforms still works; the unselected pixels stay 0
    reextracted, _ = calibrate_dl0(cols, tel, method="neighbor_peak")
    assert not reextracted[~mask].any() and np.any(reextracted[mask] != 0)
    n_dropped = mask.size - mask.sum()
    assert full_stats.bytes["pixel_selection"] - stats.bytes["pixel_selection"] == 8 * n_dropped
    assert stats.bytes["integration"] == full_stats.bytes["integration"]
    assert stats.bytes["pixel_selection"] == block.uncompressed_nbytes()
    assert stats.bytes["compression"] == block.nbytes < full.nbytes


def test_decoding_of_older_layouts_unchanged(lst_block, north):
    """A block without value coding (layout 1.0) decodes to the stored floats, untouched."""
    block, _ = OnsiteReducer(north, ReductionConfig.for_variant("integrated")).reduce(lst_block[0], "gamma", 0)
    block.attrs["dl0_layout_version"] = "1.0"
    stored = codecs.decode(block.codec, block.payload["charge"], block.dtypes["charge"], block.shapes["charge"])
    np.testing.assert_array_equal(block.decode()["charge"], stored)
    assert charge_coding.ATTR not in block.attrs


@pytest.mark.parametrize("field, value, message", [
    ("charge_step_sigma", 0.0, "greater than or equal to 0.01"),
    ("charge_q0_pe2", -1.0, "greater than 0"),
    ("peak_time_step_ns", 0.0, "greater than 0"),
    ("charge_coding", "zfp", "'float' or 'poisson'"),
    ("keep_unselected_charges", "maybe", "valid boolean"),
])
def test_new_fields_are_checked(field, value, message):
    with pytest.raises(ValueError, match=message) as err:
        ReductionConfig(**{field: value})
    assert field in str(err.value)

"""On-site data-volume reduction: R1 blocks of one telescope -> losslessly compressed DL0 blocks.

Steps, each switchable in ``ReductionConfig`` (in this order for the byte accounting):

1. readout-window cut: keep ``window_samples`` samples per event, starting ``window_shift``
   samples before the image time (charge-weighted peak time of the pixels above the picture
   threshold, else of the brightest pixel), clipped to the readout;
2. gain selection: keep one channel per pixel (high gain unless it saturates; cameras with two
   channels only);
3. integration: charge (p.e.) and peak time (ns) of every pixel replace the waveforms, stored as
   float32, float16 (``float_dtype``) or, lossy with a stated bound, as integers of a fixed-step
   coding (``charge_coding="poisson"``: steps of ``charge_step_sigma`` x the charge's Poisson noise;
   ``peak_time_step_ns``; see ``datamodel.charge_coding``);
4. pixel selection (``pixel_selection`` module, LST DVR): the selected pixels' waveforms are kept
   (beside the charges of all pixels when integrating, or of the selected pixels only with
   ``keep_unselected_charges=False``; alone, others dropped, when not integrating);
5. lossless compression of every column with a ``codecs`` codec.

Variants (``ReductionConfig.for_variant``): ``raw`` (compressed full R1 waveforms),
``integrated`` (charges and peak times only), ``pixel_selection`` (charges and peak times of all
pixels + gain-selected waveforms of the selected pixels).

DL0 columns of an ``EncodedBlock`` (present when the step that makes them is on):

=============  ===============================  ===============================================
column         dtype, shape                     content
=============  ===============================  ===============================================
event_id       int64 [n]                        always
trigger_time   float64 [n]                      s since run start, always
charge         float32|float16 [n, n_pix]       p.e., when integrating; int16|int32 if coded
                                                (``attrs["value_coding"]``); [n_kept] (rows in
                                                the order of ``np.nonzero(pixel_mask)``) when
                                                the unselected pixels' charges are dropped
peak_time      as charge                        ns from the first R1 sample, when integrating
pixel_mask     bool [n, n_pix]                  pixels whose waveform is stored (pixel selection)
waveform       uint16 [n_kept, n_ch, n_w]       ADC counts of the stored pixels, event-major,
                                                pixel-minor (the order of ``np.nonzero(mask)``;
                                                without pixel selection n_kept = n * n_pix);
                                                n_ch = 1 after gain selection, n_w samples
gain_channel   uint8 [n_kept]                   channel of each stored waveform (gain selection)
window_start   uint16 [n]                       first R1 sample of the stored window (window cut)
=============  ===============================  ===============================================

Block attributes: variant, extraction settings, picture threshold applied, sampling (ns), the
coding of coded columns (``value_coding``; ``EncodedBlock.decode`` gives them back as float32).
``calibrate_dl0`` turns any of these layouts back into (image, peak_time) for every pixel.

Layout versions (attribute ``dl0_layout_version``): 1.0 as above without coded or sparse
charges; 1.1 adds ``value_coding`` and the [n_kept] charge / peak_time rows. Readers of 1.1 read 1.0.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..datamodel import charge_coding, codecs
from ..datamodel.dl0 import EncodedBlock
from ..datamodel.r1 import TelescopeEvents, r1_event_nbytes
from ..errors import CtasimError
from ..instrument.subarray import SubarrayDescription
from ..instrument.telescope import TelescopeDescription
from .calibration import baseline_adc, calibrate_selected_rows, calibrate_waveforms, r1_to_dl1
from .extraction import extract_charge, resolve_settings
from .pixel_selection import (
    MAX_SURVIVAL_FRACTION,
    N_RINGS,
    PICTURE_THRESHOLD_PE,
    dvr_pixel_selection,
)
from .saturation import saturated_charges

VARIANTS = ("raw", "integrated", "pixel_selection")
STAGES = ("r1", "window_cut", "gain_selection", "integration", "pixel_selection", "compression")
DL0_LAYOUT_VERSION = "1.1"


#: the steps each named variant runs
VARIANT_STEPS = {
    "raw": dict(gain_selection=False, integrate=False, pixel_selection=False),
    "integrated": dict(gain_selection=True, integrate=True, pixel_selection=False),
    "pixel_selection": dict(gain_selection=True, integrate=True, pixel_selection=True),
}
Variant = Literal["raw", "integrated", "pixel_selection"]


FLOAT16_MAX = float(np.finfo(np.float16).max)


def _as_float(values: np.ndarray, dtype: str) -> np.ndarray:
    """Values as float32, or float16 (clipped to +-65504, not inf)."""
    if dtype == "float16":
        return np.clip(values, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
    return values.astype(dtype)


class ReductionConfig(BaseModel):
    """Which reduction steps run and how (see the module docstring): the one definition of the
    settings, their defaults and bounds, also used by the scenario's ``reduction`` section.

    Lossy storage of charge and peak time, each with its error bound:

    - ``float_dtype="float16"``: ~3 significant digits, |error| <= max(2^-11 |x|, 2^-25), values
      clipped to +-65504 (beyond the cameras' range) instead of becoming inf;
    - ``charge_coding="poisson"``: each charge q (p.e.) quantised in steps of
      ``charge_step_sigma`` = f times its noise sigma = sqrt(max(q, 0) + q0), q0 = ``charge_q0_pe2``
      (the pedestal variance of a charge, p.e.^2: ~1.5 in LST and NectarCam here), stored as
      int16: |error| <= f/2 sigma + f^2/16 p.e. (``datamodel.charge_coding``);
    - ``peak_time_step_ns``: peak times rounded to that step, stored as int16: |error| <= step/2.

    ``float_dtype`` applies to what is not coded. ``keep_unselected_charges=False`` stores the
    charges and peak times of the selected pixels only (integration with pixel selection; no effect
    otherwise; ``calibrate_dl0`` gives 0 for the others). ``variant`` labels the configuration in
    the byte accounting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: str = "pixel_selection"
    window_samples: int | None = Field(None, gt=0, description="samples kept around the image time")
    window_shift: int | None = Field(None, ge=0, description="samples of the window before the image time")
    gain_selection: bool = True
    integrate: bool = True
    pixel_selection: bool = True
    picture_threshold_pe: float = Field(PICTURE_THRESHOLD_PE, gt=0.0)
    n_rings: int = Field(N_RINGS, ge=0, le=5)
    max_survival_fraction: float = Field(MAX_SURVIVAL_FRACTION, gt=0.0, le=1.0)
    float_dtype: Literal["float32", "float16"] = "float32"
    charge_coding: Literal["float", "poisson"] = "float"
    charge_step_sigma: float = Field(0.5, ge=0.01, le=4.0, description="poisson coding step / charge noise")
    charge_q0_pe2: float = Field(1.5, gt=0.0, le=1.0e4, description="pedestal variance of a charge (p.e.^2)")
    peak_time_step_ns: float | None = Field(None, gt=0.0, le=4.0, description="peak-time coding step (ns)")
    keep_unselected_charges: bool = True
    codec: str = codecs.DEFAULT_CODEC

    @field_validator("codec")
    @classmethod
    def _codec_known(cls, v: str) -> str:
        if v not in codecs.CODECS:
            raise ValueError(f"one of {', '.join(codecs.CODECS)}")
        return v

    @classmethod
    def for_variant(cls, name: str, **overrides: Any) -> ReductionConfig:
        """The named variant's steps, with any field overridden (``variant`` relabels it)."""
        if name not in VARIANT_STEPS:
            raise CtasimError(f"reduction variant {name!r}: expected one of {', '.join(VARIANTS)}")
        return cls(**{"variant": name, **VARIANT_STEPS[name], **overrides})

    @property
    def stores_waveforms(self) -> bool:
        return self.pixel_selection or not self.integrate

    @property
    def sparse_charges(self) -> bool:
        """Whether charges and peak times are stored for the selected pixels only."""
        return self.integrate and self.pixel_selection and not self.keep_unselected_charges

    def value_columns(self, charge: np.ndarray, peak_time: np.ndarray) -> tuple[dict[str, np.ndarray], dict]:
        """The stored charge and peak_time columns and their ``value_coding`` attribute."""
        coding, out = {}, {}
        if self.charge_coding == "poisson":
            out["charge"] = charge_coding.poisson_encode(charge, self.charge_step_sigma, self.charge_q0_pe2)
            coding["charge"] = charge_coding.spec("poisson", step=self.charge_step_sigma, q0_pe2=self.charge_q0_pe2)
        else:
            out["charge"] = _as_float(charge, self.float_dtype)
        if self.peak_time_step_ns is not None:
            out["peak_time"] = charge_coding.step_encode(peak_time, self.peak_time_step_ns)
            coding["peak_time"] = charge_coding.spec("step", step=self.peak_time_step_ns)
        else:
            out["peak_time"] = _as_float(peak_time, self.float_dtype)
        return out, coding


@dataclass
class ReductionStats:
    """Bytes after each step (``STAGES``: uncompressed up to pixel selection), seconds spent per
    step, events, the fraction of pixel waveforms stored and the selection threshold applied."""

    variant: str
    tel_id: int
    n_events: int
    n_pixels: int
    bytes: dict[str, int]
    seconds: dict[str, float]
    kept_waveform_fraction: float
    picture_threshold_pe: float | None = None
    n_full_camera: int = 0
    extra: dict = field(default_factory=dict)

    def factors(self) -> dict[str, float]:
        """Reduction factor from R1 to each stage."""
        return {k: self.bytes["r1"] / v for k, v in self.bytes.items() if v}

    def events_per_second(self) -> dict[str, float]:
        return {k: self.n_events / v for k, v in self.seconds.items() if v > 0}

    def as_dict(self) -> dict:
        return asdict(self) | {"factors": self.factors()}


@njit(cache=True)
def _gather_kernel(adc, mask, gain, window_start, n_w, gain_selected, out, out_gain):
    """Copy the windows of the masked pixels' waveforms (one channel if gain_selected)."""
    n, n_ch, n_pix, _ = adc.shape
    r = 0
    for e in range(n):
        s0 = window_start[e]
        for p in range(n_pix):
            if not mask[e, p]:
                continue
            # sample by sample: slice copies would compile numba's shape-error code (seconds, fresh install)
            if gain_selected:
                g = gain[e, p]
                out_gain[r] = g
                for s in range(n_w):
                    out[r, 0, s] = adc[e, g, p, s0 + s]
            else:
                for c in range(n_ch):
                    for s in range(n_w):
                        out[r, c, s] = adc[e, c, p, s0 + s]
            r += 1


def image_window_start(charge: np.ndarray, peak_time: np.ndarray, threshold_pe: float,
                       sample_width_ns: float, n_samples: int, window_samples: int,
                       window_shift: int) -> np.ndarray:
    """First sample (uint16 [n]) of each event's readout window around its image time."""
    w = np.where(charge > threshold_pe, charge, 0.0).astype(np.float64)
    total = w.sum(axis=1)
    brightest = peak_time[np.arange(len(charge)), np.argmax(charge, axis=1)]
    t_image = np.where(total > 0, (w * peak_time).sum(axis=1) / np.where(total > 0, total, 1.0), brightest)
    start = np.rint(t_image / sample_width_ns).astype(np.int64) - window_shift
    return np.clip(start, 0, n_samples - window_samples).astype(np.uint16)


class OnsiteReducer:
    """Reduces R1 blocks of any telescope of ``subarray`` according to ``config``."""

    def __init__(self, subarray: SubarrayDescription, config: ReductionConfig | None = None) -> None:
        self.subarray = subarray
        self.config = config or ReductionConfig()

    def reduce(self, events: TelescopeEvents, stream: str, block_index: int) -> tuple[EncodedBlock, ReductionStats]:
        """One telescope's R1 block -> (compressed DL0 block, byte and time accounting)."""
        cfg = self.config
        tel = self.subarray.tel(events.tel_id)
        readout = tel.camera.readout
        adc = np.ascontiguousarray(events.waveform)
        n, n_ch, n_pix, n_s = adc.shape
        settings = resolve_settings(tel.camera_name)
        n_w = n_s if cfg.window_samples is None else min(cfg.window_samples, n_s)
        window_cut = n_w < n_s
        gain_selected = cfg.gain_selection and n_ch > 1
        seconds = {}

        t0 = time.perf_counter()
        needs_charge = cfg.integrate or cfg.pixel_selection or window_cut or gain_selected
        if needs_charge:
            charge, peak_time, gain = r1_to_dl1(adc, tel, settings)
        seconds["calibration"] = time.perf_counter() - t0

        columns: dict[str, np.ndarray] = {
            "event_id": np.asarray(events.event_id, np.int64),
            "trigger_time": np.asarray(events.trigger_time, np.float64),
        }
        t0 = time.perf_counter()
        threshold, n_full = None, 0
        if cfg.pixel_selection:
            sel = dvr_pixel_selection(charge, tel.camera.geometry, cfg.picture_threshold_pe,
                                      cfg.n_rings, max_survival_fraction=cfg.max_survival_fraction)
            mask, threshold, n_full = sel.mask, sel.threshold_pe, int(sel.full_camera.sum())
        elif cfg.stores_waveforms:
            mask = np.ones((n, n_pix), np.bool_)
        seconds["pixel_selection"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        value_coding, value_bytes = {}, 0
        if cfg.integrate:
            values = (charge[mask], peak_time[mask]) if cfg.sparse_charges else (charge, peak_time)
            stored, value_coding = cfg.value_columns(*values)
            columns.update(stored)
            value_bytes = stored["charge"].itemsize + stored["peak_time"].itemsize
        if cfg.pixel_selection:
            columns["pixel_mask"] = mask
        seconds["charge_coding"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        n_kept = 0
        if cfg.stores_waveforms:
            n_kept = int(mask.sum())
            if window_cut:
                shift = n_w // 2 if cfg.window_shift is None else cfg.window_shift
                start = image_window_start(charge, peak_time, cfg.picture_threshold_pe,
                                           readout.sample_width_ns, n_s, n_w, shift)
            else:
                start = np.zeros(n, np.uint16)
            wf = np.empty((n_kept, 1 if gain_selected else n_ch, n_w), np.uint16)
            wf_gain = np.empty(n_kept if gain_selected else 0, np.uint8)
            _gather_kernel(adc, mask, gain if gain_selected else np.zeros((1, 1), np.uint8),
                           start, n_w, gain_selected, wf, wf_gain)
            columns["waveform"] = wf
            if gain_selected:
                columns["gain_channel"] = wf_gain
            if window_cut:
                columns["window_start"] = start
        seconds["waveform_gather"] = time.perf_counter() - t0

        attrs = {
            "dl0_layout_version": DL0_LAYOUT_VERSION, "variant": cfg.variant,
            "extraction_method": settings.method, "window_width": settings.window_width,
            "window_shift": settings.window_shift, "sample_width_ns": readout.sample_width_ns,
            "r1_n_samples": n_s, "picture_threshold_pe": threshold,
        }
        if value_coding:
            attrs[charge_coding.ATTR] = value_coding
        t0 = time.perf_counter()
        block = EncodedBlock.encode(stream, events.obs_id, events.tel_id, block_index, cfg.codec, columns, attrs)
        seconds["compression"] = time.perf_counter() - t0

        nbytes = self._stage_bytes(n, n_ch, n_pix, n_s, n_w, n_kept, gain_selected, value_bytes)
        nbytes["compression"] = block.nbytes
        stats = ReductionStats(
            variant=cfg.variant, tel_id=int(events.tel_id), n_events=n, n_pixels=n_pix,
            bytes=nbytes, seconds=seconds,
            kept_waveform_fraction=n_kept / (n * n_pix) if n else 0.0,
            picture_threshold_pe=threshold, n_full_camera=n_full,
        )
        return block, stats

    def _stage_bytes(self, n: int, n_ch: int, n_pix: int, n_s: int, n_w: int, n_kept: int,
                     gain_selected: bool, value_bytes: int) -> dict[str, int]:
        """Uncompressed bytes of the DL0 columns as they stand after each step (``value_bytes``: the
        item sizes of a pixel's stored charge + peak time, as stored: float or coded integers)."""
        cfg = self.config
        window_cut = n_w < n_s
        ids = n * (8 + 8)

        def waveform_bytes(rows: int, channels: int, samples: int, gain_col: bool) -> int:
            gain_bytes = rows if gain_col else 0
            return rows * r1_event_nbytes(1, channels, samples) + gain_bytes + (2 * n if window_cut else 0)

        integrated = n * n_pix * value_bytes
        out = {"r1": ids + n * r1_event_nbytes(n_pix, n_ch, n_s)}
        out["window_cut"] = ids + waveform_bytes(n * n_pix, n_ch, n_w, False)
        ch = 1 if gain_selected else n_ch
        out["gain_selection"] = ids + waveform_bytes(n * n_pix, ch, n_w, gain_selected)
        out["integration"] = ids + integrated if cfg.integrate else out["gain_selection"]
        if cfg.pixel_selection:
            values = n_kept * value_bytes if cfg.sparse_charges else integrated
            out["pixel_selection"] = (ids + (values if cfg.integrate else 0) + n * n_pix
                                      + waveform_bytes(n_kept, ch, n_w, gain_selected))
        else:
            out["pixel_selection"] = out["integration"]
        return out


def calibrate_dl0(
    columns: dict[str, np.ndarray],
    tel: TelescopeDescription,
    method: str | None = None,
    window_width: int | None = None,
    window_shift: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decoded DL0 columns -> (image float32 [n, n_pix] p.e., peak_time float32 [n, n_pix] ns).

    Stored charges and peak times (of every pixel, or of the selected ones: rows of
    ``pixel_mask``; coded ones decoded by ``EncodedBlock.decode``) are used as they are unless an
    extractor is asked for; stored waveforms (all or selected pixels) are calibrated and extracted
    (default: the camera's extractor), and their results replace the stored values of those
    pixels. Pixels with neither are 0. Peak times count from the first R1 sample also after a
    window cut.
    """
    readout, geom = tel.camera.readout, tel.camera.geometry
    n, n_pix = len(columns["event_id"]), geom.n_pixels
    has_charge = "charge" in columns
    image = np.zeros((n, n_pix), np.float32)
    peak_time = np.zeros((n, n_pix), np.float32)
    if has_charge and columns["charge"].ndim == 1:   # selected pixels only
        image[columns["pixel_mask"]] = columns["charge"]
        peak_time[columns["pixel_mask"]] = columns["peak_time"]
    elif has_charge:
        image, peak_time = columns["charge"].astype(np.float32), columns["peak_time"].astype(np.float32)
    asked = method is not None or window_width is not None or window_shift is not None
    if "waveform" not in columns or (has_charge and not asked):
        return image, peak_time

    wf = columns["waveform"]
    m, n_stored_ch, n_w = wf.shape
    baseline = baseline_adc(tel.camera)  # as r1_to_dl1: pedestal + NSB shift
    if "gain_channel" in columns:
        channel = columns["gain_channel"]
        rows = calibrate_selected_rows(wf, channel, readout, baseline)
        traces = wf[:, 0, :]
    else:
        rows, selected = calibrate_waveforms(wf.reshape(m, n_stored_ch, 1, n_w), readout, pedestal_adc=baseline)
        rows, channel = rows[:, 0], selected[:, 0]
        traces = wf[np.arange(m), channel.astype(np.intp), :]
    kept = columns.get("pixel_mask")
    if kept is None:
        kept = np.ones((n, n_pix), np.bool_)
    dense = np.zeros((n, n_pix, n_w), np.float32)
    dense[kept] = rows
    settings = resolve_settings(tel.camera_name, method, window_width, window_shift)
    charge, times = extract_charge(dense, geom, readout, settings=settings)
    if "window_start" in columns:
        times += (columns["window_start"].astype(np.float32) * np.float32(readout.sample_width_ns))[:, None]
    stored = charge[kept]
    rows_sat, q = saturated_charges(traces, channel, readout, baseline)   # clipped at the ADC's full scale
    stored[rows_sat] = np.maximum(stored[rows_sat], q)
    image[kept] = stored
    peak_time[kept] = times[kept]
    return image, peak_time

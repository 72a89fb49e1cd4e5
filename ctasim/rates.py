"""Analytic data-rate budget of an array, from its configuration alone (no simulation).

Per telescope type: raw event size (``ctasim.datamodel.r1.r1_event_nbytes``), the rate of
read-out events per telescope (array trigger rate x the fraction of that size class's telescopes
taking part in an array event), and the bytes per second after each on-site reduction step:

    camera           every camera trigger, raw (before the central trigger)
    central_trigger  read-out events, raw
    readout_window   samples cut to ``readout_samples`` (per camera; others keep all)
    gain_selection   one gain channel kept (if ``gain_selection``)
    integration      waveforms kept for ``waveform_pixel_fraction`` of the pixels, every other
                     pixel integrated to ``integrated_bytes_per_pixel`` (charge + peak time)
    pixel_selection  only ``pixel_fraction_kept`` of the integrated pixels kept (+ 1 bit/pixel mask)
    compression      lossless, ``compression_factor``

and the extrapolations (GB/s, TB per night, PB per year of ``hours_per_year`` observing, days to
ship a night over the off-site link). ``SEED_REFERENCE`` holds the published figures to
compare with (``DATA_VOLUME_SOURCE``). Default assumptions marked (est.) are ours, chosen so the raw rates of
the South Omega array land near the published figures; state yours when quoting numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .datamodel.r1 import r1_event_nbytes
from .instrument.subarray import SubarrayDescription

#: the published data-volume figures the budget is compared with
DATA_VOLUME_SOURCE = "K. Kosack, CTA data-processing overview talk (2017)"
#: simtools' system trigger-rate example (gammasim-tools), the one default of every extrapolation
DEFAULT_ARRAY_TRIGGER_RATE_HZ = 9.0e3
#: the project's founding order of magnitude: O(10,000) array events per second
SEED_ARRAY_RATE_HZ = 1.0e4
OBSERVING_HOURS_PER_YEAR = 1314.0  # DATA_VOLUME_SOURCE
NIGHT_HOURS = 8.0  # (est.) one observing night
LINK_GBIT_PER_S = 1.0  # off-site link (DATA_VOLUME_SOURCE)

STAGES = (
    "camera",
    "central_trigger",
    "readout_window",
    "gain_selection",
    "integration",
    "pixel_selection",
    "compression",
)
STAGE_LABELS = dict(
    zip(STAGES, ("camera", "trigger", "window", "gain sel", "integrate", "pix sel", "compress"))
)

SEED_REFERENCE: dict[str, Any] = {
    "source": DATA_VOLUME_SOURCE,
    "central_trigger_gbit_per_s": {"LST": 40.0, "MST": 150.0, "SST": 30.0, "total": 220.0},
    "central_trigger_pb_per_year": 130.0,
    "after_selection_gbit_per_s": {"LST": 11.0, "MST": 20.0, "SST": 5.1, "total": 36.0},
    "after_selection_pb_per_year": 21.0,
    "with_technical_data_gbyte_per_s": {"total": 4.5, "North": 5.4, "South": 3.2},
    "with_technical_data_pb_per_year": 40.0,
    "target_pb_per_year": 4.0,
    "target_overall_reduction": 70.0,
    "lossless_compression_expected": (2.0, 3.0),
    "observing_hours_per_year": OBSERVING_HOURS_PER_YEAR,
    "link_gbit_per_s": LINK_GBIT_PER_S,
    "link_max_days_per_night": 10.0,
    "raw_event_bytes_est": {
        "LSTCam": 1855 * 2 * 40 * 2,
        "NectarCam": 1855 * 2 * 60 * 2,
        "CHEC": 2048 * 128 * 2,
    },
}


def volume_figures(
    bytes_per_s: float,
    hours_per_year: float = OBSERVING_HOURS_PER_YEAR,
    night_hours: float = NIGHT_HOURS,
    link_gbit_per_s: float = LINK_GBIT_PER_S,
) -> dict[str, float]:
    """A sustained rate (bytes/s) as GB/s, Gb/s, TB per night, PB per year and link days per night."""
    night_bytes = bytes_per_s * night_hours * 3600.0
    return {
        "gbyte_per_s": bytes_per_s / 1e9,
        "gbit_per_s": bytes_per_s * 8 / 1e9,
        "tb_per_night": night_bytes / 1e12,
        "pb_per_year": bytes_per_s * hours_per_year * 3600.0 / 1e15,
        "link_days_per_night": night_bytes * 8 / (link_gbit_per_s * 1e9) / 86400.0,
    }


@dataclass(frozen=True)
class BudgetAssumptions:
    """Inputs of the budget; rates in Hz, fractions in [0, 1], per size class or camera name."""

    array_trigger_rate_hz: float = DEFAULT_ARRAY_TRIGGER_RATE_HZ
    # fraction of a size class's telescopes read out per array event (est.; South Omega gives
    # ~4.0 kHz per LST, ~1.7 kHz per MST, ~100 Hz per SST, as the seed figures imply)
    participation: Mapping[str, float] = field(
        default_factory=lambda: {"LST": 0.45, "MST": 0.19, "SST": 0.011}
    )
    # camera trigger rate per telescope (est., within the 0.6-15 kHz camera trigger rates of LST/NectarCAM)
    camera_trigger_rate_hz: Mapping[str, float] = field(
        default_factory=lambda: {"LST": 10.0e3, "MST": 5.0e3, "SST": 1.0e3}
    )
    # readout-window cut studied for LST (40 -> 20) and NectarCAM (60 -> 15) (cta-lstchain DVR studies)
    readout_samples: Mapping[str, int] = field(
        default_factory=lambda: {"LSTCam": 20, "NectarCam": 15}
    )
    gain_selection: bool = True
    waveform_pixel_fraction: float = 0.03  # DATA_VOLUME_SOURCE: full waveforms for 3% of pixels
    integrated_bytes_per_pixel: float = 4.0  # (est.) 16-bit charge + 16-bit peak time
    pixel_fraction_kept: float = 1.0  # zero suppression of integrated pixels (1 = off)
    compression_factor: float = 2.5  # lossless, DATA_VOLUME_SOURCE expects 2-3x
    hours_per_year: float = OBSERVING_HOURS_PER_YEAR
    night_hours: float = NIGHT_HOURS
    link_gbit_per_s: float = LINK_GBIT_PER_S

    def __post_init__(self) -> None:
        for name in ("waveform_pixel_fraction", "pixel_fraction_kept"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} = {getattr(self, name)}: expected a fraction in [0, 1]")
        if self.compression_factor <= 0 or self.array_trigger_rate_hz < 0:
            raise ValueError("compression_factor must be > 0 and array_trigger_rate_hz >= 0")


def event_bytes(
    n_pixels: int, n_channels: int, n_samples: int, readout_samples: int, a: BudgetAssumptions
) -> dict[str, float]:
    """Bytes of one telescope event after each reduction step (keys: STAGES[1:])."""
    raw = r1_event_nbytes(n_pixels, n_channels, n_samples)
    window = r1_event_nbytes(n_pixels, n_channels, readout_samples)
    channels = 1 if a.gain_selection else n_channels
    wave_pixel = r1_event_nbytes(1, channels, readout_samples)
    f_wf = a.waveform_pixel_fraction
    integrated = n_pixels * (f_wf * wave_pixel + (1.0 - f_wf) * a.integrated_bytes_per_pixel)
    mask = n_pixels / 8.0 if a.pixel_fraction_kept < 1.0 else 0.0
    selected = (
        n_pixels
        * (f_wf * wave_pixel + (1.0 - f_wf) * a.pixel_fraction_kept * a.integrated_bytes_per_pixel)
        + mask
    )
    return {
        "central_trigger": raw,
        "readout_window": window,
        "gain_selection": n_pixels * wave_pixel,
        "integration": integrated,
        "pixel_selection": selected,
        "compression": selected / a.compression_factor,
    }


def budget(
    subarray: SubarrayDescription, assumptions: BudgetAssumptions | None = None
) -> dict[str, Any]:
    """Data-rate budget of ``subarray``: per telescope type, per size class and in total.

    Returns ``{"subarray", "assumptions", "stages", "types": {type_name: {...}},
    "by_size_class": {cls: {"bytes_per_s": {stage: B/s}}}, "total": {"bytes_per_s", "figures"},
    "reduction": {"overall", "target"}, "reference": SEED_REFERENCE}``.
    """
    a = assumptions or BudgetAssumptions()
    types: dict[str, Any] = {}
    by_class: dict[str, dict[str, float]] = {}
    total = dict.fromkeys(STAGES, 0.0)
    for type_name, tel in subarray.telescope_types.items():
        ro, cls = tel.camera.readout, tel.tel_type
        n_tels = int(sum(t == type_name for t in subarray.tel_type_names))
        n_pix = tel.camera.geometry.n_pixels
        n_cut = min(ro.n_samples, int(a.readout_samples.get(tel.camera_name, ro.n_samples)))
        sizes = event_bytes(n_pix, ro.n_channels, ro.n_samples, n_cut, a)
        camera_rate = float(a.camera_trigger_rate_hz[cls])
        readout_rate = a.array_trigger_rate_hz * float(a.participation[cls])
        rates = {"camera": n_tels * camera_rate * sizes["central_trigger"]}
        rates |= {stage: n_tels * readout_rate * b for stage, b in sizes.items()}
        types[type_name] = {
            "size_class": cls,
            "camera": tel.camera_name,
            "n_tels": n_tels,
            "n_pixels": n_pix,
            "n_channels": ro.n_channels,
            "n_samples": ro.n_samples,
            "readout_samples": n_cut,
            "camera_trigger_rate_hz": camera_rate,
            "readout_rate_hz": readout_rate,
            "readout_exceeds_camera_rate": readout_rate > camera_rate,
            "event_bytes": sizes,
            "bytes_per_s": rates,
        }
        class_rates = by_class.setdefault(cls, dict.fromkeys(STAGES, 0.0))
        for stage in STAGES:
            class_rates[stage] += rates[stage]
            total[stage] += rates[stage]
    extrapolation = {
        "hours_per_year": a.hours_per_year,
        "night_hours": a.night_hours,
        "link_gbit_per_s": a.link_gbit_per_s,
    }
    return {
        "subarray": subarray.name,
        "assumptions": {
            k: (dict(v) if isinstance(v, Mapping) else v) for k, v in asdict(a).items()
        },
        "stages": list(STAGES),
        "types": types,
        "by_size_class": {cls: {"bytes_per_s": r} for cls, r in sorted(by_class.items())},
        "total": {
            "bytes_per_s": total,
            "figures": {stage: volume_figures(total[stage], **extrapolation) for stage in STAGES},
        },
        "reduction": {
            "overall": total["central_trigger"] / total["compression"]
            if total["compression"]
            else None,
            "target": SEED_REFERENCE["target_overall_reduction"],
        },
        "reference": SEED_REFERENCE,
    }


def format_budget(b: Mapping[str, Any]) -> str:
    """Plain-text tables of a ``budget()`` result: Gb/s per type and stage, then volume figures."""
    stages = b["stages"]
    head = f"{'telescope type':<22}{'n':>4}{'raw kB':>9}{'ro Hz':>9}" + "".join(
        f"{STAGE_LABELS.get(s, s):>11}" for s in stages
    )
    lines = [f"Data-rate budget for {b['subarray']} (Gb/s per stage)", head, "-" * len(head)]

    def row(label: str, n: str, kb: str, hz: str, rates: Mapping[str, float]) -> str:
        return f"{label:<22}{n:>4}{kb:>9}{hz:>9}" + "".join(
            f"{rates[s] * 8 / 1e9:>11.3f}" for s in stages
        )

    for name, t in b["types"].items():
        lines.append(
            row(
                name,
                str(t["n_tels"]),
                f"{t['event_bytes']['central_trigger'] / 1e3:.1f}",
                f"{t['readout_rate_hz']:.0f}",
                t["bytes_per_s"],
            )
        )
    for cls, c in b["by_size_class"].items():
        lines.append(row(f"all {cls}", "", "", "", c["bytes_per_s"]))
    lines.append(row("total", "", "", "", b["total"]["bytes_per_s"]))
    lines += ["", f"{'stage':<18}{'GB/s':>10}{'TB/night':>10}{'PB/yr':>10}{'link d/night':>14}"]
    for stage in stages:
        f = b["total"]["figures"][stage]
        lines.append(
            f"{stage:<18}{f['gbyte_per_s']:>10.3f}{f['tb_per_night']:>10.2f}"
            f"{f['pb_per_year']:>10.3f}{f['link_days_per_night']:>14.2f}"
        )
    overall = b["reduction"]["overall"]
    lines.append(
        f"overall reduction central_trigger -> compression: "
        f"{overall:.1f}x (target ~{b['reduction']['target']:.0f}x)"
        if overall
        else "overall reduction: n/a"
    )
    ref = b["reference"]
    lines += [
        "",
        f"Reference ({ref['source']}):",
        "  at central trigger Gb/s: "
        + ", ".join(f"{k} {v:g}" for k, v in ref["central_trigger_gbit_per_s"].items()),
        "  after selection Gb/s:    "
        + ", ".join(f"{k} {v:g}" for k, v in ref["after_selection_gbit_per_s"].items()),
        (
            f"  PB/yr: raw {ref['central_trigger_pb_per_year']:g}, after selection "
            f"{ref['after_selection_pb_per_year']:g}, target {ref['target_pb_per_year']:g}"
        ),
    ]
    return "\n".join(lines)

"""The machine-readable figures of a run (``summary.json``), built from the monitor's counters.

``build_summary`` turns the merged ``Accounting`` and ``RateMeter`` of a run, the wall times and
the archive files into one JSON-friendly dict (plain ints, floats, strings, lists; no numpy
values; non-finite floats become ``null``). It never raises on an accounting that does not
close: that is reported as ``accounting.closed = false`` with the message.

Stage names (bytes metered by the actors): ``r1_camera_triggers`` raw R1 of every camera
trigger; ``r1_read_out`` raw R1 of the events accepted by the stereo trigger; the reducer's
``reduce.<variant>.<step>`` (steps of ``ctasim.dl0.reduction.STAGES``, uncompressed up to
``compression``); ``dl0_archived`` bytes written for event data; ``technical_data`` monitoring
tables. ``<type>`` is a size class (LST/MST/SST), ``a->b`` a step between two stages. Rates are bytes
per simulated second; "extrapolated" figures scale the bytes
per array event to the configured array trigger rate (``BudgetAssumptions``, 9 kHz by default)
for the whole layout.

Every key, its meaning and unit: the README, section "summary.json" (the one list, checked by
the tests against what the stages write).

Later stages add top-level ``dl1``, ``dl2``, ``irf``, ``science``, ``alerts``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import __version__
from ..accounting import (
    ARRAY_EVENTS,
    ARRAY_EVENTS_ARCHIVED,
    ARRAY_EVENTS_LOST,
    ARRAY_EVENTS_NSB_ONLY,
    REDUCER_PREFIX,
    SHOWERS_ARRAY_TRIGGERED,
    SHOWERS_BELOW_MULTIPLICITY,
    SHOWERS_NO_TELESCOPE_TRIGGER,
    SHOWERS_SIMULATED,
    STAGE_DL0_ARCHIVED,
    STAGE_R1_CAMERA,
    STAGE_R1_READOUT,
    STAGE_TECHNICAL,
    TELESCOPE_EVENTS_ARCHIVED,
    TELESCOPE_EVENTS_LOST,
    TELESCOPE_EVENTS_READ_OUT,
    TELESCOPE_TRIGGERS,
    TELESCOPE_TRIGGERS_DROPPED,
    Accounting,
    AccountingError,
    RateMeter,
)
from ..datamodel.version import DATA_MODEL_VERSION
from ..dl0.reduction import STAGES as REDUCER_STEPS
from ..instrument.config import load_subarray
from ..instrument.subarray import SubarrayDescription
from ..io.provenance import scenario_hash
from ..rates import (
    DEFAULT_ARRAY_TRIGGER_RATE_HZ,
    SEED_ARRAY_RATE_HZ,
    SEED_REFERENCE,
    BudgetAssumptions,
    budget,
    volume_figures,
)

# measured stage or reducer step -> the analytic budget stage (ctasim.rates.STAGES) it matches
BUDGET_STAGE = {
    STAGE_R1_CAMERA: "camera",
    STAGE_R1_READOUT: "central_trigger",
    STAGE_DL0_ARCHIVED: "compression",
    "window_cut": "readout_window",
    "gain_selection": "gain_selection",
    "integration": "integration",
    "pixel_selection": "pixel_selection",
    "compression": "compression",
}
TECHNICAL_REFERENCE_PERCENT = 20.0  # rates.DATA_VOLUME_SOURCE: ~20% technical data on top of event data
SUMMARY_KEYS = ("scenario", "accounting", "rates", "reduction", "timing", "files")


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON types: numpy values to Python, tuples to lists, NaN/inf to None."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is zero."""
    return a / b if a is not None and b else None


def accounting_levels(
    stages: Mapping[str, Any],
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Where events ended, per level: (label, level stage, [(state label, stage), ...]), the
    ``<stage>.<reason>`` stages of ``accounting.stages`` expanded one state per reason."""

    def reasons(prefix: str, label: str = "") -> list[tuple[str, str]]:
        return [
            (label + s.split(".", 1)[1], s) for s in sorted(stages) if s.startswith(prefix + ".")
        ]

    return [
        (
            "showers simulated",
            SHOWERS_SIMULATED,
            [
                ("no telescope trigger", SHOWERS_NO_TELESCOPE_TRIGGER),
                ("below multiplicity", SHOWERS_BELOW_MULTIPLICITY),
                ("array triggered", SHOWERS_ARRAY_TRIGGERED),
            ],
        ),
        (
            "telescope triggers",
            TELESCOPE_TRIGGERS,
            [
                ("read out", TELESCOPE_EVENTS_READ_OUT),
                *reasons(TELESCOPE_TRIGGERS_DROPPED, "dropped: "),
            ],
        ),
        (
            "read-out telescope events",
            TELESCOPE_EVENTS_READ_OUT,
            [
                ("archived", TELESCOPE_EVENTS_ARCHIVED),
                *reasons(TELESCOPE_EVENTS_LOST, "lost: "),
            ],
        ),
        (
            "array events",
            ARRAY_EVENTS,
            [
                ("archived", ARRAY_EVENTS_ARCHIVED),
                *reasons(ARRAY_EVENTS_LOST, "lost: "),
            ],
        ),
    ]


def reducer_step(stage: str) -> tuple[str, str] | None:
    """(variant, step) of a reducer stage ``reduce.<variant>.<step>``, else None."""
    if not stage.startswith(REDUCER_PREFIX):
        return None
    variant, _, step = stage[len(REDUCER_PREFIX) :].rpartition(".")
    return (variant, step) if variant and step in REDUCER_STEPS else None


def short_stage(stage: str) -> str:
    """A reducer stage by its step name (``reduce.pixel_selection.integration`` ->
    ``integration``); other stages as they are."""
    step = reducer_step(stage)
    return step[1] if step else stage


def reduction_variants(stages: Iterable[str]) -> list[str]:
    """Names of the reduction variants metered (sorted)."""
    return sorted({v for v, _ in filter(None, map(reducer_step, stages))})


def variant_chain(stages: Collection[str], variant: str) -> list[str]:
    """A variant's stages from read-out R1 through its steps (``ctasim.dl0.reduction.STAGES``
    order; its own ``r1`` step is left out: ``r1_read_out`` is the reference)."""
    steps = [f"{REDUCER_PREFIX}{variant}.{step}" for step in REDUCER_STEPS[1:]]
    return [s for s in (STAGE_R1_READOUT, *steps) if s in stages]


def archived_chain(stages: Collection[str], variant: str | None) -> list[str]:
    """The archived data's stages: read-out R1, the archived variant's steps, dl0_archived."""
    steps = variant_chain(stages, variant)[1:] if variant else []
    return [s for s in (STAGE_R1_READOUT, *steps, STAGE_DL0_ARCHIVED) if s in stages]


def archived_variant(scenario: Mapping[str, Any], variants: Sequence[str]) -> str | None:
    """The variant written to the archive: the scenario's ``reduction.variant`` when metered,
    else the only variant metered, else None (unknown)."""
    named = scenario.get("reduction", {}).get("variant")
    if named in variants:
        return named
    return variants[0] if len(variants) == 1 else None


def data_path_order(stages: Collection[str], variant: str | None) -> list[str]:
    """Stage names in data-path order: camera triggers, the archived chain, technical data,
    the other variants' steps, then any other stage."""
    known = [STAGE_R1_CAMERA, *archived_chain(stages, variant), STAGE_TECHNICAL]
    for other in reduction_variants(stages):
        known += [f"{REDUCER_PREFIX}{other}.{step}" for step in REDUCER_STEPS]
    known = [s for s in dict.fromkeys(known) if s in stages]
    return known + sorted(set(stages) - set(known))


def archived_path(summary: Mapping[str, Any]) -> list[str]:
    """The stages a report shows of a summary: camera triggers, the archived chain, technical
    data (those metered)."""
    path = (STAGE_R1_CAMERA, *summary["reduction"]["chain"], STAGE_TECHNICAL)
    return [s for s in path if s in summary["rates"]["extrapolated"]["stages"]]


def describe_reduction(measured: float | None, target: float) -> str:
    """Words comparing a measured reduction factor with the target, e.g. 'overall reduction
    35x, half of the 70x target (a further 2.0x needed)'."""
    if not measured:
        return f"overall reduction not measured (no archived bytes); target {target:.0f}x"
    head = f"overall reduction {measured:.1f}x"
    if measured >= target:
        return f"{head}, meets the {target:.0f}x target ({measured / target:.1f}x beyond it)"
    fraction = measured / target
    words = {2: "half", 3: "a third", 4: "a quarter", 5: "a fifth", 10: "a tenth"}
    n = round(1 / fraction)
    share = words[n] if n in words and abs(fraction * n - 1) < 0.05 else f"{fraction:.0%}"
    return (
        f"{head}, {share} of the {target:.0f}x target (a further {target / measured:.1f}x needed)"
    )


def extrapolate(
    stages: Mapping[str, Mapping[str, Any]],
    order: Sequence[str],
    n_array_events: int,
    a: BudgetAssumptions,
) -> dict[str, Any]:
    """Measured stage bytes (``RateMeter.to_dict()['stages']``) per array event, scaled to the
    configured array trigger rate: B/s, GB/s, Gb/s, TB/night, PB/yr, link days per night;
    stages in the given ``order``."""
    scale = a.array_trigger_rate_hz / n_array_events if n_array_events else None
    extrapolation = {
        "hours_per_year": a.hours_per_year,
        "night_hours": a.night_hours,
        "link_gbit_per_s": a.link_gbit_per_s,
    }

    def figures(nbytes: int) -> dict[str, Any]:
        if scale is None:
            return {"bytes_per_array_event": None, "bytes_per_s": None}
        bytes_per_s = nbytes * scale
        return {
            "bytes_per_array_event": nbytes / n_array_events,
            "bytes_per_s": bytes_per_s,
            **volume_figures(bytes_per_s, **extrapolation),
        }

    out_stages = {}
    for stage in order:
        entry = stages[stage]
        out_stages[stage] = figures(entry["bytes"]) | {
            "by_tel_type": {
                t: {
                    "bytes_per_s": e["bytes"] * scale if scale else None,
                    "gbit_per_s": e["bytes"] * scale * 8 / 1e9 if scale else None,
                }
                for t, e in entry["by_tel_type"].items()
            }
        }
    shipped = figures(
        sum(stages[s]["bytes"] for s in (STAGE_DL0_ARCHIVED, STAGE_TECHNICAL) if s in stages)
    )
    limit = SEED_REFERENCE["link_max_days_per_night"]
    days = shipped.get("link_days_per_night")
    shipped |= {
        "link_limit_days": limit,
        "within_link_limit": days <= limit if days is not None else None,
    }
    return {
        "array_trigger_rate_hz": a.array_trigger_rate_hz,
        **extrapolation,
        "stages": out_stages,
        "shipped": shipped,
    }


def _vs_budget(
    extrapolated: Mapping[str, Any], chain: Sequence[str], b: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Extrapolated Gb/s of the camera triggers and the archived chain beside the analytic
    budget's matching stage."""
    if b is None:
        return {}
    out = {}
    for stage in (STAGE_R1_CAMERA, *chain):
        step = reducer_step(stage)
        b_stage = BUDGET_STAGE.get(step[1] if step else stage)
        if b_stage is None or stage not in extrapolated["stages"]:
            continue
        budget_gbit = b["total"]["bytes_per_s"][b_stage] * 8 / 1e9
        measured = extrapolated["stages"][stage].get("gbit_per_s")
        out[stage] = {
            "budget_stage": b_stage,
            "measured_gbit_per_s": measured,
            "budget_gbit_per_s": budget_gbit,
            "ratio": _ratio(measured, budget_gbit),
        }
    return out


def _reduction(
    rates: RateMeter,
    measured: Mapping[str, Any],
    extrapolated: Mapping[str, Any],
    variant: str | None,
) -> dict[str, Any]:
    """Factors per step and overall from read-out R1 (archived chain and every variant), per
    type against the published figures, the technical-data share and the ~70x target."""
    stage_bytes = {s: e["bytes"] for s, e in measured["stages"].items()}
    chains = {"archived": archived_chain(stage_bytes, variant)}
    chains |= {v: variant_chain(stage_bytes, v) for v in reduction_variants(stage_bytes)}
    figures = rates.reduction({k: c for k, c in chains.items() if c})
    for name, chain in chains.items():
        complete = len(chain) >= 2 and chain[0] == STAGE_R1_READOUT
        f = figures.get(name, {"steps": {}, "overall": None, "bytes": {}})
        if not complete or (name == "archived" and chain[-1] != STAGE_DL0_ARCHIVED):
            f["overall"] = None  # a chain missing an end does not measure the reduction
        figures[name] = {"chain": chain, **f}
    archived = figures.pop("archived")
    raw = stage_bytes.get(STAGE_R1_READOUT)
    archived_bytes = stage_bytes.get(STAGE_DL0_ARCHIVED)
    technical = stage_bytes.get(STAGE_TECHNICAL, 0)
    with_technical = _ratio(raw, (archived_bytes or 0) + technical)

    ref_raw = SEED_REFERENCE["central_trigger_gbit_per_s"]
    ref_reduced = SEED_REFERENCE["after_selection_gbit_per_s"]
    ex = extrapolated["stages"]
    by_type = {}
    types = sorted(
        {t for s in (STAGE_R1_READOUT, STAGE_DL0_ARCHIVED) if s in ex for t in ex[s]["by_tel_type"]}
    )
    for t in types:
        ro = ex.get(STAGE_R1_READOUT, {}).get("by_tel_type", {}).get(t, {}).get("gbit_per_s")
        ar = ex.get(STAGE_DL0_ARCHIVED, {}).get("by_tel_type", {}).get(t, {}).get("gbit_per_s")
        by_type[t] = {
            "read_out_gbit_per_s": ro,
            "archived_gbit_per_s": ar,
            "factor": _ratio(ro, ar),
            "reference_read_out_gbit_per_s": ref_raw.get(t),
            "reference_reduced_gbit_per_s": ref_reduced.get(t),
            "reference_factor": _ratio(ref_raw.get(t), ref_reduced.get(t)),
        }
    target = float(SEED_REFERENCE["target_overall_reduction"])
    return {
        "reference_stage": STAGE_R1_READOUT,
        "archived_variant": variant,
        "chain": archived["chain"],
        "bytes": archived["bytes"],
        "steps": archived["steps"],
        "overall": archived["overall"],
        "variants": figures,
        "trigger": _ratio(stage_bytes.get(STAGE_R1_CAMERA), raw),
        "by_tel_type": by_type,
        "technical_data": {
            "bytes": technical,
            "percent_of_event_data": 100.0 * technical / archived_bytes if archived_bytes else None,
            "reference_percent": TECHNICAL_REFERENCE_PERCENT,
        },
        "overall_with_technical": with_technical,
        "target": {
            "factor": target,
            "measured": with_technical,
            "fraction": _ratio(with_technical, target),
            "gap": _ratio(target, with_technical),
            "met": with_technical >= target if with_technical else False,
            "sentence": describe_reduction(with_technical, target),
        },
    }


#: stages that simulate what the real instrument does in hardware or in the sky (the showers, the
#: cameras' digitisation and trigger): left out of ``onsite_total``
SIMULATED_STAGES = ("source", "camera")


def cores_for_rate(
    stage_seconds: Mapping[str, float], array_events: int, rate_hz: float = SEED_ARRAY_RATE_HZ
) -> dict[str, Any]:
    """Cores each stage needs to keep up with an array trigger of ``rate_hz`` (Hz) in real time: its
    seconds (wall, summed over actors) per array event x ``rate_hz``; ``total`` their sum and
    ``onsite_total`` that of the on-site software alone (without ``SIMULATED_STAGES``: the toy's
    showers and cameras). Wall seconds on a machine shared with other work are an upper bound of the
    CPU seconds. Without array events ``stages`` is empty and the totals null."""
    stages = {}
    if array_events > 0:
        stages = {k: float(v) / array_events * rate_hz for k, v in sorted(stage_seconds.items())}
    return {
        "array_trigger_rate_hz": float(rate_hz),
        "array_events": int(array_events),
        "stages": stages,
        "total": sum(stages.values()) if stages else None,
        "onsite_total": sum(v for k, v in stages.items() if k not in SIMULATED_STAGES) if stages else None,
    }


def _timing(
    accounting: Accounting, stage_seconds: Mapping[str, float], n_blocks: int, wall: float
) -> dict[str, Any]:
    def per_s(n: int) -> float | None:
        return n / wall if wall > 0 else None

    return {
        "wall_seconds": wall,
        "n_blocks": n_blocks,
        "showers_per_s": per_s(accounting.total(SHOWERS_SIMULATED)),
        "array_events_per_s": per_s(accounting.total(ARRAY_EVENTS)),
        "telescope_events_per_s": per_s(accounting.total(TELESCOPE_EVENTS_READ_OUT)),
        "stage_seconds": {k: float(v) for k, v in sorted(stage_seconds.items())},
        "stage_seconds_total": float(sum(stage_seconds.values())),
        "cores_for_10khz": cores_for_rate(stage_seconds, accounting.total(ARRAY_EVENTS)),
    }


def array_trigger(accounting: Accounting, streams: Mapping[str, Mapping[str, float]],
                  scenario: Mapping[str, Any]) -> dict[str, Any]:
    """The array trigger rate (Hz): per stream (species) its array events over its own simulated span,
    the total their sum (the streams arrive together), each stream's share, and ``physical``: every
    population's arrival rate follows from its flux (``rate_from_flux``), so the rate is a prediction
    rather than the consequence of input rates. Beside it the seed's O(10 kHz) and simtools' 9 kHz example.
    With accidental camera triggers on (``trigger.nsb_accidentals``) the stream ``nsb`` holds the
    array events made of NSB-only camera triggers alone (``array_events_nsb_only``, not archived):
    the NSB share of the array trigger; showers raised to an array event by an accidental stay in
    their species' stream."""
    by_stream = {}
    for name, info in streams.items():
        events = accounting.total(ARRAY_EVENTS, stream=name) + accounting.total(ARRAY_EVENTS_NSB_ONLY, stream=name)
        by_stream[name] = {"array_events": events, "seconds": info["seconds"],
                           "rate_hz": events / info["seconds"] if info["seconds"] > 0 else None}
    total = sum(v["rate_hz"] for v in by_stream.values() if v["rate_hz"] is not None)
    for v in by_stream.values():
        v["fraction"] = v["rate_hz"] / total if total > 0 and v["rate_hz"] is not None else None
    particles = scenario.get("particles") or []
    return {"rate_hz": total if by_stream else None, "by_stream": by_stream,
            "physical": bool(particles) and all(p.get("rate_from_flux") for p in particles),
            "reference_hz": {"seed": SEED_ARRAY_RATE_HZ, "simtools_example": DEFAULT_ARRAY_TRIGGER_RATE_HZ}}


def build_summary(
    scenario: Mapping[str, Any],
    accounting: Accounting,
    rates: RateMeter,
    stage_seconds: Mapping[str, float],
    n_blocks: int,
    files: Sequence[str],
    wall_seconds: float,
    backend: str,
    subarray: SubarrayDescription | None = None,
    assumptions: BudgetAssumptions | None = None,
    waveform_pixels: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, Any]:
    """The summary.json content of a run (keys in this module's docstring).

    ``waveform_pixels``: per reduction variant, (pixels whose waveform was kept, pixels seen).

    ``scenario`` is the resolved scenario mapping (``Scenario.to_dict()``); ``stage_seconds``
    wall seconds per stage summed over actors; ``wall_seconds`` of the whole run. ``subarray``
    (loaded from the scenario's layout when omitted) and ``assumptions`` (default
    ``BudgetAssumptions()``: ``DEFAULT_ARRAY_TRIGGER_RATE_HZ``, 1314 h/yr, 1 Gb/s link) give the
    analytic budget and the extrapolation. Never raises on an accounting that does not close.
    """
    a = assumptions or BudgetAssumptions()
    layout = scenario.get("array", {}).get("layout")
    if subarray is None and layout is not None:
        subarray = load_subarray(layout)
    try:
        accounting.check()
        closed, error = True, None
    except AccountingError as err:
        closed, error = False, str(err)
    measured = rates.to_dict(
        hours_per_year=a.hours_per_year,
        night_hours=a.night_hours,
        link_gbit_per_s=a.link_gbit_per_s,
    )
    n_events = accounting.total(ARRAY_EVENTS)
    variant = archived_variant(scenario, reduction_variants(measured["stages"]))
    order = data_path_order(measured["stages"], variant)
    extrapolated = extrapolate(measured["stages"], order, n_events, a)
    per_stream = [
        accounting.total(ARRAY_EVENTS, stream=name) / info["seconds"]
        for name, info in measured["streams"].items()
        if info["seconds"] > 0
    ]
    extrapolated |= {
        "measured_array_rate_hz": sum(per_stream) if per_stream else None,
        "array_events": n_events,
    }
    measured["array_trigger"] = array_trigger(accounting, measured["streams"], scenario)
    analytic = budget(subarray, a) if subarray is not None else None
    summary = {
        "scenario": {
            "name": scenario.get("name"),
            "seed": scenario.get("seed"),
            "hash": scenario_hash(scenario),
            "layout": subarray.name if subarray is not None else layout,
            "backend": backend,
            "ctasim_version": __version__,
            "data_model": DATA_MODEL_VERSION,
        },
        "accounting": {"closed": closed, "error": error, **accounting.to_dict()},
        "rates": measured
        | {
            "extrapolated": extrapolated,
            "budget": analytic,
            "vs_budget": _vs_budget(
                extrapolated, archived_chain(measured["stages"], variant), analytic
            ),
        },
        "reduction": _reduction(rates, measured, extrapolated, variant)
        | {"kept_waveform_fraction": {
            v: {"kept": int(k), "pixels": int(n), "fraction": k / n if n else None}
            for v, (k, n) in sorted((waveform_pixels or {}).items())
        }},
        "timing": _timing(accounting, stage_seconds, n_blocks, float(wall_seconds)),
        "files": [str(f) for f in files],
    }
    return jsonable(summary)

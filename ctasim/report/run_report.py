"""The human report of a run: summary.json, report.md, report.html, plots/*.png, provenance.json.

The report is a list of blocks (heading, paragraph, table, image, bullet list) produced by one
renderer per top-level summary key (``SECTIONS``) and written both as Markdown and as minimal
HTML, so no Markdown library is needed. A summary key without a renderer of its own is rendered
as a table of its values; adding a dedicated section is one function added to ``SECTIONS``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import write_text_atomic
from ..io.provenance import make_provenance, write_provenance_json
from ..irf.reference import REFERENCE_NOTE
from ..rates import SEED_REFERENCE
from .irf_plots import ALERT_PLOTS, IRF_PLOTS
from .plots import write_plots
from .summary import (
    STAGE_DL0_ARCHIVED,
    STAGE_R1_READOUT,
    accounting_levels,
    archived_path,
    short_stage,
)

SUMMARY_FILE = "summary.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
PROVENANCE_FILE = "provenance.json"
PLOT_DIR = "plots"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Image:
    alt: str
    src: str  # relative to the run directory


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


Block = Heading | Para | Table | Image | Bullets
Section = Callable[[Mapping[str, Any]], list[Block]]


def fmt(value: Any, spec: str = ".3g") -> str:
    """A number for a table cell ('n/a' for missing values)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return format(value, spec)


# -- sections -------------------------------------------------------------------------------


def scenario_section(summary: Mapping[str, Any]) -> list[Block]:
    s = summary["scenario"]
    return [
        Heading(f"Run report: {s.get('name')}", 1),
        Table(["key", "value"], [[k, fmt(v)] for k, v in s.items()]),
    ]


def accounting_section(summary: Mapping[str, Any]) -> list[Block]:
    acc = summary["accounting"]
    stages = acc["stages"]
    status = (
        "The accounting closes: every shower, camera trigger and read-out event ends in "
        "exactly one state."
        if acc["closed"]
        else f"**The accounting does not close:** {acc['error']}"
    )
    rows = []
    for level, level_stage, parts in accounting_levels(stages):
        total = stages.get(level_stage, {}).get("total", 0)
        rows.append([f"**{level}**", str(total), "100%", "", ""])
        for state, stage in parts:
            e = stages.get(stage, {"total": 0, "by_tel_type": {}, "by_stream": {}})
            share = f"{100.0 * e['total'] / total:.1f}%" if total else "n/a"
            by_type = ", ".join(f"{t} {n}" for t, n in e["by_tel_type"].items())
            by_stream = ", ".join(f"{t} {n}" for t, n in e["by_stream"].items())
            rows.append([f"-> {state}", str(e["total"]), share, by_type, by_stream])
    return [
        Heading("Accounting"),
        Para(status),
        Table(["stage", "count", "share", "by telescope type", "by stream"], rows),
        Image("event accounting", f"{PLOT_DIR}/accounting.png"),
    ]


def rates_section(summary: Mapping[str, Any]) -> list[Block]:
    r = summary["rates"]
    ex = r["extrapolated"]
    rows = []
    for stage in archived_path(summary):
        e, b = ex["stages"][stage], r["vs_budget"].get(stage, {})
        rows.append(
            [
                stage,
                fmt(r["stages"][stage]["bytes_per_s"]),
                fmt(e["bytes_per_array_event"]),
                fmt(e.get("gbit_per_s")),
                fmt(b.get("budget_gbit_per_s")),
                fmt(b.get("ratio")),
                fmt(e.get("gbyte_per_s")),
                fmt(e.get("pb_per_year")),
                fmt(e.get("link_days_per_night")),
            ]
        )
    sh = ex["shipped"]
    rows.append(
        [
            "**shipped** (archived + technical)",
            "",
            fmt(sh["bytes_per_array_event"]),
            fmt(sh.get("gbit_per_s")),
            "",
            "",
            fmt(sh.get("gbyte_per_s")),
            fmt(sh.get("pb_per_year")),
            fmt(sh.get("link_days_per_night")),
        ]
    )
    days = sh.get("link_days_per_night")
    verdict = (
        "not extrapolated (no array events)"
        if days is None
        else f"{days:.2f} days per night over the {ex['link_gbit_per_s']:g} Gb/s link, "
        + ("within" if sh["within_link_limit"] else "over")
        + f" the {sh['link_limit_days']:g}-day limit"
    )
    measured_hz = ex["measured_array_rate_hz"]
    return [
        Heading("Data rates"),
        Para(
            f"Measured over {fmt(r['simulated_seconds'])} simulated s "
            f"({ex['array_events']} array events, {fmt(measured_hz)} Hz) and extrapolated per "
            f"array event to {ex['array_trigger_rate_hz']:g} Hz array triggers for the whole "
            f"layout, {ex['hours_per_year']:g} h per year, {ex['night_hours']:g} h nights. "
            f"Shipped data: {verdict}. The budget column is the analytic budget "
            "(ctasim.rates) of the same layout and assumptions. Stages of the archived data "
            "path; every stage metered is in summary.json (rates.extrapolated.stages)."
        ),
        Table(
            [
                "stage",
                "B/s (simulated)",
                "B/array event",
                "Gb/s",
                "budget Gb/s",
                "measured/budget",
                "GB/s",
                "PB/yr",
                "link d/night",
            ],
            rows,
        ),
        Image("data-rate waterfall", f"{PLOT_DIR}/rate_waterfall.png"),
        *array_trigger_blocks(r.get("array_trigger")),
    ]


def array_trigger_blocks(at: Mapping[str, Any] | None) -> list[Block]:
    """The array trigger rate and its composition by species (summary ``rates.array_trigger``)."""
    if not at or at.get("rate_hz") is None:
        return []
    ref = at.get("reference_hz", {})
    kind = ("a prediction: every population arrives at its physical flux (rate_from_flux)" if at.get("physical")
            else "set by the scenario's input arrival rates (rate_hz), not a prediction")
    rows = [[name, fmt(v.get("array_events"), ".0f"), fmt(v.get("seconds")), fmt(v.get("rate_hz")),
             fmt(v.get("fraction"), ".1%") if v.get("fraction") is not None else "-"]
            for name, v in at.get("by_stream", {}).items()]
    return [
        Para(f"Array trigger rate {fmt(at['rate_hz'])} Hz, {kind}; beside the seed's O("
             f"{fmt(ref.get('seed'), '.0f')} Hz) and simtools' {fmt(ref.get('simtools_example'), '.0f')} Hz example."),
        Table(["species (stream)", "array events", "simulated s", "rate (Hz)", "share"], rows),
    ]


def reference_bullets() -> list[str]:
    """The published data-volume figures (``rates.DATA_VOLUME_SOURCE``) in words."""
    ref = SEED_REFERENCE

    def per_type(d: Mapping[str, float]) -> str:
        return ", ".join(f"{k} {v:g}" for k, v in d.items())

    return [
        (
            f"At the central trigger (Gb/s): {per_type(ref['central_trigger_gbit_per_s'])}; "
            f"{ref['central_trigger_pb_per_year']:g} PB/yr over "
            f"{ref['observing_hours_per_year']:g} h."
        ),
        (
            "After keeping waveforms for 3% of pixels and integrating the rest (Gb/s): "
            f"{per_type(ref['after_selection_gbit_per_s'])}; "
            f"{ref['after_selection_pb_per_year']:g} PB/yr."
        ),
        (
            "With ~20% technical data (GB/s): "
            f"{per_type(ref['with_technical_data_gbyte_per_s'])}; "
            f"{ref['with_technical_data_pb_per_year']:g} PB/yr."
        ),
        (
            f"Off-site link {ref['link_gbit_per_s']:g} Gb/s, a night shipped in < "
            f"{ref['link_max_days_per_night']:g} days: ~{ref['target_pb_per_year']:g} PB/yr, "
            f"i.e. ~{ref['target_overall_reduction']:g}x overall reduction from raw."
        ),
        f"Source: {ref['source']}.",
    ]


def reduction_section(summary: Mapping[str, Any]) -> list[Block]:
    red = summary["reduction"]
    steps = [
        [" -> ".join(map(short_stage, step.split("->"))), fmt(f, ".2f")]
        for step, f in red["steps"].items()
    ]
    steps += [
        [f"**overall** {STAGE_R1_READOUT} -> {STAGE_DL0_ARCHIVED}", fmt(red["overall"], ".2f")],
        ["**overall incl. technical data**", fmt(red["overall_with_technical"], ".2f")],
        ["camera triggers -> read-out (stereo trigger)", fmt(red["trigger"], ".2f")],
    ]
    variant_steps = {
        v: {short_stage(step.split("->")[1]): f for step, f in e["steps"].items()}
        for v, e in red["variants"].items()
    }
    columns = list(dict.fromkeys(k for steps_of in variant_steps.values() for k in steps_of))
    variants = [
        [
            v + (" (archived)" if v == red["archived_variant"] else ""),
            *(fmt(variant_steps[v].get(c), ".2f") for c in columns),
            fmt(e["overall"], ".2f"),
        ]
        for v, e in red["variants"].items()
    ]
    types = [
        [
            t,
            fmt(e["read_out_gbit_per_s"]),
            fmt(e["archived_gbit_per_s"]),
            fmt(e["factor"], ".2f"),
            fmt(e["reference_read_out_gbit_per_s"]),
            fmt(e["reference_reduced_gbit_per_s"]),
            fmt(e["reference_factor"], ".2f"),
        ]
        for t, e in red["by_tel_type"].items()
    ]
    tech = red["technical_data"]
    tech_text = (
        f"Technical data add {tech['percent_of_event_data']:.1f}% on top of the archived event "
        f"data ({SEED_REFERENCE['source']}: ~{tech['reference_percent']:g}%)."
        if tech["percent_of_event_data"] is not None
        else "No archived event data to relate technical data to."
    )
    comparison = [red["target"]["sentence"][0].upper() + red["target"]["sentence"][1:] + "."]
    for v, e in red.get("kept_waveform_fraction", {}).items():
        if 0 < e["kept"] < e["pixels"]:
            comparison.append(
                f"Pixel selection ({v}) kept the waveforms of {100 * e['fraction']:.1f}% of the "
                f"pixels of read-out events ({e['kept']} of {e['pixels']}); "
                f"{SEED_REFERENCE['source']} assumes 3%."
            )
    for t, e in red["by_tel_type"].items():
        if e["reference_read_out_gbit_per_s"] and e["read_out_gbit_per_s"] is not None:
            comparison.append(
                f"{t}: read-out R1 {e['read_out_gbit_per_s']:.3g} Gb/s against "
                f"{e['reference_read_out_gbit_per_s']:g} Gb/s in {SEED_REFERENCE['source']}; "
                f"reduction to the archive {fmt(e['factor'], '.1f')}x against "
                f"{e['reference_factor']:.1f}x there (waveform selection and integration, "
                "no compression)."
            )
    return [
        Heading("Data-volume reduction"),
        Para(
            f"Factors are bytes before / bytes after, relative to raw read-out R1 "
            f"({red['reference_stage']}); archived variant: "
            f"{red['archived_variant'] or 'unknown'}; chain: "
            f"{' -> '.join(red['chain']) or 'n/a'}."
        ),
        Table(["step", "factor"], steps),
        Image("reduction factors", f"{PLOT_DIR}/reduction.png"),
        *(
            [
                Para(
                    "Every variant metered on the same events (factor of each step, the first "
                    "from read-out R1; overall = read-out R1 / compressed bytes, before the "
                    "archive's own overhead):"
                ),
                Table(["variant", *columns, "overall"], variants),
            ]
            if variants
            else []
        ),
        Para(tech_text),
        Heading("Against the reference figures", 3),
        Bullets(comparison),
        Table(
            [
                "type",
                "read-out Gb/s",
                "archived Gb/s",
                "factor",
                "seed raw Gb/s",
                "seed reduced Gb/s",
                "seed factor",
            ],
            types,
        ),
        Para(
            f"Published figures ({SEED_REFERENCE['source']}; its array is larger than most "
            "layouts here, so compare per telescope type and orders of magnitude):"
        ),
        Bullets(reference_bullets()),
    ]


def timing_section(summary: Mapping[str, Any]) -> list[Block]:
    t = summary["timing"]
    rows = [
        [k, fmt(t[k])]
        for k in (
            "wall_seconds",
            "n_blocks",
            "showers_per_s",
            "array_events_per_s",
            "telescope_events_per_s",
        )
    ]
    rows += [
        [f"{stage} (s, summed over actors)", fmt(s)] for stage, s in t["stage_seconds"].items()
    ]
    memory = t.get("camera_actor_memory") or []
    if memory:
        peaks = [m["peak_rss_mib"] for m in memory]
        tels = sorted({len(m["tel_ids"]) for m in memory})
        rows.append([
            f"camera actor peak memory (MiB; {len(memory)} process(es), {'/'.join(map(str, tels))} telescope(s) each)",
            f"median {fmt(float(np.median(peaks)), '.0f')}, max {fmt(max(peaks), '.0f')}",
        ])
    return [Heading("Timing"), Table(["quantity", "value"], rows), *cores_blocks(t.get("cores_for_10khz"))]


def cores_blocks(cores: Mapping[str, Any] | None) -> list[Block]:
    """The cores each stage needs for a real-time array trigger (``timing.cores_for_10khz``), if known."""
    if not cores or not cores["stages"]:
        return []
    rate, n = cores["array_trigger_rate_hz"], cores["array_events"]
    rows = [[stage, fmt(c / rate * 1e3, ",.1f"), fmt(c, ",.0f")] for stage, c in cores["stages"].items()]
    rows.append(["**total**", fmt(cores["total"] / rate * 1e3, ",.1f"), f"**{fmt(cores['total'], ',.0f')}**"])
    onsite = cores.get("onsite_total")
    if onsite is not None:
        rows.append(["**on-site software** (without source and camera)", fmt(onsite / rate * 1e3, ",.1f"),
                     f"**{fmt(onsite, ',.0f')}**"])
    return [
        Para(f"Cores to keep up with a {fmt(rate / 1e3, 'g')} kHz array trigger in real time, extrapolated "
             f"from this run's {n} array events (stage seconds per array event x rate; wall seconds, so an "
             "upper bound on a shared machine). `source` and `camera` are the toy's simulation of the "
             "showers and of the cameras' digitisation and trigger, done by the sky and the camera "
             "hardware in reality; the on-site software is the rest:"),
        Table(["stage", "core-ms per array event", "cores"], rows),
    ]


def restarts_section(summary: Mapping[str, Any]) -> list[Block]:
    """Actor processes that died and were restarted (their blocks resubmitted), and a resumed run."""
    r = summary["restarts"]
    lines = [f"{r['count']} actor restart(s) (at most {r['max_restarts']} per actor process)"]
    if r.get("resumed_blocks"):
        lines.append(f"resumed run: {r['resumed_blocks']} block(s) taken from the archive journal of the "
                     "interrupted run, the others run now")
    kills = (summary.get("faults") or {}).get("process", {}).get("kill", [])
    lines += [f"injected: {k['role']} actor {k['actor']} killed at block {k['block']} "
              f"({'done' if k['done'] else 'not reached'})" for k in kills]
    blocks: list[Block] = [Heading("Restarts"), Bullets(lines)]
    if r["events"]:
        rows = [[e["role"], str(e["actor"]), str(e["block"]), f"{e['stream']} #{e['block_index']}",
                 ", ".join(map(str, e["resubmitted_blocks"]))] for e in r["events"]]
        blocks.append(Table(["role", "actor", "first failed block", "stream block", "blocks resubmitted"], rows))
    return blocks


def dl1_section(summary: Mapping[str, Any]) -> list[Block]:
    d = summary["dl1"]
    rows = [
        ["pass", fmt(d["pass_number"])],
        ["array events", fmt(d["array_events"], ".0f")],
        ["telescope images", fmt(d["telescope_events"], ".0f")],
        ["images surviving cleaning", fmt(d.get("images_surviving_cleaning"), ".0f")],
        ["images stored", fmt(d["images_stored"], ".0f")],
        ["image processing (s): calibration, cleaning, parameters", fmt(d["image_processing_s"])],
        ["wall (s), incl. archive reading and DL1 writing", fmt(d["wall_s"])],
        ["images/s end to end", fmt(d["images_per_s"])],
    ]
    return [Heading("DL1: calibrated images and image parameters"), Table(["quantity", "value"], rows)]


GRADIENT_FLAG_PER_DEG = 0.05  # a measured NSB gradient above this (fraction of the central NSB per deg) is flagged
LISTED_PIXELS = 20            # pixel ids listed per telescope and status in the report


def pixel_flags(d: Mapping[str, Any]) -> list[str]:
    """One flag per telescope type with dead or noisy pixels found or a measured NSB gradient."""
    flags = []
    for tel_type, t in d["by_tel_type"].items():
        found, grad = t["found"], t["nsb_gradient"]
        parts = [f"{found[k]} {k} pixels" for k in ("dead", "noisy") if found[k]]
        if (grad["found_per_deg"] or 0.0) > GRADIENT_FLAG_PER_DEG:
            parts.append(f"an NSB gradient of {100 * grad['found_per_deg']:.0f} %/deg towards "
                         f"{grad['found_direction_deg']:.0f} deg")
        masked = "; unusable pixels masked in cleaning" if found["dead"] or found["noisy"] else ""
        if parts:
            flags.append(f"**FLAGGED** {tel_type} ({t['telescopes']} telescopes): {', '.join(parts)}{masked}")
    return flags


def pixel_quality_blocks(d: Mapping[str, Any]) -> list[Block]:
    """The "Data quality: pixels" sub-section (``ctasim.offline.pixel_quality``)."""
    flags = pixel_flags(d)
    rows = []
    for tel_type, t in d["by_tel_type"].items():
        det, inj, grad = t["detection"], t["injected"], t["nsb_gradient"]
        rows.append([tel_type, str(t["telescopes"]), f"{t['found']['dead']} / {inj['dead']}",
                     f"{det['dead']['true_positives']} / {det['dead']['missed']} / {det['false_positives']['dead']}",
                     f"{det['hot']['true_positives']} / {inj['hot']}",
                     f"{det['star']['true_positives']} / {inj['star']}",
                     str(det["false_positives"]["noisy"]),
                     f"{fmt(grad['injected_per_deg'], '.3f')} / {fmt(grad['found_per_deg'], '.3f')}",
                     fmt(t["dl1"]["survival_fraction"], ".3f")])
    listing = [f"{tel}: dead {ids['dead'][:LISTED_PIXELS]}, noisy {ids['noisy'][:LISTED_PIXELS]}"
               + (" (first 20)" if max(len(ids["dead"]), len(ids["noisy"])) > LISTED_PIXELS else "")
               for tel, ids in d["telescopes"].items() if ids["dead"] or ids["noisy"]]
    blocks: list[Block] = [
        Heading("Data quality: pixels", 3),
        Para(f"Pixels found from the pedestal events' std per pixel: dead below "
             f"{d['thresholds']['dead_std_fraction']} x, noisy (hot or star) above "
             f"{d['thresholds']['noisy_std_factor']} x the std expected where they are (camera median, then the "
             "fitted NSB plane); both masked in image cleaning."),
        Bullets(flags or ["no dead or noisy pixel found and no NSB gradient"]),
        Table(["type", "tels", "dead found / injected", "dead TP / missed / FP", "hot found / injected",
               "star px found / injected", "noisy FP", "NSB gradient /deg injected / found", "DL1 survival"], rows),
    ]
    if listing:
        blocks.append(Bullets(listing))
    effect = d.get("effect")
    if effect and d.get("injected_any"):  # a twin made for the telescope faults alone: their section says it
        healthy, ratio = effect.get("healthy") or {}, effect.get("ratio") or {}
        faulty = effect["faulty"]
        erows = [[k, fmt(faulty.get(k)), fmt(healthy.get(k)), fmt(ratio.get(k))]
                 for k in ("array_trigger_rate_hz", "r68_deg", "energy_resolution")]
        for k in ("camera_trigger_rate_hz", "survival_fraction"):
            erows += [[f"{k} {t}", fmt(v), fmt(healthy.get(k, {}).get(t)), fmt(ratio.get(k, {}).get(t))]
                      for t, v in faulty.get(k, {}).items()]
        blocks += [Para(f"Effect of the faults (comparison: {effect['comparison']})."),
                   Table(["figure", "this run", "healthy twin", "ratio"], erows)]
    return blocks


def telescope_quality_blocks(d: Mapping[str, Any]) -> list[Block]:
    """Telescope health flags, the injected telescope faults and their measured effect
    (summary ``data_quality.telescopes``)."""
    flags = d.get("flags", [])
    blocks: list[Block] = [
        Heading("Data quality: telescopes", 3),
        Para("Flagged from the archived trigger rates, pedestals and trigger times alone, each telescope "
             "against the other telescopes of its type: "
             + ("; ".join(f"**tel {f['tel_id']} {f['flag']}**: {f['reason']}" for f in flags) if flags
                else "no telescope flagged.")),
    ]
    if d.get("injected"):
        blocks.append(Table(
            ["tel", "injected fault", "setting", "flagged as", "tel trigger rate (Hz) faulty / fault-free",
             "read-out events faulty / fault-free"],
            [[str(f["tel_id"]), f["fault"], fmt(f["setting"]),
              f["expected_flag"] if f["flagged"] else "**not flagged**",
              _faulty_vs_free(f.get("effect", {}).get("trigger_rate_hz")),
              _faulty_vs_free(f.get("effect", {}).get("n_read_out"), ".0f")] for f in d["injected"]],
        ))
    eff = d.get("effect")
    if eff:
        reco = eff.get("reconstruction") or {}
        rows = [["array trigger rate (Hz)", *_pair_cells(eff.get("array_trigger_rate_hz"))],
                ["DL0 archived (B/s)", *_pair_cells(eff.get("dl0_bytes_per_s"))]]
        rows += [[label, *_pair_cells(reco.get(key))] for key, label in (
            ("n_test_gammas", "valid test gammas"), ("r68_deg", "R68, all energies (deg)"),
            ("energy_resolution", "dE/E, all energies"), ("energy_bias", "energy bias, all energies")) if key in reco]
        blocks += [Para(f"Effect against the same scenario and seed without the telescope faults "
                        f"(`{d.get('comparison_run')}`); with several faults these are their combined effect."),
                   Table(["figure", "faulty", "fault-free", "ratio"], rows)]
    elif d.get("injected"):
        blocks.append(Para("No fault-free comparison run (scenario `faults.compare_healthy` or "
                           "`faults.instrument.telescopes.healthy_run`): the effect is not measured."))
    return blocks


def _pair_cells(pair: Mapping[str, Any] | None) -> list[str]:
    pair = pair or {}
    return [fmt(pair.get("faulty")), fmt(pair.get("fault_free")), fmt(pair.get("ratio"))]


def _faulty_vs_free(pair: Mapping[str, Any] | None, spec: str = ".3g") -> str:
    return f"{fmt(pair.get('faulty'), spec)} / {fmt(pair.get('fault_free'), spec)}" if pair else "n/a"


#: sub-sections of ``data_quality`` with a renderer of their own; other parts render as a table
DATA_QUALITY_SECTIONS: dict[str, Callable[[Mapping[str, Any]], list[Block]]] = {
    "pixels": pixel_quality_blocks, "telescopes": telescope_quality_blocks}


def data_quality_section(summary: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [Heading("Data quality")]
    for part, value in summary["data_quality"].items():
        render = DATA_QUALITY_SECTIONS.get(part)
        blocks += render(value) if render else generic_section(part)({part: value})
    return blocks


# performance curves of the DL2 section: summary key, label, number format
CURVES = (
    ("angular_resolution_deg", "R68 (deg)", ".3f"),
    ("energy_resolution", "dE/E", ".3f"),
    ("energy_bias", "bias", "+.3f"),
    ("roc_auc", "AUC (E_reco)", ".3f"),
    ("trigger_efficiency", "trigger eff.", ".3f"),
    ("effective_area_m2", "A_eff (m^2)", ".3g"),
)


def dl2_section(summary: Mapping[str, Any]) -> list[Block]:
    d = summary["dl2"]
    perf = d.get("performance", {})
    curves = perf.get("curves", {})
    site = perf.get("site", "north")
    blocks: list[Block] = [
        Heading("DL2: reconstruction quality"),
        Para(
            f"{fmt(d.get('valid_events'), '.0f')} of {fmt(d.get('array_events'), '.0f')} array events "
            f"reconstructed; models {'trained on this run' if d.get('trained') else 'loaded'} "
            f"({d.get('models')}); test events: {fmt(perf.get('counts', {}).get('test_gammas'), '.0f')} "
            f"gammas, {fmt(perf.get('counts', {}).get('test_protons'), '.0f')} protons. Per true-energy "
            f"bin, beside the published CTAO Prod5 {site.capitalize()} values "
            f"({perf.get('reference', REFERENCE_NOTE)}); bins with too few events are blank. "
            "The toy's protons are easier to separate than real ones, so AUC is optimistic."
        ),
    ]
    centers = perf.get("energy_center_tev", [])

    def has_reference(curve: Mapping[str, Any]) -> bool:
        return any(v is not None for v in curve.get(f"prod5_{site}") or [])

    header = ["E (TeV)"]
    for key, label, _ in CURVES:
        if key in curves:
            header += [label] + ([f"Prod5 {site[0].upper()}"] if has_reference(curves[key]) else [])
    rows = []
    for i, e in enumerate(centers):
        row = [fmt(e, ".3g")]
        for key, _, spec in CURVES:
            if key not in curves:
                continue
            c = curves[key]
            row.append(fmt(c["value"][i], spec))
            if has_reference(c):
                row.append(fmt(c[f"prod5_{site}"][i], spec))
        if any(cell != fmt(None) for cell in row[1:]):
            rows.append(row)
    if rows:
        blocks.append(Table(header, rows))
    for path in d.get("plots", []):
        name = Path(path).name
        blocks.append(Image(name.removesuffix(".png").replace("_", " "), f"{PLOT_DIR}/{name}"))
    return blocks


# columns of the IRF table: key of irf.bins, label, number format, Prod5 key beside it (or None)
IRF_COLUMNS = (
    ("gammaness_cut", "gammaness cut", ".3f", None),
    ("theta_cut_deg", "theta cut (deg)", ".3f", None),
    ("effective_area_m2", "A_eff (m^2)", ".3g", None),
    # Prod5's IRFs are full-enclosure: their A_eff has no direction cut (ctasim.irf.fidelity.OURS)
    ("effective_area_no_theta_cut_m2", "A_eff no theta cut (m^2)", ".3g", "effective_area_m2"),
    ("r68_deg", "R68 (deg)", ".3f", "r68_deg"),
    ("energy_resolution", "dE/E", ".3f", "energy_resolution"),
    ("background_rate_hz", "bkg rate on (1/s)", ".3g", None),
    ("background_rate_per_s_mev_sr", "bkg rate (1/(s MeV sr))", ".3g", "background_rate_per_s_mev_sr"),
    ("sensitivity_crab", "sens. (Crab)", ".3g", "sensitivity_crab"),
    ("sensitivity_erg_cm2_s", "sens. (erg/cm2/s)", ".3g", "sensitivity_erg_cm2_s"),
)


def _at(values: Sequence[Any] | None, i: int) -> Any:
    """values[i], None when the list is missing or shorter."""
    return values[i] if values is not None and i < len(values) else None


def irf_section(summary: Mapping[str, Any]) -> list[Block]:
    d = summary["irf"]
    if "error" in d:
        return [Heading("IRFs and sensitivity"), Para(f"No IRFs for this run: {d['error']}")]
    bins, site = d.get("bins", {}), d.get("site", "north")
    counts, dl3 = d.get("counts", {}), d.get("dl3", {})
    letter = site[0].upper()
    blocks: list[Block] = [
        Heading("IRFs and sensitivity"),
        Para(
            f"Pass {d.get('pass_number')}: test events only ({fmt(counts.get('test_gammas'), '.0f')} gammas, "
            f"{fmt(counts.get('test_background'), '.0f')} background), gammas weighted to "
            f"{d.get('source_spectrum')}, cosmic rays to the IRF-document spectra; gammaness cut "
            f"{'optimised for sensitivity' if d.get('gammaness_optimised') else 'at a fixed gamma efficiency'} "
            f"and theta cut per reconstructed-energy bin; A_eff after both cuts (true energy), R68 after the "
            f"gammaness cut, background rate in the on region, differential sensitivity in "
            f"{fmt(d.get('sensitivity_time_h'))} h. Prod5 {site.capitalize()} beside: "
            f"{d.get('reference', REFERENCE_NOTE)}. DL3: {len(dl3.get('observations', []))} observation(s), "
            f"{fmt(dl3.get('livetime_h'))} h, in `{dl3.get('dir')}`."
        ),
    ]
    header = ["E (TeV)"]
    for _, label, _, ref in IRF_COLUMNS:
        header += [label] + ([f"Prod5 {letter}"] if ref else [])
    rows = []
    for i, e in enumerate(bins.get("e_center_tev", [])):
        row = [fmt(e, ".3g")]
        for key, _, spec, ref in IRF_COLUMNS:
            row.append(fmt(_at(bins.get(key), i), spec))
            if ref:
                row.append(fmt(_at(bins.get(f"prod5_{site}_{ref}"), i), spec))
        rows.append(row)
    if rows:
        blocks.append(Table(header, rows))
    blocks += [Image(name.removesuffix(".png").replace("_", " "), f"{PLOT_DIR}/{name}") for name in IRF_PLOTS]
    blocks.append(Bullets([f"`{f}`" for f in d.get("files", [])] or ["no files"]))
    return blocks


def alerts_section(summary: Mapping[str, Any]) -> list[Block]:
    """The real-time alerts (summary ``alerts``): the trigger settings, one row per alert, the light curve."""
    d = summary["alerts"]
    if "error" in d:
        return [Heading("Real-time alerts"), Para(f"No real-time alerts for this run: {d['error']}")]
    alerts, timing = d.get("alerts", []), d.get("timing") or {}
    flares = "".join(f"; injected flare {fmt(f.get('start_s'))}-{fmt(f.get('stop_s'))} s" for f in d.get("flares", []))
    keeps_up = {True: "keeps up", False: "falls behind", None: "-"}[timing.get("keeps_up")]
    blocks: list[Block] = [
        Heading("Real-time alerts"),
        Para(
            f"Rolling on/off Li & Ma significance over a {fmt(d.get('window_s'))} s window of simulated time; an "
            f"alert is raised at {fmt(d.get('threshold_sigma'))} sigma and the trigger re-arms below "
            f"{fmt(d.get('rearm_sigma'))} sigma. {fmt(d.get('n_alerts', len(alerts)), '.0f')} alert(s){flares}. "
            f"The analysis {keeps_up}: {fmt(timing.get('wall_s'), '.2f')} s of wall time for "
            f"{fmt(timing.get('simulated_s'), '.0f')} s of data in {fmt(timing.get('blocks'), '.0f')} blocks "
            f"(median {fmt(timing.get('block_wall_s_median'), '.3f')} s per block of median span "
            f"{fmt(timing.get('block_span_s_median'), '.2f')} s; "
            f"{fmt(timing.get('array_events_per_wall_s'), '.0f')} array events per wall second)."
        ),
    ]
    if alerts:
        blocks.append(Table(
            ["alert", "sim time (s)", "significance (sigma)", "latency sim (s)", "latency wall (s)"],
            [[fmt(a.get("alert_id")), fmt(a.get("sim_time_s"), ".1f"), fmt(a.get("significance"), ".2f"),
              fmt(a.get("latency_sim_s"), ".1f"), fmt(a.get("latency_wall_s"), ".2f")] for a in alerts],
        ))
    blocks += [Image("alert light curve", f"{PLOT_DIR}/{name}") for name in ALERT_PLOTS]
    return blocks


def spectrum_section(summary: Mapping[str, Any]) -> list[Block]:
    """Injected vs fitted index and flux at 1 TeV, and the fitted parameters with their pulls, of the DL4
    spectral fit (summary ``science``)."""
    d = summary["science"]
    if "error" in d:
        return [Heading("Spectrum"), Para(f"No spectral fit for this run: {d['error']}")]
    injected, fit, totals = d.get("injected", {}), d.get("fit", {}), d.get("totals", {})
    sky = d.get("sky_map", {})
    truth, errors, pulls = injected.get("parameters") or {}, fit.get("errors") or {}, fit.get("pulls") or {}
    return [
        Heading("Spectrum"),
        Para(f"On/off {fit.get('model')} fit (WStat, forward folding through the point-like IRFs) of "
             f"{fmt(d.get('livetime_s'), '.0f')} s of DL3 events: {fmt(totals.get('n_on'), '.0f')} on, "
             f"{fmt(totals.get('n_off'), '.0f')} off ({d.get('n_off_regions')} reflected regions), excess "
             f"{fmt(totals.get('excess'), '.1f')}, {fmt(totals.get('significance'), '.1f')} sigma; TS "
             f"{fmt(fit.get('ts'), '.1f')}, converged: {fit.get('success')}. Sky map peak "
             f"{fmt(sky.get('peak_significance'), '.1f')} sigma, {fmt(sky.get('peak_offset_from_source_deg'), '.2f')} "
             f"deg from the source; frame {d.get('frame')}."),
        Table(["", "index at 1 TeV", "flux at 1 TeV (1/(TeV cm2 s))"], [
            [f"injected ({injected.get('model')})", fmt(injected.get("local_index"), ".3f"),
             fmt(injected.get("flux_1tev"))],
            [f"fitted ({fit.get('model')})", f"{fmt(fit.get('index'), '.3f')} +- {fmt(fit.get('index_error'), '.3f')}",
             f"{fmt(fit.get('flux_1tev'))} +- {fmt(fit.get('flux_1tev_error'))}"],
        ]),
        Table(["parameter", "injected", "fitted", "error", "pull"], [
            [name, fmt(truth.get(name)), fmt(value), fmt(errors.get(name)), fmt(pulls.get(name), ".2f")]
            for name, value in (fit.get("parameters") or {}).items()
        ]),
    ]


def pass_section(summary: Mapping[str, Any]) -> list[Block]:
    p = summary["pass"]
    rows = [["pass", fmt(p["number"])], ["label", fmt(p.get("label"))], ["description", p.get("description") or ""],
            ["base run", p["base_run"]], ["changes", json.dumps(p["changes"])],
            ["DL0 archives read", ", ".join(a["file"] for a in p["dl0"])]]
    return [Heading(f"Reprocessing pass {p['number']}"), Table(["key", "value"], rows)]


def passes_section(summary: Mapping[str, Any]) -> list[Block]:
    c = summary["passes"]
    labels = c["labels"]
    blocks: list[Block] = [
        Heading("Passes side by side"),
        Para("Pass 1 is the run itself; each later pass re-ran the offline stages from the same DL0 archives."),
        Table(["pass", "changes"], [[label, json.dumps(ch) if ch else "(the run's configuration)"]
                                    for label, ch in zip(labels, c["changes"])]),
        Table(["figure", *labels], [[f["name"], *(fmt(v, "d" if isinstance(v, int) else ".3g") for v in f["values"])]
                                    for f in c["figures"]]),
    ]
    for name, curve in c["curves"].items():
        rows = [[fmt(e), *(fmt(v) for v in values)] for e, values in zip(curve["energy_center_tev"], curve["values"])
                if any(v is not None for v in values)]
        if rows:
            blocks += [Heading(name, 3), Table(["E (TeV)", *labels], rows)]
    return blocks


def dvr_section(summary: Mapping[str, Any]) -> list[Block]:
    d = summary["dvr"]
    variants = d["variants"]
    first = next(iter(variants.values()))
    blocks: list[Block] = [
        Heading("Data-volume reduction study"),
        Para(f"Every variant derived from the same full-R1 archive and reconstructed with the same models; "
             f"reference: {d['reference']}. Extrapolated at {fmt(first['assumed_array_rate_hz'])} Hz of array "
             "events (DL0 blocks only); link: 1 Gb/s, 8 h nights, 1,314 h a year."),
        Table(["variant", "bytes / array event", "factor from R1", "GB/s", "PB / year", "link days / night",
               "cannot be redone"],
              [[name, fmt(v["bytes_per_array_event"], ".4g"), fmt(v["reduction_factor_from_r1"]), fmt(v["gb_per_s"]),
                fmt(v["pb_per_year"]), fmt(v["link_days_per_night"]), "; ".join(v["reprocessable"]) or "-"]
               for name, v in variants.items()]),
    ]
    centres = first["performance"].get("energy_center_tev", [])
    for curve in ("energy_resolution", "angular_resolution_deg", "effective_area_m2"):
        rows = [[fmt(e), *(fmt(_at(v["performance_ratio_to_reference"].get(curve), i)) for v in variants.values())]
                for i, e in enumerate(centres)
                if any(_at(v["performance_ratio_to_reference"].get(curve), i) is not None for v in variants.values())]
        if rows:
            blocks += [Heading(f"{curve}: ratio to {d['reference']}", 3), Table(["E_true (TeV)", *variants], rows)]
    return blocks


def files_section(summary: Mapping[str, Any]) -> list[Block]:
    return [Heading("Files"), Bullets([f"`{f}`" for f in summary["files"]] or ["none"])]


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, leaf value) pairs of a nested mapping; lists of scalars kept as one leaf."""
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in flatten(v, f"{prefix}.{k}" if prefix else k)]
    return [(prefix, value)]


def generic_section(key: str) -> Section:
    """A section for a summary key without a renderer of its own: a table of its values."""

    def render(summary: Mapping[str, Any]) -> list[Block]:
        rows = [
            [k, fmt(v) if not isinstance(v, list) else json.dumps(v)]
            for k, v in flatten(summary[key])
        ]
        return [Heading(key), Table(["key", "value"], rows)]

    return render


SECTIONS: dict[str, Section] = {
    "scenario": scenario_section,
    "accounting": accounting_section,
    "rates": rates_section,
    "reduction": reduction_section,
    "timing": timing_section,
    "restarts": restarts_section,
    "dl1": dl1_section,
    "data_quality": data_quality_section,
    "dl2": dl2_section,
    "irf": irf_section,
    "science": spectrum_section,
    "alerts": alerts_section,
    "pass": pass_section,
    "passes": passes_section,
    "dvr": dvr_section,
}
TRAILING_SECTIONS: dict[str, Section] = {"files": files_section}


def render_blocks(summary: Mapping[str, Any]) -> list[Block]:
    """The report's blocks: the known sections, every other summary key, then the files."""
    sections = [SECTIONS[k] for k in SECTIONS if k in summary]
    sections += [generic_section(k) for k in summary if k not in SECTIONS | TRAILING_SECTIONS]
    sections += [TRAILING_SECTIONS[k] for k in TRAILING_SECTIONS if k in summary]
    return [block for section in sections for block in section(summary)]


# -- output formats ---------------------------------------------------------------------------


def to_markdown(blocks: Sequence[Block]) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(b.header) + " |", "|" + "---|" * len(b.header)]
            lines += [
                "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in b.rows
            ]
            out.append("\n".join(lines))
        elif isinstance(b, Image):
            out.append(f"![{b.alt}]({b.src})")
        else:
            out.append("\n".join(f"- {item}" for item in b.items))
    return "\n\n".join(out) + "\n"


def _inline_html(text: str) -> str:
    """Escape, then render the two inline marks used here: **bold** and `code`."""
    parts = html.escape(text).split("**")
    text = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def to_html(blocks: Sequence[Block], title: str) -> str:
    body = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{_inline_html(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            body.append(f"<p>{_inline_html(b.text)}</p>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_inline_html(h)}</th>" for h in b.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in row) + "</tr>"
                for row in b.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, Image):
            body.append(f'<p><img src="{html.escape(b.src)}" alt="{html.escape(b.alt)}"></p>')
        else:
            items = "".join(f"<li>{_inline_html(i)}</li>" for i in b.items)
            body.append(f"<ul>{items}</ul>")
    style = (
        "body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{max-width:100%}"
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


# -- writing ----------------------------------------------------------------------------------


def write_summary_json(path: Path, summary: Mapping[str, Any]) -> Path:
    """summary.json, atomically; refuses (ValueError/TypeError) what is not plain JSON."""
    return write_text_atomic(path, json.dumps(summary, indent=2, allow_nan=False) + "\n")


def write_run_report(run_dir: Path, summary: Mapping[str, Any], scenario: Any) -> Path:
    """Write summary.json, plots/*.png, report.md, report.html and (if absent) provenance.json
    into ``run_dir``; ``scenario`` is a ``Scenario`` or its resolved mapping. Returns report.md."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    outputs = [write_summary_json(run_dir / SUMMARY_FILE, summary)]
    outputs += write_plots(summary, run_dir / PLOT_DIR).values()
    blocks = render_blocks(summary)
    title = f"ctasim run report: {summary['scenario'].get('name')}"
    outputs.append(write_text_atomic(run_dir / REPORT_MD, to_markdown(blocks)))
    outputs.append(write_text_atomic(run_dir / REPORT_HTML, to_html(blocks, title)))
    prov_path = run_dir / PROVENANCE_FILE
    if not prov_path.exists():
        resolved = scenario.to_dict() if hasattr(scenario, "to_dict") else dict(scenario)
        prov = make_provenance(
            resolved["name"],
            resolved,
            resolved["seed"],
            extra={
                "outputs": [
                    *summary.get("files", []),
                    *(str(p.relative_to(run_dir)) for p in outputs),
                ]
            },
        )
        write_provenance_json(prov_path, prov)
    return run_dir / REPORT_MD

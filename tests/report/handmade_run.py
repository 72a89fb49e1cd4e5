"""A hand-made run with round numbers: counts, bytes per stage and type, a 2 s simulated span.

gamma stream, 100 showers: 60 no telescope trigger, 15 below multiplicity, 25 array events (all
archived). Camera triggers LST 60 (50 read out, 10 below multiplicity), MST 40 (30 read out,
10 outside the window); read-out MST event lost once at the archive. Bytes: R1 300 kB per LST
event, 400 kB per MST event (27 MB read out); the archived variant ``pixel_selection`` after
each step (LST + MST, bytes): r1 and window_cut 27_001_280 (16 B of ids per event), gain
selection 7.5 + 6 MB, integration 1.5 + 1 MB, pixel selection 3 + 2 MB, compression 1.2 + 0.6 MB;
the comparison variant ``raw`` compresses to 9 MB. Archived LST 1.25 MB + MST 0.65 MB + 0.1 MB
subarray tables; technical data 0.5 MB.
"""

from ctasim import accounting as A

SCENARIO = {
    "name": "handmade",
    "seed": 7,
    "array": {"layout": "north_alpha"},
    "reduction": {"variant": "pixel_selection", "compare_variants": ["raw"]},
}
ID_BYTES = {"LST": 50 * 16, "MST": 30 * 16}
R1 = {"LST": 50 * 300_000, "MST": 30 * 400_000}
REDUCED = {  # variant -> step -> bytes of LST, MST
    "pixel_selection": {
        "r1": (R1["LST"] + ID_BYTES["LST"], R1["MST"] + ID_BYTES["MST"]),
        "window_cut": (R1["LST"] + ID_BYTES["LST"], R1["MST"] + ID_BYTES["MST"]),
        "gain_selection": (7_500_000, 6_000_000),
        "integration": (1_500_000, 1_000_000),
        "pixel_selection": (3_000_000, 2_000_000),
        "compression": (1_200_000, 600_000),
    },
    "raw": dict.fromkeys(("r1", "window_cut", "gain_selection", "integration", "pixel_selection"),
                         (R1["LST"] + ID_BYTES["LST"], R1["MST"] + ID_BYTES["MST"]))
    | {"compression": (5_000_000, 4_000_000)},
}
RATE_HZ = 1000.0  # configured array trigger rate for the extrapolation


def handmade_accounting() -> A.Accounting:
    acc = A.Accounting()
    for stage, n, tel_type in [
        (A.SHOWERS_SIMULATED, 100, A.ALL),
        (A.SHOWERS_NO_TELESCOPE_TRIGGER, 60, A.ALL),
        (A.SHOWERS_BELOW_MULTIPLICITY, 15, A.ALL),
        (A.SHOWERS_ARRAY_TRIGGERED, 25, A.ALL),
        (A.ARRAY_EVENTS, 25, A.ALL),
        (A.ARRAY_EVENTS_ARCHIVED, 25, A.ALL),
        (A.TELESCOPE_TRIGGERS, 60, "LST"),
        (A.TELESCOPE_EVENTS_READ_OUT, 50, "LST"),
        (A.TELESCOPE_TRIGGERS_DROPPED + ".below_multiplicity", 10, "LST"),
        (A.TELESCOPE_EVENTS_ARCHIVED, 50, "LST"),
        (A.TELESCOPE_TRIGGERS, 40, "MST"),
        (A.TELESCOPE_EVENTS_READ_OUT, 30, "MST"),
        (A.TELESCOPE_TRIGGERS_DROPPED + ".outside_window", 10, "MST"),
        (A.TELESCOPE_EVENTS_ARCHIVED, 29, "MST"),
        (A.TELESCOPE_EVENTS_LOST + ".archive_write", 1, "MST"),
    ]:
        acc.add(stage, n, "gamma", tel_type)
    return acc


def handmade_rates() -> A.RateMeter:
    meter = A.RateMeter()
    meter.add_time_span(0.0, 2.0, "gamma")
    for stage, nbytes, n, tel_type, tel_id in [
        ("r1_camera_triggers", 60 * 300_000, 60, "LST", 1),
        ("r1_camera_triggers", 40 * 400_000, 40, "MST", 5),
        ("r1_read_out", 50 * 300_000, 50, "LST", 1),
        ("r1_read_out", 30 * 400_000, 30, "MST", 5),
        ("dl0_archived", 1_250_000, 50, "LST", 1),
        ("dl0_archived", 650_000, 29, "MST", 5),
        ("dl0_archived", 100_000, 0, A.ALL, 0),
        ("technical_data", 500_000, 0, A.ALL, 0),
        *[
            (f"reduce.{variant}.{step}", nbytes, n, tel_type, tel_id)
            for variant, steps in REDUCED.items()
            for step, sizes in steps.items()
            for nbytes, n, tel_type, tel_id in zip(sizes, (50, 30), ("LST", "MST"), (1, 5))
        ],
    ]:
        meter.add(stage, nbytes, n, tel_type, tel_id, "gamma")
    return meter

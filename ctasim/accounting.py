"""Event accounting (counts per stage that must add up) and rate metering (bytes per simulated second).

``Accounting`` counts events at each stage, keyed by stream (particle) and telescope type, merges
across actors, and ``check()`` proves that nothing vanished: every shower, camera trigger and
read-out event ends in exactly one state (the identities in ``BALANCES``). Who records what:
the shower source ``showers_simulated``; the central trigger everything in
``record_array_trigger``; the archiver ``telescope_events_archived`` / ``array_events_archived``;
any stage losing data ``telescope_events_lost.<reason>`` / ``array_events_lost.<reason>``;
reducers may add informational stages (``telescope_events_reduced``) that no balance uses; the
archive writer counts monitoring rows it left out (``monitoring_rows_left_out.<table>``, e.g. a
pedestal without pedestal events) instead of writing NaN.

``RateMeter`` sums bytes (and events) per stage, telescope type and telescope, and the simulated
time span they cover, giving bytes per simulated second and the extrapolations of ``rates.py``.
Both are plain, JSON-friendly objects (``to_dict`` / ``from_dict``) for summary.json and for
restoring a restarted actor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .array_trigger import ArrayTriggerResult
from .datamodel.paths import tel_table_name
from .datamodel.trigger import FATE_NAMES, NSB_ONLY_EVENT, READ_OUT
from .rates import volume_figures

SHOWERS_SIMULATED = "showers_simulated"
SHOWERS_NO_TELESCOPE_TRIGGER = "showers_no_telescope_trigger"
SHOWERS_BELOW_MULTIPLICITY = "showers_below_multiplicity"
SHOWERS_ARRAY_TRIGGERED = "showers_array_triggered"
ARRAY_EVENTS = "array_events"
ARRAY_EVENTS_ARCHIVED = "array_events_archived"
ARRAY_EVENTS_LOST = "array_events_lost"  # + .<reason>
# informational (no balance): array events made of accidental (NSB-only) camera triggers alone, in
# stream NSB_STREAM; the array trigger fired but the toy chain does not archive them (their camera
# triggers end as telescope_triggers_dropped.nsb_only_event)
ARRAY_EVENTS_NSB_ONLY = "array_events_nsb_only"
NSB_STREAM = "nsb"  # stream of the accidental camera triggers that joined no shower
TELESCOPE_TRIGGERS = "telescope_triggers"
TELESCOPE_TRIGGERS_DROPPED = "telescope_triggers_dropped"  # + .<reason> (array_trigger.FATE_NAMES)
# triggers of a broken camera that sent no data (an injected fault): they never reached the central trigger
TELESCOPE_TRIGGERS_NO_DATA = f"{TELESCOPE_TRIGGERS_DROPPED}.no_data"
TELESCOPE_EVENTS_READ_OUT = "telescope_events_read_out"
TELESCOPE_EVENTS_REDUCED = "telescope_events_reduced"
TELESCOPE_EVENTS_ARCHIVED = "telescope_events_archived"
TELESCOPE_EVENTS_LOST = "telescope_events_lost"  # + .<reason>
MONITORING_ROWS_LEFT_OUT = "monitoring_rows_left_out"  # + .<table>: values that could not be measured

# total = sum of parts; a part ending in ".*" stands for every stage with that prefix
BALANCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        SHOWERS_SIMULATED,
        (SHOWERS_NO_TELESCOPE_TRIGGER, SHOWERS_BELOW_MULTIPLICITY, SHOWERS_ARRAY_TRIGGERED),
    ),
    (SHOWERS_ARRAY_TRIGGERED, (ARRAY_EVENTS,)),
    (ARRAY_EVENTS, (ARRAY_EVENTS_ARCHIVED, ARRAY_EVENTS_LOST + ".*")),
    (TELESCOPE_TRIGGERS, (TELESCOPE_EVENTS_READ_OUT, TELESCOPE_TRIGGERS_DROPPED + ".*")),
    (TELESCOPE_EVENTS_READ_OUT, (TELESCOPE_EVENTS_ARCHIVED, TELESCOPE_EVENTS_LOST + ".*")),
)
TRIGGER_BALANCES = BALANCES[:2] + BALANCES[3:4]  # for a chain that stops at the central trigger

ALL = ""  # key value for "not split by this" (shower stages have no telescope type)

# rate-meter stages of the on-site chain (bytes metered by the actors)
STAGE_R1_CAMERA = "r1_camera_triggers"  # raw R1 of every camera trigger
STAGE_R1_READOUT = "r1_read_out"  # raw R1 of the events the stereo trigger accepted
STAGE_DL0_ARCHIVED = "dl0_archived"  # bytes written for event data
STAGE_TECHNICAL = "technical_data"  # monitoring tables (pointing, rates, pedestals, weather)
REDUCER_PREFIX = "reduce."  # reducer steps: reduce.<variant>.<step>


def reduction_stage(variant: str, step: str) -> str:
    """Rate-meter stage of a reduction step, e.g. ``reduce.pixel_selection.compression``."""
    return f"{REDUCER_PREFIX}{variant}.{step}"


class AccountingError(RuntimeError):
    """Counts do not add up: an event vanished or was counted twice. Message names the identity."""


class Accounting:
    """Event counters keyed by (stage, stream, tel_type); mergeable and checkable."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def add(self, stage: str, n: int, stream: str, tel_type: str = ALL) -> None:
        """Count ``n`` events at ``stage`` for a stream (particle) and telescope type."""
        if n < 0:
            raise ValueError(f"negative count {n} for stage {stage!r}")
        self.counts[(stage, stream, tel_type)] += int(n)

    def merge(self, *others: Accounting) -> Accounting:
        """Add the counts of other accountings (e.g. of several actors) into this one; returns self."""
        for other in others:
            self.counts.update(other.counts)
        return self

    @classmethod
    def merged(cls, parts: Iterable[Accounting]) -> Accounting:
        return cls().merge(*parts)

    def total(self, stage: str, stream: str | None = None, tel_type: str | None = None) -> int:
        """Count at a stage (``prefix.*`` sums all its reasons), optionally of one stream / type."""
        prefix = stage[:-1] if stage.endswith(".*") else None
        return sum(
            n
            for (s, st, tt), n in self.counts.items()
            if (s.startswith(prefix) if prefix else s == stage)
            and (stream is None or st == stream)
            and (tel_type is None or tt == tel_type)
        )

    def check(self, balances: Sequence[tuple[str, Sequence[str]]] = BALANCES) -> None:
        """Raise AccountingError unless every identity holds for every (stream, tel_type) key."""
        keys = {(st, tt) for _, st, tt in self.counts}
        for total, parts in balances:
            for stream, tel_type in sorted(keys):
                want = self.total(total, stream, tel_type)
                got = {p: self.total(p, stream, tel_type) for p in parts}
                if want != sum(got.values()):
                    detail = ", ".join(f"{p} {n}" for p, n in got.items())
                    raise AccountingError(
                        f"accounting does not close for stream={stream!r} tel_type={tel_type!r}: "
                        f"{total} = {want} but {' + '.join(parts)} = {sum(got.values())} ({detail})"
                    )

    def record_array_trigger(
        self, result: ArrayTriggerResult, stream: str, n_showers: int, tel_types: Sequence[str]
    ) -> None:
        """Count one block's central-trigger outcome: shower states, array events, and every camera
        trigger by fate and telescope type (``tel_types`` per layout row, e.g. size_classes()).
        Accidental triggers that joined no shower (``result.nsb_trigger``) and the NSB-only array
        events are counted in stream NSB_STREAM instead."""
        self.add(SHOWERS_NO_TELESCOPE_TRIGGER, n_showers - result.n_showers_triggered, stream)
        self.add(SHOWERS_BELOW_MULTIPLICITY, result.n_showers_below_multiplicity, stream)
        self.add(SHOWERS_ARRAY_TRIGGERED, result.n_events, stream)
        self.add(ARRAY_EVENTS, result.n_events, stream)
        if result.nsb_trigger is None:
            self._count_triggers(result, stream, tel_types, slice(None))
            return
        self.add(ARRAY_EVENTS_NSB_ONLY, result.n_nsb_events, NSB_STREAM)
        self._count_triggers(result, stream, tel_types, ~result.nsb_trigger)
        self._count_triggers(result, NSB_STREAM, tel_types, result.nsb_trigger)

    def _count_triggers(self, result: ArrayTriggerResult, stream: str, tel_types: Sequence[str],
                        select: slice | np.ndarray) -> None:
        type_names, type_of_tel = np.unique(np.asarray(tel_types), return_inverse=True)
        n_fates = len(FATE_NAMES)
        counts = np.bincount(
            type_of_tel[result.tel_index[select]] * n_fates + result.fate[select],
            minlength=type_names.size * n_fates,
        ).reshape(type_names.size, n_fates)
        for t, tel_type in enumerate(type_names.tolist()):
            self.add(TELESCOPE_TRIGGERS, int(counts[t].sum()), stream, tel_type)
            for fate, name in enumerate(FATE_NAMES):
                if fate == NSB_ONLY_EVENT and not counts[t, fate]:
                    continue  # runs without accidentals keep their stages
                stage = (
                    TELESCOPE_EVENTS_READ_OUT
                    if fate == READ_OUT
                    else f"{TELESCOPE_TRIGGERS_DROPPED}.{name}"
                )
                self.add(stage, int(counts[t, fate]), stream, tel_type)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: per stage total, by_stream, by_tel_type; plus the raw ``counts`` rows."""
        stages: dict[str, dict[str, Any]] = {}
        for (stage, stream, tel_type), n in sorted(self.counts.items()):
            entry = stages.setdefault(stage, {"total": 0, "by_stream": {}, "by_tel_type": {}})
            entry["total"] += n
            entry["by_stream"][stream] = entry["by_stream"].get(stream, 0) + n
            if tel_type != ALL:
                entry["by_tel_type"][tel_type] = entry["by_tel_type"].get(tel_type, 0) + n
        return {
            "stages": stages,
            "counts": [[s, st, tt, n] for (s, st, tt), n in sorted(self.counts.items())],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Accounting:
        acc = cls()
        for stage, stream, tel_type, n in data["counts"]:
            acc.add(stage, n, stream, tel_type)
        return acc


class RateMeter:
    """Bytes and events per stage, telescope type and telescope, per stream (particle population).

    Each stream is its own simulated timeline (its own arrival rate): bytes per simulated second
    are summed over streams of bytes / that stream's time span, so populations of different
    rates add up as they would on the sky.
    """

    def __init__(self) -> None:
        # (stage, tel_type, tel_id, stream) -> bytes / events
        self.bytes: Counter[tuple[str, str, int, str]] = Counter()
        self.events: Counter[tuple[str, str, int, str]] = Counter()
        self.spans: dict[str, tuple[float, float]] = {}  # stream -> (t_start, t_stop) s

    def add(
        self, stage: str, nbytes: int, n_events: int = 0, tel_type: str = ALL, tel_id: int = 0,
        stream: str = ALL,
    ) -> None:
        """Meter ``nbytes`` (and ``n_events``) at a stage; tel_id 0 for subarray-level data."""
        key = (stage, tel_type, int(tel_id), stream)
        self.bytes[key] += int(nbytes)
        self.events[key] += int(n_events)

    def add_time_span(self, t_start: float, t_stop: float, stream: str = ALL) -> None:
        """Extend the simulated time a stream covers (s since its run start) by a block's span."""
        lo, hi = self.spans.get(stream, (np.inf, -np.inf))
        self.spans[stream] = (min(lo, float(t_start)), max(hi, float(t_stop)))

    def stream_seconds(self, stream: str) -> float:
        lo, hi = self.spans.get(stream, (np.inf, -np.inf))
        return max(0.0, hi - lo) if np.isfinite(lo) else 0.0

    @property
    def simulated_seconds(self) -> float:
        """Longest stream time span (s); rates use each stream's own span."""
        return max((self.stream_seconds(s) for s in self.spans), default=0.0)

    def merge(self, *others: RateMeter) -> RateMeter:
        for other in others:
            self.bytes.update(other.bytes)
            self.events.update(other.events)
            for stream, (lo, hi) in other.spans.items():
                self.add_time_span(lo, hi, stream)
        return self

    def stage_bytes(self, stage: str) -> int:
        return sum(b for k, b in self.bytes.items() if k[0] == stage)

    def _group(
        self, stage: str, group_of: Callable[[tuple[str, str, int, str]], str | None]
    ) -> dict[str, Any]:
        """Entries of one stage summed per group name (keys mapped to None are left out)."""
        nbytes: Counter[str] = Counter()
        events: Counter[str] = Counter()
        rate: Counter[str] = Counter()
        timed: set[str] = set()
        # sorted: float sums must not depend on the order acks arrived in (merge order)
        for key, n in sorted(self.bytes.items()):
            group = group_of(key) if key[0] == stage else None
            if group is not None:
                nbytes[group] += n
                events[group] += self.events[key]
                span = self.stream_seconds(key[3])
                if span > 0:
                    rate[group] += n / span
                    timed.add(group)
        return {
            g: {
                "bytes": nbytes[g],
                "events": events[g],
                "bytes_per_s": rate[g] if g in timed else None,
                "bytes_per_event": nbytes[g] / events[g] if events[g] else None,
            }
            for g in sorted(nbytes)
        }

    def to_dict(self, **extrapolation: float) -> dict[str, Any]:
        """``rates`` for summary.json: per stage the totals, ``by_tel_type`` and ``by_telescope``
        (``tel_NNN``), each with bytes, events, bytes_per_s, bytes_per_event; stage totals also get
        the extrapolated volume figures (``rates.volume_figures``, keyword arguments passed on).
        ``counts`` holds the raw rows for ``from_dict``."""
        stages: dict[str, Any] = {}
        for stage in sorted({k[0] for k in self.bytes}):
            entry = self._group(stage, lambda k: "all")["all"]
            if entry["bytes_per_s"] is not None:
                entry |= volume_figures(entry["bytes_per_s"], **extrapolation)
            entry["by_tel_type"] = self._group(stage, lambda k: k[1] if k[1] != ALL else None)
            entry["by_telescope"] = self._group(
                stage, lambda k: tel_table_name(k[2]) if k[2] else None
            )
            stages[stage] = entry
        raw = self.raw_dict()
        return {"simulated_seconds": self.simulated_seconds, "streams": raw["streams"], "stages": stages,
                "counts": raw["counts"]}

    def raw_dict(self) -> dict[str, Any]:
        """Only what ``from_dict`` reads back (``streams`` and ``counts``), without the per-stage
        figures of ``to_dict``: a block's acknowledgement carries this (the figures cost 9 ms a block)."""
        return {
            "streams": {s: {"t_start": lo, "t_stop": hi, "seconds": self.stream_seconds(s)}
                        for s, (lo, hi) in sorted(self.spans.items())},
            "counts": [[*k, self.bytes[k], self.events[k]] for k in sorted(self.bytes)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RateMeter:
        meter = cls()
        for stage, tel_type, tel_id, stream, nbytes, n_events in data["counts"]:
            meter.add(stage, nbytes, n_events, tel_type, tel_id, stream)
        for stream, span in data.get("streams", {}).items():
            meter.add_time_span(span["t_start"], span["t_stop"], stream)
        return meter

    def reduction(self, chains: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """``reduction`` for summary.json: per variant (a named chain of stages, first = reference),
        the factor of every step (bytes before / bytes after) and overall."""
        out: dict[str, Any] = {}
        for variant, chain in chains.items():
            sizes = [self.stage_bytes(s) for s in chain]
            steps = {
                f"{a}->{b}": (x / y if y else None)
                for a, b, x, y in zip(chain, chain[1:], sizes, sizes[1:])
            }
            out[variant] = {
                "steps": steps,
                "overall": sizes[0] / sizes[-1] if sizes[-1] else None,
                "bytes": dict(zip(chain, sizes)),
            }
        return out

"""scripts/bench_codecs.py on a tiny block: its JSON rows cover both cameras, every column and codec asked."""

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_codecs.py"
spec = importlib.util.spec_from_file_location("bench_codecs_script", SCRIPT)
bench = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_json_rows(capsys):
    assert bench.main(["--showers", "40", "--max-events", "3", "--codecs", "none", "lz4", "--repeat", "1",
                       "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    assert {r["camera"] for r in rows} == {"LSTCam", "NectarCam"}
    assert {r["codec"] for r in rows} == {"none", "lz4"}
    assert {r["data"] for r in rows} == {"raw waveforms", "gain-selected waveforms", "charges float32",
                                         "peak times float32", "charges poisson 0.5 (int16)",
                                         "peak times 0.25 ns (int16)"}
    by = {(r["camera"], r["data"], r["codec"]): r for r in rows}
    lst_raw = by["LSTCam", "raw waveforms", "none"]
    n = lst_raw["n_events"]
    assert 0 < n <= 3 and lst_raw["nbytes"] == n * 1855 * 2 * 40 * 2 and lst_raw["ratio"] == 1.0
    assert by["LSTCam", "gain-selected waveforms", "none"]["nbytes"] == lst_raw["nbytes"] // 2
    assert by["LSTCam", "charges poisson 0.5 (int16)", "none"]["nbytes"] == n * 1855 * 2

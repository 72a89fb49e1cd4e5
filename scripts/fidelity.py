"""Physics fidelity: a run's R68, dE/E, effective area and background rate beside CTAO Prod5's.

Run as ``python scripts/fidelity.py RUN_DIR [RUN_DIR ...] [--e-min 0.05] [--e-max 30] [--json]``
on run directories with an IRF pass (``ctasim run`` with ``irf.enabled``, or ``ctasim irf``): for
each it prints per energy bin ours, Prod5's (the run's site) and the ratio, then the worst factor per
quantity against its limit (``ctasim.irf.fidelity.LIMITS``) and overall. Exit status 2 with one line
when a directory has no IRF section; 0 otherwise (the verdict is printed, not enforced).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ctasim.irf.fidelity import E_MAX_TEV, E_MIN_TEV, fidelity, fidelity_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--e-min", type=float, default=E_MIN_TEV, help="lowest bin centre compared (TeV)")
    parser.add_argument("--e-max", type=float, default=E_MAX_TEV, help="highest bin centre compared (TeV)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = {}
    for run_dir in args.run_dirs:
        try:
            irf = json.loads((run_dir / "summary.json").read_text()).get("irf")
        except (OSError, json.JSONDecodeError) as err:
            print(f"fidelity: error: {run_dir}: no readable summary.json ({err})", file=sys.stderr)
            return 2
        if not irf or "bins" not in irf:
            reason = (irf or {}).get("error", "no irf section (run `ctasim irf` on it first)")
            print(f"fidelity: error: {run_dir}: {reason}", file=sys.stderr)
            return 2
        results[str(run_dir)] = fidelity(irf["bins"], irf.get("site", "north"), args.e_min, args.e_max)
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    for run_dir, result in results.items():
        print(f"## {run_dir} (Prod5 {result['site']}, {result['e_min_tev']:g}-{result['e_max_tev']:g} TeV)\n")
        print("\n".join(fidelity_table(result)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write configs/layouts/*.yaml from the CTAO Prod5 position files in ../shared/reference-data.

The Prod5 files (gammasim/telescope-layouts) are not committed; this script turns their public
positions into our layout YAML. Which telescopes form the Alpha subsets is not public: we take
the MSTs (and SSTs) closest to the array centre, as REFERENCE.md suggests.

    python scripts/make_layouts.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from astropy.table import Table

SITES = {
    "north": dict(name="CTAO-North (La Palma)", lon_deg=-17.8920302, lat_deg=28.7621661,
                  altitude_m=2177.0, obs_level_m=2158.0),
    "south": dict(name="CTAO-South (Paranal)", lon_deg=-70.316, lat_deg=-24.683,
                  altitude_m=2162.0, obs_level_m=2147.0),
}
TYPES = {"north": {"L": "LST_LST_LSTCam", "M": "MST_MST_NectarCam"},
         "south": {"L": "LST_LST_LSTCam", "M": "MST_MST_FlashCam", "S": "SST_GCT_CHEC"}}
# layout name -> (site, {size letter: number of telescopes closest to the centre, None = all})
LAYOUTS = {
    "north_alpha": ("north", {"L": None, "M": 9}),
    "south_alpha": ("south", {"M": 14, "S": 37}),
    "north_omega": ("north", {"L": None, "M": None}),
    "south_omega": ("south", {"L": None, "M": None, "S": None}),
}


def write_layout(name: str, table: Table, site: str, select: dict, out: Path) -> None:
    letters = np.array([n[0] for n in table["telescope_name"]])
    r = np.hypot(table["pos_x"], table["pos_y"])
    rows = []
    for letter, count in select.items():
        idx = np.flatnonzero(letters == letter)
        idx = idx[np.argsort(r[idx], kind="stable")][:count]
        rows.extend(sorted(idx))
    s = SITES[site]
    lines = [
        f"# {name}: telescope positions from CTAO Prod5 (gammasim/telescope-layouts,",
        f"# telescope_positions_prod5_{site}.ecsv), ground frame x north, y west, z up (m),",
        "# relative to the array centre; z relative to the centre altitude.",
    ]
    if any(c is not None for c in select.values()):
        lines.append("# Alpha membership is not public: the telescopes of each size closest to the centre.")
    lines += [f"name: {name}", "site:"]
    lines += [f"  {k}: {v!r}" if isinstance(v, str) else f"  {k}: {v}" for k, v in s.items()]
    lines.append("telescopes:")
    for tel_id, i in enumerate(rows, start=1):
        t = table[i]
        typ = TYPES[site][t["telescope_name"][0]]
        lines.append(
            f"  - {{tel_id: {tel_id}, name: {t['telescope_name']}, type: {typ}, "
            f"pos: [{float(t['pos_x']):.2f}, {float(t['pos_y']):.2f}, {float(t['pos_z']):.2f}]}}"
        )
    (out / f"{name}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=Path(__file__).resolve().parents[1].parent / "shared", type=Path)
    ap.add_argument("--out", default=Path(__file__).resolve().parents[1] / "configs" / "layouts", type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (site, select) in LAYOUTS.items():
        table = Table.read(args.shared / "reference-data" / "layouts" / f"telescope_positions_prod5_{site}.ecsv",
                           format="ascii.ecsv")
        write_layout(name, table, site, select, args.out)
        print(f"wrote {args.out / name}.yaml")


if __name__ == "__main__":
    main()

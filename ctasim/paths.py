"""Where the package finds its configuration: ``configs/`` and ``scenarios/`` travel with it.

In the repository ``ctasim/configs`` and ``ctasim/scenarios`` link to the top-level folders; a
wheel carries their files as package data, so an installed ctasim finds them from any directory.
``CTASIM_CONFIG_DIR`` points the library at another configuration folder.

The CTAO Prod5 IRF files (``prod5_irf_file``) are public reference data, never shipped with the
package: they are looked up in ``$CTASIM_REFERENCE_DATA/irf`` when that variable is set, else in
``../shared/reference-data/irf`` beside the source checkout.
"""

import os
from pathlib import Path

from .errors import CtasimError

PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_DIR = Path(os.environ.get("CTASIM_CONFIG_DIR", PACKAGE_DIR / "configs"))
SCENARIO_DIR = PACKAGE_DIR / "scenarios"
REFERENCE_DATA_ENV = "CTASIM_REFERENCE_DATA"
#: the checkout's sibling folder of shared reference data (absent for an installed wheel)
CHECKOUT_REFERENCE_DATA = PACKAGE_DIR.parent.parent / "shared" / "reference-data"
#: CTAO Prod5 v0.1 Alpha IRFs, 20 deg zenith, average azimuth, 50 h (Zenodo, doi:10.5281/zenodo.5499840)
PROD5_IRF_FILES = {
    "north": "Prod5-North-20deg-AverageAz-4LSTs09MSTs.180000s-v0.1.fits.gz",
    "south": "Prod5-South-20deg-AverageAz-14MSTs37SSTs.180000s-v0.1.fits.gz",
}


def prod5_irf_file(site: str) -> Path | None:
    """The Prod5 IRF file of ``site`` ("north" or "south"), None when it is not found."""
    if site not in PROD5_IRF_FILES:
        raise CtasimError(f"Prod5 IRFs: site {site!r}: expected one of {', '.join(PROD5_IRF_FILES)}")
    root = os.environ.get(REFERENCE_DATA_ENV)
    path = (Path(root) if root else CHECKOUT_REFERENCE_DATA) / "irf" / PROD5_IRF_FILES[site]
    return path if path.is_file() else None

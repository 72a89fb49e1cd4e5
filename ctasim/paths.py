"""Where the package finds its configuration: ``configs/`` and ``scenarios/`` travel with it.

In the repository ``ctasim/configs`` and ``ctasim/scenarios`` link to the top-level folders; a
wheel carries their files as package data, so an installed ctasim finds them from any directory.
``CTASIM_CONFIG_DIR`` points the library at another configuration folder.
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_DIR = Path(os.environ.get("CTASIM_CONFIG_DIR", PACKAGE_DIR / "configs"))
SCENARIO_DIR = PACKAGE_DIR / "scenarios"

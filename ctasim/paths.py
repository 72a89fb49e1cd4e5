"""Locations of the project's configuration folders (configs/, scenarios/)."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(os.environ.get("CTASIM_CONFIG_DIR", PROJECT_ROOT / "configs"))
SCENARIO_DIR = PROJECT_ROOT / "scenarios"

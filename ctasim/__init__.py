"""ctasim: a testbed for the Cherenkov Telescope Array data path.

The library (this package) holds physics, simulation, processing and I/O and never imports Ray;
the Ray layer lives in the sibling package ``actors``.
"""

__version__ = "0.1.0"
DATA_MODEL_VERSION = "1.0"

__all__ = ["DATA_MODEL_VERSION", "__version__"]

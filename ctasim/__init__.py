"""ctasim: a testbed for the Cherenkov Telescope Array data path.

The library (this package) holds physics, simulation, processing and I/O and never imports Ray;
the Ray layer lives in the sibling package ``actors``. The data model every stage speaks is in
``ctasim.datamodel``.
"""

__version__ = "0.4.0"

__all__ = ["__version__"]

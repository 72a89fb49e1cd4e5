"""Instrument response functions and sensitivity from DL2 event lists (in the manner of pyirf).

Small pure functions on astropy QTables with units, one module per concept: ``events`` (an IRF
event table from ctasim DL2 rows), ``weights`` (what was simulated, event weights to a target
spectrum), ``binning``, ``cuts`` (gammaness and theta cuts, RAD_MAX), ``effective_area``,
``energy_dispersion``, ``psf``, ``background``, ``resolution`` and ``sensitivity``. Event tables use
pyirf's column names (true_energy, reco_energy, true_source_fov_offset, reco_source_fov_offset,
theta, gammaness, weight); bad input raises a one-line ``ctasim.errors.CtasimError``.
"""

"""DL4 science products from reduced (DL3-level) events and IRFs: numpy/scipy, astropy units at the edges.

``folding`` (a spectral model through effective area, livetime and energy dispersion to predicted
counts per reconstructed-energy bin), ``wstat`` (the on/off Poisson likelihood with the background
profiled per bin), ``spectral_fit`` (1-D forward-folding fit), ``significance`` (signed Li & Ma),
``maps`` (counts, excess and significance sky maps on a tangent-plane grid) and ``light_curve`` (flux
per time bin). Inputs are arrays and QTables, not files; bad input raises a one-line
``ctasim.errors.CtasimError``.
"""

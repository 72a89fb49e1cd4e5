"""Signed Li & Ma significance: positive for an excess, negative for a deficit.

``ctasim.irf.sensitivity.li_ma_significance`` (Li & Ma 1983, eq. 17) is 0 for a deficit. Its formula
is unchanged by swapping the on and off counts together with alpha -> 1 / alpha, and a deficit
(n_on < alpha n_off) is an excess of the swapped pair, so the magnitude of a deficit is the
significance of the swap: one formula, no second implementation.
"""

from __future__ import annotations

import numpy as np

from ..irf.sensitivity import li_ma_significance


def signed_li_ma(n_on: np.ndarray, n_off: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """Li & Ma significance with the sign of the excess n_on - alpha n_off (alpha > 0)."""
    alpha = np.asarray(alpha, np.float64)
    return li_ma_significance(n_on, n_off, alpha) - li_ma_significance(n_off, n_on, 1.0 / alpha)

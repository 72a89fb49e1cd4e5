"""Connected components of a cleaning mask over the camera's CSR neighbour lists.

Same result as ctapipe's ``number_of_islands`` / ``MorphologyContainer.n_islands``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def n_islands(
    pix: np.ndarray,
    n: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    labels: np.ndarray,
    stack: np.ndarray,
) -> int:
    """Number of islands formed by the n selected pixels ``pix[:n]``.

    ``labels`` (int32 [n_pixels], all zero) and ``stack`` (int64 [n_pixels]) are scratch buffers;
    ``labels`` is left all zero again.
    """
    for k in range(n):
        labels[pix[k]] = -1
    count = 0
    for k in range(n):
        p = pix[k]
        if labels[p] != -1:
            continue
        count += 1
        labels[p] = count
        stack[0] = p
        top = 1
        while top > 0:  # unsigned indices: no negative-index wraparound code
            top -= 1
            q = np.uint64(stack[np.uint64(top)])
            for j in range(np.uint64(indptr[q]), np.uint64(indptr[q + np.uint64(1)])):
                r = np.uint64(indices[j])
                if labels[r] == -1:
                    labels[r] = count
                    stack[np.uint64(top)] = r
                    top += 1
    for k in range(n):
        labels[pix[k]] = 0
    return count

"""Lossy fixed-step coding of DL0 charges and peak times: floats -> small integers, and back.

A coded column is stored as integers (int16, or int32 if a block's codes do not fit) and named in
the block's ``attrs["value_coding"]`` (column -> ``{"scheme": ..., parameters}``);
``EncodedBlock.decode`` turns it back into float32, so every reader of DL0 columns gets charges
(p.e.) and peak times (ns) as before.

``poisson`` (charges; parameters ``step`` = f, ``q0_pe2`` = q0): the variance-stabilising
transform y = 2 sqrt(q + q0) for q >= 0, continued linearly below 0 (y = 2 sqrt(q0) + q / sqrt(q0),
same value and slope at 0: negative charges come from noise), is rounded to a multiple of f. The
charge noise sigma(q) = sqrt(max(q, 0) + q0) (Poisson variance of the signal plus q0, the pedestal
variance in p.e.^2) is dy/dq's inverse, so each step of y is f x sigma, and

    |q_decoded - q| <= f / 2 x sigma(q) + f^2 / 16     (p.e.; ``poisson_error_bound``)

(the f^2/16 from the curvature of the square: 0.016 p.e. for f = 0.5), plus float32 rounding of
the decoded value (relative 6e-8).

``step`` (peak times; parameter ``step`` in ns): t rounded to a multiple of the step,
|t_decoded - t| <= step / 2 (plus float32 rounding).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CtasimError

ATTR = "value_coding"
SCHEMES = ("poisson", "step")


def _integers(codes: np.ndarray, what: str) -> np.ndarray:
    """Rounded codes as int16 if they fit, else int32; a non-finite or too large value is an error."""
    if not np.all(np.isfinite(codes)):
        raise CtasimError(f"{what}: cannot code a non-finite value")
    k = np.rint(codes)
    for dtype in (np.int16, np.int32):
        info = np.iinfo(dtype)
        if k.size == 0 or (k.min() >= info.min and k.max() <= info.max):
            return k.astype(dtype)
    raise CtasimError(f"{what}: values out of the int32 range of the coding (step too small?)")


def poisson_transform(q: np.ndarray, q0: float) -> np.ndarray:
    """y (float64): 2 sqrt(q + q0) for q >= 0, 2 sqrt(q0) + q / sqrt(q0) below (q in p.e.)."""
    q = np.asarray(q, np.float64)
    s0 = np.sqrt(q0)
    return np.where(q >= 0, 2.0 * np.sqrt(np.maximum(q, 0.0) + q0), 2.0 * s0 + q / s0)


def poisson_inverse(y: np.ndarray, q0: float) -> np.ndarray:
    """q (float64 p.e.) of ``poisson_transform``'s y."""
    y = np.asarray(y, np.float64)
    s0 = np.sqrt(q0)
    return np.where(y >= 2.0 * s0, 0.25 * y * y - q0, (y - 2.0 * s0) * s0)


def poisson_encode(charge: np.ndarray, step: float, q0: float) -> np.ndarray:
    """Charges (p.e.) -> integer codes round(y / step) (int16, int32 if needed)."""
    return _integers(poisson_transform(charge, q0) / step, "poisson charge coding")


def poisson_error_bound(charge: np.ndarray, step: float, q0: float) -> np.ndarray:
    """Largest |decoded - charge| (p.e.) of the ``poisson`` coding, float32 rounding aside."""
    sigma = np.sqrt(np.maximum(np.asarray(charge, np.float64), 0.0) + q0)
    return 0.5 * step * sigma + step * step / 16.0


def step_encode(values: np.ndarray, step: float) -> np.ndarray:
    """Values -> integer codes round(value / step) (int16, int32 if needed)."""
    return _integers(np.asarray(values, np.float64) / step, "fixed-step coding")


def spec(scheme: str, **params: float) -> dict[str, Any]:
    """The ``attrs["value_coding"]`` entry of one column."""
    if scheme not in SCHEMES:
        raise CtasimError(f"value coding {scheme!r}: expected one of {', '.join(SCHEMES)}")
    return {"scheme": scheme, **{k: float(v) for k, v in params.items()}}


def decode_values(coding: dict[str, Any], codes: np.ndarray) -> np.ndarray:
    """Integer codes of a column -> float32 values, as its coding entry says."""
    scheme = coding.get("scheme")
    if scheme == "poisson":
        return poisson_inverse(codes * coding["step"], coding["q0_pe2"]).astype(np.float32)
    if scheme == "step":
        return (codes * np.float64(coding["step"])).astype(np.float32)
    raise CtasimError(f"value coding {scheme!r}: expected one of {', '.join(SCHEMES)}")


def decode_columns(columns: dict[str, np.ndarray], attrs: dict[str, Any]) -> dict[str, np.ndarray]:
    """``columns`` with every coded column (``attrs["value_coding"]``) decoded to float32."""
    for name, coding in attrs.get(ATTR, {}).items():
        if name in columns:
            columns[name] = decode_values(coding, columns[name])
    return columns

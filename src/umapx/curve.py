"""The low-dimensional similarity curve ``1 / (1 + a * d^(2b))``.

``a`` and ``b`` are fitted so that the curve is close to 1 for distances below ``min_dist`` and
decays like ``exp(-(d - min_dist) / spread)`` beyond, by least squares on a grid.

The fit is made in units of ``spread`` (where the target depends on ``min_dist / spread`` only)
and scaled back: ``a d^(2b) = a_1 (d / spread)^(2b)`` gives ``a = a_1 / spread^(2b)``. Fitting
in the data's units instead fails to converge for spreads far from 1 (``spread=0.1`` gave
``a=-37, b=-18.6``).
"""

from __future__ import annotations

import numpy as np


def _curve(d, a, b):
    return 1.0 / (1.0 + a * d ** (2.0 * b))


def find_ab_params(spread, min_dist):
    """Fit ``(a, b)`` of the embedding's similarity curve for ``spread`` and ``min_dist``.

    Parameters
    ----------
    spread : float
        Scale of the decay (> 0).
    min_dist : float
        Distance below which embedded points count as fully similar (0 <= min_dist <= spread).

    Returns
    -------
    a, b : float

    Raises
    ------
    ValueError
        When ``spread`` is not a finite number > 0 or ``min_dist`` not a finite number >= 0.
    """
    try:
        spread, min_dist = float(spread), float(min_dist)
    except (TypeError, ValueError):
        raise TypeError(f"spread and min_dist must be numbers, got {spread!r} and "
                        f"{min_dist!r}") from None
    from scipy.optimize import curve_fit  # ~0.3 s to import: only when a curve is fitted

    if not (np.isfinite(spread) and spread > 0):
        raise ValueError(f"spread must be a finite number > 0, got {spread}")
    if not (np.isfinite(min_dist) and min_dist >= 0):
        raise ValueError(f"min_dist must be a finite number >= 0, got {min_dist}")
    d = np.linspace(0.0, 3.0, 300)  # distances in units of spread
    ratio = min_dist / spread
    target = np.where(d < ratio, 1.0, np.exp(-(d - ratio)))
    (a, b), _ = curve_fit(_curve, d, target, p0=(1.0, 1.0), maxfev=10000)
    return float(a / spread ** (2.0 * b)), float(b)


def similarity(d, a, b):
    """The fitted curve at embedding distances ``d``."""
    return _curve(np.asarray(d, dtype=np.float64), a, b)

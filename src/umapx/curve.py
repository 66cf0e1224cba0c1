"""The low-dimensional similarity curve ``1 / (1 + a * d^(2b))``.

``a`` and ``b`` are fitted so that the curve is close to 1 for distances below ``min_dist`` and
decays like ``exp(-(d - min_dist) / spread)`` beyond, by least squares on a grid.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit


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
    """
    d = np.linspace(0.0, 3.0 * spread, 300)
    target = np.where(d < min_dist, 1.0, np.exp(-(d - min_dist) / spread))
    (a, b), _ = curve_fit(_curve, d, target, p0=(1.0, 1.0), maxfev=10000)
    return float(a), float(b)


def similarity(d, a, b):
    """The fitted curve at embedding distances ``d``."""
    return _curve(np.asarray(d, dtype=np.float64), a, b)

"""Distances between input samples, their gradients, and the metric registry.

Built-in metrics (``UMAP(metric=...)``), and whether a gradient is available (the gradient-based
part of the inverse transform needs it):

============  ====================  ========  =================================================
name          aliases               gradient  notes
============  ====================  ========  =================================================
euclidean     l2                    yes       searched as squared euclidean
manhattan     l1, cityblock,        yes       (sub)gradient ``sign(x - y)``
              taxicab
chebyshev     linf, linfinity,      yes       subgradient on the largest coordinate
              infinity
minkowski     --                    yes       ``metric_kwds={"p": p}``, p >= 1
cosine        --                    yes       searched as ``1 - <x, y>`` on unit rows
correlation   --                    yes       searched as ``1 - <x, y>`` on centred unit rows
canberra      --                    yes
braycurtis    --                    yes
hamming       --                    no        fraction of differing coordinates
jaccard       --                    no        on the non-zero pattern of each row
============  ====================  ========  =================================================

A user metric is a numba-compiled function ``f(x, y) -> float`` of two 1-d float32 arrays
(``numba.njit``); it has no gradient.

Kernels never call a distance by name: they call :func:`distance` with an integer code, so one
cached compilation serves every built-in metric. For a user metric the kernels are recompiled
with :func:`distance` replaced by the user's function (see :func:`umapx._jit.respecialize`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ._jit import kernel, respecialize

# Integer codes understood by ``distance``. Codes below 100 are true metrics; the two "search"
# codes are cheaper monotone stand-ins used inside neighbour search.
EUCLIDEAN, MANHATTAN, CHEBYSHEV, MINKOWSKI = 0, 1, 2, 3
COSINE, CORRELATION, CANBERRA, BRAYCURTIS = 4, 5, 6, 7
HAMMING, JACCARD = 8, 9
SQEUCLIDEAN, DOT_DISTANCE = 100, 101
USER = -1


@kernel(inline="always")
def squared_euclidean(x, y):
    """Squared euclidean distance, accumulated in float32."""
    total = np.float32(0.0)
    for i in range(x.shape[0]):
        diff = x[i] - y[i]
        total += diff * diff
    return total


@kernel(inline="always")
def _dot_distance(x, y):
    total = np.float32(0.0)
    for i in range(x.shape[0]):
        total += x[i] * y[i]
    return max(np.float32(1.0) - total, np.float32(0.0))


@kernel(inline="always")
def _manhattan(x, y):
    total = np.float32(0.0)
    for i in range(x.shape[0]):
        total += abs(x[i] - y[i])
    return total


@kernel(inline="always")
def _chebyshev(x, y):
    result = np.float32(0.0)
    for i in range(x.shape[0]):
        result = max(result, abs(x[i] - y[i]))
    return result


@kernel(inline="always")
def _minkowski(x, y, p):
    total = 0.0
    for i in range(x.shape[0]):
        total += abs(x[i] - y[i]) ** p
    return np.float32(total ** (1.0 / p))


@kernel(inline="always")
def _centred_products(x, y, centre):
    """Means (zero unless ``centre``), dot product and squared norms of the centred rows."""
    n = x.shape[0]
    mean_x = 0.0
    mean_y = 0.0
    if centre:
        for i in range(n):
            mean_x += x[i]
            mean_y += y[i]
        mean_x /= n
        mean_y /= n
    dot = 0.0
    norm_x = 0.0
    norm_y = 0.0
    for i in range(n):
        cx = x[i] - mean_x
        cy = y[i] - mean_y
        dot += cx * cy
        norm_x += cx * cx
        norm_y += cy * cy
    return mean_x, mean_y, dot, norm_x, norm_y


@kernel(inline="always")
def _angular_distance(x, y, centre):
    """1 - cosine of the angle between x and y (both centred first with ``centre``).

    Zero vectors: distance 0 between two of them, 1 to anything else.
    """
    _, _, dot, norm_x, norm_y = _centred_products(x, y, centre)
    if norm_x == 0.0 and norm_y == 0.0:
        return np.float32(0.0)
    if norm_x == 0.0 or norm_y == 0.0:
        return np.float32(1.0)
    return np.float32(max(1.0 - dot / np.sqrt(norm_x * norm_y), 0.0))


@kernel(inline="always")
def _canberra(x, y):
    total = np.float32(0.0)
    for i in range(x.shape[0]):
        denominator = abs(x[i]) + abs(y[i])
        if denominator > 0:
            total += abs(x[i] - y[i]) / denominator
    return total


@kernel(inline="always")
def _braycurtis(x, y):
    numerator = np.float32(0.0)
    denominator = np.float32(0.0)
    for i in range(x.shape[0]):
        numerator += abs(x[i] - y[i])
        denominator += abs(x[i] + y[i])
    if denominator > 0:
        return numerator / denominator
    return np.float32(0.0)


@kernel(inline="always")
def _hamming(x, y):
    differing = 0
    for i in range(x.shape[0]):
        if x[i] != y[i]:
            differing += 1
    return np.float32(differing / x.shape[0])


@kernel(inline="always")
def _jaccard(x, y):
    union = 0
    differing = 0
    for i in range(x.shape[0]):
        in_x = x[i] != 0
        in_y = y[i] != 0
        if in_x or in_y:
            union += 1
            if in_x != in_y:
                differing += 1
    if union == 0:
        return np.float32(0.0)
    return np.float32(differing / union)


@kernel(inline="always")
def distance(code, x, y, p):
    """Distance of code ``code`` between rows ``x`` and ``y`` (``p``: Minkowski exponent)."""
    if code == SQEUCLIDEAN:
        return squared_euclidean(x, y)
    if code == DOT_DISTANCE:
        return _dot_distance(x, y)
    if code == EUCLIDEAN:
        return np.float32(np.sqrt(squared_euclidean(x, y)))
    if code == MANHATTAN:
        return _manhattan(x, y)
    if code == CHEBYSHEV:
        return _chebyshev(x, y)
    if code == MINKOWSKI:
        return _minkowski(x, y, p)
    if code == COSINE:
        return _angular_distance(x, y, False)
    if code == CORRELATION:
        return _angular_distance(x, y, True)
    if code == CANBERRA:
        return _canberra(x, y)
    if code == BRAYCURTIS:
        return _braycurtis(x, y)
    if code == HAMMING:
        return _hamming(x, y)
    if code == JACCARD:
        return _jaccard(x, y)
    return np.float32(np.nan)


@kernel
def gradient(code, x, y, p, out):
    """Write d distance(x, y) / dx into ``out``; return the distance (all in float64).

    Where the distance is not differentiable (x == y, a tie for the largest coordinate...) a
    subgradient is returned, zero at x == y.
    """
    n = x.shape[0]
    for i in range(n):
        out[i] = 0.0
    if code == EUCLIDEAN:
        total = 0.0
        for i in range(n):
            total += (np.float64(x[i]) - y[i]) ** 2
        dist = np.sqrt(total)
        if dist > 0:
            for i in range(n):
                out[i] = (np.float64(x[i]) - y[i]) / dist
        return dist
    if code == MANHATTAN:
        total = 0.0
        for i in range(n):
            diff = np.float64(x[i]) - y[i]
            total += abs(diff)
            out[i] = np.sign(diff)
        return total
    if code == CHEBYSHEV:
        best = 0
        largest = -1.0
        for i in range(n):
            if abs(np.float64(x[i]) - y[i]) > largest:
                largest = abs(np.float64(x[i]) - y[i])
                best = i
        out[best] = np.sign(np.float64(x[best]) - y[best])
        return largest
    if code == MINKOWSKI:
        total = 0.0
        for i in range(n):
            total += abs(np.float64(x[i]) - y[i]) ** p
        dist = total ** (1.0 / p)
        if dist > 0:
            for i in range(n):
                diff = np.float64(x[i]) - y[i]
                out[i] = np.sign(diff) * (abs(diff) / dist) ** (p - 1.0)
        return dist
    if code == COSINE or code == CORRELATION:
        mean_x, mean_y, dot, norm_x, norm_y = _centred_products(x, y, code == CORRELATION)
        if norm_x == 0.0 or norm_y == 0.0:
            return 0.0 if norm_x == norm_y else 1.0
        scale = 1.0 / np.sqrt(norm_x * norm_y)
        cos = dot * scale
        for i in range(n):
            out[i] = -((y[i] - mean_y) * scale - cos * (x[i] - mean_x) / norm_x)
        if code == CORRELATION:
            # The centring is linear, so project the gradient onto zero-mean vectors.
            mean_out = 0.0
            for i in range(n):
                mean_out += out[i]
            mean_out /= n
            for i in range(n):
                out[i] -= mean_out
        return max(1.0 - cos, 0.0)
    if code == CANBERRA:
        total = 0.0
        for i in range(n):
            denominator = abs(np.float64(x[i])) + abs(y[i])
            if denominator > 0:
                diff = np.float64(x[i]) - y[i]
                total += abs(diff) / denominator
                out[i] = np.sign(diff) / denominator - abs(diff) * np.sign(x[i]) / (
                    denominator * denominator
                )
        return total
    if code == BRAYCURTIS:
        numerator = 0.0
        denominator = 0.0
        for i in range(n):
            numerator += abs(np.float64(x[i]) - y[i])
            denominator += abs(np.float64(x[i]) + y[i])
        if denominator > 0:
            for i in range(n):
                out[i] = (
                    np.sign(np.float64(x[i]) - y[i]) / denominator
                    - numerator * np.sign(np.float64(x[i]) + y[i]) / (denominator * denominator)
                )
            return numerator / denominator
        return 0.0
    return np.nan


@dataclass(frozen=True)
class Metric:
    """A resolved metric: what the kernels need to compute it, and what it supports.

    Attributes
    ----------
    name : str
        Canonical name (``"euclidean"``...) or the user function's name.
    code : int
        Code of the true distance in :func:`distance` (``USER`` for a user function).
    search_code : int
        Code of the (cheaper, order-preserving) distance used during neighbour search.
    p : float
        Minkowski exponent (ignored by the other metrics).
    user_function : numba dispatcher or None
        The user's compiled function.
    """

    name: str
    code: int
    search_code: int
    p: float = 2.0
    user_function: object = None

    @property
    def has_gradient(self):
        return self.code in _GRADIENT_CODES

    def prepare(self, X):
        """Rows as the search kernels see them (unit rows for the angular metrics)."""
        if self.search_code != DOT_DISTANCE:
            return X
        X = np.asarray(X, dtype=np.float32)
        if self.code == CORRELATION:
            X = X - X.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(X / norms[:, None].astype(np.float32), dtype=np.float32)

    def to_true_distance(self, search_distances):
        """Convert distances of ``search_code`` into distances of the metric (in place)."""
        if self.search_code == SQEUCLIDEAN and self.code == EUCLIDEAN:
            np.sqrt(search_distances, out=search_distances)
        return search_distances

    def pairwise(self, X, Y):
        """Dense matrix of true distances (small inputs only: tests and evaluation)."""
        X = np.ascontiguousarray(X, np.float32)
        Y = np.ascontiguousarray(Y, np.float32)
        return self.specialize(_pairwise_kernel)(self.code, X, Y, self.p)

    def specialize(self, dispatcher):
        """The kernel ``dispatcher`` as it must run for this metric.

        Built-in metrics use the cached kernel as it is; a user metric gets a copy compiled
        with :func:`distance` replaced by the user's function (compiled once per process).
        """
        if self.user_function is None:
            return dispatcher
        key = (dispatcher, self.user_function)
        if key not in _SPECIALIZED:
            _SPECIALIZED[key] = respecialize(
                dispatcher, distance=_user_distance(self.user_function)
            )
        return _SPECIALIZED[key]


_SPECIALIZED = {}


def _user_distance(user_function):
    """A stand-in for :func:`distance` that calls the user's function."""

    @numba.njit(inline="always")
    def user_distance(code, x, y, p):
        return np.float32(user_function(x, y))

    return user_distance


@kernel(parallel=True)
def _pairwise_kernel(code, X, Y, p):
    out = np.empty((X.shape[0], Y.shape[0]), dtype=np.float32)
    for i in numba.prange(X.shape[0]):
        for j in range(Y.shape[0]):
            out[i, j] = distance(code, X[i], Y[j], p)
    return out


_GRADIENT_CODES = frozenset(
    {EUCLIDEAN, MANHATTAN, CHEBYSHEV, MINKOWSKI, COSINE, CORRELATION, CANBERRA, BRAYCURTIS}
)

_NAMES = {
    "euclidean": EUCLIDEAN,
    "l2": EUCLIDEAN,
    "manhattan": MANHATTAN,
    "l1": MANHATTAN,
    "cityblock": MANHATTAN,
    "taxicab": MANHATTAN,
    "chebyshev": CHEBYSHEV,
    "linf": CHEBYSHEV,
    "linfinity": CHEBYSHEV,
    "infinity": CHEBYSHEV,
    "minkowski": MINKOWSKI,
    "cosine": COSINE,
    "correlation": CORRELATION,
    "canberra": CANBERRA,
    "braycurtis": BRAYCURTIS,
    "hamming": HAMMING,
    "jaccard": JACCARD,
}
_CANONICAL = {code: name for name, code in reversed(list(_NAMES.items()))}

#: Names accepted by ``UMAP(metric=...)``.
AVAILABLE_METRICS = tuple(sorted(_NAMES))


def _is_numba_function(obj):
    return callable(obj) and hasattr(obj, "py_func") and hasattr(obj, "signatures")


def resolve_metric(metric, metric_kwds=None):
    """Turn ``metric`` / ``metric_kwds`` into a :class:`Metric`, or raise a clear ValueError."""
    metric_kwds = dict(metric_kwds or {})
    if _is_numba_function(metric):
        if metric_kwds:
            raise ValueError(
                "metric_kwds is not supported with a user metric function; bind the parameters "
                "in the function itself"
            )
        name = getattr(metric, "__name__", "user_metric")
        return Metric(name=name, code=USER, search_code=USER, user_function=metric)
    if callable(metric):
        raise ValueError(
            "metric: a callable metric must be compiled with numba (decorate it with "
            "@numba.njit); got a plain Python function"
        )
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a string or a numba function, got {metric!r}")
    code = _NAMES.get(metric.lower())
    if code is None:
        raise ValueError(
            f"metric={metric!r} is not supported; choose one of {', '.join(AVAILABLE_METRICS)} "
            "or pass a numba-compiled function"
        )
    p = 2.0
    allowed_kwds = {"p"} if code == MINKOWSKI else set()
    unknown = set(metric_kwds) - allowed_kwds
    if unknown:
        raise ValueError(
            f"metric_kwds {sorted(unknown)} are not understood by metric {metric!r}"
            + (" (it takes 'p')" if allowed_kwds else " (it takes none)")
        )
    if code == MINKOWSKI:
        p = metric_kwds.get("p", 2.0)
        if not isinstance(p, (int, float, np.integer, np.floating)) or not np.isfinite(p) or p < 1:
            raise ValueError(f"metric_kwds['p'] must be a number >= 1 for minkowski, got {p!r}")
        p = float(p)
    search_code = code
    if code == EUCLIDEAN:
        search_code = SQEUCLIDEAN
    elif code in (COSINE, CORRELATION):
        search_code = DOT_DISTANCE
    return Metric(name=_CANONICAL[code], code=code, search_code=search_code, p=p)

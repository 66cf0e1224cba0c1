"""Distances between input samples, their gradients, and the metric table.

Every metric is one entry of :data:`METRICS` (a :class:`MetricSpec`: its names, how neighbour
search computes it, whether it has a gradient, how the inverse transform takes a weighted
centre under it, the ``metric_kwds`` it takes) plus its kernel functions, which the switches
:func:`distance` and :func:`gradient` call by integer code. Everything else (name resolution,
error messages, the inverse transform's choice of method, saving) reads the table.

Adding a metric:

1. write its kernel ``_name(x, y)`` (and, if it has one, its gradient branch in
   :func:`gradient`);
2. give it a new code and a branch in :func:`distance`;
3. add its :class:`MetricSpec` to :data:`METRICS`.

``tests/test_metrics.py`` checks every entry against scipy where scipy has the metric, and that
every code of the table is handled by the switches.

A user metric is a numba-compiled function ``f(x, y) -> float`` of two 1-d float32 arrays
(``numba.njit``); it has no gradient. Kernels never call a distance by name: they call
:func:`distance` with a :class:`DistanceArgs` record, so one cached compilation serves every
built-in metric. For a user metric the kernels are recompiled with :func:`distance` replaced by
the user's function (see :func:`umapx._jit.respecialize`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

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


class DistanceArgs(NamedTuple):
    """What a kernel needs to compute one metric: its code and parameter (numba record)."""

    code: int
    p: float


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


@kernel
def distance(metric, x, y):
    """Distance between rows ``x`` and ``y`` under ``metric`` (a :class:`DistanceArgs`).

    The switch over codes is the one place where a metric's kernel is called: a new metric
    adds its branch here (and, with a gradient, in :func:`gradient`). Compiled as a function
    of its own, not inlined into every caller by numba: inlined, each caller compiled all twelve
    metrics again (the exact k-NN's ``_rerank`` took 20 of the 37 CPU seconds of a first digits
    fit; 10 s now); LLVM still inlines it where it pays, and results are unchanged.
    """
    code = metric.code
    p = metric.p
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
def gradient(metric, x, y, out):
    """Write d distance(x, y) / dx into ``out``; return the distance (all in float64).

    ``metric`` is a :class:`DistanceArgs`. Where the distance is not differentiable (x == y, a
    tie for the largest coordinate...) a subgradient is returned, zero at x == y.
    """
    code = metric.code
    p = metric.p
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


# ----------------------------------------------------------------------------------------------
# The metric table
# ----------------------------------------------------------------------------------------------

#: How neighbour search computes a metric: as it is, or by an order-preserving stand-in.
SEARCH_KINDS = ("same", "squared", "unit_rows", "centred_unit_rows")
#: How the inverse transform takes a weighted centre under a metric (None: it cannot).
CENTRE_KINDS = ("mean", "median", "direction", "centred_direction", "descent")


def _minkowski_p(value):
    if (isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, float, np.integer, np.floating))
            or not np.isfinite(value) or value < 1):
        raise ValueError(f"metric_kwds['p'] must be a number >= 1 for minkowski, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the table.

    Attributes
    ----------
    name : str
        Canonical name.
    code : int
        Code of its branch in :func:`distance`.
    aliases : tuple of str
        Other names accepted by ``UMAP(metric=...)`` (case-insensitive, like the name).
    search : str
        One of :data:`SEARCH_KINDS`: ``"squared"`` searches squared euclidean distances,
        ``"unit_rows"`` / ``"centred_unit_rows"`` search ``1 - <x, y>`` on (centred) unit rows.
    gradient : bool
        Whether :func:`gradient` handles it.
    centre : str or None
        One of :data:`CENTRE_KINDS`: how the inverse transform blends samples under it.
    kwds : mapping of str to callable
        The ``metric_kwds`` it takes, each with a function that checks and converts a value.
    """

    name: str
    code: int
    aliases: tuple = ()
    search: str = "same"
    gradient: bool = False
    centre: str | None = None
    kwds: Mapping[str, Callable] = field(default_factory=dict, hash=False)

    @property
    def search_code(self):
        if self.search == "squared":
            return SQEUCLIDEAN
        if self.search in ("unit_rows", "centred_unit_rows"):
            return DOT_DISTANCE
        return self.code


#: Every built-in metric.
METRICS = (
    MetricSpec("euclidean", EUCLIDEAN, ("l2",), search="squared", gradient=True,
               centre="mean"),
    MetricSpec("manhattan", MANHATTAN, ("l1", "cityblock", "taxicab"), gradient=True,
               centre="median"),
    MetricSpec("chebyshev", CHEBYSHEV, ("linf", "linfinity", "infinity"), gradient=True,
               centre="descent"),
    MetricSpec("minkowski", MINKOWSKI, gradient=True, centre="descent",
               kwds={"p": _minkowski_p}),
    MetricSpec("cosine", COSINE, search="unit_rows", gradient=True, centre="direction"),
    MetricSpec("correlation", CORRELATION, search="centred_unit_rows", gradient=True,
               centre="centred_direction"),
    MetricSpec("canberra", CANBERRA, gradient=True, centre="descent"),
    MetricSpec("braycurtis", BRAYCURTIS, gradient=True, centre="descent"),
    MetricSpec("hamming", HAMMING),
    MetricSpec("jaccard", JACCARD),
)

_BY_NAME = {name: spec for spec in METRICS for name in (spec.name, *spec.aliases)}
_USER_SPEC = MetricSpec("user", USER)

#: Names accepted by ``UMAP(metric=...)``.
AVAILABLE_METRICS = tuple(sorted(_BY_NAME))


def metric_names(where=lambda spec: True):
    """Canonical names of the built-in metrics for which ``where(spec)`` holds."""
    return [spec.name for spec in METRICS if where(spec)]


# ----------------------------------------------------------------------------------------------
# Resolved metrics
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A resolved metric: its table entry, its parameter, and what kernels need to run it.

    Attributes
    ----------
    spec : MetricSpec
        The table entry (a stand-in entry for a user function).
    p : float
        Minkowski exponent (ignored by the other metrics).
    user_function : numba dispatcher or None
        The user's compiled function.
    """

    spec: MetricSpec
    p: float = 2.0
    user_function: object = None

    @property
    def name(self):
        if self.user_function is not None:
            return getattr(self.user_function, "__name__", "user_metric")
        return self.spec.name

    @property
    def code(self):
        return self.spec.code

    @property
    def search_code(self):
        return self.spec.search_code

    @property
    def has_gradient(self):
        return self.spec.gradient

    @property
    def centre(self):
        return self.spec.centre

    @property
    def distance_args(self):
        """The :class:`DistanceArgs` of the true distance."""
        return DistanceArgs(int(self.code), float(self.p))

    @property
    def search_args(self):
        """The :class:`DistanceArgs` of the distance neighbour search computes."""
        return DistanceArgs(int(self.search_code), float(self.p))

    def prepare(self, X):
        """Rows as the search kernels see them (unit rows for the angular metrics)."""
        if self.spec.search not in ("unit_rows", "centred_unit_rows"):
            return X
        X = np.asarray(X, dtype=np.float32)
        if self.spec.search == "centred_unit_rows":
            X = X - X.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(X / norms[:, None].astype(np.float32), dtype=np.float32)

    def to_true_distance(self, search_distances):
        """Convert search distances (of ``search_args``) into distances of the metric, in place.

        Only the squared euclidean stand-in is converted; the dot distance of unit rows already
        is the cosine (correlation) distance.
        """
        if self.spec.search == "squared":
            np.sqrt(search_distances, out=search_distances)
        return search_distances

    def pairwise(self, X, Y, search=False):
        """Dense matrix of distances (small inputs only: tests and evaluation).

        With ``search`` the rows must be ``prepare``-d and the search distances are returned.
        """
        X = np.ascontiguousarray(X, np.float32)
        Y = np.ascontiguousarray(Y, np.float32)
        args = self.search_args if search else self.distance_args
        return self.specialize(_pairwise_kernel)(args, X, Y)

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
    def user_distance(metric, x, y):
        return np.float32(user_function(x, y))

    return user_distance


@kernel(parallel=True)
def _pairwise_kernel(metric, X, Y):
    out = np.empty((X.shape[0], Y.shape[0]), dtype=np.float32)
    for i in numba.prange(X.shape[0]):
        for j in range(Y.shape[0]):
            out[i, j] = distance(metric, X[i], Y[j])
    return out


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
        return Metric(_USER_SPEC, user_function=metric)
    if callable(metric):
        raise ValueError(
            "metric: a callable metric must be compiled with numba (decorate it with "
            "@numba.njit); got a plain Python function"
        )
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a string or a numba function, got {metric!r}")
    spec = _BY_NAME.get(metric.lower())
    if spec is None:
        raise ValueError(
            f"metric={metric!r} is not supported; choose one of {', '.join(AVAILABLE_METRICS)} "
            "or pass a numba-compiled function"
        )
    unknown = set(metric_kwds) - set(spec.kwds)
    if unknown:
        takes = ("it takes " + ", ".join(repr(k) for k in spec.kwds)) if spec.kwds \
            else "it takes none"
        raise ValueError(
            f"metric_kwds {sorted(unknown)} are not understood by metric {metric!r} ({takes})"
        )
    parsed = {name: check(metric_kwds[name]) for name, check in spec.kwds.items()
              if name in metric_kwds}
    return Metric(spec, p=parsed.get("p", 2.0))

"""Distances between input samples, their gradients, and the metric table.

Every metric is one entry of :data:`METRICS` (a :class:`MetricSpec`: its names, how neighbour
search computes it, whether it has a gradient, how the inverse transform takes a weighted
centre under it, whether it can be an ``output_metric``, the values its rows may take, and the
``metric_kwds`` it takes) plus its kernel functions, which the switches :func:`distance` and
:func:`gradient` call by integer code. Everything else (name resolution, error messages, the
inverse transform's choice of method, saving) reads the table.

Adding a metric:

1. write its kernel (and, if it has one, its gradient) -- the classic metrics here, the others
   in :mod:`umapx._distance_kernels`;
2. give it a new code and a branch in :func:`distance` (and :func:`gradient`);
3. add its :class:`MetricSpec` to :data:`METRICS`.

``tests/test_metrics.py`` and ``tests/compat/test_metrics_dense.py`` check every entry against
scipy or a direct numpy formula, its gradient against finite differences, and that every code
of the table is handled by the switches.

A user metric is a numba-compiled function ``f(x, y, *args)`` of two 1-d float32 arrays
(``numba.njit``) returning a distance, or -- umap-learn's convention -- a pair ``(distance,
gradient)``, the gradient being d distance / dx; ``metric_kwds`` values are passed as
``args``, in order. Kernels never call a distance by name: they call :func:`distance` with a
:class:`DistanceArgs` record, so one cached compilation serves every built-in metric. The
exception is neighbour search with the two stand-ins it computes for most metrics (squared
euclidean and the dot distance of unit rows): their records are types of their own
(:class:`SquaredEuclideanArgs`, :class:`DotDistanceArgs`), and a search kernel compiled for one
holds only that distance's arithmetic (see :func:`search_distance_kernel`). For a user
metric the kernels are recompiled with :func:`distance` (and :func:`gradient`) replaced by the
user's function (see :func:`umapx._jit.respecialize`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse

from . import _distance_kernels as _k
from ._jit import kernel, respecialize

# Integer codes understood by ``distance``. Codes below 100 are metrics of the table; the two
# "search" codes are cheaper monotone stand-ins used inside neighbour search.
EUCLIDEAN, MANHATTAN, CHEBYSHEV, MINKOWSKI = 0, 1, 2, 3
COSINE, CORRELATION, CANBERRA, BRAYCURTIS = 4, 5, 6, 7
HAMMING, JACCARD = 8, 9
SEUCLIDEAN, WMINKOWSKI, MAHALANOBIS, HAVERSINE = 10, 11, 12, 13
HELLINGER, LL_DIRICHLET, SYMMETRIC_KL, POINCARE = 14, 15, 16, 17
DICE, KULSINSKI, MATCHING, ROGERSTANIMOTO = 18, 19, 20, 21
RUSSELLRAO, SOKALMICHENER, SOKALSNEATH, YULE = 22, 23, 24, 25
HYPERBOLOID, HAVERSINE_POLAR = 26, 27
SQEUCLIDEAN, DOT_DISTANCE = 100, 101
USER = -1
PRECOMPUTED = -2

_NO_VECTOR = np.zeros(0, dtype=np.float64)
_NO_MATRIX = np.zeros((0, 0), dtype=np.float64)


class DistanceArgs(NamedTuple):
    """What a kernel needs to compute one metric (numba record).

    ``code`` selects the metric; ``p`` is its scalar parameter (minkowski's exponent,
    symmetric_kl's ``z``); ``vector`` (float64, 1-d) and ``matrix`` (float64, 2-d, C order)
    are its array parameters (seuclidean's variances, wminkowski's weights, mahalanobis's
    inverse covariance), empty when it has none. The types never change, so one compilation of
    a kernel serves every built-in metric.
    """

    code: int
    p: float
    vector: np.ndarray
    matrix: np.ndarray


def distance_args(code, p=2.0, vector=None, matrix=None):
    """A :class:`DistanceArgs` with the exact field types kernels are compiled for."""
    vector = _NO_VECTOR if vector is None else np.ascontiguousarray(vector, dtype=np.float64)
    matrix = _NO_MATRIX if matrix is None else np.ascontiguousarray(matrix, dtype=np.float64)
    return DistanceArgs(int(code), float(p), vector, matrix)

class SquaredEuclideanArgs(DistanceArgs):
    """A :class:`DistanceArgs` of squared euclidean search distances, as a numba type of its own.

    The search kernels (:mod:`umapx.knn`) compiled for it contain the squared euclidean
    distance alone instead of :func:`distance`'s switch over every metric, which LLVM otherwise
    compiles again into each of them: the first fit on a new machine compiles ~40% less code
    in the exact k-NN's re-ranking kernel (14 -> 7 CPU s). The arithmetic is the same.
    """

    __slots__ = ()


class DotDistanceArgs(DistanceArgs):
    """Like :class:`SquaredEuclideanArgs`, for the dot distance of unit rows (cosine and
    correlation search)."""

    __slots__ = ()


def search_distance_args(code, p=2.0, vector=None, matrix=None):
    """:func:`distance_args` for neighbour search: the stand-in distances get their own type."""
    args = distance_args(code, p, vector, matrix)
    return _SEARCH_ARGS_TYPES.get(args.code, DistanceArgs)(*args)


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


_SEARCH_ARGS_TYPES = {SQEUCLIDEAN: SquaredEuclideanArgs, DOT_DISTANCE: DotDistanceArgs}
_SEARCH_DISTANCE_KERNELS = {SquaredEuclideanArgs: squared_euclidean,
                            DotDistanceArgs: _dot_distance}


def search_distance_kernel(metric_type):
    """The distance kernel ``f(x, y)`` that a metric record of numba type ``metric_type`` stands
    for alone (:class:`SquaredEuclideanArgs`, :class:`DotDistanceArgs`), else None (the record
    selects its metric at run time through :func:`distance`). Used when numba types a kernel."""
    return _SEARCH_DISTANCE_KERNELS.get(getattr(metric_type, "instance_class", None))


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
    if code <= HAVERSINE_POLAR:
        return np.float32(_more_distances(metric, x, y))
    return np.float32(np.nan)


@kernel
def _more_distances(metric, x, y):
    """The branches of :func:`distance` for the metrics of :mod:`umapx._distance_kernels`
    (float64)."""
    code = metric.code
    if code == SEUCLIDEAN:
        return _k.standardised_euclidean(x, y, metric.vector)
    if code == WMINKOWSKI:
        return _k.weighted_minkowski(x, y, metric.vector, metric.p)
    if code == MAHALANOBIS:
        return _k.mahalanobis(x, y, metric.matrix)
    if code == HAVERSINE or code == HAVERSINE_POLAR:
        return _k.haversine(x, y, code == HAVERSINE_POLAR)
    if code == HELLINGER:
        return _k.hellinger(x, y)
    if code == LL_DIRICHLET:
        return _k.ll_dirichlet(x, y)
    if code == SYMMETRIC_KL:
        return _k.symmetric_kl(x, y, metric.p)
    if code == POINCARE:
        return _k.poincare(x, y)
    if DICE <= code <= YULE:
        return _k.binary_dissimilarity(code - DICE, x, y)
    if code == HYPERBOLOID:
        return _k.hyperboloid(x, y)
    return np.nan


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
    return _more_gradients(metric, x, y, out)


@kernel
def _more_gradients(metric, x, y, out):
    """The branches of :func:`gradient` for the metrics of :mod:`umapx._distance_kernels`."""
    code = metric.code
    if code == SEUCLIDEAN:
        return _k.standardised_euclidean_gradient(x, y, metric.vector, out)
    if code == WMINKOWSKI:
        return _k.weighted_minkowski_gradient(x, y, metric.vector, metric.p, out)
    if code == MAHALANOBIS:
        return _k.mahalanobis_gradient(x, y, metric.matrix, out)
    if code == HAVERSINE or code == HAVERSINE_POLAR:
        return _k.haversine_gradient(x, y, code == HAVERSINE_POLAR, out)
    if code == HELLINGER:
        return _k.hellinger_gradient(x, y, out)
    if code == SYMMETRIC_KL:
        return _k.symmetric_kl_gradient(x, y, metric.p, out)
    if code == POINCARE:
        return _k.poincare_gradient(x, y, out)
    if code == HYPERBOLOID:
        return _k.hyperboloid_gradient(x, y, out)
    return np.nan


# ----------------------------------------------------------------------------------------------
# The metric table
# ----------------------------------------------------------------------------------------------

#: How neighbour search computes a metric: as it is, or by an order-preserving stand-in on
#: prepared rows (see :meth:`Metric.prepare`).
SEARCH_KINDS = ("same", "squared", "unit_rows", "centred_unit_rows", "whitened")
#: How the inverse transform takes a weighted centre under a metric (None: it cannot).
CENTRE_KINDS = ("mean", "median", "direction", "centred_direction", "descent")
#: What values the rows of the data may take under a metric (checked on fit and transform).
DOMAINS = (None, "nonnegative", "counts", "unit_ball", "latitude_longitude", "polar_azimuth")


class _Kwd(NamedTuple):
    """One ``metric_kwds`` entry: the :class:`Metric` field it sets and its checker, a function
    ``(metric_name, kwd_name, value) -> converted value`` raising a ValueError."""

    field: str
    check: Callable


def _number(value):
    return (not isinstance(value, (bool, np.bool_))
            and isinstance(value, (int, float, np.integer, np.floating))
            and np.isfinite(value))


def _exponent(metric, kwd, value):
    if not _number(value) or value < 1:
        raise ValueError(f"metric_kwds[{kwd!r}] must be a number >= 1 for {metric}, "
                         f"got {value!r}")
    return float(value)


def _positive_number(metric, kwd, value):
    if not _number(value) or value <= 0:
        raise ValueError(f"metric_kwds[{kwd!r}] must be a positive number for {metric}, "
                         f"got {value!r}")
    return float(value)


def _float_array(metric, kwd, value, ndim):
    try:
        array = np.array(value, dtype=np.float64, order="C")
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != ndim or array.size == 0:
        shape = "a 1-d array" if ndim == 1 else "a square 2-d array"
        raise ValueError(f"metric_kwds[{kwd!r}] must be {shape} of numbers for {metric}, "
                         f"got {value!r}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"metric_kwds[{kwd!r}] for {metric} contains NaN or infinity")
    return array


def _positive_vector(metric, kwd, value):
    array = _float_array(metric, kwd, value, 1)
    if np.any(array <= 0):
        raise ValueError(f"metric_kwds[{kwd!r}] for {metric} must be positive everywhere "
                         f"(it divides the squared differences), got minimum {array.min():g}")
    return array


def _weights(metric, kwd, value):
    array = _float_array(metric, kwd, value, 1)
    if np.any(array < 0):
        raise ValueError(f"metric_kwds[{kwd!r}] for {metric} must be non-negative weights, got "
                         f"minimum {array.min():g}")
    return array


def _symmetric_psd(metric, kwd, value):
    array = _float_array(metric, kwd, value, 2)
    if array.shape[0] != array.shape[1]:
        raise ValueError(f"metric_kwds[{kwd!r}] for {metric} must be a square matrix, got "
                         f"shape {array.shape}")
    scale = max(float(np.abs(array).max()), np.finfo(np.float64).tiny)
    if not np.allclose(array, array.T, rtol=1e-6, atol=1e-9 * scale):
        raise ValueError(f"metric_kwds[{kwd!r}] for {metric} must be a symmetric matrix")
    if np.linalg.eigvalsh(array).min() < -1e-8 * scale:
        raise ValueError(f"metric_kwds[{kwd!r}] for {metric} must be positive semi-definite "
                         "(distances would be square roots of negative numbers)")
    return (array + array.T) / 2.0


def _inverse_covariance(metric, kwd, value):
    """A covariance matrix ``V``, stored as its (pseudo-)inverse."""
    return _symmetric_psd(metric, kwd, np.linalg.pinv(_symmetric_psd(metric, kwd, value),
                                                      hermitian=True))


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
        ``"unit_rows"`` / ``"centred_unit_rows"`` search ``1 - <x, y>`` on (centred) unit rows,
        ``"whitened"`` searches squared euclidean distances of linearly whitened rows.
    gradient : bool
        Whether :func:`gradient` handles it.
    centre : str or None
        One of :data:`CENTRE_KINDS`: how the inverse transform blends samples under it.
    kwds : mapping of str to _Kwd
        The ``metric_kwds`` it takes: the field each sets and its checker.
    default_p : float
        Its scalar parameter when ``metric_kwds`` does not give one.
    fitted_default : str or None
        Array parameter taken from the training data when not given: ``"variances"``
        (seuclidean), ``"inverse_covariance"`` (mahalanobis), ``"ones"`` (wminkowski).
    domain : str or None
        One of :data:`DOMAINS`: the values its rows may take.
    bound : float
        Default ``disconnection_distance``: k-NN edges at or beyond it are removed from the
        graph (umap-learn's defaults: the largest value of cosine, correlation, hellinger,
        jaccard and dice; infinity otherwise).
    input, output : bool
        Whether it can be the ``metric`` (of the data) and the ``output_metric`` (of the
        embedding; needs a gradient).
    output_as : str or None
        The entry its name stands for as an ``output_metric``: umap-learn's
        ``output_metric="haversine"`` measures (polar angle, azimuth), not (latitude,
        longitude), so that its sphere projection holds (``"haversine_polar"``).
    sparse : bool
        Whether :func:`umapx.sparse.sparse_distance` handles it (scipy.sparse input).
    """

    name: str
    code: int
    aliases: tuple = ()
    search: str = "same"
    gradient: bool = False
    centre: str | None = None
    kwds: Mapping[str, _Kwd] = field(default_factory=dict, hash=False)
    default_p: float = 2.0
    fitted_default: str | None = None
    domain: str | None = None
    bound: float = np.inf
    input: bool = True
    output: bool = False
    output_as: str | None = None
    sparse: bool = False

    @property
    def search_code(self):
        if self.search in ("squared", "whitened"):
            return SQEUCLIDEAN
        if self.search in ("unit_rows", "centred_unit_rows"):
            return DOT_DISTANCE
        return self.code


#: The metrics with a sparse kernel in :mod:`umapx.sparse` (umap-learn's sparse metrics).
_SPARSE_METRICS = frozenset({
    "euclidean", "manhattan", "chebyshev", "minkowski", "cosine", "correlation", "canberra",
    "braycurtis", "hamming", "jaccard", "hellinger", "ll_dirichlet", "dice", "kulsinski",
    "matching", "rogerstanimoto", "russellrao", "sokalmichener", "sokalsneath",
})


def _spec(name, code, aliases=(), **fields):
    """A :class:`MetricSpec`; metrics with a gradient can be output metrics unless said (those
    whose rows are restricted -- non-negative, inside the unit ball -- cannot: the layout
    moves points freely), and those of :data:`_SPARSE_METRICS` take sparse input."""
    fields.setdefault("output", fields.get("gradient", False))
    fields.setdefault("sparse", name in _SPARSE_METRICS)
    return MetricSpec(name, code, aliases, **fields)


_P = {"p": _Kwd("p", _exponent)}

#: Every built-in metric.
METRICS = (
    _spec("euclidean", EUCLIDEAN, ("l2",), search="squared", gradient=True, centre="mean"),
    _spec("manhattan", MANHATTAN, ("l1", "cityblock", "taxicab"), gradient=True,
          centre="median"),
    _spec("chebyshev", CHEBYSHEV, ("linf", "linfinity", "linfty", "infinity"), gradient=True,
          centre="descent"),
    _spec("minkowski", MINKOWSKI, gradient=True, centre="descent", kwds=_P),
    _spec("cosine", COSINE, search="unit_rows", gradient=True, centre="direction", bound=2.0),
    _spec("correlation", CORRELATION, search="centred_unit_rows", gradient=True,
          centre="centred_direction", bound=2.0),
    _spec("canberra", CANBERRA, gradient=True, centre="descent"),
    _spec("braycurtis", BRAYCURTIS, gradient=True, centre="descent"),
    _spec("hamming", HAMMING),
    _spec("jaccard", JACCARD, bound=1.0),
    _spec("seuclidean", SEUCLIDEAN, ("standardised_euclidean",), search="whitened",
          gradient=True, centre="mean", fitted_default="variances",
          kwds={"V": _Kwd("vector", _positive_vector),
                "sigma": _Kwd("vector", _positive_vector)}),
    _spec("wminkowski", WMINKOWSKI, ("weighted_minkowski",), gradient=True, centre="descent",
          fitted_default="ones", kwds={"w": _Kwd("vector", _weights), **_P}),
    _spec("mahalanobis", MAHALANOBIS, search="whitened", gradient=True, centre="mean",
          fitted_default="inverse_covariance",
          kwds={"VI": _Kwd("matrix", _symmetric_psd), "vinv": _Kwd("matrix", _symmetric_psd),
                "V": _Kwd("matrix", _inverse_covariance)}),
    _spec("haversine", HAVERSINE, gradient=True, centre="descent",
          domain="latitude_longitude", output_as="haversine_polar"),
    _spec("hellinger", HELLINGER, gradient=True, centre="descent", domain="nonnegative",
          bound=1.0, output=False),
    _spec("ll_dirichlet", LL_DIRICHLET, domain="counts"),
    _spec("symmetric_kl", SYMMETRIC_KL, gradient=True, centre="descent", domain="nonnegative",
          default_p=1e-11, kwds={"z": _Kwd("p", _positive_number)}, output=False),
    _spec("poincare", POINCARE, gradient=True, centre="descent", domain="unit_ball",
          output=False),
    _spec("dice", DICE, bound=1.0),
    _spec("kulsinski", KULSINSKI),
    _spec("matching", MATCHING),
    _spec("rogerstanimoto", ROGERSTANIMOTO),
    _spec("russellrao", RUSSELLRAO),
    _spec("sokalmichener", SOKALMICHENER),
    _spec("sokalsneath", SOKALSNEATH),
    _spec("yule", YULE),
    _spec("hyperboloid", HYPERBOLOID, gradient=True, input=False, output=True),
    _spec("haversine_polar", HAVERSINE_POLAR, gradient=True, domain="polar_azimuth",
          input=False, output=True),
)

_BY_NAME = {name: spec for spec in METRICS for name in (spec.name, *spec.aliases)}
_USER_SPEC = MetricSpec("user", USER, output=False)
_USER_GRADIENT_SPEC = MetricSpec("user", USER, gradient=True, centre="descent", output=True)
_PRECOMPUTED_SPEC = MetricSpec("precomputed", PRECOMPUTED)

#: Names accepted by ``UMAP(metric=...)``.
AVAILABLE_METRICS = tuple(sorted(["precomputed", *(name for name, spec in _BY_NAME.items()
                                                   if spec.input)]))
#: Names accepted by ``UMAP(output_metric=...)``.
OUTPUT_METRICS = tuple(sorted(name for name, spec in _BY_NAME.items() if spec.output))


def metric_names(where=lambda spec: True):
    """Canonical names of the built-in metrics for which ``where(spec)`` holds."""
    return [spec.name for spec in METRICS if where(spec)]


def spec_of(name):
    """The :class:`MetricSpec` of a built-in metric name or alias (case-insensitive), or None."""
    if name == "precomputed":
        return _PRECOMPUTED_SPEC
    return _BY_NAME.get(str(name).lower())


# ----------------------------------------------------------------------------------------------
# Resolved metrics
# ----------------------------------------------------------------------------------------------


def _array_key(array):
    return None if array is None else (array.shape, array.tobytes())


@dataclass(frozen=True, eq=False)
class Metric:
    """A resolved metric: its table entry, its parameters, and what kernels need to run it.

    Attributes
    ----------
    spec : MetricSpec
        The table entry (a stand-in entry for a user function and for ``"precomputed"``).
    p : float
        Scalar parameter (minkowski's exponent, symmetric_kl's ``z``).
    vector, matrix : ndarray or None
        Array parameters (float64): seuclidean's variances, wminkowski's weights, mahalanobis's
        inverse covariance. ``None`` until given or taken from the training data (:meth:`bind`).
    user_function : numba dispatcher or None
        The user's compiled function.
    user_args : tuple
        Extra arguments passed to the user's function (the values of ``metric_kwds``).
    """

    spec: MetricSpec
    p: float = 2.0
    vector: np.ndarray | None = None
    matrix: np.ndarray | None = None
    user_function: object = None
    user_args: tuple = ()

    def __eq__(self, other):
        if not isinstance(other, Metric):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    @property
    def user_key(self):
        """A hashable form of the user function's extra arguments (``metric_kwds`` values)."""
        return self._key()[-1]

    def _key(self):
        args = tuple(_array_key(a) if isinstance(a, np.ndarray) else a for a in self.user_args)
        return (self.spec, self.p, _array_key(self.vector), _array_key(self.matrix),
                self.user_function, args)

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
    def is_precomputed(self):
        return self.spec is _PRECOMPUTED_SPEC

    @property
    def bound(self):
        """The default ``disconnection_distance`` (see :attr:`MetricSpec.bound`)."""
        return self.spec.bound

    @property
    def distance_args(self):
        """The :class:`DistanceArgs` of the true distance."""
        return distance_args(self.code, self.p, self.vector, self.matrix)

    @property
    def search_args(self):
        """The :class:`DistanceArgs` of the distance neighbour search computes."""
        return search_distance_args(self.search_code, self.p, self.vector, self.matrix)

    # -- the data ----------------------------------------------------------------------------

    def bind(self, X, role="metric"):
        """This metric made complete for the data ``X`` (its training data), after checking it.

        Array parameters that were not given are taken from the data (seuclidean: the
        variance of each column, columns without variance left out; mahalanobis: the
        pseudo-inverse of the data's covariance; wminkowski: weights of 1), the widths of
        given ones are checked, and a user function is called once on two rows to check it.

        Raises
        ------
        ValueError
            Naming the metric and what does not fit.
        """
        if self.is_precomputed:
            return self
        self.check_data(X, role)
        if self.user_function is not None:
            return _probe_user_function(self, X, role)
        width = X.shape[1]
        vector, matrix = self.vector, self.matrix
        default = self.spec.fitted_default
        if default == "variances" and vector is None:
            variances = np.asarray(X, np.float64).var(axis=0, ddof=1 if len(X) > 1 else 0)
            vector = np.where(variances > 0, variances, np.inf)
        elif default == "ones" and vector is None:
            vector = np.ones(width)
        elif default == "inverse_covariance" and matrix is None:
            data = np.asarray(X, np.float64)
            covariance = np.atleast_2d(np.cov(data, rowvar=False)) if len(data) > 1 \
                else np.eye(width)
            matrix = np.linalg.pinv(covariance, hermitian=True)
            matrix = (matrix + matrix.T) / 2.0
        bound = Metric(self.spec, self.p, vector, matrix)
        bound.check_width(width, role)
        return bound

    def check_width(self, width, role="metric"):
        """Raise a ValueError if the array parameters do not fit rows of ``width`` values."""
        if self.vector is not None and self.vector.shape != (width,):
            raise ValueError(f"{role}={self.name!r}: its vector parameter has "
                             f"{self.vector.shape[0]} values but the rows have {width}")
        if self.matrix is not None and self.matrix.shape != (width, width):
            raise ValueError(f"{role}={self.name!r}: its matrix parameter has shape "
                             f"{self.matrix.shape} but the rows have {width} values")

    def check_data(self, X, role="metric"):
        """Raise a ValueError naming the metric if rows of ``X`` are outside its domain."""
        domain = self.spec.domain
        if domain is None or X.shape[0] == 0:
            return
        where = "the data" if role == "metric" else "the embedding"
        if domain in ("latitude_longitude", "polar_azimuth"):
            if X.shape[1] != 2:
                raise ValueError(f"{role}='haversine' needs rows of 2 values (latitude, "
                                 f"longitude in radians); {where} has {X.shape[1]} columns")
            return
        if domain in ("nonnegative", "counts"):
            # Sparse X: its stored values (the others are 0).
            low = float(X.data.min(initial=0.0) if scipy.sparse.issparse(X) else np.min(X))
            if low < 0:
                raise ValueError(f"{role}={self.name!r} needs non-negative data (it compares "
                                 f"distributions), but {where} has values as low as {low:g}")
            if domain == "counts":
                empty = np.flatnonzero(np.asarray(X.sum(axis=1)).ravel() <= 0)
                if empty.size:
                    raise ValueError(f"{role}={self.name!r} needs rows of counts with a "
                                     f"positive total; {empty.size} rows sum to 0 (first: row "
                                     f"{empty[0]})")
            return
        if domain == "unit_ball":
            norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
            if norms.max() >= 1.0:
                raise ValueError(f"{role}='poincare' needs rows strictly inside the unit ball "
                                 f"(norm < 1); {where} has rows of norm up to {norms.max():g}")

    def for_output(self, n_components):
        """This metric as the ``output_metric`` of ``n_components``-d embeddings (array
        parameters not given become neutral: variances and weights of 1, identity matrix)."""
        if self.user_function is not None:
            points = np.random.RandomState(0).uniform(-10, 10, size=(2, n_components))
            return _probe_user_function(self, points.astype(np.float32), "output_metric")
        vector, matrix = self.vector, self.matrix
        if self.spec.fitted_default in ("variances", "ones") and vector is None:
            vector = np.ones(n_components)
        elif self.spec.fitted_default == "inverse_covariance" and matrix is None:
            matrix = np.eye(n_components)
        if self.spec.domain in ("latitude_longitude", "polar_azimuth") and n_components != 2:
            raise ValueError(f"output_metric='haversine' embeds on a sphere given by two "
                             f"angles: it needs n_components=2, got {n_components}")
        bound = Metric(self.spec, self.p, vector, matrix)
        bound.check_width(n_components, "output_metric")
        return bound

    def accepts(self, fitted):
        """Whether ``fitted`` (a bound metric, e.g. of a saved model) is this one with its
        missing array parameters taken from data."""
        if fitted.spec != self.spec or fitted.p != self.p:
            return False
        if fitted.user_function is not self.user_function:
            return False
        for mine, theirs in ((self.vector, fitted.vector), (self.matrix, fitted.matrix)):
            if mine is not None and (theirs is None or not np.array_equal(mine, theirs)):
                return False
        return True

    # -- neighbour search ----------------------------------------------------------------------

    @functools.cached_property
    def _whitening(self):
        """Matrix W (or per-column scale) with |(x - y) W|^2 the squared metric."""
        if self.code == SEUCLIDEAN:
            return 1.0 / np.sqrt(self.vector)
        values, vectors = np.linalg.eigh(self.matrix)
        return vectors * np.sqrt(np.maximum(values, 0.0))[None, :]

    def prepare(self, X):
        """Rows as the search kernels see them (unit rows for the angular metrics, whitened
        rows for seuclidean and mahalanobis)."""
        search = self.spec.search
        if search == "whitened":
            whitening = self._whitening
            X = np.asarray(X, dtype=np.float64)
            X = X * whitening[None, :] if whitening.ndim == 1 else X @ whitening
            return np.ascontiguousarray(X, dtype=np.float32)
        if search not in ("unit_rows", "centred_unit_rows"):
            return X
        X = np.asarray(X, dtype=np.float32)
        if search == "centred_unit_rows":
            X = X - X.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(X / norms[:, None].astype(np.float32), dtype=np.float32)

    def to_true_distance(self, search_distances):
        """Convert search distances (of ``search_args``) into distances of the metric, in place.

        Only the squared euclidean stand-ins are converted; the dot distance of unit rows
        already is the cosine (correlation) distance.
        """
        if self.spec.search in ("squared", "whitened"):
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
        with :func:`distance` (and :func:`gradient`) replaced by the user's function (compiled
        once per process and function arguments).
        """
        if self.user_function is None:
            return dispatcher
        key = (dispatcher, self.user_function, self.user_key)
        if key not in _SPECIALIZED:
            _SPECIALIZED[key] = respecialize(dispatcher, **user_replacements(self))
        return _SPECIALIZED[key]


_SPECIALIZED = {}


def user_replacements(metric):
    """Stand-ins for :func:`distance` and :func:`gradient` that call a user metric function:
    ``{"distance": ..., "gradient": ...}`` (the latter only when it returns gradients)."""
    function, args = metric.user_function, metric.user_args
    if metric.has_gradient:

        @numba.njit(inline="always")
        def user_distance(metric, x, y):
            return np.float32(function(x, y, *args)[0])

        @numba.njit
        def user_gradient(metric, x, y, out):
            value, grad = function(x, y, *args)
            for i in range(out.shape[0]):
                out[i] = grad[i]
            return np.float64(value)

        return {"distance": user_distance, "gradient": user_gradient}

    @numba.njit(inline="always")
    def user_distance(metric, x, y):
        return np.float32(function(x, y, *args))

    return {"distance": user_distance}


def _describe_call(metric):
    extra = ", *metric_kwds.values()" if metric.user_args else ""
    return f"{metric.name}(x, y{extra})"


def _probe_user_function(metric, X, role):
    """Call a user metric once on two rows; return it knowing whether it returns gradients.

    Raises a ValueError naming the function when it cannot be called on two float32 rows,
    returns something else than a number or a ``(distance, gradient)`` pair, or returns NaN.
    """
    rows = np.ascontiguousarray(X[: min(2, X.shape[0])], dtype=np.float32)
    x, y = rows[0], rows[-1]
    call = _describe_call(metric)
    try:
        result = metric.user_function(x, y, *metric.user_args)
    except Exception as error:  # numba typing errors, wrong arity, errors raised by the function
        raise ValueError(f"{role} function {call} fails on two rows of "
                         f"{'the data' if role == 'metric' else 'the embedding'} "
                         f"(1-d float32 arrays of {x.shape[0]} values): "
                         f"{type(error).__name__}: {str(error).strip().splitlines()[0]}") \
            from error
    returns_gradient = isinstance(result, tuple)
    if returns_gradient:
        if (len(result) != 2 or not _is_scalar(result[0])
                or np.shape(result[1]) != (x.shape[0],)):
            raise ValueError(f"{role} function {call} returned a tuple that is not "
                             f"(distance, gradient of {x.shape[0]} values): {result!r}")
        value = result[0]
    elif _is_scalar(result):
        value = result
    else:
        raise ValueError(f"{role} function {call} must return a number (the distance) or a pair "
                         f"(distance, gradient); it returned {type(result).__name__} {result!r}")
    if np.isnan(float(value)):
        raise ValueError(f"{role} function {call} returned NaN on two rows of the data")
    if role == "output_metric" and not returns_gradient:
        raise ValueError(f"output_metric function {call} must return (distance, gradient): the "
                         "layout moves points along the gradient (umap-learn's convention)")
    spec = _USER_GRADIENT_SPEC if returns_gradient else _USER_SPEC
    return Metric(spec, user_function=metric.user_function, user_args=metric.user_args)


def _is_scalar(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


@kernel(parallel=True)
def _pairwise_kernel(metric, X, Y):
    out = np.empty((X.shape[0], Y.shape[0]), dtype=np.float32)
    for i in numba.prange(X.shape[0]):
        for j in range(Y.shape[0]):
            out[i, j] = distance(metric, X[i], Y[j])
    return out


def _is_numba_function(obj):
    return callable(obj) and hasattr(obj, "py_func") and hasattr(obj, "signatures")


def resolve_metric(metric, metric_kwds=None, role="metric"):
    """Turn ``metric`` / ``metric_kwds`` into a :class:`Metric`, or raise a clear ValueError.

    Parameters
    ----------
    metric : str or numba function
    metric_kwds : dict or None
    role : {"metric", "output_metric"}
        What the metric is for: the input data, or the embedding (``output_metric``: it needs
        a gradient).
    """
    kwds_name = "metric_kwds" if role == "metric" else "output_metric_kwds"
    if metric_kwds is not None and not isinstance(metric_kwds, Mapping):
        raise ValueError(f"{kwds_name} must be a dict or None, got {metric_kwds!r}")
    metric_kwds = dict(metric_kwds or {})
    if _is_numba_function(metric) and isinstance(getattr(metric, "_umapx_metric", None), str):
        metric = metric._umapx_metric  # a function of umapx.distances: the built-in metric
    if _is_numba_function(metric):
        return Metric(_USER_SPEC, user_function=metric, user_args=tuple(metric_kwds.values()))
    if callable(metric):
        raise ValueError(
            f"{role}: a callable metric must be compiled with numba (decorate it with "
            "@numba.njit); got a plain Python function"
        )
    if not isinstance(metric, str):
        raise ValueError(f"{role} must be a string or a numba function, got {metric!r}")
    if role == "metric" and metric == "precomputed":
        if metric_kwds:
            raise ValueError("metric_kwds has no effect with metric='precomputed' (the "
                             "distances are given); leave it None")
        return Metric(_PRECOMPUTED_SPEC)
    spec = _BY_NAME.get(metric.lower())
    if role == "output_metric":
        if spec is not None and spec.output_as is not None:
            spec = _BY_NAME[spec.output_as]
        if spec is None or not spec.output:
            names = ", ".join(OUTPUT_METRICS)
            if spec is None:
                why = "it is not a known metric"
            elif not spec.gradient:
                why = ("it has no gradient, and the layout moves points along the output "
                       "metric's gradient")
            else:
                why = f"its rows are restricted ({spec.domain}), and the layout moves points freely"
            raise ValueError(f"output_metric={metric!r} is not supported ({why}); choose one "
                             f"of {names}, or a numba function returning (distance, gradient)")
    elif spec is None or not spec.input:
        why = " (it is an output metric only)" if spec is not None else ""
        raise ValueError(
            f"metric={metric!r} is not supported{why}; choose one of "
            f"{', '.join(AVAILABLE_METRICS)} or pass a numba-compiled function"
        )
    unknown = set(metric_kwds) - set(spec.kwds)
    if unknown:
        takes = ("it takes " + ", ".join(repr(k) for k in spec.kwds)) if spec.kwds \
            else "it takes none"
        raise ValueError(
            f"{kwds_name} {sorted(unknown)} are not understood by {role} {metric!r} ({takes})"
        )
    values = {}
    for kwd, value in metric_kwds.items():
        target = spec.kwds[kwd]
        if target.field in values:
            given = [k for k in metric_kwds if spec.kwds[k].field == target.field]
            raise ValueError(f"{kwds_name} gives {' and '.join(map(repr, given))} for "
                             f"{role} {metric!r}: they set the same parameter; give one")
        values[target.field] = target.check(spec.name, kwd, value)
    return Metric(spec, p=values.get("p", spec.default_p), vector=values.get("vector"),
                  matrix=values.get("matrix"))

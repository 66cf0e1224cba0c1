"""umap-learn's ``umap.distances`` names: the named distances as numba functions.

Each function takes two 1-d arrays (and the metric's parameters, by umap-learn's names) and
returns the distance, in the precision of the rows for metrics with a gradient (float64 rows:
float64 accuracy, equal to the ``*_grad`` function's value; float32 rows: umapx's float32
kernels, as in fitting); the ``*_grad`` functions return ``(distance, gradient)`` with the gradient
d distance / dx, umap-learn's convention for ``output_metric``. They are compiled numba
functions: call them from Python or from your own ``numba.njit`` code, or pass them to
``UMAP(metric=...)`` / ``UMAP(output_metric=...)``, where they are recognised as the built-in
metric they compute (and run at built-in speed, with ``metric_kwds`` by name).

``haversine`` takes (latitude, longitude) and ``haversine_grad`` (polar angle, azimuth), as in
umap-learn: the latter is the ``output_metric="haversine"``, whose embedding umap-learn's sphere
projection ``(sin x0 cos x1, sin x0 sin x1, cos x0)`` shows.

``named_distances`` and ``named_distances_with_gradients`` map every name and alias to its
function, as in umap-learn, and :func:`pairwise_special_metric` computes a distance matrix.
The kernels are umapx's own (:mod:`umapx.metrics`); this module is part of the compatibility
surface.
"""

from __future__ import annotations

import numba
import numpy as np

from . import metrics as _m
from ._jit import kernel


@kernel
def _distance(code, p, vector, matrix, x, y):
    return np.float64(_m.distance(_m.DistanceArgs(code, p, vector, matrix), x, y))


@kernel
def _gradient(code, p, vector, matrix, x, y):
    out = np.zeros(x.shape[0], dtype=np.float64)
    value = _m.gradient(_m.DistanceArgs(code, p, vector, matrix), x, y, out)
    return np.float64(value), out


def _tag(function, name):
    """Mark ``function`` as computing the table metric ``name`` (``resolve_metric`` reads it)."""
    function._umapx_metric = name
    return function


@kernel
def _value(code, p, vector, matrix, x, y, has_gradient):
    """The distance in the precision of the rows: float64 rows of a metric with a gradient go
    through the float64 gradient kernel (so the value matches its ``*_grad`` function and
    finite differences), other rows through umapx's float32 distance kernel."""
    if has_gradient and (x.itemsize == 8 or y.itemsize == 8):
        return _gradient(code, p, vector, matrix, x, y)[0]
    return _distance(code, p, vector, matrix, x, y)


def _make(name, code, function_name=None, has_gradient=True):
    """The numba distance and gradient functions of a metric without parameters (named
    ``function_name``, by default the metric's name)."""

    def distance(x, y):
        return _value(code, 2.0, np.zeros(0), np.zeros((0, 0)), x, y, has_gradient)

    def gradient(x, y):
        return _gradient(code, 2.0, np.zeros(0), np.zeros((0, 0)), x, y)

    function_name = function_name or name
    distance.__name__, gradient.__name__ = function_name, function_name + "_grad"
    distance.__doc__ = f"The {name} distance between two rows (see :mod:`umapx.metrics`)."
    gradient.__doc__ = f"The {name} distance and its gradient in x."
    return _tag(numba.njit(distance), name), _tag(numba.njit(gradient), name)


euclidean, euclidean_grad = _make("euclidean", _m.EUCLIDEAN)
manhattan, manhattan_grad = _make("manhattan", _m.MANHATTAN)
chebyshev, chebyshev_grad = _make("chebyshev", _m.CHEBYSHEV)
cosine, cosine_grad = _make("cosine", _m.COSINE)
correlation, correlation_grad = _make("correlation", _m.CORRELATION)
canberra, canberra_grad = _make("canberra", _m.CANBERRA)
bray_curtis, bray_curtis_grad = _make("braycurtis", _m.BRAYCURTIS, "bray_curtis")
haversine, _ = _make("haversine", _m.HAVERSINE, has_gradient=False)
# As in umap-learn, the gradient version measures (polar angle, azimuth): it is what the
# output_metric "haversine" uses.
_, haversine_grad = _make("haversine", _m.HAVERSINE_POLAR)
hellinger, hellinger_grad = _make("hellinger", _m.HELLINGER)
poincare, poincare_grad = _make("poincare", _m.POINCARE)
_, hyperboloid_grad = _make("hyperboloid", _m.HYPERBOLOID)
hamming, _ = _make("hamming", _m.HAMMING, has_gradient=False)
jaccard, _ = _make("jaccard", _m.JACCARD, has_gradient=False)
dice, _ = _make("dice", _m.DICE, has_gradient=False)
kulsinski, _ = _make("kulsinski", _m.KULSINSKI, has_gradient=False)
matching, _ = _make("matching", _m.MATCHING, has_gradient=False)
rogers_tanimoto, _ = _make("rogerstanimoto", _m.ROGERSTANIMOTO, "rogers_tanimoto",
                        has_gradient=False)
russellrao, _ = _make("russellrao", _m.RUSSELLRAO, has_gradient=False)
sokal_michener, _ = _make("sokalmichener", _m.SOKALMICHENER, "sokal_michener",
                       has_gradient=False)
sokal_sneath, _ = _make("sokalsneath", _m.SOKALSNEATH, "sokal_sneath", has_gradient=False)
yule, _ = _make("yule", _m.YULE, has_gradient=False)
ll_dirichlet, _ = _make("ll_dirichlet", _m.LL_DIRICHLET, has_gradient=False)


@numba.njit
def _ones_if_none(values, x):
    if values is None:
        return np.ones(x.shape[0])
    return np.ascontiguousarray(values).astype(np.float64)


@numba.njit
def _identity_if_none(matrix, x):
    if matrix is None:
        return np.eye(x.shape[0])
    return np.ascontiguousarray(matrix).astype(np.float64)


@numba.njit
def minkowski(x, y, p=2.0):
    """(sum |x_i - y_i|^p)^(1/p)."""
    return _value(_m.MINKOWSKI, np.float64(p), np.zeros(0), np.zeros((0, 0)), x, y, True)


@numba.njit
def minkowski_grad(x, y, p=2.0):
    return _gradient(_m.MINKOWSKI, np.float64(p), np.zeros(0), np.zeros((0, 0)), x, y)


@numba.njit
def weighted_minkowski(x, y, w=None, p=2.0):
    """(sum w_i |x_i - y_i|^p)^(1/p) (weights of 1 when ``w`` is None)."""
    return _value(_m.WMINKOWSKI, np.float64(p), _ones_if_none(w, x), np.zeros((0, 0)), x, y,
                  True)


@numba.njit
def weighted_minkowski_grad(x, y, w=None, p=2.0):
    return _gradient(_m.WMINKOWSKI, np.float64(p), _ones_if_none(w, x), np.zeros((0, 0)), x, y)


@numba.njit
def standardised_euclidean(x, y, sigma=None):
    """sqrt(sum (x_i - y_i)^2 / sigma_i), ``sigma`` the per-coordinate variances (umap-learn's
    name; scipy calls it ``V``)."""
    return _value(_m.SEUCLIDEAN, 2.0, _ones_if_none(sigma, x), np.zeros((0, 0)), x, y, True)


@numba.njit
def standardised_euclidean_grad(x, y, sigma=None):
    return _gradient(_m.SEUCLIDEAN, 2.0, _ones_if_none(sigma, x), np.zeros((0, 0)), x, y)


@numba.njit
def mahalanobis(x, y, vinv=None):
    """sqrt((x - y)^T vinv (x - y)), ``vinv`` the inverse covariance (identity when None)."""
    return _value(_m.MAHALANOBIS, 2.0, np.zeros(0), _identity_if_none(vinv, x), x, y, True)


@numba.njit
def mahalanobis_grad(x, y, vinv=None):
    return _gradient(_m.MAHALANOBIS, 2.0, np.zeros(0), _identity_if_none(vinv, x), x, y)


@numba.njit
def symmetric_kl(x, y, z=1e-11):
    """Symmetrised Kullback-Leibler divergence of the distributions ``x + z`` and ``y + z``,
    each normalised to sum 1."""
    return _value(_m.SYMMETRIC_KL, np.float64(z), np.zeros(0), np.zeros((0, 0)), x, y, True)


@numba.njit
def symmetric_kl_grad(x, y, z=1e-11):
    return _gradient(_m.SYMMETRIC_KL, np.float64(z), np.zeros(0), np.zeros((0, 0)), x, y)


#: umap-learn keeps a float64 copy of ``mahalanobis`` for finite-difference checks; umapx's
#: ``mahalanobis`` already computes float64 rows in float64, so it is the same function.
mahalanobis_f64 = mahalanobis


@numba.njit
def _softmax(x):
    shifted = np.exp(x - np.max(x))
    return shifted / np.sum(shifted)


@numba.njit
def softmax_hellinger(x, y):
    """Hellinger distance between ``softmax(x)`` and ``softmax(y)`` (rows of logits)."""
    return hellinger(_softmax(x), _softmax(y))


@numba.njit
def softmax_hellinger_grad(x, y):
    """:func:`softmax_hellinger` and its gradient in x (the chain rule through the softmax,
    whose Jacobian is ``diag(p) - p p^T``)."""
    p = _softmax(x)
    distance, gradient_p = hellinger_grad(p, _softmax(y))
    return distance, p * (gradient_p - np.dot(gradient_p, p))


for _function, _name in ((minkowski, "minkowski"), (minkowski_grad, "minkowski"),
                         (weighted_minkowski, "wminkowski"),
                         (weighted_minkowski_grad, "wminkowski"),
                         (standardised_euclidean, "seuclidean"),
                         (standardised_euclidean_grad, "seuclidean"),
                         (mahalanobis, "mahalanobis"), (mahalanobis_grad, "mahalanobis"),
                         (symmetric_kl, "symmetric_kl"), (symmetric_kl_grad, "symmetric_kl")):
    _tag(_function, _name)

_FUNCTIONS = {
    "euclidean": (euclidean, euclidean_grad), "manhattan": (manhattan, manhattan_grad),
    "chebyshev": (chebyshev, chebyshev_grad), "minkowski": (minkowski, minkowski_grad),
    "cosine": (cosine, cosine_grad), "correlation": (correlation, correlation_grad),
    "canberra": (canberra, canberra_grad), "braycurtis": (bray_curtis, bray_curtis_grad),
    "hamming": (hamming, None), "jaccard": (jaccard, None),
    "seuclidean": (standardised_euclidean, standardised_euclidean_grad),
    "wminkowski": (weighted_minkowski, weighted_minkowski_grad),
    "mahalanobis": (mahalanobis, mahalanobis_grad), "haversine": (haversine, haversine_grad),
    "haversine_polar": (None, haversine_grad),
    "hellinger": (hellinger, hellinger_grad), "ll_dirichlet": (ll_dirichlet, None),
    "symmetric_kl": (symmetric_kl, symmetric_kl_grad), "poincare": (poincare, poincare_grad),
    "dice": (dice, None), "kulsinski": (kulsinski, None), "matching": (matching, None),
    "rogerstanimoto": (rogers_tanimoto, None), "russellrao": (russellrao, None),
    "sokalmichener": (sokal_michener, None), "sokalsneath": (sokal_sneath, None),
    "yule": (yule, None), "hyperboloid": (None, hyperboloid_grad),
}

#: Every metric name and alias of the table -> its distance function.
named_distances = {name: _FUNCTIONS[spec.name][0] for spec in _m.METRICS if spec.input
                   for name in (spec.name, *spec.aliases)}
#: Every name and alias of a metric with a gradient -> its ``(distance, gradient)`` function.
named_distances_with_gradients = {name: _FUNCTIONS[spec.name][1] for spec in _m.METRICS
                                  if spec.gradient for name in (spec.name, *spec.aliases)}
# Composed functions without a row in the metric table (callable, and usable as a numba
# metric function, but not by name in UMAP(metric=...)).
named_distances["softmax_hellinger"] = softmax_hellinger
named_distances_with_gradients["softmax_hellinger"] = softmax_hellinger_grad



def pairwise_special_metric(X, Y=None, metric="hellinger", kwds=None, ensure_all_finite=True):
    """The matrix of distances between the rows of ``X`` and of ``Y`` (``X`` when None).

    Parameters
    ----------
    X, Y : ndarray (n, d), (m, d)
    metric : str or numba function
        A metric name (with ``kwds`` as ``metric_kwds``) or a numba function of two rows.
    kwds : dict or None
    ensure_all_finite : bool
        Refuse NaN and infinity in the rows (umap-learn's option).

    Returns
    -------
    ndarray (n, m), float32
    """
    from sklearn.utils import check_array

    X = check_array(X, dtype=np.float32, ensure_all_finite=ensure_all_finite)
    Y = X if Y is None else check_array(Y, dtype=np.float32, ensure_all_finite=ensure_all_finite)
    resolved = _m.resolve_metric(metric, kwds).bind(np.vstack([X, Y]))
    return resolved.pairwise(X, Y)


__all__ = sorted(name for name, value in globals().items()
                 if not name.startswith("_") and hasattr(value, "_umapx_metric")) + [
    "mahalanobis_f64", "named_distances", "named_distances_with_gradients",
    "pairwise_special_metric", "softmax_hellinger", "softmax_hellinger_grad"]
del _function, _name

"""Kernels of the metrics beyond the classic ones: their distances and gradients.

Pure numba functions of two rows (``x``, ``y``: 1-d arrays, float32 or float64) and, where a
metric takes them, its parameters (``p``, a float64 vector, a float64 matrix). Distances are
computed in float64 and returned as float64; :func:`umapx.metrics.distance` converts them to
float32. A gradient function writes d distance(x, y) / dx into ``out`` (float64, already
zeroed) and returns the distance; where the distance is not differentiable a subgradient is
written (zero at x == y).

The switches :func:`umapx.metrics.distance` and :func:`umapx.metrics.gradient` call these by
metric code; nothing else calls them directly.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel

# ----------------------------------------------------------------------------------------------
# Weighted and whitened euclidean-like metrics
# ----------------------------------------------------------------------------------------------


@kernel(inline="always")
def standardised_euclidean(x, y, variances):
    """sqrt(sum_i (x_i - y_i)^2 / V_i)."""
    total = 0.0
    for i in range(x.shape[0]):
        diff = np.float64(x[i]) - y[i]
        total += diff * diff / variances[i]
    return np.sqrt(total)


@kernel(inline="always")
def standardised_euclidean_gradient(x, y, variances, out):
    dist = standardised_euclidean(x, y, variances)
    if dist > 0:
        for i in range(x.shape[0]):
            out[i] = (np.float64(x[i]) - y[i]) / (variances[i] * dist)
    return dist


@kernel(inline="always")
def weighted_minkowski(x, y, weights, p):
    """(sum_i w_i |x_i - y_i|^p)^(1/p), umap-learn's definition (the weight is not raised to p)."""
    total = 0.0
    for i in range(x.shape[0]):
        total += weights[i] * abs(np.float64(x[i]) - y[i]) ** p
    return total ** (1.0 / p)


@kernel(inline="always")
def weighted_minkowski_gradient(x, y, weights, p, out):
    dist = weighted_minkowski(x, y, weights, p)
    if dist > 0:
        for i in range(x.shape[0]):
            diff = np.float64(x[i]) - y[i]
            out[i] = weights[i] * np.sign(diff) * (abs(diff) / dist) ** (p - 1.0)
    return dist


@kernel(inline="always")
def _whitened_row(x, y, inverse_covariance, i):
    """Row ``i`` of VI (x - y)."""
    total = 0.0
    for j in range(x.shape[0]):
        total += inverse_covariance[i, j] * (np.float64(x[j]) - y[j])
    return total


@kernel(inline="always")
def mahalanobis(x, y, inverse_covariance):
    """sqrt((x - y)^T VI (x - y)), VI symmetric positive semi-definite."""
    total = 0.0
    for i in range(x.shape[0]):
        total += _whitened_row(x, y, inverse_covariance, i) * (np.float64(x[i]) - y[i])
    return np.sqrt(max(total, 0.0))


@kernel(inline="always")
def mahalanobis_gradient(x, y, inverse_covariance, out):
    dist = mahalanobis(x, y, inverse_covariance)
    if dist > 0:
        for i in range(x.shape[0]):
            out[i] = _whitened_row(x, y, inverse_covariance, i) / dist
    return dist


# ----------------------------------------------------------------------------------------------
# Spherical and hyperbolic geometry
# ----------------------------------------------------------------------------------------------


@kernel(inline="always")
def _haversine_term(lat_x, lon_x, lat_y, lon_y):
    """The haversine h of two (latitude, longitude) points in radians, clamped to [0, 1]."""
    sin_lat = np.sin(0.5 * (lat_x - lat_y))
    sin_lon = np.sin(0.5 * (lon_x - lon_y))
    h = sin_lat * sin_lat + np.cos(lat_x) * np.cos(lat_y) * sin_lon * sin_lon
    return min(max(h, 0.0), 1.0)


@kernel(inline="always")
def _latitudes(x, y, polar):
    """The latitudes of x and y: their first coordinates, or pi/2 minus them (``polar``: the
    first coordinate is the angle from the pole)."""
    if polar:
        return 0.5 * np.pi - np.float64(x[0]), 0.5 * np.pi - np.float64(y[0])
    return np.float64(x[0]), np.float64(y[0])


@kernel(inline="always")
def haversine(x, y, polar):
    """Great-circle distance (radians) between points given as (latitude, longitude) in
    radians, or with ``polar`` as (polar angle, azimuth) -- umap-learn's convention for its
    ``output_metric="haversine"``, which its sphere projection
    ``(sin x0 cos x1, sin x0 sin x1, cos x0)`` follows."""
    lat_x, lat_y = _latitudes(x, y, polar)
    return 2.0 * np.arcsin(np.sqrt(_haversine_term(lat_x, np.float64(x[1]), lat_y,
                                                   np.float64(y[1]))))


@kernel(inline="always")
def haversine_gradient(x, y, polar, out):
    lat_x, lat_y = _latitudes(x, y, polar)
    d_lon = np.float64(x[1]) - y[1]
    h = _haversine_term(lat_x, np.float64(x[1]), lat_y, np.float64(y[1]))
    dist = 2.0 * np.arcsin(np.sqrt(h))
    scale = h * (1.0 - h)
    if scale > 0:
        sin_half_lon = np.sin(0.5 * d_lon)
        dh_dlat = 0.5 * np.sin(lat_x - lat_y) - np.sin(lat_x) * np.cos(lat_y) * sin_half_lon ** 2
        dh_dlon = 0.5 * np.cos(lat_x) * np.cos(lat_y) * np.sin(d_lon)
        factor = 1.0 / np.sqrt(scale)
        out[0] = (-factor if polar else factor) * dh_dlat  # d lat / d x0 = -1 when polar
        out[1] = factor * dh_dlon
    return dist


@kernel(inline="always")
def _pair_sums(x, y):
    """|x|^2, |y|^2, <x, y> and |x - y|^2 (float64)."""
    norm_x = 0.0
    norm_y = 0.0
    dot = 0.0
    diff = 0.0
    for i in range(x.shape[0]):
        norm_x += np.float64(x[i]) * x[i]
        norm_y += np.float64(y[i]) * y[i]
        dot += np.float64(x[i]) * y[i]
        diff += (np.float64(x[i]) - y[i]) ** 2
    return norm_x, norm_y, dot, diff


@kernel(inline="always")
def poincare(x, y):
    """Hyperbolic distance of the Poincare ball: arcosh(1 + 2|x-y|^2 / ((1-|x|^2)(1-|y|^2))).

    Infinite when a point is not strictly inside the unit ball.
    """
    norm_x, norm_y, _, diff = _pair_sums(x, y)
    if norm_x >= 1.0 or norm_y >= 1.0:
        return np.inf
    return np.arccosh(1.0 + 2.0 * diff / ((1.0 - norm_x) * (1.0 - norm_y)))


@kernel(inline="always")
def poincare_gradient(x, y, out):
    norm_x, norm_y, _, diff = _pair_sums(x, y)
    if norm_x >= 1.0 or norm_y >= 1.0:
        return np.inf  # outside the ball: no direction (the gradient stays zero)
    outer_x = 1.0 - norm_x
    delta = 2.0 * diff / (outer_x * (1.0 - norm_y))
    if delta > 0:
        # d arcosh(1 + delta) = d delta / sqrt(delta (delta + 2))
        scale = 1.0 / np.sqrt(delta * (delta + 2.0))
        for i in range(x.shape[0]):
            d_delta = delta * (2.0 * (np.float64(x[i]) - y[i]) / diff
                               + 2.0 * np.float64(x[i]) / outer_x)
            out[i] = scale * d_delta
    return np.arccosh(1.0 + delta)


@kernel(inline="always")
def _hyperboloid_product(x, y):
    """-<x, y> of the Minkowski space for points of the hyperboloid model given by their
    last coordinates (the first is sqrt(1 + |x|^2)); returns it with |x|^2 and |y|^2."""
    norm_x, norm_y, dot, _ = _pair_sums(x, y)
    return np.sqrt(1.0 + norm_x) * np.sqrt(1.0 + norm_y) - dot, norm_x, norm_y


@kernel(inline="always")
def hyperboloid(x, y):
    """Hyperbolic distance between points of the hyperboloid model (umap-learn's output metric)."""
    product, _, _ = _hyperboloid_product(x, y)
    return np.arccosh(max(product, 1.0))


@kernel(inline="always")
def hyperboloid_gradient(x, y, out):
    product, norm_x, norm_y = _hyperboloid_product(x, y)
    if product > 1.0:
        s = np.sqrt(1.0 + norm_x)
        t = np.sqrt(1.0 + norm_y)
        scale = 1.0 / np.sqrt(product * product - 1.0)
        for i in range(x.shape[0]):
            out[i] = scale * (np.float64(x[i]) * t / s - y[i])
        return np.arccosh(product)
    return 0.0


# ----------------------------------------------------------------------------------------------
# Distributions (non-negative rows)
# ----------------------------------------------------------------------------------------------


@kernel(inline="always")
def _hellinger_parts(x, y):
    root_sum = 0.0
    sum_x = 0.0
    sum_y = 0.0
    for i in range(x.shape[0]):
        root_sum += np.sqrt(np.float64(x[i]) * y[i])
        sum_x += x[i]
        sum_y += y[i]
    return root_sum, sum_x, sum_y


@kernel(inline="always")
def hellinger(x, y):
    """sqrt(1 - sum_i sqrt(x_i y_i) / sqrt(|x|_1 |y|_1)) of non-negative rows (0 for two zero
    rows, 1 from a zero row to any other)."""
    root_sum, sum_x, sum_y = _hellinger_parts(x, y)
    if sum_x == 0.0 and sum_y == 0.0:
        return 0.0
    if sum_x == 0.0 or sum_y == 0.0:
        return 1.0
    return np.sqrt(max(1.0 - root_sum / np.sqrt(sum_x * sum_y), 0.0))


@kernel(inline="always")
def hellinger_gradient(x, y, out):
    root_sum, sum_x, sum_y = _hellinger_parts(x, y)
    if sum_x == 0.0 or sum_y == 0.0:
        return 0.0 if sum_x == sum_y else 1.0
    norm = np.sqrt(sum_x * sum_y)
    dist = np.sqrt(max(1.0 - root_sum / norm, 0.0))
    if dist > 0:
        # d/dx_i of -root_sum / norm; the root term's derivative is taken as 0 where x_i = 0
        # (a subgradient: it is infinite there).
        shared = 0.5 * root_sum * sum_y / (norm ** 3)
        for i in range(x.shape[0]):
            root_term = 0.0
            if x[i] > 0:
                root_term = 0.5 * np.sqrt(np.float64(y[i]) / x[i]) / norm
            out[i] = (shared - root_term) / (2.0 * dist)
    return dist


@kernel(inline="always")
def _log_beta(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


@kernel(inline="always")
def ll_dirichlet(x, y):
    """Symmetric relative log-likelihood of two count rows under a Dirichlet-multinomial model.

    With n_x = sum x, n_y = sum y and B the beta function (log B from exact log-gamma), over the
    entries counted at least once (> 0.9):

        D^2 = (1/n_y) [L - log B(n_x, n_y) - (S_y - log B(n_y, n_y))]
            + (1/n_x) [L - log B(n_y, n_x) - (S_x - log B(n_x, n_x))]

    where L sums log B(x_i, y_i) over entries present in both and S_x (S_y) sums
    log B(x_i, x_i) over entries present in x (y). D(x, x) = 0. Rows must be non-negative with
    positive sums (checked on the data).
    """
    n_x = 0.0
    n_y = 0.0
    shared = 0.0
    self_x = 0.0
    self_y = 0.0
    for i in range(x.shape[0]):
        a = np.float64(x[i])
        b = np.float64(y[i])
        n_x += a
        n_y += b
        if a > 0.9:
            self_x += _log_beta(a, a)
        if b > 0.9:
            self_y += _log_beta(b, b)
        if a * b > 0.9:
            shared += _log_beta(a, b)
    if n_x <= 0.0 or n_y <= 0.0:
        return 0.0 if n_x == n_y else np.inf
    total = (shared - _log_beta(n_x, n_y) - (self_y - _log_beta(n_y, n_y))) / n_y \
        + (shared - _log_beta(n_y, n_x) - (self_x - _log_beta(n_x, n_x))) / n_x
    return np.sqrt(max(total, 0.0))


@kernel(inline="always")
def _symmetric_kl_sums(x, y, z):
    sum_x = 0.0
    sum_y = 0.0
    for i in range(x.shape[0]):
        sum_x += np.float64(x[i]) + z
        sum_y += np.float64(y[i]) + z
    return sum_x, sum_y


@kernel(inline="always")
def symmetric_kl(x, y, z):
    """(KL(p || q) + KL(q || p)) / 2 of the distributions p = (x + z) / sum, q = (y + z) / sum
    (non-negative rows; ``z`` keeps the logarithms finite)."""
    sum_x, sum_y = _symmetric_kl_sums(x, y, z)
    total = 0.0
    for i in range(x.shape[0]):
        p = (np.float64(x[i]) + z) / sum_x
        q = (np.float64(y[i]) + z) / sum_y
        total += (p - q) * np.log(p / q)
    return max(0.5 * total, 0.0)


@kernel(inline="always")
def symmetric_kl_gradient(x, y, z, out):
    sum_x, sum_y = _symmetric_kl_sums(x, y, z)
    total = 0.0
    mean_term = 0.0
    n = x.shape[0]
    for i in range(n):
        p = (np.float64(x[i]) + z) / sum_x
        q = (np.float64(y[i]) + z) / sum_y
        ratio = np.log(p / q)
        total += (p - q) * ratio
        out[i] = 0.5 * (ratio + 1.0 - q / p)  # d D / d p_i
        mean_term += out[i] * p
    for i in range(n):  # through the normalisation p = (x + z) / sum
        out[i] = (out[i] - mean_term) / sum_x
    return max(0.5 * total, 0.0)


# ----------------------------------------------------------------------------------------------
# Binary dissimilarities (entries compared as ``value != 0``)
# ----------------------------------------------------------------------------------------------


@kernel(inline="always")
def binary_counts(x, y):
    """Entries true in both, true only in x, true only in y (``!= 0``), and the row length."""
    both = 0
    only_x = 0
    only_y = 0
    for i in range(x.shape[0]):
        in_x = x[i] != 0
        in_y = y[i] != 0
        if in_x and in_y:
            both += 1
        elif in_x:
            only_x += 1
        elif in_y:
            only_y += 1
    return np.float64(both), np.float64(only_x), np.float64(only_y), np.float64(x.shape[0])


#: Order of the binary dissimilarities in :func:`binary_dissimilarity`.
BINARY_KINDS = ("dice", "kulsinski", "matching", "rogerstanimoto", "russellrao",
                "sokalmichener", "sokalsneath", "yule")


@kernel(inline="always")
def binary_dissimilarity(kind, x, y):
    """The binary dissimilarity number ``kind`` of :data:`BINARY_KINDS` (umap-learn's
    definitions; each is 0 between rows of the same support).

    With ``b`` entries true in both rows, ``r`` entries true in one only and ``n`` entries:
    dice ``r / (2b + r)``, kulsinski ``(r - b + n) / (r + n)``, matching ``r / n``,
    rogerstanimoto and sokalmichener ``2r / (n + r)``, russellrao ``(n - b) / n``,
    sokalsneath ``r / (b / 2 + r)``, yule ``2 t f / (b (n - b - r) + t f)`` with ``t``, ``f``
    the entries true in x only and in y only.
    """
    both, only_x, only_y, n = binary_counts(x, y)
    differ = only_x + only_y
    if differ == 0.0:
        return 0.0
    if kind == 0:
        return differ / (2.0 * both + differ)
    if kind == 1:
        return (differ - both + n) / (differ + n)
    if kind == 2:
        return differ / n
    if kind == 3 or kind == 5:
        return 2.0 * differ / (n + differ)
    if kind == 4:
        return (n - both) / n
    if kind == 6:
        return differ / (0.5 * both + differ)
    if only_x == 0.0 or only_y == 0.0:
        return 0.0
    return 2.0 * only_x * only_y / (both * (n - both - differ) + only_x * only_y)

"""Inverse transform: from points of the embedding to generated samples of the input space.

Method
------
A point ``y`` of the embedding is mapped to the sample that the model's own similarity says it
stands for: its ``k`` nearest training points in the embedding are weighted by the embedding's
similarity curve, and the generated sample is their weighted centre in the input space (for the
euclidean metric, the weighted mean)::

    phi(d) = 1 / (1 + a d^(2b))                               (the curve fitted by UMAP)
    w_i    = phi(|y - y_i|) - phi(|y - y_(k+1)|),  i = 1..k    (y_(k+1): the next neighbour)
    x(y)   = argmin_x  sum_i w_i dist(x, x_i)^2

Subtracting the similarity of the (k+1)-th neighbour makes a neighbour's weight reach zero
exactly when it leaves the neighbourhood, so ``x(y)`` is continuous in ``y`` everywhere, inside
and outside the support of the embedding. This is Nadaraya-Watson kernel regression with the
model's own kernel; measured against local-linear maps and Gaussian kernels it gave the lowest
reconstruction error at equal novelty (see benchmarks/README.md).

The weighted centre under each metric:

* euclidean: the weighted mean;
* manhattan: the coordinate-wise weighted median;
* cosine: the weighted mean direction of the unit rows, scaled by the weighted mean norm;
* correlation: the same on centred rows, then the weighted mean offset added back;
* chebyshev, minkowski, canberra, braycurtis: gradient descent on ``sum_i w_i dist(x, x_i)^2``
  from the weighted mean, with the metrics' gradients;
* hamming, jaccard and user metrics have no meaningful centre here: ``inverse_transform``
  raises a ValueError.

Every generated sample is therefore a convex combination of training samples (or, for the
descent metrics, clipped to the range of the training data): always finite and inside the
per-feature range of the data.

Options
-------
Two refinements of the blend live in :mod:`umapx.inverse_refine`: ``detail`` adds back the
residual detail that blending averages away (sharper samples, continuous, at a higher
reconstruction error), and ``method="refine"`` moves the blend so that the model's own
``transform`` places it nearer the point asked for (slower, and only as continuous as
``transform``).

Support and confidence
----------------------
``out_of_support = |y - y_1| / h_1``, where ``y_1`` is the nearest training point in the
embedding and ``h_1`` its distance to its own ``k``-th nearest neighbour: about 0-0.5 among the
data, growing linearly as ``y`` moves away. ``confidence = exp(-out_of_support^2)``. A warning
names how many points lie beyond ``out_of_support > 3``.

Cost: a KD-tree query and ``k`` row reads per point, parallel over points; no matrix of size
queries x training points is ever formed. Every point's result depends only on that point and
the model (deterministic, independent of batching and ``n_jobs``).
"""

from __future__ import annotations

import warnings

import numba
import numpy as np
from scipy.spatial import cKDTree

from . import metrics as _metrics
from ._jit import kernel, resolve_n_threads

#: Metrics whose weighted centre has a closed form.
_CLOSED_FORM = {_metrics.EUCLIDEAN, _metrics.MANHATTAN, _metrics.COSINE, _metrics.CORRELATION}
#: Points beyond this out-of-support score trigger the warning.
FAR_OUTSIDE = 3.0
_DESCENT_STEPS = 60
_BATCH = 8192


class EmbeddingIndex:
    """KD-tree over the training embedding with each point's local scale.

    Parameters
    ----------
    embedding : ndarray (n, dim)
    n_neighbors : int
        Neighbourhood size; the local scale of a point is its distance to its
        ``n_neighbors``-th nearest other embedded point.
    """

    # Points farther than this many embedding radii are pulled back radially to that distance:
    # the samples there are already constant to float64 precision, and distances stay finite.
    FAR_LIMIT = 1e6

    def __init__(self, embedding, n_neighbors):
        self.embedding = np.asarray(embedding, dtype=np.float64)
        self.centre = self.embedding.mean(axis=0)
        self.radius = max(float(np.linalg.norm(self.embedding - self.centre, axis=1).max()),
                          np.finfo(np.float64).tiny)
        self.tree = cKDTree(self.embedding)
        k = min(n_neighbors, len(self.embedding) - 1)
        dists, _ = self.tree.query(self.embedding, k=k + 1)
        scale = dists[:, -1]
        positive = scale[scale > 0]
        floor = positive.min() if positive.size else 1.0
        self.local_scale = np.maximum(scale, floor)

    def query(self, points, k, n_jobs=1):
        with np.errstate(over="ignore"):
            offsets = points - self.centre
        offsets = np.where(np.isfinite(offsets), offsets, points)  # |points| near 1.8e308
        largest = np.abs(offsets).max(axis=1)  # scaled norms: no overflow either
        largest[largest == 0] = 1.0
        directions = offsets / largest[:, None]
        lengths = np.linalg.norm(directions, axis=1)
        limit = self.FAR_LIMIT * self.radius
        far = largest * lengths > limit
        if np.any(far):
            points = points.copy()
            points[far] = self.centre + directions[far] * (limit / lengths[far])[:, None]
        dists, idx = self.tree.query(points, k=k, workers=resolve_n_threads(n_jobs))
        return np.atleast_2d(dists), np.atleast_2d(idx).astype(np.int64)


def check_metric_supports_inverse(metric):
    """Raise a ValueError naming the metric when it has no inverse transform."""
    if metric.code in _CLOSED_FORM or metric.has_gradient:
        return
    raise ValueError(
        f"inverse_transform is not available for metric={metric.name!r}: it needs a metric "
        "with a weighted centre (euclidean, manhattan, cosine, correlation, chebyshev, "
        "minkowski, canberra, braycurtis)"
    )


def interpolation_weights(dists, a, b):
    """Normalised, continuous weights of the k nearest embedding neighbours.

    Parameters
    ----------
    dists : ndarray (m, k + 1)
        Sorted distances to the k + 1 nearest embedded training points.
    a, b : float
        The fitted similarity curve.

    Returns
    -------
    ndarray (m, k), rows summing to 1.
    """
    similarity = 1.0 / (1.0 + a * dists ** (2.0 * b))
    weights = np.maximum(similarity[:, :-1] - similarity[:, -1:], 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    ties = totals[:, 0] <= 0  # all k + 1 neighbours equidistant (or infinitely far)
    weights[ties] = 1.0
    totals[ties] = weights.shape[1]
    return weights / totals


@kernel(parallel=True)
def _weighted_mean(data, idx, weights):
    out = np.zeros((idx.shape[0], data.shape[1]), np.float64)
    for q in numba.prange(idx.shape[0]):
        for j in range(idx.shape[1]):
            w = weights[q, j]
            if w > 0:
                row = data[idx[q, j]]
                for f in range(data.shape[1]):
                    out[q, f] += w * row[f]
    return out


@kernel(parallel=True)
def _weighted_median(data, idx, weights):
    n_features = data.shape[1]
    k = idx.shape[1]
    out = np.empty((idx.shape[0], n_features), np.float64)
    for q in numba.prange(idx.shape[0]):
        values = np.empty(k, np.float64)
        for f in range(n_features):
            for j in range(k):
                values[j] = data[idx[q, j], f]
            order = np.argsort(values)
            cumulative = 0.0
            for j in range(k):
                cumulative += weights[q, order[j]]
                if cumulative >= 0.5:
                    out[q, f] = values[order[j]]
                    break
            else:
                out[q, f] = values[order[k - 1]]
    return out


@kernel(parallel=True)
def _spherical_mean(data, idx, weights, centred):
    """Weighted mean direction of the (centred) rows, scaled by their weighted mean norm."""
    n_features = data.shape[1]
    out = np.zeros((idx.shape[0], n_features), np.float64)
    for q in numba.prange(idx.shape[0]):
        mean_norm = 0.0
        mean_offset = 0.0
        for j in range(idx.shape[1]):
            row = data[idx[q, j]]
            offset = 0.0
            if centred:
                for f in range(n_features):
                    offset += row[f]
                offset /= n_features
            norm = 0.0
            for f in range(n_features):
                norm += (row[f] - offset) ** 2
            norm = np.sqrt(norm)
            w = weights[q, j]
            mean_norm += w * norm
            mean_offset += w * offset
            if norm > 0:
                for f in range(n_features):
                    out[q, f] += w * (row[f] - offset) / norm
        length = 0.0
        for f in range(n_features):
            length += out[q, f] ** 2
        length = np.sqrt(length)
        scale = mean_norm / length if length > 0 else 0.0
        for f in range(n_features):
            out[q, f] = out[q, f] * scale + mean_offset
    return out


@kernel(parallel=True)
def _frechet_descent(code, data, idx, weights, p, start, low, high, n_steps):
    """Minimise sum_i w_i dist(x, x_i)^2 by (sub)gradient descent; keep the best iterate."""
    n_features = data.shape[1]
    out = start.copy()
    for q in numba.prange(idx.shape[0]):
        x = start[q].copy()
        grad = np.empty(n_features)
        total = np.empty(n_features)
        # Step size relative to the spread of the neighbourhood.
        radius = 0.0
        for j in range(idx.shape[1]):
            d = _metrics.gradient(_metrics.EUCLIDEAN, x, data[idx[q, j]], 2.0, grad)
            radius += weights[q, j] * d
        best = np.inf
        for step in range(n_steps):
            objective = 0.0
            for f in range(n_features):
                total[f] = 0.0
            for j in range(idx.shape[1]):
                w = weights[q, j]
                if w <= 0:
                    continue
                d = _metrics.gradient(code, x, data[idx[q, j]], p, grad)
                objective += w * d * d
                for f in range(n_features):
                    total[f] += 2.0 * w * d * grad[f]
            if objective < best:
                best = objective
                out[q] = x
            norm = 0.0
            for f in range(n_features):
                norm += total[f] ** 2
            norm = np.sqrt(norm)
            if norm == 0.0 or radius == 0.0:
                break
            rate = 0.5 * radius / (norm * (1.0 + step))
            for f in range(n_features):
                x[f] = min(max(x[f] - rate * total[f], low[f]), high[f])
    return out


def weighted_centres(metric, data, idx, weights, data_range):
    """The weighted centre of ``data[idx[q]]`` with ``weights[q]`` under ``metric``, per row."""
    if metric.code == _metrics.EUCLIDEAN:
        return _weighted_mean(data, idx, weights)
    if metric.code == _metrics.MANHATTAN:
        return _weighted_median(data, idx, weights)
    if metric.code in (_metrics.COSINE, _metrics.CORRELATION):
        return _spherical_mean(data, idx, weights, metric.code == _metrics.CORRELATION)
    start = _weighted_mean(data, idx, weights)
    low, high = data_range
    return _frechet_descent(metric.code, data, idx, weights, metric.p, start, low, high,
                            _DESCENT_STEPS)


def inverse_transform(data, index, metric, a, b, points, n_neighbors, n_jobs=-1,
                      data_range=None, method="blend", detail=0.0, refinement=None):
    """Generated samples (and out-of-support scores) for embedding points.

    Parameters
    ----------
    data : ndarray (n, n_features), float32
        Training data.
    index : EmbeddingIndex
        Over the training embedding.
    metric : Metric
    a, b : float
        The model's similarity curve.
    points : ndarray (m, n_components), float64
    n_neighbors : int
        Training points blended per generated sample.
    n_jobs : int
    data_range : tuple of ndarray or None
        Per-feature (min, max) of ``data`` (computed when None).
    method : {"blend", "refine"}
        "refine" moves each blend so that the model's transform places it where asked
        (:func:`umapx.inverse_refine.land`).
    detail : float
        Residual detail added to each blend (:func:`umapx.inverse_refine.add_detail`).
    refinement : RefinementState or None
        Needed when ``method="refine"`` or ``detail > 0``.

    Returns
    -------
    samples : ndarray (m, n_features), float32
    out_of_support : ndarray (m,), float64
    """
    from . import inverse_refine as _refine

    check_metric_supports_inverse(metric)
    _refine.check_options(method, detail)
    if (method != "blend" or detail > 0) and refinement is None:
        raise ValueError("method='refine' and detail > 0 need the model's RefinementState")
    k = int(min(n_neighbors, data.shape[0] - 1))
    if data_range is None:
        data_range = (data.min(axis=0).astype(np.float64), data.max(axis=0).astype(np.float64))
    samples = np.empty((points.shape[0], data.shape[1]), np.float32)
    out_of_support = np.empty(points.shape[0], np.float64)
    for start in range(0, points.shape[0], _BATCH):
        batch = points[start : start + _BATCH]
        dists, idx = index.query(batch, k + 1, n_jobs)
        weights = interpolation_weights(dists, a, b)
        centres = weighted_centres(metric, data, idx[:, :k], weights, data_range)
        support = dists[:, 0] / index.local_scale[idx[:, 0]]
        if detail > 0:
            centres = _refine.add_detail(refinement, data, idx[:, :k], weights, centres, detail,
                                         data_range)
        if method == "refine":
            centres = _refine.land(refinement, metric, data, centres, batch,
                                   confidence_from_support(support), data_range)
        samples[start : start + len(batch)] = np.clip(centres, *data_range)
        out_of_support[start : start + len(batch)] = support
    return samples, out_of_support


def confidence_from_support(out_of_support):
    """Confidence in (0, 1]: 1 on the data, ~0.37 one local scale away, ~0 beyond three."""
    return np.exp(-(out_of_support**2))


def warn_if_far_outside(out_of_support):
    far = int(np.count_nonzero(out_of_support > FAR_OUTSIDE))
    if far:
        warnings.warn(
            f"{far} of {len(out_of_support)} points lie far outside the support of the "
            f"embedding (more than {FAR_OUTSIDE:g} local neighbourhood radii from the nearest "
            "training point); their samples blend the nearest training samples and are "
            "unreliable. Use return_confidence=True to see a per-point confidence.",
            UserWarning,
            stacklevel=3,
        )

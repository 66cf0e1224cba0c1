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

* euclidean, seuclidean, mahalanobis: the weighted mean (it minimises the weighted sum of
  squared distances under any fixed quadratic form);
* manhattan: the coordinate-wise weighted median;
* cosine: the weighted mean direction of the unit rows, scaled by the weighted mean norm;
* correlation: the same on centred rows, then the weighted mean offset added back;
* the other metrics with a gradient (chebyshev, minkowski, wminkowski, canberra, braycurtis,
  haversine, hellinger, symmetric_kl, poincare) and user metrics returning
  ``(distance, gradient)``: gradient descent on ``sum_i w_i dist(x, x_i)^2`` from the weighted
  mean, with the metric's gradient;
* the binary dissimilarities, ll_dirichlet and user metrics without a gradient have no
  meaningful centre here: ``inverse_transform`` raises a ValueError.

Which of these a metric uses is its ``centre`` in the metric table (:data:`umapx.metrics.METRICS`).

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

With a non-euclidean ``output_metric`` the embedding's neighbours and distances are taken under
that metric (a KD-tree only answers euclidean queries): by the same neighbour index as for the
data (:class:`~umapx.knn.NeighborIndex` under the output metric: exhaustive up to 8,192
training points, NN-descent above), so the weights follow the model's own similarity.

Everything the method needs from a fitted model (the training data, the KD-tree over the
embedding with local scales, the per-feature data range, the metric and the curve) is held by
one :class:`InverseModel`, which the fitted state builds once, on first use.
"""

from __future__ import annotations

import warnings

import numba
import numpy as np
import scipy.sparse
from scipy.spatial import cKDTree

from . import inverse_refine as _refine
from . import metrics as _metrics
from ._jit import for_chunks, kernel, respecialize
from .knn import NeighborIndex
from .metrics import gradient

#: Points beyond this out-of-support score trigger the warning.
FAR_OUTSIDE = 3.0
#: Confidence one local neighbourhood radius away from the data: figures mark points below it.
LOW_CONFIDENCE = float(np.exp(-1.0))
_DESCENT_STEPS = 60
#: Points per batch of :meth:`InverseModel.generate`: the working memory of a call is one
#: batch's neighbourhoods and centres (8192 x 64-dimensional float64 centres: 4 MB), whatever
#: the number of points.
BATCH = 8192
#: Embedded training points per block of the query that sets the local scales.
_SCALE_BLOCK = 65536
#: Batches up to this many points run on one thread: a point takes well under a millisecond,
#: and waking other threads costs more than that on a busy machine (the explorer's hover
#: measured 0.23 ms single-threaded against 0.5-36 ms with all threads).
SMALL_BATCH = 1024


class EmbeddingIndex:
    """KD-tree over the training embedding with each point's local scale.

    Parameters
    ----------
    embedding : ndarray (n, dim)
    n_neighbors : int
        Neighbourhood size; the local scale of a point is its distance to its
        ``n_neighbors``-th nearest other embedded point.
    output_metric : Metric or None
        Metric of the embedding (None or euclidean: a KD-tree; otherwise a
        :class:`~umapx.knn.NeighborIndex` under it).
    """

    # Points farther than this many embedding radii are pulled back radially to that distance:
    # the samples there are already constant to float64 precision, and distances stay finite.
    FAR_LIMIT = 1e6

    def __init__(self, embedding, n_neighbors, output_metric=None):
        self.embedding = np.asarray(embedding, dtype=np.float64)
        self.centre = self.embedding.mean(axis=0)
        self.radius = max(float(np.linalg.norm(self.embedding - self.centre, axis=1).max()),
                          np.finfo(np.float64).tiny)
        k = min(n_neighbors, len(self.embedding) - 1)
        if output_metric is None or (output_metric.user_function is None
                                     and output_metric.code == _metrics.EUCLIDEAN):
            self.tree = cKDTree(self.embedding)
            self.metric_index = None
            # Only each point's (k + 1)-th distance is kept: queried in blocks, so that the
            # working memory stays small for any number of points (1M points: 2 x 128 MB at
            # once otherwise).
            scale = np.empty(len(self.embedding), np.float64)
            for start in range(0, len(scale), _SCALE_BLOCK):
                dists, _ = self.tree.query(self.embedding[start : start + _SCALE_BLOCK],
                                           k=k + 1, workers=numba.get_num_threads())
                scale[start : start + len(dists)] = np.atleast_2d(dists)[:, -1]
        else:
            self.tree = None
            self.metric_index, _, dists = NeighborIndex.build(
                np.ascontiguousarray(embedding, dtype=np.float32), k + 1, output_metric)
            scale = dists[:, -1]
        positive = scale[scale > 0]
        floor = positive.min() if positive.size else 1.0
        self.local_scale = np.maximum(scale, floor)

    def query(self, points, k):
        """Distances and indices of the ``k`` nearest embedded points (numba's thread count
        of the moment sets the KD-tree's workers)."""
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
        if self.metric_index is not None:
            idx, dists = self.metric_index.query(points, k)
            return dists.astype(np.float64), idx.astype(np.int64)
        dists, idx = self.tree.query(points, k=k, workers=numba.get_num_threads())
        return np.atleast_2d(dists), np.atleast_2d(idx).astype(np.int64)


def check_metric_supports_inverse(metric):
    """Raise a ValueError naming the metric when it has no inverse transform."""
    if metric.centre is not None:
        return
    supported = ", ".join(_metrics.metric_names(lambda spec: spec.centre is not None))
    raise ValueError(
        f"inverse_transform is not available for metric={metric.name!r}: it needs a metric "
        f"with a weighted centre ({supported})"
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


# Each centre is computed per generated sample by an inline body on ``data[rows]`` (the rows
# blended, with their weights), written into ``out``; the parallel drivers below run it for
# every query of dense data, and :mod:`umapx.inverse_sparse` for sparse data.


@kernel(inline="always")
def mean_of(data, rows, weights, out):
    """Weighted mean of ``data[rows]`` added into ``out`` (zeros on entry)."""
    for j in range(rows.shape[0]):
        w = weights[j]
        if w > 0:
            row = data[rows[j]]
            for f in range(data.shape[1]):
                out[f] += w * row[f]


@kernel(inline="always")
def median_of(data, rows, weights, out):
    """Coordinate-wise weighted median of ``data[rows]``."""
    n_features = data.shape[1]
    k = rows.shape[0]
    values = np.empty(k, np.float64)
    for f in range(n_features):
        for j in range(k):
            values[j] = data[rows[j], f]
        order = np.argsort(values)
        cumulative = 0.0
        for j in range(k):
            cumulative += weights[order[j]]
            if cumulative >= 0.5:
                out[f] = values[order[j]]
                break
        else:
            out[f] = values[order[k - 1]]


@kernel(inline="always")
def direction_of(data, rows, weights, centred, out):
    """Weighted mean direction of the (centred) rows, scaled by their weighted mean norm, into
    ``out`` (zeros on entry)."""
    n_features = data.shape[1]
    mean_norm = 0.0
    mean_offset = 0.0
    for j in range(rows.shape[0]):
        row = data[rows[j]]
        offset = 0.0
        if centred:
            for f in range(n_features):
                offset += row[f]
            offset /= n_features
        norm = 0.0
        for f in range(n_features):
            norm += (row[f] - offset) ** 2
        norm = np.sqrt(norm)
        w = weights[j]
        mean_norm += w * norm
        mean_offset += w * offset
        if norm > 0:
            for f in range(n_features):
                out[f] += w * (row[f] - offset) / norm
    length = 0.0
    for f in range(n_features):
        length += out[f] ** 2
    length = np.sqrt(length)
    scale = mean_norm / length if length > 0 else 0.0
    for f in range(n_features):
        out[f] = out[f] * scale + mean_offset


@kernel(inline="always")
def descent_of(metric, data, rows, weights, start, low, high, n_steps, out):
    """Minimise sum_i w_i dist(x, x_i)^2 over ``data[rows]`` by (sub)gradient descent from
    ``start``, within [low, high]; the best iterate goes into ``out`` (``start`` on entry)."""
    n_features = data.shape[1]
    x = start.copy()
    grad = np.empty(n_features)
    total = np.empty(n_features)
    # Step size relative to the spread of the neighbourhood.
    radius = 0.0
    euclidean = _metrics.DistanceArgs(_metrics.EUCLIDEAN, 2.0, metric.vector, metric.matrix)
    for j in range(rows.shape[0]):
        d = _metrics.gradient(euclidean, x, data[rows[j]], grad)
        radius += weights[j] * d
    best = np.inf
    for step in range(n_steps):
        objective = 0.0
        for f in range(n_features):
            total[f] = 0.0
        for j in range(rows.shape[0]):
            w = weights[j]
            if w <= 0:
                continue
            d = gradient(metric, x, data[rows[j]], grad)
            objective += w * d * d
            for f in range(n_features):
                total[f] += 2.0 * w * d * grad[f]
        if objective < best:
            best = objective
            out[:] = x
        norm = 0.0
        for f in range(n_features):
            norm += total[f] ** 2
        norm = np.sqrt(norm)
        if norm == 0.0 or radius == 0.0:
            break
        rate = 0.5 * radius / (norm * (1.0 + step))
        for f in range(n_features):
            x[f] = min(max(x[f] - rate * total[f], low[f]), high[f])


@kernel
def _weighted_means(data, idx, weights, out, first, last):
    """:func:`mean_of` of rows ``first:last`` (a serial kernel run by
    :func:`umapx._jit.for_chunks`: as a ``parallel=True`` loop it compiled ~0.7 s longer)."""
    for q in range(first, last):
        mean_of(data, idx[q], weights[q], out[q])


def _per_row(kernel_of_rows, n_rows, n_features, *args):
    """An array (n_rows, n_features) of zeros filled by ``kernel_of_rows(*args, out, first,
    last)`` on chunks of rows (:func:`umapx._jit.for_chunks`)."""
    out = np.zeros((n_rows, n_features), np.float64)
    for_chunks(n_rows, 256, lambda first, last: kernel_of_rows(*args, out, first, last))
    return out


def _weighted_mean(data, idx, weights):
    return _per_row(_weighted_means, idx.shape[0], data.shape[1], data, idx, weights)


@kernel
def _weighted_medians(data, idx, weights, out, first, last):
    """:func:`median_of` of rows ``first:last`` (serial, as :func:`_weighted_means`: a
    manhattan model's first inverse took 3.9 s with a ``parallel=True`` loop, 3.0 s so)."""
    for q in range(first, last):
        median_of(data, idx[q], weights[q], out[q])


@kernel
def _spherical_means(data, idx, weights, centred, out, first, last):
    """:func:`direction_of` of rows ``first:last`` (serial, as :func:`_weighted_means`: a
    cosine model's first inverse took 1.3 s with a ``parallel=True`` loop, 0.35 s so)."""
    for q in range(first, last):
        direction_of(data, idx[q], weights[q], centred, out[q])


@kernel(parallel=True)
def _frechet_descent(metric, data, idx, weights, start, low, high, n_steps):
    """:func:`descent_of` of every row from ``start`` (a ``parallel=True`` loop: as a serial
    kernel on :func:`umapx._jit.for_chunks` its first compilation took ~0.3 s longer)."""
    out = start.copy()
    for q in numba.prange(idx.shape[0]):
        descent_of(metric, data, idx[q], weights[q], start[q], low, high, n_steps, out[q])
    return out


_USER_DESCENT = {}


def _descent_kernel(metric):
    """:func:`_frechet_descent` as it must run for ``metric``: for a user metric, a copy whose
    :func:`descent_of` calls the user's gradient (compiled once per function)."""
    if metric.user_function is None:
        return _frechet_descent
    descent = metric.specialize(descent_of)
    if descent not in _USER_DESCENT:
        _USER_DESCENT[descent] = respecialize(_frechet_descent, descent_of=descent)
    return _USER_DESCENT[descent]


def weighted_centres(metric, data, idx, weights, data_range):
    """The weighted centre of ``data[idx[q]]`` with ``weights[q]`` under ``metric``, per row."""
    centre = metric.centre
    if centre == "mean":
        return _weighted_mean(data, idx, weights)
    n_rows, n_features = idx.shape[0], data.shape[1]
    if centre == "median":
        return _per_row(_weighted_medians, n_rows, n_features, data, idx, weights)
    if centre in ("direction", "centred_direction"):
        return _per_row(_spherical_means, n_rows, n_features, data, idx, weights,
                        centre == "centred_direction")
    if centre == "descent":
        start = _weighted_mean(data, idx, weights)
        low, high = data_range
        return _descent_kernel(metric)(metric.distance_args, data, idx, weights, start, low,
                                       high, _DESCENT_STEPS)
    check_metric_supports_inverse(metric)
    raise AssertionError(f"unknown centre {centre!r} in the metric table")


class InverseModel:
    """What the inverse transform of one fitted model needs, built once.

    Parameters
    ----------
    data : ndarray (n, n_features), float32
        Training data.
    embedding : ndarray (n, n_components)
        Its embedding.
    metric : Metric
        The input metric; a ValueError names it if it has no weighted centre.
    a, b : float
        The model's similarity curve.
    n_neighbors : int
        The model's neighbourhood size (sets the local scales of the support score).
    output_metric : Metric or None
        The metric of the embedding (None: euclidean).
    """

    def __init__(self, data, embedding, metric, a, b, n_neighbors, output_metric=None):
        check_metric_supports_inverse(metric)
        self.data = data
        self.metric = metric
        self.a = a
        self.b = b
        self.index = EmbeddingIndex(embedding, n_neighbors, output_metric)
        self.data_range = feature_range(data)

    def generate(self, points, n_neighbors, method="blend", detail=0.0, refinement=None,
                 out=None, batch_size=BATCH):
        """Generated samples (and out-of-support scores) for embedding points.

        The points are taken ``batch_size`` at a time: the working memory is one batch's,
        whatever the number of points, and the samples go straight into their rows of the
        output (``out`` when given, e.g. a ``numpy.memmap`` for more samples than fit in
        memory). Every sample depends only on its point, so the result is bit-identical for
        any ``batch_size`` and thread count.

        Parameters
        ----------
        points : ndarray (m, n_components), float64
        n_neighbors : int
            Training points blended per generated sample.
        method : {"blend", "refine"}
            "refine" moves each blend so that the model's ``transform`` places it nearer the
            point (:func:`umapx.inverse_refine.land`).
        detail : float >= 0
            Residual detail added to each blend (:func:`umapx.inverse_refine.add_detail`).
        refinement : RefinementState or None
            What ``method="refine"`` and ``detail > 0`` read from the model
            (:func:`umapx.inverse_refine.refinement_state`).
        out : ndarray (m, n_features), float32, or None
            Where to write the samples (checked by :func:`check_output`); None: a new array.
        batch_size : int
            Points per batch.

        Returns
        -------
        samples : ndarray (m, n_features), float32
            ``out`` when given.
        out_of_support : ndarray (m,), float64
        """
        _refine.check_options(method, detail)
        refined = method != "blend" or detail > 0
        if refined and refinement is None:
            raise ValueError("method='refine' and detail > 0 need the model's RefinementState")
        data = self.data
        samples = (np.empty((points.shape[0], data.shape[1]), np.float32) if out is None
                   else check_output(out, (points.shape[0], data.shape[1])))
        out_of_support = np.empty(points.shape[0], np.float64)
        for start, idx, weights, support in self.neighbourhoods(points, n_neighbors,
                                                                 batch_size):
            centres = weighted_centres(self.metric, data, idx, weights, self.data_range)
            if detail > 0:
                centres = _refine.add_detail(refinement, data, idx, weights, centres, detail,
                                             self.data_range)
            if method == "refine":
                centres = _refine.land(refinement, self.metric, data, centres,
                                       points[start : start + len(idx)],
                                       confidence_from_support(support), self.data_range)
            samples[start : start + len(idx)] = np.clip(centres, *self.data_range, out=centres)
            out_of_support[start : start + len(idx)] = support
        return samples, out_of_support

    def neighbourhoods(self, points, n_neighbors, batch_size=BATCH):
        """For each batch of points: ``(start, idx, weights, out_of_support)``.

        ``idx`` (m, k) are the training samples to blend for each point (``k`` is
        ``n_neighbors``, at most n - 1), ``weights`` their :func:`interpolation_weights`.
        """
        k = int(min(n_neighbors, self.data.shape[0] - 1))
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        for start in range(0, points.shape[0], batch_size):
            batch = points[start : start + batch_size]
            dists, idx = self.index.query(batch, k + 1)
            weights = interpolation_weights(dists, self.a, self.b)
            yield (start, idx[:, :k], weights,
                   dists[:, 0] / self.index.local_scale[idx[:, 0]])


def check_output(out, shape):
    """``out`` if it can receive ``shape`` samples: a writeable float32 ndarray (a
    ``numpy.memmap`` too) of that shape; else a ValueError or TypeError naming the problem."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array (or numpy.memmap) of shape {shape} and dtype "
                        f"float32, got {type(out).__name__}")
    if out.dtype != np.float32:
        raise TypeError(f"out must have dtype float32 (the samples' dtype), got {out.dtype}")
    if out.shape != tuple(shape):
        raise ValueError(f"out must have shape (n_points, n_features) = {tuple(shape)}, got "
                         f"{out.shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


def feature_range(data):
    """Per-feature ``(low, high)`` of the training data, float64 (sparse: absent entries are 0)."""
    low, high = data.min(axis=0), data.max(axis=0)
    if scipy.sparse.issparse(low):
        low, high = low.toarray(), high.toarray()
    return (np.asarray(low, np.float64).ravel(), np.asarray(high, np.float64).ravel())


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

"""Stochastic gradient descent of the embedding (the layout stage).

Each edge (i, j) of the fuzzy graph is sampled in proportion to its weight: every
``epochs_per_sample = max_weight / weight`` epochs it attracts i towards j with the gradient of
``log(1 / (1 + a d^(2b)))``, and each of its samples is followed by ``negative_sample_rate``
repulsions of i from uniformly drawn points (gradient of ``log(1 - 1 / (1 + a d^(2b)))``, times
``repulsion_strength``). Gradient coordinates are clipped to [-4, 4] and the learning rate decays
linearly to zero.

Determinism with threads: within an epoch every vertex is updated by one thread from the
positions all vertices had at the start of the epoch (double buffering), and every random draw
is keyed by (seed, edge, epoch, draw), so the result is bit-identical whatever the thread count.
A vertex's own updates within an epoch apply one after another. The graph holds both directions
of every edge and only the head of an edge moves, so each attraction is applied with weight 2 to
keep the attraction/repulsion balance of the classic formulation, where an edge moves both its
ends.
"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import kernel
from ._rng import draw_index, stream_key

_CLIP = np.float32(4.0)
# float32 constants: a Python int or float in an expression would promote it to float64.
_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_REPULSION_EPSILON = np.float32(0.001)


@kernel(inline="always")
def _clip(value):
    return min(max(value, -_CLIP), _CLIP)


@kernel(inline="always")
def attractive_coefficient(dist_sq, a, b):
    """c such that c * (y - other) is the gradient of log(1 / (1 + a d^(2b))) w.r.t. y."""
    d_2b = dist_sq**b
    return -_TWO * a * b * d_2b / (dist_sq * (a * d_2b + _ONE))


@kernel(inline="always")
def repulsive_coefficient(dist_sq, a, b, gamma):
    """c such that c * (y - other) is gamma times the gradient of log(1 - 1 / (1 + a d^(2b))).

    As in the reference implementation, 0.001 is added to d^2 to bound the step of very close
    pairs.
    """
    return _TWO * gamma * b / ((_REPULSION_EPSILON + dist_sq) * (a * dist_sq**b + _ONE))


@kernel(inline="always")
def _squared_distance(y, other):
    dist_sq = np.float32(0.0)
    for d in range(y.shape[0]):
        diff = y[d] - other[d]
        dist_sq += diff * diff
    return dist_sq


@kernel(inline="always")
def _attract(y, other, a, b, step):
    """Move ``y`` (in place) by ``step`` times the clipped attractive gradient."""
    dist_sq = _squared_distance(y, other)
    if dist_sq > 0:
        coeff = attractive_coefficient(dist_sq, a, b)
        for d in range(y.shape[0]):
            y[d] += step * _clip(coeff * (y[d] - other[d]))


@kernel(inline="always")
def _add_repulsions(y, others, draws, key, n_draws, skip, a, b, gamma, step):
    """Move ``y`` away from ``n_draws`` random rows of ``others`` (not row ``skip``).

    All the draws of one positive sample are computed from the same position of ``y`` and then
    applied together: the repulsions are independent of each other, so the processor overlaps
    them instead of waiting for each one's update (35% faster on Fashion-MNIST; the
    positions differ from applying them one by one only within one sample's few draws).
    ``draws`` is a scratch row as long as ``y``.
    """
    dim = y.shape[0]
    for d in range(dim):
        draws[d] = 0
    for draw in range(n_draws):
        k = draw_index(key, draw, others.shape[0])
        if k == skip:
            continue
        other = others[k]
        dist_sq = _squared_distance(y, other)
        if dist_sq > 0:
            coeff = repulsive_coefficient(dist_sq, a, b, gamma)
            for d in range(dim):
                draws[d] += _clip(coeff * (y[d] - other[d]))
    for d in range(dim):
        y[d] += step * draws[d]


@kernel(parallel=True)
def _fit_epoch(current, updated, scratch, indptr, indices, epochs_per_sample, next_sample,
               epochs_per_negative, next_negative, a, b, gamma, alpha, epoch, seed):
    """One epoch over all vertices: read ``current``, write ``updated`` (float32 arithmetic)."""
    n = current.shape[0]
    a, b, gamma, alpha = np.float32(a), np.float32(b), np.float32(gamma), np.float32(alpha)
    for i in numba.prange(n):
        y = updated[i]
        y[:] = current[i]
        for e in range(indptr[i], indptr[i + 1]):
            if next_sample[e] > epoch:
                continue
            _attract(y, current[indices[e]], a, b, _TWO * alpha)
            next_sample[e] += epochs_per_sample[e]
            n_negative = int((epoch - next_negative[e]) / epochs_per_negative[e])
            key = stream_key(stream_key(seed, e), epoch)
            _add_repulsions(y, current, scratch[i], key, n_negative, i, a, b, gamma, alpha)
            next_negative[e] += n_negative * epochs_per_negative[e]


@kernel(parallel=True)
def _transform_points(head, tail, scratch, indptr, indices, epochs_per_sample,
                      epochs_per_negative, a, b, gamma, learning_rate, n_epochs, row_keys):
    """All epochs for each new point (``head``, in place) against the fixed ``tail``.

    Rows are independent, so each runs its whole optimisation in one go: one parallel region
    for the call instead of one per epoch.
    """
    a, b, gamma = np.float32(a), np.float32(b), np.float32(gamma)
    for i in numba.prange(head.shape[0]):
        y = head[i]
        first, last = indptr[i], indptr[i + 1]
        next_sample = epochs_per_sample[first:last].copy()
        next_negative = epochs_per_negative[first:last].copy()
        for epoch in range(n_epochs):
            alpha = np.float32(learning_rate * (1.0 - epoch / n_epochs))
            for e in range(first, last):
                slot = e - first
                if next_sample[slot] > epoch:
                    continue
                _attract(y, tail[indices[e]], a, b, alpha)
                next_sample[slot] += epochs_per_sample[e]
                n_negative = int((epoch - next_negative[slot]) / epochs_per_negative[e])
                key = stream_key(stream_key(row_keys[i], slot), epoch)
                _add_repulsions(y, tail, scratch[i], key, n_negative, -1, a, b, gamma, alpha)
                next_negative[slot] += n_negative * epochs_per_negative[e]


# -- two dimensions, the common case: coordinates in registers ----------------------------------


@kernel(inline="always")
def _attract_2d(y0, y1, other0, other1, a, b, step):
    dx = y0 - other0
    dy = y1 - other1
    dist_sq = dx * dx + dy * dy
    if dist_sq > 0:
        coeff = attractive_coefficient(dist_sq, a, b)
        y0 += step * _clip(coeff * dx)
        y1 += step * _clip(coeff * dy)
    return y0, y1


@kernel(inline="always")
def _add_repulsions_2d(y0, y1, others, key, n_draws, skip, a, b, gamma, step):
    """:func:`_add_repulsions` for two dimensions."""
    sum0 = np.float32(0.0)
    sum1 = np.float32(0.0)
    for draw in range(n_draws):
        k = draw_index(key, draw, others.shape[0])
        if k == skip:
            continue
        dx = y0 - others[k, 0]
        dy = y1 - others[k, 1]
        dist_sq = dx * dx + dy * dy
        if dist_sq > 0:
            coeff = repulsive_coefficient(dist_sq, a, b, gamma)
            sum0 += _clip(coeff * dx)
            sum1 += _clip(coeff * dy)
    return y0 + step * sum0, y1 + step * sum1


@kernel(parallel=True)
def _fit_epoch_2d(current, updated, scratch, indptr, indices, epochs_per_sample, next_sample,
                  epochs_per_negative, next_negative, a, b, gamma, alpha, epoch, seed):
    """:func:`_fit_epoch` for two dimensions (``scratch`` unused)."""
    n = current.shape[0]
    a, b, gamma, alpha = np.float32(a), np.float32(b), np.float32(gamma), np.float32(alpha)
    for i in numba.prange(n):
        y0, y1 = current[i, 0], current[i, 1]
        for e in range(indptr[i], indptr[i + 1]):
            if next_sample[e] > epoch:
                continue
            j = indices[e]
            y0, y1 = _attract_2d(y0, y1, current[j, 0], current[j, 1], a, b, _TWO * alpha)
            next_sample[e] += epochs_per_sample[e]
            n_negative = int((epoch - next_negative[e]) / epochs_per_negative[e])
            key = stream_key(stream_key(seed, e), epoch)
            y0, y1 = _add_repulsions_2d(y0, y1, current, key, n_negative, i, a, b, gamma, alpha)
            next_negative[e] += n_negative * epochs_per_negative[e]
        updated[i, 0] = y0
        updated[i, 1] = y1


@kernel(parallel=True)
def _transform_points_2d(head, tail, scratch, indptr, indices, epochs_per_sample,
                         epochs_per_negative, a, b, gamma, learning_rate, n_epochs, row_keys):
    """:func:`_transform_points` for two dimensions (``scratch`` unused)."""
    a, b, gamma = np.float32(a), np.float32(b), np.float32(gamma)
    for i in numba.prange(head.shape[0]):
        y0, y1 = head[i, 0], head[i, 1]
        first, last = indptr[i], indptr[i + 1]
        next_sample = epochs_per_sample[first:last].copy()
        next_negative = epochs_per_negative[first:last].copy()
        for epoch in range(n_epochs):
            alpha = np.float32(learning_rate * (1.0 - epoch / n_epochs))
            for e in range(first, last):
                slot = e - first
                if next_sample[slot] > epoch:
                    continue
                j = indices[e]
                y0, y1 = _attract_2d(y0, y1, tail[j, 0], tail[j, 1], a, b, alpha)
                next_sample[slot] += epochs_per_sample[e]
                n_negative = int((epoch - next_negative[slot]) / epochs_per_negative[e])
                key = stream_key(stream_key(row_keys[i], slot), epoch)
                y0, y1 = _add_repulsions_2d(y0, y1, tail, key, n_negative, -1, a, b, gamma, alpha)
                next_negative[slot] += n_negative * epochs_per_negative[e]
        head[i, 0] = y0
        head[i, 1] = y1


def epochs_per_sample(weights, n_epochs, reference=None):
    """Epochs between two samples of each edge: ``reference / weight`` (``-1``: never).

    ``reference`` defaults to the largest weight, so the strongest edge is sampled every epoch.
    """
    reference = weights.max() if reference is None else reference
    result = np.full(weights.shape[0], -1.0, dtype=np.float64)
    n_samples = n_epochs * (weights / reference)
    positive = n_samples > 0
    result[positive] = float(n_epochs) / n_samples[positive]
    return result


def prune_weak_edges(graph, n_epochs, reference=None):
    """Drop edges too weak to be sampled even once in ``n_epochs`` (returns a new CSR)."""
    graph = graph.tocsr(copy=True)
    reference = graph.data.max() if reference is None else reference
    graph.data[graph.data < reference / float(n_epochs)] = 0.0
    graph.eliminate_zeros()
    return graph


def _schedule(graph, n_epochs, negative_sample_rate, reference=None):
    """Per-edge sampling periods and next sampling epochs, positive and negative."""
    eps = epochs_per_sample(graph.data, n_epochs, reference)
    if negative_sample_rate > 0:
        eps_negative = eps / negative_sample_rate
    else:  # a period longer than the run: no negative sample is ever drawn
        eps_negative = np.full_like(eps, 10.0 * (n_epochs + 1))
    return eps, eps.copy(), eps_negative, eps_negative.copy()


def normalise_layout(embedding):
    """Rescale each coordinate into [0, 10] (the starting box of the optimisation)."""
    embedding = np.asarray(embedding, dtype=np.float64)
    low = embedding.min(axis=0)
    span = embedding.max(axis=0) - low
    span[span == 0] = 1.0
    return np.ascontiguousarray(10.0 * (embedding - low) / span, dtype=np.float32)


def optimize_layout(embedding, graph, n_epochs, a, b, repulsion_strength, learning_rate,
                    negative_sample_rate, seed, progress=None):
    """Optimise the embedding of a fitted graph.

    Parameters
    ----------
    embedding : ndarray (n, dim), float32
        Initial positions (not modified).
    graph : scipy.sparse.csr_matrix (n, n)
        Symmetric fuzzy graph, weak edges already pruned.
    n_epochs : int
    a, b : float
        Similarity curve parameters.
    repulsion_strength, learning_rate : float
    negative_sample_rate : float
    seed : int
        Seed of the negative sampling streams.
    progress : callable or None
        Called with the epoch number after every epoch.

    Returns
    -------
    ndarray (n, dim), float32
    """
    graph = graph.tocsr()
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int32)
    eps, next_sample, eps_negative, next_negative = _schedule(graph, n_epochs,
                                                              negative_sample_rate)
    current = np.array(embedding, dtype=np.float32, order="C", copy=True)
    updated = np.empty_like(current)
    scratch = np.empty_like(current)
    epoch_kernel = _fit_epoch_2d if current.shape[1] == 2 else _fit_epoch
    for epoch in range(n_epochs):
        alpha = learning_rate * (1.0 - epoch / n_epochs)
        epoch_kernel(current, updated, scratch, indptr, indices, eps, next_sample, eps_negative,
                   next_negative, a, b, repulsion_strength, alpha, epoch, seed)
        current, updated = updated, current
        if progress is not None:
            progress(epoch + 1)
    return current


def optimize_transform(head, tail, graph, n_epochs, a, b, repulsion_strength, learning_rate,
                       negative_sample_rate, row_keys):
    """Optimise new points ``head`` against the fixed training embedding ``tail``.

    ``graph`` has one row per new point (memberships to training points, weak edges pruned).
    Edge sampling is relative to weight 1 (the largest possible membership), so a row's result
    does not depend on the other rows of the call. ``row_keys`` seed each row's random stream.
    """
    graph = graph.tocsr()
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int32)
    eps, _, eps_negative, _ = _schedule(graph, n_epochs, negative_sample_rate, reference=1.0)
    head = np.array(head, dtype=np.float32, order="C", copy=True)
    tail = np.ascontiguousarray(tail, dtype=np.float32)
    run = _transform_points_2d if head.shape[1] == 2 else _transform_points
    run(head, tail, np.empty_like(head), indptr, indices, eps, eps_negative, a, b,
        repulsion_strength, learning_rate, n_epochs, row_keys)
    return head

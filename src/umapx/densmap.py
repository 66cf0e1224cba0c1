"""densMAP: a layout that also preserves local density (Narayan, Berger & Cho, 2021).

The *local radius* of a point is the log of the membership-weighted mean squared distance to
its neighbours in a fuzzy graph::

    R(i) = log(1e-8 + sum_j mu_ij d_ij^2 / sum_j mu_ij)

In the data, ``mu`` is the fitted graph (weak edges pruned as for the layout) and ``d`` the
input distances of its edges (:func:`local_radii`). In the embedding, during the last
``dens_frac`` of the epochs, the memberships are the embedding's similarities ``phi_ij = 1 /
(1 + a d_ij^(2b))`` on the same edges. densMAP adds ``dens_lambda`` times the correlation
``C`` between the two radii to the UMAP objective::

    C = cov(Re, Ro) / sqrt(var(Re) + dens_var_shift)     (Ro standardised)

Its gradient on an edge (i, j), derived from the definitions above, is
``dC/d(d_ij^2) = (w_i dRe_i + w_j dRe_j) / (n s)`` with ``s`` the shifted deviation,
``w_i = Ro_i - cov (Re_i - mean Re) / s^2`` and::

    dRe_i/d(d_ij^2) = phi_ij / sum_k phi_ik * ((1 - b (1 - phi_ij)) / exp(Re_i)
                                               + a b d_ij^(2b - 2) phi_ij)

Each time an edge is sampled this term is added to its attraction, scaled by
``dens_lambda * (total weight / edge weight) / 2`` so that, over an epoch's samples, every
vertex moves by ``dens_lambda`` times the mean weighted degree times the gradient of ``C``:
umap-learn's strength for the same ``dens_lambda``. Radii and their statistics are computed
once per epoch from the positions at its start, so results stay bit-identical whatever the
number of threads.

``output_dens`` reports the data radii and the embedding radii, the latter from the
embedding's own fuzzy graph (its ``n_neighbors`` nearest embedded points), both by
:func:`local_radii`.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse

from ._jit import kernel
from ._rng import stream_key
from .graph import fuzzy_simplicial_set
from .knn import NeighborIndex
from .layout import Vertex, add_repulsions, attractive_coefficient, clip_gradient
from .metrics import resolve_metric

EXTRA_EPOCHS = 200  # densMAP's default runs 200 epochs more than UMAP's (umap-learn's rule)
_EPSILON = 1e-8


def local_radii(graph, knn_indices, knn_dists):
    """Log local radius of every vertex of ``graph`` (float64, see the module docstring).

    The distance of an edge is that of the k-NN (``knn_indices`` / ``knn_dists``, either
    direction); edges the k-NN does not hold (added by a target graph) are left out. A vertex
    without any such edge gets the mean radius of the others.
    """
    n = graph.shape[0]
    rows = np.repeat(np.arange(n), knn_indices.shape[1])
    cols = knn_indices.ravel()
    found = cols >= 0
    distances = scipy.sparse.csr_matrix(
        (knn_dists.ravel()[found].astype(np.float64), (rows[found], cols[found])), shape=(n, n))
    return radii_from_edge_distances(graph, distances)


def radii_from_edge_distances(graph, distances):
    """:func:`local_radii` with the edge distances given as a sparse matrix (either direction;
    umap-learn's ``graph_dists``). Stored entries count, zeros included."""
    # Distances are shifted by 1 so that a zero distance remains an entry.
    shifted = scipy.sparse.csr_matrix(distances, dtype=np.float64, copy=True)
    shifted.data += 1.0
    shifted = shifted.maximum(shifted.T).tocsr()
    n = graph.shape[0]
    weights = scipy.sparse.csr_matrix(graph, dtype=np.float64)
    on_edges = shifted.multiply(weights != 0).tocsr()
    squared = on_edges.copy()
    squared.data = (squared.data - 1.0) ** 2
    known = weights.multiply(on_edges != 0)
    numerator = np.asarray(weights.multiply(squared).sum(axis=1)).ravel()
    denominator = np.asarray(known.sum(axis=1)).ravel()
    has_edges = denominator > 0
    radii = np.empty(n, np.float64)
    radii[has_edges] = np.log(_EPSILON + numerator[has_edges] / denominator[has_edges])
    radii[~has_edges] = radii[has_edges].mean() if np.any(has_edges) else 0.0
    return radii


def embedding_radii(embedding, n_neighbors, seed=0):
    """Log local radii of an embedding from its own fuzzy graph (``n_neighbors`` nearest
    embedded points, euclidean)."""
    n_neighbors = min(n_neighbors, embedding.shape[0] - 1)
    metric = resolve_metric("euclidean")
    points = np.ascontiguousarray(embedding, dtype=np.float32)
    _, indices, dists = NeighborIndex.build(points, n_neighbors, metric, seed=seed)
    graph, _, _ = fuzzy_simplicial_set(indices, dists, n_neighbors, 1.0, 1.0)
    return local_radii(graph, indices, dists)


class DensityStats(NamedTuple):
    """What an epoch's density gradient needs (float64): each vertex's embedding radius, its
    sum of similarities and its weight ``w``, and each edge's scale."""

    radii: np.ndarray
    similarity_sums: np.ndarray
    weights: np.ndarray
    edge_scale: np.ndarray


class DensityObjective:
    """The density term of a densMAP layout, run by :func:`umapx.layout.optimize_layout`
    during the last ``frac`` of its epochs.

    Parameters
    ----------
    graph : scipy.sparse.csr_matrix (n, n)
        The graph being laid out (weak edges already pruned).
    data_radii : ndarray (n,)
        :func:`local_radii` of the data on that graph.
    strength, frac, var_shift : float
        ``dens_lambda``, ``dens_frac``, ``dens_var_shift``.
    """

    def __init__(self, graph, data_radii, *, strength, frac, var_shift):
        graph = graph.tocsr()
        spread = data_radii.std()
        self.target = (data_radii - data_radii.mean()) / (spread if spread > 0 else 1.0)
        self.strength = float(strength)
        self.frac = float(frac)
        self.var_shift = float(var_shift)
        n = graph.shape[0]
        total = graph.data.astype(np.float64).sum() / 2.0
        with np.errstate(divide="ignore"):
            self.edge_scale = np.where(graph.data > 0, self.strength * total / (
                2.0 * graph.data.astype(np.float64)), 0.0) / n

    def active(self, epoch, n_epochs):
        """Whether the density term runs in ``epoch`` (0-based) of ``n_epochs``."""
        return self.strength > 0 and (epoch + 1) / n_epochs > 1.0 - self.frac

    def stats(self, embedding, indptr, indices, a, b):
        """The :class:`DensityStats` of the current positions."""
        radii, similarity_sums = _similarity_radii(embedding, indptr, indices, np.float64(a),
                                                   np.float64(b))
        n = radii.shape[0]
        mean = radii.mean()
        deviation = np.sqrt(radii.var() + self.var_shift)
        covariance = np.dot(radii, self.target) / max(n - 1, 1)
        weights = self.target - covariance * (radii - mean) / deviation**2
        return DensityStats(radii, similarity_sums, weights, self.edge_scale / deviation)

    def fit_epoch(self, current, updated, scratch, indptr, indices, schedule, forces, alpha,
                  epoch, seed):
        """One layout epoch with the density term (as :func:`umapx.layout.fit_epoch`)."""
        stats = self.stats(current, indptr, indices, forces.a, forces.b)
        _fit_epoch_density(current, updated, scratch, indptr, indices, schedule, forces,
                           alpha, epoch, seed, stats)


@kernel(parallel=True)
def _similarity_radii(embedding, indptr, indices, a, b):
    """Each vertex's log radius under the similarities ``phi`` and their sum."""
    n = embedding.shape[0]
    radii = np.zeros(n, np.float64)
    sums = np.zeros(n, np.float64)
    for i in numba.prange(n):
        weighted = 0.0
        total = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            dist_sq = 0.0
            for d in range(embedding.shape[1]):
                diff = np.float64(embedding[i, d]) - embedding[j, d]
                dist_sq += diff * diff
            phi = 1.0 / (1.0 + a * dist_sq**b)
            weighted += phi * dist_sq
            total += phi
        sums[i] = total
        radii[i] = np.log(_EPSILON + weighted / total) if total > 0 else 0.0
    return radii, sums


@kernel(inline="always")
def _radius_slope(phi, dist_sq, radius, similarity_sum, a, b):
    """``dRe/d(d^2)`` of one end of an edge (see the module docstring)."""
    if similarity_sum <= 0:
        return 0.0
    return phi / similarity_sum * ((1.0 - b * (1.0 - phi)) / np.exp(radius)
                                   + a * b * dist_sq ** (b - 1.0) * phi)


@kernel(inline="always")
def _vertex_epoch_density(y, draws, vertex, others, indices, schedule, forces, alpha, epoch,
                          stats):
    """:func:`umapx.layout._vertex_epoch` with the density term added to each attraction."""
    a, b, gamma = forces.a, forces.b, forces.gamma
    a64, b64 = np.float64(a), np.float64(b)
    epochs_per_sample, next_sample = schedule.epochs_per_sample, schedule.next_sample
    epochs_per_negative, next_negative = schedule.epochs_per_negative, schedule.next_negative
    i = vertex.skip
    for e in range(vertex.first, vertex.last):
        if next_sample[e] > epoch:
            continue
        j = indices[e]
        other = others[j]
        dist_sq = np.float32(0.0)
        for d in range(y.shape[0]):
            dist_sq += (y[d] - other[d]) * (y[d] - other[d])
        if dist_sq > 0:
            phi = 1.0 / (1.0 + a64 * np.float64(dist_sq)**b64)
            slope = (stats.weights[i] * _radius_slope(
                phi, np.float64(dist_sq), stats.radii[i], stats.similarity_sums[i], a64, b64)
                + stats.weights[j] * _radius_slope(
                phi, np.float64(dist_sq), stats.radii[j], stats.similarity_sums[j], a64, b64))
            coeff = attractive_coefficient(dist_sq, a, b, forces.powers) + np.float32(
                stats.edge_scale[e] * slope)
            step = forces.attraction * alpha
            for d in range(y.shape[0]):
                y[d] += step * clip_gradient(coeff * (y[d] - other[d]))
        # The same bookkeeping as layout._vertex_epoch, written out: calling a shared inline
        # helper for it made numba compile this kernel 9x slower (measured on digits).
        next_sample[e] += epochs_per_sample[e]
        n_negative = int((epoch - next_negative[e]) / epochs_per_negative[e])
        key = stream_key(stream_key(vertex.seed, e), epoch)
        add_repulsions(y, others, draws, key, n_negative, i, a, b, gamma, forces.powers, alpha)
        next_negative[e] += n_negative * epochs_per_negative[e]


@kernel(parallel=True)
def _fit_epoch_density(current, updated, scratch, indptr, indices, schedule, forces, alpha,
                       epoch, seed, stats):
    """One epoch of every vertex with the density term added to each attraction."""
    alpha = np.float32(alpha)
    for i in numba.prange(current.shape[0]):
        vertex = Vertex(indptr[i], indptr[i + 1], seed, 0, i, False)
        updated[i] = current[i]
        _vertex_epoch_density(updated[i], scratch[i], vertex, current, indices, schedule,
                              forces, alpha, epoch, stats)


__all__ = ["local_radii", "radii_from_edge_distances", "embedding_radii", "DensityObjective",
           "EXTRA_EPOCHS"]

"""Refinements of the inverse transform's blend: residual detail, and landing where asked.

The blend of :mod:`umapx.inverse` estimates the *mean* sample at a point of the embedding: the
lowest reconstruction error, but smoother than real samples, and the model's own ``transform``
places it back a few neighbour spacings from the point. Two optional refinements; the figures
below are from ``benchmarks/inverse_methods.py`` (1000 held-out images, 2-d models; every
candidate measured is in ``benchmarks/README.md``).

Detail (``detail=s``)
---------------------
Each training sample ``x_i`` differs from the mean of its own data-space neighbourhood
(``knn_indices_``) by a residual ``r_i``: the detail that blending averages away. The blend of
``x_1..x_k`` with weights ``w_i`` gets it back::

    u      = sum_i w_i r_i / sqrt(sum_i w_i^2)        (a mix that keeps the residuals' size)
    u_perp = u - O (O^T O + ridge)^-1 O^T u,  O = [sqrt(w_i) (x_i - blend)]
    x      = clip(blend + s * u_perp)

``u_perp`` is the part of the detail that does not point towards the blended samples (that
part would only pull the sample towards a copy of one of them): per unit of added error it
moves samples farther from the training samples (MNIST-10k: novelty 0.87 at MSE 0.0446, against
0.89 at 0.0540 without the projection). The ridge (``DETAIL_RIDGE`` times the mean eigenvalue)
keeps ``u_perp`` continuous, and smooth where a sample's weight rises from 0. ``s = 1`` adds
residuals as large as the training samples' own: novelty 0.72 -> 0.87 (MNIST-10k), 0.71 -> 0.95
(Fashion-MNIST), at 26% / 35% more reconstruction error.

That cost is not an artefact of this construction. A sample that depends only on the point
``y`` has an expected squared error equal to that of the conditional mean ``E[x | y]`` plus its
squared distance from that mean, whatever the direction; the blend is close to the conditional
mean (no weighting or neighbour count measured does more than 5% better), so detail that the
point does not predict costs its full size. Measured over blends of 15, 30 and 60 samples with
and without refinement, the cheapest novelty near 0.85 costs +6% MSE on MNIST-10k (novelty
0.84) and +13% on Fashion-MNIST (0.86), with blends of 60 and ``detail=1``: novelty in
0.85-1.15 and an MSE no higher than the default blend's exclude each other.

Landing (``method="refine"``)
-----------------------------
``transform`` places a sample ``x`` by its ``n_neighbors`` nearest training samples (searched
with the model's own index), weighted by the memberships ``mu_j(x)``: it starts at
``F(x) = sum_j mu_j e_j / sum_j mu_j`` and then optimises briefly. The nearest training samples
of a blend are mostly not those it was blended from (on Fashion-MNIST about 4 of 15 are): blends are
"prototypical", and their neighbours are embedded off-centre. Refinement takes damped
Gauss-Newton (Levenberg-Marquardt) steps on ``F``, differentiated through the distances and the
local scale ``sigma(x)`` (implicitly, from ``sum_j mu_j = log2(n_neighbors)``)::

    r  = y - F(x),  J = dF/dx  (n_components x n_features)
    dx = J^T (J J^T + damping * tr(J J^T) / n_components * I)^-1 r

``REFINE_STEPS`` steps, each scaled by the point's confidence (nothing to refine against far
outside the embedded data: there the result is the blend) and at most ``REFINE_TRUST`` times
the distance from ``x`` to its nearest training sample, so the refined sample stays within
``(1 + REFINE_TRUST)^REFINE_STEPS - 1`` (0.33) of that distance from the blend. The samples'
neighbours are searched once (``REFINE_CANDIDATES * n_neighbors`` of them) and re-ranked at
every step. Blending ``2 * n_neighbors`` samples (the default for this method) pays for the
steps' reconstruction error: against the default blend, round trip 3.27 -> 3.01 (MNIST-10k) and
5.51 -> 4.05 (Fashion-MNIST) neighbour spacings, MSE 0.0354 -> 0.0344 and 0.0247 -> 0.0240,
labels kept equal or better, novelty about equal.

Below ``transform``'s own reproducibility no sample can land: the held-out images themselves,
transformed again with another ``transform_seed``, land 3.9 (MNIST-10k) / 4.2 (Fashion-MNIST)
spacings from where the model's seed put them, and adding noise of 0.005 per pixel (invisible)
moves them by 2-3 spacings. ``transform`` is not continuous in ``x`` (its neighbour sets,
and the random streams keyed by them, change in steps), and neither is a refinement that
follows it: the refined sample is the continuous blend plus a bounded correction, which jumps
(measured: by up to 0.19 of the data's nearest-neighbour distance) where a neighbour set
changes. Use the default blend where continuity matters (animations, hover).

Both kernels work row by row (deterministic, independent of batching and threads) and read only
the rows of the samples they blend and of their neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ._jit import kernel
from .graph import local_scale
from .metrics import EUCLIDEAN, gradient

#: Values of ``inverse_transform(method=...)``.
METHODS = ("blend", "refine")
#: Gauss-Newton steps of ``method="refine"`` (measured: 3 steps reach the forward map's own
#: reproducibility on Fashion-MNIST; more steps cost reconstruction error).
REFINE_STEPS = 3
#: Levenberg-Marquardt damping, relative to the mean eigenvalue of ``J J^T``.
REFINE_DAMPING = 0.1
#: A step moves the sample at most this fraction of its distance to the nearest training sample.
REFINE_TRUST = 0.1
#: Candidates searched per sample, in multiples of ``n_neighbors`` (re-ranked at every step).
REFINE_CANDIDATES = 2
#: Ridge of the projection in the detail, relative to the mean eigenvalue of ``O^T O``.
DETAIL_RIDGE = 0.1


def check_options(method, detail):
    """Raise a ValueError naming a bad ``method`` or ``detail`` of ``inverse_transform``."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"inverse_transform method must be one of {METHODS}, got {method!r}")
    if (isinstance(detail, (bool, np.bool_)) or not isinstance(detail, (int, float, np.number))
            or not np.isfinite(detail) or detail < 0):
        raise ValueError(f"inverse_transform detail must be a finite number >= 0, got {detail!r}")


def check_landing(method, output_metric):
    """Raise a ValueError if ``method="refine"`` cannot follow this model's ``transform``: its
    steps aim at the membership-weighted mean of embedded neighbours, which is where
    ``transform`` starts only in a euclidean embedding."""
    if method == "refine" and not (output_metric.code == EUCLIDEAN
                                   and output_metric.user_function is None):
        raise ValueError(f"inverse_transform method='refine' needs a euclidean output_metric; "
                         f"this model embeds with {output_metric.name!r} (use method='blend')")


def default_blend_size(method, n_neighbors):
    """Samples blended per point by default: the model's ``n_neighbors``, twice that for
    "refine" (its steps sharpen the landing; the wider blend pays for their reconstruction
    error; measured in benchmarks/inverse_methods.py)."""
    return 2 * n_neighbors if method == "refine" else n_neighbors


@dataclass(frozen=True)
class RefinementState:
    """What the refinements read from a fitted model (references, nothing copied).

    Attributes
    ----------
    knn_indices : ndarray (n, n_neighbors), int
        Each training sample's data-space neighbours (itself first): the residuals of the
        detail are taken against their mean.
    index : NeighborIndex
        The model's neighbour index, searched as ``transform`` searches it.
    embedding : ndarray (n, n_components), float64
    n_neighbors : int
        Neighbours of a new point in ``transform``.
    local_connectivity : float
        The model's ``local_connectivity`` (``transform`` uses one less for new points).
    search_slack : float
        ``epsilon`` of ``transform``'s search.
    """

    knn_indices: np.ndarray
    index: object
    embedding: np.ndarray
    n_neighbors: int
    local_connectivity: float
    search_slack: float


def refinement_state(state, local_connectivity, search_slack):
    """The :class:`RefinementState` of a fitted model (cheap: references, no copies).

    Parameters
    ----------
    state : umapx.state.FittedState
    local_connectivity : float
        The model's ``local_connectivity``.
    search_slack : float
        ``epsilon`` of ``transform``'s neighbour search (from ``transform_queue_size``).
    """
    return RefinementState(
        knn_indices=np.ascontiguousarray(state.knn_indices),
        index=state.index,
        embedding=state.inverse.index.embedding,
        n_neighbors=int(state.n_neighbors),
        local_connectivity=float(local_connectivity),
        search_slack=float(search_slack),
    )


# ------------------------------------------------------------------------------------------------
# Detail
# ------------------------------------------------------------------------------------------------


@kernel(inline="always")
def _dot(x, y):
    total = 0.0
    for f in range(x.shape[0]):
        total += x[f] * y[f]
    return total


@kernel
def _cholesky_solve(matrix, rhs):
    """Solve ``matrix @ x = rhs`` for a symmetric positive definite matrix (overwritten)."""
    n = matrix.shape[0]
    for j in range(n):
        diagonal = matrix[j, j]
        for m in range(j):
            diagonal -= matrix[j, m] * matrix[j, m]
        diagonal = np.sqrt(max(diagonal, 1e-300))
        matrix[j, j] = diagonal
        for i in range(j + 1, n):
            value = matrix[i, j]
            for m in range(j):
                value -= matrix[i, m] * matrix[j, m]
            matrix[i, j] = value / diagonal
    solution = rhs.copy()
    for i in range(n):
        for m in range(i):
            solution[i] -= matrix[i, m] * solution[m]
        solution[i] /= matrix[i, i]
    for i in range(n - 1, -1, -1):
        for m in range(i + 1, n):
            solution[i] -= matrix[m, i] * solution[m]
        solution[i] /= matrix[i, i]
    return solution


@kernel(parallel=True)
def _add_detail(data, idx, weights, centres, knn_indices, amount, ridge, low, high):
    """``clip(centre + amount * u_perp)`` per row; see the module docstring."""
    n_queries, k = idx.shape
    n_features = data.shape[1]
    n_own = knn_indices.shape[1]
    out = np.empty_like(centres)
    for q in numba.prange(n_queries):
        centre = centres[q]
        detail = np.zeros(n_features)
        offsets = np.zeros((k, n_features))
        norm = 0.0
        for j in range(k):
            w = weights[q, j]
            if w <= 0:
                continue
            norm += w * w
            i = idx[q, j]
            row = data[i]
            root = np.sqrt(w)
            for f in range(n_features):
                offsets[j, f] = root * (row[f] - centre[f])
            # r_i = x_i - mean of x_i's own neighbourhood
            for f in range(n_features):
                detail[f] += w * row[f]
            share = w / n_own
            for m in range(n_own):
                neighbour = data[knn_indices[i, m]]
                for f in range(n_features):
                    detail[f] -= share * neighbour[f]
        norm = np.sqrt(norm)
        if norm > 0:
            for f in range(n_features):
                detail[f] /= norm
        # Remove the part pointing towards the blended samples (ridge-regularised projection).
        gram = np.empty((k, k))
        projections = np.empty(k)
        trace = 0.0
        for j in range(k):
            projections[j] = _dot(offsets[j], detail)
            for m in range(j + 1):
                gram[j, m] = _dot(offsets[j], offsets[m])
                gram[m, j] = gram[j, m]
            trace += gram[j, j]
        if trace > 0:
            for j in range(k):
                gram[j, j] += ridge * trace / k
            coefficients = _cholesky_solve(gram, projections)
            for j in range(k):
                c = coefficients[j]
                for f in range(n_features):
                    detail[f] -= c * offsets[j, f]
        for f in range(n_features):
            out[q, f] = min(max(centre[f] + amount * detail[f], low[f]), high[f])
    return out


def add_detail(state, data, idx, weights, centres, amount, data_range):
    """Blended samples with ``amount`` of their neighbours' residual detail added back.

    Parameters
    ----------
    state : RefinementState
    data : ndarray (n, n_features)
        Training data.
    idx, weights : ndarray (m, k)
        The blended training samples of each point and their weights.
    centres : ndarray (m, n_features), float64
        The blends.
    amount : float
        Scale of the detail (``detail`` of ``inverse_transform``).
    data_range : tuple of ndarray
        Per-feature (min, max) of the training data.

    Returns
    -------
    ndarray (m, n_features), float64
    """
    low, high = data_range
    return _add_detail(data, idx, weights, np.ascontiguousarray(centres, np.float64),
                       state.knn_indices, float(amount), DETAIL_RIDGE, low, high)


# ------------------------------------------------------------------------------------------------
# Landing
# ------------------------------------------------------------------------------------------------


@kernel(parallel=True)
def _land(metric, samples, data, embedding, candidates, targets, gains, n_neighbors, target_sum,
          local_connectivity, n_steps, damping, trust, low, high):
    """Damped Gauss-Newton steps of ``F(x) -> target`` per row (``samples`` in place).

    ``F(x) = sum_j mu_j e_j / sum_j mu_j`` over the row's ``n_neighbors`` nearest
    ``candidates``, with ``mu_j = exp(-max(0, d_j - rho) / sigma)`` and ``(sigma, rho)`` as in
    ``smooth_knn_dist`` (``sum_{j >= 1} mu_j = target_sum``; sigma differentiated implicitly,
    rho held fixed). The neighbours are re-ranked among the candidates at every step.
    """
    n_queries, n_candidates = candidates.shape
    n_features = data.shape[1]
    dim = embedding.shape[1]
    k = n_neighbors
    for q in numba.prange(n_queries):
        if gains[q] <= 0.0:
            continue
        x = samples[q]
        grads = np.empty((k, n_features))
        dists = np.empty(n_candidates)
        row = np.empty(k, np.float32)
        memberships = np.empty(k)
        gaps = np.empty(k)
        for _ in range(n_steps):
            for c in range(n_candidates):
                other = data[candidates[q, c]]
                if metric.code == EUCLIDEAN:  # the distance alone, without its gradient
                    total = 0.0
                    for f in range(n_features):
                        total += (x[f] - other[f]) ** 2
                    dists[c] = np.sqrt(total)
                else:
                    dists[c] = gradient(metric, x, other, grads[0])
            order = np.argsort(dists)[:k]
            for j in range(k):
                gradient(metric, x, data[candidates[q, order[j]]], grads[j])
            for j in range(k):
                row[j] = dists[order[j]]
            sigma, rho = local_scale(row, target_sum, local_connectivity, np.mean(row))
            sigma = max(sigma, 1e-300)
            landing = np.zeros(dim)
            total = 0.0
            for j in range(k):
                gaps[j] = np.float64(row[j]) - rho
                memberships[j] = np.exp(-gaps[j] / sigma) if gaps[j] > 0 else 1.0
                total += memberships[j]
                for c in range(dim):
                    landing[c] += memberships[j] * embedding[candidates[q, order[j]], c]
            for c in range(dim):
                landing[c] /= total
            # J = -A / (sigma S) + c (x) B / (sigma S den)  (dsigma = sigma B / den)
            jacobian = np.zeros((dim, n_features))
            pull = np.zeros(n_features)
            lever = np.zeros(dim)
            den = 0.0
            for j in range(k):
                if gaps[j] <= 0:
                    continue
                mu = memberships[j]
                grad = grads[j]
                for c in range(dim):
                    offset = mu * (embedding[candidates[q, order[j]], c] - landing[c])
                    lever[c] += offset * gaps[j]
                    scale = -offset / (sigma * total)
                    for f in range(n_features):
                        jacobian[c, f] += scale * grad[f]
                if j >= 1:
                    den += mu * gaps[j]
                    for f in range(n_features):
                        pull[f] += mu * grad[f]
            if den > 0:
                for c in range(dim):
                    scale = lever[c] / (sigma * total * den)
                    for f in range(n_features):
                        jacobian[c, f] += scale * pull[f]
            normal = np.empty((dim, dim))
            trace = 0.0
            for c in range(dim):
                for e in range(c + 1):
                    normal[c, e] = _dot(jacobian[c], jacobian[e])
                    normal[e, c] = normal[c, e]
                trace += normal[c, c]
            if not trace > 0:
                break
            residual = np.empty(dim)
            for c in range(dim):
                normal[c, c] += damping * trace / dim
                residual[c] = targets[q, c] - landing[c]
            solution = _cholesky_solve(normal, residual)
            step = np.zeros(n_features)
            for c in range(dim):
                for f in range(n_features):
                    step[f] += solution[c] * jacobian[c, f]
            length = np.sqrt(_dot(step, step))
            scale = gains[q]
            limit = trust * np.float64(row[0])
            if length * scale > limit:
                scale = limit / length
            for f in range(n_features):
                x[f] = min(max(x[f] + scale * step[f], low[f]), high[f])


def land(state, metric, data, samples, targets, gains, data_range, n_steps=REFINE_STEPS):
    """Move ``samples`` so that the model's ``transform`` places them nearer ``targets``.

    The samples' neighbours are searched once with the model's index (``transform``'s search),
    ``REFINE_CANDIDATES`` times as many as ``transform`` uses; each step re-ranks them (a step
    moves a sample by at most ``REFINE_TRUST`` times its nearest-neighbour distance).

    Parameters
    ----------
    state : RefinementState
    metric : Metric
        The model's metric (its gradient differentiates the distances).
    data : ndarray (n, n_features)
        Training data.
    samples : ndarray (m, n_features), float64
        Starting samples (the blends); not modified.
    targets : ndarray (m, n_components)
        Where each sample should land.
    gains : ndarray (m,)
        Per-row scale of the steps in [0, 1] (the confidence: no refinement far outside).
    data_range : tuple of ndarray
    n_steps : int

    Returns
    -------
    ndarray (m, n_features), float64
    """
    low, high = data_range
    samples = np.array(samples, dtype=np.float64, order="C", copy=True)
    k = state.n_neighbors
    candidates, _ = state.index.query(samples.astype(np.float32), REFINE_CANDIDATES * k,
                                      epsilon=state.search_slack)
    # A user metric runs in a copy of the kernel compiled with its gradient.
    metric.specialize(_land)(metric.distance_args, samples, data, state.embedding,
                             np.ascontiguousarray(candidates),
                             np.ascontiguousarray(targets, dtype=np.float64),
                             np.ascontiguousarray(gains, dtype=np.float64), k, float(np.log2(k)),
                             max(0.0, state.local_connectivity - 1.0), n_steps, REFINE_DAMPING,
                             REFINE_TRUST, low, high)
    return samples

"""From k-NN distances to the fuzzy graph: local scales, membership strengths, fuzzy union.

Every point i gets a local scale: ``rho_i``, the distance to its nearest neighbour (generalised
by ``local_connectivity``), and ``sigma_i``, found by bisection so that

    sum_{j >= 1} exp(-max(0, d_ij - rho_i) / sigma_i) = bandwidth * log2(k).

The directed memberships ``exp(-max(0, d_ij - rho_i) / sigma_i)`` are then combined into a
symmetric graph by a fuzzy union (``set_op_mix_ratio=1``), a fuzzy intersection (0), or a mix.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse

from ._jit import FASTMATH, for_chunks, kernel

SMOOTH_K_TOLERANCE = 1e-5
MIN_K_DIST_SCALE = 1e-3
_BISECTION_STEPS = 64
#: How far an unlabelled point (label -1) is taken to be from any label (supervised UMAP).
UNKNOWN_LABEL_DISTANCE = 1.0


@kernel
def local_scale(row, target, local_connectivity, mean_all):
    """``(sigma, rho)`` of one row of sorted neighbour distances (see :func:`smooth_knn_dist`).

    ``mean_all`` is the typical distance that floors sigma when ``rho`` is 0. Called, not
    inlined, from the row kernel :func:`_local_scales`: its first compilation is shorter.
    """
    n_cols = row.shape[0]
    n_positive = 0
    for j in range(n_cols):
        if 0.0 < row[j] < np.inf:
            n_positive += 1
    positive = np.empty(n_positive, np.float64)
    m = 0
    for j in range(n_cols):
        if 0.0 < row[j] < np.inf:
            positive[m] = row[j]
            m += 1
    rho = 0.0
    if n_positive >= local_connectivity:
        index = int(np.floor(local_connectivity))
        interpolation = local_connectivity - index
        if index > 0:
            rho = positive[index - 1]
            if interpolation > SMOOTH_K_TOLERANCE:
                rho += interpolation * (positive[index] - positive[index - 1])
        else:
            rho = interpolation * positive[0]
    elif n_positive > 0:
        rho = positive[n_positive - 1]

    lo = 0.0
    hi = np.inf
    mid = 1.0
    for _ in range(_BISECTION_STEPS):
        total = 0.0
        for j in range(1, n_cols):
            gap = row[j] - rho
            if gap > 0:
                total += np.exp(-(gap / mid))
            else:
                total += 1.0
        if np.abs(total - target) < SMOOTH_K_TOLERANCE:
            break
        if total > target:
            hi = mid
            mid = (lo + hi) / 2.0
        else:
            lo = mid
            if hi == np.inf:
                mid *= 2
            else:
                mid = (lo + hi) / 2.0
    # Floor sigma for rows of (near) duplicates, relative to the typical distance.
    if rho > 0.0:
        row_mean = np.mean(row)
        if not np.isfinite(row_mean):
            row_mean = _finite_mean(row)
        floor = MIN_K_DIST_SCALE * row_mean
    else:
        floor = MIN_K_DIST_SCALE * mean_all
    return max(mid, floor), rho


def smooth_knn_dist(distances, k, local_connectivity=1.0, bandwidth=1.0):
    """Local scales (sigma, rho) of every row of a k-NN distance matrix.

    Parameters
    ----------
    distances : ndarray of shape (n, k_cols), float32
        Sorted distances to the nearest neighbours; column 0 is the point itself at distance 0
        when the rows are training points.
    k : float
        Number of neighbours the target ``log2(k)`` refers to.
    local_connectivity : float
        How many nearest neighbours are taken as fully connected (interpolated when
        fractional).
    bandwidth : float
        Scales the target sum.

    Returns
    -------
    sigmas, rhos : ndarray of shape (n,), float32
    """
    n = distances.shape[0]
    sigmas = np.zeros(n, np.float32)
    rhos = np.zeros(n, np.float32)
    # Absent neighbours (index -1, removed by ``disconnection_distance``) sit at infinity:
    # they count neither as positive distances nor in the means. A serial float64 sum (numba's
    # np.mean in a parallel kernel summed float32 per thread: its rounding followed n_jobs).
    mean_all = _finite_mean(distances.ravel())
    k, local_connectivity, bandwidth = float(k), float(local_connectivity), float(bandwidth)
    for_chunks(n, _ROWS_PER_CHUNK, lambda first, last: _local_scales(
        distances, k, local_connectivity, bandwidth, mean_all, sigmas, rhos, first, last))
    return sigmas, rhos


# Rows per chunk of the graph's row-by-row kernels (see :func:`umapx._jit.for_chunks`).
_ROWS_PER_CHUNK = 1024


@kernel
def _local_scales(distances, k, local_connectivity, bandwidth, mean_all, sigmas, rhos, first,
                  last):
    """:func:`smooth_knn_dist` of rows ``first:last`` into ``sigmas`` / ``rhos`` (a serial
    kernel: as a ``parallel=True`` loop it cost ~0.7 s more to compile the first time)."""
    target = np.log2(k) * bandwidth
    for i in range(first, last):
        sigmas[i], rhos[i] = local_scale(distances[i], target, local_connectivity, mean_all)


@kernel()
def _finite_mean(values):
    """The mean of the finite entries of a 1-d array (0 if there are none)."""
    total = 0.0
    count = 0
    for value in values:
        if np.isfinite(value):
            total += value
            count += 1
    return total / count if count else 0.0


def membership_strengths(indices, distances, sigmas, rhos, skip_self):
    """Directed edge weights ``exp(-max(0, d - rho) / sigma)`` of a k-NN graph.

    With ``skip_self`` an entry pointing at its own row gets weight 0.
    Returns ``(rows, cols, weights)`` for a COO matrix.
    """
    n, k = indices.shape
    rows = np.empty(n * k, np.int32)
    cols = np.empty(n * k, np.int32)
    weights = np.empty(n * k, np.float32)
    skip_self = bool(skip_self)
    for_chunks(n, 4 * _ROWS_PER_CHUNK, lambda first, last: _memberships(
        indices, distances, sigmas, rhos, skip_self, rows, cols, weights, first, last))
    return rows, cols, weights


@kernel
def _memberships(indices, distances, sigmas, rhos, skip_self, rows, cols, weights, first,
                 last):
    """:func:`membership_strengths` of rows ``first:last`` (a serial kernel, see
    :func:`_local_scales`)."""
    k = indices.shape[1]
    for i in range(first, last):
        for j in range(k):
            e = i * k + j
            rows[e] = i
            cols[e] = indices[i, j]
            if indices[i, j] < 0 or (skip_self and indices[i, j] == i):
                weights[e] = 0.0
            elif distances[i, j] - rhos[i] <= 0.0 or sigmas[i] == 0.0:
                weights[e] = 1.0
            else:
                weights[e] = np.exp(-((distances[i, j] - rhos[i]) / sigmas[i]))
            if indices[i, j] < 0:
                cols[e] = 0


@kernel
def _transpose(indptr, indices, weights, n_columns):
    """CSR arrays of the transpose of a CSR matrix (rows of the result sorted by column)."""
    counts = np.zeros(n_columns + 1, np.int64)
    for e in range(indices.shape[0]):
        counts[indices[e] + 1] += 1
    t_indptr = np.cumsum(counts)
    t_indices = np.empty(indices.shape[0], np.int32)
    t_weights = np.empty(indices.shape[0], np.float32)
    fill = t_indptr[:-1].copy()
    for i in range(indptr.shape[0] - 1):
        for e in range(indptr[i], indptr[i + 1]):
            slot = fill[indices[e]]
            t_indices[slot] = i
            t_weights[slot] = weights[e]
            fill[indices[e]] += 1
    return t_indptr, t_indices, t_weights


# Rounded step by step like the scipy expression it replaces (no fused multiply-adds), so
# the graph does not depend on the CPU's FMA support.
_EXACT = FASTMATH - {"contract", "reassoc"}


@kernel(inline="always", fastmath=_EXACT)
def _combine(a, b, mix):
    """Fuzzy union (``mix`` 1) / intersection (0) of two memberships, in float32."""
    product = a * b
    return mix * (a + b - product) + (np.float32(1.0) - mix) * product


def _merge_rows(indptr, indices, weights, t_indptr, t_indices, t_weights, mix, out_indptr,
                out_indices, out_weights, count_only):
    """Row ``i`` of ``combine(A, A^T)`` from the sorted rows ``i`` of A and of A^T, for every
    row.

    With ``count_only`` only the number of non-zero entries of each row is written (to
    ``out_indptr[i + 1]``); otherwise rows are written from ``out_indptr[i]``.
    """
    mix, count_only = float(mix), bool(count_only)
    for_chunks(indptr.shape[0] - 1, 4 * _ROWS_PER_CHUNK, lambda first, last: _merge_row_range(
        indptr, indices, weights, t_indptr, t_indices, t_weights, mix, out_indptr, out_indices,
        out_weights, count_only, first, last))


@kernel(fastmath=_EXACT)
def _merge_row_range(indptr, indices, weights, t_indptr, t_indices, t_weights, mix, out_indptr,
                     out_indices, out_weights, count_only, first, last):
    """:func:`_merge_rows` of rows ``first:last`` (a serial kernel, see
    :func:`_local_scales`)."""
    mix = np.float32(mix)
    zero = np.float32(0.0)
    for i in range(first, last):
        e, e_end = indptr[i], indptr[i + 1]
        t, t_end = t_indptr[i], t_indptr[i + 1]
        out = out_indptr[i]
        count = 0
        while e < e_end or t < t_end:
            if t == t_end or (e < e_end and indices[e] < t_indices[t]):
                column, value = indices[e], _combine(weights[e], zero, mix)
                e += 1
            elif e == e_end or t_indices[t] < indices[e]:
                column, value = t_indices[t], _combine(zero, t_weights[t], mix)
                t += 1
            else:
                column, value = indices[e], _combine(weights[e], t_weights[t], mix)
                e += 1
                t += 1
            if value != 0:
                if not count_only:
                    out_indices[out + count] = column
                    out_weights[out + count] = value
                count += 1
        if count_only:
            out_indptr[i + 1] = count


def fuzzy_union(directed, set_op_mix_ratio=1.0):
    """Symmetric fuzzy graph ``mix*(A + A^T - A*A^T) + (1 - mix)*(A*A^T)`` as CSR float32.

    Computed row by row by merging the sorted rows of ``A`` and ``A^T`` (no intermediate
    sparse matrices: at a million points the scipy expression held several copies of the
    graph); zero entries are dropped and column indices come out sorted.
    """
    directed = scipy.sparse.csr_matrix(directed, dtype=np.float32)
    directed.sum_duplicates()  # also sorts the column indices
    n_rows, n_columns = directed.shape
    indptr = directed.indptr.astype(np.int64)
    indices = directed.indices.astype(np.int32)
    t_indptr, t_indices, t_weights = _transpose(indptr, indices, directed.data, n_columns)
    out_indptr = np.zeros(n_rows + 1, np.int64)
    empty_i, empty_w = np.empty(0, np.int32), np.empty(0, np.float32)
    _merge_rows(indptr, indices, directed.data, t_indptr, t_indices, t_weights,
                set_op_mix_ratio, out_indptr, empty_i, empty_w, True)
    np.cumsum(out_indptr, out=out_indptr)
    out_indices = np.empty(out_indptr[-1], np.int32)
    out_weights = np.empty(out_indptr[-1], np.float32)
    _merge_rows(indptr, indices, directed.data, t_indptr, t_indices, t_weights,
                set_op_mix_ratio, out_indptr, out_indices, out_weights, False)
    return scipy.sparse.csr_matrix((out_weights, out_indices, out_indptr),
                                   shape=(n_rows, n_columns))


def check_knn_distances(knn_indices, knn_dists, between, absent_allowed=True):
    """Raise a ValueError naming a pair if any k-NN distance is NaN or infinite.

    Built-in metrics give finite distances on the finite data validation lets through (or
    refuse the data); a user metric, or a metric parameter that overflows (minkowski with a
    huge ``p``), may not, and weights computed from such distances are meaningless. With
    ``absent_allowed``, absent neighbours (index -1 at +infinity: removed by
    :func:`disconnect`, or unstored in a sparse distance matrix) are not errors; without it
    (the search's own result) they mean the metric gave no finite distance.
    """
    finite = np.isfinite(knn_dists)
    if absent_allowed:
        finite |= (knn_indices < 0) & np.isposinf(knn_dists)
    if finite.all():
        return
    row, column = np.argwhere(~finite)[0]
    neighbour = knn_indices[row, column]
    example = (f"{knn_dists[row, column]} between row {row} and training sample {neighbour}"
               if neighbour >= 0 else f"row {row} has no neighbour at a finite distance")
    raise ValueError(
        f"the metric gave {np.count_nonzero(~finite)} NaN or infinite distances between "
        f"{between} (e.g. {example}): a metric must return a finite number for every pair of "
        "finite rows (for minkowski: a smaller p, or rescaled data)"
    )


def disconnect(knn_indices, knn_dists, disconnection_distance, training=True):
    """Remove the k-NN edges at or beyond ``disconnection_distance`` (umap-learn's option).

    Removed neighbours become index ``-1`` at infinite distance, which the graph leaves out.
    For the ``training`` k-NN the first column (each point itself) is kept. Returns
    ``(indices, distances, n_removed)``; the arrays are new only when something was removed.
    """
    if not np.isfinite(disconnection_distance):
        return knn_indices, knn_dists, 0
    far = knn_dists >= disconnection_distance
    if training:
        far[:, 0] = False
    far &= knn_indices >= 0
    removed = int(np.count_nonzero(far))
    if removed == 0:
        return knn_indices, knn_dists, 0
    knn_indices, knn_dists = knn_indices.copy(), knn_dists.copy()
    knn_indices[far] = -1
    knn_dists[far] = np.inf
    return knn_indices, knn_dists, removed


def isolated_vertices(graph):
    """Boolean mask of the vertices without any edge in ``graph``."""
    graph = graph.tocsr()
    return (np.diff(graph.indptr) == 0) | (np.asarray(abs(graph).sum(axis=1)).ravel() == 0)




def fuzzy_simplicial_set(knn_indices, knn_dists, n_neighbors, set_op_mix_ratio,
                         local_connectivity):
    """The fuzzy graph of training points from their k-NN (self in column 0).

    Returns
    -------
    graph : scipy.sparse.csr_matrix (n, n), float32
        Symmetric membership strengths.
    sigmas, rhos : ndarray (n,), float32
    """
    check_knn_distances(knn_indices, knn_dists, "samples")
    directed, sigmas, rhos = directed_graph(knn_indices, knn_dists, n_neighbors,
                                            local_connectivity)
    return fuzzy_union(directed, set_op_mix_ratio), sigmas, rhos


def directed_graph(knn_indices, knn_dists, n_neighbors, local_connectivity):
    """The directed memberships of training points to their k-NN (self in column 0), before
    symmetrisation: ``(csr_matrix (n, n), sigmas, rhos)``."""
    n = knn_indices.shape[0]
    sigmas, rhos = smooth_knn_dist(knn_dists, float(n_neighbors), float(local_connectivity))
    _, cols, weights = membership_strengths(knn_indices, knn_dists, sigmas, rhos, True)
    # The rows of the k-NN lists are already grouped: CSR directly, without a COO sort.
    k = knn_indices.shape[1]
    indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
    directed = scipy.sparse.csr_matrix((weights, cols, indptr), shape=(n, n))
    directed.eliminate_zeros()
    return directed, sigmas, rhos


def transform_graph(knn_indices, knn_dists, n_neighbors, local_connectivity, n_train):
    """Memberships of new points to their training neighbours (one row per new point).

    As in fitting, but a new point is not among its own neighbours, so the connectivity it
    must reach through them is one less.
    """
    check_knn_distances(knn_indices, knn_dists, "new points and the training samples")
    adjusted = max(0.0, float(local_connectivity) - 1.0)
    sigmas, rhos = smooth_knn_dist(knn_dists, float(n_neighbors), adjusted)
    rows, cols, weights = membership_strengths(knn_indices, knn_dists, sigmas, rhos, False)
    graph = scipy.sparse.csr_matrix(
        (weights, (rows, cols)), shape=(knn_indices.shape[0], n_train), dtype=np.float32
    )
    return graph


def categorical_intersection(graph, labels, far_dist):
    """Weaken edges between points of different labels (supervised UMAP).

    Each edge joining two labelled points of different classes is multiplied by
    ``exp(-far_dist)``; label -1 means "unknown" (semi-supervised): its edges are multiplied by
    ``exp(-UNKNOWN_LABEL_DISTANCE)``, as umap-learn does.
    Every point's strongest edge is then reset to 1 and the graph symmetrised again, so local
    connectivity holds as before the intersection.

    Parameters
    ----------
    graph : scipy.sparse matrix (n, n)
    labels : ndarray (n,), int
        Class codes, -1 for unlabelled points.
    far_dist : float

    Returns
    -------
    scipy.sparse.csr_matrix (n, n), float32
    """
    coo = graph.tocoo()
    row_labels, col_labels = labels[coo.row], labels[coo.col]
    differ = (row_labels != col_labels) & (row_labels >= 0) & (col_labels >= 0)
    weights = coo.data.astype(np.float64)
    weights[differ] *= np.exp(-far_dist)
    weights[(row_labels < 0) | (col_labels < 0)] *= np.exp(-UNKNOWN_LABEL_DISTANCE)
    weakened = scipy.sparse.csr_matrix((weights, (coo.row, coo.col)), shape=graph.shape)
    return reset_local_connectivity(weakened)


#: The sum a row's memberships are brought back to by :func:`reset_local_connectivity` with
#: ``rescale_memberships`` (log2 of umap-learn's default 15 neighbours), and the bisection's
#: tolerance and number of steps.
_RESET_TARGET = np.log2(15.0)
_RESET_TOLERANCE = 1e-5
_RESET_STEPS = 32


@kernel(parallel=True)
def _rescale_rows(indptr, data, target, steps, tolerance):
    """Raise each row's memberships (in (0, 1]) to the power that makes their sum ``target``
    (bisection on the exponent; rows already close enough are left as they are)."""
    for i in numba.prange(indptr.shape[0] - 1):
        row = data[indptr[i]:indptr[i + 1]]
        low, high, mid = 0.0, np.inf, 1.0
        for _ in range(steps):
            total = 0.0
            for value in row:
                total += value ** mid
            if abs(total - target) < tolerance:
                break
            if total < target:
                high = mid
                mid = (low + high) / 2.0
            else:
                low = mid
                mid = mid * 2.0 if high == np.inf else (low + high) / 2.0
        for j in range(row.shape[0]):
            row[j] = row[j] ** mid


def reset_local_connectivity(graph, rescale_memberships=False):
    """Restore local connectivity after edges were weakened or graphs combined.

    Each row is divided by its largest membership (every vertex fully trusts its strongest
    edge, as before the supervised intersection or the model algebra); with
    ``rescale_memberships`` the row is then raised to the power that brings its sum to
    ``log2(15)``, as umap-learn does for combined models; the result is symmetrised by fuzzy
    union. The input is not modified.

    Returns
    -------
    scipy.sparse.csr_matrix (n, n), float32
    """
    graph = scipy.sparse.csr_matrix(graph, dtype=np.float64, copy=True)
    graph.sum_duplicates()
    graph.eliminate_zeros()
    row_max = graph.max(axis=1).toarray().ravel()
    row_max[row_max <= 0] = 1.0
    graph.data /= np.repeat(row_max, np.diff(graph.indptr))
    if rescale_memberships:
        _rescale_rows(graph.indptr.astype(np.int64), graph.data, _RESET_TARGET, _RESET_STEPS,
                      _RESET_TOLERANCE)
    return fuzzy_union(graph, 1.0)

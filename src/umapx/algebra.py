"""Model algebra: combining the fuzzy graphs of two models fitted on the same rows.

umap-learn's operators on fitted models, with its semantics:

* ``left + right``: fuzzy **union** ``l + r - l r`` of the two graphs (an edge of either);
* ``left * right``: fuzzy **intersection** ``l r`` (an edge of both);
* ``left - right``: **contrast**, the intersection of ``left`` with the complement of
  ``right``: ``l (1 - r)`` on the edges of ``left`` (what ``left`` sees and ``right`` does not).

An edge missing from one graph takes a small membership there (half that graph's weakest edge,
at least 1e-8; for the right graph of an intersection at most 1e-4), so an edge of one graph
is weakened, not erased, by the other. The estimator then restores the combined graph's local
connectivity (:func:`umapx.graph.reset_local_connectivity`): each row rescaled so its strongest
edge is 1 (and, for union and intersection, the row's memberships raised to the power that
brings their sum back to ``log2(15)``, as umap-learn does), then symmetrised by fuzzy union.

The estimator lays the combined graph out afresh (``UMAP.__add__`` and friends); this module
holds the graph operations only.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

OPERATIONS = ("union", "intersection", "contrast")


def _aligned_values(left, right, pattern):
    """The values of ``left`` and ``right`` at the entries of ``pattern`` (0 where absent),
    and which entries each holds."""
    rows, cols = pattern.row, pattern.col
    values = []
    for graph in (left, right):
        present = scipy.sparse.csr_matrix(
            (np.ones(graph.nnz, np.int8), graph.indices, graph.indptr), shape=graph.shape)
        held = np.asarray(present[rows, cols]).ravel().astype(bool)
        values.append((np.asarray(graph[rows, cols], dtype=np.float64).ravel(), held))
    return values


def _missing_value(data, cap=None):
    """The membership an edge absent from a graph takes: half its weakest edge, >= 1e-8."""
    value = max(float(data.min()) / 2.0 if data.size else 1e-8, 1e-8)
    return value if cap is None else min(value, cap)


def _canonical(graph):
    graph = scipy.sparse.csr_matrix(graph, dtype=np.float64)
    graph.sum_duplicates()
    graph.eliminate_zeros()
    graph.sort_indices()
    return graph


def combine_graphs(left, right, operation):
    """The fuzzy union, intersection or contrast of two graphs over the same vertices.

    Parameters
    ----------
    left, right : scipy.sparse matrix (n, n)
        Fuzzy graphs (memberships in [0, 1]).
    operation : {"union", "intersection", "contrast"}

    Returns
    -------
    scipy.sparse.csr_matrix (n, n), float64
        The combination, before its local connectivity is reset.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}, got {operation!r}")
    left, right = _canonical(left), _canonical(right)
    if left.shape != right.shape:
        raise ValueError(f"the graphs differ in shape: {left.shape} and {right.shape}")
    pattern = (left if operation == "contrast" else abs(left) + abs(right)).tocoo()
    (l_val, l_held), (r_val, r_held) = _aligned_values(left, right, pattern)
    if operation == "union":
        l_val[~l_held] = _missing_value(left.data)
        r_val[~r_held] = _missing_value(right.data)
        combined = l_val + r_val - l_val * r_val
    else:
        if operation == "contrast":
            r_val = 1.0 - r_val
            r_val[~r_held] = _missing_value(1.0 - right.data, cap=1e-4)
        else:
            r_val[~r_held] = _missing_value(right.data, cap=1e-4)
        l_val[~l_held] = _missing_value(left.data)
        combined = l_val * r_val
    result = scipy.sparse.csr_matrix((combined, (pattern.row, pattern.col)), shape=left.shape)
    result.eliminate_zeros()
    return result

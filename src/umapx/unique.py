"""``unique=True``: duplicate rows are embedded once and mapped back.

The model is fitted on the distinct rows (in the order of their first occurrence), so
duplicates neither crowd the neighbour lists nor pull on the layout; every attribute with one
row per input sample (``embedding_``, ``rad_orig_``...) is that of its distinct row. The graph,
the neighbours and ``transform`` / ``inverse_transform`` work on the distinct rows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse


def unique_rows(X):
    """The distinct rows of ``X`` (dense, or a scipy.sparse matrix: rows equal as values,
    whatever their stored zeros) in order of first occurrence.

    Returns
    -------
    kept : ndarray (n_distinct,), int64
        The row of ``X`` where each distinct row first occurs (increasing).
    inverse : ndarray (n_samples,), int64
        For every row of ``X``, its distinct row: ``X[kept][inverse]`` equals ``X``.
    """
    if scipy.sparse.issparse(X):
        from .utils import csr_unique

        first, inverse = csr_unique(X, return_index=True, return_inverse=True,
                                    return_counts=False)[1:]
        return first.astype(np.int64), inverse.astype(np.int64)
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return first[order].astype(np.int64), rank[inverse].astype(np.int64)


def first_occurrences(inverse):
    """The first row of each distinct row, given the ``inverse`` map of :func:`unique_rows`."""
    _, first = np.unique(inverse, return_index=True)
    return first.astype(np.int64)


def expand(values, inverse):
    """Per-distinct-row ``values`` (or None) as one row per input sample (``inverse`` None:
    unchanged)."""
    if values is None or inverse is None:
        return values
    return values[inverse]

"""umap-learn's ``umap.spectral`` names: the spectral initialisation of a fuzzy graph.

Thin entry points onto :mod:`umapx.init` with umap-learn's signatures (part of the compatibility
surface). umapx's solver settings are its own: ``tol`` and ``maxiter`` are accepted and have no
effect, and ``tswspectral_layout`` (umap-learn's warm-started solver) is the same layout.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from sklearn.utils import check_random_state

from .init import spectral_layout as _spectral_layout

__all__ = ["spectral_layout", "tswspectral_layout"]


def spectral_layout(data, graph, dim, random_state, metric="euclidean", metric_kwds=None,
                    tol=0.0, maxiter=0):
    """Spectral layout of a fuzzy graph (leading eigenvectors of its normalised Laplacian).

    Connected components are laid out separately and placed apart (by a PCA map of their
    centroids in ``data`` when given).

    Parameters
    ----------
    data : ndarray (n_samples, n_features) or None
        The data of the graph's vertices (places disconnected components).
    graph : scipy.sparse matrix (n_samples, n_samples)
        Symmetric fuzzy graph.
    dim : int
        Output dimension.
    random_state : int, RandomState or None
    metric, metric_kwds, tol, maxiter
        Accepted for compatibility (no effect).

    Returns
    -------
    ndarray (n_samples, dim), float64
        Coordinates of the order of 10 (the starting scale of the layout).
    """
    graph = scipy.sparse.csr_matrix(graph)
    return _spectral_layout(graph, int(dim), check_random_state(random_state),
                            data=None if data is None else np.asarray(data))


def tswspectral_layout(data, graph, dim, random_state, metric="euclidean", metric_kwds=None,
                       method=None, tol=0.0, maxiter=0):
    """:func:`spectral_layout` (umap-learn's truncated-SVD warm start is not needed)."""
    return spectral_layout(data, graph, dim, random_state, metric, metric_kwds, tol, maxiter)

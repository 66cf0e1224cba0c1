"""umap-learn's ``umap.spectral`` names: the spectral initialisation of a fuzzy graph.

Thin entry points onto :mod:`umapx.init` with umap-learn's signatures (part of the compatibility
surface). umapx's solver settings are its own: ``tol`` and ``maxiter`` are accepted and have no
effect, and ``tswspectral_layout`` (umap-learn's warm-started solver) is the same layout.
:func:`component_layout` places the connected components of a graph relative to each other.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from sklearn.utils import check_random_state

from .init import spectral_layout as _spectral_layout

__all__ = ["component_layout", "spectral_layout", "tswspectral_layout"]

_LINKAGES = {"single": np.min, "average": np.mean, "complete": np.max}


def spectral_layout(data, graph, dim, random_state, metric="euclidean", metric_kwds=None,
                    tol=0.0, maxiter=0):
    """Spectral layout of a fuzzy graph (leading eigenvectors of its normalised Laplacian).

    Connected components are laid out separately, each in room proportional to its rows, and
    placed apart (in the directions of a PCA map of their centroids in ``data`` when given).

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


def component_layout(data, n_components, component_labels, dim, random_state=None,
                     metric="euclidean", metric_kwds=None):
    """Positions of the connected components of a graph, one point per component.

    The components' distances are measured in the data and laid out by classical
    multidimensional scaling, so that far-apart components are placed far apart.

    Parameters
    ----------
    data : ndarray (n_samples, n_features), or (n_samples, n_samples) distances
        The rows of the graph's vertices; for ``metric="precomputed"`` the distance matrix.
    n_components : int
        Number of components (labels ``0 .. n_components - 1``).
    component_labels : ndarray (n_samples,) of int
        The component of each vertex.
    dim : int
        Output dimension.
    random_state : int, RandomState or None
        Accepted for compatibility (the layout is deterministic).
    metric : str or numba function
        Distance between the components' centroids (any metric of :mod:`umapx.distances`);
        ``"precomputed"``: ``data`` holds the distances between vertices, and the distance of
        two components is the ``metric_kwds["linkage"]`` of their vertices' distances:
        ``"single"`` (smallest), ``"average"`` (default) or ``"complete"`` (largest).
    metric_kwds : dict or None
        Parameters of ``metric``; for ``"precomputed"`` only ``linkage``.

    Returns
    -------
    ndarray (n_components, dim), float64
        Coordinates with the largest absolute value 1.
    """
    labels = np.asarray(component_labels)
    n_components, dim = int(n_components), int(dim)
    if n_components < 1 or dim < 1:
        raise ValueError(f"n_components and dim must be >= 1, got {n_components}, {dim}")
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise ValueError(f"component_labels must have one label per row of data "
                         f"({data.shape[0]}), got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_components):
        raise ValueError(f"component_labels must lie in [0, {n_components - 1}]")
    kwds = dict(metric_kwds or {})
    if isinstance(metric, str) and metric == "precomputed":
        linkage = kwds.pop("linkage", "average")
        if linkage not in _LINKAGES or kwds:
            raise ValueError(f"metric='precomputed' takes only metric_kwds={{'linkage': one of "
                             f"{sorted(_LINKAGES)}}}, got {metric_kwds!r}")
        matrix = data.toarray() if scipy.sparse.issparse(data) else np.asarray(data, np.float64)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"metric='precomputed' needs a square distance matrix, got shape "
                             f"{matrix.shape}")
        members = [np.flatnonzero(labels == c) for c in range(n_components)]
        distances = np.zeros((n_components, n_components))
        for a in range(n_components):
            for b in range(a + 1, n_components):
                block = matrix[np.ix_(members[a], members[b])]
                distances[a, b] = distances[b, a] = _LINKAGES[linkage](block) if block.size \
                    else 0.0
    else:
        from .distances import pairwise_special_metric

        rows = data.toarray() if scipy.sparse.issparse(data) else np.asarray(data, np.float64)
        centroids = np.vstack([rows[labels == c].mean(axis=0) if np.any(labels == c)
                               else np.zeros(rows.shape[1]) for c in range(n_components)])
        distances = pairwise_special_metric(centroids, metric=metric,
                                            kwds=kwds or None).astype(np.float64)
    return _classical_scaling(distances, dim)


def _classical_scaling(distances, dim):
    """Classical multidimensional scaling of a distance matrix into ``dim`` coordinates,
    with a fixed sign per axis and the largest absolute coordinate 1."""
    n = distances.shape[0]
    centring = np.eye(n) - 1.0 / n
    gram = -0.5 * centring @ (distances ** 2) @ centring
    values, vectors = np.linalg.eigh((gram + gram.T) / 2)
    order = np.argsort(values)[::-1][:dim]
    coords = np.zeros((n, dim))
    coords[:, :len(order)] = vectors[:, order] * np.sqrt(np.clip(values[order], 0.0, None))
    for axis in range(dim):  # eigenvectors have no sign: make the largest entry positive
        if coords[np.argmax(np.abs(coords[:, axis])), axis] < 0:
            coords[:, axis] = -coords[:, axis]
    largest = np.abs(coords).max()
    return coords / largest if largest > 0 else coords

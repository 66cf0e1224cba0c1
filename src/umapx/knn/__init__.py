"""Nearest-neighbour search behind one interface: build an index, get the training graph, query.

``NeighborIndex.build`` picks exact search for small data and NN-descent above
``EXACT_SEARCH_MAX_SAMPLES`` (``method="auto"``), or the method named; with
``metric="precomputed"`` the neighbours are read from the given distances (method
``"precomputed"``). All return the k-NN graph of the training data with each point first in its
own list (distance 0), as UMAP expects, and all answer ``query`` for new points (for
``"precomputed"``: rows of distances to the training points), whose result depends only on the
point and the index. ``NeighborIndex.from_knn`` builds the index for a k-NN graph computed
elsewhere (umap-learn's ``precomputed_knn``).

Data is a dense float32 array or a canonical scipy.sparse CSR matrix (:mod:`umapx.sparse`); the
kernels see the rows through :mod:`umapx.knn._rows`, so both kinds take the same code paths.

``low_memory`` (the estimator's parameter) bounds what the search holds at once and never
changes its result: NN-descent builds its random-projection trees as many at a time as there
are threads and builds the search graph for queries on the first query; exact search on sparse
rows keeps no transposed copy of the data and no block of products: each thread holds the
products of 8 queries at a time (see :mod:`umapx.knn.sparse`), for itself and for its
queries. Without it, the whole forest is built at once and the search graph at the end of
the build (the first ``transform`` is then faster).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from .._lazy import lazy_property
from ..metrics import Metric
from ..sparse import is_sparse_rows, prepare_rows
from .exact import exact_neighbors
from .nndescent import RPTree, SearchGraph, nn_descent, query_tree, search, search_graph
from .precomputed import neighbors_from_distances

#: Below this many samples ``method="auto"`` searches exhaustively.
EXACT_SEARCH_MAX_SAMPLES = 8192

KNN_METHODS = ("auto", "exact", "nndescent")
#: Methods an index can have (``"precomputed"`` is chosen by the metric, never by name).
INDEX_METHODS = ("exact", "nndescent", "precomputed")


class NeighborIndex:
    """Nearest-neighbour index over the (prepared) training data.

    Use :meth:`build`; the constructor only assembles already-built parts (it is what loading a
    saved model calls).

    Parameters
    ----------
    metric : Metric
    data : ndarray (n, d), float32, SparseRows, or None
        Training rows prepared for search (:func:`prepare`; None for ``"precomputed"``).
    method : {"exact", "nndescent", "precomputed"}
    graph : SearchGraph or None
        Search graph of the NN-descent index; built from ``knn`` on the first query when None.
    knn : tuple (indices, search distances) or None
        The training k-NN graph (self excluded), from which the search graph is built.
    tree : RPTree or None
        Tree whose leaves start each search.
    epsilon : float
        Search slack: candidates up to ``(1 + epsilon)`` times the current k-th distance are
        explored. Larger is slower and more accurate. Measured on Fashion-MNIST queries at
        k=15: recall 0.947 / 0.971 / 0.988 for epsilon 0 / 0.02 / 0.05 at a relative cost of
        1 / 1.2 / 1.65; transform accuracy moved by less than 0.001 between 0 and 0.1.
    n_samples : int or None
        Number of training samples, when there is no ``data`` (``"precomputed"``).
    low_memory : bool
        Exact search of sparse rows without a transposed copy of the data (see ``build``).
    """

    def __init__(self, metric, data, method, graph=None, tree=None, epsilon=0.02, knn=None,
                 n_samples=None, low_memory=True):
        self.metric = metric
        self.low_memory = low_memory
        self.data = data
        self.method = method
        self.tree = tree
        self.epsilon = epsilon
        self._knn = knn
        self._n_samples = data.shape[0] if data is not None else int(n_samples)
        if graph is not None:
            self.__dict__["search_graph"] = graph

    @classmethod
    def build(cls, X, n_neighbors, metric: Metric, method="auto", seed=0, n_trees=None,
              leaf_size=None, max_candidates=None, n_iters=None, delta=0.001, report=None,
              low_memory=True):
        """Index ``X`` and return ``(index, knn_indices, knn_distances)`` of the training data.

        ``X`` is a dense float32 array or a canonical CSR matrix. ``knn_indices[i, 0] == i``
        with distance 0; the other ``n_neighbors - 1`` entries are the nearest other points, by
        increasing true distance. ``report`` (a :class:`~umapx._report.Report`) shows the
        progress of NN-descent's trees and rounds.
        """
        n = X.shape[0]
        if not 1 <= n_neighbors <= n:
            raise ValueError(f"n_neighbors must be between 1 and the number of samples ({n}), "
                             f"got {n_neighbors}")
        n_others = n_neighbors - 1
        if metric.is_precomputed:
            indices, distances = neighbors_from_distances(X, n_others, exclude_self=True)
            return cls._with_self(cls(metric, None, "precomputed", n_samples=n), indices,
                                  distances)
        if method == "auto":
            method = "exact" if n <= EXACT_SEARCH_MAX_SAMPLES else "nndescent"
        data = prepare(metric, X)
        if method == "exact":
            indices, distances = exact_neighbors(metric, data, n_others, low_memory=low_memory)
            index = cls(metric, data, "exact", low_memory=low_memory)
        elif method == "nndescent":
            if n_trees is None:  # 8 trees at 60k points (recall 0.99 with NN-descent)
                n_trees = int(min(32, 3 + round(np.sqrt(n) / 50.0)))
            if leaf_size is None:
                leaf_size = max(30, 2 * n_neighbors)
            if max_candidates is None:
                max_candidates = min(60, max(20, n_neighbors + 5))
            if n_iters is None:
                n_iters = max(5, int(round(np.log2(n))))
            tree_progress = round_progress = None
            if report is not None:
                report.log(f"NN-descent: {n_trees} trees (leaves of {leaf_size}), then up to "
                           f"{n_iters} rounds of {max_candidates} candidates")
                tree_progress = report.progress(n_trees, "trees")
                round_progress = report.rounds(n_iters, delta * n * n_others, "neighbour updates")
            indices, distances, tree = nn_descent(
                metric, data, n_others, seed, n_trees, leaf_size, max_candidates, n_iters,
                delta, round_progress, low_memory=low_memory, tree_progress=tree_progress,
            )
            index = cls(metric, data, "nndescent", tree=tree, knn=(indices, distances.copy()))
            if not low_memory:  # else built on the first query
                index.search_graph  # noqa: B018
        else:
            raise ValueError(f"knn method must be one of {KNN_METHODS}, got {method!r}")
        metric.to_true_distance(distances)
        return cls._with_self(index, indices, distances)

    @staticmethod
    def _with_self(index, indices, distances):
        """``(index, indices, distances)`` with each point put first in its own list."""
        n = indices.shape[0]
        self_column = np.arange(n, dtype=np.int32)[:, None]
        indices = np.hstack([self_column, indices])
        distances = np.hstack([np.zeros((n, 1), np.float32), distances])
        return index, indices, distances

    @classmethod
    def from_knn(cls, X, metric, knn_indices, knn_dists, seed=0):
        """An index over ``X`` for a k-NN graph computed elsewhere (no search is run).

        Exact below ``EXACT_SEARCH_MAX_SAMPLES`` samples; above, an NN-descent index whose
        search graph comes from the given neighbours and whose walks start from one
        random-projection tree. ``knn_indices`` / ``knn_dists`` are the checked training
        k-NN (self in column 0, ``-1`` for missing neighbours).
        """
        n = X.shape[0]
        if metric.is_precomputed:
            return cls(metric, None, "precomputed", n_samples=n)
        data = prepare(metric, X)
        if n <= EXACT_SEARCH_MAX_SAMPLES:
            return cls(metric, data, "exact")
        leaf_size = max(30, 2 * knn_indices.shape[1])
        others = np.ascontiguousarray(knn_indices[:, 1:], dtype=np.int32)
        dists = np.where(others >= 0, knn_dists[:, 1:], np.inf).astype(np.float32)
        return cls(metric, data, "nndescent", tree=query_tree(data, seed, leaf_size),
                   knn=(others, dists))

    @property
    def n_samples(self):
        return self._n_samples

    @property
    def sparse(self):
        """Whether the index holds sparse rows."""
        return is_sparse_rows(self.data)

    def query(self, X, k, epsilon=None):
        """The ``k`` nearest training rows of each row of ``X`` and their true distances.

        ``epsilon`` overrides the index's search slack for this call (NN-descent index).
        For a ``"precomputed"`` index, ``X`` holds the distances from each new point to the
        training points (dense or sparse, checked).
        """
        k = min(k, self.n_samples)
        if self.method == "precomputed":
            return neighbors_from_distances(X, k, exclude_self=False)
        queries = prepare(self.metric, X)
        if self.method == "exact":
            indices, distances = exact_neighbors(self.metric, self.data, k, queries=queries,
                                                 low_memory=self.low_memory)
        else:
            slack = self.epsilon if epsilon is None else epsilon
            indices, distances = search(self.metric, self.data, queries, k, self.search_graph,
                                        self.tree, slack)
        return indices, self.metric.to_true_distance(distances)

    @lazy_property
    def search_graph(self):
        """The :class:`SearchGraph` walked by queries (NN-descent index), built on first use.

        Forward and reverse k-NN edges, each point keeping its ``n_neighbors + 5`` closest:
        on Fashion-MNIST this degree with ``epsilon=0.02`` reached recall 0.971 at k=15 for
        80% of the cost of degree 30 (0.986), and pruning edges for diversity did not help.
        """
        indices, distances = self._knn
        graph = search_graph(indices, distances, max_degree=indices.shape[1] + 6)
        self._knn = None
        return graph

    # -- persistence -------------------------------------------------------------------------

    def state_arrays(self):
        """The arrays that, with the metric and training data, restore this index."""
        if self.method in ("exact", "precomputed"):
            return {}
        graph = self.search_graph
        arrays = {"graph_indptr": graph.indptr, "graph_neighbours": graph.neighbours}
        for field in RPTree._fields:
            arrays["tree_" + field] = getattr(self.tree, field)
        return arrays

    @classmethod
    def from_state(cls, metric, X, method, arrays, epsilon=0.02, n_samples=None):
        """Rebuild an index saved with :meth:`state_arrays` (``X`` None and ``n_samples``
        given for ``"precomputed"``)."""
        if method == "precomputed":
            return cls(metric, None, "precomputed", epsilon=epsilon, n_samples=n_samples)
        data = prepare(metric, X)
        if method == "exact":
            return cls(metric, data, "exact", epsilon=epsilon)
        tree = RPTree(**{f: arrays["tree_" + f] for f in RPTree._fields})
        graph = SearchGraph(arrays["graph_indptr"], arrays["graph_neighbours"])
        return cls(metric, data, "nndescent", graph=graph, tree=tree, epsilon=epsilon)


def prepare(metric, X):
    """Rows of ``X`` as the search kernels see them under ``metric`` (dense: ``metric.prepare``
    of float32 rows; sparse: :func:`umapx.sparse.prepare_rows` of a canonical CSR matrix)."""
    if scipy.sparse.issparse(X):
        return prepare_rows(metric, X)
    return metric.prepare(np.ascontiguousarray(X, dtype=np.float32))


__all__ = ["NeighborIndex", "EXACT_SEARCH_MAX_SAMPLES", "KNN_METHODS", "INDEX_METHODS"]

"""umap-learn's ``umap.umap_`` names, as thin entry points onto umapx's own stages.

Code written for umap-learn imports these from ``umap.umap_``; with ``import umapx as umap`` the
same lines run against umapx. The signatures and return conventions are umap-learn's (0.5.12);
the work is done by umapx's modules (:mod:`umapx.knn`, :mod:`umapx.graph`, :mod:`umapx.init`,
:mod:`umapx.layout`, :mod:`umapx.curve`). Arguments that steer umap-learn's internals only
(``angular``, ``low_memory``, ``use_pynndescent``, ``parallel``, ``n_iter``...) are accepted and
have no effect; each function says which.

This module is part of the compatibility surface (see the README's "Drop-in compatibility"): it
is not how umapx itself is organised.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from sklearn.utils import check_array, check_random_state

from . import graph as _graph
from ._jit import numba_threads
from ._report import Report
from ._rng import seed_from
from ._validation import check_curve, check_metric_for_data
from .curve import find_ab_params
from .densmap import EXTRA_EPOCHS, DensityObjective, embedding_radii, radii_from_edge_distances
from .estimator import UMAP
from .init import INIT_METHODS, initial_layout
from .knn import NeighborIndex
from .layout import epochs_per_sample as _epochs_per_sample
from .layout import normalise_layout, optimize_layout, prune_weak_edges
from .metrics import resolve_metric
from .sparse import canonical_csr

#: umap-learn's bounds of the seeds it draws (exported by its ``umap.umap_``).
INT32_MIN = int(np.iinfo(np.int32).min) + 1
INT32_MAX = int(np.iinfo(np.int32).max) - 1

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "UMAP",
    "compute_membership_strengths",
    "find_ab_params",
    "fuzzy_simplicial_set",
    "init_update",
    "make_epochs_per_sample",
    "nearest_neighbors",
    "simplicial_set_embedding",
    "smooth_knn_dist",
]


def _metric(metric, metric_kwds):
    if isinstance(metric, str) and metric == "precomputed":
        return resolve_metric("precomputed")
    return resolve_metric(metric, metric_kwds or None)


def nearest_neighbors(X, n_neighbors, metric, metric_kwds, angular, random_state,
                      low_memory=True, use_pynndescent=True, n_jobs=-1, verbose=False):
    """The ``n_neighbors`` nearest neighbours of every row of ``X`` (itself first).

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        Data (for ``metric="precomputed"``: a square distance matrix).
    n_neighbors : int
        Neighbours per point, the point itself included.
    metric : str or numba function
    metric_kwds : dict or None
    angular, use_pynndescent : bool
        Accepted for compatibility (umap-learn's search settings; umapx chooses its own).
    low_memory : bool
        As ``UMAP(low_memory=...)``: bounds what the search holds at once, not its result.
    random_state : int, RandomState or None
    n_jobs : int
        Threads (results do not depend on it).
    verbose : bool

    Returns
    -------
    knn_indices : ndarray (n_samples, n_neighbors), int32
    knn_dists : ndarray (n_samples, n_neighbors), float32
    knn_search_index : umapx.knn.NeighborIndex
        Answers queries for new points; pass the triple as ``UMAP(precomputed_knn=...)``.
    """
    metric = _metric(metric, metric_kwds)
    if scipy.sparse.issparse(X) and not metric.is_precomputed:
        X = canonical_csr(X)
        check_metric_for_data(metric, X)
    elif not metric.is_precomputed:  # a 2-d finite numeric array (a clear error otherwise)
        X = check_array(X, dtype=np.float32, order="C", input_name="X")
    metric = metric.bind(X)
    seed = seed_from(check_random_state(random_state))
    report = Report(verbose)
    with numba_threads(n_jobs), report.stage("nearest neighbours"):
        index, indices, dists = NeighborIndex.build(X, int(n_neighbors), metric, seed=seed,
                                                    low_memory=low_memory)
    return indices, dists, index


def fuzzy_simplicial_set(X, n_neighbors, random_state, metric, metric_kwds=None, knn_indices=None,
                         knn_dists=None, angular=False, set_op_mix_ratio=1.0,
                         local_connectivity=1.0, apply_set_operations=True, verbose=False,
                         return_dists=None):
    """The fuzzy simplicial set (the weighted k-NN graph) of ``X``.

    Parameters
    ----------
    X : ndarray (n_samples, n_features)
        Data; only used to find neighbours when ``knn_indices`` / ``knn_dists`` are None.
    n_neighbors : int
    random_state : int, RandomState or None
    metric : str or numba function
    metric_kwds : dict
    knn_indices, knn_dists : ndarray (n_samples, n_neighbors) or None
        A k-NN graph already computed (each point first in its own row).
    angular : bool
        Accepted for compatibility (no effect).
    set_op_mix_ratio : float
        1: fuzzy union, 0: fuzzy intersection.
    local_connectivity : float
    apply_set_operations : bool
        False returns the directed memberships, not symmetrised.
    verbose : bool
    return_dists : bool or None
        Also return the distances of the graph's edges (symmetrised by their maximum).

    Returns
    -------
    graph : scipy.sparse.coo_matrix (n_samples, n_samples), float32
    sigmas, rhos : ndarray (n_samples,), float32
    dists : scipy.sparse.coo_matrix, only with ``return_dists``
    """
    if knn_indices is None or knn_dists is None:
        knn_indices, knn_dists, _ = nearest_neighbors(X, n_neighbors, metric, metric_kwds,
                                                      angular, random_state, verbose=verbose)
    knn_indices = np.ascontiguousarray(knn_indices, dtype=np.int32)
    knn_dists = np.ascontiguousarray(knn_dists, dtype=np.float32)
    directed, sigmas, rhos = _graph.directed_graph(knn_indices, knn_dists, n_neighbors,
                                                   local_connectivity)
    graph = _graph.fuzzy_union(directed, set_op_mix_ratio) if apply_set_operations \
        else directed
    if not return_dists:
        return graph.tocoo(), sigmas, rhos
    n = knn_indices.shape[0]
    rows = np.repeat(np.arange(n), knn_indices.shape[1])
    cols = knn_indices.ravel()
    kept = (cols >= 0) & (cols != rows)
    dists = scipy.sparse.csr_matrix((knn_dists.ravel()[kept], (rows[kept], cols[kept])),
                                    shape=(n, n))
    if apply_set_operations:
        dists = dists.maximum(dists.T)
    return graph.tocoo(), sigmas, rhos, dists.tocoo()


def simplicial_set_embedding(data, graph, n_components, initial_alpha, a, b, gamma,
                             negative_sample_rate, n_epochs, init, random_state, metric,
                             metric_kwds, densmap, densmap_kwds, output_dens,
                             output_metric="euclidean", output_metric_kwds=None,
                             euclidean_output=True, parallel=False, verbose=False,
                             tqdm_kwds=None):
    """Lay out a fuzzy graph: umapx's initialisation and layout optimisation.

    Parameters
    ----------
    data : ndarray (n_samples, n_features) or None
        The data (for PCA initialisation and for placing disconnected components).
    graph : scipy.sparse matrix (n_samples, n_samples)
        The fuzzy graph.
    n_components : int
    initial_alpha : float
        Learning rate.
    a, b : float
        The embedding's similarity curve.
    gamma : float
        Repulsion strength.
    negative_sample_rate : int
    n_epochs : int, list of int or None
        None: 500 up to 10,000 vertices, 200 above. A list also returns the embeddings after
        each listed number of epochs (``aux_data["embedding_list"]``).
    init : {"spectral", "tswspectral", "pca", "random"} or ndarray (n_samples, n_components)
    random_state : int, RandomState or None
    metric, metric_kwds
        Accepted for compatibility (the graph is already built).
    densmap : bool
        Add densMAP's density term (:mod:`umapx.densmap`); the default epochs grow by 200.
    densmap_kwds : dict
        umap-learn's keys: ``graph_dists`` (sparse distances of the graph's edges; needed by
        ``densmap`` and ``output_dens``), ``lambda``, ``frac``, ``var_shift`` (defaults 2.0,
        0.3, 0.1) and ``n_neighbors`` (of the embedding radii, default 15).
    output_dens : bool
        Also return the log local radii in the data and in the embedding.
    output_metric : str or numba function
        Metric of the embedding (a name, or a numba function returning ``(distance,
        gradient)``); ignored when ``euclidean_output``.
    output_metric_kwds : dict
    euclidean_output : bool
        Use the euclidean layout.
    parallel : bool
        Accepted for compatibility: umapx's layout is parallel and reproducible either way.
    verbose : bool
    tqdm_kwds : dict or None
        ``disable`` and ``desc`` are honoured.

    Returns
    -------
    embedding : ndarray (n_samples, n_components), float32
    aux_data : dict
        ``"embedding_list"`` with a list ``n_epochs``; ``"rad_orig"`` and ``"rad_emb"`` with
        ``output_dens``.
    """
    densmap_kwds = densmap_kwds or {}
    if (densmap or output_dens) and "graph_dists" not in densmap_kwds:
        raise ValueError("densmap / output_dens need densmap_kwds['graph_dists']: the distances "
                         "of the graph's edges (a sparse matrix), as umap-learn's")
    random_state = check_random_state(random_state)
    graph = scipy.sparse.csr_matrix(graph, dtype=np.float32)
    n_samples = graph.shape[0] if data is None else len(data)
    if graph.shape != (n_samples, n_samples):
        raise ValueError(f"graph must be square with one row per sample of data "
                         f"({n_samples}), got shape {graph.shape}")
    if not np.all(np.isfinite(graph.data)) or np.any(graph.data < 0):
        raise ValueError("graph weights must be finite and >= 0")
    check_curve(a, b)
    graph.eliminate_zeros()
    snapshots = ()
    if isinstance(n_epochs, (list, tuple, np.ndarray)):
        snapshots = tuple(sorted({int(e) for e in np.ravel(n_epochs)}))
        n_epochs = snapshots[-1]
    elif n_epochs is None:
        n_epochs = (500 if graph.shape[0] <= 10_000 else 200) + (EXTRA_EPOCHS if densmap else 0)
    if isinstance(init, str) and init not in INIT_METHODS:
        raise ValueError(f"init must be one of {INIT_METHODS} or an array, got {init!r}")
    output = None
    if not euclidean_output:
        output = resolve_metric(output_metric, output_metric_kwds or None,
                                role="output_metric").for_output(n_components)
    seed = seed_from(random_state)
    start = initial_layout(np.asarray(init, np.float64) if not isinstance(init, str) else init,
                           graph, n_components, random_state, data=data)
    embedding = normalise_layout(start)
    kept = [embedding] * len(snapshots)
    pruned = prune_weak_edges(graph, n_epochs) if n_epochs > 0 else graph
    rad_orig = radii_from_edge_distances(pruned, densmap_kwds["graph_dists"]) \
        if densmap or output_dens else None
    if n_epochs > 0 and graph.nnz:
        tqdm_kwds = tqdm_kwds or {}
        progress = Report(verbose).progress(n_epochs, "epochs", tqdm_kwds.get("desc"),
                                            bool(tqdm_kwds.get("disable", False)))
        density = DensityObjective(
            pruned, rad_orig, strength=densmap_kwds.get("lambda", 2.0),
            frac=densmap_kwds.get("frac", 0.3), var_shift=densmap_kwds.get("var_shift", 0.1),
        ) if densmap else None
        result = optimize_layout(embedding, pruned, n_epochs=n_epochs,
                                 a=a, b=b, repulsion_strength=gamma,
                                 learning_rate=initial_alpha,
                                 negative_sample_rate=negative_sample_rate, seed=seed,
                                 output_metric=output, snapshots=snapshots, progress=progress,
                                 density=density)
        embedding, kept = result if snapshots else (result, [])
    aux_data = {"embedding_list": list(kept)} if snapshots else {}
    if output_dens:
        aux_data["rad_orig"] = rad_orig.astype(np.float32)
        aux_data["rad_emb"] = embedding_radii(embedding, densmap_kwds.get("n_neighbors", 15),
                                              seed=seed).astype(np.float32)
    return embedding, aux_data


def smooth_knn_dist(distances, k, n_iter=64, local_connectivity=1.0, bandwidth=1.0):
    """Local scales ``(sigmas, rhos)`` of a k-NN distance matrix (column 0: the point itself).

    ``n_iter`` is accepted for compatibility (umapx bisects 64 times, to 1e-5).
    """
    distances = check_array(distances, dtype=np.float32, order="C", input_name="distances")
    if np.any(distances < 0):
        raise ValueError("distances must be >= 0 (a k-NN distance matrix)")
    for name, value in (("k", k), ("local_connectivity", local_connectivity),
                        ("bandwidth", bandwidth)):
        if not (isinstance(value, (int, float, np.integer, np.floating))
                and np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return _graph.smooth_knn_dist(distances, float(k), float(local_connectivity),
                                  float(bandwidth))


def compute_membership_strengths(knn_indices, knn_dists, sigmas, rhos, return_dists=False,
                                 bipartite=False):
    """Directed edge weights of a k-NN graph as COO arrays ``(rows, cols, vals[, dists])``.

    Without ``bipartite`` (the graph of the training data with itself) an entry pointing at its
    own row gets weight 0; missing neighbours (``-1``) get weight 0.
    """
    knn_indices = np.ascontiguousarray(knn_indices, dtype=np.int32)
    knn_dists = np.ascontiguousarray(knn_dists, dtype=np.float32)
    rows, cols, vals = _graph.membership_strengths(
        knn_indices, knn_dists, np.asarray(sigmas, np.float32), np.asarray(rhos, np.float32),
        not bipartite)
    if return_dists:
        return rows, cols, vals, knn_dists.ravel().copy()
    return rows, cols, vals


def make_epochs_per_sample(weights, n_epochs):
    """Epochs between two samples of each edge (``-1``: never), the strongest every epoch."""
    return _epochs_per_sample(np.asarray(weights, dtype=np.float64), n_epochs)


def init_update(current_init, n_original_samples, indices):
    """Start positions of rows added to a model, in place (umap-learn's ``update`` helper).

    Each row ``i >= n_original_samples`` of ``current_init`` becomes the mean position of its
    neighbours among the original rows (the entries of ``indices[i]`` below
    ``n_original_samples``); a row without such a neighbour goes to the mean of the original
    rows. Rows below ``n_original_samples`` are not changed. (umapx's own ``UMAP.update``
    starts new rows where ``transform`` places them instead.)

    Parameters
    ----------
    current_init : ndarray (n_samples, n_components), float
        Positions of the original rows followed by the rows to place; changed in place.
    n_original_samples : int
    indices : ndarray (n_samples, k) of int
        Neighbour indices of every row (``-1``: no neighbour).
    """
    if not isinstance(current_init, np.ndarray) or current_init.ndim != 2:
        raise ValueError("current_init must be a 2-d numpy array (n_samples, n_components)")
    indices = np.asarray(indices)
    if indices.ndim != 2 or indices.shape[0] != current_init.shape[0]:
        raise ValueError(f"indices must have one row per row of current_init "
                         f"({current_init.shape[0]}), got shape {indices.shape}")
    n_original = int(n_original_samples)
    if not 0 < n_original <= current_init.shape[0]:
        raise ValueError(f"n_original_samples must be in [1, {current_init.shape[0]}], "
                         f"got {n_original_samples!r}")
    centre = current_init[:n_original].mean(axis=0)
    new_rows = indices[n_original:]
    original = (new_rows >= 0) & (new_rows < n_original)
    counts = original.sum(axis=1)
    sums = np.einsum("ij,ijk->ik", original, current_init[np.where(original, new_rows, 0)])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    current_init[n_original:] = np.where(counts[:, None] > 0, means, centre)

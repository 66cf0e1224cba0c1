"""Compile the common numba kernels ahead of their first use: ``python -m umapx.precompile``.

numba compiles a kernel the first time it runs and keeps the machine code in its on-disk cache
(the package's ``__pycache__``, or ``$NUMBA_CACHE_DIR``); every later process loads it from
there. Without this step the user's first fit on a machine pays the compilation (a digits fit:
~30 s of CPU time instead of ~5 s, imports included), and so does the first ``transform`` of a
large model (its approximate search kernels). This module runs the everyday paths once on small
synthetic data -- fit with exact and with NN-descent neighbours, ``transform``,
``inverse_transform``, a saved and reloaded model -- with the default metric (euclidean) on
dense float64 input, so that those kernels are in the cache before the first real run. Other
metrics, sparse input, densMAP and supervised fits still compile on their first use.

Run it once after installing (``scripts/setup.sh`` does; ~80 s of CPU time); the cache is tied
to the installed source files and to the CPU, so a reinstall or another machine needs it again.
A second run finds everything cached and takes a few seconds.

Without it, the first fit or transform compiles in two processes at once: ``--background``
is the mode that :mod:`umapx._compile_ahead` starts beside a fit or transform whose later
kernels are not cached (it prints ``ready <stage>`` as each stage's kernels are cached).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

# Three groups of points in 8 dimensions: enough for every stage of a fit to run, small enough
# that the run is all compilation.
_N_POINTS, _N_FEATURES = 600, 8


def _points(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(3, _N_FEATURES))
    return centres[rng.integers(0, 3, _N_POINTS)] + rng.normal(size=(_N_POINTS, _N_FEATURES))


def _scenario(approximate, folder):
    """Fit, query, save, reload and query again: the kernels of the tutorial's paths."""
    from .estimator import UMAP
    from .loading import load

    data = _points(0)
    new = _points(1)[:50]
    model = UMAP(random_state=42, force_approximation_algorithm=approximate).fit(data)
    model.transform(new)
    model.inverse_transform(model.embedding_[:20])
    path = os.path.join(folder, f"precompile-{int(approximate)}.umapx")
    model.save(path)
    loaded = load(path)  # a loaded model's arrays may be typed differently (read-only)
    loaded.transform(new)
    loaded.inverse_transform(loaded.embedding_[:20])


class _BruteForceIndex:
    """Stands in for a model's neighbour index in the background run: numpy's exact search.

    The process that started the background run compiles its own neighbour search meanwhile;
    this one must not compile the same kernels (see :mod:`umapx._compile_ahead`)."""

    def __init__(self, data):
        self.data = data

    def query(self, X, k, epsilon=None):
        import numpy as np

        squared = ((X[:, None, :] - self.data[None, :, :]) ** 2).sum(axis=2)
        indices = np.argsort(squared, axis=1, kind="stable")[:, :k].astype(np.int32)
        distances = np.sqrt(np.take_along_axis(squared, indices, axis=1)).astype(np.float32)
        return np.ascontiguousarray(indices), np.ascontiguousarray(distances)


def _say(line):
    """Tell the starting process a stage is cached (it may have exited: keep compiling); the
    line ends with this process's CPU seconds so far, for the benchmarks."""
    try:
        print(f"{line} {time.process_time():.2f}", flush=True)
    except OSError:
        pass


def background(stages, dtype, readonly, folder, n_components=2, ask_layout=False):
    """Compile the kernels of ``stages`` (see :data:`umapx._compile_ahead.STAGES`), in order.

    The data are ``dtype`` rows, embedded in ``n_components`` dimensions; with ``readonly``
    the model's training data and embedding are read-only arrays. The fit's neighbour search
    is never compiled here: the training neighbours come from numpy. ``"search"`` compiles the
    approximate search of new points in a large saved model's index (the first kernels a
    loaded model's ``transform`` runs). With ``ask_layout``, the layout kernel is compiled
    only if the starting process writes ``layout`` on this process's standard input once the
    graph is ready (``skip``, or the end of the input: it compiles the layout itself).

    Nothing here imports scikit-learn or the estimator (~0.9 s), and the graph stage imports
    only what it compiles, so that each stage is ready as early as possible. The model that
    ``transform`` runs on is a saved and reloaded stand-in (:func:`_stand_in_state`), not a
    fit, so that a first ``transform`` does not wait for the fit's graph kernels here; its
    stages are those of :meth:`umapx.UMAP.transform`, called with the same types.
    """
    import numpy as np

    from .graph import disconnect, fuzzy_simplicial_set, transform_graph

    data = _points(0).astype(dtype)
    new = np.ascontiguousarray(_points(1)[:50], dtype=np.float32)  # as transform checks them
    n_neighbors = 15
    indices, distances = _BruteForceIndex(data).query(data, n_neighbors)
    knn_indices, knn_dists, _ = disconnect(indices, distances, np.inf)
    state = None
    if "search" in stages:
        state = _stand_in_state(data, knn_indices, knn_dists, n_components, True, readonly,
                                folder)
        state.index.query(new, n_neighbors, epsilon=0.02)
        _say("ready search")
    new_indices, new_distances = _BruteForceIndex(data).query(new, n_neighbors)
    new_indices, new_distances, _ = disconnect(new_indices, new_distances, np.inf,
                                               training=False)
    if "graph" in stages:  # the memberships of new points (and a fit's graph)
        memberships = transform_graph(new_indices, new_distances, n_neighbors, 1.0,
                                      data.shape[0])
        if "layout" in stages:
            fuzzy_simplicial_set(knn_indices, knn_dists, n_neighbors, 1.0, 1.0)
        _say("ready graph")
    else:  # the starting process compiles them: a graph of the same types, without them
        memberships = _stand_in_memberships(new_indices, data.shape[0])
    if "layout" in stages and (not ask_layout or sys.stdin.readline().strip() == "layout"):
        from ._compile_ahead import compile_layout

        compile_layout(n_components)
        _say("ready layout")
    if "transform" not in stages and "inverse" not in stages:
        return
    if state is None:
        state = _stand_in_state(data, knn_indices, knn_dists, n_components, False, readonly,
                                folder)
    if "transform" in stages:
        _place(state, memberships, new_indices)
        _say("ready transform")
    if "inverse" in stages:
        points = np.ascontiguousarray(state.embedding[:20], dtype=np.float64)
        state.inverse.generate(points, n_neighbors)
        _say("ready inverse")


def _stand_in_memberships(indices, n_train):
    """A graph of the type :func:`umapx.graph.transform_graph` returns (the new points'
    memberships to their neighbours ``indices``), built with scipy alone."""
    import numpy as np
    import scipy.sparse

    n, k = indices.shape
    return scipy.sparse.csr_matrix(
        (np.full(n * k, 0.5, np.float32), (np.repeat(np.arange(n), k), indices.ravel())),
        shape=(n, n_train), dtype=np.float32)


def _place(state, graph, indices, n_epochs=2):
    """The stages of :meth:`umapx.UMAP.transform` after its memberships, with the argument
    types it passes: start, optimisation, the check of the result."""
    import numpy as np

    from ._rng import row_keys
    from ._validation import check_layout
    from .layout import optimize_transform, prune_weak_edges

    start = np.asarray(graph @ state.embedding.astype(np.float64)).astype(np.float32)
    placed = optimize_transform(
        start, state.embedding, prune_weak_edges(graph, n_epochs, 1.0), n_epochs=n_epochs,
        a=state.a, b=state.b, reference=1.0, repulsion_strength=1.0, learning_rate=0.5,
        negative_sample_rate=5, row_keys=row_keys(42, indices),
        output_metric=state.output_metric)
    check_layout(placed, state.a, state.b, "the transformed points")


def _stand_in_state(data, knn_indices, knn_dists, n_components, approximate, readonly,
                    folder):
    """The fitted state of a default model of ``data`` as loading its saved file gives it (the
    same types of arrays), built without running a fit and without scikit-learn (the estimator
    is not imported): what ``transform`` and ``inverse_transform`` need, for compiling theirs.

    With ``approximate`` its index is an NN-descent one whatever the size (a large model's),
    so that its search kernels can be compiled; it is assembled from flat arrays, as a saved
    index is restored (building it would compile the fit's NN-descent kernels): the training
    k-NN graph, walked from the one leaf of a one-node tree. With ``readonly`` the training
    data and the embedding are read-only, as a model built on read-only arrays holds them.
    """
    import numpy as np

    from . import persistence
    from .knn import NeighborIndex
    from .metrics import resolve_metric
    from .state import FittedState

    # What validate_parameters resolves for the default parameters (their values do not
    # matter here, their types do: a and b are floats, as find_ab_params gives them).
    X = np.ascontiguousarray(data, dtype=np.float32)
    metric = resolve_metric("euclidean").bind(X)
    output_metric = resolve_metric("euclidean", role="output_metric").for_output(n_components)
    a, b = 1.58, 0.9
    n = knn_indices.shape[0]
    graph = _stand_in_memberships(knn_indices, n)  # a float32 CSR graph, as a fit's
    embedding = np.random.default_rng(0).uniform(0.0, 10.0, (n, n_components)).astype(np.float32)
    state = FittedState(
        training_data=X, embedding=embedding, graph=graph, knn_indices=knn_indices,
        knn_dists=knn_dists, sigmas=np.ones(n, np.float32), rhos=np.zeros(n, np.float32),
        a=a, b=b, metric=metric,
        index=NeighborIndex.from_state(metric, X, "nndescent", _one_leaf_index(knn_indices))
        if approximate else NeighborIndex.from_knn(X, metric, knn_indices, knn_dists),
        n_features_in=X.shape[1], output_metric=output_metric,
        disconnection_distance=float(metric.bound))
    path = os.path.join(folder, "stand-in.umapx")
    persistence.save(path, {"n_components": n_components}, state)
    state = persistence.read(path).state
    if readonly:
        state.training_data.setflags(write=False)
        state.embedding.setflags(write=False)
    return state


def _one_leaf_index(knn_indices):
    """The arrays of an NN-descent index (:meth:`NeighborIndex.state_arrays`) whose search
    graph is the k-NN graph ``knn_indices`` (self in column 0) and whose tree is one leaf."""
    import numpy as np

    from .knn.nndescent import RPTree

    n, k = knn_indices.shape
    arrays = {"graph_indptr": np.arange(0, n * (k - 1) + 1, k - 1, dtype=np.int64),
              "graph_neighbours": np.ascontiguousarray(knn_indices[:, 1:].ravel(), np.int32)}
    one_node = {"perm": np.arange(n), "start": [0], "end": [n], "left": [-1], "right": [-1],
                "pivot_a": [-1], "pivot_b": [-1]}
    for field in RPTree._fields:
        arrays["tree_" + field] = np.asarray(one_node.get(field, [0]), dtype=np.int32)
    arrays["tree_offset"] = np.zeros(1, np.float32)
    return arrays


def precompile(verbose=False):
    """Run the common paths once so that numba's cache holds their kernels.

    Parameters
    ----------
    verbose : bool
        Print each step's wall and CPU seconds.

    Returns
    -------
    dict
        Wall and CPU seconds of the whole run (``"wall_s"``, ``"cpu_s"``).
    """
    began_wall, began_cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        for approximate, name in ((False, "exact neighbours"), (True, "NN-descent")):
            wall, cpu = time.perf_counter(), time.process_time()
            _scenario(approximate, folder)
            if verbose:
                print(f"  fit, transform, inverse, reload ({name}): "
                      f"{time.perf_counter() - wall:.1f} s (CPU {time.process_time() - cpu:.1f} s)")
    return {"wall_s": time.perf_counter() - began_wall, "cpu_s": time.process_time() - began_cpu}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m umapx.precompile",
        description="Compile umapx's common numba kernels into numba's on-disk cache, so that "
                    "the first fit / transform after installing does not wait for them.")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    parser.add_argument("--background", metavar="STAGES",
                        help="compile only these comma-separated stages (graph, layout, "
                             "transform, inverse) without the neighbour search, printing "
                             "'ready STAGE' after each (used by a fit or transform that "
                             "finds the cache empty)")
    parser.add_argument("--dtype", default="float64", choices=("float32", "float64"),
                        help="with --background: the data's dtype")
    parser.add_argument("--components", type=int, default=2,
                        help="with --background: the embedding's dimensions")
    parser.add_argument("--readonly", action="store_true",
                        help="with --background: transform a saved and loaded model")
    parser.add_argument("--ask-layout", action="store_true",
                        help="with --background: once the graph is ready, read 'layout' (compile "
                             "it) or 'skip' from the standard input")
    args = parser.parse_args(argv)
    if args.background is not None:
        from ._compile_ahead import STAGES

        stages = args.background.split(",")
        unknown = sorted(set(stages) - set(STAGES))
        if unknown:
            parser.error(f"unknown stages {unknown}; choose among {', '.join(STAGES)}")
        with tempfile.TemporaryDirectory() as folder:
            background(stages, args.dtype, args.readonly, folder, args.components,
                       args.ask_layout)
        return 0
    if not args.quiet:
        import numba.core.config

        location = numba.core.config.CACHE_DIR or "the package's __pycache__ folders"
        print(f"compiling umapx's kernels into numba's cache ({location}) ...")
    timing = precompile(verbose=not args.quiet)
    if not args.quiet:
        print(f"done in {timing['wall_s']:.1f} s (CPU {timing['cpu_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

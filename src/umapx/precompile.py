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


def _stand_in_model(data, knn_indices, knn_dists, graph, n_neighbors, n_components):
    """A fitted model of ``data`` as a fit leaves it (the same types of arrays), built without
    running the fit's graph and layout stages: what ``transform`` and ``inverse_transform``
    need, for compiling theirs."""
    import numpy as np

    from . import _validation
    from .estimator import UMAP
    from .knn import NeighborIndex
    from .state import FittedState

    model = UMAP(n_neighbors=n_neighbors, n_components=n_components, random_state=0)
    settings = _validation.validate_parameters(model.get_params(deep=False))
    X = _validation.check_fit_data(model, data, settings.metric, True)
    metric = settings.metric.bind(X)
    n = X.shape[0]
    embedding = np.ascontiguousarray(
        np.random.default_rng(0).uniform(0.0, 10.0, (n, n_components)), dtype=np.float32)
    return model._adopt(FittedState(
        training_data=X, embedding=embedding, graph=graph, knn_indices=knn_indices,
        knn_dists=knn_dists, sigmas=np.ones(n, np.float32), rhos=np.zeros(n, np.float32),
        a=settings.a, b=settings.b, metric=metric,
        index=NeighborIndex.from_knn(X, metric, knn_indices, knn_dists),
        n_features_in=X.shape[1], output_metric=settings.output_metric,
        disconnection_distance=settings.disconnection_distance))


def background(stages, dtype, readonly, folder, n_components=2, ask_layout=False):
    """Compile the kernels of ``stages`` (see :data:`umapx._compile_ahead.STAGES`), in order.

    The data are ``dtype`` rows, embedded in ``n_components`` dimensions; with ``readonly``
    the model is saved and loaded (its arrays read-only, as a loaded model's are) before
    ``transform`` and ``inverse_transform``. No kernel of the neighbour search is compiled
    here: the neighbours come from numpy. With ``ask_layout``, the layout kernel is compiled
    only if the starting process writes ``layout`` on this process's standard input once the
    graph is ready (``skip``, or the end of the input: it compiles the layout itself).

    The graph stage imports only what it compiles (not scikit-learn, nor the estimator), so
    that it is ready as early as possible; the model that ``transform`` runs on is built
    from the synthetic data's graph without a fit (:func:`_stand_in_model`), so that a first
    ``transform`` does not wait for the fit's graph kernels (the symmetrisation) here.
    """
    import numpy as np

    from .graph import disconnect, fuzzy_simplicial_set, transform_graph

    data = _points(0).astype(dtype)
    new = _points(1)[:50].astype(dtype)
    n_neighbors = 15
    indices, distances = _BruteForceIndex(data).query(data, n_neighbors)
    knn_indices, knn_dists, _ = disconnect(indices, distances, np.inf)
    if "layout" in stages:  # a fit: its graph
        graph = fuzzy_simplicial_set(knn_indices, knn_dists, n_neighbors, 1.0, 1.0)[0]
    else:  # a transform: the memberships of new points
        graph = transform_graph(knn_indices, knn_dists, n_neighbors, 1.0, data.shape[0])
    if "graph" in stages:
        _say("ready graph")
    if "layout" in stages and (not ask_layout or sys.stdin.readline().strip() == "layout"):
        from ._compile_ahead import compile_layout

        compile_layout(n_components)
        _say("ready layout")
    if "transform" not in stages and "inverse" not in stages:
        return
    from .loading import load

    model = _stand_in_model(data, knn_indices, knn_dists, graph, n_neighbors, n_components)
    if readonly:
        path = os.path.join(folder, "background.umapx")
        model.save(path)
        model = load(path)
    model._adopt(model.fitted_state.replace(index=_BruteForceIndex(data)))
    if "transform" in stages:
        model.transform(new)
        _say("ready transform")
    if "inverse" in stages:
        model.inverse_transform(model.embedding_[:20].astype(np.float64))
        _say("ready inverse")


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

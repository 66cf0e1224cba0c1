"""One measurement in a fresh process; prints one JSON object on its last line of stdout.

    python -m benchmarks.worker TASK LIBRARY DATASET [options]

TASK is ``fit`` (fit / transform speed and forward quality), ``quality`` (one fit with
``--seed``: forward quality and SHA-256 digests of the embedding and of the transformed test
set), ``transform`` (one fit with ``--seed`` at ``--pixel-scale``: transform speed, transform
accuracy and trustworthiness of the placed test points), ``inverse`` (inverse_transform speed
and quality), ``memory`` (peak RSS of one fit),
``start`` (import + first fit on digits, timed from process start), ``sparse`` (fit of a sparse
TF-IDF corpus: speed and quality), ``sparse-memory`` (peak RSS of that fit),
``dask-throughput`` / ``dask-sample`` (see ``dask_bench.py``), ``compat`` (a umap-learn mode
on the same input for both libraries, ``--mode``: ``precomputed-dense`` /
``precomputed-sparse`` distance matrices, ``precomputed-knn``: an exact 15-NN graph given as
``precomputed_knn``) or ``scale`` (one fit of a prefix of a 1M-row dataset: time per stage,
peak RSS, quality on a sample; ``--knn-only``: the k-NN alone; ``--transform-rows`` /
``--inverse-rows``: then transform new rows, inverse-transform points). With
``UMAPX_BENCH_STRICT_FP=1`` umapx's kernels are compiled without fastmath
(``benchmarks/targets.py``). LIBRARY is ``umapx`` or ``umap-learn``. ``benchmarks/run.py``
drives this; it is a separate process so that every library starts equally cold or equally
warm. Every result is also appended to ``benchmarks/results/workers.jsonl`` (what an
interrupted run had measured).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import time
import warnings

START = time.perf_counter()

import numpy as np  # noqa: E402


def _import(library):
    began = time.perf_counter()
    if library == "umapx":
        import umapx as module

        if os.environ.get("UMAPX_BENCH_STRICT_FP") == "1":
            from benchmarks.targets import use_strict_fp

            use_strict_fp()
    elif library == "umap-learn":
        import umap as module
    else:
        raise SystemExit(f"unknown library {library!r}")
    return module, time.perf_counter() - began


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak_rss():
    """Reset the kernel's peak RSS of this process (Linux ``clear_refs``); then
    :func:`_peak_rss_since_reset_mb` is the peak from now on. False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _peak_rss_since_reset_mb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return _peak_rss_mb()


def _current_rss_mb():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _timed(function, *args, **kwargs):
    began = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - began


def _params(args):
    params = {"random_state": args.seed} if args.seeded else {}
    if args.low_memory is not None:
        params["low_memory"] = args.low_memory
    if args.n_components != 2:
        params["n_components"] = args.n_components
    return params


@contextlib.contextmanager
def _timing_lock(path):
    """Hold the file lock ``path`` (``flock``, shared between processes) while timing; no
    lock when ``path`` is empty."""
    if not path:
        yield
        return
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _warm_up(module, library, train, params):
    """Compile every code path the timed runs take, on a small subset."""
    subset = train[: min(len(train), 2000)]
    module.UMAP(**params, n_epochs=5).fit(subset).transform(subset[:50])
    if len(train) > 8192:  # also the approximate-neighbour path
        extra = {"force_approximation_algorithm": True}
        module.UMAP(**params, n_epochs=5, **extra).fit(train[:9000]).transform(subset[:50])


def task_fit(args, module, library):
    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    train, train_labels, test, test_labels = as_float32(*load(args.dataset))
    params = _params(args)
    if not args.cold:
        _warm_up(module, library, train, params)
    times, cpu_times, stages = [], [], []
    for _ in range(args.repeats):
        cpu = time.process_time()
        mapper, seconds = _timed(module.UMAP(**params).fit, train)
        cpu_times.append(time.process_time() - cpu)
        times.append(seconds)
        stages.append(getattr(mapper, "timings_", {}))
    embedding = mapper.embedding_
    mapper.transform(test[:100])  # warm the transform path
    transform_times = []
    for _ in range(args.repeats):
        placed, seconds = _timed(mapper.transform, test)
        transform_times.append(seconds)
    return {
        "fit_s": times,
        "fit_median_s": statistics.median(times),
        "fit_cpu_median_s": statistics.median(cpu_times),  # all threads
        "stages_s": {k: statistics.median(s[k] for s in stages) for k in stages[0]},
        "transform_s": transform_times,
        "transform_median_s": statistics.median(transform_times),
        "trustworthiness": evaluation.trustworthiness(train, embedding),
        "knn_accuracy": evaluation.knn_accuracy(embedding, train_labels),
        "transform_accuracy": evaluation.transform_accuracy(embedding, train_labels, placed,
                                                            test_labels),
        "n_train": len(train),
        "n_test": len(test),
    }


def task_quality(args, module, library):
    import hashlib

    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    train, train_labels, test, test_labels = as_float32(*load(args.dataset))
    mapper, fit_s = _timed(module.UMAP(random_state=args.seed).fit, train)
    placed, transform_s = _timed(mapper.transform, test)
    embedding = np.ascontiguousarray(mapper.embedding_)
    placed = np.ascontiguousarray(placed)
    return {
        "seed": args.seed,
        "fit_s": fit_s,
        "transform_s": transform_s,
        "trustworthiness": evaluation.trustworthiness(train, embedding),
        "knn_accuracy": evaluation.knn_accuracy(embedding, train_labels),
        "transform_accuracy": evaluation.transform_accuracy(embedding, train_labels, placed,
                                                            test_labels),
        "embedding_sha256": hashlib.sha256(embedding.tobytes()).hexdigest(),
        "transform_sha256": hashlib.sha256(placed.tobytes()).hexdigest(),
    }


def task_transform(args, module, library):
    """One fit (seeded with ``--seed``, or unseeded with ``--no-seeded``) at a pixel scale
    (``--pixel-scale``: 1 for [0, 1], 255 for 0-255), then the timed transform of the test set
    (warm) and the quality of the fitted and the placed points."""
    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    train, train_labels, test, test_labels = load(args.dataset)
    train, test = as_float32(train * args.pixel_scale, test * args.pixel_scale)
    params = {"random_state": args.seed} if args.seeded else {}
    cpu = time.process_time()
    mapper, fit_s = _timed(module.UMAP(**params).fit, train)
    fit_cpu_s = time.process_time() - cpu
    mapper.transform(test[:100])  # compile the transform path
    times, cpu_times = [], []
    with _timing_lock(args.timing_lock):
        for _ in range(args.repeats):
            cpu = time.process_time()
            placed, seconds = _timed(mapper.transform, test)
            cpu_times.append(time.process_time() - cpu)
            times.append(seconds)
    embedding = np.asarray(mapper.embedding_)
    return {
        "seed": args.seed if args.seeded else None,
        "pixel_scale": args.pixel_scale,
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,  # all threads
        "transform_s": times,
        "transform_median_s": statistics.median(times),
        "transform_cpu_median_s": statistics.median(cpu_times),
        "trustworthiness": evaluation.trustworthiness(train, embedding),
        "knn_accuracy": evaluation.knn_accuracy(embedding, train_labels),
        "transform_accuracy": evaluation.transform_accuracy(embedding, train_labels, placed,
                                                            test_labels),
        "transform_trustworthiness": evaluation.trustworthiness(test, placed),
    }


def task_memory(args, module, library):
    from benchmarks.datasets import as_float32, load

    train = as_float32(load(args.dataset)[0])[0]
    baseline = _current_rss_mb()
    _, seconds = _timed(module.UMAP(**_params(args)).fit, train)
    return {"peak_rss_mb": _peak_rss_mb(), "baseline_rss_mb": baseline, "fit_s": seconds}


def task_inverse(args, module, library):
    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    train, train_labels, test, test_labels = as_float32(*load(args.dataset))
    mapper = module.UMAP(**_params(args)).fit(train)
    held_out = test[: args.queries]
    points = np.asarray(mapper.transform(held_out), np.float64)
    options = {}
    if library == "umapx" and (args.method != "blend" or args.detail):
        options = {"method": args.method, "detail": args.detail}

    def inverse(embedded):
        return mapper.inverse_transform(embedded, **options)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, cold_s = _timed(inverse, points[:5])
        times = []
        for _ in range(args.repeats):
            _, seconds = _timed(inverse, points[:100])
            times.append(seconds)
        quality = evaluation.inverse_quality(
            mapper.transform, inverse, train, train_labels, mapper.embedding_,
            held_out, test_labels[: args.queries],
        )
        outside = evaluation.outside_support(inverse, mapper.embedding_, train, n_rays=5,
                                             steps=10)
        result = {"inverse_first5_s": cold_s, "inverse100_s": times,
                  "inverse100_median_s": statistics.median(times), **quality, **outside}
        if args.many:
            many = np.resize(points, (args.many, points.shape[1]))
            rss_before = _current_rss_mb()
            _, seconds = _timed(inverse, many)
            result.update({f"inverse{args.many}_s": seconds,
                           f"inverse{args.many}_peak_rss_mb": _peak_rss_mb(),
                           "rss_before_many_mb": rss_before})
    return result


def _distance_inputs(mode, train, test, k=30):
    """Euclidean distances train x train and test x train: dense, or for ``precomputed-sparse``
    each row's ``k`` nearest (with the diagonal), the train matrix made symmetric (umap-learn
    requires that of sparse distance matrices)."""
    import scipy.sparse
    from sklearn.metrics import pairwise_distances

    fit = pairwise_distances(train, n_jobs=-1).astype(np.float32)
    new = pairwise_distances(test, train, n_jobs=-1).astype(np.float32)
    np.fill_diagonal(fit, 0.0)
    if mode == "precomputed-dense":
        return fit, new

    def nearest(matrix, count):
        columns = np.argpartition(matrix, count, axis=1)[:, :count]
        rows = np.repeat(np.arange(matrix.shape[0]), count)
        values = np.take_along_axis(matrix, columns, axis=1).ravel()
        return scipy.sparse.csr_matrix((values, (rows, columns.ravel())), shape=matrix.shape)

    sparse_fit = nearest(fit, k + 1)
    sparse_fit = sparse_fit.maximum(sparse_fit.T).tocsr()
    sparse_fit.setdiag(0.0)  # stored zeros: umap-learn reads neighbours from stored entries
    return sparse_fit, nearest(new, k)


def _exact_knn(train, k=15):
    """``(indices, distances)`` of each training row's ``k`` nearest rows, itself first
    (euclidean, exact), as umap-learn's ``precomputed_knn`` takes them."""
    from sklearn.neighbors import NearestNeighbors

    distances, indices = NearestNeighbors(n_neighbors=k).fit(train).kneighbors(train)
    return indices.astype(np.int32), distances.astype(np.float32)


def _compat_inputs(mode, train, test):
    """``(params, fit input, transform input)`` of a compat mode on the same data for both
    libraries."""
    if mode == "precomputed-knn":
        return {"precomputed_knn": _exact_knn(train)}, train, test
    fit_input, new_input = _distance_inputs(mode, train, test)
    return {"metric": "precomputed"}, fit_input, new_input


def task_compat(args, module, library):
    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    train, train_labels, test, test_labels = as_float32(*load(args.dataset))
    mode_params, fit_input, new_input = _compat_inputs(args.mode, train, test)
    params = {**mode_params, **_params(args)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not args.cold:
            small_params, small_fit, small_new = _compat_inputs(args.mode, train[:1000],
                                                                test[:20])
            small = module.UMAP(**{**params, **small_params}, n_epochs=5).fit(small_fit)
            try:
                small.transform(small_new)
            except Exception:  # noqa: BLE001 -- reported by the timed transform below
                pass
        mapper, fit_s = _timed(module.UMAP(**params).fit, fit_input)
        try:
            placed, transform_s = _timed(mapper.transform, new_input)
        except Exception as error:  # noqa: BLE001 -- umap-learn: above 4095 samples, no index
            placed, transform_s = None, None
            transform_error = f"{type(error).__name__}: {error}"[:120]
    embedding = mapper.embedding_
    result = {
        "mode": args.mode,
        "fit_median_s": fit_s,
        "transform_median_s": transform_s,
        "trustworthiness": evaluation.trustworthiness(train, embedding),
        "knn_accuracy": evaluation.knn_accuracy(embedding, train_labels),
        "n_train": len(train),
    }
    if placed is None:
        result["transform_error"] = transform_error
    else:
        result["transform_accuracy"] = evaluation.transform_accuracy(
            embedding, train_labels, placed, test_labels)
    return result


def _variant_inputs(mode, train, train_labels):
    """``(fit data, y, UMAP parameters)`` of a variants mode (see ``run.py variants``)."""
    if mode == "densmap":
        return train, None, {"densmap": True}
    if mode == "regression":  # continuous target: each image's mean intensity
        return train, train.mean(axis=1), {"target_metric": "l1"}
    if mode == "ordinal":
        return train, train_labels, {"target_metric": "ordinal"}
    if mode == "unique":  # a third of the rows given twice
        rows = np.r_[np.arange(len(train)), np.arange(0, len(train), 3)]
        return train[rows], None, {"unique": True}
    raise SystemExit(f"unknown variants mode {mode!r}")


def task_variants(args, module, library):
    from benchmarks.datasets import as_float32, load
    from umapx import evaluation

    train, train_labels, test, test_labels = as_float32(*load(args.dataset))
    data, y, extra = _variant_inputs(args.mode, train, train_labels)
    params = {**extra, **_params(args)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not args.cold:
            module.UMAP(**params, n_epochs=5).fit(data[:1000], None if y is None else y[:1000])
        mapper, fit_s = _timed(module.UMAP(**params).fit, data, y)
        try:
            placed, transform_s = _timed(mapper.transform, test)
        except NotImplementedError as error:  # umap-learn's densMAP cannot transform
            placed, transform_s, transform_error = None, None, str(error)
        try:
            generated = mapper.inverse_transform(mapper.embedding_[:50])
            inverse_error = None if np.all(np.isfinite(generated)) else "non-finite samples"
        except (NotImplementedError, ValueError) as error:
            inverse_error = str(error)
    embedding = mapper.embedding_
    labels = train_labels if args.mode != "unique" else train_labels[
        np.r_[np.arange(len(train)), np.arange(0, len(train), 3)]]
    result = {
        "mode": args.mode,
        "fit_median_s": fit_s,
        "transform_median_s": transform_s,
        "trustworthiness": evaluation.trustworthiness(data, embedding),
        "knn_accuracy": evaluation.knn_accuracy(embedding, labels),
        "inverse": inverse_error or "ok",
        "n_train": len(data),
    }
    if placed is None:
        result["transform"] = transform_error
    else:
        result["transform"] = "ok"
        result["transform_accuracy"] = evaluation.transform_accuracy(
            embedding, labels, placed, test_labels)
    if args.mode == "densmap":
        result["density_correlation"] = evaluation.density_correlation(data, embedding)
    if args.mode == "regression":
        result["target_order"] = evaluation.target_order(embedding, y)
        result["target_order_new"] = None if placed is None else evaluation.target_order(
            placed, test.mean(axis=1))
    return result


def task_start(args, module, library):
    from sklearn.datasets import load_digits

    data = load_digits().data
    module.UMAP().fit(data)
    # process_time: CPU seconds of every thread of this process since it started (imports too)
    result = {"process_to_first_fit_s": time.perf_counter() - START,
              "process_cpu_s": time.process_time()}
    # With an empty cache umapx compiles in a second process too (umapx._compile_ahead), which
    # goes on with the transform kernels after the fit: let it end before the next measurement.
    running = getattr(sys.modules.get("umapx._compile_ahead"), "_running", None)
    if running is not None:
        running.join()
    return result


def _knn_only(module, library, data, params):
    """Time the k-NN stage alone (umap-learn's full fit does not finish in time at 1M)."""
    if library == "umapx":
        from umapx.knn import NeighborIndex
        from umapx.metrics import resolve_metric

        _, seconds = _timed(NeighborIndex.build, data, 15, resolve_metric("euclidean"),
                            method="nndescent", seed=42)
    else:
        from umap.umap_ import nearest_neighbors

        _, seconds = _timed(nearest_neighbors, data, 15, "euclidean", {}, False,
                            np.random.RandomState(params.get("random_state")))
    return {"knn_s": seconds}


class _AnonPeak:
    """The largest anonymous RSS (``RssAnon``: not file pages, so a memmap's written pages are
    not counted) seen by a thread sampling it every 10 ms while the block runs, in MB.

    Free memory that the C heap still holds is given back first (glibc ``malloc_trim``), so
    that the growth is what the block needs (a thread samples only while the GIL is free:
    between the kernels of a batched call, not inside one numba kernel).
    """

    def __enter__(self):
        import ctypes
        import gc
        import threading

        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        self.peak = self.before = self._read()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._read())

    def _sample(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._read())

    @staticmethod
    def _read():
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")


def _scale_transform(mapper, dataset, n_rows, embedding, labels):
    """Transform of ``n_rows`` new rows of the dataset: the first call (which builds the
    search graph on an NN-descent index) and a second one, and the accuracy of the placed
    points' labels by their training neighbours."""
    from benchmarks.datasets import load_scale_new
    from umapx import evaluation

    new, new_labels = load_scale_new(dataset, n_rows)
    cpu = time.process_time()
    _, first = _timed(mapper.transform, new)
    first_cpu = time.process_time() - cpu
    cpu = time.process_time()
    placed, again = _timed(mapper.transform, new)
    return {"transform_rows": n_rows, "transform_first_s": first, "transform_first_cpu_s":
            first_cpu, "transform_s": again, "transform_cpu_s": time.process_time() - cpu,
            "transform_accuracy": evaluation.transform_accuracy(
                embedding[:100_000], labels[:100_000], placed, new_labels)}


def _scale_inverse(mapper, n_rows):
    """inverse_transform of ``n_rows`` points near the embedded training points (the model's
    inverse built by a first one-point call, timed apart): seconds and the working memory,
    with the samples returned and written into a memmap (``out=``)."""
    import tempfile

    embedding = np.asarray(mapper.embedding_, np.float64)
    points = embedding[np.arange(n_rows) % len(embedding)]
    points += np.random.RandomState(0).normal(scale=0.01, size=points.shape)
    with _AnonPeak() as build:
        _, build_s = _timed(mapper.inverse_transform, points[:1])
    result = {"inverse_rows": n_rows, "inverse_build_s": build_s,
              "inverse_build_mb": build.peak - build.before}
    with _AnonPeak() as returned:
        samples, seconds = _timed(mapper.inverse_transform, points)
    result.update(inverse_s=seconds, inverse_mb=returned.peak - returned.before,
                  inverse_output_mb=samples.nbytes / 2**20)
    del samples
    with tempfile.TemporaryDirectory() as folder:
        out = np.lib.format.open_memmap(os.path.join(folder, "samples.npy"), mode="w+",
                                        dtype=np.float32, shape=(n_rows, mapper.n_features_in_))
        with _AnonPeak() as streamed:
            _, seconds = _timed(mapper.inverse_transform, points, out=out)
        del out
    result.update(inverse_out_s=seconds, inverse_out_mb=streamed.peak - streamed.before)
    return result


def task_scale(args, module, library):
    from benchmarks.datasets import load_scale
    from umapx import evaluation

    params = _params(args)
    # Compile both libraries' approximate-neighbour paths first (not timed).
    _warm_up(module, library, np.random.RandomState(0).normal(size=(9000, 50)).astype(np.float32),
             params)
    data, labels = load_scale(args.dataset, args.rows)
    baseline = _current_rss_mb()
    if args.knn_only:
        result = _knn_only(module, library, data, params)
    else:
        cpu = time.process_time()
        mapper, seconds = _timed(module.UMAP(**params, verbose=args.verbose).fit, data)
        # Peak RSS of the fit, before the quality measures (trustworthiness holds 10k x 10k).
        fit_peak, cpu = _peak_rss_mb(), time.process_time() - cpu
        embedding = mapper.embedding_
        result = {"fit_s": seconds, "fit_cpu_s": cpu, "fit_peak_rss_mb": fit_peak,
                  "stages_s": dict(getattr(mapper, "timings_", {})),
                  "trustworthiness": evaluation.trustworthiness(data, embedding,
                                                                sample_size=10_000),
                  "knn_accuracy": evaluation.knn_accuracy(embedding[:100_000],
                                                          labels[:100_000])}
        if args.transform_rows:
            result.update(_scale_transform(mapper, args.dataset, args.transform_rows,
                                           embedding, labels))
        if args.inverse_rows and library == "umapx":
            result.update(_scale_inverse(mapper, args.inverse_rows))
    return {**result, "n_rows": len(data), "peak_rss_mb": _peak_rss_mb(),
            "baseline_rss_mb": baseline}


def _sparse_setup(args, module):
    """The corpus and parameters of a sparse task, with every code path compiled on a subset."""
    import gc

    from benchmarks.datasets import corpus

    tfidf, topics = corpus(args.dataset)
    params = {"metric": args.metric, **_params(args)}
    module.UMAP(**params, n_epochs=5).fit(tfidf[:2000]).transform(tfidf[:50])
    module.UMAP(**params, n_epochs=5, force_approximation_algorithm=True).fit(
        tfidf[:5000]).transform(tfidf[:50])
    gc.collect()
    return tfidf, topics, params


def task_sparse(args, module, library):
    from umapx import evaluation

    tfidf, topics, params = _sparse_setup(args, module)
    times, cpu_times = [], []
    for _ in range(args.repeats):
        cpu = time.process_time()
        mapper, seconds = _timed(module.UMAP(**params).fit, tfidf)
        cpu_times.append(time.process_time() - cpu)
        times.append(seconds)
    embedding = mapper.embedding_
    return {
        "fit_s": times,
        "fit_median_s": statistics.median(times),
        "fit_cpu_median_s": statistics.median(cpu_times),
        "stages_s": getattr(mapper, "timings_", {}),
        "trustworthiness": evaluation.trustworthiness(tfidf, embedding, metric=args.metric),
        "knn_accuracy": evaluation.knn_accuracy(embedding, topics),
        "n_documents": tfidf.shape[0], "n_words": tfidf.shape[1], "nnz": int(tfidf.nnz),
        "metric": args.metric,
    }


def task_sparse_memory(args, module, library):
    """Peak RSS of one fit of the corpus, after a warm-up on subsets (code loaded)."""
    tfidf, _, params = _sparse_setup(args, module)
    before = _current_rss_mb()
    peak_before = _peak_rss_mb()
    # the fit's own peak where the kernel can reset it; else the process's (an upper bound)
    peak = _peak_rss_since_reset_mb if _reset_peak_rss() else _peak_rss_mb
    mapper = module.UMAP(**params).fit(tfidf)
    fit_peak = peak()
    graph = mapper.graph_.tocsr()
    matrix_mb = (tfidf.data.nbytes + tfidf.indices.nbytes + tfidf.indptr.nbytes) / 2**20
    graph_mb = (graph.data.nbytes + graph.indices.nbytes + graph.indptr.nbytes) / 2**20
    return {"peak_rss_mb": fit_peak, "rss_before_fit_mb": before,
            "peak_before_fit_mb": peak_before, "peak_reset": peak is _peak_rss_since_reset_mb,
            "fit_increase_mb": fit_peak - before, "matrix_mb": matrix_mb,
            "graph_mb": graph_mb, "metric": args.metric}


def task_dask_throughput(args, module, library):
    from benchmarks.dask_bench import throughput

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*outside the support")
        return throughput(args.what, args.rows or 2_000_000, args.workers, args.in_process_rows,
                          args.chunk_rows)


def task_dask_sample(args, module, library):
    from benchmarks.dask_bench import sample_fit

    return sample_fit([int(s) for s in args.sample_sizes.split(",")], args.workers)


TASKS = {"fit": task_fit, "quality": task_quality, "memory": task_memory,
         "inverse": task_inverse, "start": task_start,
         "sparse": task_sparse, "sparse-memory": task_sparse_memory,
         "dask-throughput": task_dask_throughput, "dask-sample": task_dask_sample,
         "compat": task_compat, "variants": task_variants, "scale": task_scale,
         "transform": task_transform}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("library", choices=["umapx", "umap-learn"])
    parser.add_argument("dataset", nargs="?", default="digits")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeded", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--cold", action="store_true", help="no warm-up fit before timing")
    parser.add_argument("--queries", type=int, default=200, help="held-out points (inverse)")
    parser.add_argument("--many", type=int, default=0, help="also time this many queries")
    parser.add_argument("--n-components", type=int, default=2)
    parser.add_argument("--method", default="blend", help="umapx inverse_transform method")
    parser.add_argument("--detail", type=float, default=0.0, help="umapx inverse detail")
    parser.add_argument("--metric", default="cosine", help="sparse tasks: the metric")
    parser.add_argument("--low-memory", action=argparse.BooleanOptionalAction, default=None,
                        help="pass low_memory to UMAP (default: the library's default)")
    parser.add_argument("--what", choices=["transform", "inverse"], default="transform")
    parser.add_argument("--rows", type=int, default=None,
                        help="rows on dask (2,000,000 unless given), or of a scale dataset")
    parser.add_argument("--workers", type=int, default=2, help="dask workers (1 thread each)")
    parser.add_argument("--in-process-rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--sample-sizes", default="10000")
    parser.add_argument("--seed", type=int, default=42,
                        help="random_state (quality, transform; the seeded fits of the other "
                             "tasks)")
    parser.add_argument("--pixel-scale", type=float, default=1.0,
                        help="transform: data multiplied by this (255: 0-255 pixels)")
    parser.add_argument("--timing-lock", default="",
                        help="transform: hold this file lock (flock) while timing the "
                             "transforms only (e.g. /tmp/umapx-timing.lock)")
    parser.add_argument("--knn-only", action="store_true", help="scale: time the k-NN only")
    parser.add_argument("--verbose", action="store_true", help="scale: the fit's log on stderr")
    parser.add_argument("--transform-rows", type=int, default=0,
                        help="scale: also transform this many new rows (twice: first call, "
                             "warm call)")
    parser.add_argument("--inverse-rows", type=int, default=0,
                        help="scale: also inverse_transform this many points (umapx)")
    parser.add_argument("--mode", default="precomputed-dense",
                        choices=["precomputed-dense", "precomputed-sparse", "precomputed-knn",
                                 "densmap",
                                 "regression", "ordinal", "unique"],
                        help="compat / variants mode")
    args = parser.parse_args(argv)
    module, import_s = _import(args.library)
    warnings.filterwarnings("ignore", message=".*n_jobs value.*")
    result = TASKS[args.task](args, module, args.library)
    result.update({"task": args.task, "library": args.library, "dataset": args.dataset,
                   "import_s": import_s, "seeded": args.seeded,
                   "n_components": args.n_components, "argv": sys.argv[1:]})
    line = json.dumps(result)
    print(line)
    # Also appended to a log, so that an interrupted run.py keeps what it has measured.
    log = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "workers.jsonl")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "a") as out:
        out.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())

"""Measurements of umapx on dask, run by ``benchmarks/worker.py`` in a fresh process.

``throughput``: rows per second of ``transform`` or ``inverse_transform`` of N generated rows on a
``LocalCluster`` (W workers x 1 thread), against in-process calls (``n_jobs=-1``) on the first
M of the same rows, and the peak RSS of every worker process. The rows are Fashion-MNIST's
70,000 images projected on their first 50 principal components, drawn at random with small
noise (5% of each component's spread), generated block by block on the workers from a seed
and the block's number, so N rows never sit in one process. The model is fitted on the
60,000 training images (PCA-50) with ``random_state=42``. Points for the inverse transform are
training embedding points plus noise (2% of the embedding's spread).

``sample_fit``: Fashion-MNIST (70,000 x 784): a full fit against ``umapx.dask.fit_sample`` on
a seeded sample, both judged on all 70,000 rows (trustworthiness on 5,000 of them, 10-NN
accuracy on a stratified split).
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np

SEED = 20240601
NOISE = 0.05  # of each principal component's standard deviation
POINT_NOISE = 0.02  # of the embedding's standard deviation


def _peak_rss_mb():
    """Peak resident memory of this process (VmHWM: ru_maxrss would count the parent's too,
    since Linux carries it across fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _fashion():
    from benchmarks.datasets import load

    train, train_labels, test, test_labels = load("fashion")
    data = np.vstack([train, test]).astype(np.float32)
    return data, np.concatenate([train_labels, test_labels]), len(train)


def _pca50():
    """Fashion-MNIST's 70,000 rows on the first 50 principal components of the training set."""
    from sklearn.decomposition import PCA

    data, _, n_train = _fashion()
    pca = PCA(n_components=50, svd_solver="randomized", random_state=0).fit(data[:n_train])
    return pca.transform(data).astype(np.float32), n_train


def generate_block(base, scale, block, size):
    """Rows of block ``block``: random rows of ``base`` plus noise, from (SEED, block) alone."""
    rng = np.random.default_rng([SEED, block])
    rows = base[rng.integers(0, len(base), size)]
    return (rows + rng.standard_normal(rows.shape, np.float32) * scale).astype(np.float32)


def _lazy_rows(base_ref, scale, n_rows, chunk_rows, width):
    import dask
    import dask.array as da

    blocks = []
    for block, start in enumerate(range(0, n_rows, chunk_rows)):
        size = min(chunk_rows, n_rows - start)
        task = dask.delayed(generate_block, pure=True)(base_ref, scale, block, size)
        blocks.append(da.from_delayed(task, shape=(size, width), dtype=np.float32))
    return da.concatenate(blocks)


def _in_process_rows(base, scale, n_rows, chunk_rows):
    blocks = [generate_block(base, scale, block, min(chunk_rows, n_rows - start))
              for block, start in enumerate(range(0, n_rows, chunk_rows))]
    return np.concatenate(blocks)


def throughput(what, n_rows, n_workers, in_process_rows, chunk_rows):
    import dask
    import distributed

    import umapx

    base, n_train = _pca50()
    began = time.perf_counter()
    mapper = umapx.UMAP(random_state=42).fit(base[:n_train])
    fit_s = time.perf_counter() - began
    if what == "transform":
        source, scale = base, NOISE * base.std(axis=0)
        method = mapper.transform
    else:
        source = mapper.embedding_
        scale = POINT_NOISE * source.std(axis=0)
        method = mapper.inverse_transform
    scale = scale.astype(np.float32)

    # In-process, all cores (n_jobs=-1), on the first rows.
    local_rows = _in_process_rows(source, scale, min(in_process_rows, n_rows), chunk_rows)
    method(local_rows[:1000])  # warm
    began = time.perf_counter()
    local = method(local_rows)
    local_s = time.perf_counter() - began
    first_block = local[: min(chunk_rows, len(local))].copy()
    del local, local_rows

    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        source_ref = client.scatter(source, broadcast=True)
        warm = method(_lazy_rows(source_ref, scale, 2 * n_workers * 1000, 1000,
                                 source.shape[1]))
        began = time.perf_counter()
        warm.sum().compute()
        warm_s = time.perf_counter() - began
        result = method(_lazy_rows(source_ref, scale, n_rows, chunk_rows, source.shape[1]))
        began = time.perf_counter()
        checksum, first = dask.compute(result.sum(dtype=np.float64), result.blocks[0])
        dask_s = time.perf_counter() - began
        worker_rss = client.run(_peak_rss_mb)
    return {
        "what": what, "rows": n_rows, "workers": n_workers, "chunk_rows": chunk_rows,
        "dask_s": dask_s, "dask_rows_per_s": n_rows / dask_s,
        "first_tasks_s": warm_s,
        "in_process_rows": min(in_process_rows, n_rows), "in_process_s": local_s,
        "in_process_rows_per_s": min(in_process_rows, n_rows) / local_s,
        "identical_first_block": bool(np.array_equal(first, first_block)),
        "checksum": float(checksum),
        "worker_peak_rss_mb": sorted(worker_rss.values()),
        "driver_peak_rss_mb": _peak_rss_mb(), "fit_s": fit_s, "cpus": os.cpu_count(),
    }


def sample_fit(sample_sizes, n_workers):
    import dask.array as da
    import distributed

    import umapx
    from umapx import evaluation
    from umapx.dask import fit_sample

    data, labels, _ = _fashion()

    def judge(embedding):
        return {"trustworthiness": evaluation.trustworthiness(data, embedding),
                "knn_accuracy": evaluation.knn_accuracy(embedding, labels)}

    began = time.perf_counter()
    full = umapx.UMAP(random_state=42).fit(data).embedding_
    rows = [{"fit": "full", "sample_size": len(data), "fit_s": time.perf_counter() - began,
             **judge(full)}]
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster):
        X = da.from_array(data, chunks=(10_000, data.shape[1]))
        for size in sample_sizes:
            began = time.perf_counter()
            mapper, lazy = fit_sample(umapx.UMAP(random_state=42), X, sample_size=size,
                                      random_state=0)
            fit_s = time.perf_counter() - began
            began = time.perf_counter()
            embedding = lazy.compute()
            rows.append({"fit": "sample", "sample_size": size, "fit_s": fit_s,
                         "embed_all_s": time.perf_counter() - began, **judge(embedding)})
    return {"rows": rows, "n_rows": len(data), "workers": n_workers}

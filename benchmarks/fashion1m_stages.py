"""Which stage of a fit loses trustworthiness on a ``fashion1m`` prefix (issue 12).

    python benchmarks/fashion1m_stages.py fit --rows 300000        # umapx, stage outputs saved
    python benchmarks/fashion1m_stages.py recall --rows 300000     # k-NN recall@15 vs exact
    python benchmarks/fashion1m_stages.py eigen --rows 300000      # is the spectral init solved?
    python benchmarks/fashion1m_stages.py cross --rows 300000      # umap-learn's layout on
                                                                   # umapx's k-NN and init
    python benchmarks/fashion1m_stages.py start --rows 1000000 --graph G.npz --out DIR
                                          # umapx's current start of a saved graph

``fit`` keeps umapx's k-NN indices, fuzzy graph, spectral start (recomputed with the fit's
random stream: the same array) and embedding under ``--out`` and prints trust@15 (10k sample)
and 10-NN accuracy of the start and of the embedding. ``recall`` compares saved k-NN indices
(``--knn``, default umapx's) with brute-force neighbours of 2000 sampled rows, and reports how
many of a row's neighbours are translated copies of its own image. ``eigen`` solves the
spectral problem of the saved graph again at a tight tolerance and a larger Krylov space and
compares the starts. ``start`` lays out a saved graph (``--graph``, default the ``fit``
output) with umapx's current spectral start and the fit's random stream, prints its quality
and saves it with a link to the graph as ``DIR/start-ROWS``, the ``--stem`` of
``layout_variants.py``. ``cross`` needs umap-learn (``/work/benchvenv``, extra ``bench``). Quality
runs, not timings: run them at low priority (``nice -n 10``) with ``NUMBA_NUM_THREADS=1`` on a
loaded machine (a parallel kernel's threads wait for each other when the cores are shared).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.datasets import load_scale  # noqa: E402


def _quality(data, labels, embedding):
    from umapx import evaluation

    return (f"trust@15 {evaluation.trustworthiness(data, embedding, sample_size=10_000):.4f}, "
            f"10-NN acc {evaluation.knn_accuracy(embedding[:100_000], labels[:100_000]):.4f}")


def fit(args, data, labels):
    import scipy.sparse.csgraph
    from sklearn.utils import check_random_state

    import umapx
    from umapx._rng import seed_from
    from umapx.init import initial_layout

    mapper = umapx.UMAP(random_state=42, verbose=True).fit(data)
    rng = check_random_state(42)
    seed_from(rng), seed_from(rng)  # the k-NN and layout seeds drawn before the init
    start = initial_layout("spectral", mapper.graph_, 2, rng, data=data)
    np.save(args.stem + "-knn.npy", mapper._knn_indices)
    np.save(args.stem + "-init.npy", start)
    np.save(args.stem + "-emb.npy", mapper.embedding_)
    scipy.sparse.save_npz(args.stem + "-graph.npz", mapper.graph_.tocsr())
    n_components, _ = scipy.sparse.csgraph.connected_components(mapper.graph_, directed=False)
    print(f"stages {mapper.timings_}; graph components {n_components}")
    print(f"start: {_quality(data, labels, start)}")
    print(f"embedding: {_quality(data, labels, mapper.embedding_)}")


def recall(args, data, labels):
    from benchmarks.datasets import fashion1m_image_of_row

    knn = np.load(args.knn or args.stem + "-knn.npy")[:, :15]
    queries = np.random.RandomState(1).choice(len(data), 2000, replace=False)
    squares = (data.astype(np.float64) ** 2).sum(axis=1)
    exact = np.empty((len(queries), 15), np.int64)
    for first in range(0, len(queries), 100):
        block = queries[first:first + 100]
        dist = squares[block, None] - 2.0 * (data[block] @ data.T) + squares[None, :]
        nearest = np.argpartition(dist, 15, axis=1)[:, :15]
        exact[first:first + 100] = nearest
    hits = [len(set(found) & set(true)) for found, true in zip(knn[queries], exact)]
    image = fashion1m_image_of_row(len(data))
    same = (image[exact] == image[queries][:, None]).sum(axis=1) - 1
    print(f"recall@15 {np.mean(hits) / 15:.4f} over {len(queries)} rows; exact neighbours "
          f"that are copies of the row's own image: {same.mean():.2f} of 14")


def eigen(args, data, labels):
    import scipy.sparse.csgraph
    import scipy.sparse.linalg

    from umapx.init import _normalised_adjacency

    graph = scipy.sparse.load_npz(args.stem + "-graph.npz")
    _, component = scipy.sparse.csgraph.connected_components(graph, directed=False)
    members = np.flatnonzero(component == np.argmax(np.bincount(component)))
    adjacency, _ = _normalised_adjacency(graph[members][:, members].astype(np.float64))
    for ncv, tol in ((16, 1e-4), (64, 1e-6)):  # umapx's settings, then a tight solve
        v0 = np.random.RandomState(0).uniform(-1.0, 1.0, size=adjacency.shape[0])
        cpu = time.process_time()
        values, vectors = scipy.sparse.linalg.eigsh(adjacency, k=3, which="LA", ncv=ncv,
                                                    tol=tol, v0=v0)
        residuals = np.linalg.norm(adjacency @ vectors - vectors * values, axis=0)
        start = vectors[:, np.argsort(values)[::-1][1:]]
        print(f"ncv {ncv}, tol {tol:g}: {time.process_time() - cpu:.1f} CPU s, eigenvalues "
              f"{np.sort(values)[::-1]}, residuals {residuals}; start: "
              f"{_quality(data[members], labels[members], start)}")


def start(args, data, labels):
    import scipy.sparse
    from sklearn.utils import check_random_state

    from umapx._rng import seed_from
    from umapx.init import initial_layout

    graph_path = Path(args.graph or args.stem + "-graph.npz").resolve()
    graph = scipy.sparse.load_npz(graph_path).tocsr()
    rng = check_random_state(42)
    seed_from(rng), seed_from(rng)  # the k-NN and layout seeds drawn before the init
    cpu = time.process_time()
    begin = initial_layout("spectral", graph, 2, rng, data=data)
    cpu = time.process_time() - cpu
    stem = f"{args.out}/start-{args.rows}"
    np.save(stem + "-init.npy", begin)
    link = Path(stem + "-graph.npz")
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(graph_path)
    print(f"start ({cpu:.0f} CPU s): {_quality(data, labels, begin)}; saved as {stem}")


def cross(args, data, labels):
    import umap

    knn = np.load(args.stem + "-knn.npy")[:, :15].astype(np.int64)
    dist = np.sqrt(((data[knn] - data[:, None, :]) ** 2).sum(-1, dtype=np.float64))
    order = np.argsort(dist, axis=1, kind="stable")
    knn, dist = np.take_along_axis(knn, order, 1), np.take_along_axis(dist, order, 1)
    start = np.load(args.stem + "-init.npy").astype(np.float64)
    mapper = umap.UMAP(random_state=42, precomputed_knn=(knn, dist.astype(np.float32), None),
                       init=start).fit(data)
    print(f"umap-learn layout from umapx's k-NN and start: "
          f"{_quality(data, labels, mapper.embedding_)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["fit", "recall", "eigen", "cross", "start"])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--out", default="/tmp/fashion1m-stages", help="folder of stage outputs")
    parser.add_argument("--knn", default=None, help="recall: k-NN indices (.npy) to check")
    parser.add_argument("--graph", default=None, help="start: a saved graph (.npz)")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    args.stem = f"{args.out}/umapx-{args.rows}"
    data, labels = load_scale("fashion1m", args.rows)
    steps = {"fit": fit, "recall": recall, "eigen": eigen, "cross": cross, "start": start}
    steps[args.step](args, data, labels)


if __name__ == "__main__":
    main()

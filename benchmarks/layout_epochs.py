"""Time the layout's epochs alone on the fuzzy graph of a blobs prefix or of Fashion-MNIST.

    python benchmarks/layout_epochs.py --rows 200000 --epochs 20
    python benchmarks/layout_epochs.py --data fashion --epochs 200   # a whole Fashion layout

The pruned graph and the starting layout are computed once per size and cached beside the
scale datasets (``$UMAPX_BENCH_CACHE``), so two versions of umapx can be compared on the same
input: run the command with ``PYTHONPATH=<other checkout>/src`` for the other one (the cache
written by either is valid for both as long as the graph code is the same). Prints wall and
CPU seconds per epoch; the sampling schedule is the one of a 200-epoch fit (a period depends
only on the edge's weight relative to the strongest), so the cost per epoch is that of a fit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.datasets import CACHE, load, load_scale  # noqa: E402


def layout_input(rows, data_name="blobs"):
    """``(pruned graph, normalised start)`` of the blobs prefix (random start) or of the
    Fashion-MNIST training images (``rows`` ignored; the spectral start of a seeded fit),
    cached."""
    import umapx
    from umapx.layout import normalise_layout, prune_weak_edges

    name = f"blobs-{rows}" if data_name == "blobs" else "fashion"
    graph_file = CACHE / f"layout-{name}-graph.npz"
    start_file = CACHE / f"layout-{name}-start.npy"
    if not graph_file.exists():
        if data_name == "blobs":
            data, _ = load_scale("blobs", rows)
            init = "random"
        else:
            data, init = load("fashion")[0], "spectral"
        mapper = umapx.UMAP(random_state=0, n_epochs=0, init=init).fit(data)
        CACHE.mkdir(parents=True, exist_ok=True)
        scipy.sparse.save_npz(graph_file, prune_weak_edges(mapper.graph_, 200))
        np.save(start_file, normalise_layout(mapper.embedding_))
    return scipy.sparse.load_npz(graph_file).tocsr(), np.load(start_file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data", choices=["blobs", "fashion"], default="blobs",
                        help="blobs: a prefix of --rows rows; fashion: the 60000 training "
                             "images")
    args = parser.parse_args(argv)

    import umapx
    from umapx.curve import find_ab_params
    from umapx.layout import optimize_layout

    graph, start = layout_input(args.rows, args.data)
    a, b = find_ab_params(1.0, 0.1)

    def run(n_epochs):
        return optimize_layout(start, graph, n_epochs=n_epochs, a=a, b=b, repulsion_strength=1.0,
                               learning_rate=1.0, negative_sample_rate=5, seed=123)

    run(2)  # compile
    wall, cpu = time.perf_counter(), time.process_time()
    run(args.epochs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"umapx {umapx.__file__}: {args.data}, {start.shape[0]} rows, {graph.nnz} edges, "
          f"{args.epochs} epochs: "
          f"{wall / args.epochs * 1e3:.1f} ms wall, {cpu / args.epochs * 1e3:.1f} ms CPU an "
          "epoch")


if __name__ == "__main__":
    main()

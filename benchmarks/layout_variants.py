"""Which layout schedule loses trustworthiness on a ``fashion1m`` prefix (issue 12).

    python benchmarks/fashion1m_stages.py fit --rows 100000 --out /tmp/stages   # graph, start
    NUMBA_NUM_THREADS=1 python benchmarks/layout_variants.py --rows 100000 \\
        --stem /tmp/stages/umapx-100000 --variants jacobi,blocks16,default,umap-learn \\
        --seeds 0,1,2

Every variant runs 200 epochs from the same pruned graph and normalised spectral start (umapx's
own, saved by ``fashion1m_stages.py fit``) and prints one JSON line: trust@15 on a 10k sample
and 10-NN accuracy on the first 100k rows. ``jacobi``: umapx's epoch kernel with one block
(every vertex reads the start-of-epoch positions); ``blocksK``: K blocks of consecutive rows
(block Gauss-Seidel, :func:`umapx.layout.fit_epoch`); ``default``: the blocks of
:func:`umapx.layout.layout_blocks`. All run :func:`umapx.layout.optimize_layout`, the fit's own
path, moving both ends of a sampled edge or heads only as a fit of that many rows does
(``umapx.layout.BOTH_ENDS_ROWS``); a suffix ``-both`` or ``-heads`` (``default-both``,
``blocks16-heads``) forces one. ``umap-learn``:
umap-learn's ``optimize_layout_euclidean`` on the same graph and start (extra ``bench``). The
``sequential`` variant of session 6 (the head-only kernel run in place on one thread) is gone
with the head-only fit kernels. Quality runs, not timings: run them at ``nice -n 10``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.datasets import load_scale  # noqa: E402

N_EPOCHS = 200


def _umapx_layout(start, graph, seed, blocks, both_ends=None):
    """:func:`umapx.layout.optimize_layout` (the fit's path) with the epoch split into
    ``blocks``; ``both_ends`` True / False forces both ends / heads only (None: as a fit of
    that many rows does)."""
    from umapx import layout
    from umapx.curve import find_ab_params

    a, b = find_ab_params(1.0, 0.1)
    default_blocks, default_rows = layout.layout_blocks, getattr(layout, "BOTH_ENDS_ROWS", None)
    layout.layout_blocks = lambda rows, anchored=False: blocks
    if both_ends is not None:
        layout.BOTH_ENDS_ROWS = 0 if both_ends else np.inf
    try:
        return layout.optimize_layout(start, graph, n_epochs=N_EPOCHS, a=a, b=b,
                                      repulsion_strength=1.0, learning_rate=1.0,
                                      negative_sample_rate=5, seed=np.uint64(seed))
    finally:
        layout.layout_blocks, layout.BOTH_ENDS_ROWS = default_blocks, default_rows


def umap_learn_layout(start, graph, seed, n_epochs=N_EPOCHS, a=None, b=None):
    """umap-learn's ``optimize_layout_euclidean`` (both ends, one thread) of the pruned
    ``graph`` from ``start``, seeded by ``seed``; ``a``, ``b``: umap-learn's curve of
    ``min_dist=0.1`` unless given."""
    import umap.umap_ as reference

    coo = graph.tocoo()
    if a is None or b is None:
        a, b = reference.find_ab_params(1.0, 0.1)
    rng_state = np.random.RandomState(seed).randint(
        np.iinfo(np.int32).min, np.iinfo(np.int32).max, 3).astype(np.int64)
    embedding = start.copy()
    return reference.optimize_layout_euclidean(
        embedding, embedding, coo.row, coo.col, n_epochs, start.shape[0],
        reference.make_epochs_per_sample(coo.data, n_epochs), a, b, rng_state, 1.0, 1.0, 5.0,
        parallel=False, move_other=True)


def main():
    from umapx import evaluation
    from umapx.layout import layout_blocks, normalise_layout, prune_weak_edges

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stem", required=True, help="fashion1m_stages.py fit outputs")
    parser.add_argument("--variants", default="jacobi,default")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    data, labels = load_scale("fashion1m", args.rows)
    graph = scipy.sparse.load_npz(args.stem + "-graph.npz").tocsr().astype(np.float32)
    graph.eliminate_zeros()
    graph = prune_weak_edges(graph, N_EPOCHS)
    start = normalise_layout(np.load(args.stem + "-init.npy"))
    rows = start.shape[0]
    for variant in args.variants.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            cpu, wall = time.process_time(), time.perf_counter()
            if variant == "umap-learn":
                embedding = umap_learn_layout(start, graph, seed)
            else:
                name, _, ends = variant.partition("-")
                count = {"jacobi": 1, "default": len(layout_blocks(rows)) - 1}.get(name)
                count = count or int(name.removeprefix("blocks"))
                blocks = np.array([k * rows // count for k in range(count + 1)], np.int64)
                embedding = _umapx_layout(start, graph, seed, blocks,
                                          {"both": True, "heads": False}.get(ends))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(json.dumps({
                "rows": rows, "variant": variant, "seed": seed, "layout_cpu_s": round(cpu, 1),
                "layout_wall_s": round(wall, 1),
                "trust15": round(evaluation.trustworthiness(data, embedding,
                                                            sample_size=10_000), 4),
                "knn10_accuracy": round(evaluation.knn_accuracy(embedding[:100_000],
                                                                labels[:100_000]), 4),
            }), flush=True)


if __name__ == "__main__":
    main()

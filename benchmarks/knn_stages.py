"""Where the NN-descent k-NN of a dataset spends its CPU time, and its recall.

    NUMBA_NUM_THREADS=1 python benchmarks/knn_stages.py [--dataset fashion] [--seed 12345]
                                                        [n_trees=8 leaf_size=30 ...]

Builds the k-NN graph (k = 15) of the dataset's training rows once to load the kernels (on the
first 20,000 rows), then times one build phase by phase in CPU seconds of the process (steady on
a busy machine, unlike wall time; with one numba thread they are the work itself, without idle
threads spinning at barriers), and measures recall@15 against exact neighbours of 1000 rows.
Extra ``name=value`` arguments are passed to ``NeighborIndex.build`` (``n_trees``,
``leaf_size``, ``max_candidates``, ``n_iters``, ``delta``).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

from umapx.knn import NeighborIndex, nndescent
from umapx.metrics import resolve_metric

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PHASES = ("_build_forest", "take_rows", "_join_leaves", "_fill_short_heaps", "_build_candidates",
          "_local_join", "_apply_proposals", "_sort_heaps")


def _timed_phases():
    """Wrap the module-level phases of NN-descent so that their CPU seconds add up."""
    spent = collections.defaultdict(float)
    for name in PHASES:
        original = getattr(nndescent, name)

        def timed(*args, _original=original, _name=name, **kwargs):
            start = time.process_time()
            result = _original(*args, **kwargs)
            spent[_name] += time.process_time() - start
            return result

        setattr(nndescent, name, timed)
    return spent


def _recall(data, found, seed):
    sample = np.random.default_rng(seed).choice(data.shape[0], 1000, replace=False)
    squares = (data.astype(np.float64) ** 2).sum(axis=1)
    distances = squares[sample, None] + squares[None, :] - 2.0 * (
        data[sample].astype(np.float64) @ data.T.astype(np.float64))
    exact = np.argsort(distances, axis=1)[:, :15]
    hits = sum(len(set(exact[row]) & set(found[i])) for row, i in enumerate(sample))
    return hits / (15 * len(sample))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("settings", nargs="*", help="name=value passed to NeighborIndex.build")
    args = parser.parse_args()
    settings = {}
    for item in args.settings:
        name, value = item.split("=")
        settings[name] = float(value) if name == "delta" else int(value)
    from benchmarks.datasets import load

    data = load(args.dataset)[0].astype(np.float32)
    metric = resolve_metric("euclidean").bind(data)
    spent = _timed_phases()
    NeighborIndex.build(data[:20000], 15, metric, method="nndescent", seed=1)
    spent.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    _, found, _ = NeighborIndex.build(data, 15, metric, method="nndescent", seed=args.seed,
                                      **settings)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{args.dataset} {data.shape}, {settings or 'default settings'}: k-NN CPU {cpu:.2f} s, "
          f"wall {wall:.2f} s")
    print("  " + ", ".join(f"{name.lstrip('_')} {spent[name]:.2f}" for name in PHASES))
    print(f"  recall@15 against exact (1000 rows): {_recall(data, found, 0):.4f}")


if __name__ == "__main__":
    main()

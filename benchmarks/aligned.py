"""AlignedUMAP, model algebra and update: quality (and provisional time) of umapx beside
umap-learn on the same data.

    python benchmarks/aligned.py [--dataset digits|mnist10k] [--seeds 0,1,2]
                                 [--modes aligned,algebra,update] [--libraries umapx,umap-learn]

Every measurement (library, mode, seed) runs in a fresh process (this script with ``--one``);
each library is warmed up on a small problem first, so times are of warm runs. Measures:

* ``aligned``: four overlapping windows of the rows sorted along one feature (the layout of
  umap-learn's AlignedUMAP examples), related by the rows they share. Alignment error: the
  mean distance between related points of consecutive slices, over the slice's layout extent
  (lower is better); per slice: trustworthiness (15 neighbours) and 10-NN label accuracy,
  averaged over slices.
* ``algebra``: models with ``n_neighbors=10`` (euclidean) and ``n_neighbors=30`` (cosine) of
  the same rows; trustworthiness of ``+``, ``*``, ``-``.
* ``update``: a model of 70% of the rows (a random choice per seed) updated with the rest
  (umap-learn 0.5.12's update fails with a ZeroDivisionError when a new row has only new rows
  among its neighbours, as with digits' last 30% in their own order); trustworthiness and
  10-NN accuracy of all rows, and how far the old points moved (median shift over the layout
  extent). umap-learn's ``update`` runs zero epochs by default (the new points stay at their
  neighbours' mean), which is what is measured for it.

Prints medians over the seeds; results also go to ``benchmarks/results/aligned-*.json``.
Timings on a shared machine are provisional: take them under ``flock /tmp/umapx-timing.lock``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _windows(data, labels, n_slices=4, size_share=0.4, step_share=0.2, seed=0):
    rng = np.random.RandomState(seed)
    spread = data.std(axis=0)
    feature = int(np.argmax(spread))
    order = np.argsort(data[:, feature] + rng.normal(0, 0.25 * spread[feature], len(data)))
    size, step = int(size_share * len(data)), int(step_share * len(data))
    windows = [order[i * step:i * step + size] for i in range(n_slices)]
    relations = []
    for first, second in zip(windows[:-1], windows[1:]):
        position = {row: j for j, row in enumerate(second)}
        relations.append({i: position[row] for i, row in enumerate(first) if row in position})
    return [data[w] for w in windows], [labels[w] for w in windows], relations


def _one(library, mode, dataset, seed):
    """One measurement in this process: a dict of numbers."""
    from benchmarks.datasets import as_float32, load
    from umapx.evaluation import alignment_error, knn_accuracy, trustworthiness

    module = __import__("umapx" if library == "umapx" else "umap")
    data, labels, _, _ = load(dataset)
    data, = as_float32(data)
    warnings.simplefilter("ignore")
    warm = data[:300]
    if mode == "aligned":
        slices, slice_labels, relations = _windows(data, labels)
        warm_slices, _, warm_relations = _windows(warm, labels[:300])
        module.AlignedUMAP(n_epochs=5, random_state=0).fit(warm_slices, relations=warm_relations)
        began = time.perf_counter()
        model = module.AlignedUMAP(random_state=seed).fit(slices, relations=relations)
        seconds = time.perf_counter() - began
        embeddings = model.embeddings_
        return {"fit_s": seconds,
                "alignment_error": float(np.mean(alignment_error(embeddings, relations))),
                "trustworthiness": float(np.mean([trustworthiness(x, e) for x, e in
                                                  zip(slices, embeddings)])),
                "knn_accuracy": float(np.mean([knn_accuracy(e, y) for e, y in
                                               zip(embeddings, slice_labels)]))}
    if mode == "algebra":
        first = module.UMAP(n_neighbors=10, random_state=seed).fit(data)
        second = module.UMAP(n_neighbors=30, metric="cosine", random_state=seed + 1).fit(data)
        result = {}
        for name, operation in (("union", "__add__"), ("intersection", "__mul__"),
                                ("contrast", "__sub__")):
            began = time.perf_counter()
            combined = getattr(first, operation)(second)
            result[f"{name}_s"] = time.perf_counter() - began
            result[f"{name}_trust"] = trustworthiness(data, combined.embedding_)
        return result
    if mode == "update":
        # rows in a random order: with the rows' own order some new rows have only new
        # neighbours, and umap-learn 0.5.12's update divides by zero on them
        order = np.random.RandomState(seed).permutation(len(data))
        data, labels = data[order], labels[order]
        cut = int(0.7 * len(data))
        module.UMAP(n_epochs=5, random_state=0).fit(warm[:200]).update(warm[200:])
        model = module.UMAP(random_state=seed).fit(data[:cut])
        before = np.array(model.embedding_)
        began = time.perf_counter()
        model.update(data[cut:])
        seconds = time.perf_counter() - began
        after = np.array(model.embedding_)
        shift = np.linalg.norm(after[:cut] - before, axis=1)
        return {"update_s": seconds, "trustworthiness": trustworthiness(data, after),
                "knn_accuracy": knn_accuracy(after, labels),
                "old_shift": float(np.median(shift) / np.ptp(before, axis=0).max())}
    raise SystemExit(f"unknown mode {mode!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--modes", default="aligned,algebra,update")
    parser.add_argument("--libraries", default="umapx,umap-learn")
    parser.add_argument("--one", nargs=3, metavar=("LIBRARY", "MODE", "SEED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        library, mode, seed = args.one
        print(json.dumps(_one(library, mode, args.dataset, int(seed))))
        return
    rows = []
    for mode in args.modes.split(","):
        for library in args.libraries.split(","):
            runs = []
            for seed in args.seeds.split(","):
                done = subprocess.run(
                    [sys.executable, __file__, "--dataset", args.dataset, "--one", library,
                     mode, seed], capture_output=True, text=True, cwd=ROOT)
                if done.returncode != 0:
                    print(f"{library} {mode} seed {seed} failed: "
                          f"{done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                    continue
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            if runs:
                medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                rows.append({"mode": mode, "library": library, "runs": len(runs), **medians})
                print(f"{mode:8s} {library:10s} " + "  ".join(
                    f"{key} {value:.4f}" for key, value in medians.items()), flush=True)
    out = ROOT / "benchmarks" / "results" / f"aligned-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    print(f"results written to {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

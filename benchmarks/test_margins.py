"""The statistics the seed-dependent tests assert, over many seeds and emulated CPUs.

    python benchmarks/test_margins.py [--seeds 8] [--targets host,haswell,generic]
                                      [--slow]   (also the MNIST-10k inverse statistics)

Each CPU target (``benchmarks/targets.py``) runs in a fresh process; each statistic is
computed for seeds 0..N-1 and printed as min / median / max over every run, beside the
threshold its test uses. The tests' docstrings quote these figures: a threshold must sit
clearly outside the measured range, so that a test holds on any machine and any seed, and
fails only on a real regression.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# statistic -> (test, how the test compares it)
THRESHOLDS = {
    "digits trustworthiness": ("test_estimator::test_digits_quality", "> 0.97"),
    "digits 10-NN accuracy": ("test_estimator::test_digits_quality", "> 0.95"),
    "digits transform accuracy": ("test_estimator::test_digits_quality", "> 0.88"),
    "inverse MSE / mean-sample MSE": ("test_inverse::test_reconstructs_held_out_digits",
                                      "< 0.5"),
    "inverse labels kept": ("test_inverse::test_reconstructs_held_out_digits", "> 0.85"),
    "inverse novelty": ("test_inverse::test_reconstructs_held_out_digits", "in [0.5, 1.5]"),
    "inverse round trip": ("test_inverse::test_reconstructs_held_out_digits", "< 10"),
    "worst metric inverse MSE ratio": ("test_inverse::test_metrics_with_an_inverse", "< 0.7"),
    "NN-descent recall (digits)": ("test_knn::test_nndescent_recall_at_15", ">= 0.95"),
    "scale test: min trustworthiness": ("test_estimator::test_the_data_scale_does_not_matter",
                                        "> 0.95"),
    "scale test: trustworthiness gap": ("test_estimator::test_the_data_scale_does_not_matter",
                                        "< 0.02"),
    "grid points outside (of 16)": ("test_plot::test_inverse_grid_draws_the_tutorial_figure",
                                    "< 16"),
    "MNIST inverse MSE": ("test_inverse::test_mnist_inverse_quality (slow)", "< 0.045"),
    "MNIST inverse labels kept": ("test_inverse::test_mnist_inverse_quality (slow)", "> 0.8"),
    "MNIST inverse novelty": ("test_inverse::test_mnist_inverse_quality (slow)",
                              "in [0.5, 1.5]"),
}
INVERSE_METRICS = ["euclidean", "cosine", "manhattan", "correlation", "chebyshev", "minkowski",
                   "canberra", "braycurtis"]


def statistics(seed, slow):
    """Every statistic for one seed (run inside a worker process)."""
    import umapx
    from umapx import evaluation
    from umapx.datasets import load_digits
    from umapx.geometry import default_corners, grid_points
    from umapx.inverse import LOW_CONFIDENCE
    from umapx.knn import NeighborIndex
    from umapx.metrics import resolve_metric

    data, labels = load_digits()
    data = (data / 16.0).astype(np.float32)
    found = {}
    mapper = umapx.UMAP(random_state=seed).fit(data[:1500])
    found["digits trustworthiness"] = evaluation.trustworthiness(data[:1500], mapper.embedding_)
    found["digits 10-NN accuracy"] = evaluation.knn_accuracy(mapper.embedding_, labels[:1500])
    found["digits transform accuracy"] = evaluation.transform_accuracy(
        mapper.embedding_, labels[:1500], mapper.transform(data[1500:]), labels[1500:])
    _, confidence = mapper.inverse_transform(grid_points(default_corners(mapper.embedding_), 4),
                                             return_confidence=True)
    found["grid points outside (of 16)"] = int(np.sum(confidence < LOW_CONFIDENCE))
    quality = evaluation.inverse_quality(mapper.transform, mapper.inverse_transform, data[:1500],
                                         labels[:1500], mapper.embedding_, data[1500:],
                                         labels[1500:])
    baseline = evaluation.reconstruction_mse(data[1500:], np.tile(data[:1500].mean(0), (297, 1)))
    found["inverse MSE / mean-sample MSE"] = quality["mse"] / baseline
    found["inverse labels kept"] = quality["label_preservation"]
    found["inverse novelty"] = quality["novelty"]
    found["inverse round trip"] = quality["round_trip"]

    ratios = []
    baseline = evaluation.reconstruction_mse(data[800:900], np.tile(data[:800].mean(0), (100, 1)))
    for metric in INVERSE_METRICS:
        model = umapx.UMAP(metric=metric, random_state=seed, n_epochs=100).fit(data[:800])
        samples = model.inverse_transform(model.transform(data[800:900]))
        ratios.append(evaluation.reconstruction_mse(data[800:900], samples) / baseline)
    found["worst metric inverse MSE ratio"] = max(ratios)

    euclidean = resolve_metric("euclidean")
    _, approx, _ = NeighborIndex.build(data, 15, euclidean, method="nndescent", seed=seed)
    _, exact, _ = NeighborIndex.build(data, 15, euclidean, method="exact")
    found["NN-descent recall (digits)"] = float(np.mean(
        [len(set(a) & set(e)) / 15 for a, e in zip(approx, exact)]))

    small, large = (umapx.UMAP(random_state=seed, n_epochs=100).fit(data[:600] * scale)
                    for scale in (1.0, 256.0))
    trust = [evaluation.trustworthiness(data[:600], m.embedding_) for m in (small, large)]
    found["scale test: min trustworthiness"] = min(trust)
    found["scale test: trustworthiness gap"] = abs(trust[0] - trust[1])

    if slow:
        from benchmarks.datasets import as_float32, load

        train, train_labels, test, test_labels = as_float32(*load("mnist10k"))
        model = umapx.UMAP(random_state=seed).fit(train)
        quality = evaluation.inverse_quality(model.transform, model.inverse_transform, train,
                                             train_labels, model.embedding_, test[:500],
                                             test_labels[:500])
        found["MNIST inverse MSE"] = quality["mse"]
        found["MNIST inverse labels kept"] = quality["label_preservation"]
        found["MNIST inverse novelty"] = quality["novelty"]
    return {name: float(value) for name, value in found.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--targets", default="host,haswell,generic")
    parser.add_argument("--slow", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        warnings.simplefilter("ignore")
        print(json.dumps([statistics(seed, args.slow) for seed in range(args.seeds)]))
        return

    from benchmarks.targets import environment

    runs = {}
    for target in args.targets.split(","):
        command = [sys.executable, __file__, "--worker", "--seeds", str(args.seeds)]
        command += ["--slow"] if args.slow else []
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True,
                              env={**__import__("os").environ, **environment(target)})
        runs[target] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {target}: {len(runs[target])} seeds", file=sys.stderr)
    print(f"{'statistic':34s} {'min':>8s} {'median':>8s} {'max':>8s}  "
          f"{'min per target':28s} threshold (test)")
    for name, (test, threshold) in THRESHOLDS.items():
        per_target = {t: [seed[name] for seed in r if name in seed] for t, r in runs.items()}
        values = np.array([v for vs in per_target.values() for v in vs])
        if not len(values):
            continue
        mins = " ".join(f"{min(vs):.4f}" for vs in per_target.values())
        print(f"{name:34s} {values.min():8.4f} {np.median(values):8.4f} {values.max():8.4f}  "
              f"{mins:28s} {threshold} ({test})")


if __name__ == "__main__":
    main()

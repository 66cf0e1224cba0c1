"""``run.py spread``: umapx's quality over seeds and emulated CPUs."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, table, worker


def suite_spread(args, libs):
    """umapx's quality over seeds and emulated CPUs (``benchmarks/targets.py``): the
    distribution the real-data tests' thresholds are set from."""
    import numpy as np

    from benchmarks.targets import environment

    rows = []
    for dataset in args.datasets:
        for target in args.targets:
            for seed in args.seeds:
                result = worker("quality", "umapx", dataset, "--seed", seed,
                                env=environment(target))
                rows.append({"dataset": dataset, "target": target, **result})
                print(f"  {dataset} / {target} / seed {seed}: "
                      f"{brief(result, 'transform_accuracy')}", file=sys.stderr)
    summary = []
    for dataset in args.datasets:
        runs = [r for r in rows if r["dataset"] == dataset and "error" not in r]
        for measure in ("trustworthiness", "knn_accuracy", "transform_accuracy"):
            values = np.array([r[measure] for r in runs])
            if not len(values):
                continue
            line = {"dataset": dataset, "measure": measure, "runs": len(values),
                    "min": values.min(), "median": np.median(values), "max": values.max(),
                    "std": values.std()}
            for target in args.targets:
                mine = [r[measure] for r in runs if r["target"] == target]
                line[target] = min(mine) if mine else None
            summary.append(line)
    print(f"\nquality over seeds {args.seeds} x CPU targets {args.targets} (one fresh process "
          "each); the last columns: the minimum on each target")
    table(summary, [("dataset", "dataset", None), ("measure", "measure", None),
                    ("runs", "runs", None), ("min", "min", "{:.4f}"),
                    ("median", "median", "{:.4f}"), ("max", "max", "{:.4f}"),
                    ("std", "std", "{:.4f}"),
                    *[(target, f"min {target}", "{:.4f}") for target in args.targets]])
    return rows + summary

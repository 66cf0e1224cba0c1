"""``run.py sparse``: sparse TF-IDF fits per metric."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, ratio, table, worker


def suite_sparse(args, libs):
    """Sparse TF-IDF fit: time, quality and peak memory, per metric, umapx beside umap-learn."""
    rows = []
    settings = [None] if args.low_memory is None else args.low_memory
    for dataset, metric, low_memory in [(d, m, low) for d in args.datasets
                                        for m in args.metrics for low in settings]:
        results = {}
        for lib in libs:
            common = ["--metric", metric, "--seeded" if args.seeded else "--no-seeded"]
            if low_memory is not None:
                common.append("--low-memory" if low_memory else "--no-low-memory")
            result = worker("sparse", lib, dataset, "--repeats", args.repeats, *common)
            memory = worker("sparse-memory", lib, dataset, *common)
            result.update({key: value for key, value in memory.items()
                           if key not in result})
            if "matrix_mb" in result:
                result["budget_mb"] = 1.5 * (result["matrix_mb"] + result["graph_mb"])
            results[lib] = result
            print(f"  {dataset} {metric} / {lib}: {brief(result, 'fit_median_s')}",
                  file=sys.stderr)
        anchor = results.get("umap-learn", {})
        for lib, result in results.items():
            row = {"dataset": dataset, "metric": metric, "library": lib,
                   "low_memory": low_memory, **result}
            if lib == "umapx" and "error" not in anchor and "error" not in result:
                row["fit_ratio"] = ratio(anchor.get("fit_median_s"),
                                         result.get("fit_median_s"))
                row["trust_diff"] = (result.get("trustworthiness", 0)
                                     - anchor.get("trustworthiness", 0))
            row["stages"] = " ".join(f"{k}={v:.2f}"
                                     for k, v in result.get("stages_s", {}).items())
            rows.append(row)
    print(f"\nsparse fit ({'seeded' if args.seeded else 'unseeded'}), medians of {args.repeats} "
          "warm runs; memory: peak RSS increase over the fit (code loaded), budget = 1.5 x "
          "(matrix + graph_)")
    table(rows, [("dataset", "dataset", None), ("metric", "metric", None),
                 ("library", "library", None), ("low_memory", "low_memory", None),
                 ("fit_median_s", "fit s", "{:.2f}"), ("fit_cpu_median_s", "fit CPU s", "{:.2f}"),
                 ("fit_ratio", "ratio", None), ("trustworthiness", "trust@15", "{:.4f}"),
                 ("trust_diff", "diff", "{:+.4f}"), ("knn_accuracy", "topic 10-NN acc", "{:.4f}"),
                 ("fit_increase_mb", "fit +RSS MB", "{:.0f}"), ("budget_mb", "budget MB", "{:.0f}"),
                 ("matrix_mb", "matrix MB", "{:.1f}"), ("graph_mb", "graph MB", "{:.1f}"),
                 ("stages", "umapx stages s", None), ("error", "error", None)])
    return rows

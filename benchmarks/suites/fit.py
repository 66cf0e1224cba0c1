"""``run.py fit``: fit and transform times side by side, with quality."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, ratio, table, worker


def suite_fit(args, libs):
    rows = []
    for dataset in args.datasets:
        results = {}
        for lib in libs:
            flags = ["--repeats", args.repeats, "--seeded" if args.seeded else "--no-seeded"]
            results[lib] = worker("fit", lib, dataset, *flags)
            print(f"  {dataset} / {lib}: {brief(results[lib], 'fit_median_s')}", file=sys.stderr)
        anchor = results.get("umap-learn", {})
        for lib, result in results.items():
            row = {"dataset": dataset, "library": lib, **result}
            if lib == "umapx" and "error" not in anchor and "error" not in result:
                row["fit_ratio"] = ratio(anchor.get("fit_median_s"), result.get("fit_median_s"))
                row["transform_ratio"] = ratio(anchor.get("transform_median_s"),
                                               result.get("transform_median_s"))
            row["stages"] = " ".join(f"{k}={v:.2f}" for k, v in result.get("stages_s", {}).items())
            rows.append(row)
    print(f"\nfit / transform ({'seeded' if args.seeded else 'unseeded'}), medians of "
          f"{args.repeats} warm runs; ratio = umap-learn time / umapx time")
    table(rows, [("dataset", "dataset", None), ("library", "library", None),
                 ("fit_median_s", "fit s", "{:.2f}"), ("fit_ratio", "ratio", None),
                 ("fit_cpu_median_s", "fit CPU s", "{:.2f}"),
                 ("transform_median_s", "transform s", "{:.2f}"),
                 ("transform_ratio", "ratio", None),
                 ("trustworthiness", "trust@15", "{:.4f}"),
                 ("knn_accuracy", "10-NN acc", "{:.4f}"),
                 ("transform_accuracy", "transform acc", "{:.4f}"),
                 ("stages", "umapx stages s", None), ("error", "error", None)])
    return rows

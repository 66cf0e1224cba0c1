"""``run.py compat`` and ``run.py variants``: umap-learn's modes on the same input for both
libraries, side by side."""

from __future__ import annotations

import itertools
import sys

from benchmarks.suites.common import brief, ratio, table, worker

COMPAT_MODES = "precomputed-dense,precomputed-sparse,precomputed-knn"


VARIANT_MODES = "densmap,regression,ordinal,unique"


def _modes_side_by_side(task, args, libs, differences):
    """One warm fit per (dataset, mode, seed, library) in worker ``task``; a umapx row also gets
    the fit-time ratio and, for each key of ``differences``, umapx's value minus umap-learn's
    (as ``differences[key]``)."""
    rows = []
    for dataset, mode, seed in itertools.product(args.datasets, args.modes, args.seeds):
        results = {lib: worker(task, lib, dataset, "--mode", mode, "--seed", seed,
                               "--seeded" if args.seeded else "--no-seeded")
                   for lib in libs}
        anchor = results.get("umap-learn", {})
        for lib, result in results.items():
            row = {"dataset": dataset, "mode": mode, "library": lib, "seed": seed, **result}
            if lib == "umapx" and "error" not in anchor and "error" not in result:
                row["fit_ratio"] = ratio(anchor.get("fit_median_s"), result["fit_median_s"])
                for key, name in differences.items():
                    if result.get(key) is not None and anchor.get(key) is not None:
                        row[name] = result[key] - anchor[key]
            rows.append(row)
            print(f"  {dataset} {mode} seed {seed} / {lib}: "
                  f"{brief(result, 'fit_median_s')}", file=sys.stderr)
    return rows


def _medians_over_seeds(rows, measures):
    """One row per (dataset, mode, library): the median of each measure over its seeds."""
    import numpy as np

    groups = {}
    for row in rows:
        if "error" not in row:
            groups.setdefault((row["dataset"], row["mode"], row["library"]), []).append(row)
    summary = []
    for (dataset, mode, library), runs in groups.items():
        line = {"dataset": dataset, "mode": mode, "library": library, "seeds": len(runs)}
        for measure in measures:
            values = [run[measure] for run in runs if run.get(measure) is not None]
            if values:
                line[measure] = float(np.median(values))
        summary.append(line)
    return summary


def suite_compat(args, libs):
    """umap-learn's modes on the same input for both libraries: quality side by side."""
    rows = _modes_side_by_side("compat", args, libs, {"trustworthiness": "trust_difference"})
    print("\numap-learn modes on the same input (one warm fit each); trust difference = umapx - "
          "umap-learn")
    table(rows, [("dataset", "dataset", None), ("mode", "mode", None),
                 ("library", "library", None), ("fit_median_s", "fit s", "{:.2f}"),
                 ("fit_ratio", "ratio", None), ("transform_median_s", "transform s", "{:.2f}"),
                 ("trustworthiness", "trust@15", "{:.4f}"),
                 ("trust_difference", "trust diff", "{:+.4f}"),
                 ("knn_accuracy", "10-NN acc", "{:.4f}"),
                 ("transform_accuracy", "transform acc", "{:.4f}"),
                 ("transform_error", "transform error", None), ("error", "error", None)])
    return rows


def suite_variants(args, libs):
    """densMAP, supervised targets and unique=True on the same input for both libraries."""
    rows = _modes_side_by_side("variants", args, libs, {
        key: key + "_diff" for key in ("trustworthiness", "density_correlation", "target_order")})
    print("\nvariants on the same input (one warm fit each); diff = umapx - umap-learn; "
          "density corr: data vs embedding local radii (evaluation.density_correlation); "
          "target order: Spearman of |y_i - y_j| vs embedding distance (training / new points)")
    table(rows, [("dataset", "dataset", None), ("mode", "mode", None),
                 ("library", "library", None), ("fit_median_s", "fit s", "{:.2f}"),
                 ("fit_ratio", "ratio", None), ("transform_median_s", "transform s", "{:.2f}"),
                 ("trustworthiness", "trust@15", "{:.4f}"),
                 ("trustworthiness_diff", "trust diff", "{:+.4f}"),
                 ("density_correlation", "density corr", "{:.3f}"),
                 ("density_correlation_diff", "diff", "{:+.3f}"),
                 ("target_order", "target order", "{:.3f}"),
                 ("target_order_diff", "diff", "{:+.3f}"),
                 ("target_order_new", "new pts", "{:.3f}"),
                 ("knn_accuracy", "10-NN acc", "{:.4f}"),
                 ("transform_accuracy", "transform acc", "{:.4f}"),
                 ("transform", "transform", None), ("inverse", "inverse", None),
                 ("error", "error", None)])
    if len(args.seeds) > 1:
        measures = ("trustworthiness", "density_correlation", "target_order", "target_order_new",
                    "knn_accuracy", "transform_accuracy")
        summary = _medians_over_seeds(rows, measures)
        print(f"\nmedians over seeds {args.seeds}")
        table(summary, [("dataset", "dataset", None), ("mode", "mode", None),
                        ("library", "library", None), ("seeds", "seeds", None),
                        ("trustworthiness", "trust@15", "{:.4f}"),
                        ("density_correlation", "density corr", "{:.3f}"),
                        ("target_order", "target order", "{:.3f}"),
                        ("target_order_new", "new pts", "{:.3f}"),
                        ("knn_accuracy", "10-NN acc", "{:.4f}"),
                        ("transform_accuracy", "transform acc", "{:.4f}")])
        rows = rows + summary
    return rows

"""``run.py transform``: transform quality and speed over seeds and pixel scales."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, ratio, table, worker


def suite_transform(args, libs):
    """Transform quality and speed over seeds and pixel scales (0-1 and 0-255), both libraries
    fitted on the same data; medians over the seeds and the ratio of the median times."""
    import numpy as np

    rows = []
    for dataset in args.datasets:
        for scale in args.pixel_scales:
            for seed in args.seeds:
                for lib in libs:
                    result = worker("transform", lib, dataset, "--seed", seed,
                                    "--pixel-scale", scale, "--repeats", args.repeats)
                    rows.append({"dataset": dataset, "pixel_scale": scale, "library": lib,
                                 **result})
                    print(f"  {dataset} / x{scale:g} / seed {seed} / {lib}: "
                          f"{brief(result, 'transform_median_s')}", file=sys.stderr)
    summary = []
    for dataset in args.datasets:
        for scale in args.pixel_scales:
            medians = {}
            for lib in libs:
                runs = [r for r in rows if (r["dataset"], r["pixel_scale"], r["library"]) ==
                        (dataset, scale, lib) and "error" not in r]
                if not runs:
                    continue
                line = {"dataset": dataset, "pixels": "0-1" if scale == 1 else f"0-{scale:g}",
                        "library": lib, "runs": len(runs)}
                for key in ("transform_median_s", "transform_accuracy",
                            "transform_trustworthiness", "trustworthiness"):
                    line[key] = float(np.median([r[key] for r in runs]))
                line["accuracy_range"] = (f"{min(r['transform_accuracy'] for r in runs):.4f}-"
                                          f"{max(r['transform_accuracy'] for r in runs):.4f}")
                medians[lib] = line
                summary.append(line)
            if "umapx" in medians and "umap-learn" in medians:
                medians["umapx"]["ratio"] = ratio(medians["umap-learn"]["transform_median_s"],
                                                  medians["umapx"]["transform_median_s"])
    print(f"\ntransform over seeds {args.seeds}: medians (each seed: one seeded fit, then the "
          f"median of {args.repeats} warm transforms of the test set); ratio = umap-learn time / "
          "umapx time")
    table(summary, [("dataset", "dataset", None), ("pixels", "pixels", None),
                    ("library", "library", None), ("runs", "runs", None),
                    ("transform_median_s", "transform s", "{:.2f}"), ("ratio", "ratio", None),
                    ("transform_accuracy", "transform acc", "{:.4f}"),
                    ("accuracy_range", "acc min-max", None),
                    ("transform_trustworthiness", "transform trust@15", "{:.4f}"),
                    ("trustworthiness", "fit trust@15", "{:.4f}")])
    return rows + summary

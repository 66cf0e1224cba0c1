"""``run.py inverse``: inverse_transform speed and quality, umapx variants beside umap-learn."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, ratio, table, worker

#: umapx's inverse-transform variants measured by ``run.py inverse``: (label, method, detail).
INVERSE_VARIANTS = {"blend": ("umapx", "blend", 0.0),
                    "refine": ("umapx refine", "refine", 0.0),
                    "refine-detail": ("umapx refine, detail=1", "refine", 1.0)}


def suite_inverse(args, libs):
    rows = []
    configs = [(d, 2) for d in args.datasets]
    if not args.skip_dims:
        configs += [(d, dims) for d in args.datasets if d != "digits" for dims in (3, 8)]
    variants = [INVERSE_VARIANTS[v] for v in args.variants.split(",")]
    for dataset, dims in configs:
        results = {}
        runs = [(label, "umapx", method, detail) for label, method, detail in variants
                if "umapx" in libs]
        runs += [("umap-learn", "umap-learn", "blend", 0.0)] if "umap-learn" in libs else []
        for label, lib, method, detail in runs:
            extra = ["--many", 10000] if lib == "umapx" else []
            timeout = args.anchor_timeout if (lib == "umap-learn" and dims > 2) else 7200
            results[label] = worker("inverse", lib, dataset, "--queries", args.queries,
                                    "--repeats", args.repeats if lib == "umapx" else 1,
                                    "--n-components", dims, "--method", method,
                                    "--detail", detail, *extra, timeout=timeout)
            print(f"  {dataset} d={dims} / {label}: "
                  f"{brief(results[label], 'inverse100_median_s')}", file=sys.stderr)
        anchor = results.get("umap-learn", {})
        for label, result in results.items():
            row = {**result, "dataset": dataset, "dims": dims, "library": label}
            if label != "umap-learn" and "error" not in anchor:
                row["speedup"] = ratio(anchor.get("inverse100_median_s"),
                                       result.get("inverse100_median_s"))
            rows.append(row)
    print(f"\ninverse_transform: speed (100 queries, warm) and quality on {args.queries} held-out "
          "points; speedup = umap-learn time / umapx time")
    table(rows, [("dataset", "dataset", None), ("dims", "dims", None),
                 ("library", "library", None),
                 ("inverse100_median_s", "100 queries s", "{:.4f}"), ("speedup", "speedup", None),
                 ("inverse10000_s", "10k queries s", "{:.2f}"),
                 ("mse", "MSE", "{:.4f}"), ("label_preservation", "labels kept", "{:.3f}"),
                 ("round_trip", "round trip", "{:.2f}"), ("novelty", "novelty", "{:.2f}"),
                 ("finite", "finite", None), ("in_range", "in range", None),
                 ("max_jump", "max jump out", "{:.3f}"), ("error", "error", None)])
    return rows

"""``run.py scale``: one seeded fit per size of the 1M-row datasets."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, table, worker


def suite_scale(args, libs):
    """One seeded fit per size of the 1M-row datasets: seconds per stage, peak RSS, quality.

    The data are generated once (``benchmarks/datasets.py``, cached as .npy) and each size is a
    prefix of the same shuffled rows. umap-learn runs in a process killed after
    ``--anchor-timeout`` seconds; with ``--anchor-knn-only`` only its k-NN stage is timed (its
    full fit takes ~17 min at 1M on 2 cores), beside umapx's k-NN alone.
    """
    rows = []
    for dataset in args.datasets:
        for size in args.sizes:
            for lib in libs:
                flags = ["--rows", size]
                knn_only = lib == "umap-learn" and args.anchor_knn_only
                if knn_only:
                    flags.append("--knn-only")
                else:
                    flags += ["--transform-rows", args.transform_rows,
                              "--inverse-rows", args.inverse_rows if size in args.inverse_at
                              else 0]
                timeout = args.anchor_timeout if lib == "umap-learn" else 7200
                result = worker("scale", lib, dataset, *flags, timeout=timeout)
                if knn_only and lib != "umapx" and "umapx" in libs:
                    ours = worker("scale", "umapx", dataset, *flags, timeout=7200)
                    result["umapx_knn_s"] = ours.get("knn_s")
                stages = result.get("stages_s", {})
                row = {"dataset": dataset, "rows": size, "library": lib, **result,
                       "stages": " ".join(f"{k}={v:.1f}" for k, v in stages.items())}
                if knn_only:
                    row["stages"] = (f"knn={result.get('knn_s', float('nan')):.1f} "
                                     f"(umapx knn={result.get('umapx_knn_s') or float('nan'):.1f})")
                rows.append(row)
                print(f"  {dataset} {size} / {lib}: "
                      f"{brief(result, 'knn_s' if knn_only else 'fit_s')}", file=sys.stderr)
    print("\nscale: one seeded fit (random_state=42) per size, warm kernels; peak RSS of the "
          "process up to the end of the fit (data and warm-up included)")
    table(rows, [("dataset", "dataset", None), ("rows", "rows", None),
                 ("library", "library", None), ("fit_s", "fit s", "{:.1f}"),
                 ("fit_cpu_s", "fit CPU s", "{:.1f}"), ("stages", "stages s", None),
                 ("fit_peak_rss_mb", "peak RSS of the fit MB", "{:.0f}"),
                 ("baseline_rss_mb", "RSS before MB", "{:.0f}"),
                 ("trustworthiness", "trust@15 (10k)", "{:.4f}"),
                 ("knn_accuracy", "10-NN acc", "{:.4f}"), ("error", "error", None)])
    if args.transform_rows:
        print(f"\ntransform of {args.transform_rows} new rows of the same distribution "
              "(benchmarks/datasets.py load_scale_new): the first call (builds the search "
              "graph), a second call; accuracy: labels of the placed rows by their 10 nearest "
              "training rows (of the first 100k)")
        table([r for r in rows if "transform_s" in r or "error" in r],
              [("dataset", "dataset", None), ("rows", "fitted rows", None),
               ("library", "library", None), ("transform_first_s", "first s", "{:.1f}"),
               ("transform_first_cpu_s", "CPU s", "{:.1f}"), ("transform_s", "again s", "{:.1f}"),
               ("transform_cpu_s", "CPU s", "{:.1f}"),
               ("transform_accuracy", "transform acc", "{:.4f}"), ("error", "error", None)])
    inverse_rows = [r for r in rows if "inverse_s" in r]
    if inverse_rows:
        print(f"\numapx inverse_transform of {args.inverse_rows} points beside the embedded rows: "
              "the model's inverse built by a first one-point call, then all points returned as "
              "one array and written into a memmap (out=); MB: the largest growth of anonymous "
              "RSS during the call (a memmap's pages not counted), output MB: the samples")
        table(inverse_rows, [("dataset", "dataset", None), ("rows", "fitted rows", None),
                             ("inverse_build_s", "build s", "{:.1f}"),
                             ("inverse_build_mb", "build MB", "{:.0f}"),
                             ("inverse_s", "inverse s", "{:.1f}"),
                             ("inverse_mb", "MB", "{:.0f}"),
                             ("inverse_output_mb", "output MB", "{:.0f}"),
                             ("inverse_out_s", "into memmap s", "{:.1f}"),
                             ("inverse_out_mb", "MB", "{:.0f}")])
    return rows

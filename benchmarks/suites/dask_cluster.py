"""``run.py dask``: umapx on a dask LocalCluster against in-process."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, ratio, table, worker


def suite_dask(args, libs):
    """umapx on a LocalCluster: throughput against in-process, worker memory, sample fits."""
    rows = []
    for what in args.what.split(","):
        for n_rows in (int(n) for n in args.rows.split(",")):
            result = worker("dask-throughput", "umapx", "fashion-pca50", "--what", what,
                            "--rows", n_rows, "--workers", args.workers,
                            "--in-process-rows", args.in_process_rows,
                            "--chunk-rows", args.chunk_rows)
            if "error" not in result:
                result["ratio"] = ratio(1 / result["in_process_rows_per_s"],
                                        1 / result["dask_rows_per_s"])
                result["worker_rss"] = " / ".join(f"{v:.0f}"
                                                  for v in result["worker_peak_rss_mb"])
            print(f"  {what} {n_rows} rows: {brief(result, 'dask_s')}", file=sys.stderr)
            rows.append({"what": what, "rows": n_rows, **result})
    print(f"\n{args.what} of generated Fashion-MNIST PCA-50 rows on a LocalCluster of "
          f"{args.workers} workers x 1 thread, against in-process (n_jobs=-1) on the first "
          f"{args.in_process_rows} rows; ratio = dask rows/s / in-process rows/s")
    table(rows, [("what", "method", None), ("rows", "rows", "{:,}"),
                 ("dask_s", "dask s", "{:.1f}"), ("dask_rows_per_s", "dask rows/s", "{:,.0f}"),
                 ("in_process_rows_per_s", "in-process rows/s", "{:,.0f}"),
                 ("ratio", "ratio", None), ("worker_rss", "worker peak RSS MB", None),
                 ("first_tasks_s", "first tasks s", "{:.1f}"),
                 ("identical_first_block", "identical", None), ("error", "error", None)])
    if args.skip_sample:
        return rows
    result = worker("dask-sample", "umapx", "fashion", "--sample-sizes", args.sample_sizes,
                    "--workers", args.workers)
    samples = result.get("rows", [{"error": result.get("error")}])
    print(f"\nFashion-MNIST ({result.get('n_rows', '?')} x 784): fit on all rows vs "
          "umapx.dask.fit_sample on a seeded sample, all rows judged")
    table(samples, [("fit", "fit", None), ("sample_size", "rows fitted", "{:,}"),
                    ("fit_s", "fit s", "{:.1f}"), ("embed_all_s", "embed all s", "{:.1f}"),
                    ("trustworthiness", "trust@15", "{:.4f}"),
                    ("knn_accuracy", "10-NN acc", "{:.4f}"), ("error", "error", None)])
    return rows + samples

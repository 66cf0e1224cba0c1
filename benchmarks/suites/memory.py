"""``run.py memory``: peak RSS of one fit."""

from __future__ import annotations

from benchmarks.suites.common import table, worker


def suite_memory(args, libs):
    rows = []
    settings = [None] if args.low_memory is None else args.low_memory
    for dataset in args.datasets:
        for lib in libs:
            for low_memory in settings:
                flags = [] if low_memory is None else [
                    "--low-memory" if low_memory else "--no-low-memory"]
                result = worker("memory", lib, dataset,
                                "--seeded" if args.seeded else "--no-seeded", *flags)
                rows.append({"dataset": dataset, "library": lib, "low_memory": low_memory,
                             **result})
    print("\npeak RSS of one fit (fresh process: data loaded, then fit)")
    table(rows, [("dataset", "dataset", None), ("library", "library", None),
                 ("low_memory", "low_memory", None), ("fit_s", "fit s", "{:.1f}"),
                 ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
                 ("baseline_rss_mb", "RSS before fit MB", "{:.0f}"), ("error", "error", None)])
    return rows

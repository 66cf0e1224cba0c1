"""``run.py busy``: a fit with cores kept busy by other processes, against idle."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.suites.common import brief, table, worker

#: ``run.py busy`` flags a fit slowed by more than this with other processes running.
BUSY_LIMIT = 2.0


def _busy_loops(count):
    """Start ``count`` processes that spin forever, each pinned to one of the last cores
    where the platform allows (``os.sched_setaffinity``); return them."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    loops = []
    for n in range(count):
        loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        if cores:
            os.sched_setaffinity(loop.pid, {cores[-1 - n % len(cores)]})
        loops.append(loop)
    return loops


def suite_busy(args, libs):
    """A fit timed on an idle machine and with ``--busy-cores`` cores kept busy by spinning
    processes: the slowdown, flagged above :data:`BUSY_LIMIT` (a parallel stage that splits its
    work evenly between threads waits for the one that shares a core)."""
    rows = []
    for dataset in args.datasets:
        for lib in libs:
            flags = ["--repeats", args.repeats, "--seeded" if args.seeded else "--no-seeded"]
            idle = worker("fit", lib, dataset, *flags)
            loops = _busy_loops(args.busy_cores)
            try:
                busy = worker("fit", lib, dataset, *flags)
            finally:
                for loop in loops:
                    loop.kill()
                    loop.wait()
            row = {"dataset": dataset, "library": lib, "busy_cores": args.busy_cores,
                   "idle_s": idle.get("fit_median_s"), "busy_s": busy.get("fit_median_s"),
                   "idle_stages": idle.get("stages_s"), "busy_stages": busy.get("stages_s"),
                   "error": idle.get("error") or busy.get("error")}
            if row["idle_s"] and row["busy_s"]:
                row["slowdown"] = row["busy_s"] / row["idle_s"]
                row["flag"] = (f"SLOWER THAN {BUSY_LIMIT:g}x" if row["slowdown"] > BUSY_LIMIT
                               else "ok")
                stages = row["idle_stages"] or {}
                row["stage_slowdowns"] = " ".join(
                    f"{k}={row['busy_stages'][k] / v:.2f}x" for k, v in stages.items()
                    if v > 0 and k in (row["busy_stages"] or {}))
            rows.append(row)
            print(f"  {dataset} / {lib}: idle {brief(idle, 'fit_median_s')}, busy "
                  f"{brief(busy, 'fit_median_s')}", file=sys.stderr)
    print(f"\nfit with {args.busy_cores} of {os.cpu_count()} cores kept busy by spinning "
          f"processes against idle, medians of {args.repeats} warm runs; flagged above "
          f"{BUSY_LIMIT:g}x (the machine must be otherwise quiet for this to mean anything)")
    table(rows, [("dataset", "dataset", None), ("library", "library", None),
                 ("idle_s", "idle fit s", "{:.2f}"), ("busy_s", "busy fit s", "{:.2f}"),
                 ("slowdown", "slowdown", "{:.2f}x"), ("flag", "guard", None),
                 ("stage_slowdowns", "umapx stages slowdown", None), ("error", "error", None)])
    return rows

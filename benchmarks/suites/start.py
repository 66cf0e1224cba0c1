"""``run.py start``: import time and the first fit with numba's cache warm, cold, precompiled."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.suites.common import ROOT, ratio, table, worker


def _timed_process(code, env=None):
    """Wall and CPU (children's user + system) seconds of ``python -c code``."""
    before = os.times()
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, **(env or {})})
    after = os.times()
    return (time.perf_counter() - began,
            after.children_user + after.children_system - before.children_user
            - before.children_system)


def suite_start(args, libs):
    """Import time, and process start to the end of a first digits fit with numba's cache warm,
    cold (empty), and (umapx) cold but filled by ``python -m umapx.precompile`` first."""
    rows = []
    modules = {"umapx": "umapx", "umap-learn": "umap"}
    for lib in libs:
        imports = [_timed_process(f"import {modules[lib]}")[0] for _ in range(args.repeats)]
        first_use = [_timed_process(f"import {modules[lib]}; {modules[lib]}.UMAP")[0]
                     for _ in range(args.repeats)]
        warm = [worker("start", lib) for _ in range(args.repeats)]
        cold, precompile, precompiled = [], [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as cache:
                cold.append(worker("start", lib, env={"NUMBA_CACHE_DIR": cache}))
            if lib != "umapx":
                continue
            with tempfile.TemporaryDirectory() as cache:
                precompile.append(_timed_process("import umapx.precompile as p; p.main(['-q'])",
                                                 env={"NUMBA_CACHE_DIR": cache}))
                precompiled.append(worker("start", lib, env={"NUMBA_CACHE_DIR": cache}))

        def median(runs, key):
            values = [run[key] for run in runs if key in run]
            return statistics.median(values) if values else None

        row = {"library": lib, "import_s": statistics.median(imports),
               "first_use_s": statistics.median(first_use),
               "first_fit_warm_s": median(warm, "process_to_first_fit_s"),
               "first_fit_cold_s": median(cold, "process_to_first_fit_s"),
               "first_fit_cold_cpu_s": median(cold, "process_cpu_s")}
        if precompile:
            row["precompile_s"] = statistics.median(wall for wall, _ in precompile)
            row["precompile_cpu_s"] = statistics.median(cpu for _, cpu in precompile)
            row["first_fit_precompiled_s"] = median(precompiled, "process_to_first_fit_s")
        rows.append(row)
    if len(rows) == 2:
        rows[0]["warm_ratio"] = ratio(rows[1]["first_fit_warm_s"], rows[0]["first_fit_warm_s"])
        rows[0]["cold_ratio"] = ratio(rows[1]["first_fit_cold_s"], rows[0]["first_fit_cold_s"])
    print(f"\ncold start (fresh processes, medians of {args.repeats}): `import`, `import` and the "
          "first use of `UMAP`, and process start to the end of a first fit on digits with the "
          "numba cache warm / cold (empty) / filled by `python -m umapx.precompile` (its own "
          "time beside it)")
    table(rows, [("library", "library", None), ("import_s", "import s", "{:.2f}"),
                 ("first_use_s", "import + UMAP s", "{:.2f}"),
                 ("first_fit_warm_s", "first fit, cache warm s", "{:.2f}"),
                 ("warm_ratio", "ratio", None),
                 ("first_fit_cold_s", "first fit, cache cold s", "{:.1f}"),
                 ("first_fit_cold_cpu_s", "CPU s", "{:.1f}"),
                 ("cold_ratio", "ratio", None),
                 ("precompile_s", "precompile s", "{:.1f}"),
                 ("precompile_cpu_s", "CPU s", "{:.1f}"),
                 ("first_fit_precompiled_s", "first fit after it s", "{:.2f}")])
    return rows

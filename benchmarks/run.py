"""Side-by-side benchmarks of umapx and umap-learn (the anchor), in one run.

    python benchmarks/run.py fit      [--datasets digits,mnist10k,fashion] [--repeats 3]
    python benchmarks/run.py fit      --unseeded
    python benchmarks/run.py inverse  [--datasets mnist10k,fashion] [--queries 200]
                                      [--variants blend,refine,refine-detail] [--skip-dims]
    python benchmarks/run.py memory   [--datasets fashion]
    python benchmarks/run.py start    (import time; import + first fit on digits, cache warm /
                                      cold / precompiled)
    python benchmarks/run.py sparse   [--datasets corpus20k] [--metrics cosine,hellinger]
    python benchmarks/run.py explore  (the explorer in a browser: hover latency, pan/zoom frames)
    python benchmarks/run.py scale    [--datasets blobs,fashion1m] [--sizes 100000,300000,1000000]
                                      [--anchor-knn-only] [--anchor-timeout 1800]
                                      [--transform-rows 100000] [--inverse-rows 1000000]
                                      [--inverse-at 1000000] [--plot scale.png]
    python benchmarks/run.py dask     [--rows 2000000,10000000] [--what transform,inverse]
                                      [--workers 2] [--sample-sizes 10000] [--skip-sample]
    python benchmarks/run.py spread   [--datasets mnist10k,fashion] [--seeds 42,0,1,2]
                                      [--targets host,haswell,generic]
    python benchmarks/run.py reproducibility [--datasets fashion] [--repeats 3]
                                      [--parts cost,identity]
    python benchmarks/run.py compat   [--datasets digits,mnist10k] [--modes precomputed-dense,...]
    python benchmarks/run.py variants [--datasets digits,mnist10k] [--modes densmap,regression,...]
                                      [--seeds 42,0,1]
    python benchmarks/run.py transform [--datasets mnist10k,fashion] [--seeds 0,1,2]
                                      [--pixel-scales 1,255] [--repeats 3]
    python benchmarks/run.py busy     [--datasets mnist10k] [--busy-cores 1] [--repeats 3]
                                      (fit idle and with cores kept busy: slowdown, flagged >2x)

Every measurement runs in a fresh process (``benchmarks/worker.py``); timed runs are warm
(a warm-up fit compiles each library's kernels first) and repeated, and the tables show
medians, the anchor/umapx ratio (> 1: umapx is faster) and the quality measures of
``umapx.evaluation`` beside the times. umap-learn is measured when it is importable
(``pip install umap-learn==0.5.12``); results are also written to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks.*`` importable
    sys.path.insert(0, str(ROOT))


def libraries(requested):
    found = ["umapx"]
    if importlib.util.find_spec("umap") is not None:
        found.append("umap-learn")
    if requested:
        missing = [lib for lib in requested if lib not in found]
        if missing:
            raise SystemExit(f"not importable here: {missing}")
        return requested
    return found


def worker(*args, env=None, timeout=7200):
    """Run one worker process; return its JSON result or {"error": ...}."""
    command = [sys.executable, "-m", "benchmarks.worker", *map(str, args)]
    began = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - began
    return result


def ratio(anchor, ours):
    if anchor is None or ours is None or ours == 0:
        return "-"
    return f"{anchor / ours:.2f}x"


def table(rows, columns):
    """Print rows (dicts) as an aligned text table with the given (key, title, format)."""
    cells = [[title for _, title, _ in columns]]
    for row in rows:
        line = []
        for key, _, fmt in columns:
            value = row.get(key)
            line.append("-" if value is None else (fmt.format(value) if fmt else str(value)))
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for n, line in enumerate(cells):
        print("  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(line, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def suite_fit(args, libs):
    rows = []
    for dataset in args.datasets:
        results = {}
        for lib in libs:
            flags = ["--repeats", args.repeats, "--seeded" if args.seeded else "--no-seeded"]
            results[lib] = worker("fit", lib, dataset, *flags)
            print(f"  {dataset} / {lib}: {_brief(results[lib], 'fit_median_s')}", file=sys.stderr)
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
                  f"{_brief(results[label], 'inverse100_median_s')}", file=sys.stderr)
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
            print(f"  {dataset} / {lib}: idle {_brief(idle, 'fit_median_s')}, busy "
                  f"{_brief(busy, 'fit_median_s')}", file=sys.stderr)
    print(f"\nfit with {args.busy_cores} of {os.cpu_count()} cores kept busy by spinning "
          f"processes against idle, medians of {args.repeats} warm runs; flagged above "
          f"{BUSY_LIMIT:g}x (the machine must be otherwise quiet for this to mean anything)")
    table(rows, [("dataset", "dataset", None), ("library", "library", None),
                 ("idle_s", "idle fit s", "{:.2f}"), ("busy_s", "busy fit s", "{:.2f}"),
                 ("slowdown", "slowdown", "{:.2f}x"), ("flag", "guard", None),
                 ("stage_slowdowns", "umapx stages slowdown", None), ("error", "error", None)])
    return rows


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
            print(f"  {dataset} {metric} / {lib}: {_brief(result, 'fit_median_s')}",
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


def suite_explore(args, libs):
    """The explorer in a browser (benchmarks/explore.py, in a fresh process): no anchor has one."""
    command = [sys.executable, str(ROOT / "benchmarks" / "explore.py"), "latency",
               "--repeats", str(args.repeats)]
    subprocess.run(command, cwd=ROOT, check=True)
    return []


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
            print(f"  {what} {n_rows} rows: {_brief(result, 'dask_s')}", file=sys.stderr)
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


def suite_spread(args, libs):
    """umapx's quality over seeds and emulated CPUs (``benchmarks/targets.py``): the
    distribution the real-data tests' thresholds are set from."""
    import numpy as np

    from benchmarks.targets import environment

    rows = []
    for dataset in args.datasets:
        for target in args.targets:
            for seed in args.seeds:
                result = worker("quality", "umapx", dataset, "--seed", seed,
                                env=environment(target))
                rows.append({"dataset": dataset, "target": target, **result})
                print(f"  {dataset} / {target} / seed {seed}: "
                      f"{_brief(result, 'transform_accuracy')}", file=sys.stderr)
    summary = []
    for dataset in args.datasets:
        runs = [r for r in rows if r["dataset"] == dataset and "error" not in r]
        for measure in ("trustworthiness", "knn_accuracy", "transform_accuracy"):
            values = np.array([r[measure] for r in runs])
            if not len(values):
                continue
            line = {"dataset": dataset, "measure": measure, "runs": len(values),
                    "min": values.min(), "median": np.median(values), "max": values.max(),
                    "std": values.std()}
            for target in args.targets:
                mine = [r[measure] for r in runs if r["target"] == target]
                line[target] = min(mine) if mine else None
            summary.append(line)
    print(f"\nquality over seeds {args.seeds} x CPU targets {args.targets} (one fresh process "
          "each); the last columns: the minimum on each target")
    table(summary, [("dataset", "dataset", None), ("measure", "measure", None),
                    ("runs", "runs", None), ("min", "min", "{:.4f}"),
                    ("median", "median", "{:.4f}"), ("max", "max", "{:.4f}"),
                    ("std", "std", "{:.4f}"),
                    *[(target, f"min {target}", "{:.4f}") for target in args.targets]])
    return rows + summary


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
                          f"{_brief(result, 'transform_median_s')}", file=sys.stderr)
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


def suite_reproducibility(args, libs):
    """What bit-identical results across x86-64 CPUs would cost, and whether they would be.

    Cost: fit / transform times (medians of warm runs) of umapx compiled for the host CPU
    with fastmath (shipped), for the generic x86-64 target, and without fastmath, each in
    fresh processes; the ratio is over the shipped build. Identity: SHA-256 digests of the
    embedding and the transformed test set of one seeded fit under each emulated CPU, for
    the shipped build and for the portable one (generic target, no fastmath).
    """
    from benchmarks.targets import CPU_TARGETS, environment

    builds = [("host", "fastmath"), ("generic", "fastmath"), ("host", "strict"),
              ("generic", "strict")]
    cost = []
    for dataset in args.datasets if "cost" in args.parts else []:
        for numba_cpu, variant in builds:
            env = environment("host", variant, numba_cpu=numba_cpu)
            result = worker("fit", "umapx", dataset, "--repeats", args.repeats, env=env)
            cost.append({"dataset": dataset, "build": f"{numba_cpu}/{variant}", **result})
            print(f"  {dataset} {numba_cpu}/{variant}: {_brief(result, 'fit_median_s')}",
                  file=sys.stderr)
        shipped = cost[-len(builds)]
        for row in cost[-len(builds):]:
            row["fit_ratio"] = _slowdown(row.get("fit_median_s"), shipped.get("fit_median_s"))
            row["transform_ratio"] = _slowdown(row.get("transform_median_s"),
                                               shipped.get("transform_median_s"))
    if cost:
        print(f"\ncost of a portable build, medians of {args.repeats} warm runs; ratio = build "
              "time / shipped (host/fastmath) time")
        table(cost, [("dataset", "dataset", None), ("build", "numba target / flags", None),
                     ("fit_median_s", "fit s", "{:.2f}"), ("fit_ratio", "ratio", None),
                     ("transform_median_s", "transform s", "{:.2f}"),
                     ("transform_ratio", "ratio", None), ("error", "error", None)])

    identity = []
    for dataset in args.datasets if "identity" in args.parts else []:
        for label, numba_cpu, variant in [("shipped", None, "fastmath"),
                                          ("portable", "generic", "strict")]:
            digests = {}
            for cpu in CPU_TARGETS:
                result = worker("quality", "umapx", dataset, "--seed", 42,
                                env=environment(cpu, variant, numba_cpu=numba_cpu))
                digests[cpu] = (result.get("embedding_sha256", result.get("error")),
                                result.get("transform_sha256"))
            first = next(iter(digests.values()))
            identity.append({"dataset": dataset, "build": label,
                             **{cpu: d[0][:12] for cpu, d in digests.items()},
                             "identical": all(d == first for d in digests.values())})
    if identity:
        print("\nSHA-256 of the embedding (seed 42) under each emulated CPU")
        table(identity, [("dataset", "dataset", None), ("build", "build", None),
                         *[(cpu, cpu, None) for cpu in CPU_TARGETS],
                         ("identical", "identical everywhere", None)])
    return cost + identity


def _slowdown(time, reference):
    if time is None or not reference:
        return "-"
    return f"{time / reference:.2f}x"


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
                      f"{_brief(result, 'knn_s' if knn_only else 'fit_s')}", file=sys.stderr)
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
                  f"{_brief(result, 'fit_median_s')}", file=sys.stderr)
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


VARIANT_MODES = "densmap,regression,ordinal,unique"


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


def _brief(result, key):
    if "error" in result:
        return "error: " + result["error"]
    return f"{result.get(key, float('nan')):.3f} s"


SUITES = {"fit": suite_fit, "memory": suite_memory, "inverse": suite_inverse, "start": suite_start,
          "sparse": suite_sparse, "explore": suite_explore, "dask": suite_dask,
          "spread": suite_spread, "reproducibility": suite_reproducibility, "compat": suite_compat,
          "variants": suite_variants, "scale": suite_scale, "transform": suite_transform,
          "busy": suite_busy}
DEFAULT_DATASETS = {"fit": "digits,mnist10k,fashion", "memory": "fashion",
                    "inverse": "mnist10k,fashion", "start": "", "sparse": "corpus20k",
                    "explore": "", "dask": "", "spread": "mnist10k,fashion",
                    "reproducibility": "fashion", "compat": "digits,mnist10k",
                    "variants": "digits,mnist10k", "scale": "blobs",
                    "transform": "mnist10k,fashion", "busy": "mnist10k"}
COMPAT_MODES = "precomputed-dense,precomputed-sparse,precomputed-knn"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--datasets", default=None,
                        help="comma-separated: digits,mnist10k,fashion "
                             "(sparse: corpus20k,corpus5k)")
    parser.add_argument("--libraries", default=None, help="comma-separated: umapx,umap-learn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--unseeded", dest="seeded", action="store_false")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--low-memory", default=None, choices=["true", "false", "both"],
                        help="memory, sparse: fit with low_memory=True, False, or each")
    parser.add_argument("--metrics", default="cosine",
                        help="sparse: comma-separated metrics (cosine,hellinger)")
    parser.add_argument("--skip-dims", action="store_true", help="inverse: skip 3-d and 8-d")
    parser.add_argument("--variants", default="blend,refine,refine-detail",
                        help=f"inverse: umapx variants, from {','.join(INVERSE_VARIANTS)}")
    parser.add_argument("--anchor-timeout", type=int, default=600,
                        help="inverse: seconds allowed to umap-learn for 3-d / 8-d; "
                             "scale: for each run")
    parser.add_argument("--sizes", default="100000,300000,1000000",
                        help="scale: comma-separated numbers of rows")
    parser.add_argument("--anchor-knn-only", action="store_true",
                        help="scale: time only umap-learn's k-NN (and umapx's, beside it)")
    parser.add_argument("--transform-rows", type=int, default=100_000,
                        help="scale: new rows transformed after each fit (0: none)")
    parser.add_argument("--inverse-rows", type=int, default=1_000_000,
                        help="scale: points inverse-transformed after umapx's fits at the "
                             "sizes of --inverse-at (0: none)")
    parser.add_argument("--inverse-at", default="1000000",
                        help="scale: comma-separated sizes whose models are inverse-measured")
    parser.add_argument("--plot", default=None, metavar="PNG",
                        help="scale: also write the log-log figure of fit time against rows "
                             "(benchmarks/plot_scale.py: it can also merge several runs)")
    parser.add_argument("--busy-cores", type=int, default=1,
                        help="busy: cores kept busy by spinning processes during the busy fit")
    parser.add_argument("--rows", default="2000000,10000000", help="dask: rows per measurement")
    parser.add_argument("--what", default="transform,inverse", help="dask: methods measured")
    parser.add_argument("--workers", type=int, default=2, help="dask: LocalCluster workers")
    parser.add_argument("--in-process-rows", type=int, default=1_000_000,
                        help="dask: rows of the in-process reference")
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="dask: rows per block")
    parser.add_argument("--sample-sizes", default="10000", help="dask: sample fits measured")
    parser.add_argument("--skip-sample", action="store_true", help="dask: no sample fits")
    parser.add_argument("--seeds", default=None,
                        help="spread (default 42,0,1,2), transform (default 0,1,2), compat and "
                             "variants (default 42): comma-separated random_state values")
    parser.add_argument("--pixel-scales", default="1,255",
                        help="transform: data multiplied by each (1: pixels in [0, 1])")
    parser.add_argument("--targets", default="host,haswell,generic",
                        help="spread: emulated CPUs (benchmarks/targets.py)")
    parser.add_argument("--parts", default="cost,identity",
                        help="reproducibility: cost (timed: take it under the timing lock), "
                             "identity (digests, untimed)")
    parser.add_argument("--modes", default=None,
                        help=f"compat / variants: comma-separated modes (compat: {COMPAT_MODES}; "
                             f"variants: {VARIANT_MODES})")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.inverse_at = [int(s) for s in args.inverse_at.split(",") if s]
    modes = args.modes or (VARIANT_MODES if args.suite == "variants" else COMPAT_MODES)
    args.modes = [m for m in modes.split(",") if m]
    datasets = args.datasets if args.datasets is not None else DEFAULT_DATASETS[args.suite]
    args.datasets = [d for d in datasets.split(",") if d]
    args.metrics = [m for m in args.metrics.split(",") if m]
    if args.low_memory is not None:
        args.low_memory = {"true": [True], "false": [False], "both": [True, False]}[
            args.low_memory]
    default_seeds = {"spread": "42,0,1,2", "transform": "0,1,2"}
    seeds = args.seeds or default_seeds.get(args.suite, "42")
    args.seeds = [int(seed) for seed in seeds.split(",") if seed]
    args.pixel_scales = [float(scale) for scale in args.pixel_scales.split(",") if scale]
    args.targets = [target for target in args.targets.split(",") if target]
    libs = libraries(args.libraries.split(",") if args.libraries else None)
    print(f"libraries: {', '.join(libs)}; python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs", file=sys.stderr)
    rows = SUITES[args.suite](args, libs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{args.suite}-{stamp}.json"
    out.write_text(json.dumps({"suite": args.suite, "args": vars(args), "rows": rows}, indent=1))
    print(f"\nresults written to {out.relative_to(ROOT)}", file=sys.stderr)
    if args.suite == "scale" and args.plot:
        from benchmarks.plot_scale import plot, scale_points

        print(f"figure written to {plot(scale_points([out]), args.plot)}", file=sys.stderr)


if __name__ == "__main__":
    main()

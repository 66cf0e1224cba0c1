"""Side-by-side benchmarks of umapx and umap-learn (the anchor), in one run.

    python benchmarks/run.py fit      [--datasets digits,mnist10k,fashion] [--repeats 3]
    python benchmarks/run.py fit      --unseeded
    python benchmarks/run.py inverse  [--datasets mnist10k,fashion] [--queries 200]
    python benchmarks/run.py memory   [--datasets fashion]
    python benchmarks/run.py start    (import time; import + first fit on digits, cache warm/cold)
    python benchmarks/run.py explore  (the explorer in a browser: hover latency, pan/zoom frames)
    python benchmarks/run.py scale    [--datasets blobs,fashion1m] [--sizes 100000,300000,1000000]
                                      [--anchor-knn-only] [--anchor-timeout 1800]

Every measurement runs in a fresh process (``benchmarks/worker.py``); timed runs are warm
(a warm-up fit compiles each library's kernels first) and repeated, and the tables show
medians, the anchor/umapx ratio (> 1: umapx is faster) and the quality measures of
``umapx.evaluation`` beside the times. umap-learn is measured when it is importable
(``pip install umap-learn==0.5.12``); results are also written to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import importlib.util
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
                 ("transform_median_s", "transform s", "{:.2f}"),
                 ("transform_ratio", "ratio", None),
                 ("trustworthiness", "trust@15", "{:.4f}"),
                 ("knn_accuracy", "10-NN acc", "{:.4f}"),
                 ("transform_accuracy", "transform acc", "{:.4f}"),
                 ("stages", "umapx stages s", None), ("error", "error", None)])
    return rows


def suite_memory(args, libs):
    rows = []
    for dataset in args.datasets:
        for lib in libs:
            result = worker("memory", lib, dataset,
                            "--seeded" if args.seeded else "--no-seeded")
            rows.append({"dataset": dataset, "library": lib, **result})
    print("\npeak RSS of one fit (fresh process: data loaded, then fit)")
    table(rows, [("dataset", "dataset", None), ("library", "library", None),
                 ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
                 ("baseline_rss_mb", "RSS before fit MB", "{:.0f}"), ("error", "error", None)])
    return rows


def suite_inverse(args, libs):
    rows = []
    configs = [(d, 2) for d in args.datasets]
    if "mnist10k" in args.datasets and not args.skip_dims:
        configs += [("mnist10k", 3), ("mnist10k", 8)]
    for dataset, dims in configs:
        results = {}
        for lib in libs:
            extra = ["--many", 10000] if lib == "umapx" else []
            timeout = args.anchor_timeout if (lib == "umap-learn" and dims > 2) else 7200
            results[lib] = worker("inverse", lib, dataset, "--queries", args.queries,
                                  "--repeats", args.repeats if lib == "umapx" else 1,
                                  "--n-components", dims, *extra, timeout=timeout)
            print(f"  {dataset} d={dims} / {lib}: {_brief(results[lib], 'inverse100_median_s')}",
                  file=sys.stderr)
        anchor = results.get("umap-learn", {})
        for lib, result in results.items():
            row = {"dataset": dataset, "dims": dims, "library": lib, **result}
            if lib == "umapx" and "error" not in anchor:
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


def suite_start(args, libs):
    rows = []
    modules = {"umapx": "umapx", "umap-learn": "umap"}
    for lib in libs:
        imports = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {modules[lib]}"], check=True, cwd=ROOT)
            imports.append(time.perf_counter() - began)
        warm = [worker("start", lib)["process_to_first_fit_s"] for _ in range(args.repeats)]
        with tempfile.TemporaryDirectory() as cache:
            cold = worker("start", lib, env={"NUMBA_CACHE_DIR": cache})
        rows.append({"library": lib, "import_s": statistics.median(imports),
                     "first_fit_warm_s": statistics.median(warm),
                     "first_fit_cold_s": cold.get("process_to_first_fit_s")})
    if len(rows) == 2:
        rows[0]["warm_ratio"] = ratio(rows[1]["first_fit_warm_s"], rows[0]["first_fit_warm_s"])
        rows[0]["cold_ratio"] = ratio(rows[1]["first_fit_cold_s"], rows[0]["first_fit_cold_s"])
    print(f"\ncold start (fresh processes, medians of {args.repeats}): `import`, and process start "
          "to the end of a first fit on digits with the numba cache warm / cold")
    table(rows, [("library", "library", None), ("import_s", "import s", "{:.2f}"),
                 ("first_fit_warm_s", "first fit, cache warm s", "{:.2f}"),
                 ("warm_ratio", "ratio", None),
                 ("first_fit_cold_s", "first fit, cache cold s", "{:.1f}"),
                 ("cold_ratio", "ratio", None)])
    return rows


def suite_explore(args, libs):
    """The explorer in a browser (benchmarks/explore.py, in a fresh process): no anchor has one."""
    command = [sys.executable, str(ROOT / "benchmarks" / "explore.py"), "latency",
               "--repeats", str(args.repeats)]
    subprocess.run(command, cwd=ROOT, check=True)
    return []


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
          "process (data included)")
    table(rows, [("dataset", "dataset", None), ("rows", "rows", None),
                 ("library", "library", None), ("fit_s", "fit s", "{:.1f}"),
                 ("stages", "stages s", None), ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
                 ("baseline_rss_mb", "RSS before MB", "{:.0f}"),
                 ("trustworthiness", "trust@15 (10k)", "{:.4f}"),
                 ("knn_accuracy", "10-NN acc", "{:.4f}"), ("error", "error", None)])
    return rows


def _brief(result, key):
    if "error" in result:
        return "error: " + result["error"]
    return f"{result.get(key, float('nan')):.3f} s"


SUITES = {"fit": suite_fit, "memory": suite_memory, "inverse": suite_inverse, "start": suite_start,
          "explore": suite_explore, "scale": suite_scale}
DEFAULT_DATASETS = {"fit": "digits,mnist10k,fashion", "memory": "fashion",
                    "inverse": "mnist10k,fashion", "start": "", "explore": "", "scale": "blobs"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--datasets", default=None, help="comma-separated: digits,mnist10k,fashion")
    parser.add_argument("--libraries", default=None, help="comma-separated: umapx,umap-learn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--unseeded", dest="seeded", action="store_false")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-dims", action="store_true", help="inverse: skip 3-d and 8-d")
    parser.add_argument("--anchor-timeout", type=int, default=600,
                        help="inverse: seconds allowed to umap-learn for 3-d / 8-d; "
                             "scale: for each run")
    parser.add_argument("--sizes", default="100000,300000,1000000",
                        help="scale: comma-separated numbers of rows")
    parser.add_argument("--anchor-knn-only", action="store_true",
                        help="scale: time only umap-learn's k-NN (and umapx's, beside it)")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    datasets = args.datasets if args.datasets is not None else DEFAULT_DATASETS[args.suite]
    args.datasets = [d for d in datasets.split(",") if d]
    libs = libraries(args.libraries.split(",") if args.libraries else None)
    print(f"libraries: {', '.join(libs)}; python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs", file=sys.stderr)
    rows = SUITES[args.suite](args, libs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{args.suite}-{stamp}.json"
    out.write_text(json.dumps({"suite": args.suite, "args": vars(args), "rows": rows}, indent=1))
    print(f"\nresults written to {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

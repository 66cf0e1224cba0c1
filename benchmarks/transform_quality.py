"""Transform quality of umapx against umap-learn at both pixel scales, over seeds, paired.

    python benchmarks/transform_quality.py [--datasets mnist10k,fashion] [--pixel-scales 1,255]
                                           [--seeds 0,1,2] [--unseeded 1] [--repeats 1]
                                           [--libraries umapx,umap-learn]
                                           [--json benchmarks/results/transform-quality.json]
                                           [--resume] [--summary-only] [--also JSON]

For every dataset, pixel scale (the [0, 1] pixels multiplied by it: 1 or 255), seed and
library, one fresh process (``benchmarks/worker.py transform``) fits the training set, places
the test set with ``transform`` and measures: the transform accuracy (10-NN classifier fitted
on the training embedding, predicting the test labels from the placed points), the
trustworthiness@15 of the placed test points (on 5,000 sampled rows when there are more), the
fit's trustworthiness@15 (5,000 sampled rows) and 10-NN accuracy (stratified 80/20 split of the
training embedding), and the times of the fit and of the warm transforms (wall and CPU).
``--unseeded N`` adds N unseeded fits per dataset, scale and library (the parallel mode).

Datasets (``benchmarks/datasets.py``): ``fashion`` is Fashion-MNIST's 60,000 training / 10,000
test images; ``mnist10k`` the shared 10k MNIST subset, first 8,000 rows / last 2,000.

Prints, for the seeded runs, the mean and the standard error over seeds of each measure, the
paired differences umapx - umap-learn (the same data, seed and scale; ``*`` where the mean
difference is more than 2 standard errors from 0), and the paired differences 0-255 - 0-1 of
each library (the same seed); the unseeded runs one line each, their means, the difference
umapx - umap-learn of the unseeded means and, where the file also holds seeded runs, unseeded -
seeded of each library (independent samples). Five unseeded fits of Fashion-MNIST at 0-1
against five seeded ones of umapx (the session 7 check of issue 12):

    nice -n 10 python benchmarks/transform_quality.py --datasets fashion --pixel-scales 1 \
        --seeds 0,1,2,3,4 --unseeded 5 --json fashion-unseeded.json

Every run is written to the
JSON file as it finishes (``--resume`` skips runs already there; ``--summary-only`` prints the
tables of a file). Quality needs no quiet machine (run it at ``nice -n 10``); the transform
times and their ratio do: take them under ``flock /tmp/umapx-timing.lock`` with a few
``--repeats`` on an otherwise idle machine, or treat them as provisional.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUALITY = ("transform_accuracy", "transform_trustworthiness", "trustworthiness", "knn_accuracy")
TITLES = {"transform_accuracy": "transform acc", "transform_trustworthiness": "placed trust@15",
          "trustworthiness": "fit trust@15", "knn_accuracy": "fit 10-NN acc",
          "transform_median_s": "transform s", "transform_cpu_median_s": "transform CPU s"}


def run_worker(library, dataset, scale, seed, repeats, timing_lock="", timeout=7200):
    """One ``benchmarks.worker transform`` process; its JSON result or ``{"error": ...}``."""
    command = [sys.executable, "-m", "benchmarks.worker", "transform", library, dataset,
               "--pixel-scale", str(scale), "--repeats", str(repeats),
               "--timing-lock", timing_lock]
    command += ["--seed", str(seed)] if seed is not None else ["--no-seeded"]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        return {"error": " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])}
    return json.loads(done.stdout.strip().splitlines()[-1])


def key(row):
    return row["dataset"], float(row["pixel_scale"]), row["library"], row["seed"], row["run"]


def mean_se(values):
    """Mean and standard error of the mean (None for one value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def _fmt(mean, se, digits=4):
    return f"{mean:.{digits}f}" + ("" if se is None else f" ({se:.{digits}f})")


def _diff(values):
    mean, se = mean_se(values)
    flag = "*" if se is not None and abs(mean) > 2 * se else ("=" if se == 0 else "")
    return f"{mean:+.4f}" + ("" if se is None else f" ({se:.4f}){flag}")


def _pixels(scale):
    return "0-1" if scale == 1 else f"0-{scale:g}"


def _print_table(header, lines):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
    for line in [header, ["-" * w for w in widths], *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)))


def summarise(rows, datasets, scales, libraries):
    """Print the tables; return the summary as a list of dicts (for the JSON file)."""
    ok = [r for r in rows if "error" not in r]
    seeded = [r for r in ok if r["seed"] is not None]
    summary = []

    def runs(dataset, scale, library, pool=seeded):
        return sorted((r for r in pool if (r["dataset"], float(r["pixel_scale"]), r["library"])
                       == (dataset, scale, library)), key=lambda r: (str(r["seed"]), r["run"]))

    print("\nseeded runs: mean (standard error) over seeds")
    header = ["dataset", "pixels", "library", "seeds", *[TITLES[m] for m in QUALITY],
              "transform s", "ratio"]
    lines = []
    for dataset in datasets:
        for scale in scales:
            times = {}
            for library in libraries:
                got = runs(dataset, scale, library)
                if got:
                    times[library] = sorted(r["transform_median_s"] for r in got)[len(got) // 2]
            for library in libraries:
                got = runs(dataset, scale, library)
                if not got:
                    continue
                line = {"dataset": dataset, "pixels": _pixels(scale), "library": library,
                        "seeds": [r["seed"] for r in got]}
                for measure in QUALITY + ("transform_median_s", "transform_cpu_median_s"):
                    line[measure] = mean_se([r[measure] for r in got])
                ratio = None
                if library == "umapx" and "umap-learn" in times:
                    ratio = times["umap-learn"] / times["umapx"]
                line["transform_ratio_median"] = ratio
                summary.append(line)
                lines.append([dataset, _pixels(scale), library, len(got),
                              *[_fmt(*line[m]) for m in QUALITY],
                              f"{sorted(r['transform_median_s'] for r in got)[len(got) // 2]:.2f}",
                              "-" if ratio is None else f"{ratio:.2f}x"])
    _print_table(header, lines)

    def paired(pool_a, pool_b):
        by_seed = {r["seed"]: r for r in pool_b}
        return [(a, by_seed[a["seed"]]) for a in pool_a if a["seed"] in by_seed]

    if {"umapx", "umap-learn"} <= set(libraries):
        print("\npaired differences umapx - umap-learn, mean (standard error) over seeds; "
              "* beyond 2 s.e.")
        lines = []
        for dataset in datasets:
            for scale in scales:
                pairs = paired(runs(dataset, scale, "umapx"), runs(dataset, scale, "umap-learn"))
                if not pairs:
                    continue
                diffs = {m: [a[m] - b[m] for a, b in pairs] for m in QUALITY}
                summary.append({"dataset": dataset, "pixels": _pixels(scale),
                                "difference": "umapx - umap-learn", "pairs": len(pairs),
                                **{m: mean_se(v) for m, v in diffs.items()}})
                lines.append([dataset, _pixels(scale), len(pairs),
                              *[_diff(diffs[m]) for m in QUALITY]])
        _print_table(["dataset", "pixels", "pairs", *[TITLES[m] for m in QUALITY]], lines)

    if len(scales) > 1:
        low, high = scales[0], scales[-1]
        print(f"\npaired differences {_pixels(high)} - {_pixels(low)} (same library and seed), "
              "mean (standard error); * beyond 2 s.e., = identical")
        lines = []
        for dataset in datasets:
            for library in libraries:
                pairs = paired(runs(dataset, high, library), runs(dataset, low, library))
                if not pairs:
                    continue
                diffs = {m: [a[m] - b[m] for a, b in pairs] for m in QUALITY}
                summary.append({"dataset": dataset, "library": library, "pairs": len(pairs),
                                "difference": f"{_pixels(high)} - {_pixels(low)}",
                                **{m: mean_se(v) for m, v in diffs.items()}})
                lines.append([dataset, library, len(pairs),
                              *[_diff(diffs[m]) for m in QUALITY]])
        _print_table(["dataset", "library", "pairs", *[TITLES[m] for m in QUALITY]], lines)

    unseeded = [r for r in ok if r["seed"] is None]
    if unseeded:
        print("\nunseeded runs, one line each")
        _print_table(["dataset", "pixels", "library", *[TITLES[m] for m in QUALITY],
                      "transform s"],
                     [[r["dataset"], _pixels(float(r["pixel_scale"])), r["library"],
                       *[f"{r[m]:.4f}" for m in QUALITY], f"{r['transform_median_s']:.2f}"]
                      for r in sorted(unseeded, key=key)])
        summary += _summarise_unseeded(unseeded, seeded, datasets, scales, libraries)
    errors = [r for r in rows if "error" in r]
    for r in errors:
        print(f"error: {r['dataset']} {_pixels(float(r['pixel_scale']))} {r['library']} "
              f"seed {r['seed']}: {r['error']}")
    return summary


def _unpaired(first, second):
    """Difference of the means of two independent samples, with its standard error."""
    (mean_a, se_a), (mean_b, se_b) = mean_se(first), mean_se(second)
    se = None if se_a is None or se_b is None else math.sqrt(se_a ** 2 + se_b ** 2)
    return mean_a - mean_b, se


def _fmt_unpaired(mean, se):
    flag = "*" if se is not None and abs(mean) > 2 * se else ""
    return f"{mean:+.4f}" + ("" if se is None else f" ({se:.4f}){flag}")


def _summarise_unseeded(unseeded, seeded, datasets, scales, libraries):
    """Print the unseeded runs' means, umapx - umap-learn between them and, where the same
    file has seeded runs, unseeded - seeded of each library (independent samples: the standard
    error of a difference is that of both means combined); return the summary rows."""
    summary, means, gaps = [], [], []

    def pick(pool, dataset, scale, library):
        return [r for r in pool if (r["dataset"], float(r["pixel_scale"]), r["library"])
                == (dataset, scale, library)]

    for dataset in datasets:
        for scale in scales:
            got = {lib: pick(unseeded, dataset, scale, lib) for lib in libraries}
            for library, runs_ in got.items():
                if runs_:
                    line = {m: mean_se([r[m] for r in runs_]) for m in QUALITY}
                    summary.append({"dataset": dataset, "pixels": _pixels(scale),
                                    "library": library, "unseeded_runs": len(runs_), **line})
                    means.append([dataset, _pixels(scale), library, len(runs_),
                                  *[_fmt(*line[m]) for m in QUALITY]])
            comparisons = []
            if got.get("umapx") and got.get("umap-learn"):
                comparisons.append(("umapx - umap-learn, unseeded", got["umapx"],
                                    got["umap-learn"]))
            for library in libraries:
                fixed = pick(seeded, dataset, scale, library)
                if got.get(library) and fixed:
                    comparisons.append((f"{library} unseeded - seeded", got[library], fixed))
            for title, first, second in comparisons:
                diffs = {m: _unpaired([r[m] for r in first], [r[m] for r in second])
                         for m in QUALITY}
                summary.append({"dataset": dataset, "pixels": _pixels(scale),
                                "difference": title, "runs": [len(first), len(second)],
                                **diffs})
                gaps.append([dataset, _pixels(scale), title, f"{len(first)} / {len(second)}",
                             *[_fmt_unpaired(*diffs[m]) for m in QUALITY]])
    if means:
        print("\nunseeded runs: mean (standard error) over runs")
        _print_table(["dataset", "pixels", "library", "runs",
                      *[TITLES[m] for m in QUALITY]], means)
    if gaps:
        print("\nunpaired differences of means (standard error); * beyond 2 s.e.")
        _print_table(["dataset", "pixels", "difference", "runs",
                      *[TITLES[m] for m in QUALITY]], gaps)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="mnist10k,fashion")
    parser.add_argument("--pixel-scales", default="1,255")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--unseeded", type=int, default=1,
                        help="unseeded fits per dataset, scale and library")
    parser.add_argument("--repeats", type=int, default=1, help="warm transforms timed per fit")
    parser.add_argument("--timing-lock", default="",
                        help="a file lock held (flock) while each worker times its transforms, "
                             "and only then, e.g. /tmp/umapx-timing.lock")
    parser.add_argument("--libraries", default="umapx,umap-learn")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" /
                                              "transform-quality.json"))
    parser.add_argument("--resume", action="store_true", help="skip runs already in --json")
    parser.add_argument("--summary-only", action="store_true",
                        help="print the tables of --json, run nothing")
    parser.add_argument("--also", action="append", default=[], metavar="JSON",
                        help="another file of this script whose runs join the tables (read "
                             "only; repeatable), e.g. seeded runs taken apart")
    args = parser.parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    scales = [float(s) for s in args.pixel_scales.split(",") if s]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    libraries = [lib for lib in args.libraries.split(",") if lib]
    path = Path(args.json)
    rows = json.loads(path.read_text())["runs"] if (args.resume or args.summary_only) \
        and path.exists() else []
    done = {key(r) for r in rows if "error" not in r}
    rows = [r for r in rows if "error" not in r]
    if not args.summary_only:
        # Seed by seed, so that an interrupted run has complete pairs.
        plan = [(d, s, lib, seed, 0) for d in datasets for seed in seeds for s in scales
                for lib in libraries]
        plan += [(d, s, lib, None, i) for d in datasets for i in range(args.unseeded)
                 for s in scales for lib in libraries]
        for dataset, scale, library, seed, index in plan:
            if (dataset, scale, library, seed, index) in done:
                continue
            began = time.perf_counter()
            result = run_worker(library, dataset, scale, seed, args.repeats, args.timing_lock)
            result.update({"dataset": dataset, "pixel_scale": scale, "library": library,
                           "seed": seed, "run": index,
                           "process_s": time.perf_counter() - began})
            rows.append(result)
            brief = result.get("error") or (f"acc {result['transform_accuracy']:.4f} "
                                            f"trust {result['transform_trustworthiness']:.4f} "
                                            f"transform {result['transform_median_s']:.2f} s")
            print(f"  {dataset} {_pixels(scale)} {library} seed {seed}: {brief}",
                  file=sys.stderr, flush=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"runs": rows}, indent=1))
    extra = [r for other in args.also for r in json.loads(Path(other).read_text())["runs"]]
    summary = summarise(rows + extra, datasets, scales, libraries)
    path.write_text(json.dumps({"runs": rows, "summary": summary,
                                "umapx": os.environ.get("PYTHONPATH", "installed")}, indent=1))
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    sys.exit(main())

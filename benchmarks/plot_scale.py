"""Log-log plot of fit time against the number of rows, from ``run.py scale`` results.

    python benchmarks/plot_scale.py [RESULTS.json ...] [--out benchmarks/results/scale.png]

Without files, every ``benchmarks/results/scale-*.json`` is read; where several runs measured
the same (library, dataset, rows), the latest file wins. One line per library and dataset
(umapx solid, umap-learn dashed); a run stopped by ``--anchor-timeout`` is drawn as an open
triangle at its limit (the fit took longer), and a ``--anchor-knn-only`` run, which has no fit
time, is left out. Needs matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
_TIMEOUT = re.compile(r"timed out after (\d+(?:\.\d+)?) s")


def scale_points(paths):
    """``{(library, dataset): {rows: (seconds, finished)}}`` from scale result files, later
    files overriding earlier ones; ``finished`` is False for a timed-out run (seconds: its
    limit)."""
    points = {}
    for path in sorted(paths, key=lambda p: Path(p).name):
        results = json.loads(Path(path).read_text())
        if results.get("suite") != "scale":
            continue
        for row in results["rows"]:
            key = (row["library"], row["dataset"])
            if row.get("fit_s") is not None:
                points.setdefault(key, {})[int(row["rows"])] = (float(row["fit_s"]), True)
                continue
            stopped = _TIMEOUT.search(str(row.get("error", "")))
            if stopped:
                points.setdefault(key, {})[int(row["rows"])] = (float(stopped.group(1)), False)
    return points


def plot(points, out):
    """Write the figure of :func:`scale_points`'s ``points`` to ``out`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.4), dpi=150)
    datasets = sorted({dataset for _, dataset in points})
    colours = dict(zip(datasets, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for (library, dataset), by_rows in sorted(points.items()):
        rows = sorted(by_rows)
        style = "-" if library == "umapx" else "--"
        finished = [n for n in rows if by_rows[n][1]]
        axes.plot(finished, [by_rows[n][0] for n in finished], style, marker="o",
                  color=colours[dataset], label=f"{library}, {dataset}")
        stopped = [n for n in rows if not by_rows[n][1]]
        if stopped:
            axes.plot(stopped, [by_rows[n][0] for n in stopped], linestyle="none", marker="^",
                      markerfacecolor="none", color=colours[dataset],
                      label=f"{library}, {dataset}: stopped at the limit")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("rows fitted")
    axes.set_ylabel("fit seconds (one seeded fit, warm)")
    axes.set_title("Fit time against data size")
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", help="scale result files (default: all)")
    parser.add_argument("--out", default=str(RESULTS / "scale.png"))
    args = parser.parse_args(argv)
    paths = args.results or sorted(RESULTS.glob("scale-*.json"))
    points = scale_points(paths)
    if not points:
        raise SystemExit("no scale results with fit times in " + ", ".join(map(str, paths)))
    print(f"wrote {plot(points, args.out)}")


if __name__ == "__main__":
    main()

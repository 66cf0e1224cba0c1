"""Log-log plot of fit time against the number of rows, from ``run.py scale`` results.

    python benchmarks/plot_scale.py [RESULTS.json ...] [--out benchmarks/results/scale.png]
                                    [--cpu] [--note TEXT] [--variant LABEL=RESULTS.json ...]

Without files, every ``benchmarks/results/scale-*.json`` is read. One series per library,
dataset and variant: umapx solid, umap-learn dashed, one colour per dataset, one marker per
variant. A row's ``variant`` (or ``init``: a start supplied to the fit) names what sets it
apart from the default seeded fit (``--variant LABEL=FILE`` gives that label to the rows of
FILE without one, e.g. umapx figures after a code change). Where
several files measured the same (library, dataset, variant, rows), the later one on the command
line wins (without files: the later name). A run stopped by ``--anchor-timeout`` is an open
triangle at its limit (the fit took longer); a ``--anchor-knn-only`` run, which has no fit
time, is left out.

``--cpu`` plots the fit's CPU seconds (``fit_cpu_s``: all threads) instead of wall seconds,
the steadier figure on a shared machine; a stopped run is then drawn at the CPU its process
had used by the limit (``cpu_s_at_limit``, warm-up included) and left out where that was not
recorded. ``--note`` adds a line under the title (how and when the figures were taken). Needs
matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
_TIMEOUT = re.compile(r"timed out after (\d+(?:\.\d+)?) s")
#: Markers of the variants, in order of first appearance (the default fit: circles).
_MARKERS = ["*", "s", "D", "P", "X", "v"]


def _variant(row, label):
    if row.get("variant"):
        return str(row["variant"])
    if row.get("init"):
        return f"start supplied: {row['init']}"
    return label or ""


def scale_points(paths, cpu=False, labels=None):
    """``{(library, dataset, variant): {rows: (seconds, finished)}}`` from scale result files in
    the given order, later files overriding earlier ones.

    ``seconds`` is the fit's wall time, or with ``cpu`` its CPU time; ``finished`` is False for
    a run stopped at its limit (seconds: the limit, or with ``cpu`` the CPU used by then).
    ``labels`` maps a path (as given) to the variant of its rows that name none ("" is the
    default fit).
    """
    points = {}
    for path in paths:
        results = json.loads(Path(path).read_text())
        if results.get("suite") != "scale":
            continue
        for row in results["rows"]:
            key = (row["library"], row["dataset"], _variant(row, (labels or {}).get(path)))
            measure = row.get("fit_cpu_s" if cpu else "fit_s")
            if measure is not None:
                points.setdefault(key, {})[int(row["rows"])] = (float(measure), True)
                continue
            stopped = _TIMEOUT.search(str(row.get("error", "")))
            limit = row.get("cpu_s_at_limit") if cpu else stopped and stopped.group(1)
            if stopped and limit is not None:
                points.setdefault(key, {})[int(row["rows"])] = (float(limit), False)
    return points


def plot(points, out, cpu=False, note=None):
    """Write the figure of :func:`scale_points`'s ``points`` to ``out`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.2, 5.0), dpi=150)
    datasets = sorted({dataset for _, dataset, _ in points})
    colours = dict(zip(datasets, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    variants = sorted({variant for _, _, variant in points if variant})
    markers = {"": "o", **dict(zip(variants, _MARKERS))}
    for (library, dataset, variant), by_rows in sorted(points.items()):
        rows = sorted(by_rows)
        name = f"{library}, {dataset}" + (f" ({variant})" if variant else "")
        style = "-" if library == "umapx" else "--"
        finished = [n for n in rows if by_rows[n][1]]
        if finished:
            axes.plot(finished, [by_rows[n][0] for n in finished], style,
                      marker=markers[variant], markersize=9 if variant else 6,
                      color=colours[dataset], label=name)
        stopped = [n for n in rows if not by_rows[n][1]]
        if stopped:
            axes.plot(stopped, [by_rows[n][0] for n in stopped], linestyle="none", marker="^",
                      markersize=8, markerfacecolor="none", color=colours[dataset],
                      label=f"{name}: stopped at the limit" + (" (CPU used by then)" if cpu
                                                               else ""))
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("rows fitted")
    axes.set_ylabel(f"fit {'CPU ' if cpu else ''}seconds (one seeded fit, warm)")
    axes.set_title("Fit time against data size" + (f"\n{note}" if note else ""),
                   fontsize=10 if note else None)
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(fontsize=6.5)
    figure.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", help="scale result files (default: all)")
    parser.add_argument("--out", default=str(RESULTS / "scale.png"))
    parser.add_argument("--cpu", action="store_true", help="plot CPU seconds, not wall seconds")
    parser.add_argument("--note", default=None, help="a line under the title")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=FILE",
                        help="rows of FILE without a variant of their own get LABEL")
    args = parser.parse_args(argv)
    labels = {}
    for given in args.variant:
        label, sep, path = given.partition("=")
        if not sep or not path:
            parser.error(f"--variant wants LABEL=FILE, got {given!r}")
        labels[path] = label
    paths = args.results + [p for p in labels if p not in args.results]
    paths = paths or sorted(map(str, RESULTS.glob("scale-*.json")))
    points = scale_points(paths, cpu=args.cpu, labels=labels)
    if not points:
        raise SystemExit("no scale results with fit times in " + ", ".join(map(str, paths)))
    print(f"wrote {plot(points, args.out, cpu=args.cpu, note=args.note)}")


if __name__ == "__main__":
    main()

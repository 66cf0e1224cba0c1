"""The explorer measured in a real browser: hover round trip, and pan/zoom frame time.

    python benchmarks/explore.py latency [--hovers 600] [--repeats 3]   (= run.py explore)
    python benchmarks/explore.py screenshot docs/explorer.png

The model is Fashion-MNIST (70,000 x 784) fitted with ``random_state=42`` once and kept in
``benchmarks/results/fashion-mnist.umapx``. The explorer is served by ``umapx explore`` in its
own process (as a user runs it); headless Chromium (Playwright) moves the mouse over the
embedding at ``--rate`` events per second, and the page records, for every pointer event, the
time from the event (``event.timeStamp``) to the end of drawing the first sample generated for
that position or a later one (requests are coalesced: one in flight, the latest wins). Pan/zoom:
the page pans and zooms one step per animation frame and records the time spent rendering each
frame and the interval between frames, at 70,000 points and at 1,000,000 (the Fashion-MNIST
embedding resampled with jitter: rendering cost depends on the point count only).

Needs ``pip install playwright`` and a Chromium executable (``apt-get install chromium``).
Timings on a shared machine are noisy: run under ``flock /tmp/umapx-timing.lock``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODEL = RESULTS / "fashion-mnist.umapx"
CLASS_NAMES = np.array(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                        "Sneaker", "Bag", "Ankle boot"])


def fashion_model():
    """The Fashion-MNIST model (fitted and saved on first use) and its class names."""
    import umapx
    from umapx.datasets import load_fashion_mnist

    data, labels = load_fashion_mnist()
    if MODEL.is_file():
        return umapx.load(MODEL), CLASS_NAMES[labels]
    print(f"fitting Fashion-MNIST ({len(data)} x {data.shape[1]}), random_state=42 ...",
          file=sys.stderr)
    mapper = umapx.UMAP(random_state=42).fit(data)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    mapper.save(MODEL)
    return mapper, CLASS_NAMES[labels]


class Resampled:
    """A model whose embedding is another's resampled to ``n`` jittered points.

    The explorer reads the embedding, a few public attributes and the fitted state, whose
    inverse model draws the samples: those of the original model. Used to measure drawing at a
    million points without a million-point fit.
    """

    def __init__(self, mapper, labels, n, seed=0):
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, len(mapper.embedding_), n)
        spread = 0.02 * np.ptp(mapper.embedding_, axis=0)
        self.embedding_ = (mapper.embedding_[rows]
                           + rng.normal(scale=spread, size=(n, 2))).astype(np.float32)
        self.labels = labels[rows]
        self.n_features_in_ = mapper.n_features_in_
        self.n_neighbors = mapper.n_neighbors
        self.n_jobs = mapper.n_jobs
        self.fitted_state = mapper.fitted_state
        self._mapper = mapper

    def inverse_transform(self, points, return_confidence=False):
        return self._mapper.inverse_transform(points, return_confidence=return_confidence)


def serve_cli(model_path, labels_path):
    """``umapx explore`` in its own process; returns (process, url)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "umapx.cli", "explore", str(model_path), "--labels",
         str(labels_path), "--image-shape", "28x28", "--no-browser"],
        stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError("umapx explore did not start")
    return process, url


def hover_latency(page, hovers, rate):
    """Move the mouse ``hovers`` times along a curve over the data; latencies in ms."""
    box = page.locator("#overlay").bounding_box()
    bounds = page.evaluate("umapxExplorer.meta.bounds")
    (left, top), (right, bottom) = (page.evaluate(f"umapxExplorer.toScreen({x}, {y})")
                                    for x, y in ((bounds[0], bounds[3]), (bounds[1], bounds[2])))

    def move(i):
        t = i / 97.0  # a Lissajous curve: crosses clusters and the gaps between them
        x = left + (right - left) * (0.5 + 0.45 * np.sin(3 * t))
        y = top + (bottom - top) * (0.5 + 0.45 * np.sin(2 * t + 0.7))
        page.mouse.move(box["x"] + x, box["y"] + y)

    for i in range(60):  # warm-up: connection, caches, JIT
        move(i)
    page.wait_for_timeout(300)
    page.evaluate("umapxExplorer.latencies.length = 0; umapxExplorer.latencyParts.length = 0; "
                  "umapxExplorer.hoverChannel.sent = 0")
    interval = 1.0 / rate
    began = time.perf_counter()
    for i in range(hovers):
        move(60 + i)
        wait = began + (i + 1) * interval - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
    page.wait_for_timeout(500)
    latencies = page.evaluate("umapxExplorer.latencies.slice()")
    parts = np.array(page.evaluate("umapxExplorer.latencyParts.slice()"), dtype=float)
    sent = page.evaluate("umapxExplorer.hoverChannel.sent")
    breakdown = {name: float(np.nanmedian(parts[:, i])) for i, name in enumerate(
        ["event_to_handler", "request", "wait_and_draw", "server"])}
    return latencies, sent, hovers / (time.perf_counter() - began), breakdown


def pan_zoom(page, frames=300):
    result = page.evaluate(f"umapxExplorer.benchmarkPanZoom({frames})")
    return result["renders"], result["intervals"]


def summary(values):
    values = np.asarray(values, dtype=float)
    return {"n": int(len(values)), "median": float(np.median(values)),
            "p95": float(np.percentile(values, 95)), "p99": float(np.percentile(values, 99)),
            "max": float(values.max())}


def command_latency(args):
    from umapx.explorer import explore
    from umapx.explorer._browser import chromium, open_explorer

    mapper, labels = fashion_model()
    rows = {}
    with tempfile.TemporaryDirectory() as folder, chromium() as browser:
        labels_path = Path(folder) / "labels.npy"
        np.save(labels_path, labels)
        process, url = serve_cli(MODEL, labels_path)
        try:
            page = open_explorer(browser, url, 1280, 800)
            runs, pooled = [], []
            for _ in range(args.repeats):
                load = os.getloadavg()[0]
                latencies, sent, achieved, breakdown = hover_latency(page, args.hovers, args.rate)
                runs.append({**summary(latencies), "requests": sent, "events_per_s": achieved,
                             "median_parts": breakdown, "load_before": load,
                             "load_after": os.getloadavg()[0]})
                pooled.extend(latencies)
            rows["hover_70k"] = runs
            rows["hover_70k_pooled"] = summary(pooled)
            renders, intervals = pan_zoom(page)
            rows["panzoom_70k"] = {"render": summary(renders), "interval": summary(intervals)}
            page.close()
        finally:
            process.terminate()
            process.wait()
        big = Resampled(mapper, labels, 1_000_000)
        with explore(big, labels=big.labels, image_shape=(28, 28), open_browser=False) as running:
            page = open_explorer(browser, running.url, 1280, 800)
            renders, intervals = pan_zoom(page)
            rows["panzoom_1m"] = {"render": summary(renders), "interval": summary(intervals)}
            page.close()
    single = []
    probe = mapper.embedding_[:200].astype(np.float64) + 0.05
    mapper.inverse_transform(probe[:1])
    for point in probe:
        began = time.perf_counter()
        mapper.inverse_transform(point[None])
        single.append(1000 * (time.perf_counter() - began))
    rows["inverse_1_point_in_process"] = summary(single)
    report(rows, args)
    return rows


def report(rows, args):
    runs = rows["hover_70k"]
    print(f"\nhover round trip, Fashion-MNIST (70,000 points), {len(runs)} runs of "
          f"{runs[0]['n']} pointer events (target: p95 < 20 ms):")
    for run in runs:
        parts = run["median_parts"]
        print(f"  median {run['median']:.1f} ms, p95 {run['p95']:.1f} ms, p99 {run['p99']:.1f} ms, "
              f"max {run['max']:.1f} ms; {run['events_per_s']:.0f} events/s, {run['requests']} "
              f"requests; load average {run['load_before']:.1f} -> {run['load_after']:.1f}")
        print(f"    medians of the parts: event to handler {parts['event_to_handler']:.1f} ms, "
              f"request {parts['request']:.1f} ms (server {parts['server']:.2f} ms), waiting + "
              f"drawing {parts['wait_and_draw']:.1f} ms")
    pooled = rows["hover_70k_pooled"]
    print(f"  all {pooled['n']} events: median {pooled['median']:.1f} ms, p95 {pooled['p95']:.1f} "
          f"ms, p99 {pooled['p99']:.1f} ms")
    inverse = rows["inverse_1_point_in_process"]
    print(f"  inverse_transform of one point in this process (n_jobs=-1): median "
          f"{inverse['median']:.2f} ms, p95 {inverse['p95']:.2f} ms")
    for key, title in (("panzoom_70k", "70,000"), ("panzoom_1m", "1,000,000")):
        render, interval = rows[key]["render"], rows[key]["interval"]
        print(f"pan/zoom at {title} points: render median {render['median']:.1f} ms, p95 "
              f"{render['p95']:.1f} ms; frame interval median {interval['median']:.1f} ms, p95 "
              f"{interval['p95']:.1f} ms ({1000 / interval['median']:.0f} frames/s)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"explore-{time.strftime('%Y%m%d-%H%M%S')}.json"
    settings = {key: value for key, value in vars(args).items() if key != "run"}
    out.write_text(json.dumps({"suite": "explore", "args": settings, "rows": rows}, indent=1))
    print(f"results written to {out.relative_to(ROOT)}", file=sys.stderr)


def command_screenshot(args):
    """The README's picture: Fashion-MNIST with a sample under the cursor, pins and a path."""
    from scipy.spatial import cKDTree

    from umapx.explorer import explore
    from umapx.explorer._browser import chromium, open_explorer

    mapper, labels = fashion_model()
    embedding = mapper.embedding_
    tree = cKDTree(embedding)
    with explore(mapper, labels=labels, image_shape=(28, 28), open_browser=False) as running, \
            chromium() as browser:
        page = open_explorer(browser, running.url, 1400, 1060)
        box = page.locator("#overlay").bounding_box()

        def at(point):
            x, y = page.evaluate("([x, y]) => umapxExplorer.toScreen(x, y)",
                                 [float(v) for v in point])
            return box["x"] + x, box["y"] + y

        def centre(name):
            return np.median(embedding[labels == name], axis=0)

        def typical(name):
            """The point of class ``name`` nearest its median among those whose 15 nearest
            neighbours are all of that class."""
            members = np.flatnonzero(labels == name)
            _, nearest = tree.query(embedding[members], k=15)
            pure = members[np.all(labels[nearest] == name, axis=1)]
            return embedding[pure[np.argmin(np.linalg.norm(embedding[pure] - centre(name),
                                                           axis=1))]]

        for name in ("Trouser", "Bag", "Sneaker"):
            page.mouse.click(*at(centre(name)))
        page.wait_for_function("() => umapxExplorer.pins.length === 3")
        page.click("button[data-mode=path]")
        start, end = at(centre("Sandal")), at(centre("Ankle boot"))
        page.mouse.move(*start)
        page.mouse.down()
        for f in np.linspace(0.05, 1, 16):
            page.mouse.move(start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1]))
        page.mouse.up()
        page.click("button[data-mode=explore]")
        page.mouse.move(*at(typical("Dress")))
        page.wait_for_timeout(400)
        page.screenshot(path=str(args.output))
    print(f"wrote {args.output}", file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    latency = commands.add_parser("latency", help="hover round trip and pan/zoom frame time")
    latency.add_argument("--hovers", type=int, default=600, help="pointer events measured")
    latency.add_argument("--rate", type=float, default=100.0,
                         help="pointer events per second asked for (Playwright may give fewer)")
    latency.add_argument("--repeats", type=int, default=3, help="hover runs")
    latency.set_defaults(run=command_latency)
    shot = commands.add_parser("screenshot", help="the README's screenshot")
    shot.add_argument("output", type=Path)
    shot.set_defaults(run=command_screenshot)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()

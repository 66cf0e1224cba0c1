"""A first fit / transform with an empty numba cache, in one process or with the background
compilation of :mod:`umapx._compile_ahead` (run each in a fresh process, empty cache):

    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/first_run.py digits-fit
    UMAPX_BACKGROUND_COMPILE=0 NUMBA_CACHE_DIR=$(mktemp -d) \
        python benchmarks/first_run.py digits-fit
    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/first_run.py first-query MODEL

(``MODEL``: a saved Fashion-MNIST model, ``benchmarks/compile_profile.py save-fashion MODEL``.)
Prints this process's wall and CPU seconds from its start to the end of each step, how long it
waited for the other process, and the other process's CPU seconds when each stage was cached
and in all. CPU seconds are steady on a busy machine; on an idle one with two free cores the
wall time of the first fit is about this process's CPU time plus its waits.

A first run after ``pip install`` finds umapx's modules compiled to bytecode (pip compiles them
at install); an editable install run with ``PYTHONDONTWRITEBYTECODE=1`` compiles them again in
each process (~0.3 s each, in both processes). To measure what a user's first run takes, install
the version into a folder and put it first on the path:

    pip install --no-deps --target DIR .
    NUMBA_CACHE_DIR=$(mktemp -d) PYTHONPATH=DIR python benchmarks/first_run.py first-query MODEL
"""

from __future__ import annotations

import time

START = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def main(argv):
    import numpy as np

    import umapx

    try:
        from umapx import _compile_ahead
    except ImportError:  # an older umapx (before/after comparisons through PYTHONPATH)
        _compile_ahead = None

    scenario = argv[0]
    steps = []
    if scenario == "digits-fit":
        from sklearn.datasets import load_digits

        data = load_digits().data
        steps.append(("fit digits", lambda: umapx.UMAP().fit(data)))
    elif scenario == "first-query":
        test, _ = umapx.datasets.load_fashion_mnist(subset="test", download=False)
        model = umapx.load(argv[1])
        points = model.embedding_[:100].astype(np.float64) + 0.01
        steps.append(("first transform (10k)", lambda: model.transform(test / 255.0)))
        steps.append(("first inverse (100)", lambda: model.inverse_transform(points)))
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    result = {"scenario": scenario,
              "background": _compile_ahead is not None and _compile_ahead.enabled()}
    for name, step in steps:
        step()
        result[name] = {"wall_s": round(time.perf_counter() - START, 2),
                        "cpu_s": round(time.process_time(), 2)}
    running = _compile_ahead and _compile_ahead._running
    if running:
        result["waited_s"] = {stage: round(s, 2) for stage, s in running.waited.items()}
        result["compiled_here_cpu_s"] = {stage: round(s, 2) for stage, s
                                         in getattr(running, "compiled_here", {}).items()}
        running.join()
        result["other_process_cpu_s_at_ready"] = running.cpu_seconds
        times = os.times()
        result["other_process_cpu_s"] = round(times.children_user + times.children_system, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Compile the common numba kernels ahead of their first use: ``python -m umapx.precompile``.

numba compiles a kernel the first time it runs and keeps the machine code in its on-disk cache
(the package's ``__pycache__``, or ``$NUMBA_CACHE_DIR``); every later process loads it from
there. Without this step the user's first fit on a machine pays the compilation (a digits fit:
~30 s of CPU time instead of ~5 s, imports included), and so does the first ``transform`` of a
large model (its approximate search kernels). This module runs the everyday paths once on small
synthetic data -- fit with exact and with NN-descent neighbours, ``transform``,
``inverse_transform``, a saved and reloaded model -- with the default metric (euclidean) on
dense float64 input, so that those kernels are in the cache before the first real run. Other
metrics, sparse input, densMAP and supervised fits still compile on their first use.

Run it once after installing (``scripts/setup.sh`` does; ~80 s of CPU time); the cache is tied
to the installed source files and to the CPU, so a reinstall or another machine needs it again.
A second run finds everything cached and takes a few seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

# Three groups of points in 8 dimensions: enough for every stage of a fit to run, small enough
# that the run is all compilation.
_N_POINTS, _N_FEATURES = 600, 8


def _points(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(3, _N_FEATURES))
    return centres[rng.integers(0, 3, _N_POINTS)] + rng.normal(size=(_N_POINTS, _N_FEATURES))


def _scenario(approximate, folder):
    """Fit, query, save, reload and query again: the kernels of the tutorial's paths."""
    from .estimator import UMAP
    from .loading import load

    data = _points(0)
    new = _points(1)[:50]
    model = UMAP(random_state=42, force_approximation_algorithm=approximate).fit(data)
    model.transform(new)
    model.inverse_transform(model.embedding_[:20])
    path = os.path.join(folder, f"precompile-{int(approximate)}.umapx")
    model.save(path)
    loaded = load(path)  # a loaded model's arrays may be typed differently (read-only)
    loaded.transform(new)
    loaded.inverse_transform(loaded.embedding_[:20])


def precompile(verbose=False):
    """Run the common paths once so that numba's cache holds their kernels.

    Parameters
    ----------
    verbose : bool
        Print each step's wall and CPU seconds.

    Returns
    -------
    dict
        Wall and CPU seconds of the whole run (``"wall_s"``, ``"cpu_s"``).
    """
    began_wall, began_cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        for approximate, name in ((False, "exact neighbours"), (True, "NN-descent")):
            wall, cpu = time.perf_counter(), time.process_time()
            _scenario(approximate, folder)
            if verbose:
                print(f"  fit, transform, inverse, reload ({name}): "
                      f"{time.perf_counter() - wall:.1f} s (CPU {time.process_time() - cpu:.1f} s)")
    return {"wall_s": time.perf_counter() - began_wall, "cpu_s": time.process_time() - began_cpu}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m umapx.precompile",
        description="Compile umapx's common numba kernels into numba's on-disk cache, so that "
                    "the first fit / transform after installing does not wait for them.")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if not args.quiet:
        import numba.core.config

        location = numba.core.config.CACHE_DIR or "the package's __pycache__ folders"
        print(f"compiling umapx's kernels into numba's cache ({location}) ...")
    timing = precompile(verbose=not args.quiet)
    if not args.quiet:
        print(f"done in {timing['wall_s']:.1f} s (CPU {timing['cpu_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

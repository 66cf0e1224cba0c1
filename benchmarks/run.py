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

This file is the command line only: each suite is a module of ``benchmarks/suites/`` (the
worker process, ratios and tables they share in ``benchmarks/suites/common.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks.*`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.suites.busy import suite_busy  # noqa: E402
from benchmarks.suites.common import RESULTS  # noqa: E402
from benchmarks.suites.dask_cluster import suite_dask  # noqa: E402
from benchmarks.suites.explore import suite_explore  # noqa: E402
from benchmarks.suites.fit import suite_fit  # noqa: E402
from benchmarks.suites.inverse import INVERSE_VARIANTS, suite_inverse  # noqa: E402
from benchmarks.suites.memory import suite_memory  # noqa: E402
from benchmarks.suites.modes import (  # noqa: E402
    COMPAT_MODES,
    VARIANT_MODES,
    suite_compat,
    suite_variants,
)
from benchmarks.suites.reproducibility import suite_reproducibility  # noqa: E402
from benchmarks.suites.scale import suite_scale  # noqa: E402
from benchmarks.suites.sparse import suite_sparse  # noqa: E402
from benchmarks.suites.spread import suite_spread  # noqa: E402
from benchmarks.suites.start import suite_start  # noqa: E402
from benchmarks.suites.transform import suite_transform  # noqa: E402


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

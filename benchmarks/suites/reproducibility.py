"""``run.py reproducibility``: the cost of a portable build, and digests across CPUs."""

from __future__ import annotations

import sys

from benchmarks.suites.common import brief, table, worker


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
            print(f"  {dataset} {numba_cpu}/{variant}: {brief(result, 'fit_median_s')}",
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

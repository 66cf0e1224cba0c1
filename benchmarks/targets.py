"""Emulated CPUs and compilation variants, for the quality-spread and reproducibility suites.

A *CPU target* is the environment a fresh process starts with, so that this machine computes
as another x86-64 machine would, through each library that picks code by CPU:

* numba compiles for ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` instead of the host CPU;
* OpenBLAS (numpy's and scipy's) uses the kernels of ``OPENBLAS_CORETYPE``;
* numpy's SIMD loops stop at the features ``NPY_DISABLE_CPU_FEATURES`` leaves;
* glibc's libm picks its non-FMA ``exp`` / ``log`` / ``pow`` / ``sin`` variants when
  ``GLIBC_TUNABLES`` hides FMA and AVX2 (their results differ in the last bit for some
  inputs: measured here on 20,000 inputs each for exp, pow, sin, log2).

A *variant* is how umapx's kernels are compiled: ``fastmath`` (the shipped flags) or
``strict`` (no reassociation, contraction or approximate functions: what bit-identical
results across CPUs would need from numba). The worker applies ``strict`` by setting every
umapx kernel's ``fastmath`` option to False before its first compilation; its compiled code
goes to a numba cache of its own (numba's cache key does not include the flags).
"""

from __future__ import annotations

from pathlib import Path

CACHE_ROOT = Path(__file__).resolve().parent / "results" / "numba-cache"

CPU_TARGETS = {
    "host": {},
    "haswell": {  # AVX2 + FMA, no AVX-512
        "NUMBA_CPU_NAME": "haswell",
        "NUMBA_CPU_FEATURES": "+avx2,+fma,+avx,+sse4.2,+popcnt,+bmi2,+f16c",
        "OPENBLAS_CORETYPE": "Haswell",
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    },
    "generic": {  # x86-64 baseline: SSE2, no FMA
        "NUMBA_CPU_NAME": "generic",
        "OPENBLAS_CORETYPE": "Prescott",
        "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
        "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F,-AVX",
    },
}

VARIANTS = ("fastmath", "strict")

#: Environment variable the worker reads to compile umapx's kernels without fastmath.
STRICT_FP_ENV = "UMAPX_BENCH_STRICT_FP"


def environment(cpu="host", variant="fastmath", numba_cpu=None):
    """The environment of a worker process emulating ``cpu``, with umapx's kernels compiled
    as ``variant`` for ``numba_cpu`` (default: for ``cpu``, as numba does on that machine)."""
    env = dict(CPU_TARGETS[cpu])
    if numba_cpu is not None:
        env = {key: value for key, value in env.items() if not key.startswith("NUMBA_")}
        env.update({key: value for key, value in CPU_TARGETS[numba_cpu].items()
                    if key.startswith("NUMBA_")})
    if variant == "strict":
        env[STRICT_FP_ENV] = "1"
    build = (env.get("NUMBA_CPU_NAME", "host"), variant)
    if build != ("host", "fastmath"):  # the shipped host build keeps numba's default cache
        cache = CACHE_ROOT / "-".join(build)
        cache.mkdir(parents=True, exist_ok=True)
        env["NUMBA_CACHE_DIR"] = str(cache)
    return env


def use_strict_fp():
    """Compile every umapx kernel without fastmath (call before the first compilation)."""
    import sys

    from numba.core.registry import CPUDispatcher

    import umapx  # noqa: F401  (imports every kernel module)

    count = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("umapx"):
            continue
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and value.targetoptions.get("fastmath"):
                if value.signatures:
                    raise RuntimeError(f"{value.__name__} is already compiled")
                value.targetoptions["fastmath"] = False
                count += 1
    return count

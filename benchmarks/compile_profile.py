"""Where the first run's compile time goes: numba compilations of one scenario, by kernel.

    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/compile_profile.py digits-fit
    python benchmarks/compile_profile.py save-fashion MODEL      (fits and saves, cache warm)
    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/compile_profile.py first-query MODEL
    ... compile_profile.py digits-fit --signatures     (also every specialisation's types)
    ... compile_profile.py digits-fit --self           (also each kernel's own compile time)

``digits-fit`` fits sklearn's digits; ``first-query`` loads a saved model and runs its first
``transform`` (the 10k Fashion-MNIST test images) and ``inverse_transform`` (100 points). With an
empty ``NUMBA_CACHE_DIR`` every kernel the scenario uses is compiled; with a warm one they are
loaded from the cache. Prints wall and CPU seconds of each step, then each kernel's compile
CPU time (outermost compilations only: a kernel's time includes the helpers compiled inside it)
and number of specialisations, largest first; with ``--signatures``, the argument types of every
specialisation compiled (inner ones too), to spot twins that differ only in a dtype, layout or
read-only flag; with ``--self``, every kernel's own compile time (inner ones too, the time of
the compilations nested in it subtracted), to see which body is large.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict


def _steps(scenario, argument):
    import numpy as np

    import umapx

    if scenario == "digits-fit":
        from sklearn.datasets import load_digits

        data = load_digits().data
        yield "fit digits", lambda: umapx.UMAP().fit(data)
    elif scenario == "save-fashion":
        train, _ = umapx.datasets.load_fashion_mnist(subset="train", download=False)
        yield "fit fashion", lambda: umapx.UMAP(random_state=42).fit(train / 255.0).save(argument)
    elif scenario == "first-query":
        test, _ = umapx.datasets.load_fashion_mnist(subset="test", download=False)
        model = umapx.load(argument)
        points = model.embedding_[:100].astype(np.float64) + 0.01
        yield "first transform (10k)", lambda: model.transform(test / 255.0)
        yield "first inverse (100)", lambda: model.inverse_transform(points)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")


def main(argv):
    from numba.core import event

    class CPUClock(event.Listener):
        """Compile events stamped with the process's CPU time (steady on a busy machine)."""

        def __init__(self):
            self.buffer = []

        def on_start(self, record):
            self.buffer.append((time.process_time(), record))

        def on_end(self, record):
            self.buffer.append((time.process_time(), record))

    show_signatures = "--signatures" in argv
    show_self = "--self" in argv
    argv = [arg for arg in argv if arg not in ("--signatures", "--self")]
    scenario, argument = argv[0], (argv[1] if len(argv) > 1 else None)
    began = time.perf_counter()
    recorder = CPUClock()
    with event.install_listener("numba:compile", recorder):
        import umapx  # noqa: F401

        print(f"import umapx: {time.perf_counter() - began:.2f} s")
        for name, step in _steps(scenario, argument):
            wall, cpu = time.perf_counter(), time.process_time()
            step()
            print(f"{name}: {time.perf_counter() - wall:.2f} s (CPU "
                  f"{time.process_time() - cpu:.2f} s)")
    seconds, count, depth, opened = defaultdict(float), defaultdict(int), 0, {}
    signatures = defaultdict(list)
    own, nested = defaultdict(float), []  # nested: [name, start, seconds of inner ones]
    for stamp, record in recorder.buffer:
        name = record.data["dispatcher"].py_func.__qualname__
        if record.is_start:
            signatures[name].append(", ".join(str(arg) for arg in record.data["args"]))
            if depth == 0:
                opened = {"name": name, "start": stamp}
            depth += 1
            count[name] += 1
            nested.append([name, stamp, 0.0])
        else:
            depth -= 1
            if depth == 0:
                seconds[opened["name"]] += stamp - opened["start"]
            inner_name, start, inner = nested.pop()
            own[inner_name] += stamp - start - inner
            if nested:
                nested[-1][2] += stamp - start
    total = sum(seconds.values())
    print(f"\ncompilation: {total:.2f} s of CPU time in {sum(count.values())} specialisations "
          f"of {len(count)} kernels")
    for name in sorted(seconds, key=seconds.get, reverse=True)[:25]:
        print(f"  {seconds[name]:7.2f} s  {count[name]:3d}x  {name}")
    if show_self:
        print("\nown compile time (nested compilations subtracted), largest first:")
        for name in sorted(own, key=own.get, reverse=True)[:25]:
            print(f"  {own[name]:7.2f} s  {name}")
    if show_signatures:
        print("\nevery specialisation compiled (inner ones too), by kernel:")
        for name in sorted(signatures, key=lambda name: -len(signatures[name])):
            print(f"  {name}: {len(signatures[name])}")
            for signature in signatures[name]:
                print(f"      ({signature})")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Warm speed of the Fashion-MNIST steps, with a check that nothing was compiled:

    python benchmarks/warm_steps.py
    PYTHONPATH=<checkout of the base>/src python benchmarks/warm_steps.py   (the base beside it)

Run it twice per version (the first run fills that version's numba cache). Prints JSON: for
the seeded fit, the transform of the 10k test images (twice) and the inverse of 1,000 points,
``[CPU s, wall s, numba compilations]`` (a step that compiled is not a warm figure), the fit's
``timings_`` and digests of the embedding, transform and inverse (equal digests: bit-identical
results between two versions on one machine).
"""

from __future__ import annotations

import hashlib
import json
import time


def main():
    import numpy as np
    from numba.core import event

    import umapx

    out, compiled = {}, [0]

    class Count(event.Listener):
        def on_start(self, record):
            compiled[0] += 1

        def on_end(self, record):
            pass

    def step(name, run):
        wall, cpu, before = time.perf_counter(), time.process_time(), compiled[0]
        result = run()
        out[name] = [round(time.process_time() - cpu, 2), round(time.perf_counter() - wall, 2),
                     compiled[0] - before]
        return result

    def digest(array):
        return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:12]

    with event.install_listener("numba:compile", Count()):
        train, _ = umapx.datasets.load_fashion_mnist(subset="train", download=False)
        test, _ = umapx.datasets.load_fashion_mnist(subset="test", download=False)
        model = step("fashion fit", lambda: umapx.UMAP(random_state=42).fit(train / 255.0))
        placed = step("fashion transform 10k", lambda: model.transform(test / 255.0))
        step("fashion transform 10k again", lambda: model.transform(test / 255.0))
        points = model.embedding_[:1000].astype(np.float64) + 0.01
        generated = step("fashion inverse 1k", lambda: model.inverse_transform(points))
    out["timings_"] = {name: round(s, 2) for name, s in getattr(model, "timings_", {}).items()}
    out["digests"] = [digest(model.embedding_), digest(placed), digest(generated)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

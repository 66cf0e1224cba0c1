"""Warm CPU seconds of a saved model's transform and inverse_transform, for before/after checks:

    python benchmarks/warm_transform.py MODEL      (a saved Fashion-MNIST model, cache warm)

Loads the Fashion-MNIST test images and ``MODEL`` (``compile_profile.py save-fashion MODEL``),
then prints, as JSON, the CPU seconds of three transforms of the 10k images and of one
inverse_transform of 1,000 points, and digests of the results (bit-identity across versions).
Run it once to warm the numba cache, then alternately per version.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time


def main(argv):
    import numpy as np

    import umapx

    test, _ = umapx.datasets.load_fashion_mnist(subset="test", download=False)
    images = test / 255.0
    model = umapx.load(argv[0])
    transform_cpu = []
    for _ in range(3):
        began = time.process_time()
        placed = model.transform(images)
        transform_cpu.append(round(time.process_time() - began, 3))
    began = time.process_time()
    generated = model.inverse_transform(model.embedding_[:1000].astype(np.float64) + 0.01)
    inverse_cpu = round(time.process_time() - began, 3)
    digest = "/".join(hashlib.sha256(a.tobytes()).hexdigest()[:16] for a in (placed, generated))
    print(json.dumps({"transform_cpu_s": transform_cpu, "inverse_1000_cpu_s": inverse_cpu,
                      "digest": digest}))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Pinned behaviour on the digits data: what the same ``random_state`` must keep producing.

Two kinds of pins, written by ``python tests/pins.py`` into ``tests/fixtures/``:

* ``digits-stages.npz``: the fuzzy graph, local scales and curve of 300 digits. These come out
  of short, well-conditioned computations, so they agree to ~1e-5 on any CPU; the test compares
  them with a tolerance.
* ``digits-digests.json``: SHA-256 digests of whole-pipeline outputs (embeddings, transforms,
  inverse transforms). Kernels are compiled for the host CPU and the layout is chaotic, so these
  are bit-exact only on a machine like the one that wrote them; the test checks them where the
  machine signature matches and skips elsewhere.

Regenerate both, in a separate commit that says why, whenever a change alters results on
purpose.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import warnings
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"
STAGES = FIXTURES / "digits-stages.npz"
DIGESTS = FIXTURES / "digits-digests.json"

# Whole-pipeline cases: constructor parameters of each pinned fit.
CASES = {
    "default": {"random_state": 42, "n_epochs": 100},
    "nndescent": {"random_state": 42, "n_epochs": 60, "knn_method": "nndescent"},
    "3d-pca": {"random_state": 1, "n_components": 3, "n_epochs": 60, "init": "pca"},
    "cosine": {"random_state": 3, "metric": "cosine", "n_epochs": 60},
    "chebyshev": {"random_state": 3, "metric": "chebyshev", "n_epochs": 40},
}


def digits():
    from sklearn.datasets import load_digits

    data, labels = load_digits(return_X_y=True)
    return data.astype(np.float32), labels


def machine_signature():
    """What decides floating-point results: CPU target, library versions, platform."""
    import llvmlite.binding as llvm
    import numba
    import scipy
    import sklearn

    return {
        "cpu": numba.config.CPU_NAME or llvm.get_host_cpu_name(),
        "cpu_features": numba.config.CPU_FEATURES or llvm.get_host_cpu_features().flatten(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "numba": numba.__version__,
    }


def stage_values():
    """Graph, local scales and curve of the first 300 digits (comparable with a tolerance)."""
    import umapx

    data, _ = digits()
    mapper = umapx.UMAP(n_neighbors=10, n_epochs=0, init="random", random_state=0)
    mapper.fit(data[:300])
    graph = mapper.graph_.tocoo()
    return {"graph_row": graph.row, "graph_col": graph.col, "graph_data": graph.data,
            "sigmas": mapper.sigmas_, "rhos": mapper.rhos_,
            "knn_indices": mapper.knn_indices_, "ab": np.array([mapper.a_, mapper.b_])}


def digests():
    """SHA-256 of every pinned whole-pipeline output."""
    import umapx

    data, labels = digits()
    train, test = data[:1500], data[1500:]
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, params in CASES.items():
            mapper = umapx.UMAP(**params).fit(train)
            points = mapper.embedding_[:50] + np.float32(0.3)
            samples, confidence = mapper.inverse_transform(points, return_confidence=True)
            outputs = {"embedding": mapper.embedding_, "transform": mapper.transform(test),
                       "inverse": samples, "confidence": confidence}
            for output, array in outputs.items():
                found[f"{name}/{output}"] = _digest(array)
        supervised = umapx.UMAP(random_state=7, n_epochs=60).fit(train, labels[:1500])
        found["supervised/embedding"] = _digest(supervised.embedding_)
    return found


def _digest(array):
    array = np.ascontiguousarray(array)
    return hashlib.sha256(str(array.dtype).encode() + str(array.shape).encode()
                          + array.tobytes()).hexdigest()


def write():
    FIXTURES.mkdir(exist_ok=True)
    np.savez(STAGES, **stage_values())
    DIGESTS.write_text(json.dumps({"signature": machine_signature(), "digests": digests()},
                                  indent=1) + "\n")
    print(f"wrote {STAGES} and {DIGESTS}")


if __name__ == "__main__":
    sys.exit(write())

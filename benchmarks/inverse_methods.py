"""The measurements behind umapx's choice of inverse-transform method.

    python benchmarks/inverse_methods.py [--datasets mnist10k,fashion] [--queries 1000]

Fits umapx once per dataset (random_state=42), places held-out samples with ``transform`` and
reconstructs them from their embedding points with candidate methods, all blending the ``k``
training samples embedded nearest to the point:

* ``umap-kernel``: weights ``phi(d_i) - phi(d_(k+1))`` with the model's curve (umapx's method);
* ``umap-kernel-raw``: weights ``phi(d_i)`` (not continuous where the neighbour set changes);
* ``gaussian``: ``exp(-(d_i / (h/2))^2)`` with ``h`` the (k+1)-th distance;
* ``local-linear``: weighted least squares of the samples on their embedding offsets (ridge
  1e-2), evaluated at the point and clipped to the data range;

and prints the inverse measures of ``umapx.evaluation`` for each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.datasets import as_float32, load  # noqa: E402


def _weights(method, dists, a, b):
    if method == "gaussian":
        h = dists[:, -1:] + 1e-12
        w = np.exp(-((dists[:, :-1] / (0.5 * h)) ** 2))
    else:
        phi = 1.0 / (1.0 + a * dists ** (2 * b))
        w = phi[:, :-1] if method == "umap-kernel-raw" else np.maximum(phi[:, :-1] - phi[:, -1:],
                                                                        0.0)
    w = w + 1e-300
    return w / w.sum(axis=1, keepdims=True)


def reconstruct(method, train, embedding, points, k, a, b):
    from scipy.spatial import cKDTree

    dists, idx = cKDTree(embedding).query(points, k=k + 1)
    weights = _weights("umap-kernel" if method == "local-linear" else method, dists, a, b)
    neighbours = idx[:, :k]
    if method != "local-linear":
        return np.einsum("qk,qkd->qd", weights, train[neighbours])
    out = np.empty((len(points), train.shape[1]))
    for q in range(len(points)):
        offsets = embedding[neighbours[q]] - points[q]
        design = np.hstack([np.ones((k, 1)), offsets])
        weighted = design.T * weights[q]
        gram = weighted @ design + 1e-2 * np.diag([0.0] + [1.0] * offsets.shape[1])
        out[q] = np.linalg.solve(gram, weighted @ train[neighbours[q]])[0]
    return np.clip(out, train.min(axis=0), train.max(axis=0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="mnist10k,fashion")
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args(argv)

    from sklearn.neighbors import KNeighborsClassifier

    import umapx
    from umapx import evaluation

    for dataset in args.datasets.split(","):
        train, train_labels, test, test_labels = as_float32(*load(dataset))
        test, test_labels = test[: args.queries], test_labels[: args.queries]
        mapper = umapx.UMAP(random_state=42).fit(train)
        points = mapper.transform(test).astype(np.float64)
        classifier = KNeighborsClassifier(n_neighbors=10).fit(train, train_labels)
        spacing = evaluation.embedding_spacing(mapper.embedding_)
        print(f"\n{dataset}: {len(train)} training, {len(test)} held-out samples")
        print(f"{'method':>16} {'k':>3} {'MSE':>7} {'labels':>7} {'round trip':>10} {'novelty':>8}")
        for method in ("umap-kernel", "umap-kernel-raw", "gaussian", "local-linear"):
            for k in (5, 15, 30):
                generated = reconstruct(method, train, mapper.embedding_.astype(np.float64),
                                        points, k, mapper.a_, mapper.b_)
                print(f"{method:>16} {k:>3} "
                      f"{evaluation.reconstruction_mse(test, generated):7.4f} "
                      f"{evaluation.label_preservation(generated, test_labels, classifier):7.3f} "
                      f"{evaluation.round_trip_error(mapper.transform, generated, points, spacing):10.2f} "  # noqa: E501
                      f"{evaluation.novelty_ratio(generated, test, train):8.2f}")


if __name__ == "__main__":
    main()

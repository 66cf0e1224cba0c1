"""A fitted UMAP pickles (that is how it travels to dask workers): unpickled in a fresh process,
it transforms and inverse-transforms bit-identically, whatever lazily built state it carries."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numba
import numpy as np

import umapx


@numba.njit
def _l1_user_metric(x, y):
    total = 0.0
    for i in range(x.shape[0]):
        total += abs(x[i] - y[i])
    return total


_UNPICKLE_AND_RUN = """
import pickle, sys, warnings
import numpy as np
with open(sys.argv[1], "rb") as handle:
    cases = pickle.load(handle)
results = []
for mapper, rows, points in cases:
    result = [mapper.transform(rows)]
    if points is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result += list(mapper.inverse_transform(points, return_confidence=True))
    results.append(result)
with open(sys.argv[2], "wb") as handle:
    pickle.dump(results, handle)
"""

CASES = [  # (settings, used before pickling: search graph and embedding tree already built)
    ({"knn_method": "exact"}, False),
    ({"knn_method": "exact", "metric": "cosine"}, True),
    ({"knn_method": "nndescent"}, False),
    ({"knn_method": "nndescent"}, True),
    ({"metric": _l1_user_metric}, False),  # a numba dispatcher in the fitted state
]


def test_unpickled_models_are_bit_identical_in_a_fresh_process(digits, tmp_path):
    data = digits[0].astype(np.float32)
    rows = data[1200:]
    cases, expected = [], []
    for settings, used_before in CASES:
        mapper = umapx.UMAP(random_state=0, n_epochs=60, **settings).fit(data[:1200])
        invertible = not callable(settings.get("metric"))
        points = mapper.embedding_[::7] + np.float32(0.2) if invertible else None
        if used_before:
            mapper.transform(rows[:3])
            mapper.inverse_transform(points[:3])
        cases.append((mapper, rows, points))
    (tmp_path / "models.pkl").write_bytes(pickle.dumps(cases))
    subprocess.run([sys.executable, "-c", _UNPICKLE_AND_RUN, tmp_path / "models.pkl",
                    tmp_path / "results.pkl"], check=True)
    results = pickle.loads((tmp_path / "results.pkl").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for (mapper, rows, points), result in zip(cases, results):
            expected = [mapper.transform(rows)]
            if points is not None:
                expected += list(mapper.inverse_transform(points, return_confidence=True))
            assert len(result) == len(expected)
            assert all(np.array_equal(a, b) for a, b in zip(result, expected))


def test_unpickled_model_keeps_its_parameters_and_fitted_state(fitted_digits):
    mapper = fitted_digits[0]
    copy = pickle.loads(pickle.dumps(mapper))
    assert copy.get_params() == mapper.get_params()
    for name in ("embedding_", "knn_indices_", "knn_dists_", "sigmas_", "rhos_"):
        assert np.array_equal(getattr(copy, name), getattr(mapper, name))
    assert (copy.graph_ != mapper.graph_).nnz == 0 and (copy.a_, copy.b_) == (mapper.a_,
                                                                             mapper.b_)

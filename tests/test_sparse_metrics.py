"""Sparse metric kernels against scipy (or the metric's formula) on densified small matrices,
canonical CSR, and umap-learn's ``umap.sparse`` names."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from scipy.spatial import distance as scipy_distance
from scipy.special import betaln

from umapx import metrics, sparse


def _matrix(seed, n_rows=14, n_features=25, density=0.3, counts=False, empty_rows=()):
    rng = np.random.RandomState(seed)
    X = scipy.sparse.random(n_rows, n_features, density=density, format="csr",
                            random_state=rng)
    X.data = np.round(X.data * 4) + 1 if counts else X.data * 2 - 0.5
    X = X.tolil()
    for row in empty_rows:
        X[row, :] = 0
    return X.tocsr().astype(np.float32)


def _hellinger(x, y):
    if x.sum() == 0 and y.sum() == 0:
        return 0.0
    if x.sum() == 0 or y.sum() == 0:
        return 1.0
    return np.sqrt(max(1.0 - np.sqrt(x * y).sum() / np.sqrt(x.sum() * y.sum()), 0.0))


def _ll_dirichlet(x, y):
    n1, n2 = x.sum(), y.sum()
    if n1 == 0 and n2 == 0:
        return 0.0
    if n1 == 0 or n2 == 0:
        return sparse.EMPTY_ROW_DIRICHLET
    both = (x > 0) & (y > 0)
    joint = betaln(x[both], y[both]).sum()
    self_x = betaln(x[x > 0], x[x > 0]).sum()
    self_y = betaln(y[y > 0], y[y > 0]).sum()
    value = ((joint - betaln(n1, n2) - self_y + betaln(n2, n2)) / n2
             + (joint - betaln(n2, n1) - self_x + betaln(n1, n1)) / n1)
    return np.sqrt(max(value, 0.0))


def _counts(x, y):
    x, y = x != 0, y != 0
    return (x & y).sum(), (x & ~y).sum() + (~x & y).sum(), len(x)


def _kulsinski(x, y):
    both, differ, n = _counts(x, y)
    return 0.0 if differ == 0 else (differ - both + n) / (differ + n)


def _sokalmichener(x, y):
    both, differ, n = _counts(x, y)
    return 2.0 * differ / (n + differ)


def _russellrao(x, y):
    both, differ, n = _counts(x, y)
    return 0.0 if differ == 0 else (n - both) / n


def _scipy_boolean(name):
    return lambda x, y: scipy_distance.cdist((x != 0)[None], (y != 0)[None], name)[0, 0]


# Reference of each sparse metric on dense float64 rows.
REFERENCES = {
    "euclidean": lambda x, y: scipy_distance.euclidean(x, y),
    "manhattan": lambda x, y: scipy_distance.cityblock(x, y),
    "chebyshev": lambda x, y: scipy_distance.chebyshev(x, y),
    "minkowski": lambda x, y: scipy_distance.minkowski(x, y, p=3),
    "cosine": lambda x, y: scipy_distance.cosine(x, y),
    "correlation": lambda x, y: scipy_distance.correlation(x, y),
    "canberra": lambda x, y: scipy_distance.canberra(x, y),
    "braycurtis": lambda x, y: scipy_distance.braycurtis(x, y),
    "hellinger": _hellinger,
    "ll_dirichlet": _ll_dirichlet,
    "hamming": lambda x, y: scipy_distance.hamming(x, y),
    "jaccard": _scipy_boolean("jaccard"),
    "dice": _scipy_boolean("dice"),
    "matching": _scipy_boolean("matching"),
    "kulsinski": _kulsinski,
    "rogerstanimoto": _scipy_boolean("rogerstanimoto"),
    "russellrao": _russellrao,
    "sokalmichener": _sokalmichener,
    "sokalsneath": _scipy_boolean("sokalsneath"),
}
NEEDS_COUNTS = {"hellinger", "ll_dirichlet"}


def test_every_sparse_metric_has_a_reference():
    assert set(REFERENCES) == set(sparse.sparse_metric_names())


def _resolve(name):
    return metrics.resolve_metric(name, {"p": 3} if name == "minkowski" else None)


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_metric_matches_its_reference(name, seed):
    X = _matrix(seed, counts=name in NEEDS_COUNTS)
    ours = sparse.pairwise_distances(_resolve(name), X[:6], X[6:])
    dense = X.toarray().astype(np.float64)
    expected = np.array([[REFERENCES[name](x, y) for y in dense[6:]] for x in dense[:6]])
    if name == "russellrao":  # scipy gives (n - both) / n between equal patterns too
        same = (dense[:6, None] != 0) == (dense[None, 6:] != 0)
        expected[same.all(axis=2)] = 0.0
    np.testing.assert_allclose(ours, expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_empty_rows_and_self_distances(name):
    X = _matrix(3, counts=name in NEEDS_COUNTS, empty_rows=(0, 1))
    ours = sparse.pairwise_distances(_resolve(name), X, X)
    assert np.all(np.isfinite(ours)) and np.all(ours >= 0)
    assert ours[0, 1] == 0.0  # two empty rows
    np.testing.assert_allclose(np.diag(ours), 0.0, atol=1e-3)
    np.testing.assert_allclose(ours, ours.T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["cosine", "correlation", "hellinger"])
def test_empty_row_is_at_distance_one_of_others(name):
    X = _matrix(4, counts=True, empty_rows=(0,))
    ours = sparse.pairwise_distances(_resolve(name), X[:1], X[1:])
    np.testing.assert_array_equal(ours, 1.0)


def test_explicit_zeros_and_unsorted_duplicates_change_nothing():
    X = _matrix(5)
    coo = X.tocoo()
    rng = np.random.RandomState(0)
    order = rng.permutation(coo.nnz)
    # Split every value into two duplicates, shuffle, and add explicit zeros.
    rows = np.concatenate([coo.row[order], coo.row[order], coo.row[:5]])
    cols = np.concatenate([coo.col[order], coo.col[order], (coo.col[:5] + 1) % X.shape[1]])
    vals = np.concatenate([coo.data[order] * 0.25, coo.data[order] * 0.75, np.zeros(5)])
    messy = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=X.shape)
    messy.has_canonical_format = False
    messy = scipy.sparse.csr_matrix((np.concatenate([messy.data, [0.0]]),
                                     np.concatenate([messy.indices, [0]]),
                                     np.r_[messy.indptr[:-1], messy.indptr[-1] + 1]),
                                    shape=X.shape)
    for name in sorted(REFERENCES):
        metric = _resolve(name)
        clean, noisy = X, messy
        if name in NEEDS_COUNTS:
            clean, noisy = abs(X), abs(messy)
        np.testing.assert_allclose(sparse.pairwise_distances(metric, noisy, noisy),
                                   sparse.pairwise_distances(metric, clean, clean),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def test_compatibility_functions_agree_with_the_kernels():
    X = _matrix(6, counts=True)
    rows = [(X.indices[X.indptr[i]:X.indptr[i + 1]], X.data[X.indptr[i]:X.indptr[i + 1]])
            for i in range(X.shape[0])]
    canonical = {sparse.sparse_named_distances[name]: name
                 for name in sparse.sparse_metric_names()}
    for name, function in sparse.sparse_named_distances.items():
        expected = sparse.pairwise_distances(metrics.resolve_metric(canonical[function]), X, X)
        extra = (X.shape[1],) if name in sparse.sparse_need_n_features else ()
        found = np.array([[function(*rows[i], *rows[j], *extra) for j in range(len(rows))]
                          for i in range(len(rows))])
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6, err_msg=name)


def test_search_distances_rank_like_the_metric():
    X = _matrix(7)
    for name in ("euclidean", "cosine"):
        metric = metrics.resolve_metric(name)
        rows = sparse.prepare_rows(metric, sparse.canonical_csr(X))
        search = sparse._pairwise(sparse.search_args(metric), rows, rows)
        true = sparse.pairwise_distances(metric, X, X)
        for i in range(X.shape[0]):
            np.testing.assert_array_equal(np.argsort(search[i], kind="stable")[1:],
                                          np.argsort(true[i], kind="stable")[1:])


def test_table_says_which_metrics_are_sparse():
    for spec in metrics.METRICS:
        if spec.sparse:
            x = sparse.canonical_csr(abs(_matrix(8, n_rows=2)))
            value = sparse.pairwise_distances(metrics.resolve_metric(spec.name), x[:1], x[1:])
            assert np.isfinite(value[0, 0]), spec.name
    assert metrics.resolve_metric("hellinger").spec.sparse


# ----------------------------------------------------------------------------------------------
# Canonical CSR
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("convert", [
    lambda X: X.tocsc(), lambda X: X.tocoo(), lambda X: scipy.sparse.csr_array(X),
    lambda X: scipy.sparse.coo_array(X), lambda X: X.astype(np.float64),
    lambda X: (X != 0).astype(bool), lambda X: (X * 10).astype(np.int64),
    lambda X: scipy.sparse.csr_matrix((X.data, X.indices.astype(np.int64),
                                       X.indptr.astype(np.int64)), shape=X.shape),
], ids=["csc", "coo", "csr_array", "coo_array", "float64", "bool", "int64", "int64-indices"])
def test_canonical_csr_of_any_format(convert):
    X = _matrix(9)
    given = convert(X)
    snapshot = {name: getattr(given, name).copy() for name in ("data", "indices", "indptr", "row",
                                                                "col") if hasattr(given, name)}
    result = sparse.canonical_csr(given)
    assert result.format == "csr" and result.dtype == np.float32
    assert result.indices.dtype == np.int32
    assert sparse.canonical_csr_arrays_status(result.indptr, result.indices, X.shape[1]) == ""
    expected = given.toarray().astype(np.float32)
    np.testing.assert_array_equal(result.toarray(), expected)
    sparse_array = isinstance(given, scipy.sparse.sparray)
    assert isinstance(result, scipy.sparse.sparray) == sparse_array
    for name, before in snapshot.items():  # the input is never modified
        np.testing.assert_array_equal(getattr(given, name), before)


def test_canonical_csr_shares_a_canonical_float32_matrix():
    X = _matrix(10)
    result = sparse.canonical_csr(X)
    assert np.shares_memory(result.data, X.data) and np.shares_memory(result.indices, X.indices)


@pytest.mark.parametrize("bad, error, message", [
    (lambda X: X.multiply(np.nan).tocsr(), ValueError, "NaN or infinity"),
    (lambda X: X * np.inf, ValueError, "NaN or infinity"),
    (lambda X: X.astype(np.complex64), TypeError, "complex64"),
    (lambda X: X.astype(np.float64) * 1e300, ValueError, "too large for float32"),
    (lambda X: scipy.sparse.csr_matrix((X.data, X.indices + 100, X.indptr), shape=X.shape),
     ValueError, "column index"),
])
def test_canonical_csr_refuses_bad_matrices(bad, error, message):
    with pytest.raises(error, match=message):
        sparse.canonical_csr(bad(_matrix(11)))

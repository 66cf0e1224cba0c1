"""Nearest-neighbour search: exact against brute force, NN-descent recall, determinism."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from umapx._jit import numba_threads
from umapx.knn import NeighborIndex
from umapx.knn._heap import empty_heaps, heap_push, sort_heap
from umapx.metrics import resolve_metric


def _recall(found, truth):
    return np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)])


def test_heap_keeps_the_smallest_distinct_entries():
    rng = np.random.RandomState(0)
    values = rng.rand(50).astype(np.float32)
    dists, idx = empty_heaps(1, 5)
    for j, v in enumerate(values):
        heap_push(dists[0], idx[0], v, j)
        heap_push(dists[0], idx[0], v, j)  # duplicates are refused
    sort_heap(dists[0], idx[0])
    order = np.argsort(values)[:5]
    assert np.array_equal(idx[0], order)
    assert np.array_equal(dists[0], values[order])


@pytest.mark.parametrize("name", ["euclidean", "cosine", "correlation", "manhattan", "canberra"])
def test_exact_index_matches_brute_force(name, digits):
    data = digits[0][:400]
    metric = resolve_metric(name)
    _, indices, dists = NeighborIndex.build(data, 10, metric, method="exact")
    scipy_name = {"manhattan": "cityblock"}.get(name, name)
    reference = cdist(data, data, scipy_name)
    np.fill_diagonal(reference, -1)  # self first
    expected = np.sort(reference, axis=1)[:, :10]
    expected[:, 0] = 0
    np.testing.assert_allclose(dists, expected, rtol=1e-4, atol=2e-5)
    assert np.array_equal(indices[:, 0], np.arange(400))


def test_user_metric_index(digits):
    @numba.njit
    def l1(x, y):
        return np.abs(x - y).sum()

    data = digits[0][:300]
    _, indices, dists = NeighborIndex.build(data, 8, resolve_metric(l1), method="exact")
    _, ref_indices, ref_dists = NeighborIndex.build(data, 8, resolve_metric("manhattan"),
                                                    method="exact")
    np.testing.assert_allclose(dists, ref_dists, rtol=1e-5)


def test_user_metric_queries_an_nndescent_index(digits):
    # The search kernel calls a per-chunk kernel: both must measure with the user's function.
    @numba.njit
    def l1(x, y):
        return np.abs(x - y).sum()

    data = digits[0].astype(np.float32)
    found = []
    for metric in (resolve_metric(l1), resolve_metric("manhattan")):
        index, _, _ = NeighborIndex.build(data[:1500], 10, metric, method="nndescent", seed=3)
        found.append(index.query(data[1500:], 10))
    assert np.array_equal(found[0][0], found[1][0])
    np.testing.assert_allclose(found[0][1], found[1][1], rtol=1e-5)


@pytest.mark.parametrize("name", ["euclidean", "cosine", "manhattan"])
def test_nndescent_recall_at_15(name, digits):
    """Euclidean recall over 24 builds (8 seeds x 3 CPU targets, benchmarks/test_margins.py):
    0.9957-0.9973 (threshold 0.95)."""
    data = digits[0]
    metric = resolve_metric(name)
    _, approx, _ = NeighborIndex.build(data, 15, metric, method="nndescent", seed=3)
    _, exact, _ = NeighborIndex.build(data, 15, metric, method="exact")
    assert _recall(approx, exact) >= 0.95


@pytest.mark.slow
def test_nndescent_recall_on_mnist_sample(mnist10k):
    """The acceptance check: recall >= 0.95 at k=15 against exact search, on a sample."""
    data = mnist10k[0].astype(np.float32)
    metric = resolve_metric("euclidean")
    _, approx, _ = NeighborIndex.build(data, 15, metric, method="nndescent", seed=0)
    sample = np.random.RandomState(0).choice(len(data), 500, replace=False)
    index = NeighborIndex(metric, metric.prepare(data), "exact")
    exact, _ = index.query(data[sample], 15)
    assert _recall(approx[sample], exact) >= 0.95


def test_nndescent_is_identical_across_thread_counts(digits):
    data = digits[0]
    metric = resolve_metric("euclidean")
    results = []
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            _, idx, dists = NeighborIndex.build(data, 10, metric, method="nndescent", seed=11)
        results.append((idx, dists))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_nndescent_on_wide_rows_is_identical_across_thread_counts_and_finds_neighbours(digits):
    """Rows wider than 256 dimensions: the trees after the first split random projections of
    them (knn.nndescent._tree_rows). Recall 0.9977-0.9986 over seeds 0-5 (0.9977-0.9986
    without the projection), so 0.98 leaves a wide margin."""
    wide = (digits[0] @ np.random.RandomState(0).standard_normal((64, 320))).astype(np.float32)
    metric = resolve_metric("euclidean")
    results = []
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            results.append(NeighborIndex.build(wide, 15, metric, method="nndescent", seed=3)[1:])
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
    exact, _ = NeighborIndex(metric, metric.prepare(wide), "exact").query(wide, 15)
    assert _recall(results[0][0], exact) >= 0.98


def test_queries_find_true_neighbours_and_ignore_batching(digits):
    data, _ = digits
    train, test = data[:1400], data[1400:]
    metric = resolve_metric("euclidean")
    index, _, _ = NeighborIndex.build(train, 15, metric, method="nndescent", seed=0)
    found, found_d = index.query(test, 15)
    exact_index = NeighborIndex(metric, train, "exact")
    truth, truth_d = exact_index.query(test, 15)
    assert _recall(found, truth) >= 0.95
    part, part_d = index.query(test[50:120], 15)
    assert np.array_equal(part, found[50:120]) and np.array_equal(part_d, found_d[50:120])
    expected = np.sort(cdist(test, train), axis=1)[:, :15]
    np.testing.assert_allclose(truth_d, expected, rtol=1e-4, atol=1e-4)


def test_tiny_data_fills_every_neighbour_slot():
    data = np.random.RandomState(0).rand(12, 3).astype(np.float32)
    _, idx, dists = NeighborIndex.build(data, 11, resolve_metric("euclidean"), method="nndescent")
    assert (idx >= 0).all() and np.isfinite(dists).all()
    assert all(len(set(row)) == 11 for row in idx)


@pytest.mark.parametrize("name", ["euclidean", "cosine", "correlation"])
def test_exact_queries_do_not_depend_on_the_block(name, digits):
    # A one-row BLAS product takes another code path (gemv) with other rounding: the neighbours
    # of a row searched alone must still equal those found in any batch.
    data = digits[0]
    index = NeighborIndex(resolve_metric(name), resolve_metric(name).prepare(
        np.ascontiguousarray(data[:1500], np.float32)), "exact")
    queries = data[1500:]
    batch = index.query(queries, 15)
    for row in range(0, len(queries), 7):
        single = index.query(queries[row : row + 1], 15)
        assert np.array_equal(single[0][0], batch[0][row])
        assert np.array_equal(single[1][0], batch[1][row])


def test_exact_search_is_exact_far_from_the_origin():
    # |x|^2 - 2<x, y> + |y|^2 loses every digit of the distances here: the rows that the
    # rounding cannot rule out are all re-ranked exactly.
    rng = np.random.RandomState(0)
    data = (1000.0 + rng.rand(1200, 20)).astype(np.float32)
    index = NeighborIndex(resolve_metric("euclidean"), data[:1000], "exact")
    found, _ = index.query(data[1000:], 10)
    truth = np.argsort(cdist(data[1000:].astype(np.float64), data[:1000].astype(np.float64)),
                       axis=1, kind="stable")[:, :10]
    assert _recall(found, truth) == 1.0


def test_exact_search_breaks_ties_by_index():
    rows = np.random.RandomState(1).rand(300, 8).astype(np.float32)
    data = np.vstack([rows, rows])  # every distance appears twice: row j and row j + 300
    index = NeighborIndex(resolve_metric("euclidean"), data, "exact")
    found, dists = index.query(rows[:40] + 0.01, 7)
    assert np.all(found[:, 0::2] < 300) and np.array_equal(found[:, 1::2], found[:, 0:6:2] + 300)
    assert np.array_equal(dists[:, 0:6:2], dists[:, 1::2])


def test_take_rows_copies_dense_and_sparse_rows_in_order(digits):
    import scipy.sparse

    from umapx.knn._rows import take_rows
    from umapx.sparse import as_rows

    data = digits[0][:300]
    order = np.random.RandomState(0).permutation(300).astype(np.int32)
    assert np.array_equal(take_rows(data, order), data[order])
    matrix = scipy.sparse.csr_matrix(data)
    taken = take_rows(as_rows(matrix), order)
    rebuilt = scipy.sparse.csr_matrix((taken.data, taken.indices, taken.indptr),
                                      shape=matrix.shape)
    assert np.array_equal(rebuilt.toarray(), data[order])


def test_sparse_nndescent_is_identical_across_thread_counts_and_finds_neighbours(digits):
    """NN-descent on sparse rows (worked in leaf order like dense rows): same graph for any
    thread count, and the dense rows' recall (0.9957-0.9973 over seeds and CPU targets for
    euclidean; threshold 0.95 as for dense rows)."""
    import scipy.sparse

    data = digits[0]
    metric = resolve_metric("euclidean")
    results = []
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            _, idx, dists = NeighborIndex.build(scipy.sparse.csr_matrix(data), 15, metric,
                                                method="nndescent", seed=5)
        results.append((idx, dists))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
    _, exact, _ = NeighborIndex.build(data, 15, metric, method="exact")
    assert _recall(results[0][0], exact) >= 0.95


def _search_graph_by_definition(indices, distances, max_degree):
    """Each row: its neighbours and the rows listing it, a pair listed both ways at its smaller
    distance, the ``max_degree`` closest by (distance, index)."""
    n = len(indices)
    edges = [dict() for _ in range(n)]
    for i in range(n):
        for c, d in zip(indices[i], distances[i]):
            if c >= 0:
                for a, b in ((i, c), (c, i)):
                    edges[a][b] = min(d, edges[a].get(b, np.inf))
    rows = [sorted(row, key=lambda c: (row[c], c))[:max_degree] for row in edges]
    return np.cumsum([0] + [len(r) for r in rows]), np.concatenate([np.zeros(0, int), *rows])


@pytest.mark.parametrize("seed", range(4))
def test_search_graph_keeps_the_closest_forward_and_reverse_edges(seed):
    from umapx.knn import search_graph

    rng = np.random.RandomState(seed)
    n, m = 300, 8
    indices = np.array([rng.choice(n, m, replace=False) for _ in range(n)], np.int32)
    indices[rng.rand(n, m) < 0.1] = -1  # missing neighbours
    # Few distinct distances: many ties, broken by index.
    distances = rng.randint(0, 6, size=(n, m)).astype(np.float32)
    for max_degree in (1, m, m + 6, 4 * m):
        graph = search_graph(indices, distances, max_degree)
        indptr, neighbours = _search_graph_by_definition(indices, distances, max_degree)
        assert graph.indptr.dtype == np.int64 and graph.neighbours.dtype == np.int32
        assert np.array_equal(graph.indptr, indptr)
        assert np.array_equal(graph.neighbours, neighbours)


def test_search_of_new_points_is_identical_across_thread_counts_dense_and_sparse(digits):
    """The query walk runs over fixed chunks of queries, each with a fresh workspace
    (knn.nndescent._workspace): more than one chunk per thread here, the same results for
    1 and 2 threads, and for dense and sparse rows the same neighbours as a single-query
    call gives."""
    import scipy.sparse

    data = digits[0].astype(np.float32)
    train, new = data[:1200], data[1200:]
    metric = resolve_metric("euclidean")
    for convert in (np.asarray, scipy.sparse.csr_matrix):
        index = NeighborIndex.build(convert(train), 10, metric, method="nndescent", seed=2)[0]
        found = []
        for n_jobs in (1, 2):
            with numba_threads(n_jobs):
                found.append(index.query(convert(new), 10))
        assert np.array_equal(found[0][0], found[1][0])
        assert np.array_equal(found[0][1], found[1][1])
        alone = index.query(convert(new[100:101]), 10)
        assert np.array_equal(alone[0][0], found[0][0][100])

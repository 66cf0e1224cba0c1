"""Local scales, membership strengths, symmetrisation, and the a/b curve."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from umapx.curve import find_ab_params, similarity
from umapx.graph import fuzzy_simplicial_set, fuzzy_union, smooth_knn_dist
from umapx.knn import NeighborIndex
from umapx.metrics import resolve_metric


@pytest.fixture(scope="module")
def knn(digits):
    data = digits[0][:500]
    _, indices, dists = NeighborIndex.build(data, 15, resolve_metric("euclidean"), method="exact")
    return indices, dists


def test_local_scales_reach_log2_k(knn):
    _, dists = knn
    sigmas, rhos = smooth_knn_dist(dists, 15.0, 1.0)
    assert np.all(sigmas > 0)
    np.testing.assert_allclose(rhos, dists[:, 1])  # nearest non-identical neighbour
    totals = np.exp(-np.maximum(dists[:, 1:] - rhos[:, None], 0) / sigmas[:, None]).sum(axis=1)
    np.testing.assert_allclose(totals, np.log2(15), rtol=1e-4)


def test_fractional_local_connectivity_interpolates(knn):
    _, dists = knn
    _, rhos = smooth_knn_dist(dists, 15.0, 1.5)
    np.testing.assert_allclose(rhos, 0.5 * (dists[:, 1] + dists[:, 2]), rtol=1e-5)


def test_duplicates_get_a_positive_scale():
    dists = np.zeros((4, 5), np.float32)
    dists[0] = [0, 0, 0, 1, 2]
    sigmas, rhos = smooth_knn_dist(dists, 5.0, 1.0)
    assert np.all(sigmas > 0) and np.all(np.isfinite(sigmas))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scales_of_duplicate_rows_do_not_depend_on_the_thread_count(seed):
    # Rows of duplicates (all distances 0) get sigma floored by the mean of all distances;
    # that mean was a parallel float32 sum whose rounding followed the thread count.
    import numba

    from umapx._jit import numba_threads

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread only")
    rng = np.random.default_rng(seed)
    distances = np.sort(rng.random((20000, 15)).astype(np.float32) * 3, axis=1)
    distances[:5000] = 0.0
    found = []
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            found.append(smooth_knn_dist(distances, 15.0))
    assert np.array_equal(found[0][0], found[1][0]) and np.array_equal(found[0][1],
                                                                        found[1][1])


def test_membership_and_symmetrisation(knn):
    indices, dists = knn
    n = indices.shape[0]
    graph, sigmas, rhos = fuzzy_simplicial_set(indices, dists, 15, 1.0, 1.0)
    # Directed memberships by hand.
    directed = np.zeros((n, n))
    for i in range(n):
        for j, d in zip(indices[i, 1:], dists[i, 1:]):
            directed[i, j] = np.exp(-max(0.0, d - rhos[i]) / sigmas[i])
    union = directed + directed.T - directed * directed.T
    np.testing.assert_allclose(graph.toarray(), union, rtol=1e-5, atol=1e-6)
    assert abs(graph - graph.T).max() == 0
    assert graph.diagonal().max() == 0
    # Every point is fully connected to its nearest neighbour.
    assert np.allclose(directed[np.arange(n), indices[:, 1]], 1.0)


@pytest.mark.parametrize("mix", [0.0, 0.3, 1.0])
def test_fuzzy_union_formula(mix):
    rng = np.random.RandomState(0)
    dense = rng.rand(6, 6) * (rng.rand(6, 6) > 0.5)
    np.fill_diagonal(dense, 0)
    result = fuzzy_union(scipy.sparse.csr_matrix(dense), mix).toarray()
    expected = mix * (dense + dense.T - dense * dense.T) + (1 - mix) * dense * dense.T
    np.testing.assert_allclose(result, expected, rtol=1e-6)


def test_default_curve_parameters():
    a, b = find_ab_params(1.0, 0.1)
    assert a == pytest.approx(1.577, abs=0.01)
    assert b == pytest.approx(0.895, abs=0.01)


@pytest.mark.parametrize("spread, min_dist", [
    (1.0, 0.0), (1.0, 0.5), (2.0, 0.3), (0.5, 0.1),
    # Far from spread=1 the fit used to fail (a=-37, b=-18.6 at spread=0.1): now in its units.
    (0.1, 0.0), (1e-3, 1e-3), (10.0, 9.9), (100.0, 99.0), (1e4, 0.0),
])
def test_curve_follows_its_target(spread, min_dist):
    a, b = find_ab_params(spread, min_dist)
    d = np.linspace(0, 3 * spread, 300)
    target = np.where(d < min_dist, 1.0, np.exp(-(d - min_dist) / spread))
    assert np.sqrt(np.mean((similarity(d, a, b) - target) ** 2)) < 0.06


def test_curve_scales_with_spread():
    """a d^(2b) depends on d / spread only: a = a_1 / spread^(2b), b the same."""
    a_1, b_1 = find_ab_params(1.0, 0.25)
    for spread in (1e-3, 0.1, 7.0, 1e3):
        a, b = find_ab_params(spread, 0.25 * spread)
        assert b == pytest.approx(b_1, rel=1e-6)
        assert a == pytest.approx(a_1 / spread ** (2 * b_1), rel=1e-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_distances_are_named(bad):
    from umapx.graph import check_knn_distances, fuzzy_simplicial_set, transform_graph

    indices = np.tile(np.arange(4, dtype=np.int32), (4, 1))
    distances = np.tile(np.array([0.0, 1.0, 2.0, 3.0], np.float32), (4, 1))
    distances[2, 3] = bad
    with pytest.raises(ValueError, match="1 NaN or infinite distances.*row 2 and training "
                                         "sample 3"):
        fuzzy_simplicial_set(indices, distances, 4, 1.0, 1.0)
    distances[2, 3] = 3.0
    indices[1, 1], distances[1, 1] = -1, np.inf
    # an absent neighbour (disconnected, or unstored in sparse distances) leaves no edge...
    graph = transform_graph(indices, distances, 4, 1.0, 4)
    assert np.isfinite(graph.data).all() and graph[1].nnz == 3
    # ...but in a search's own result it means the metric gave no finite distance
    with pytest.raises(ValueError, match="row 1 has no neighbour at a finite distance"):
        check_knn_distances(indices, distances, "new points", absent_allowed=False)

"""Layout kernels: gradients against finite differences, schedule, determinism."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import scipy.sparse

from umapx import layout
from umapx._jit import numba_threads
from umapx.curve import find_ab_params
from umapx.layout import (
    EpochThreads,
    attractive_coefficient,
    epochs_per_sample,
    layout_blocks,
    normalise_layout,
    optimize_layout,
    prune_weak_edges,
    repulsive_coefficient,
)
from umapx.powers import power_table

A, B = find_ab_params(1.0, 0.1)
POWERS = power_table(np.float32(B))


def _sgd(n_epochs, negatives):
    """Keyword arguments of ``optimize_layout`` for the default curve and rates."""
    return {"n_epochs": n_epochs, "a": A, "b": B, "repulsion_strength": 1.0,
            "learning_rate": 1.0, "negative_sample_rate": negatives}


def _numeric_gradient(f, y, step=1e-6):
    grad = np.empty_like(y)
    for i in range(len(y)):
        up, down = y.copy(), y.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (f(up) - f(down)) / (2 * step)
    return grad


@pytest.mark.parametrize("seed", range(5))
def test_attractive_gradient_matches_finite_differences(seed):
    rng = np.random.RandomState(seed)
    y, other = rng.normal(size=2), rng.normal(size=2)

    def log_similarity(point):
        return -np.log1p(A * np.sum((point - other) ** 2) ** B)

    d2 = np.float32(np.sum((y - other) ** 2))  # the kernels work in float32
    analytic = attractive_coefficient(d2, np.float32(A), np.float32(B), POWERS) * (y - other)
    np.testing.assert_allclose(analytic, _numeric_gradient(log_similarity, y), rtol=1e-5)


@pytest.mark.parametrize("seed", range(5))
def test_repulsive_gradient_matches_finite_differences(seed):
    rng = np.random.RandomState(seed)
    y, other = rng.normal(size=3) * 3, rng.normal(size=3) * 3

    def log_dissimilarity(point):
        d2 = np.sum((point - other) ** 2)
        return np.log(1.0 - 1.0 / (1.0 + A * d2**B))

    d2 = np.float32(np.sum((y - other) ** 2))  # the kernels work in float32
    analytic = repulsive_coefficient(d2, np.float32(A), np.float32(B), np.float32(1.0),
                                     POWERS) * (y - other)
    # The kernel adds 0.001 to d^2 for stability; undo it for the comparison.
    analytic *= (0.001 + d2) / d2
    np.testing.assert_allclose(analytic, _numeric_gradient(log_dissimilarity, y), rtol=1e-5)


def test_epochs_per_sample_is_proportional_to_weight():
    weights = np.array([1.0, 0.5, 0.25, 0.0])
    result = epochs_per_sample(weights, 200)
    np.testing.assert_allclose(result, [1.0, 2.0, 4.0, -1.0])


def test_weak_edges_are_pruned():
    graph = scipy.sparse.csr_matrix(np.array([[0, 1.0, 0.001], [1.0, 0, 0.5], [0.001, 0.5, 0]]))
    pruned = prune_weak_edges(graph, 200)
    assert pruned.nnz == 4 and pruned[0, 2] == 0


def test_normalised_layout_fills_the_box():
    layout = normalise_layout(np.array([[0.0, 5.0], [2.0, 5.0], [1.0, 5.0]]))
    assert layout.dtype == np.float32
    np.testing.assert_allclose(layout[:, 0], [0, 10, 5])
    assert np.all(layout[:, 1] == 0)  # a constant coordinate does not divide by zero


def _ring_graph(n):
    rows = np.arange(n)
    graph = scipy.sparse.coo_matrix((np.ones(n), (rows, (rows + 1) % n)), shape=(n, n))
    return (graph + graph.T).tocsr()


def test_layout_is_identical_across_thread_counts():
    graph = _ring_graph(200)
    start = normalise_layout(np.random.RandomState(0).rand(200, 2))
    results = []
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            results.append(optimize_layout(start, graph, **_sgd(50, negatives=5), seed=7))
    assert np.array_equal(results[0], results[1])
    assert np.all(np.isfinite(results[0]))
    assert not np.array_equal(results[0], start)


def test_layout_blocks_depend_on_the_rows_only():
    for rows in (1, 100, 8191, 8192, 60_000, 1_000_000):
        blocks = layout_blocks(rows)
        assert blocks[0] == 0 and blocks[-1] == rows and np.all(np.diff(blocks) > 0)
        assert len(blocks) == 2 or np.diff(blocks).min() >= layout.BLOCK_ROWS
        assert len(blocks) - 1 <= layout.MOST_BLOCKS
        assert np.array_equal(layout_blocks(rows, anchored=True), [0, rows])
    assert len(layout_blocks(60_000)) > 2


@pytest.mark.parametrize("dim", [2, 3])
def test_blocked_layout_is_identical_across_thread_counts(dim):
    rows = 3 * layout.BLOCK_ROWS  # three blocks
    graph = _ring_graph(rows)
    start = normalise_layout(np.random.RandomState(0).rand(rows, dim))
    results = []
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            results.append(optimize_layout(start, graph, **_sgd(10, negatives=5), seed=7))
    assert np.array_equal(results[0], results[1])
    assert np.all(np.isfinite(results[0]))


def _pull(y, other, weight=1.0):
    """The clipped attraction of ``y`` towards ``other`` at learning rate 1/2, times weight."""
    diff = y - other
    coeff = attractive_coefficient(np.float32(diff @ diff), np.float32(A), np.float32(B), POWERS)
    return 0.5 * weight * np.clip(coeff * diff, -4.0, 4.0)


def test_a_block_moves_from_the_positions_earlier_blocks_left(monkeypatch):
    """Heads only (fewer rows than ``BOTH_ENDS_ROWS``): two vertices, one edge, one block each;
    the second is pulled towards where the first moved in the same epoch, not where it
    started."""
    monkeypatch.setattr(layout, "BLOCK_ROWS", 1)
    graph = scipy.sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    start = np.array([[0.0, 0.0], [1.5, 0.5]], np.float32)
    # Edges are first due at epoch 1 (their period), where the learning rate is 1/2.
    moved = optimize_layout(start, graph, **_sgd(2, negatives=0), seed=0)
    weight = layout.HEAD_ATTRACTION  # the head-only weight of an attraction sample
    first = start[0] + _pull(start[0], start[1], weight=weight)
    np.testing.assert_allclose(moved[0], first, rtol=1e-5)
    np.testing.assert_allclose(moved[1], start[1] + _pull(start[1], first, weight=weight),
                               rtol=1e-5)
    assert not np.allclose(moved[1], start[1] + _pull(start[1], start[0], weight=weight),
                           rtol=1e-3)


def test_anchored_attractions_keep_the_classic_weight():
    """Anchored attractions (one block, both ends measured from the start of the epoch) weigh
    each sample 2, whatever ``HEAD_ATTRACTION`` is: the two directions of an edge are equal
    and opposite pulls of weight 2."""
    graph = scipy.sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    start = np.array([[0.0, 0.0], [1.5, 0.5]], np.float32)
    moved = optimize_layout(start, graph, **_sgd(2, negatives=0), seed=0,
                            anchored_attraction=True)
    pull = _pull(start[0], start[1], weight=2.0)
    np.testing.assert_allclose(moved, [start[0] + pull, start[1] - pull], rtol=1e-5)
    assert layout.HEAD_ATTRACTION != 2.0  # otherwise this test would not tell them apart


def test_both_ends_from_the_row_threshold():
    assert not layout.moves_both_ends(layout.BOTH_ENDS_ROWS - 1)
    assert layout.moves_both_ends(layout.BOTH_ENDS_ROWS)
    assert not layout.moves_both_ends(layout.BOTH_ENDS_ROWS, anchored=True)


@pytest.fixture
def both_ends(monkeypatch):
    """Every fit moves both ends of its sampled edges, whatever its size."""
    monkeypatch.setattr(layout, "BOTH_ENDS_ROWS", 0)


@pytest.mark.usefixtures("both_ends")
def test_a_sampled_edge_moves_both_ends_and_later_blocks_see_it(monkeypatch):
    """Two vertices, one edge, one block each: the first block's sample moves both ends
    (weight 1 each), and the second block's sample starts from where they moved."""
    monkeypatch.setattr(layout, "BLOCK_ROWS", 1)
    graph = scipy.sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    start = np.array([[0.0, 0.0], [1.5, 0.5]], np.float32)
    # Edges are first due at epoch 1 (their period), where the learning rate is 1/2.
    moved = optimize_layout(start, graph, **_sgd(2, negatives=0), seed=0)
    first = _pull(start[0], start[1])
    head0, tail1 = start[0] + first, start[1] - first
    second = _pull(tail1, head0)
    np.testing.assert_allclose(moved[0], head0 - second, rtol=1e-5)
    np.testing.assert_allclose(moved[1], tail1 + second, rtol=1e-5)
    # The pair's centre does not move (head-only attractions of weight 2 moved it).
    np.testing.assert_allclose(moved.mean(axis=0), start.mean(axis=0), atol=1e-6)


def _random_graph(rows, seed, degree=6):
    """A symmetric random graph with weights in (0.2, 1]: edges spread over all blocks."""
    rng = np.random.RandomState(seed)
    heads = np.repeat(np.arange(rows), degree)
    tails = rng.randint(0, rows, heads.shape[0])
    keep = heads != tails
    graph = scipy.sparse.coo_matrix((rng.uniform(0.2, 1.0, keep.sum()),
                                     (heads[keep], tails[keep])), shape=(rows, rows)).tocsr()
    return graph.maximum(graph.T).tocsr()


@pytest.mark.usefixtures("both_ends")
@pytest.mark.parametrize("seed", range(3))
def test_attractions_alone_keep_the_centre(seed):
    """With no negative samples every sampled edge moves its ends by equal and opposite
    steps, over several blocks: the mean position stays (up to float32 rounding)."""
    rows = 500
    start = normalise_layout(np.random.RandomState(seed).rand(rows, 2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layout, "BLOCK_ROWS", 64)  # seven blocks
        moved = optimize_layout(start, _random_graph(rows, seed), **_sgd(30, negatives=0),
                                seed=seed)
    assert np.abs(moved - start).max() > 0.5  # the layout did move
    np.testing.assert_allclose(moved.mean(axis=0), start.mean(axis=0), atol=1e-4)


def test_tails_sort_each_block_by_tail():
    rows = 300
    graph = _random_graph(rows, 0)
    indptr, indices = graph.indptr.astype(np.int64), graph.indices.astype(np.int32)
    blocks = np.array([0, 70, 71, 200, rows], np.int64)
    tails = layout.fit_tails(indptr, indices, blocks, 2, heads_only=False)
    assert tails.slots.shape == (np.diff(indptr[blocks]).max(), 2)
    assert not tails.slots.any()
    for low, high in zip(blocks[:-1], blocks[1:]):
        first, last = indptr[low], indptr[high]
        order = tails.order[first:last]
        assert np.array_equal(np.sort(order), np.arange(last - first))  # each edge once
        assert np.all(np.diff(tails.tails[first:last]) >= 0)  # sorted by tail
        assert np.array_equal(tails.tails[first:last], indices[first + order])
        for tail in np.unique(indices[first:last]):  # a tail's moves in row order
            assert np.all(np.diff(order[tails.tails[first:last] == tail]) > 0)
    assert layout.fit_tails(indptr, indices, blocks, 2, heads_only=True).slots.size == 0


def test_tail_moves_add_up_across_chunks():
    """Tails with more moves than a chunk of :func:`layout._move_tails` holds, straddling the
    chunks' edges: each tail gets all its moves, in row order, and the slots are cleared."""
    rows, dim = 9000, 2
    heads = np.arange(rows)
    graph = scipy.sparse.csr_matrix((np.ones(rows), (heads, heads % 3 + 1)), shape=(rows, rows))
    indptr, indices = graph.indptr.astype(np.int64), graph.indices.astype(np.int32)
    blocks = np.array([0, 4000, rows], np.int64)
    tails = layout.fit_tails(indptr, indices, blocks, dim, heads_only=False)
    moves = np.random.RandomState(0).normal(size=(rows, dim)).astype(np.float32)
    positions = np.random.RandomState(1).rand(rows, dim).astype(np.float32)
    expected = positions.copy()
    for low, high in zip(blocks[:-1], blocks[1:]):
        first, last = indptr[low], indptr[high]
        tails.slots[:last - first] = moves[first:last]
        layout._move_tails(positions, tails.tails, tails.order, tails.slots, first, last)
        for e in range(first, last):  # one at a time, in row order
            expected[indices[e]] += moves[e]
        assert not tails.slots.any()
    # fastmath may reassociate a tail's sum: equal up to float32 rounding
    np.testing.assert_allclose(positions, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.usefixtures("both_ends")
@pytest.mark.parametrize("dim,output", [(2, None), (3, None), (2, "haversine")])
def test_both_ends_layout_is_identical_across_thread_counts(monkeypatch, dim, output):
    """Several blocks, tails spread over all of them: 1 and 2 threads give the same bits."""
    from umapx.metrics import resolve_metric

    monkeypatch.setattr(layout, "BLOCK_ROWS", 64)
    rows = 700
    graph = _random_graph(rows, 1)
    start = normalise_layout(np.random.RandomState(2).rand(rows, dim))
    metric = None if output is None else resolve_metric(output, role="output_metric") \
        .for_output(dim)
    results = []
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            results.append(optimize_layout(start, graph, **_sgd(20, negatives=5), seed=7,
                                           output_metric=metric))
    assert np.array_equal(results[0], results[1])
    assert np.all(np.isfinite(results[0]))
    assert not np.array_equal(results[0], start)


def test_layout_is_identical_when_every_trial_switches_the_thread_count(monkeypatch):
    """The epoch's thread count is chosen by timing; force a switch at every trial."""
    graph = _ring_graph(200)
    start = normalise_layout(np.random.RandomState(0).rand(200, 2))
    with numba_threads(1):
        alone = optimize_layout(start, graph, **_sgd(60, negatives=5), seed=7)
    monkeypatch.setattr(EpochThreads, "MARGIN", np.inf)
    monkeypatch.setattr(EpochThreads, "INTERVAL", 2)
    with numba_threads(2):
        switching = optimize_layout(start, graph, **_sgd(60, negatives=5), seed=7)
        assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    assert np.array_equal(alone, switching)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two threads")
def test_epoch_threads_keep_one_thread_when_it_is_faster():
    """Epochs that take 8x longer on all threads (as with a busy core) move to one thread,
    and the trials of all threads that follow do not move them back."""
    import time

    used = []

    def step():
        used.append(numba.get_num_threads())
        time.sleep(0.005 if numba.get_num_threads() == 1 else 0.040)

    with numba_threads(2):
        with EpochThreads() as threads:
            for epoch in range(60):
                threads.run(epoch, step)
        assert numba.get_num_threads() == 2
    assert used[:EpochThreads.FIRST_TRIAL] == [2] * EpochThreads.FIRST_TRIAL
    assert used[EpochThreads.FIRST_TRIAL] == 1  # the trial, kept
    assert used.count(2) <= EpochThreads.FIRST_TRIAL + 3  # later trials only


def test_layout_pulls_neighbours_together():
    graph = _ring_graph(100)
    start = normalise_layout(np.random.RandomState(1).rand(100, 2))
    result = optimize_layout(start, graph, **_sgd(200, negatives=5), seed=1)
    neighbour = np.linalg.norm(result - np.roll(result, 1, axis=0), axis=1).mean()
    random_pair = np.linalg.norm(result - result[np.random.RandomState(2).permutation(100)],
                                 axis=1).mean()
    assert neighbour < 0.25 * random_pair


def test_no_negative_samples_only_attracts():
    graph = _ring_graph(50)
    start = normalise_layout(np.random.RandomState(3).rand(50, 2))
    result = optimize_layout(start, graph, **_sgd(100, negatives=0), seed=1)
    assert np.all(np.isfinite(result))
    spread = np.linalg.norm(result - result.mean(0), axis=1).mean()
    assert spread < np.linalg.norm(start - start.mean(0), axis=1).mean()


def test_draw_salt_table_gives_the_streams_of_the_formula():
    """``draw`` looks up the counter's mix for small counters (the negative samples' draws):
    the numbers must be those of the formula, for table and computed counters alike."""
    from umapx._jit import kernel
    from umapx._rng import _GOLDEN, _M2, _SALTS, draw, mix64

    @kernel(cache=False)
    def both(key, counter):
        return draw(key, counter), mix64(key ^ mix64(np.uint64(counter) * _GOLDEN + _M2))

    counters = list(range(_SALTS.shape[0] + 3)) + [1000, 2**40]
    for key in (np.uint64(0), np.uint64(12345678901234567), np.uint64(2**64 - 1)):
        for counter in counters:
            looked_up, computed = both(key, counter)
            assert looked_up == computed

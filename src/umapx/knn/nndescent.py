"""Approximate nearest neighbours: random-projection forest, NN-descent, graph search.

The k-NN graph of the training data is built as in Dong et al. (2011), "Efficient k-nearest
neighbor graph construction for generic similarity measures": a forest of random-projection
trees gives every point a first set of candidates (the other points of its leaves), then rounds
of NN-descent compare, around each point, pairs of its neighbours and reverse neighbours that
are new since the last round, until few lists change.

Every step is deterministic whatever the thread count:

* trees draw their hyperplanes from counter-based random streams keyed by (tree, node);
* candidate sampling uses random priorities keyed by (round, point, neighbour);
* a point's heap is only ever written by the one thread that owns the point's range, and the
  proposals to it are applied in a fixed order (the order of the centres that proposed them).

NN-descent works on a copy of the rows in the order of the first tree's leaves, so that the
rows it compares around consecutive points are close in memory (dense and sparse rows alike).

New points are searched by descending one tree to a leaf and walking the neighbour graph
best-first from there (as in Iwasaki & Miyazaki's NGT, and PyNNDescent's query).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from .._jit import for_chunks, kernel
from .._rng import draw_index, draw_uniform, stream_key
from ..metrics import SQEUCLIDEAN
from ..sparse import is_sparse_rows
from ._heap import (
    flagged_heap_push,
    heap_push,
    min_heap_pop,
    min_heap_push,
    sort_heap,
)
from ._rows import (
    SCRATCH_MAX_FEATURES,
    focus,
    focus_plane,
    focused_distance,
    new_scratch,
    row_count,
    row_distance,
    search_args,
    specialize,
    split_margin,
    split_offset,
    take_rows,
    unfocus,
    unfocus_plane,
)

# ----------------------------------------------------------------------------------------------
# Records passed to the kernels
# ----------------------------------------------------------------------------------------------


class RPTree(NamedTuple):
    """One random-projection tree in flat arrays, indexed by node (see ``_build_tree``).

    ``perm`` orders the points so that node ``v`` covers ``perm[start[v]:end[v]]``.
    """

    perm: np.ndarray
    left: np.ndarray
    right: np.ndarray
    start: np.ndarray
    end: np.ndarray
    pivot_a: np.ndarray
    pivot_b: np.ndarray
    offset: np.ndarray


class Forest(NamedTuple):
    """Trees stacked along a first axis; tree ``t`` uses ``n_nodes[t]`` nodes."""

    trees: RPTree
    n_nodes: np.ndarray


class Heaps(NamedTuple):
    """The k-NN graph under construction: one max-heap per point, with "new" flags."""

    dists: np.ndarray
    idx: np.ndarray
    flags: np.ndarray


class Candidates(NamedTuple):
    """Sampled new and old candidate neighbours of every point (``-1``: empty)."""

    new: np.ndarray
    old: np.ndarray


class Proposals(NamedTuple):
    """Pairs ``(a, b)`` at distance ``d`` found around each centre of a block; ``counts`` per
    centre."""

    a: np.ndarray
    b: np.ndarray
    d: np.ndarray
    counts: np.ndarray


class SearchGraph(NamedTuple):
    """CSR adjacency walked by queries."""

    indptr: np.ndarray
    neighbours: np.ndarray


# ----------------------------------------------------------------------------------------------
# Random-projection trees
# ----------------------------------------------------------------------------------------------


@kernel
def _build_tree(data, key, leaf_size, tree):
    """Build one tree in place in the arrays of ``tree``; return its number of nodes.

    Node ``v`` covers ``perm[start[v]:end[v]]``; internal nodes split by the hyperplane that
    bisects rows ``pivot_a[v]`` and ``pivot_b[v]`` (``pivot_a[v] == -1``: the node's points were
    indistinguishable and were halved). Leaves are the nodes with ``left[v] == -1``.
    """
    perm, left, right, start, end = tree.perm, tree.left, tree.right, tree.start, tree.end
    pivot_a, pivot_b, offset = tree.pivot_a, tree.pivot_b, tree.offset
    n = row_count(data)
    for i in range(n):
        perm[i] = i
    scratch = np.empty(n, dtype=np.int32)
    margins = np.empty(n, dtype=np.float32)
    plane = new_scratch(data)
    stack = np.empty(2 * n + 1, dtype=np.int32)
    n_nodes = 1
    start[0] = 0
    end[0] = n
    stack[0] = 0
    depth = 1
    while depth > 0:
        depth -= 1
        node = stack[depth]
        lo = start[node]
        hi = end[node]
        size = hi - lo
        left[node] = -1
        right[node] = -1
        pivot_a[node] = -1
        pivot_b[node] = -1
        offset[node] = 0.0
        if size <= leaf_size:
            continue
        first = draw_index(key, 2 * node, size)
        second = draw_index(key, 2 * node + 1, size - 1)
        if second >= first:
            second += 1
        a = perm[lo + first]
        b = perm[lo + second]
        # offset = (|a|^2 - |b|^2) / 2 puts the hyperplane half way between a and b.
        node_offset = split_offset(data, a, b)
        n_left = 0
        focus_plane(data, a, b, plane)
        for pos in range(lo, hi):
            m = split_margin(data, perm[pos], data, a, b, node_offset, plane)
            margins[pos] = m
            if m < 0 or (m == 0 and (perm[pos] + node) % 2 == 0):
                n_left += 1
        unfocus_plane(data, a, b, plane)
        if n_left == 0 or n_left == size:
            split = lo + size // 2  # indistinguishable points: halve the range as it is
        else:
            pivot_a[node] = a
            pivot_b[node] = b
            offset[node] = node_offset
            write_left = lo
            write_right = lo + n_left
            for pos in range(lo, hi):
                m = margins[pos]
                if m < 0 or (m == 0 and (perm[pos] + node) % 2 == 0):
                    scratch[write_left] = perm[pos]
                    write_left += 1
                else:
                    scratch[write_right] = perm[pos]
                    write_right += 1
            for pos in range(lo, hi):
                perm[pos] = scratch[pos]
            split = lo + n_left
        child_left = n_nodes
        child_right = n_nodes + 1
        n_nodes += 2
        left[node] = child_left
        right[node] = child_right
        start[child_left] = lo
        end[child_left] = split
        start[child_right] = split
        end[child_right] = hi
        stack[depth] = child_right
        stack[depth + 1] = child_left
        depth += 2
    return n_nodes


@kernel(parallel=True)
def _build_forest(data, seed, first_tree, n_trees, leaf_size, later_data):
    """Trees ``first_tree`` to ``first_tree + n_trees - 1`` (tree ``t`` draws from stream t).

    Tree 0 splits the rows of ``data``, the others those of ``later_data`` (the same rows,
    possibly projected to fewer dimensions; see :func:`_tree_rows`).
    """
    n = row_count(data)
    capacity = 2 * n
    perm = np.empty((n_trees, n), np.int32)
    left = np.empty((n_trees, capacity), np.int32)
    right = np.empty((n_trees, capacity), np.int32)
    start = np.empty((n_trees, capacity), np.int32)
    end = np.empty((n_trees, capacity), np.int32)
    pivot_a = np.empty((n_trees, capacity), np.int32)
    pivot_b = np.empty((n_trees, capacity), np.int32)
    offset = np.empty((n_trees, capacity), np.float32)
    n_nodes = np.empty(n_trees, np.int64)
    for t in numba.prange(n_trees):
        tree = RPTree(perm[t], left[t], right[t], start[t], end[t], pivot_a[t], pivot_b[t],
                      offset[t])
        rows = data if first_tree + t == 0 else later_data
        n_nodes[t] = _build_tree(rows, stream_key(seed, first_tree + t), leaf_size, tree)
    return Forest(RPTree(perm, left, right, start, end, pivot_a, pivot_b, offset), n_nodes)


def _tree_of(forest, t):
    """Tree ``t`` of a forest as a compact, standalone :class:`RPTree`."""
    size = int(forest.n_nodes[t])
    return RPTree(*(array[t].copy() if name == "perm" else array[t, :size].copy()
                    for name, array in zip(RPTree._fields, forest.trees)))


@kernel(inline="always")
def _descend(queries, q, data, tree, no_plane):
    """Leaf node of ``tree`` reached by query row ``q`` (mirrors the side rule of
    ``_build_tree``); ``no_plane`` is an empty float32 array."""
    node = 0
    while tree.left[node] != -1:
        if tree.pivot_a[node] == -1:
            node = tree.left[node]
        elif split_margin(queries, q, data, tree.pivot_a[node], tree.pivot_b[node],
                          tree.offset[node], no_plane) <= 0:
            node = tree.left[node]
        else:
            node = tree.right[node]
    return node


# ----------------------------------------------------------------------------------------------
# NN-descent
# ----------------------------------------------------------------------------------------------


@kernel(parallel=True)
def _join_leaves(metric, data, perm, leaf_starts, leaf_ends, heaps, n_chunks):
    """Offer every pair of points sharing a leaf of one tree to both points' heaps.

    The leaves of a tree are disjoint, so each heap is written by the one leaf holding it;
    ``n_chunks`` ranges of leaves share a scratch row each.
    """
    dists, idx, flags = heaps.dists, heaps.idx, heaps.flags
    n_leaves = leaf_starts.shape[0]
    for chunk in numba.prange(n_chunks):
        scratch = new_scratch(data)
        for leaf in range(chunk * n_leaves // n_chunks, (chunk + 1) * n_leaves // n_chunks):
            for a in range(leaf_starts[leaf], leaf_ends[leaf]):
                i = perm[a]
                squares = focus(data, i, scratch)
                for b in range(a + 1, leaf_ends[leaf]):
                    j = perm[b]
                    d = focused_distance(metric, data, i, squares, scratch, data, j)
                    flagged_heap_push(dists[i], idx[i], flags[i], d, j, 1)
                    flagged_heap_push(dists[j], idx[j], flags[j], d, i, 1)
                unfocus(data, i, scratch)


@kernel(parallel=True)
def _fill_short_heaps(metric, data, heaps, seed):
    """Top up, with random points, heaps that the forest left with empty slots."""
    dists, idx, flags = heaps.dists, heaps.idx, heaps.flags
    n = idx.shape[0]
    for i in numba.prange(n):
        if idx[i, 0] != -1:
            continue
        key = stream_key(seed, i)
        for attempt in range(8 * idx.shape[1] + 8):
            j = draw_index(key, attempt, n)
            if j != i:
                d = row_distance(metric, data, i, data, j)
                flagged_heap_push(dists[i], idx[i], flags[i], d, j, 1)
            if idx[i, 0] != -1:
                break


# Dense rows wider than twice this are projected to this many dimensions for the trees after
# the first (see _tree_rows).
_TREE_DIMENSIONS = 128


def _tree_rows(data, seed):
    """The rows the trees after the first split: dense rows wider than ``2 *
    _TREE_DIMENSIONS`` projected on ``_TREE_DIMENSIONS`` random gaussian directions, else
    ``data`` itself.

    Those trees only propose first candidates to NN-descent, which measures every distance on
    the full rows; a random projection keeps the rows' relative distances roughly (Johnson and
    Lindenstrauss), so their leaves still group near points, and building a tree then reads
    6 times fewer bytes on 784 dimensions (the trees were memory-bound: a third of the
    Fashion-MNIST k-NN's CPU time). The first tree, kept for queries, splits the full rows.
    The product runs on one BLAS thread so that it does not depend on the thread count.
    """
    if is_sparse_rows(data) or data.shape[1] <= 2 * _TREE_DIMENSIONS:
        return data
    from threadpoolctl import threadpool_limits

    directions = np.random.default_rng(seed).standard_normal(
        (data.shape[1], _TREE_DIMENSIONS)).astype(np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        return np.ascontiguousarray(data @ directions)


def _init_from_forest(metric, data, n_others, seed, n_trees, leaf_size, trees_at_once,
                      tree_progress=None):
    """The first tree, the rows in its leaf order, and heaps seeded with every point's
    leaf-mates in every tree.

    NN-descent works on ``local``, a copy of ``data`` in the order of the first tree's leaves
    (``tree.perm``): rows that are neighbours then sit close together in memory, which keeps
    its joins in cache (the k-NN 1.3-1.5x faster from 200k points). The heaps hold positions
    in that order. Trees are built from ``data`` ``trees_at_once`` at a time and dropped once
    joined, so memory holds at most that many; the result does not depend on it (tree ``t``
    draws from its own stream and the trees are joined in order). ``tree_progress(n_joined)``
    is called after each tree.

    Returns ``(heaps, tree, local)``.
    """
    n = row_count(data)
    heaps = Heaps(np.full((n, n_others), np.inf, np.float32),
                  np.full((n, n_others), -1, np.int32),
                  np.ones((n, n_others), np.uint8))
    join_leaves = specialize(metric, _join_leaves)
    args = search_args(metric, data)
    first = local = position = None
    later_data = _tree_rows(data, seed) if n_trees > 1 else data
    for first_tree in range(0, n_trees, trees_at_once):
        forest = _build_forest(data, seed, first_tree, min(trees_at_once, n_trees - first_tree),
                               leaf_size, later_data)
        if first is None:
            first = _tree_of(forest, 0)
            local = take_rows(data, first.perm)
            position = np.empty(n, np.int32)
            position[first.perm] = np.arange(n, dtype=np.int32)
        trees = forest.trees
        for t in range(trees.perm.shape[0]):
            leaves = np.flatnonzero(trees.left[t, : forest.n_nodes[t]] == -1)
            join_leaves(args, local, position[trees.perm[t]], trees.start[t, leaves],
                        trees.end[t, leaves], heaps, _n_chunks())
            if tree_progress is not None:
                tree_progress(first_tree + t + 1)
        del forest, trees
    specialize(metric, _fill_short_heaps)(args, local, heaps, seed)
    return heaps, first, local


@kernel(parallel=True)
def _build_candidates(idx, flags, max_candidates, seed, n_chunks):
    """Sample up to ``max_candidates`` new and old (forward + reverse) neighbours per point.

    Point ranges are owned by chunks; each chunk scans the whole graph in the same order and
    keeps the entries it owns, so the result does not depend on the chunking.
    """
    n, k = idx.shape
    new_prio = np.full((n, max_candidates), np.inf, np.float32)
    new_cand = np.full((n, max_candidates), -1, np.int32)
    old_prio = np.full((n, max_candidates), np.inf, np.float32)
    old_cand = np.full((n, max_candidates), -1, np.int32)
    for chunk in numba.prange(n_chunks):
        lo = chunk * n // n_chunks
        hi = (chunk + 1) * n // n_chunks
        for i in range(n):
            key = stream_key(seed, i)
            owns_i = lo <= i < hi
            for slot in range(k):
                j = idx[i, slot]
                if j < 0:
                    continue
                owns_j = lo <= j < hi
                if not (owns_i or owns_j):
                    continue
                priority = np.float32(draw_uniform(key, j))
                if flags[i, slot]:
                    if owns_i:
                        heap_push(new_prio[i], new_cand[i], priority, j)
                    if owns_j:
                        heap_push(new_prio[j], new_cand[j], priority, i)
                else:
                    if owns_i:
                        heap_push(old_prio[i], old_cand[i], priority, j)
                    if owns_j:
                        heap_push(old_prio[j], old_cand[j], priority, i)
    # Neighbours sampled as new candidates have now been "seen".
    for i in numba.prange(n):
        for slot in range(k):
            if flags[i, slot]:
                j = idx[i, slot]
                for c in range(max_candidates):
                    if new_cand[i, c] == j:
                        flags[i, slot] = 0
                        break
    return Candidates(new_cand, old_cand)


@kernel(parallel=True)
def _local_join(metric, data, dists, candidates, first, last, proposals, n_chunks):
    """Around each centre in [first, last), compare new-new and new-old candidate pairs.

    A pair is proposed when it would enter either point's heap (judged against the heaps as
    they stand before this block is applied). ``n_chunks`` ranges of centres share a scratch
    row each.
    """
    new_cand, old_cand = candidates.new, candidates.old
    prop_a, prop_b, prop_d, counts = proposals.a, proposals.b, proposals.d, proposals.counts
    max_candidates = new_cand.shape[1]
    n_centres = last - first
    for chunk in numba.prange(n_chunks):
        scratch = new_scratch(data)
        for row in range(chunk * n_centres // n_chunks, (chunk + 1) * n_centres // n_chunks):
            centre = first + row
            count = 0
            for a in range(max_candidates):
                u = new_cand[centre, a]
                if u < 0:
                    continue
                squares = focus(data, u, scratch)
                # Partners: the later new candidates, then all the old ones.
                for b in range(a + 1, 2 * max_candidates):
                    if b < max_candidates:
                        v = new_cand[centre, b]
                    else:
                        v = old_cand[centre, b - max_candidates]
                    if v < 0 or v == u:
                        continue
                    d = focused_distance(metric, data, u, squares, scratch, data, v)
                    if d < dists[u, 0] or d < dists[v, 0]:
                        prop_a[row, count] = u
                        prop_b[row, count] = v
                        prop_d[row, count] = d
                        count += 1
                unfocus(data, u, scratch)
            counts[row] = count


@kernel(parallel=True)
def _apply_proposals(heaps, proposals, n_rows, n_chunks):
    """Offer the proposals of the first ``n_rows`` centres to both their points' heaps.

    Returns how many heap entries changed.
    """
    dists, idx, flags = heaps.dists, heaps.idx, heaps.flags
    prop_a, prop_b, prop_d, counts = proposals.a, proposals.b, proposals.d, proposals.counts
    n = dists.shape[0]
    changed = np.zeros(n_chunks, np.int64)
    for chunk in numba.prange(n_chunks):
        lo = chunk * n // n_chunks
        hi = (chunk + 1) * n // n_chunks
        for row in range(n_rows):
            for c in range(counts[row]):
                u = prop_a[row, c]
                v = prop_b[row, c]
                d = prop_d[row, c]
                if lo <= u < hi:
                    changed[chunk] += flagged_heap_push(dists[u], idx[u], flags[u], d, v, 1)
                if lo <= v < hi:
                    changed[chunk] += flagged_heap_push(dists[v], idx[v], flags[v], d, u, 1)
    return changed.sum()


@kernel(parallel=True)
def _sort_heaps(dists, idx):
    for i in numba.prange(dists.shape[0]):
        sort_heap(dists[i], idx[i])


def _n_chunks():
    return max(1, numba.get_num_threads())


# Centres per local-join block: bounds the proposal buffers to a few tens of MB.
_JOIN_BLOCK = 4096


def nn_descent(metric, data, n_others, seed, n_trees, leaf_size, max_candidates, n_iters, delta,
               progress=None, low_memory=True, tree_progress=None):
    """Approximate ``n_others`` nearest other points of every row of ``data``.

    Parameters
    ----------
    metric : Metric
        Resolved metric; ``data`` must already be prepared for search.
    data : ndarray of shape (n, d), float32, or SparseRows
    n_others : int
        Neighbours per point, the point itself excluded.
    seed : int
        Seed of every random choice.
    n_trees, leaf_size : int
        Size of the random-projection forest used to initialise the graph.
    max_candidates : int
        New (and old) candidates sampled per point and round.
    n_iters : int
        Maximum rounds of NN-descent.
    delta : float
        Stop when fewer than ``delta * n * n_others`` heap entries change in a round.
    progress : callable or None
        Called as ``progress(0, None)`` when the rounds begin (after the trees), then as
        ``progress(round, n_changed)`` after each round.
    low_memory : bool
        Build the random-projection trees as many at a time as there are threads (instead of
        all at once); the result is the same.
    tree_progress : callable or None
        Called as ``tree_progress(n_trees_joined)`` after each tree is joined into the heaps.

    Returns
    -------
    indices : ndarray (n, n_others) int32, distances : ndarray (n, n_others) float32
        Sorted by increasing search distance; and the forest's first tree, for queries.
    tree : RPTree
    """
    n = row_count(data)
    trees_at_once = min(n_trees, _n_chunks()) if low_memory else n_trees
    heaps, tree, local = _init_from_forest(metric, data, n_others, seed, n_trees, leaf_size,
                                           trees_at_once, tree_progress)
    if progress is not None:
        progress(0, None)

    join = specialize(metric, _local_join)
    block = min(_JOIN_BLOCK, n)
    capacity = max_candidates * (max_candidates - 1) // 2 + max_candidates * max_candidates
    proposals = Proposals(np.empty((block, capacity), np.int32),
                          np.empty((block, capacity), np.int32),
                          np.empty((block, capacity), np.float32),
                          np.empty(block, np.int64))
    candidates = None
    for round_ in range(n_iters):
        n_chunks = _n_chunks()
        candidates = _build_candidates(heaps.idx, heaps.flags, max_candidates,
                                       seed + 7919 * (round_ + 1), n_chunks)
        changed = 0
        for first in range(0, n, block):
            last = min(first + block, n)
            join(search_args(metric, local), local, heaps.dists, candidates, first, last,
                 proposals, n_chunks)
            changed += _apply_proposals(heaps, proposals, last - first, n_chunks)
        if progress is not None:
            progress(round_ + 1, changed)
        if changed <= delta * n * n_others:
            break
    del local, candidates, proposals
    _sort_heaps(heaps.dists, heaps.idx)
    # Back from leaf-order positions to the caller's rows.
    order = tree.perm
    indices = np.empty_like(heaps.idx)
    indices[order] = np.where(heaps.idx >= 0, order[np.maximum(heaps.idx, 0)], -1)
    distances = np.empty_like(heaps.dists)
    distances[order] = heaps.dists
    return indices, distances, tree


# ----------------------------------------------------------------------------------------------
# Searching new points
# ----------------------------------------------------------------------------------------------


def search_graph(indices, distances, max_degree):
    """CSR adjacency for queries: forward and reverse k-NN edges, closest ``max_degree`` kept.

    Each row's candidates (its own neighbours and the points that list it) are gathered in
    one pass, then every row is sorted on its own (a heapsort by distance, then index): a pair
    listed both ways keeps its smaller distance, and the row keeps its ``max_degree`` closest.
    At 1M points this took 4.6 CPU s against 43 for two global sorts of all edges (the same
    graph), and holds one copy of the candidate edges, not several; it runs on one thread, which
    keeps its first compilation at ~4 CPU s (a parallel loop cost ~2 s more to compile).

    Parameters
    ----------
    indices, distances : ndarray (n, m)
        A k-NN graph without self-loops, rows sorted by distance.
    max_degree : int

    Returns
    -------
    SearchGraph
        ``indptr`` (n + 1,) int64 and ``neighbours`` int32.
    """
    indices = np.ascontiguousarray(indices)
    distances = np.ascontiguousarray(distances)
    starts = _candidate_starts(indices)
    columns, lengths = _closest_candidates(indices, distances, starts, int(max_degree))
    indptr = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return SearchGraph(indptr, _packed_rows(columns, indptr))


@kernel
def _candidate_starts(indices):
    """Where each row's candidates start: its valid neighbours plus the rows listing it."""
    n, m = indices.shape
    starts = np.zeros(n + 1, np.int64)
    for i in range(n):
        for j in range(m):
            c = indices[i, j]
            if c >= 0:
                starts[i + 1] += 1
                starts[c + 1] += 1
    for i in range(n):
        starts[i + 1] += starts[i]
    return starts


@kernel(inline="always")
def _before(dists, cols, a, b):
    """Whether candidate ``a`` comes before ``b``: by distance, then index."""
    return dists[a] < dists[b] or (dists[a] == dists[b] and cols[a] < cols[b])


@kernel(inline="always")
def _sift_down(order, dists, cols, root, end):
    while 2 * root + 1 < end:
        child = 2 * root + 1
        if child + 1 < end and _before(dists, cols, order[child], order[child + 1]):
            child += 1
        if not _before(dists, cols, order[root], order[child]):
            return
        order[root], order[child] = order[child], order[root]
        root = child


@kernel(inline="always")
def _sort_candidates(order, dists, cols):
    """Heapsort of ``order`` (positions) by (distance, index) of the candidates."""
    count = order.shape[0]
    for root in range(count // 2 - 1, -1, -1):
        _sift_down(order, dists, cols, root, count)
    for end in range(count - 1, 0, -1):
        order[0], order[end] = order[end], order[0]
        _sift_down(order, dists, cols, 0, end)


@kernel
def _closest_candidates(indices, distances, starts, max_degree):
    """Each row's ``max_degree`` closest distinct candidates, by (distance, index)."""
    n, m = indices.shape
    cand_cols = np.empty(starts[n], np.int32)
    cand_dists = np.empty(starts[n], distances.dtype)
    filled = starts[:n].copy()
    for i in range(n):
        for j in range(m):
            c = indices[i, j]
            if c >= 0:
                cand_cols[filled[i]] = c
                cand_dists[filled[i]] = distances[i, j]
                filled[i] += 1
                cand_cols[filled[c]] = i
                cand_dists[filled[c]] = distances[i, j]
                filled[c] += 1
    columns = np.empty((n, max_degree), np.int32)
    lengths = np.zeros(n, np.int64)
    for i in range(n):
        cols = cand_cols[starts[i]:starts[i + 1]]
        dists = cand_dists[starts[i]:starts[i + 1]]
        order = np.arange(cols.shape[0])
        _sort_candidates(order, dists, cols)
        # In (distance, index) order the first time an index appears is at its smaller
        # distance (a pair listed both ways appears twice): later ones are skipped.
        degree = 0
        for r in range(order.shape[0]):
            if degree == max_degree:
                break
            c = cols[order[r]]
            seen = False
            for q in range(degree):
                if columns[i, q] == c:
                    seen = True
                    break
            if not seen:
                columns[i, degree] = c
                degree += 1
        lengths[i] = degree
    return columns, lengths


@kernel
def _packed_rows(columns, indptr):
    out = np.empty(indptr[-1], np.int32)
    for i in range(columns.shape[0]):
        out[indptr[i]:indptr[i + 1]] = columns[i, :indptr[i + 1] - indptr[i]]
    return out


# Queries handled per chunk of the search (each chunk allocates its own workspace).
_SEARCH_CHUNK = 64


class SearchWorkspace(NamedTuple):
    """What one chunk of the search writes besides its results (see :func:`_workspace`)."""

    visited: np.ndarray
    cand_d: np.ndarray
    cand_i: np.ndarray
    scratch: np.ndarray
    no_plane: np.ndarray


def _workspace(data, queries):
    """A fresh :class:`SearchWorkspace` for walks over ``data`` (allocated here, not in the
    kernel: numba's ``np.zeros`` / ``np.empty`` are compiled anew in every process, ~0.6 s of
    a first query's compilation)."""
    n = row_count(data)
    sparse_width = queries.n_features if is_sparse_rows(queries) else 0
    return SearchWorkspace(np.zeros(n, np.int32), np.empty(n, np.float32),
                           np.empty(n, np.int32),
                           np.zeros(sparse_width if sparse_width <= SCRATCH_MAX_FEATURES else 0,
                                    np.float32),
                           np.zeros(0, np.float32))


@kernel
def _search_chunk(metric, data, queries, first, last, graph, tree, bound_scale, out_i, out_d,
                  work):
    """Best-first walk of ``graph`` from the leaf of ``tree`` that each query ``first:last``
    falls in, into its rows of ``out_i`` / ``out_d`` (filled with -1 / inf), with the one
    workspace ``work`` (:func:`_workspace`, zeros on entry) for them all.

    A serial kernel run over chunks of queries by :func:`umapx._jit.for_chunks`: as a
    ``parallel=True`` loop it cost ~1.5 s more to compile the first time.
    """
    indptr, neighbours = graph.indptr, graph.neighbours
    visited, cand_d, cand_i, scratch = work.visited, work.cand_d, work.cand_i, work.scratch
    for q in range(first, last):
        stamp = q + 1
        heap_d = out_d[q]
        heap_i = out_i[q]
        n_cand = 0
        squares = focus(queries, q, scratch)
        leaf = _descend(queries, q, data, tree, work.no_plane)
        for pos in range(tree.start[leaf], tree.end[leaf]):
            j = tree.perm[pos]
            visited[j] = stamp
            d = focused_distance(metric, queries, q, squares, scratch, data, j)
            heap_push(heap_d, heap_i, d, j)
            n_cand = min_heap_push(cand_d, cand_i, n_cand, d, j)
        while n_cand > 0:
            d_c, c, n_cand = min_heap_pop(cand_d, cand_i, n_cand)
            if d_c > bound_scale * heap_d[0]:
                break
            for e in range(indptr[c], indptr[c + 1]):
                v = neighbours[e]
                if visited[v] == stamp:
                    continue
                visited[v] = stamp
                d = focused_distance(metric, queries, q, squares, scratch, data, v)
                if d < bound_scale * heap_d[0]:
                    heap_push(heap_d, heap_i, d, v)
                    n_cand = min_heap_push(cand_d, cand_i, n_cand, d, v)
        unfocus(queries, q, scratch)
        sort_heap(heap_d, heap_i)


def query_tree(data, seed, leaf_size):
    """One random-projection tree over ``data`` (for an index whose k-NN graph was given)."""
    return _tree_of(_build_forest(data, seed, 0, 1, leaf_size, data), 0)


def search(metric, data, queries, k, graph, tree, epsilon):
    """Approximate ``k`` nearest rows of ``data`` for each query (search distances).

    ``graph`` is a :class:`SearchGraph`, ``tree`` the :class:`RPTree` whose leaves start the
    walks. Each query's result depends only on that query and the index.
    """
    args = search_args(metric, data)
    scale = 1.0 + epsilon
    if args.code == SQEUCLIDEAN:
        scale = scale * scale
    scale = np.float32(scale)
    walk = specialize(metric, _search_chunk)
    n_queries = row_count(queries)
    out_d = np.full((n_queries, k), np.inf, np.float32)
    out_i = np.full((n_queries, k), -1, np.int32)
    for_chunks(n_queries, _SEARCH_CHUNK, lambda first, last: walk(
        args, data, queries, first, last, graph, tree, scale, out_i, out_d,
        _workspace(data, queries)))
    return out_i, out_d


__all__ = ["nn_descent", "query_tree", "search", "search_graph", "RPTree", "SearchGraph"]

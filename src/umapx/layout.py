"""Stochastic gradient descent of the embedding (the layout stage).

Each edge (i, j) of the fuzzy graph is sampled in proportion to its weight: every
``epochs_per_sample = max_weight / weight`` epochs it attracts i towards j with the gradient of
``log(1 / (1 + a d^(2b)))``, and each of its samples is followed by ``negative_sample_rate``
repulsions of i from uniformly drawn points (gradient of ``log(1 - 1 / (1 + a d^(2b)))``, times
``repulsion_strength``). Gradient coordinates are clipped to [-4, 4] and the learning rate decays
linearly to zero.

Fits of at least :data:`BOTH_ENDS_ROWS` rows move both ends of a sampled edge, as the classic
formulation does: the head (the vertex whose row holds the edge) by ``+alpha * g`` together
with its repulsions, the tail by ``-alpha * g`` (attraction weight 1 at each end; repulsions
move the head only). Smaller fits move the head only, with weight :data:`HEAD_ATTRACTION`
(1.6; the graph holds both directions of every edge, each sampled on its own schedule, so
weight 2 would keep the classic balance of attraction and repulsion on average, but a head
takes all its pulls at its own turn, in bursts, and the bursts pull harder than the same
pulls spread over the epoch: with 1.6, 20 fresh seeds each, Fashion-MNIST fit trust@15
+0.0006 (s.e. 0.0004), transform accuracy +0.0033 (0.0008), placed-point trust@15 +0.0006
(0.0003); MNIST-10k +0.0024 (0.0002), -0.0004 (0.0019), +0.0013 (0.0002);
``benchmarks/README.md``, "The head-only attraction weight (session 11)"). Head-only steps
shift the centre of every pair they pull together; from the squeezed spectral start of 1M rows
of ``fashion1m`` (33 components, the giant one squeezed, start trust@15 0.68) that layout (with
weight 2) could not open out: trust@15 0.8928 against 0.9625 with both ends and 0.9641 for
umap-learn's layout from the same graph and start (300k: 0.9487 against 0.9614). On smaller
data heads only (weight 2) did as well or better, for less work (weight 1.6 was not measured at
100k-200k rows): 100k rows of ``fashion1m`` trust@15 0.9622 / 0.9650 (heads / both, 10-NN
accuracy 0.7087 / 0.6997), Fashion-MNIST fit trust@15 0.9727 / 0.9733 and transform accuracy
0.7724 / 0.7681, MNIST-10k 0.9598 / 0.9572 and 0.9048 / 0.8967 (means of 3 seeds), and the tail
moves cost about a quarter more layout CPU on Fashion-MNIST (at 300k rows, 50-65% more layout
time on two threads, 18% on one: mostly cache lines moving between the cores, not the tail
pass's own work; ``benchmarks/README.md``, "Both-ends attraction (session 7)" and the session 8
figures after it).

Determinism with threads (block Gauss-Seidel): an epoch runs the vertices in a fixed number
of blocks of consecutive rows, one after the other (:func:`layout_blocks`: none smaller than
4096 rows, at most 256, set by the number of rows alone). Within a block every vertex is
updated by one thread from the positions the earlier blocks of the epoch left (its own block's
as they were when the block began), and the block's new positions are written back when it
ends. With both ends moving, each head writes its tails' moves into slots of its own edges
(:class:`Tails`); after the block's positions are written back, the tails move: each block's
edges are sorted by tail once a fit (:func:`fit_tails`), and each tail, on one thread, adds
its moves in that fixed order (:func:`_move_tails`). A tail's move so comes at most one block
late (at 1M, the same trust@15 as a sequential sweep that moves both ends at once). Every random
draw is keyed by (seed, edge, epoch, draw), so the result is bit-identical whatever the thread
count. That freedom is used: how many threads run each epoch is chosen by timing epochs as they
run (:class:`EpochThreads`: one thread wins when another process keeps a core busy). The blocks
matter on large data. With a single block (Jacobi: every vertex reads the start-of-epoch
positions, so a move travels one edge per epoch, and the two ends of an edge both jump at the
other's old place) the head-only layout lost trustworthiness with size against umap-learn's
sequential one: on 300k rows of ``fashion1m``, from umapx's own graph and spectral start,
trust@15 0.9496 against 0.9572 for the same kernel run sequentially in place and 0.9591 for
umap-learn's layout from the same k-NN and start; 64 blocks gave 0.9558 (seed 42;
``benchmarks/README.md``, "Where the 300k gap comes from"). Anchored attractions (below) keep
one block, so both ends of an edge read the same start-of-epoch positions.
Anchored attractions move the head only, with weight 2: with ``anchored_attraction``
(supervised fits, the new layouts of model algebra and AlignedUMAP's joint layout) an attraction
is measured between the positions both ends had at the start of the epoch: the two directions
of an edge (due in the same epochs) are then equal and opposite, as when one sample moves both
ends, and the graph's own forces never move the centre of a connected group. A supervised graph
needs this: with a continuous target (digits, ``target_metric="l1"``) the residue of the moving
head-only form made whole groups drift, and the embedding's order by target fell from the
initialisation's 0.78 (Spearman) to 0.17 (median of 3 seeds) against umap-learn's 0.65. The
combined graphs of model algebra gain from it (digits, ``+ * -``: trustworthiness 0.9870 /
0.9881 / 0.9863 against 0.9828 / 0.9864 / 0.9849, medians of 5 seeds), and so do AlignedUMAP's
slices (digits, alignment error 0.0233 against 0.0290, trustworthiness 0.9759 against 0.9751).
Unsupervised fits and ``update`` measure an attraction from the head's moving position
(already pushed by its earlier samples' repulsions this epoch). densMAP's density epochs (the
last ``dens_frac`` of its epochs, :mod:`umapx.densmap`) keep their head-only Jacobi kernel with
weight 2. A positive sample's attraction and the negative samples that follow it are computed
from the same position of the vertex and applied together, so the processor overlaps them
(repelling from the position the attraction had already moved made the Fashion-MNIST layout
about 8% slower; the densMAP and ``output_metric`` kernels still do that).

Two-dimensional embeddings, by far the most common, run kernels that keep the coordinates in
registers (``*_2d``); the general kernels handle any dimension.

With an ``output_metric`` other than euclidean (umap-learn's option: a sphere with
``"haversine"``, hyperbolic space with ``"hyperboloid"``, a user function returning
``(distance, gradient)``...), the forces are the same functions of the distance ``d`` under
that metric, applied along its gradient ``g`` (``*_metric`` kernels)::

    attraction:  -2ab d^(2b-1) / (1 + a d^(2b)) * g
    repulsion:    2 gamma b d / ((0.001 + d^2)(1 + a d^(2b))) * g

(a moving tail takes the attraction along the metric's gradient at the tail)

which for the euclidean metric (``g = (y - other) / d``) are exactly the forces above. The
euclidean kernels are kept as they are: results of euclidean models do not change.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numba
import numpy as np

from ._jit import for_chunks, kernel, respecialize
from ._rng import draw_index, stream_key
from .metrics import EUCLIDEAN, gradient, squared_euclidean
from .powers import power_table, table_power

_CLIP = np.float32(4.0)
# float32 constants: a Python int or float in an expression would promote it to float64.
_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_REPULSION_EPSILON = np.float32(0.001)


class Forces(NamedTuple):
    """Constants of the gradients (float32): the curve ``1 / (1 + a d^(2b))``, the weight
    ``gamma`` of repulsions (``repulsion_strength``), the weight of attractions, and
    ``powers``, the :func:`umapx.powers.power_table` of ``b`` that gives ``d^(2b)``."""

    a: np.float32
    b: np.float32
    gamma: np.float32
    attraction: np.float32
    powers: np.ndarray


class Schedule(NamedTuple):
    """Per-edge sampling: the period in epochs of its positive and of its negative samples,
    and the epochs when they are next due (updated in place).

    float32: periods are at least one epoch and due epochs at most a few times ``n_epochs``,
    where float32 resolves well under 1e-4 of an epoch; half the memory of float64 (16 bytes
    an edge, 380 MB less at 1M points) and half the bytes each epoch's scan of the edges reads.
    """

    epochs_per_sample: np.ndarray
    next_sample: np.ndarray
    epochs_per_negative: np.ndarray
    next_negative: np.ndarray


class Vertex(NamedTuple):
    """One moving vertex: its edges ``first:last`` of the CSR graph, the random stream its
    negative samples come from (edge ``e`` uses stream ``(seed, e - offset, epoch)``), and its
    own row ``skip`` among the positions it moves against, never repelled from (-1 when it is
    not one of them, as for a point being transformed). When ``anchored``, its attractions are
    measured from that row, its position at the start of the epoch (see the module docstring);
    otherwise from its moving position."""

    first: int
    last: int
    seed: np.uint64
    offset: int
    skip: int
    anchored: bool


def make_forces(a, b, repulsion_strength, attraction):
    return Forces(np.float32(a), np.float32(b), np.float32(repulsion_strength),
                  np.float32(attraction), power_table(np.float32(b)))


@kernel(inline="always")
def clip_gradient(value):
    return min(max(value, -_CLIP), _CLIP)


@kernel(inline="always")
def attractive_coefficient(dist_sq, a, b, powers):
    """c such that c * (y - other) is the gradient of log(1 / (1 + a d^(2b))) w.r.t. y
    (``powers``: the :func:`umapx.powers.power_table` of ``b``)."""
    d_2b = table_power(dist_sq, powers)
    return -_TWO * a * b * d_2b / (dist_sq * (a * d_2b + _ONE))


@kernel(inline="always")
def repulsive_coefficient(dist_sq, a, b, gamma, powers):
    """c such that c * (y - other) is gamma times the gradient of log(1 - 1 / (1 + a d^(2b)))
    (``powers``: the :func:`umapx.powers.power_table` of ``b``).

    As in the reference implementation, 0.001 is added to d^2 to bound the step of very close
    pairs.
    """
    d_2b = table_power(dist_sq, powers)
    return _TWO * gamma * b / ((_REPULSION_EPSILON + dist_sq) * (a * d_2b + _ONE))


@kernel(inline="always")
def _set_pull(draws, origin, other, a, b, powers, weight):
    """Set ``draws`` to ``weight`` times the clipped attractive gradient of the pair
    ``(origin, other)`` (zero for coincident points)."""
    dist_sq = squared_euclidean(origin, other)
    coeff = attractive_coefficient(dist_sq, a, b, powers) if dist_sq > 0 else np.float32(0.0)
    for d in range(draws.shape[0]):
        draws[d] = weight * clip_gradient(coeff * (origin[d] - other[d]))


@kernel(inline="always")
def accumulate_repulsions(y, others, draws, key, n_draws, skip, a, b, gamma, powers):
    """Add to ``draws`` the clipped repulsive gradients of ``y`` from ``n_draws`` random rows of
    ``others`` (not row ``skip``), all computed from the same position of ``y``.

    The repulsions are independent of each other, so the processor overlaps them instead of
    waiting for each one's update (35% faster on Fashion-MNIST than moving ``y`` after each;
    the positions differ only within one sample's few draws).
    """
    dim = y.shape[0]
    for draw in range(n_draws):
        k = draw_index(key, draw, others.shape[0])
        if k == skip:
            continue
        other = others[k]
        dist_sq = squared_euclidean(y, other)
        if dist_sq > 0:
            coeff = repulsive_coefficient(dist_sq, a, b, gamma, powers)
            for d in range(dim):
                draws[d] += clip_gradient(coeff * (y[d] - other[d]))


@kernel(inline="always")
def add_repulsions(y, others, draws, key, n_draws, skip, a, b, gamma, powers, step):
    """Move ``y`` by ``step`` times the repulsions of :func:`accumulate_repulsions`, applied
    together. ``draws`` is a scratch row as long as ``y``."""
    for d in range(y.shape[0]):
        draws[d] = 0
    accumulate_repulsions(y, others, draws, key, n_draws, skip, a, b, gamma, powers)
    for d in range(y.shape[0]):
        y[d] += step * draws[d]


@kernel(inline="always")
def _vertex_epoch(y, draws, vertex, others, indices, schedule, forces, alpha, epoch, slots,
                  slot_base):
    """One epoch of the edges of ``vertex`` at ``y`` (moved in place) against ``others``.

    ``indices`` are the CSR graph's column indices, ``schedule`` a :class:`Schedule`, ``forces``
    the :class:`Forces`, ``alpha`` the learning rate of this epoch; ``draws`` is a scratch row.
    A positive sample's attraction and its negative samples are computed from the same
    position and applied together (see the module docstring). When ``slots`` has rows, a
    sampled edge ``e`` writes its tail's move (the attraction's opposite) into row
    ``e - slot_base``, for :func:`_move_tails` to apply (and clear).
    """
    a, b, gamma = forces.a, forces.b, forces.gamma
    epochs_per_sample, next_sample = schedule.epochs_per_sample, schedule.next_sample
    epochs_per_negative, next_negative = schedule.epochs_per_negative, schedule.next_negative
    origin = others[vertex.skip] if vertex.anchored else y
    move_tails = slots.shape[0] > 0
    for e in range(vertex.first, vertex.last):
        if next_sample[e] > epoch:
            continue
        _set_pull(draws, origin, others[indices[e]], a, b, forces.powers, forces.attraction)
        if move_tails:
            for d in range(y.shape[0]):
                slots[e - slot_base, d] = -alpha * draws[d]
        next_sample[e] += epochs_per_sample[e]
        n_negative = int((epoch - next_negative[e]) / epochs_per_negative[e])
        key = stream_key(stream_key(vertex.seed, e - vertex.offset), epoch)
        accumulate_repulsions(y, others, draws, key, n_negative, vertex.skip, a, b, gamma,
                              forces.powers)
        for d in range(y.shape[0]):
            y[d] += alpha * draws[d]
        next_negative[e] += n_negative * epochs_per_negative[e]


@kernel(inline="always")
def _vertex_epoch_2d(y0, y1, vertex, others, indices, schedule, forces, alpha, epoch, slots,
                     slot_base):
    """:func:`_vertex_epoch` in two dimensions, the coordinates kept in registers."""
    a, b, gamma, attraction = forces.a, forces.b, forces.gamma, forces.attraction
    powers = forces.powers
    epochs_per_sample, next_sample = schedule.epochs_per_sample, schedule.next_sample
    epochs_per_negative, next_negative = schedule.epochs_per_negative, schedule.next_negative
    skip = vertex.skip
    anchored = vertex.anchored
    move_tails = slots.shape[0] > 0
    x0, x1 = (others[skip, 0], others[skip, 1]) if anchored else (y0, y1)
    for e in range(vertex.first, vertex.last):
        if next_sample[e] > epoch:
            continue
        j = indices[e]
        if not anchored:
            x0, x1 = y0, y1
        dx = x0 - others[j, 0]
        dy = x1 - others[j, 1]
        dist_sq = dx * dx + dy * dy
        pull0 = np.float32(0.0)
        pull1 = np.float32(0.0)
        if dist_sq > 0:
            coeff = attractive_coefficient(dist_sq, a, b, powers)
            pull0 = attraction * clip_gradient(coeff * dx)
            pull1 = attraction * clip_gradient(coeff * dy)
        if move_tails:
            slots[e - slot_base, 0] = -alpha * pull0
            slots[e - slot_base, 1] = -alpha * pull1
        next_sample[e] += epochs_per_sample[e]
        n_negative = int((epoch - next_negative[e]) / epochs_per_negative[e])
        key = stream_key(stream_key(vertex.seed, e - vertex.offset), epoch)
        sum0 = pull0
        sum1 = pull1
        for draw in range(n_negative):
            k = draw_index(key, draw, others.shape[0])
            if k == skip:
                continue
            dx = y0 - others[k, 0]
            dy = y1 - others[k, 1]
            dist_sq = dx * dx + dy * dy
            if dist_sq > 0:
                coeff = repulsive_coefficient(dist_sq, a, b, gamma, powers)
                sum0 += clip_gradient(coeff * dx)
                sum1 += clip_gradient(coeff * dy)
        y0 += alpha * sum0
        y1 += alpha * sum1
        next_negative[e] += n_negative * epochs_per_negative[e]
    return y0, y1


@kernel(inline="always")
def _commit_block(positions, updated, low, high):
    """Copy rows ``low:high`` of ``updated`` into ``positions`` (one thread: a block of a few
    thousand rows is copied in microseconds)."""
    for i in range(low, high):
        for d in range(positions.shape[1]):
            positions[i, d] = updated[i, d]


class Tails(NamedTuple):
    """What moves the tails of a fit's sampled edges (see the module docstring).

    Each block of :func:`layout_blocks` (edges ``indptr[low]:indptr[high]``) sorts its edges by
    tail, stably (int32 arrays, one entry an edge, at the block's own positions): ``tails``
    holds the block's tails in that order and ``order`` the edges, as offsets from the block's
    first edge. ``slots``: one row per edge of the largest block, where each sampled edge of
    the running block writes its tail's move (float32, zero otherwise: :func:`_move_tails`
    clears them). All empty when tails do not move (anchored attractions).
    """

    order: np.ndarray
    tails: np.ndarray
    slots: np.ndarray


#: Positions of a block's sorted edges per parallel chunk of :func:`_move_tails`.
_TAIL_CHUNK = 4096


@kernel(inline="always")
def _move_tails(positions, tails, order, slots, first, last):
    """Add the tail moves that the block of edges ``first:last`` left in ``slots`` to the
    tails' ``positions`` and clear them (``tails``, ``order``: a :class:`Tails`' fields). A
    tail's moves are added in their fixed order by one thread (a chunk of positions takes the
    tails whose moves start in it), so the sums do not depend on the thread count; the tails
    are touched in increasing order. Inlined into the epoch kernels, whose parallel loop it
    brings (a parallel kernel of its own took longer to compile)."""
    count = last - first
    for chunk in numba.prange((count + _TAIL_CHUNK - 1) // _TAIL_CHUNK):
        start = chunk * _TAIL_CHUNK
        end = min(start + _TAIL_CHUNK, count)
        # Both ends moved past the moves of a tail that began before them.
        while 0 < start < count and tails[first + start] == tails[first + start - 1]:
            start += 1
        while end < count and tails[first + end] == tails[first + end - 1]:
            end += 1
        for p in range(start, end):
            tail = tails[first + p]
            k = order[first + p]
            for d in range(positions.shape[1]):
                positions[tail, d] += slots[k, d]
                slots[k, d] = 0


def fit_tails(indptr, indices, blocks, dim, heads_only):
    """The :class:`Tails` of a fit (empty when ``heads_only``).

    In numpy, not a kernel: it runs once a fit (sorting each block's tails), and a kernel took
    longer to compile than this takes on a million rows."""
    if heads_only:
        return Tails(np.empty(0, np.int32), np.empty(0, np.int32),
                     np.empty((0, dim), np.float32))
    sizes = np.diff(indptr[blocks])
    largest = int(sizes.max(initial=0))
    if largest >= np.iinfo(np.int32).max:
        raise ValueError("a layout block has more than 2**31 - 1 edges")
    order = np.empty(indptr[-1], np.int32)
    tails = np.empty(indptr[-1], np.int32)
    for low, high in zip(blocks[:-1], blocks[1:]):
        first, last = indptr[low], indptr[high]
        order[first:last] = np.argsort(indices[first:last], kind="stable")
        tails[first:last] = indices[first:last][order[first:last]]
    return Tails(order, tails, np.zeros((largest, dim), np.float32))


@kernel(inline="always")
def _heads_2d(positions, updated, indptr, indices, schedule, forces, alpha, epoch, seed,
              anchored, low, high, slots):
    """Move the heads of rows ``low:high`` (one block) from the positions the block began with,
    then write them back (2-d); ``slots``: the block's tail moves, or no rows."""
    for i in numba.prange(low, high):
        vertex = Vertex(indptr[i], indptr[i + 1], seed, 0, i, anchored)
        updated[i, 0], updated[i, 1] = _vertex_epoch_2d(
            positions[i, 0], positions[i, 1], vertex, positions, indices, schedule, forces,
            alpha, epoch, slots, indptr[low],
        )
    _commit_block(positions, updated, low, high)


@kernel(inline="always")
def _heads_nd(positions, updated, scratch, indptr, indices, schedule, forces, alpha, epoch, seed,
              anchored, low, high, slots):
    """:func:`_heads_2d` in any dimension (``scratch``: one row per vertex)."""
    for i in numba.prange(low, high):
        vertex = Vertex(indptr[i], indptr[i + 1], seed, 0, i, anchored)
        for d in range(positions.shape[1]):  # a loop: an array slice assignment costs
            updated[i, d] = positions[i, d]  # ~1.5 s of compilation (shape errors)
        _vertex_epoch(updated[i], scratch[i], vertex, positions, indices, schedule, forces,
                      alpha, epoch, slots, indptr[low])
    _commit_block(positions, updated, low, high)


@kernel(parallel=True)
def _fit_epoch_2d(positions, updated, indptr, indices, schedule, forces, alpha, epoch, seed,
                  anchored, blocks):
    """:func:`fit_epoch` of a two-dimensional embedding, heads only (the coordinates kept in
    registers)."""
    alpha = np.float32(alpha)
    no_slots = np.empty((0, 2), np.float32)
    for block in range(blocks.shape[0] - 1):
        _heads_2d(positions, updated, indptr, indices, schedule, forces, alpha, epoch, seed,
                  anchored, blocks[block], blocks[block + 1], no_slots)


@kernel(parallel=True)
def _fit_epoch_2d_both(positions, updated, indptr, indices, schedule, forces, alpha, epoch,
                       seed, blocks, tails):
    """:func:`fit_epoch` of a two-dimensional embedding, both ends of the sampled edges."""
    alpha = np.float32(alpha)
    for block in range(blocks.shape[0] - 1):
        low, high = blocks[block], blocks[block + 1]
        _heads_2d(positions, updated, indptr, indices, schedule, forces, alpha, epoch, seed,
                  False, low, high, tails.slots)
        _move_tails(positions, tails.tails, tails.order, tails.slots, indptr[low], indptr[high])


@kernel(parallel=True)
def _fit_epoch_nd(positions, updated, scratch, indptr, indices, schedule, forces, alpha, epoch,
                  seed, anchored, blocks):
    """:func:`fit_epoch` of an embedding of any dimension, heads only."""
    alpha = np.float32(alpha)
    no_slots = np.empty((0, positions.shape[1]), np.float32)
    for block in range(blocks.shape[0] - 1):
        _heads_nd(positions, updated, scratch, indptr, indices, schedule, forces, alpha, epoch,
                  seed, anchored, blocks[block], blocks[block + 1], no_slots)


@kernel(parallel=True)
def _fit_epoch_nd_both(positions, updated, scratch, indptr, indices, schedule, forces, alpha,
                       epoch, seed, blocks, tails):
    """:func:`fit_epoch` of an embedding of any dimension, both ends of the sampled edges."""
    alpha = np.float32(alpha)
    for block in range(blocks.shape[0] - 1):
        low, high = blocks[block], blocks[block + 1]
        _heads_nd(positions, updated, scratch, indptr, indices, schedule, forces, alpha, epoch,
                  seed, False, low, high, tails.slots)
        _move_tails(positions, tails.tails, tails.order, tails.slots, indptr[low], indptr[high])


def fit_epoch(positions, updated, scratch, indptr, indices, schedule, forces, alpha, epoch, seed,
              anchored, blocks, tails=None):
    """One epoch over all vertices, moving ``positions`` in place (float32 arithmetic).

    The vertices run block after block (``blocks``: the first row of each block and the end, as
    :func:`layout_blocks` gives): every vertex of a block moves from the positions the earlier
    blocks left, its own block's at the start of the epoch, written to ``updated`` and copied
    into ``positions`` when the block ends; with ``tails`` (a :class:`Tails` with slots), the
    tails of the block's sampled edges move then (see the module docstring), otherwise heads
    only. Vertex ``i`` moves along its edges ``indptr[i]:indptr[i + 1]``; its negative samples
    come from the streams ``(seed, edge, epoch)``; ``anchored``: see :class:`Vertex`. Two
    dimensions and the others, heads only and both ends, are separate kernels, so that a first
    run compiles only the one it uses.
    """
    both = tails is not None and tails.slots.shape[0] > 0
    if positions.shape[1] == 2 and both:
        _fit_epoch_2d_both(positions, updated, indptr, indices, schedule, forces, alpha, epoch,
                           seed, blocks, tails)
    elif positions.shape[1] == 2:
        _fit_epoch_2d(positions, updated, indptr, indices, schedule, forces, alpha, epoch, seed,
                      anchored, blocks)
    elif both:
        _fit_epoch_nd_both(positions, updated, scratch, indptr, indices, schedule, forces,
                           alpha, epoch, seed, blocks, tails)
    else:
        _fit_epoch_nd(positions, updated, scratch, indptr, indices, schedule, forces, alpha,
                      epoch, seed, anchored, blocks)


#: Rows of the smallest block of an epoch (:func:`layout_blocks`).
BLOCK_ROWS = 4096
#: The most blocks an epoch is split into. More, smaller blocks come closer to a sequential
#: sweep (fashion1m 300k rows, seed 42: trust@15 0.9496 / 0.9536 / 0.9544 / 0.9558 with
#: 1 / 4 / 16 / 64 blocks, 0.9572 sequential); each costs one parallel region an epoch.
MOST_BLOCKS = 256


#: The fewest rows whose fit moves both ends of each sampled edge (see the module docstring).
BOTH_ENDS_ROWS = 200_000
#: The weight of an attraction sample in unanchored euclidean head-only fits (see the module
#: docstring; 2 would be the classic balance, which anchored attractions, densMAP and other
#: output metrics keep).
HEAD_ATTRACTION = 1.6


def moves_both_ends(n_rows, anchored=False):
    """Whether a fit of ``n_rows`` moves both ends of each sampled edge (otherwise heads only,
    as anchored attractions always do)."""
    return not anchored and n_rows >= BOTH_ENDS_ROWS


def layout_blocks(n_rows, anchored=False):
    """The blocks of a layout epoch: the first row of each and ``n_rows`` (int64).

    Blocks of equal size, as many as fit ``BLOCK_ROWS`` rows each, at most ``MOST_BLOCKS``;
    a single block with ``anchored`` attractions (see the module docstring). They depend on
    the number of rows only, never on the number of threads.
    """
    count = 1 if anchored else max(1, min(MOST_BLOCKS, n_rows // BLOCK_ROWS))
    return np.array([block * n_rows // count for block in range(count + 1)], dtype=np.int64)


@kernel
def _transform_points_2d(head, tail, indptr, indices, schedule, forces, learning_rate,
                         n_epochs, row_keys, first, last):
    """:func:`transform_points` of the two-dimensional points ``first:last`` (the coordinates
    in registers)."""
    no_slots = np.empty((0, 2), np.float32)  # the fixed tail never moves
    for i in range(first, last):
        vertex = Vertex(indptr[i], indptr[i + 1], row_keys[i], indptr[i], -1, False)
        y0, y1 = head[i, 0], head[i, 1]
        for epoch in range(n_epochs):
            alpha = np.float32(learning_rate * (1.0 - epoch / n_epochs))
            y0, y1 = _vertex_epoch_2d(y0, y1, vertex, tail, indices, schedule, forces, alpha,
                                      epoch, no_slots, 0)
        head[i, 0], head[i, 1] = y0, y1


@kernel
def _transform_points_nd(head, tail, scratch, indptr, indices, schedule, forces, learning_rate,
                         n_epochs, row_keys, first, last):
    """:func:`transform_points` of the points ``first:last`` of any dimension (``scratch``:
    one row per point)."""
    no_slots = np.empty((0, head.shape[1]), np.float32)  # the fixed tail never moves
    for i in range(first, last):
        vertex = Vertex(indptr[i], indptr[i + 1], row_keys[i], indptr[i], -1, False)
        for epoch in range(n_epochs):
            alpha = np.float32(learning_rate * (1.0 - epoch / n_epochs))
            _vertex_epoch(head[i], scratch[i], vertex, tail, indices, schedule, forces, alpha,
                          epoch, no_slots, 0)


# Points per chunk of a transform's layout (each runs all its epochs at once).
_TRANSFORM_CHUNK = 256


def transform_points(head, tail, scratch, indptr, indices, schedule, forces, learning_rate,
                     n_epochs, row_keys):
    """All epochs for each new point (``head``, in place) against the fixed ``tail``.

    Rows are independent, so each runs its whole optimisation in one go, a chunk of rows at a
    time on the threads of :func:`umapx._jit.for_chunks` (serial kernels: a ``parallel=True``
    loop cost ~1.3 s more to compile the first time). A row's random stream is keyed by
    ``row_keys[i]`` and the edge's position in the row, so it does not depend on the other
    rows. Two dimensions and the others are separate kernels (see :func:`fit_epoch`).
    """
    learning_rate, n_epochs = float(learning_rate), int(n_epochs)
    if head.shape[1] == 2:
        def body(first, last):
            _transform_points_2d(head, tail, indptr, indices, schedule, forces, learning_rate,
                                 n_epochs, row_keys, first, last)
    else:
        def body(first, last):
            _transform_points_nd(head, tail, scratch, indptr, indices, schedule, forces,
                                 learning_rate, n_epochs, row_keys, first, last)
    for_chunks(head.shape[0], _TRANSFORM_CHUNK, body)


@kernel(inline="always")
def _metric_vertex_epoch(y, draws, grad, vertex, others, indices, schedule, forces, alpha, epoch,
                         output, slots, slot_base):
    """:func:`_vertex_epoch` under the output metric ``output`` (a ``DistanceArgs``).

    ``grad`` is a float64 scratch row as long as ``y``; the forces are functions of the output
    distance along its gradient (see the module docstring).
    """
    a, b, gamma = forces.a, forces.b, forces.gamma
    epochs_per_sample, next_sample = schedule.epochs_per_sample, schedule.next_sample
    epochs_per_negative, next_negative = schedule.epochs_per_negative, schedule.next_negative
    dim = y.shape[0]
    origin = others[vertex.skip] if vertex.anchored else y
    move_tails = slots.shape[0] > 0
    for e in range(vertex.first, vertex.last):
        if next_sample[e] > epoch:
            continue
        other = others[indices[e]]
        d = gradient(output, origin, other, grad)
        if d > 0:
            d_2b = d ** (2.0 * b)
            coeff = -2.0 * a * b * d_2b / (d * (a * d_2b + 1.0))
            step = forces.attraction * alpha
            for k in range(dim):
                draws[k] = step * clip_gradient(np.float32(coeff * grad[k]))
            if move_tails:  # the tail moves along the metric's gradient at the tail
                gradient(output, other, origin, grad)
                for k in range(dim):
                    slots[e - slot_base, k] = step * clip_gradient(np.float32(coeff * grad[k]))
            for k in range(dim):
                y[k] += draws[k]
        next_sample[e] += epochs_per_sample[e]
        n_negative = int((epoch - next_negative[e]) / epochs_per_negative[e])
        key = stream_key(stream_key(vertex.seed, e - vertex.offset), epoch)
        for k in range(dim):
            draws[k] = 0
        for draw in range(n_negative):
            j = draw_index(key, draw, others.shape[0])
            if j == vertex.skip:
                continue
            d = gradient(output, y, others[j], grad)
            if d > 0:
                coeff = 2.0 * gamma * b * d / ((0.001 + d * d) * (a * d ** (2.0 * b) + 1.0))
                for k in range(dim):
                    draws[k] += clip_gradient(np.float32(coeff * grad[k]))
        for k in range(dim):
            y[k] += alpha * draws[k]
        next_negative[e] += n_negative * epochs_per_negative[e]


@kernel(inline="always")
def _heads_metric(positions, updated, scratch, grads, indptr, indices, schedule, forces, alpha,
                  epoch, seed, anchored, low, high, output, slots):
    """:func:`_heads_2d` under the output metric ``output``."""
    for i in numba.prange(low, high):
        vertex = Vertex(indptr[i], indptr[i + 1], seed, 0, i, anchored)
        updated[i] = positions[i]
        _metric_vertex_epoch(updated[i], scratch[i], grads[i], vertex, positions, indices,
                             schedule, forces, alpha, epoch, output, slots, indptr[low])
    _commit_block(positions, updated, low, high)


@kernel(parallel=True)
def _fit_epoch_metric(positions, updated, scratch, grads, indptr, indices, schedule, forces,
                      alpha, epoch, seed, anchored, blocks, output):
    """:func:`fit_epoch` under the output metric ``output``, heads only."""
    alpha = np.float32(alpha)
    no_slots = np.empty((0, positions.shape[1]), np.float32)
    for block in range(blocks.shape[0] - 1):
        _heads_metric(positions, updated, scratch, grads, indptr, indices, schedule, forces,
                      alpha, epoch, seed, anchored, blocks[block], blocks[block + 1], output,
                      no_slots)


@kernel(parallel=True)
def _fit_epoch_metric_both(positions, updated, scratch, grads, indptr, indices, schedule,
                           forces, alpha, epoch, seed, blocks, tails, output):
    """:func:`fit_epoch` under the output metric ``output``, both ends of the sampled edges."""
    alpha = np.float32(alpha)
    for block in range(blocks.shape[0] - 1):
        low, high = blocks[block], blocks[block + 1]
        _heads_metric(positions, updated, scratch, grads, indptr, indices, schedule, forces,
                      alpha, epoch, seed, False, low, high, output, tails.slots)
        _move_tails(positions, tails.tails, tails.order, tails.slots, indptr[low], indptr[high])


@kernel(parallel=True)
def _transform_points_metric(head, tail, scratch, grads, indptr, indices, schedule, forces,
                             learning_rate, n_epochs, row_keys, output):
    """:func:`transform_points` under the output metric ``output``."""
    no_slots = np.empty((0, head.shape[1]), np.float32)  # the fixed tail never moves
    for i in numba.prange(head.shape[0]):
        vertex = Vertex(indptr[i], indptr[i + 1], row_keys[i], indptr[i], -1, False)
        for epoch in range(n_epochs):
            alpha = np.float32(learning_rate * (1.0 - epoch / n_epochs))
            _metric_vertex_epoch(head[i], scratch[i], grads[i], vertex, tail, indices, schedule,
                                 forces, alpha, epoch, output, no_slots, 0)


_USER_OUTPUT_KERNELS = {}


def _metric_kernels(output_metric):
    """The ``(fit epoch heads only, fit epoch both ends, transform)`` kernels for an output
    metric (recompiled around a user function's gradient, once per function)."""
    if output_metric.user_function is None:
        return _fit_epoch_metric, _fit_epoch_metric_both, _transform_points_metric
    key = output_metric
    if key not in _USER_OUTPUT_KERNELS:
        vertex_epoch = output_metric.specialize(_metric_vertex_epoch)
        _USER_OUTPUT_KERNELS[key] = tuple(
            respecialize(kernel, _metric_vertex_epoch=vertex_epoch)
            for kernel in (_fit_epoch_metric, _fit_epoch_metric_both, _transform_points_metric))
    return _USER_OUTPUT_KERNELS[key]


def _is_euclidean(output_metric):
    return output_metric is None or (output_metric.user_function is None
                                     and output_metric.code == EUCLIDEAN)


def epochs_per_sample(weights, n_epochs, reference=None):
    """Epochs between two samples of each edge: ``reference / weight`` (``-1``: never).

    ``reference`` defaults to the largest weight, so the strongest edge is sampled every epoch;
    edges at or above a given ``reference`` are sampled every epoch too (never more often: the
    kernels take at most one positive sample of an edge per epoch, and its negative samples
    must keep their ratio to it).
    """
    reference = weights.max() if reference is None else reference
    result = np.full(weights.shape[0], -1.0, dtype=np.float64)
    n_samples = n_epochs * np.minimum(weights / reference, 1.0)
    positive = n_samples > 0
    # A weight so small (denormal) that the period overflows gives +inf: never sampled either.
    with np.errstate(over="ignore"):
        result[positive] = float(n_epochs) / n_samples[positive]
    return result


def prune_weak_edges(graph, n_epochs, reference=None):
    """Drop edges too weak to be sampled even once in ``n_epochs`` (returns a new CSR)."""
    graph = graph.tocsr(copy=True)
    reference = graph.data.max() if reference is None else reference
    graph.data[graph.data < reference / float(n_epochs)] = 0.0
    graph.eliminate_zeros()
    return graph


def _schedule(graph, n_epochs, negative_sample_rate, reference=None):
    """The :class:`Schedule` of every edge of ``graph``: every edge is due at its first period."""
    # epochs_per_sample's n_epochs / (n_epochs * weight / reference), straight in float32
    # (no float64 temporaries the size of the graph).
    weights = graph.data
    reference = weights.max() if reference is None else reference
    eps = np.full(weights.shape[0], -1.0, np.float32)
    # A weight so small (denormal) that the period overflows gives +inf: never sampled either.
    with np.errstate(over="ignore"):
        np.divide(np.float32(reference), weights, out=eps, where=weights > 0, dtype=np.float32)
    # Edges above a given reference: one sample an epoch, as epochs_per_sample says.
    np.maximum(eps, np.float32(1.0), out=eps, where=weights > 0)
    if negative_sample_rate > 0:
        eps_negative = eps / np.float32(negative_sample_rate)
    else:  # a period longer than the run: no negative sample is ever drawn
        eps_negative = np.full(eps.shape, 10.0 * (n_epochs + 1), np.float32)
    return Schedule(eps, eps.copy(), eps_negative, eps_negative.copy())


def normalise_layout(embedding):
    """Rescale each coordinate into [0, 10] (the starting box of the optimisation)."""
    embedding = np.asarray(embedding, dtype=np.float64)
    low = embedding.min(axis=0)
    span = embedding.max(axis=0) - low
    span[span == 0] = 1.0
    return np.ascontiguousarray(10.0 * (embedding - low) / span, dtype=np.float32)


class EpochThreads:
    """How many threads run each epoch of a layout, chosen by timing epochs as they run.

    Every epoch ends at a barrier, so when another process keeps one core busy the thread that
    shares it holds up every epoch's end; on small data, whose epochs last a few milliseconds
    (about the scheduler's time slice), all threads then run slower than one alone on the free
    core. Now and then one epoch runs with the other choice (all threads or one) and the
    faster is kept; the wait before the next trial doubles each time the choice stands. The
    layout's results do not depend on the number of threads (each vertex's moves are computed
    from the positions its block began with and its own random streams), only its speed does.
    """

    #: Epochs timed under the current choice before the first trial.
    FIRST_TRIAL = 3
    #: Epochs between trials after a switch, and the most between two trials.
    INTERVAL, MOST_INTERVAL = 16, 128
    #: A trial wins when its epoch takes less than this fraction of the recent median.
    MARGIN = 0.9

    def __init__(self):
        self.most = numba.get_num_threads()
        self.threads = self.most
        self.next_trial = self.FIRST_TRIAL
        self.interval = self.INTERVAL
        self.recent = []  # seconds of the last epochs under the current choice

    def run(self, epoch, step):
        """Run ``step()`` (one epoch) with the thread count chosen for ``epoch``."""
        if self.most == 1:
            step()
            return
        if epoch == self.next_trial and not self.recent:
            self.next_trial += 1
        trial = epoch == self.next_trial
        threads = (1 if self.threads > 1 else self.most) if trial else self.threads
        numba.set_num_threads(threads)
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
        if not trial:
            self.recent = (self.recent + [seconds])[-3:]
            return
        if seconds < self.MARGIN * float(np.median(self.recent)):
            self.threads, self.interval, self.recent = threads, self.INTERVAL, []
        else:
            self.interval = min(2 * self.interval, self.MOST_INTERVAL)
        self.next_trial = epoch + self.interval

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        numba.set_num_threads(self.most)


def optimize_layout(embedding, graph, *, n_epochs, a, b, repulsion_strength, learning_rate,
                    negative_sample_rate, seed, progress=None, output_metric=None,
                    snapshots=(), density=None, anchored_attraction=False):
    """Optimise the embedding of a fitted graph.

    Parameters
    ----------
    embedding : ndarray (n, dim), float32
        Initial positions (not modified).
    graph : scipy.sparse.csr_matrix (n, n)
        Symmetric fuzzy graph, weak edges already pruned.
    n_epochs : int
    a, b : float
        Similarity curve parameters.
    repulsion_strength, learning_rate : float
    negative_sample_rate : float
    seed : int
        Seed of the negative sampling streams.
    progress : callable or None
        Called with the epoch number after every epoch.
    output_metric : Metric or None
        Metric of the embedding space (None: euclidean).
    snapshots : collection of int
        Numbers of epochs after which a copy of the embedding is kept.
    density : umapx.densmap.DensityObjective or None
        densMAP's density term: in the epochs where it is ``active``, its ``fit_epoch`` runs
        the epoch (euclidean embeddings only).
    anchored_attraction : bool
        Measure attractions between the start-of-epoch positions of both ends (for supervised
        graphs; see the module docstring). The density epochs of densMAP do not.

    Returns
    -------
    ndarray (n, dim), float32
        The embedding; with ``snapshots``, a pair ``(embedding, list of copies)`` in increasing
        epoch order.
    """
    graph = graph.tocsr()
    indptr = graph.indptr.astype(np.int64)
    indices = np.asarray(graph.indices, dtype=np.int32)  # no copy of the usual int32 indices
    schedule = _schedule(graph, n_epochs, negative_sample_rate)
    current = np.array(embedding, dtype=np.float32, order="C", copy=True)
    updated = np.empty_like(current)
    scratch = np.empty_like(current)
    blocks = layout_blocks(current.shape[0], anchored_attraction)
    both_ends = moves_both_ends(current.shape[0], anchored_attraction)
    tails = fit_tails(indptr, indices, blocks, current.shape[1], not both_ends)
    # Heads only: each direction of an edge with weight 2 (the classic balance) where
    # attractions are anchored, in densMAP's fits and in other output metrics, otherwise
    # HEAD_ATTRACTION; both ends: weight 1 at each end.
    classic = make_forces(a, b, repulsion_strength, attraction=2.0)  # heads only, weight 2
    euclidean = _is_euclidean(output_metric)
    if both_ends:
        forces = classic._replace(attraction=np.float32(1))
    elif anchored_attraction or not euclidean or (density is not None and density.strength > 0):
        forces = classic
    else:
        forces = classic._replace(attraction=np.float32(HEAD_ATTRACTION))
    if not euclidean:
        metric_epoch, metric_epoch_both, _ = _metric_kernels(output_metric)
        grads = np.empty(current.shape, np.float64)
        output = output_metric.distance_args
    kept = [current.copy()] if 0 in snapshots else []

    def one_epoch():
        alpha = learning_rate * (1.0 - epoch / n_epochs)
        if density is not None and density.active(epoch, n_epochs):
            density.fit_epoch(current, updated, scratch, indptr, indices, schedule,
                              classic, alpha, epoch, seed)
            current[:] = updated  # the density epochs are Jacobi epochs (one block)
        elif euclidean:
            fit_epoch(current, updated, scratch, indptr, indices, schedule, forces, alpha,
                      epoch, seed, anchored_attraction, blocks, tails)
        elif both_ends:
            metric_epoch_both(current, updated, scratch, grads, indptr, indices, schedule,
                              forces, alpha, epoch, seed, blocks, tails, output)
        else:
            metric_epoch(current, updated, scratch, grads, indptr, indices, schedule, forces,
                         alpha, epoch, seed, anchored_attraction, blocks, output)

    with EpochThreads() as threads:
        for epoch in range(n_epochs):
            threads.run(epoch, one_epoch)
            if epoch + 1 in snapshots:
                kept.append(current.copy())
            if progress is not None:
                progress(epoch + 1)
    if snapshots:
        return current, kept
    return current


def optimize_transform(head, tail, graph, *, n_epochs, a, b, repulsion_strength, learning_rate,
                       negative_sample_rate, row_keys, output_metric=None, reference=1.0,
                       attraction=None):
    """Optimise new points ``head`` against the fixed training embedding ``tail``.

    ``graph`` has one row per new point (memberships to training points, weak edges pruned
    with the same ``reference``). Edge sampling is relative to the fixed weight ``reference``
    (an edge of that weight or more is sampled every epoch), not to the call's largest
    weight, so a row's result does not depend on the other rows of the call. ``row_keys`` seed
    each row's random stream. ``output_metric`` is the metric of the embedding space (None:
    euclidean); under another metric each attraction has the weight it has in the fit.
    ``attraction``: the weight of an attraction sample instead (None: 1 in a euclidean
    space, 2 otherwise; for experiments, ``benchmarks/transform_stages.py``).
    """
    graph = graph.tocsr()
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int32)
    schedule = _schedule(graph, n_epochs, negative_sample_rate, reference=reference)
    head = np.array(head, dtype=np.float32, order="C", copy=True)
    tail = np.ascontiguousarray(tail, dtype=np.float32)
    euclidean = _is_euclidean(output_metric)
    if attraction is None:
        attraction = 1.0 if euclidean else 2.0
    forces = make_forces(a, b, repulsion_strength, attraction=attraction)
    if euclidean:
        transform_points(head, tail, np.empty_like(head), indptr, indices, schedule, forces,
                         learning_rate, n_epochs, row_keys)
    else:
        # The fit's balance of attraction and repulsion: in a bounded space (a sphere) the
        # repulsion of far points never vanishes, and half the attraction lets new points
        # drift out of their neighbourhood (class agreement of placed points 0.68-0.83 against
        # 0.8-1.0 with this balance, 4 seeds).
        metric_transform = _metric_kernels(output_metric)[2]
        metric_transform(head, tail, np.empty_like(head), np.empty(head.shape, np.float64),
                         indptr, indices, schedule, forces, learning_rate, n_epochs, row_keys,
                         output_metric.distance_args)
    return head


@kernel(parallel=True)
def _aligned_epoch(current, updated, scratch, slice_starts, slice_of, indptr, indices, schedule,
                   forces, alpha, epoch, seed, pulls):
    """One epoch of :func:`optimize_aligned_layout` over all slices' vertices (stacked).

    Vertex ``i`` of slice ``s`` moves along its edges (column indices local to the slice) and
    repels from random vertices of its own slice, as in :func:`fit_epoch` with anchored
    attractions (see the module docstring); it is then
    pulled towards its related vertices of the neighbouring slices (``pulls``, an
    :class:`AlignmentPulls`), all read from ``current``.
    """
    alpha = np.float32(alpha)
    dim = current.shape[1]
    no_slots = np.empty((0, dim), np.float32)  # anchored: only heads move
    for i in numba.prange(current.shape[0]):
        s = slice_of[i]
        low = slice_starts[s]
        others = current[low:slice_starts[s + 1]]
        vertex = Vertex(indptr[i], indptr[i + 1], seed, 0, i - low, True)  # anchored
        if dim == 2:
            updated[i, 0], updated[i, 1] = _vertex_epoch_2d(
                current[i, 0], current[i, 1], vertex, others, indices, schedule, forces, alpha,
                epoch, no_slots, 0)
        else:
            for d in range(current.shape[1]):  # a loop: an array slice assignment costs
                updated[i, d] = current[i, d]  # ~1.5 s of compilation (shape errors)
            _vertex_epoch(updated[i], scratch[i], vertex, others, indices, schedule, forces,
                          alpha, epoch, no_slots, 0)
        first, last = pulls.indptr[i], pulls.indptr[i + 1]
        total = np.float32(0.0)
        for e in range(first, last):
            total += pulls.weights[e]
        if total > 0:
            # alpha * rate pulls per epoch, at most all the way to the weighted centre
            factor = min(alpha * pulls.rate[i], _ONE / total)
            for d in range(dim):
                step = np.float32(0.0)
                for e in range(first, last):
                    step += pulls.weights[e] * (current[pulls.indices[e], d] - current[i, d])
                updated[i, d] += clip_gradient(factor * step)


class AlignmentPulls(NamedTuple):
    """The alignment term of :func:`optimize_aligned_layout` in CSR form over the stacked
    vertices: vertex ``i`` is pulled towards ``indices[indptr[i]:indptr[i + 1]]`` with those
    ``weights`` (float32), ``rate[i]`` times per epoch at the full learning rate."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    rate: np.ndarray


def optimize_aligned_layout(embeddings, graphs, pulls, *, n_epochs, a, b, repulsion_strength,
                            learning_rate, negative_sample_rate, seed, progress=None):
    """Optimise the embeddings of several graphs together, aligned by a pull between related
    vertices (AlignedUMAP's layout; euclidean output).

    Each slice's graph is sampled as in :func:`optimize_layout` (edges relative to the slice's
    strongest edge, negative samples drawn within the slice). After its edges, every vertex
    moves towards its related vertices of other slices: by ``alpha * rate[i] * sum_j w_ij
    (y_j - y_i)`` (``alpha`` the decaying learning rate), at most to their weighted centre.
    Deterministic whatever the thread count (double buffering, keyed random streams).

    Parameters
    ----------
    embeddings : list of ndarray (n_s, dim), float32
        Starting positions of each slice (not modified).
    graphs : list of scipy.sparse.csr_matrix (n_s, n_s)
        Each slice's fuzzy graph, weak edges already pruned.
    pulls : AlignmentPulls
        Over the stacked vertices (slice order).
    n_epochs, a, b, repulsion_strength, learning_rate, negative_sample_rate, seed
        As for :func:`optimize_layout`.
    progress : callable or None
        Called with the epoch number after every epoch.

    Returns
    -------
    list of ndarray (n_s, dim), float32
    """
    sizes = np.array([graph.shape[0] for graph in graphs], dtype=np.int64)
    slice_starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    slice_of = np.repeat(np.arange(len(graphs), dtype=np.int64), sizes)
    graphs = [graph.tocsr() for graph in graphs]
    offsets = np.cumsum([0] + [graph.nnz for graph in graphs])
    indptr = np.concatenate([[0]] + [graph.indptr[1:].astype(np.int64) + offset
                                     for graph, offset in zip(graphs, offsets)]).astype(np.int64)
    indices = np.concatenate([graph.indices for graph in graphs]).astype(np.int32)
    parts = [_schedule(graph, n_epochs, negative_sample_rate) if graph.nnz
             else Schedule(*[np.empty(0)] * 4) for graph in graphs]
    schedule = Schedule(*(np.concatenate([part[f] for part in parts]) for f in range(4)))
    forces = make_forces(a, b, repulsion_strength, attraction=2.0)
    current = np.ascontiguousarray(np.concatenate(embeddings), dtype=np.float32)
    updated = np.empty_like(current)
    scratch = np.empty_like(current)

    def one_epoch():
        alpha = learning_rate * (1.0 - epoch / n_epochs)
        _aligned_epoch(current, updated, scratch, slice_starts, slice_of, indptr, indices,
                       schedule, forces, alpha, epoch, seed, pulls)

    with EpochThreads() as threads:
        for epoch in range(n_epochs):
            threads.run(epoch, one_epoch)
            current, updated = updated, current
            if progress is not None:
                progress(epoch + 1)
    return [current[slice_starts[s]:slice_starts[s + 1]].copy() for s in range(len(graphs))]

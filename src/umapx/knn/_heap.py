"""Fixed-size max-heaps of (distance, index) pairs, one per row of two arrays.

A row of ``distances`` / ``indices`` holds the ``k`` best candidates found so far with the worst
at position 0, so a candidate is rejected with a single comparison. Empty slots hold
``(inf, -1)``.
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel


@kernel(inline="always")
def _sift_down(distances, indices, flags, start, size):
    """Restore the max-heap property below ``start`` (``flags`` may be None)."""
    parent = start
    while True:
        left = 2 * parent + 1
        if left >= size:
            break
        right = left + 1
        child = left
        if right < size and distances[right] > distances[left]:
            child = right
        if distances[child] <= distances[parent]:
            break
        distances[parent], distances[child] = distances[child], distances[parent]
        indices[parent], indices[child] = indices[child], indices[parent]
        if flags is not None:
            flags[parent], flags[child] = flags[child], flags[parent]
        parent = child


@kernel(inline="always")
def flagged_heap_push(distances, indices, flags, distance, index, flag):
    """Offer ``(distance, index)`` to one heap row; return 1 if it was taken, else 0.

    An index already in the heap is not taken twice. ``flags`` (NN-descent's "new" marks, or
    None) receives ``flag`` with the entry.
    """
    if distance >= distances[0]:
        return 0
    for slot in range(indices.shape[0]):
        if indices[slot] == index:
            return 0
    distances[0] = distance
    indices[0] = index
    if flags is not None:
        flags[0] = flag
    _sift_down(distances, indices, flags, 0, distances.shape[0])
    return 1


@kernel(inline="always")
def heap_push(distances, indices, distance, index):
    """:func:`flagged_heap_push` without flags."""
    return flagged_heap_push(distances, indices, None, distance, index, 0)


@kernel(inline="always")
def sort_heap(distances, indices):
    """Sort one heap row in place into ascending distance (heapsort; ties keep heap order)."""
    size = distances.shape[0]
    for end in range(size - 1, 0, -1):
        distances[0], distances[end] = distances[end], distances[0]
        indices[0], indices[end] = indices[end], indices[0]
        _sift_down(distances, indices, None, 0, end)


def empty_heaps(n_rows, size):
    """``(distances, indices)`` arrays of ``n_rows`` empty heaps of ``size`` slots."""
    return (
        np.full((n_rows, size), np.inf, dtype=np.float32),
        np.full((n_rows, size), -1, dtype=np.int32),
    )


@kernel(inline="always")
def min_heap_push(distances, indices, size, distance, index):
    """Push onto a growable min-heap occupying ``[0, size)``; return the new size."""
    child = size
    distances[child] = distance
    indices[child] = index
    while child > 0:
        parent = (child - 1) // 2
        if distances[parent] <= distances[child]:
            break
        distances[parent], distances[child] = distances[child], distances[parent]
        indices[parent], indices[child] = indices[child], indices[parent]
        child = parent
    return size + 1


@kernel(inline="always")
def min_heap_pop(distances, indices, size):
    """Remove the smallest entry of a min-heap of ``size`` entries; return (d, index, size)."""
    top_d = distances[0]
    top_i = indices[0]
    size -= 1
    distances[0] = distances[size]
    indices[0] = indices[size]
    parent = 0
    while True:
        left = 2 * parent + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and distances[left + 1] < distances[left]:
            child = left + 1
        if distances[child] >= distances[parent]:
            break
        distances[parent], distances[child] = distances[child], distances[parent]
        indices[parent], indices[child] = indices[child], indices[parent]
        parent = child
    return top_d, top_i, size

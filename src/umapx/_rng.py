"""Counter-based random numbers for parallel kernels.

A random value is a pure function of a key (seed, work item, step, draw), so parallel kernels
give the same numbers whatever the number of threads or the order in which items run. The mixer
is SplitMix64's finaliser, which passes the usual statistical batteries for this use.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@kernel(inline="always")
def mix64(z):
    """SplitMix64 finaliser: a bijective scramble of a uint64."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@kernel(inline="always")
def stream_key(seed, item):
    """Key of the random stream of one work item (an edge, a vertex, a tree...)."""
    return mix64(np.uint64(seed) + (np.uint64(item) + np.uint64(1)) * _GOLDEN)


def _counter_salts(count):
    """``mix64(c * golden + M2)`` for the counters ``c < count``, in numpy (wrapping uint64)."""
    z = np.arange(count, dtype=np.uint64) * _GOLDEN + _M2
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


# The counter's half of ``draw`` for the first counters, which the layout's negative samples
# use (a few per edge and epoch): a table look-up instead of a second mix per draw.
_SALTS = _counter_salts(64)


@kernel(inline="always")
def draw(key, counter):
    """The ``counter``-th uint64 of the stream ``key``."""
    if 0 <= counter < _SALTS.shape[0]:
        return mix64(key ^ _SALTS[counter])
    return mix64(key ^ mix64(np.uint64(counter) * _GOLDEN + _M2))


@kernel(inline="always")
def draw_index(key, counter, n):
    """A uniform integer in [0, n) (n < 2**32), the ``counter``-th of stream ``key``."""
    high = draw(key, counter) >> np.uint64(32)
    return np.int64((high * np.uint64(n)) >> np.uint64(32))


@kernel(inline="always")
def draw_uniform(key, counter):
    """A uniform float64 in [0, 1), the ``counter``-th of stream ``key``."""
    return np.float64(draw(key, counter) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def seed_from(random_state):
    """A uint64 seed from a ``numpy.random.RandomState`` (consumes one draw)."""
    return int(random_state.randint(0, np.iinfo(np.int64).max, dtype=np.int64))


@kernel
def row_keys(seed, indices):
    """A stream key per row of an integer matrix, from the seed and the row's values only."""
    keys = np.empty(indices.shape[0], dtype=np.uint64)
    for i in range(indices.shape[0]):
        key = mix64(np.uint64(seed))
        for j in range(indices.shape[1]):
            key = mix64(key ^ (np.uint64(indices[i, j]) + _GOLDEN))
        keys[i] = key
    return keys

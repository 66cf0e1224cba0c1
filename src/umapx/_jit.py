"""Numba compilation settings shared by every kernel, and thread-count control.

All kernels are compiled with an on-disk cache, so only the first run on a machine pays the
compile cost.  ``fastmath`` is enabled without the ``nnan``/``ninf`` flags: inputs are validated
to be finite before they reach a kernel, and keeping NaN semantics makes the guards inside the
kernels trustworthy.
"""

from __future__ import annotations

import contextlib
import types

import numba

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


def kernel(*args, parallel=False, cache=True, inline="never", fastmath=FASTMATH):
    """Decorate a function as a cached numba kernel (``@kernel`` or ``@kernel(parallel=True)``).

    ``fastmath`` narrows the flags where a kernel must round exactly like numpy would.
    """

    def wrap(func):
        return numba.njit(
            cache=cache, fastmath=fastmath, nogil=True, parallel=parallel, inline=inline
        )(func)

    if args and callable(args[0]):
        return wrap(args[0])
    return wrap


def respecialize(dispatcher, **replacements):
    """Compile a fresh copy of a kernel with some of its global names replaced.

    Used for user-supplied metrics: the built-in kernels call the module-level ``distance``
    switch, and a copy whose ``distance`` is the user's function is compiled (uncached) on
    demand. Caching is disabled for the copy because it shares its name with the original.
    """
    func = dispatcher.py_func
    new_globals = dict(func.__globals__)
    new_globals.update(replacements)
    clone = types.FunctionType(
        func.__code__, new_globals, func.__name__, func.__defaults__, func.__closure__
    )
    options = dict(dispatcher.targetoptions)
    options.pop("cache", None)
    options.pop("nopython", None)
    return numba.njit(**options)(clone)


def resolve_n_threads(n_jobs):
    """Translate scikit-learn style ``n_jobs`` into a positive thread count for numba."""
    available = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None or n_jobs == -1:
        return available
    if n_jobs < 0:
        return max(1, available + 1 + n_jobs)
    return max(1, min(int(n_jobs), available))


@contextlib.contextmanager
def numba_threads(n_jobs):
    """Run a block with numba limited to ``n_jobs`` threads, restoring the previous setting.

    Results never depend on the thread count: every parallel kernel assigns work and random
    streams by work item, not by thread.
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(resolve_n_threads(n_jobs))
    try:
        yield
    finally:
        numba.set_num_threads(previous)

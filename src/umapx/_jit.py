"""Numba compilation settings shared by every kernel, and thread-count control.

All kernels are compiled with an on-disk cache, so only the first run on a machine pays the
compile cost.  ``fastmath`` is enabled without the ``nnan``/``ninf`` flags: inputs are validated
to be finite before they reach a kernel, and keeping NaN semantics makes the guards inside the
kernels trustworthy.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import threading
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


_POOL = None
_POOL_LOCK = threading.Lock()


def _pool():
    """The threads that run :func:`for_chunks`' work (started on first use, kept)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = concurrent.futures.ThreadPoolExecutor(
                max(1, numba.config.NUMBA_NUM_THREADS - 1), thread_name_prefix="umapx-chunks")
        return _POOL


def _forget_pool():
    """In a forked child: the parent's pool threads do not exist there; start a new pool."""
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def for_chunks(n_items, chunk_size, body):
    """Call ``body(first, last)`` for the chunks ``first:last`` of ``range(n_items)``, each
    ``chunk_size`` long (the last one shorter), on ``numba.get_num_threads()`` threads.

    ``body`` runs a serial ``nogil`` kernel over its chunk, so the threads run at once. It
    replaces a ``parallel=True`` kernel whose rows are independent: numba's parallel passes
    (parfor lowering, the gufunc wrapper) made up about half of such a kernel's first
    compilation. The chunks are fixed by ``chunk_size``, not by the thread count, and each
    row's result depends on that row only, so results are the same whatever the thread count.
    Chunks are handed out in order as threads become free; the calling thread takes its
    share. The first exception raised by a chunk is raised here once all threads stopped.
    """
    n_chunks = -(-int(n_items) // int(chunk_size)) if n_items > 0 else 0
    n_threads = min(numba.get_num_threads(), n_chunks)
    if n_threads <= 1:
        for chunk in range(n_chunks):
            body(chunk * chunk_size, min((chunk + 1) * chunk_size, n_items))
        return
    chunks = itertools.count()  # next() on it is atomic under the GIL
    failed = []

    def work():
        for chunk in iter(chunks.__next__, None):
            if chunk >= n_chunks or failed:
                return
            try:
                body(chunk * chunk_size, min((chunk + 1) * chunk_size, n_items))
            except BaseException as error:  # stop the others, raise it in the caller
                failed.append(error)
                return

    helpers = [_pool().submit(work) for _ in range(n_threads - 1)]
    work()
    concurrent.futures.wait(helpers)
    if failed:
        raise failed[0]


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

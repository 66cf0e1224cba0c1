"""Values built on first use, exactly once, even when several threads ask at the same time."""

from __future__ import annotations

import threading

# One lock for every lazy build: builds happen once per object, so contention is negligible,
# and re-entrant so that one lazy value may be built from another.
_BUILD_LOCK = threading.RLock()


class lazy_property:  # noqa: N801 - used like functools.cached_property
    """Like :class:`functools.cached_property`, but thread-safe.

    The first access builds the value under a lock and stores it in the instance's ``__dict__``
    in one step, so concurrent first calls never see a half-built state. The stored value is
    pickled with the instance (a model sent to a worker does not build it again).
    """

    def __init__(self, build):
        self.build = build
        self.name = build.__name__
        self.__doc__ = build.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        cache = instance.__dict__
        try:
            return cache[self.name]
        except KeyError:
            pass
        with _BUILD_LOCK:
            if self.name not in cache:
                cache[self.name] = self.build(instance)
            return cache[self.name]

    def is_built(self, instance):
        """Whether ``instance`` already holds the value."""
        return self.name in instance.__dict__

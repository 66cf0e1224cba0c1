"""Recognise dask collections without importing dask (umapx imports it only when given one)."""

from __future__ import annotations

_DASK_PACKAGES = ("dask", "dask_expr")


def is_dask_collection(obj):
    """True for a dask array or dataframe (any object of the dask packages with a task graph)."""
    kind = type(obj)
    return (hasattr(kind, "__dask_graph__")
            and kind.__module__.split(".", 1)[0] in _DASK_PACKAGES)

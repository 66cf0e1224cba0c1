"""umapx: fast, reproducible UMAP with a trustworthy inverse transform.

``import umapx as umap`` runs code written for umap-learn::

    import umapx as umap
    mapper = umap.UMAP(random_state=42).fit(data)
    generated = mapper.inverse_transform(points)
    mapper.save("mapper.umapx")                              # one file, no pickle
    same_mapper = umap.load("mapper.umapx")

Submodules ``plot``, ``datasets``, ``evaluation``, ``dask`` and the names code written for
umap-learn imports (``umap_``, ``distances``, ``sparse``, ``spectral``, ``utils``,
``validation``: the compatibility surface) are imported on first use, and so is ``explore``
(the live explorer in the browser: ``umapx.explore(mapper, labels=...)``).
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .estimator import UMAP, load

_LAZY_SUBMODULES = ("plot", "datasets", "evaluation", "metrics", "dask", "umap_", "distances",
                    "sparse", "spectral", "utils", "validation")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "explore":  # the live explorer: umapx.explorer is imported on first use
        return importlib.import_module(".explorer", __name__).explore
    raise AttributeError(f"module 'umapx' has no attribute {name!r}")


__all__ = ["UMAP", "load", "explore", "__version__"]

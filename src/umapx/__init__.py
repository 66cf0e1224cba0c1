"""umapx: fast, reproducible UMAP with a trustworthy inverse transform.

``import umapx as umap`` runs code written for umap-learn::

    import umapx as umap
    mapper = umap.UMAP(random_state=42).fit(data)
    generated = mapper.inverse_transform(points)
    mapper.save("mapper.umapx")                              # one file, no pickle
    same_mapper = umap.load("mapper.umapx")

Submodules ``plot``, ``datasets``, ``evaluation`` and ``dask`` are imported on first use.
"""

from __future__ import annotations

import importlib

from .estimator import UMAP

__version__ = "0.1.0"

_LAZY_SUBMODULES = ("plot", "datasets", "evaluation", "metrics", "dask")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "load":  # saved models: umapx.persistence is imported on first use
        return importlib.import_module(".persistence", __name__).load
    raise AttributeError(f"module 'umapx' has no attribute {name!r}")


__all__ = ["UMAP", "load", "__version__"]

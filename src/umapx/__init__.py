"""umapx: fast, reproducible UMAP with a trustworthy inverse transform.

``import umapx as umap`` runs code written for umap-learn::

    import umapx as umap
    mapper = umap.UMAP(random_state=42).fit(data)
    generated = mapper.inverse_transform(points)
    mapper.save("mapper.umapx")                              # one file, no pickle
    same_mapper = umap.load("mapper.umapx")

``umapx.AlignedUMAP`` (and ``umapx.aligned_umap``) aligns the embeddings of related datasets.
Submodules ``plot``, ``datasets``, ``evaluation``, ``dask`` and the names code written for
umap-learn imports (``umap_``, ``distances``, ``sparse``, ``spectral``, ``utils``,
``validation``: the compatibility surface) are imported on first use, and so are ``UMAP``,
``load``, ``AlignedUMAP`` and ``explore`` (the live explorer in the browser:
``umapx.explore(mapper, labels=...)``): ``import umapx`` itself is cheap, and scikit-learn and
numba are imported when the first of these is used.
"""

from __future__ import annotations

import importlib

from ._version import __version__

# Everything is imported on first use (PEP 562), so ``import umapx`` costs only itself: the
# estimator pulls in scikit-learn (~1.2 s, most of it scipy.stats and pandas, which
# scikit-learn's own utilities import) and numba, and a script that only reads
# ``umapx.__version__`` or runs ``umapx --help`` should not wait for them.
_LAZY_NAMES = {"UMAP": "estimator", "load": "loading", "AlignedUMAP": "aligned_umap",
               "explore": "explorer"}
_LAZY_SUBMODULES = ("plot", "datasets", "evaluation", "metrics", "dask", "umap_", "distances",
                    "sparse", "spectral", "utils", "validation", "aligned_umap")


def __getattr__(name):
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'umapx' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES) | set(_LAZY_SUBMODULES))


__all__ = ["UMAP", "AlignedUMAP", "load", "explore", "__version__"]

"""A pytest plugin that makes ``import umap`` (and ``umap.<anything>``) import umapx instead.

Loaded by ``benchmarks/umap_learn_api.py`` with ``-p umap_alias`` before any test module or
conftest is imported, so code written for umap-learn (its own test suite, here) runs against
umapx unchanged. ``umap.X`` is served by ``umapx.X`` — the very same module object, so classes
and functions are shared, not copied. A name umapx does not have fails with
``ModuleNotFoundError`` naming the missing umapx module; it never falls back to an installed
umap-learn.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

ALIAS = "umap"
TARGET = "umapx"


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already imported umapx module and leaves its identity alone."""

    def __init__(self, target_name):
        self.target_name = target_name
        self._module = None

    def create_module(self, spec):
        self._module = importlib.import_module(self.target_name)
        self._own_spec = self._module.__spec__
        self._own_loader = getattr(self._module, "__loader__", None)
        return self._module

    def exec_module(self, module):
        # importlib stamps the alias spec onto the module it created; give the umapx module
        # its own spec back so that umapx keeps importing itself by its real name.
        module.__spec__ = self._own_spec
        if self._own_loader is not None:
            module.__loader__ = self._own_loader


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Maps ``umap`` and ``umap.<sub>`` onto ``umapx`` and ``umapx.<sub>``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        target_name = TARGET + fullname[len(ALIAS):]
        if importlib.util.find_spec(target_name) is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: the alias maps it to {target_name!r}, "
                "which umapx does not have", name=fullname)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(target_name))


def install():
    """Put the alias first on ``sys.meta_path`` (idempotent) and drop any ``umap`` already
    imported, so that every later ``import umap...`` is served by umapx."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        del sys.modules[name]


install()


def pytest_report_header(config):
    return f"import alias: {ALIAS} -> {TARGET} ({importlib.import_module(TARGET).__file__})"

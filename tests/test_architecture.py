"""The package's structure: no import cycles, every module importable on its own, one
parameter table, and behaviour pinned by a saved digits fixture."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import umapx
from umapx import _validation

PACKAGE = Path(umapx.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(_module_name(path) for path in PACKAGE.rglob("*.py"))


def _imports(path):
    """Package modules imported anywhere in ``path`` (top level or inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else (node.module or "")
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in MODULES and module != name}


def test_no_import_cycles():
    graph = {_module_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}
    # A module may import its own subpackage's __init__ only as a parent, which Python does
    # anyway; edges to "umapx" itself from submodules would be a cycle through __init__.
    visiting, done = set(), set()

    def visit(module, trail):
        if module in done:
            return
        if module in visiting:
            cycle = trail[trail.index(module):] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        visiting.add(module)
        for imported in sorted(graph.get(module, ())):
            visit(imported, trail + [module])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


# Modules imported first by some entry point (each import also runs umapx/__init__ first, so
# these orders cover the package; importing every module this way costs ~3 s each).
ENTRY_MODULES = ["umapx.persistence", "umapx.state", "umapx.cli", "umapx.geometry",
                 "umapx.knn", "umapx.evaluation"]


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_entry_modules_import_on_their_own(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


def test_parameter_table_covers_the_constructor():
    signature = inspect.signature(umapx.UMAP.__init__)
    assert set(_validation.PARAMETERS) == set(signature.parameters) - {"self"}


# ----------------------------------------------------------------------------------------------
# Pinned behaviour (tests/pins.py writes the fixtures)
# ----------------------------------------------------------------------------------------------


def test_pinned_stages_hold_on_any_machine():
    import numpy as np
    import pins

    expected = np.load(pins.STAGES)
    found = pins.stage_values()
    np.testing.assert_array_equal(found["knn_indices"], expected["knn_indices"])
    np.testing.assert_allclose(found["ab"], expected["ab"], rtol=1e-6)
    for name in ("sigmas", "rhos"):
        np.testing.assert_allclose(found[name], expected[name], rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(found["graph_row"], expected["graph_row"])
    np.testing.assert_array_equal(found["graph_col"], expected["graph_col"])
    np.testing.assert_allclose(found["graph_data"], expected["graph_data"], rtol=1e-4, atol=1e-6)


def test_pinned_results_are_bit_identical_on_the_pinning_machine():
    import json

    import pins

    pinned = json.loads(pins.DIGESTS.read_text())
    if pinned["signature"] != pins.machine_signature():
        pytest.skip("the digests were pinned on another CPU or library versions (kernels are "
                    "compiled for the host CPU); regenerate with python tests/pins.py there")
    found = pins.digests()
    changed = sorted(name for name, digest in pinned["digests"].items() if found[name] != digest)
    assert not changed, f"results changed for {changed}: if on purpose, run tests/pins.py"


def test_import_umapx_is_cheap_and_the_estimator_is_imported_on_first_use():
    probe = ("import sys, umapx\n"
             "heavy = ('sklearn', 'numba', 'scipy', 'numpy')\n"
             "print(sorted(name for name in heavy if name in sys.modules))\n"
             "from umapx import UMAP\n"
             "print(UMAP is umapx.UMAP is sys.modules['umapx.estimator'].UMAP,"
             " 'UMAP' in dir(umapx), 'sklearn' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True True True"]

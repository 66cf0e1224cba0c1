"""``python -m umapx.precompile`` fills numba's cache with the kernels of the everyday paths."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Counts the kernels numba compiles (a kernel loaded from the cache is not compiled) while the
# tutorial's paths run on digits: seeded and unseeded fits, exact and NN-descent neighbours,
# transform and inverse_transform, before and after a save / load.
_PROBE = """
import os, sys
from numba.core import event
from sklearn.datasets import load_digits
import umapx

compiled = set()


class Count(event.Listener):
    def on_start(self, record):
        compiled.add(record.data["dispatcher"].py_func.__qualname__)

    def on_end(self, record):
        pass


data = load_digits().data
with event.install_listener("numba:compile", Count()):
    umapx.UMAP().fit(data)
    for approximate in (False, True):
        model = umapx.UMAP(random_state=0, force_approximation_algorithm=approximate)
        model.fit(data[:1500])
        path = os.path.join(sys.argv[1], f"model-{approximate}.umapx")
        model.save(path)
        for mapper in (model, umapx.load(path)):
            mapper.transform(data[1500:])
            mapper.inverse_transform(mapper.embedding_[:10])
print(sorted(compiled))
"""


@pytest.mark.slow
def test_after_precompile_the_everyday_paths_compile_nothing(tmp_path):
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-m", "umapx.precompile", "-q"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert any(cache.rglob("*.nbi")), "nothing was written to numba's cache"
    probe = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path)], env=env,
                           capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1] == "[]"


def test_precompile_rejects_unknown_options():
    done = subprocess.run([sys.executable, "-m", "umapx.precompile", "--no-such-option"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr

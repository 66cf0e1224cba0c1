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


# The top of both probes: counts the kernels this process compiles (outermost only), and data.
_PROBE_TOP = """
import hashlib
import sys
from numba.core import event
import numpy as np
import umapx
from umapx import _compile_ahead

compiled = []


class Count(event.Listener):
    depth = 0

    def on_start(self, record):
        if self.depth == 0:
            compiled.append(record.data["dispatcher"].py_func.__qualname__)
        self.depth += 1

    def on_end(self, record):
        self.depth -= 1


rng = np.random.default_rng(3)
data = rng.normal(size=(400, 6)) + 4.0 * rng.integers(0, 3, size=(400, 1))
"""

# A first fit, transform and inverse_transform in a process whose numba cache starts empty:
# prints the kernels this process compiled and digests of the results.
_COLD_PROBE = _PROBE_TOP + """
with event.install_listener("numba:compile", Count()):
    model = umapx.UMAP(random_state=7, n_epochs=50).fit(data[:300])
    placed = model.transform(data[300:])
    generated = model.inverse_transform(model.embedding_[:5])
running = _compile_ahead._running
print(sorted(running.compiled_here) if running is not None else [])
print(sorted(set(compiled)))
print([hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
       for a in (model.embedding_, placed, generated)])
"""


def _probe(tmp_path, script, args, background, n_lines):
    """The last ``n_lines`` printed by ``script`` run with an empty numba cache of its own,
    with or without the other process."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / f"cache-{background}"),
           "UMAPX_BACKGROUND_COMPILE": "1" if background else "0"}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-n_lines:]


def _run_cold(tmp_path, background):
    return tuple(_probe(tmp_path, _COLD_PROBE, (), background, 3))


@pytest.mark.slow
def test_first_run_compiles_later_stages_in_another_process_with_the_same_results(tmp_path):
    here, with_background, digests = _run_cold(tmp_path, background=True)
    _, without, digests_alone = _run_cold(tmp_path, background=False)
    assert digests == digests_alone  # the same machine code whichever process compiles it
    for kernel in ("_local_scales", "_transform_points_2d", "_weighted_means", "row_keys"):
        assert kernel in without and kernel not in with_background, (kernel, with_background)
    assert "_rerank_rows" in with_background  # its own neighbour search is compiled here
    # The layout kernel: compiled here if the other process's graph was not ready when the
    # fit reached its graph stage (it reports that), else compiled there; never in both.
    assert "_fit_epoch_2d" in without
    assert ("_fit_epoch_2d" in with_background) == ("layout" in here), (here, with_background)


def test_background_compilation_switch(monkeypatch):
    from umapx import _compile_ahead

    for value, on in (("0", False), ("off", False), ("1", True), ("", True)):
        monkeypatch.setenv(_compile_ahead.ENVIRONMENT_SWITCH, value)
        assert _compile_ahead.enabled() is on
    monkeypatch.delenv(_compile_ahead.ENVIRONMENT_SWITCH)
    assert _compile_ahead.enabled()
    # Anything that is not a cached numba kernel (NUMBA_DISABLE_JIT: plain functions) counts
    # as cached, so that nothing is started for it.
    assert _compile_ahead.is_cached(lambda x: x)


def test_background_mode_rejects_unknown_stages():
    done = subprocess.run([sys.executable, "-m", "umapx.precompile", "--background",
                           "graph,knn"], capture_output=True, text=True)
    assert done.returncode == 2 and "unknown stages" in done.stderr


def test_for_chunks_covers_every_item_once_and_raises_what_a_chunk_raises():
    import numpy as np

    from umapx._jit import for_chunks, numba_threads

    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            for n_items, size in ((0, 4), (1, 4), (10, 3), (64, 64), (1000, 7)):
                hits = np.zeros(n_items, np.int64)
                seen = []

                def body(first, last, hits=hits, seen=seen):
                    seen.append((first, last))
                    hits[first:last] += 1

                for_chunks(n_items, size, body)
                assert (hits == 1).all()
                # the chunks are fixed by the size, whatever the thread count
                assert sorted(seen) == [(f, min(f + size, n_items))
                                        for f in range(0, n_items, size)]

            def failing(first, last):
                if first >= 20:
                    raise ValueError("chunk failed")

            with pytest.raises(ValueError, match="chunk failed"):
                for_chunks(100, 10, failing)


# A model's first transform and inverse_transform in a process whose numba cache starts empty
# (the model saved by another process): prints the kernels this process compiled and digests.
_LOADED_PROBE = _PROBE_TOP + """
if sys.argv[1] == "save":
    umapx.UMAP(random_state=7, n_epochs=50, force_approximation_algorithm=sys.argv[3] == "1"
               ).fit(data[:300]).save(sys.argv[2])
    sys.exit()
with event.install_listener("numba:compile", Count()):
    model = umapx.load(sys.argv[2])
    placed = model.transform(data[300:])
    generated = model.inverse_transform(model.embedding_[:5])
print(sorted(set(compiled)))
print([hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for a in (placed, generated)])
"""


def _loaded_model_runs(tmp_path, approximate):
    """The loaded probe's last two lines with and without the other process (empty caches)."""
    model = str(tmp_path / "model.umapx")
    saved = subprocess.run([sys.executable, "-c", _LOADED_PROBE, "save", model,
                            str(int(approximate))],
                           env={**os.environ, "UMAPX_BACKGROUND_COMPILE": "0"},
                           capture_output=True, text=True)
    assert saved.returncode == 0, saved.stderr
    return tuple(_probe(tmp_path, _LOADED_PROBE, ("query", model), background, 2)
                 for background in (True, False))


@pytest.mark.slow
def test_a_loaded_models_first_transform_compiles_its_later_stages_in_another_process(tmp_path):
    (with_background, digests), (without, digests_alone) = _loaded_model_runs(tmp_path, False)
    assert digests == digests_alone
    # The other process started at load: transform graph, layout and inverse kernels are
    # compiled there, none of the fit's (the symmetrisation) is compiled in either.
    for kernel in ("_local_scales", "_transform_points_2d", "row_keys", "_weighted_means"):
        assert kernel in without and kernel not in with_background, (kernel, with_background)
    assert "_transpose" not in with_background


@pytest.mark.slow
def test_a_loaded_approximate_models_search_is_compiled_in_another_process(tmp_path):
    (with_background, digests), (without, digests_alone) = _loaded_model_runs(tmp_path, True)
    assert digests == digests_alone
    # The other process compiles the search of new points, the transform's layout and the
    # inverse; this one the memberships (while the search compiles there), never both.
    for kernel in ("_search_chunk", "_transform_points_2d", "row_keys", "_weighted_means"):
        assert kernel in without and kernel not in with_background, (kernel, with_background)
    assert "_local_scales" in with_background


def _saved_metadata(tmp_path, name, metadata):
    import json
    import zipfile

    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
    return path


def test_which_saved_models_start_compiling_at_load(tmp_path):
    from umapx._compile_ahead import plain_saved_model

    euclidean = {"name": "euclidean", "p": 2.0, "arrays": []}
    plain = {"format": "umapx-model", "params": {"n_components": 2, "n_epochs": None},
             "fitted": {"has_embedding": True}, "metric": euclidean,
             "output_metric": euclidean}
    assert plain_saved_model(_saved_metadata(tmp_path, "plain", plain)) == (2, False)
    three = {**plain, "params": {"n_components": 3, "n_epochs": [10, 30]},
             "knn_index": {"method": "nndescent", "epsilon": 0.02}}  # searched: approximate
    assert plain_saved_model(_saved_metadata(tmp_path, "three", three)) == (3, True)
    others = {
        "sparse": {**plain, "sparse_training_data": {"container": "csr_matrix"}},
        "precomputed": {**plain, "metric": {**euclidean, "name": "precomputed"}},
        "sphere": {**plain, "output_metric": {**euclidean, "name": "haversine"}},
        "graph only": {**plain, "params": {"n_components": 2, "transform_mode": "graph"}},
        "no epochs": {**plain, "params": {"n_components": 2, "n_epochs": 2}},
        "no embedding": {**plain, "fitted": {"has_embedding": False}},
        "aligned": {**plain, "format": "umapx-aligned-model"},
        "bad width": {**plain, "params": {"n_components": "2"}},
        "no metric": {key: value for key, value in plain.items() if key != "metric"},
    }
    for name, metadata in others.items():
        assert plain_saved_model(_saved_metadata(tmp_path, name, metadata)) is None, name
    (tmp_path / "garbage").write_bytes(b"not a zip file")
    assert plain_saved_model(tmp_path / "garbage") is None
    assert plain_saved_model(tmp_path / "missing") is None
    assert plain_saved_model(tmp_path) is None  # a directory
    if hasattr(os, "mkfifo"):  # read without blocking: a FIFO is not a model
        os.mkfifo(tmp_path / "fifo")
        assert plain_saved_model(tmp_path / "fifo") is None


def test_background_compiles_the_layout_only_when_asked(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    for answer, compiles in (("layout\n", True), ("skip\n", False), ("", False)):
        done = subprocess.run([sys.executable, "-m", "umapx.precompile", "--background",
                               "graph,layout", "--ask-layout"], input=answer, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        stages = [line.split()[1] for line in done.stdout.splitlines()]
        assert stages == (["graph", "layout"] if compiles else ["graph"]), (answer, stages)


@pytest.mark.slow
def test_background_stages_import_neither_scikit_learn_nor_the_estimator(tmp_path):
    # Their import (~0.9 s) would delay every stage the first transform waits for.
    probe = ("import sys; from umapx.precompile import main; "
             "main(['--background', 'search,transform,inverse', '--dtype', 'float32']); "
             "print(sorted(m for m in ('sklearn', 'umapx.estimator') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
                               "UMAPX_BACKGROUND_COMPILE": "0"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ready", "search"], ["ready", "transform"], ["ready", "inverse"]]
    assert lines[-1] == "[]"


def test_an_empty_cache_is_seen_from_file_names(tmp_path, monkeypatch):
    import numba.core.caching
    import numba.core.config

    from umapx import _compile_ahead, layout

    monkeypatch.setattr(numba.core.config, "CACHE_DIR", str(tmp_path))
    if not sys.platform.startswith("linux"):
        assert not _compile_ahead._surely_uncached("layout", "_transform_points_2d")
        return
    assert _compile_ahead._surely_uncached("layout", "_transform_points_2d")
    # Where numba's locator for a cache directory puts the kernel's index, under numba's name
    # for it: then the kernel may be cached.
    place = tmp_path / numba.core.caching.UserProvidedCacheLocator.get_suitable_cache_subpath(
        layout.__file__)
    place.mkdir()
    (place / layout._transform_points_2d._cache._cache_file._index_name).write_bytes(b"")
    assert not _compile_ahead._surely_uncached("layout", "_transform_points_2d")
    assert _compile_ahead._surely_uncached("layout", "_transform_points_nd")
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "1")  # nothing is compiled: nothing to start
    assert not _compile_ahead._surely_uncached("layout", "_transform_points_nd")
    monkeypatch.delenv("NUMBA_DISABLE_JIT")
    monkeypatch.setenv("NUMBA_CACHE_LOCATOR_CLASSES", "some.Locator")  # unsure: not empty
    assert not _compile_ahead._surely_uncached("layout", "_transform_points_nd")

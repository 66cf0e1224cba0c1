"""Saved models: bit-identical round trips, and clear errors for files that are not loadable."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import pickle
import time
import zipfile
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError

import umapx
from umapx.metrics import resolve_metric
from umapx.persistence import FORMAT_VERSION, ModelFormatError


def save_and_load(model, path):
    model.save(path)
    return umapx.load(path)


def inside_points(mapper, count=40):
    """Points of the embedding near the training data (no far-outside warning)."""
    rng = np.random.RandomState(1)
    picks = rng.choice(len(mapper.embedding_), count, replace=False)
    return mapper.embedding_[picks] + rng.normal(scale=0.05, size=(count, 2)).astype(np.float32)


def assert_same_fitted_state(loaded, original):
    assert loaded.get_params().keys() == original.get_params().keys()
    for name, value in original.get_params().items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(loaded.get_params()[name], value)
        elif not isinstance(value, np.random.RandomState):
            assert loaded.get_params()[name] == value, name
    for name in ("embedding_", "knn_indices_", "knn_dists_", "sigmas_", "rhos_", "_raw_data"):
        saved, restored = getattr(original, name), getattr(loaded, name)
        assert restored.dtype == saved.dtype and restored.flags.c_contiguous, name
        np.testing.assert_array_equal(restored, saved, err_msg=name)
    assert type(loaded.graph_) is type(original.graph_)
    assert loaded.graph_.shape == original.graph_.shape
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(loaded.graph_, part), getattr(original.graph_, part))
    assert (loaded.a_, loaded.b_) == (original.a_, original.b_)
    assert loaded.n_features_in_ == original.n_features_in_
    assert loaded.timings_ == original.timings_
    saved_state, restored_state = original.fitted_state, loaded.fitted_state
    assert restored_state.metric == saved_state.metric
    assert restored_state.index.method == saved_state.index.method
    assert restored_state.index.epsilon == saved_state.index.epsilon
    # Every field of the fitted state is restored (a new one must be saved too).
    for field in dataclasses.fields(saved_state):
        saved, restored = getattr(saved_state, field.name), getattr(restored_state, field.name)
        if isinstance(saved, np.ndarray):
            np.testing.assert_array_equal(restored, saved, err_msg=field.name)
        elif scipy.sparse.issparse(saved):
            assert (restored != saved).nnz == 0, field.name
        elif field.name != "index":
            assert restored == saved, field.name
    assert set(vars(loaded)) == set(vars(original))


@pytest.fixture(scope="module")
def saved_digits(fitted_digits, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "digits.umapx"
    fitted_digits[0].save(path)
    return path


@pytest.fixture(scope="module")
def nndescent_model(digits):
    data, _ = digits
    return umapx.UMAP(knn_method="nndescent", n_epochs=20, random_state=0).fit(data[:1500])


# ----------------------------------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------------------------------


def test_round_trip_is_bit_identical(fitted_digits, saved_digits):
    mapper, data, _ = fitted_digits
    start = time.perf_counter()
    loaded = umapx.load(saved_digits)
    assert time.perf_counter() - start < 1.0  # nothing is recomputed

    assert_same_fitted_state(loaded, mapper)
    assert "inverse" not in vars(loaded.fitted_state)  # built on first use
    held_out = data[1500:1600]
    np.testing.assert_array_equal(loaded.transform(held_out), mapper.transform(held_out))
    points = inside_points(mapper)
    samples, confidence = loaded.inverse_transform(points, return_confidence=True)
    expected_samples, expected_confidence = mapper.inverse_transform(points,
                                                                     return_confidence=True)
    np.testing.assert_array_equal(samples, expected_samples)
    np.testing.assert_array_equal(confidence, expected_confidence)


def test_saving_is_deterministic_and_accepts_str_paths(fitted_digits, saved_digits, tmp_path):
    again = tmp_path / "again.umapx"
    fitted_digits[0].save(str(again))
    assert again.read_bytes() == saved_digits.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["again.umapx"]  # no temporary left over


def test_file_is_a_plain_npz(saved_digits):
    with np.load(saved_digits, allow_pickle=False) as archive:
        assert archive["embedding"].dtype == np.float32
        metadata = json.loads(archive["metadata.json"])
    assert metadata["format"] == "umapx-model"
    assert metadata["format_version"] == 2  # version 3 only for unique=True models
    assert metadata["params"]["random_state"] == 42


def test_nndescent_index_round_trip(nndescent_model, digits, tmp_path):
    loaded = save_and_load(nndescent_model, tmp_path / "nndescent.umapx")
    assert_same_fitted_state(loaded, nndescent_model)
    assert loaded.fitted_state.index.method == "nndescent"
    saved_state = nndescent_model.fitted_state.index.state_arrays()
    for name, array in loaded.fitted_state.index.state_arrays().items():
        np.testing.assert_array_equal(array, saved_state[name], err_msg=name)
    held_out = digits[0][1500:1650]
    np.testing.assert_array_equal(loaded.transform(held_out), nndescent_model.transform(held_out))


@pytest.mark.parametrize("metric, metric_kwds", [("cosine", None), ("minkowski", {"p": 3})])
def test_metric_round_trip(digits, tmp_path, metric, metric_kwds):
    data, _ = digits
    mapper = umapx.UMAP(metric=metric, metric_kwds=metric_kwds, n_epochs=15,
                        random_state=0).fit(data[:400])
    loaded = save_and_load(mapper, tmp_path / "model.umapx")
    assert_same_fitted_state(loaded, mapper)
    np.testing.assert_array_equal(loaded.transform(data[400:500]), mapper.transform(data[400:500]))
    points = inside_points(mapper)
    np.testing.assert_array_equal(loaded.inverse_transform(points),
                                  mapper.inverse_transform(points))


def test_array_init_and_random_state_object_round_trip(digits, tmp_path):
    data, _ = digits
    init = np.random.RandomState(5).uniform(size=(400, 2))
    mapper = umapx.UMAP(init=init, random_state=np.random.RandomState(3), n_epochs=10)
    mapper.fit(data[:400])
    loaded = save_and_load(mapper, tmp_path / "model.umapx")
    assert_same_fitted_state(loaded, mapper)
    np.testing.assert_array_equal(loaded.init, init)
    # The generator's exact state is kept, as pickling keeps it.
    assert isinstance(loaded.random_state, np.random.RandomState)
    assert loaded.random_state.randint(2**31) == mapper.random_state.randint(2**31)


def test_feature_names_round_trip(fitted_digits, tmp_path):
    mapper = copy.copy(fitted_digits[0])
    names = np.asarray([f"pixel{i}" for i in range(64)], dtype=object)
    mapper._adopt(mapper.fitted_state.replace(feature_names_in=names))
    loaded = save_and_load(mapper, tmp_path / "named.umapx")
    assert loaded.feature_names_in_.dtype == object
    np.testing.assert_array_equal(loaded.feature_names_in_, mapper.feature_names_in_)


def test_pickle_round_trip(nndescent_model, digits):
    held_out = digits[0][1500:1550]
    restored = pickle.loads(pickle.dumps(nndescent_model))
    np.testing.assert_array_equal(restored.transform(held_out), nndescent_model.transform(held_out))


# ----------------------------------------------------------------------------------------------
# What cannot be saved
# ----------------------------------------------------------------------------------------------


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        umapx.UMAP().save(tmp_path / "model.umapx")
    assert not any(tmp_path.iterdir())


def test_user_metric_cannot_be_saved(fitted_digits, tmp_path):
    @numba.njit
    def l1(x, y):
        return np.abs(x - y).sum()

    # Refusing depends only on the metric: swap it into a fitted model rather than pay for the
    # (uncached) compilation of a fit with a user metric.
    mapper = copy.copy(fitted_digits[0]).set_params(metric=l1)
    mapper._adopt(mapper.fitted_state.replace(metric=resolve_metric(l1)))
    with pytest.raises(ValueError, match=r"user metric function \('l1'\)"):
        mapper.save(tmp_path / "model.umapx")
    assert not any(tmp_path.iterdir())


def test_failed_save_keeps_the_previous_file(fitted_digits, saved_digits, tmp_path,
                                             monkeypatch):
    path = tmp_path / "model.umapx"
    path.write_bytes(saved_digits.read_bytes())

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(OSError, match="disk full"):
        fitted_digits[0].save(path)
    assert path.read_bytes() == saved_digits.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["model.umapx"]


# ----------------------------------------------------------------------------------------------
# Files that must not load
# ----------------------------------------------------------------------------------------------


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def rewrite(source, target, edit_metadata=None, drop=(), replace=None):
    """Copy a model archive, editing its metadata, dropping or replacing entries."""
    replace = replace or {}
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            name = info.filename
            if name in drop:
                continue
            data = src.read(info)
            if name == "metadata.json" and edit_metadata is not None:
                metadata = json.loads(data)
                edit_metadata(metadata)
                data = json.dumps(metadata)
            if name in replace:
                data = npy_bytes(replace[name])
            dst.writestr(name, data)
    return target


def test_truncated_file(saved_digits, tmp_path):
    path = tmp_path / "truncated.umapx"
    content = saved_digits.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ModelFormatError, match="truncated"):
        umapx.load(path)


@pytest.mark.parametrize("position", [0.25, 0.5, 0.75])
def test_corrupted_bytes(saved_digits, tmp_path, position):
    content = bytearray(saved_digits.read_bytes())
    middle = int(len(content) * position)
    content[middle:middle + 8] = bytes(b ^ 0xFF for b in content[middle:middle + 8])
    path = tmp_path / "corrupt.umapx"
    path.write_bytes(bytes(content))
    with pytest.raises(ModelFormatError, match="not a valid umapx model file"):
        umapx.load(path)


def test_foreign_npz(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, embedding=np.zeros((3, 2)))
    with pytest.raises(ModelFormatError, match="not a umapx model file.*without metadata.json"):
        umapx.load(path)


def test_zip_of_something_else(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"format": "something-else"}))
    with pytest.raises(ModelFormatError, match="declares format 'something-else'"):
        umapx.load(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a model\n")
    with pytest.raises(ModelFormatError, match="not a zip archive"):
        umapx.load(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        umapx.load(tmp_path / "nothing.umapx")


def test_newer_format_version(saved_digits, tmp_path):
    def newer(metadata):
        metadata["format_version"] = FORMAT_VERSION + 1
        metadata["umapx_version"] = "9.0"

    path = rewrite(saved_digits, tmp_path / "newer.umapx", edit_metadata=newer)
    expected = (f"saved by umapx 9.0 in model format version {FORMAT_VERSION + 1}.*reads format "
                f"versions up to {FORMAT_VERSION}. Upgrade umapx")
    with pytest.raises(ModelFormatError, match=expected):
        umapx.load(path)


def test_missing_entry(saved_digits, tmp_path):
    path = rewrite(saved_digits, tmp_path / "partial.umapx", drop={"embedding.npy"})
    with pytest.raises(ModelFormatError, match="embedding.npy is missing"):
        umapx.load(path)


def test_missing_metadata_section(saved_digits, tmp_path):
    path = rewrite(saved_digits, tmp_path / "bad.umapx",
                   edit_metadata=lambda metadata: metadata.pop("fitted"))
    with pytest.raises(ModelFormatError, match="no 'fitted' section"):
        umapx.load(path)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["params"].update(n_neighbors="many"), "parameters are invalid"),
    (lambda m: m["params"].update(colour="blue"), "does not know.*colour"),
    (lambda m: m["metric"].update(name="cosine"), "differs from the parameters"),
    (lambda m: m["fitted"].update(n_features_in_=3), "n_features_in_"),
    (lambda m: m["knn_index"].update(method="magic"), "unknown k-NN index method"),
])
def test_inconsistent_metadata(saved_digits, tmp_path, edit, message):
    path = rewrite(saved_digits, tmp_path / "bad.umapx", edit_metadata=edit)
    with pytest.raises(ModelFormatError, match=message):
        umapx.load(path)


@pytest.mark.parametrize("entry, array, message", [
    ("embedding.npy", np.zeros((10, 2), np.float32), "embedding has 10 rows"),
    ("embedding.npy", np.zeros((1500, 2), np.float64), "dtype float64, expected float32"),
    ("sigmas.npy", np.array([{"code": "run me"}] * 1500, dtype=object), "dtype object"),
    ("graph_indices.npy", np.full(1, 10**6, np.int32), "row pointers are inconsistent"),
])
def test_inconsistent_arrays(saved_digits, tmp_path, entry, array, message):
    path = rewrite(saved_digits, tmp_path / "bad.umapx", replace={entry: array})
    with pytest.raises(ModelFormatError, match=message):
        umapx.load(path)


def test_out_of_range_indices(saved_digits, tmp_path):
    with np.load(saved_digits) as archive:
        indices = archive["graph_indices"].copy()
    indices[7] = 1500
    path = rewrite(saved_digits, tmp_path / "bad.umapx", replace={"graph_indices.npy": indices})
    with pytest.raises(ModelFormatError, match="graph indices has values outside"):
        umapx.load(path)


def test_looping_search_tree(nndescent_model, tmp_path):
    saved = tmp_path / "nndescent.umapx"
    nndescent_model.save(saved)
    with np.load(saved) as archive:
        left = archive["index_tree_left"].copy()
    left[0] = 0  # the root as its own child: a descent would never end
    path = rewrite(saved, tmp_path / "bad.umapx", replace={"index_tree_left.npy": left})
    with pytest.raises(ModelFormatError, match="invalid left children"):
        umapx.load(path)


def test_load_is_exported():
    from umapx.estimator import load

    assert umapx.load is load
    assert "load" in umapx.__all__
    assert issubclass(ModelFormatError, ValueError)


@pytest.mark.parametrize("name", ["digits400-exact-v1.umapx",
                                  "digits400-nndescent-cosine-v1.umapx"])
def test_files_written_by_earlier_versions_still_load(name, digits, tmp_path):
    """Fixtures saved by the code before the fitted-state refactoring (format 1)."""
    path = Path(__file__).parent / "data" / name
    loaded = umapx.load(path)
    with np.load(path, allow_pickle=False) as archive:
        for entry, attribute in [("embedding", "embedding_"), ("knn_indices", "knn_indices_"),
                                 ("training_data", "_raw_data")]:
            np.testing.assert_array_equal(getattr(loaded, attribute), archive[entry])
    held_out = digits[0][400:460]
    resaved = save_and_load(loaded, tmp_path / "again.umapx")
    placed = loaded.transform(held_out)
    assert placed.shape == (60, 2) and np.all(np.isfinite(placed))
    np.testing.assert_array_equal(resaved.transform(held_out), placed)
    points = inside_points(loaded)
    np.testing.assert_array_equal(resaved.inverse_transform(points),
                                  loaded.inverse_transform(points))


def test_first_calls_from_many_threads_on_a_loaded_model(saved_digits, digits):
    """Lazily built state (the inverse model, the search graph) is built once, under a lock."""
    from concurrent.futures import ThreadPoolExecutor

    held_out = digits[0][1500:1520]
    for _ in range(5):
        model = umapx.load(saved_digits)
        points = inside_points(model, count=10)
        with ThreadPoolExecutor(8) as pool:
            inverses = list(pool.map(lambda _: model.inverse_transform(points), range(16)))
            placed = list(pool.map(lambda _: model.transform(held_out), range(8)))
        for result in inverses[1:]:
            np.testing.assert_array_equal(result, inverses[0])
        for result in placed[1:]:
            np.testing.assert_array_equal(result, placed[0])


def test_first_queries_from_many_threads_on_an_nndescent_index(digits):
    from concurrent.futures import ThreadPoolExecutor

    data = digits[0]
    for seed in range(3):  # a fresh index each time: its first query builds the search graph
        model = umapx.UMAP(knn_method="nndescent", n_epochs=0, init="random",
                           random_state=seed).fit(data[:600])
        with ThreadPoolExecutor(8) as pool:
            placed = list(pool.map(lambda _: model.transform(data[1500:1530]), range(8)))
        for result in placed[1:]:
            np.testing.assert_array_equal(result, placed[0])

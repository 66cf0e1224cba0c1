"""Saved models: bit-identical round trips, and clear errors for files that are not loadable."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import time
import zipfile
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse
from model_files import V1_MODEL, rewrite, seal
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


def test_truncated_file(saved_digits, tmp_path):
    path = tmp_path / "truncated.umapx"
    content = saved_digits.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ModelFormatError, match="truncated"):
        umapx.load(path)


@pytest.mark.parametrize("position", [0.25, 0.5, 0.75, 1.0])  # 1.0: the checksum itself
def test_corrupted_bytes(saved_digits, tmp_path, position):
    content = bytearray(saved_digits.read_bytes())
    middle = min(int(len(content) * position), len(content) - 8)
    content[middle:middle + 8] = bytes(b ^ 0xFF for b in content[middle:middle + 8])
    path = tmp_path / "corrupt.umapx"
    path.write_bytes(bytes(content))
    with pytest.raises(ModelFormatError, match="not a valid umapx model file: its content "
                                               "does not match its SHA-256 checksum"):
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


def test_a_file_of_an_older_writer_places_new_points_as_it_did(saved_digits, tmp_path,
                                                               fitted_digits):
    """Files written before the fit recorded its transform's sampling reference are read with
    the one their writer used (1), so a loaded model transforms as it did when saved."""
    original, data, _ = fitted_digits
    assert original.fitted_state.transform_sampling_reference == 0.5
    path = rewrite(saved_digits, tmp_path / "older.umapx", edit_metadata=lambda metadata:
                   metadata["fitted"].pop("transform_sampling_reference"))
    loaded = umapx.load(path)
    assert loaded.fitted_state.transform_sampling_reference == 1.0
    new = data[1500:1600]
    as_saved = umapx.UMAP(**original.get_params())._adopt(
        original.fitted_state.replace(transform_sampling_reference=1.0))
    np.testing.assert_array_equal(loaded.transform(new), as_saved.transform(new))
    assert not np.array_equal(loaded.transform(new), original.transform(new))


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
    (lambda m: m["fitted"].update(transform_sampling_reference=0.0),
     "transform_sampling_reference must be a number in \\(0, 1\\]"),
    (lambda m: m["fitted"].update(transform_sampling_reference="half"),
     "transform_sampling_reference"),
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
    from umapx.loading import load

    assert umapx.load is load
    assert "load" in umapx.__all__
    assert issubclass(ModelFormatError, ValueError)


def test_load_reads_the_file_and_checks_its_checksum_once(saved_digits, monkeypatch):
    from umapx import persistence

    hashed = []
    real = persistence._sha256
    monkeypatch.setattr(persistence, "_sha256",
                        lambda file, size: hashed.append(size) or real(file, size))
    assert isinstance(persistence.read_any(saved_digits), persistence.SavedModel)
    assert len(hashed) == 1
    loaded = umapx.load(saved_digits)
    assert len(hashed) == 2 and isinstance(loaded, umapx.UMAP)


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
            inverses = list(pool.map(lambda _, m=model, p=points: m.inverse_transform(p),
                                     range(16)))
            placed = list(pool.map(lambda _, m=model: m.transform(held_out), range(8)))
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
            placed = list(pool.map(lambda _, m=model: m.transform(data[1500:1530]), range(8)))
        for result in placed[1:]:
            np.testing.assert_array_equal(result, placed[0])


# ----------------------------------------------------------------------------------------------
# Format 2: checksum, sound values, what is read and how saving ends
# ----------------------------------------------------------------------------------------------

def test_the_checksum_covers_every_byte(saved_digits, tmp_path):
    """Any single-byte change is refused: the zip structure (headers, central directory, end
    record), the metadata and the arrays alike (format 1 let 2 of 40 random flips load)."""
    content = saved_digits.read_bytes()
    assert content[-77:-64] == b"umapx-sha256:"
    rng = np.random.RandomState(0)
    positions = np.unique(np.concatenate([
        np.arange(400),                                   # local header, metadata
        np.arange(len(content) - 1500, len(content)),     # central directory, end, checksum
        rng.randint(0, len(content), 150),                # arrays
    ]))
    path = tmp_path / "flipped.umapx"
    for position in positions:
        flipped = bytearray(content)
        flipped[position] ^= 1 << int(rng.randint(8))
        path.write_bytes(bytes(flipped))
        with pytest.raises(ModelFormatError):
            umapx.load(path)


def test_truncated_anywhere(saved_digits, tmp_path):
    content = saved_digits.read_bytes()
    path = tmp_path / "short.umapx"
    for length in [0, 1, 21, 100, 5000, len(content) // 3, len(content) - 78, len(content) - 1]:
        path.write_bytes(content[:length])
        with pytest.raises(ModelFormatError):
            umapx.load(path)


def test_a_format_2_file_without_its_checksum(saved_digits, tmp_path):
    path = rewrite(saved_digits, tmp_path / "unsealed.umapx", sealed=False)
    with pytest.raises(ModelFormatError, match="checksum is missing"):
        umapx.load(path)


def test_a_format_1_file_with_a_foreign_comment(tmp_path):
    path = tmp_path / "commented.umapx"
    path.write_bytes(V1_MODEL.read_bytes())
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b"hello"
    with pytest.raises(ModelFormatError, match="comment is not a umapx checksum"):
        umapx.load(path)


def test_duplicate_entries_are_refused(saved_digits, tmp_path):
    """zipfile lets the last copy win silently; a model file never holds two."""
    with np.load(saved_digits) as archive:
        embedding = archive["embedding"]
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile's own warning
        path = rewrite(saved_digits, tmp_path / "twice.umapx",
                       add={"embedding.npy": embedding + 1})
    with pytest.raises(ModelFormatError, match=r"\['embedding.npy'\] appear more than once"):
        umapx.load(path)


def test_unexpected_entries_are_refused(saved_digits, tmp_path):
    path = rewrite(saved_digits, tmp_path / "extra.umapx", add={"payload.npy": np.ones(3)})
    with pytest.raises(ModelFormatError, match="entries a umapx model does not have: payload"):
        umapx.load(path)


def test_compressed_entries_are_refused(saved_digits, tmp_path):
    path = tmp_path / "deflated.umapx"
    with zipfile.ZipFile(saved_digits) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    seal(path)
    with pytest.raises(ModelFormatError, match="compressed"):
        umapx.load(path)


def _with_value(name, index, value):
    def edit(array):
        array = array.copy()
        array.reshape(-1)[index] = value
        return array
    return name, edit


@pytest.mark.parametrize("entry, edit, message", [
    (*_with_value("embedding", 5, np.nan), "embedding holds NaN"),
    (*_with_value("embedding", 5, 1e30), "embedding has coordinates as large as 1e.30"),
    (*_with_value("training_data", 7, np.inf), "training_data holds NaN"),
    (*_with_value("training_data", 7, 1e30), "training data has values as large as"),
    (*_with_value("knn_dists", 3, np.nan), "knn_dists holds NaN"),
    (*_with_value("knn_dists", 3, -1.0), "knn_dists holds negative"),
    (*_with_value("sigmas", 0, np.inf), "sigmas holds NaN"),
    (*_with_value("rhos", 0, -2.0), "rhos holds negative"),
    (*_with_value("graph_data", 0, np.nan), "graph_data holds NaN"),
    (*_with_value("graph_data", 0, 3.0), "membership strengths above 1"),
    (*_with_value("knn_indices", 0, 5), "each sample first"),
])
def test_unsound_values_are_refused(saved_digits, tmp_path, entry, edit, message):
    with np.load(saved_digits) as archive:
        array = edit(archive[entry])
    path = rewrite(saved_digits, tmp_path / "unsound.umapx", replace={entry + ".npy": array})
    with pytest.raises(ModelFormatError, match=message):
        umapx.load(path)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["fitted"].update(a_=1e308), "a_ must be in"),
    (lambda m: m["fitted"].update(b_=-1.0), "b_ must be in"),
    (lambda m: m["fitted"].update(a_=1e10, b_=9.0), "overflow float32 at the distances"),
    (lambda m: m["fitted"].update(a_=float("nan")), "a_ must be in"),
    (lambda m: m["fitted"].update(timings_={"fit": float("inf")}), "timings_"),
    (lambda m: m["params"].update(n_epochs=10**12), "n_epochs must be in"),
    (lambda m: m["params"].update(negative_sample_rate=10**9), "negative_sample_rate must be"),
    (lambda m: m["params"].update(learning_rate=float("nan")), "learning_rate"),
    (lambda m: m["params"].update(transform_seed=2**70), "transform_seed"),
    (lambda m: m["knn_index"].update(epsilon=float("inf")), "epsilon"),
    (lambda m: m["metric"].update(name="minkowski", p=-3.0), "metric"),
])
def test_unsound_metadata_is_refused(saved_digits, tmp_path, edit, message):
    path = rewrite(saved_digits, tmp_path / "unsound.umapx", edit_metadata=edit)
    with pytest.raises(ModelFormatError, match=message):
        umapx.load(path)


def test_only_regular_files_are_read(tmp_path):
    """A FIFO would block and /dev/zero would be read without end: both are refused at once."""
    import os

    os.symlink("/dev/zero", tmp_path / "zero.umapx")
    with pytest.raises(ModelFormatError, match="is a device"):
        umapx.load(tmp_path / "zero.umapx")
    os.mkfifo(tmp_path / "pipe.umapx")
    with pytest.raises(ModelFormatError, match="is a FIFO"):
        umapx.load(tmp_path / "pipe.umapx")
    with pytest.raises(ModelFormatError, match="is a directory"):
        umapx.load(tmp_path)
    os.symlink(V1_MODEL, tmp_path / "link.umapx")  # a link to a model is followed
    assert umapx.load(tmp_path / "link.umapx").embedding_.shape == (400, 2)


def test_the_size_bound_is_checked_before_reading(saved_digits, monkeypatch):
    from umapx import persistence

    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ModelFormatError, match="more than umapx.persistence.MAX_FILE_BYTES"):
        umapx.load(saved_digits)


def test_format_1_files_load_with_every_check_but_the_checksum(tmp_path):
    with np.load(V1_MODEL) as archive:
        embedding = archive["embedding"].copy()
    embedding[0, 0] = np.nan
    path = rewrite(V1_MODEL, tmp_path / "v1-nan.umapx", sealed=False,
                   replace={"embedding.npy": embedding})
    with pytest.raises(ModelFormatError, match="embedding holds NaN"):
        umapx.load(path)


# -- saving ---------------------------------------------------------------------------------


def test_interrupted_save_removes_its_temporary_file(fitted_digits, saved_digits, tmp_path,
                                                     monkeypatch):
    path = tmp_path / "model.umapx"
    path.write_bytes(saved_digits.read_bytes())

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupt)
    with pytest.raises(KeyboardInterrupt):
        fitted_digits[0].save(path)
    assert path.read_bytes() == saved_digits.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["model.umapx"]


def test_write_protected_files_are_not_replaced(fitted_digits, saved_digits, tmp_path):
    path = tmp_path / "model.umapx"
    path.write_bytes(saved_digits.read_bytes())
    path.chmod(0o444)
    with pytest.raises(PermissionError, match="write-protected"):
        fitted_digits[0].save(path)
    assert path.read_bytes() == saved_digits.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["model.umapx"]


def test_unusable_targets_are_refused_before_writing(fitted_digits, tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        fitted_digits[0].save(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fitted_digits[0].save(tmp_path / "missing" / "model.umapx")
    assert not any(tmp_path.iterdir())


_SLOW_SAVE = """
import sys, time
import numpy as np
import umapx
model = umapx.load(sys.argv[1])
write_array = np.lib.format.write_array
calls = []
def slow(*args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        print("writing", flush=True)
        time.sleep(60)
    return write_array(*args, **kwargs)
np.lib.format.write_array = slow
model.save(sys.argv[2])
"""


def _kill_during_save(target, signum):
    """Run a save in a child process and send it ``signum`` in the middle; return its code."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(V1_MODEL), str(target)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        assert any(p.name.endswith(".tmp") for p in target.parent.iterdir())
        child.send_signal(signum)
        return child.wait(timeout=60)
    finally:
        child.kill()
        child.wait()


def test_a_terminated_save_removes_its_temporary_file(tmp_path):
    import signal

    code = _kill_during_save(tmp_path / "model.umapx", signal.SIGTERM)
    assert code == -signal.SIGTERM  # ended by the signal, as without umapx's handler
    assert not any(tmp_path.iterdir())


def test_the_next_save_removes_what_killed_saves_left(fitted_digits, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    target = tmp_path / "model.umapx"
    for _ in range(2):  # the second save removes what the first left
        assert _kill_during_save(target, signal.SIGKILL) == -signal.SIGKILL
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".model.umapx.")
    # Kept: a save still running in another process, a recent file of an older umapx, other
    # models' files. Removed: files of dead processes, and old files of an older umapx.
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".model.umapx.{running.pid}-0123456789ab.tmp"
        recent_v1, old_v1 = (tmp_path / ".model.umapx.00112233aabb.tmp",
                             tmp_path / ".model.umapx.ffeeddccbbaa.tmp")
        other = tmp_path / ".other.umapx.1-0123456789ab.tmp"
        for path in (live, recent_v1, old_v1, other):
            path.write_bytes(b"partial")
        os.utime(old_v1, (0, 0))
        fitted_digits[0].save(target)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [live.name, recent_v1.name, other.name, "model.umapx"])
    finally:
        running.kill()
        running.wait()

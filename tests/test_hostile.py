"""Hostile input: every odd input gets a clear error or a sound result.

Three surfaces, each checked for the same four failures -- a crash (an exception other than a
clear ``ValueError`` / ``TypeError`` / ``ModelFormatError``), a hang, a silent NaN in an output,
and (from the command line) a traceback:

* the API: arrays of any shape, dtype and values (property-based, with hypothesis), every
  constructor parameter with hostile values, labels, and the entry points of
  ``umapx.evaluation``, ``umapx.geometry`` and ``umapx.plot``;
* the command line, each case in its own process (exit codes 0 / 2 / 3, never a traceback);
* model files: byte flips and truncations anywhere (refused by the checksum), flips re-sealed
  with a valid checksum (refused, or loading a model whose outputs are finite), and crafted
  entries.

A watchdog ends the run with every thread's traceback if one test runs for more than
``WATCHDOG_S`` seconds (a hang fails instead of stalling CI).
"""

from __future__ import annotations

import faulthandler
import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp
from model_files import V1_MODEL, npy_bytes, rewrite, seal

import umapx
from umapx import evaluation, geometry, umap_, utils, validation
from umapx.persistence import ModelFormatError

WATCHDOG_S = 600
# NotImplementedError names a umap-learn parameter whose mode umapx does not have yet.
CLEAR_ERRORS = (ValueError, TypeError, NotImplementedError)
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def watchdog():
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def small_model(blobs):
    """A model of 60 points in 10 dimensions (3 blobs)."""
    data = blobs[0][::5]
    return umapx.UMAP(n_neighbors=8, n_epochs=30, random_state=0).fit(data), data


def outcome(call):
    """``call()``'s result, or None when it raised a clear error with a message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except CLEAR_ERRORS as error:
        assert str(error).strip(), f"{type(error).__name__} without a message"
        note(f"refused: {type(error).__name__}")
        return None


def note(text):
    """Count ``text`` in hypothesis's statistics (``--hypothesis-show-statistics``)."""
    try:
        event(text)
    except InvalidArgument:  # not inside a property-based test
        pass


def assert_sound(array, shape):
    note("a result (checked sound)")
    assert array.shape == shape
    assert np.all(np.isfinite(array)), "a silent NaN / infinity in an output"


# ----------------------------------------------------------------------------------------------
# API: arrays
# ----------------------------------------------------------------------------------------------

NUMERIC_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_,
                  np.longdouble]
ODD_VALUES = [0.0, -0.0, 1e-300, 5e-324, 1e-30, 1e30, -1e38, 3e38, 1e300, np.nan, np.inf,
              -np.inf]


@st.composite
def odd_arrays(draw, n_columns=None):
    """Arrays of any numeric dtype and shape (0-3 dimensions) and any values; ordinary data
    at extreme scales with a few odd entries, or constant; and valid data of any dtype."""
    kind = draw(st.sampled_from(["any", "odd entries", "valid"]))
    if kind == "any":
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12))
        if n_columns is not None and len(shape) == 2:
            shape = (shape[0], n_columns)
        return draw(hnp.arrays(draw(st.sampled_from(NUMERIC_DTYPES)), shape))
    rows = draw(st.integers(4 if kind == "valid" else 1, 40))
    columns = n_columns or draw(st.integers(1, 6))
    array = np.random.RandomState(draw(st.integers(0, 2**16))).normal(size=(rows, columns))
    if kind == "valid":
        dtype, scales = draw(st.sampled_from([
            (np.float16, [1.0, 255.0]), (np.int64, [255.0, 1e15]), (np.uint8, [40.0]),
            (np.float32, [1.0, 1e-12, 1e15]), (np.float64, [1e-12, 1.0, 1e15]),
            (np.longdouble, [1.0])]))
        array = np.abs(array) if dtype == np.uint8 else array
        return (array * draw(st.sampled_from(scales))).astype(dtype)
    array *= draw(st.sampled_from([1.0, 1e-30, 1e-12, 255.0, 1e15, 1e25]))
    for _ in range(draw(st.integers(0, 3))):
        array[draw(st.integers(0, rows - 1)), draw(st.integers(0, columns - 1))] = \
            draw(st.sampled_from(ODD_VALUES))
    if draw(st.booleans()) and rows > 1:
        array[:] = array[0]
    return array


@PROPERTY
@given(X=odd_arrays())
def test_fit_answers_any_array(X):
    model = outcome(lambda: umapx.UMAP(n_neighbors=3, n_epochs=5, random_state=0).fit(X))
    if model is not None:
        assert_sound(model.embedding_, (len(X), 2))


@PROPERTY
@given(X=odd_arrays(n_columns=10))
def test_transform_answers_any_array(small_model, X):
    model, _ = small_model
    placed = outcome(lambda: model.transform(X))
    if placed is not None:
        assert_sound(placed, (len(X), 2))


@PROPERTY
@given(points=odd_arrays(n_columns=2))
def test_inverse_transform_answers_any_point(small_model, points):
    model, data = small_model
    result = outcome(lambda: model.inverse_transform(points, return_confidence=True))
    if result is not None:
        samples, confidence = result
        assert_sound(samples, (len(points), data.shape[1]))
        assert np.all((confidence >= 0) & (confidence <= 1))
        assert np.all(samples >= data.min(axis=0) - 1e-4)
        assert np.all(samples <= data.max(axis=0) + 1e-4)


@pytest.mark.parametrize("X", [
    np.array([[1, "a"], [2, "b"]] * 20, dtype=object),
    np.array([[1.0, None]] * 40, dtype=object),
    np.ones((40, 3), dtype=complex),
    np.array(["1.5", "2"] * 40).reshape(40, 2),
    np.zeros((40, 3), dtype="datetime64[s]"),
    np.zeros(40, dtype=[("a", float), ("b", float)]),
    [[1, 2], [3]] * 20,
    "not an array",
    None,
])
def test_fit_refuses_non_numeric_input(X):
    with pytest.raises(CLEAR_ERRORS):
        umapx.UMAP(n_neighbors=3, n_epochs=5).fit(X)


# ----------------------------------------------------------------------------------------------
# API: parameters and labels
# ----------------------------------------------------------------------------------------------

HOSTILE_VALUES = [np.nan, np.inf, -np.inf, -1, 0, 0.5, 1e300, 2**70, True, "x", None, [1], {}]


@pytest.mark.parametrize("name", sorted(umapx.UMAP().get_params()))
def test_every_parameter_answers_hostile_values(name, small_model):
    """Each value is refused with a clear error or gives a sound model, in bounded time."""
    _, data = small_model
    for value in HOSTILE_VALUES:
        params = {"n_neighbors": 8, "n_epochs": 10, "random_state": 0, name: value}
        model = outcome(lambda params=params: umapx.UMAP(**params).fit(data))
        if model is None:
            continue
        assert_sound(model.embedding_, (len(data), model.embedding_.shape[1]))
        placed = outcome(lambda model=model: model.transform(data[:5]))
        if placed is not None:
            assert_sound(placed, (5, model.embedding_.shape[1]))
        samples = outcome(lambda model=model: model.inverse_transform(model.embedding_[:5]))
        if samples is not None:
            assert_sound(samples, (5, data.shape[1]))


@pytest.mark.parametrize("metric, metric_kwds", [
    ("minkowski", {"p": np.nan}), ("minkowski", {"p": 0}), ("minkowski", {"p": -1}),
    ("minkowski", {"p": 1e300}), ("euclidean", {"p": 2}), ("cosine", {"q": 1}),
    ("minkowski", "p=3"), (3, None), (lambda x, y: 0.0, None), ("", None),
])
def test_metric_arguments_are_checked(metric, metric_kwds, small_model):
    _, data = small_model
    model = outcome(lambda: umapx.UMAP(metric=metric, metric_kwds=metric_kwds,
                                       n_epochs=5).fit(data))
    if model is not None:
        assert_sound(model.embedding_, (len(data), 2))


def test_a_metric_returning_nan_or_infinity_is_named(small_model):
    _, data = small_model

    @numba.njit
    def infinite(x, y):
        return np.inf

    with pytest.raises(ValueError, match="NaN or infinite distances"):
        umapx.UMAP(metric=infinite, n_epochs=5).fit(data)


@pytest.mark.parametrize("y", [
    np.array([1, "a", None] * 20, dtype=object),
    np.array([np.nan] * 60),
    np.full(60, np.inf),
    np.ones((60, 2)),
    np.ones(59),
    np.array([{"a": 1}] * 60, dtype=object),
    "labels",
])
def test_hostile_labels(small_model, y):
    _, data = small_model
    with pytest.raises(CLEAR_ERRORS):
        umapx.UMAP(n_neighbors=8, n_epochs=5).fit(data, y)


@pytest.mark.parametrize("y", [
    np.array(["a", "b", "c"] * 20), np.array([True, False] * 30), np.full(60, -1),
    np.arange(60) * 10**15, np.array([1.5, 2.5] * 30),
])
def test_odd_but_valid_labels(small_model, y):
    _, data = small_model
    model = umapx.UMAP(n_neighbors=8, n_epochs=5, random_state=0).fit(data, y)
    assert_sound(model.embedding_, (60, 2))


def test_inverse_n_neighbors_is_checked(small_model):
    model, _ = small_model
    for value in (0, -1, 2.5, np.nan, "x", 10**9):
        outcome(lambda value=value: model.inverse_transform(model.embedding_[:3],
                                                            n_neighbors=value))


# ----------------------------------------------------------------------------------------------
# API: evaluation, geometry and plot entry points
# ----------------------------------------------------------------------------------------------

_rng = np.random.RandomState(0)
_X, _E, _L = _rng.rand(60, 5), _rng.rand(60, 2), np.repeat(np.arange(3), 20)
_NN = np.tile(np.arange(5), (60, 1))
_NAN = np.where(np.eye(60, 2, dtype=bool), np.nan, _E)


class _Classifier:
    def predict(self, X):
        return np.zeros(len(X), int)


EVALUATION_CALLS = {
    "trustworthiness: embedding[:10]": lambda: evaluation.trustworthiness(_X, _E[:10]),
    "trustworthiness: NaN": lambda: evaluation.trustworthiness(_X, _NAN),
    "trustworthiness: 1-d": lambda: evaluation.trustworthiness(_X, _E[:, 0]),
    "trustworthiness: n_neighbors=0": lambda: evaluation.trustworthiness(_X, _E, n_neighbors=0),
    "trustworthiness: n_neighbors=40": lambda: evaluation.trustworthiness(_X, _E,
                                                                          n_neighbors=40),
    "trustworthiness: sample_size=0": lambda: evaluation.trustworthiness(_X, _E, sample_size=0),
    "knn_accuracy: labels[:5]": lambda: evaluation.knn_accuracy(_E, _L[:5]),
    "knn_accuracy: NaN": lambda: evaluation.knn_accuracy(_NAN, _L),
    "knn_accuracy: 2-d labels": lambda: evaluation.knn_accuracy(_E, _L[:, None]),
    "transform_accuracy: columns": lambda: evaluation.transform_accuracy(_E, _L, _X, _L),
    "transform_accuracy: rows": lambda: evaluation.transform_accuracy(_E, _L, _E[:5], _L),
    "local_dimension: indices": lambda: evaluation.local_dimension(_X, _NN + 100),
    "local_dimension: floats": lambda: evaluation.local_dimension(_X, _NN * 1.0),
    "local_dimension: rows": lambda: evaluation.local_dimension(_X[:10], _NN[:, :3] % 10),
    "local_dimension: threshold": lambda: evaluation.local_dimension(_X, _NN, 2.0),
    "neighborhood_jaccard: rows": lambda: evaluation.neighborhood_jaccard(_NN, _E[:30]),
    "neighborhood_jaccard: 1-d": lambda: evaluation.neighborhood_jaccard(_NN[:, 0], _E),
    "embedding_spacing: 1 row": lambda: evaluation.embedding_spacing(_E[:1]),
    "embedding_spacing: NaN": lambda: evaluation.embedding_spacing(_NAN),
    "reconstruction_mse: shapes": lambda: evaluation.reconstruction_mse(_X, _X[:, :3]),
    "label_preservation: rows": lambda: evaluation.label_preservation(_X, _L[:3], _Classifier()),
    "round_trip_error: spacing 0": lambda: evaluation.round_trip_error(lambda g: _E, _X, _E, 0),
    "round_trip_error: shape": lambda: evaluation.round_trip_error(lambda g: _E[:3], _X, _E, 1.0),
    "novelty_ratio: columns": lambda: evaluation.novelty_ratio(_X, _X[:, :2], _X),
    "outside_support: rows": lambda: evaluation.outside_support(lambda p: p, _E, _X[:10]),
    "outside_support: n_rays": lambda: evaluation.outside_support(lambda p: p, _E, _X,
                                                                  n_rays=1000),
    "inverse_quality: rows": lambda: evaluation.inverse_quality(
        lambda x: _E, lambda p: _X, _X, _L[:10], _E, _X, _L),
    "grid_points: NaN corner": lambda: geometry.grid_points(np.full((4, 2), np.nan), 3),
    "grid_points: 3 corners": lambda: geometry.grid_points(np.ones((3, 2)), 3),
    "grid_points: n=0": lambda: geometry.grid_points(np.ones((4, 2)), 0),
    "grid_points: n=2.5": lambda: geometry.grid_points(np.ones((4, 2)), 2.5),
    "grid_points: text": lambda: geometry.grid_points("corners", 3),
    "default_corners: NaN": lambda: geometry.default_corners(_NAN),
    "default_corners: 3-d": lambda: geometry.default_corners(_X[:, :3]),
    "default_corners: empty": lambda: geometry.default_corners(np.empty((0, 2))),
}


@pytest.mark.parametrize("call", EVALUATION_CALLS.values(), ids=EVALUATION_CALLS.keys())
def test_measures_and_geometry_refuse_bad_arrays(call):
    with pytest.raises(ValueError):
        call()


def test_plot_entry_points_refuse_bad_arguments(small_model):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from umapx import plot

    model, _ = small_model
    calls = [
        lambda: plot.points(model, labels=np.arange(5)),
        lambda: plot.points(model, values=np.full(60, np.nan)),
        lambda: plot.points(model, theme="nope"),
        lambda: plot.connectivity(model, max_edges=0),
        lambda: plot.diagnostic(model, diagnostic_type="nope"),
        lambda: plot.inverse_grid(model, n=10**4, image_shape=(2, 5)),
        lambda: plot.inverse_grid(model, n=0, image_shape=(2, 5)),
        lambda: plot.inverse_grid(model, corners=np.full((4, 2), np.nan), image_shape=(2, 5)),
        lambda: plot.inverse_grid(model, image_shape=(-2, -5)),
        lambda: plot.sample_grid(np.ones(10)),
        lambda: plot.sample_grid(np.ones((4, 10)), n_columns=0),
        lambda: plot.sample_grid(np.ones((4, 10)), image_shape=(3, 3)),
    ]
    try:
        for call in calls:
            outcome(call)
    finally:
        plt.close("all")


# ----------------------------------------------------------------------------------------------
# API: the compatibility submodules (found by scripts/hostile_probe.py: a segfault, IndexErrors,
# a ZeroDivisionError, a numba TypingError and silent NaN before their checks)
# ----------------------------------------------------------------------------------------------

_SQUARE = scipy.sparse.identity(60, format="csr")
COMPAT_CALLS = {
    "find_ab_params: spread 0": lambda: umap_.find_ab_params(0.0, 0.0),
    "find_ab_params: NaN": lambda: umap_.find_ab_params(np.nan, 0.1),
    "find_ab_params: min_dist < 0": lambda: umap_.find_ab_params(1.0, -1.0),
    "find_ab_params: text": lambda: umap_.find_ab_params("a", "b"),
    "nearest_neighbors: 1-d": lambda: umap_.nearest_neighbors(_X[0], 3, "euclidean", {},
                                                               False, 0),
    "nearest_neighbors: NaN": lambda: umap_.nearest_neighbors(_NAN, 3, "euclidean", {}, False,
                                                              0),
    "smooth_knn_dist: 1-d": lambda: umap_.smooth_knn_dist(np.ones(5), 5.0),
    "smooth_knn_dist: empty": lambda: umap_.smooth_knn_dist(np.empty((0, 5)), 5.0),
    "smooth_knn_dist: negative": lambda: umap_.smooth_knn_dist(-np.ones((10, 5)), 5.0),
    "smooth_knn_dist: k=0": lambda: umap_.smooth_knn_dist(np.ones((10, 5)), 0.0),
    "simplicial_set_embedding: graph size": lambda: umap_.simplicial_set_embedding(
        _X, scipy.sparse.identity(10, format="csr"), 2, 1.0, 1.577, 0.895, 1.0, 5, 20,
        "spectral", np.random.RandomState(0), "euclidean", {}, False, {}, False),
    "simplicial_set_embedding: a=NaN": lambda: umap_.simplicial_set_embedding(
        _X, _SQUARE, 2, 1.0, np.nan, 0.895, 1.0, 5, 20, "spectral", np.random.RandomState(0),
        "euclidean", {}, False, {}, False),
    "submatrix: out of range": lambda: utils.submatrix(_X, np.full((60, 3), 99), 3),
    "submatrix: float indices": lambda: utils.submatrix(_X, np.zeros((60, 3)), 3),
    "average_nn_distance: NaN": lambda: utils.average_nn_distance(np.full((10, 3), np.nan)),
    "csr_unique: NaN": lambda: utils.csr_unique(scipy.sparse.csr_matrix(np.full((5, 3),
                                                                                np.nan))),
    "trustworthiness_vector_bulk: indices": lambda: validation.trustworthiness_vector_bulk(
        np.full((60, 5), 99), np.full((60, 5), 99), 5),
    "trustworthiness_vector_bulk: embedded": lambda: validation.trustworthiness_vector_bulk(
        np.tile(np.arange(60), (60, 1)), np.full((60, 5), 99), 5),
    "trustworthiness_vector_bulk: max_k": lambda: validation.trustworthiness_vector_bulk(
        np.tile(np.arange(60), (60, 1)), np.zeros((60, 5), int), 60),
}


@pytest.mark.parametrize("call", COMPAT_CALLS.values(), ids=COMPAT_CALLS.keys())
def test_compatibility_functions_refuse_bad_arguments(call):
    with pytest.raises(CLEAR_ERRORS):
        call()


@pytest.mark.parametrize("port", [-1, 65536, 99999, 2.5, "80", None])
def test_explorer_port_is_checked(port):
    """An impossible port is refused before a socket is opened (it was an OverflowError from
    ``bind``, an internal error from the command line)."""
    from umapx.explorer.server import Explorer

    with pytest.raises(ValueError, match="port must be an integer"):
        Explorer(None, port=port)


@PROPERTY
@given(n_neighbors=st.integers(-3, 80))
def test_nearest_neighbors_any_count(n_neighbors):
    """Any neighbour count: a clear error, or every row's neighbours (itself first). More than
    the number of samples read past the end of the data (a segfault) before it was checked."""
    result = outcome(lambda: umap_.nearest_neighbors(_X, n_neighbors, "euclidean", {}, False,
                                                     0))
    if result is not None:
        indices, distances, _ = result
        assert indices.shape == distances.shape == (60, n_neighbors)
        assert np.all((indices >= 0) & (indices < 60))
        assert_sound(distances, (60, n_neighbors))


# ----------------------------------------------------------------------------------------------
# The command line, each case in its own process
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory, small_model):
    """A saved model and files of every odd kind for the command line."""
    folder = tmp_path_factory.mktemp("hostile-cli")
    model, data = small_model
    model.save(folder / "model.umapx")
    np.save(folder / "data.npy", data)
    arrays = {
        "nan.npy": np.full((20, 10), np.nan), "inf.npy": np.full((20, 10), np.inf),
        "complex.npy": np.ones((20, 10), complex), "cube.npy": np.ones((2, 2, 2)),
        "scalar.npy": np.float64(3.0), "text.npy": np.array([["a"] * 10] * 20),
        "wide.npy": np.ones((5, 11)), "tiny.npy": data * 1e-30,
        "points-nan.npy": np.full((3, 2), np.nan), "many-points.npy": np.zeros((10001, 2)),
    }
    for name, array in arrays.items():
        np.save(folder / name, array)
    np.save(folder / "object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    header = ("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 100000), }"
              .ljust(117) + "\n").encode()
    (folder / "huge-header.npy").write_bytes(b"\x93NUMPY\x01\x00" + bytes([len(header), 0])
                                             + header)
    texts = {"empty.csv": "", "header.csv": "a,b,c\n", "ragged.csv": "1,2\n3\n",
             "words.txt": "hello world\nmore words\n", "binary.csv": "\x00\xff\xfe\n"}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="latin-1")
    content = (folder / "model.umapx").read_bytes()
    (folder / "truncated.umapx").write_bytes(content[: len(content) // 2])
    flipped = bytearray(content)
    flipped[len(content) // 3] ^= 0x10
    (folder / "flipped.umapx").write_bytes(bytes(flipped))
    (folder / "notes.umapx").write_text("not a model\n")
    os.mkfifo(folder / "fifo.npy")
    os.mkfifo(folder / "fifo.umapx")
    os.symlink("/dev/zero", folder / "zero.umapx")
    (folder / "dir.npy").mkdir()
    (folder / "ro").mkdir()  # made read-only while the cases run
    return folder


# (arguments, expected exit code); "{f}" is the folder of cli_files. The quick suite runs one
# case of each class of problem (QUICK_CLI_CASES); the slow suite runs them all.
CLI_CASES = {
    "no command": ([], 2),
    "unknown option": (["fit", "{f}/data.npy", "-o", "{f}/m.umapx", "--colour", "red"], 2),
    "non-integer option": (["fit", "{f}/data.npy", "-o", "{f}/m.umapx", "--n-neighbors", "x"], 2),
    "bad --kind": (["plot", "{f}/model.umapx", "-o", "{f}/p.png", "--kind", "nope"], 2),
    "missing input": (["transform", "{f}/model.umapx", "{f}/nothing.npy"], 3),
    "NaN data": (["transform", "{f}/model.umapx", "{f}/nan.npy"], 3),
    "infinite data": (["fit", "{f}/inf.npy", "-o", "{f}/m1.umapx"], 3),
    "complex data": (["transform", "{f}/model.umapx", "{f}/complex.npy"], 3),
    "3-d data": (["transform", "{f}/model.umapx", "{f}/cube.npy"], 3),
    "scalar data": (["transform", "{f}/model.umapx", "{f}/scalar.npy"], 3),
    "text array": (["transform", "{f}/model.umapx", "{f}/text.npy"], 3),
    "object array": (["transform", "{f}/model.umapx", "{f}/object.npy"], 3),
    "wrong width": (["transform", "{f}/model.umapx", "{f}/wide.npy"], 3),
    "tiny data": (["fit", "{f}/tiny.npy", "-o", "{f}/m2.umapx"], 3),
    "huge .npy header": (["transform", "{f}/model.umapx", "{f}/huge-header.npy"], 3),
    "empty text": (["transform", "{f}/model.umapx", "{f}/empty.csv"], 3),
    "header only": (["transform", "{f}/model.umapx", "{f}/header.csv"], 3),
    "ragged text": (["transform", "{f}/model.umapx", "{f}/ragged.csv"], 3),
    "words": (["transform", "{f}/model.umapx", "{f}/words.txt"], 3),
    "binary text": (["transform", "{f}/model.umapx", "{f}/binary.csv"], 3),
    "FIFO input": (["transform", "{f}/model.umapx", "{f}/fifo.npy"], 3),
    "directory input": (["transform", "{f}/model.umapx", "{f}/dir.npy"], 3),
    "truncated model": (["transform", "{f}/truncated.umapx", "{f}/data.npy"], 3),
    "flipped model": (["transform", "{f}/flipped.umapx", "{f}/data.npy"], 3),
    "text model": (["inverse", "{f}/notes.umapx"], 3),
    "FIFO model": (["inverse", "{f}/fifo.umapx"], 3),
    "/dev/zero model": (["inverse", "{f}/zero.umapx"], 3),
    "n_neighbors=1": (["fit", "{f}/data.npy", "-o", "{f}/m3.umapx", "--n-neighbors", "1"], 3),
    "n_epochs=10**9": (["fit", "{f}/data.npy", "-o", "{f}/m4.umapx", "--n-epochs", "10" * 5], 3),
    "n_jobs=0": (["fit", "{f}/data.npy", "-o", "{f}/m5.umapx", "--n-jobs", "0"], 3),
    "random_state=-1": (["fit", "{f}/data.npy", "-o", "{f}/m6.umapx", "--random-state", "-1"],
                        3),
    "unknown metric": (["fit", "{f}/data.npy", "-o", "{f}/m7.umapx", "--metric", "nope"], 3),
    "min_dist=-1": (["fit", "{f}/data.npy", "-o", "{f}/m8.umapx", "--min-dist", "-1"], 3),
    "model to stdout": (["fit", "{f}/data.npy", "-o", "-"], 3),
    "output is a directory": (["fit", "{f}/data.npy", "-o", "{f}"], 3),
    "output in a read-only directory": (["transform", "{f}/model.umapx", "{f}/data.npy", "-o",
                                         "{f}/ro/t.npy"], 3),
    "output overwrites the input": (["transform", "{f}/model.umapx", "{f}/data.npy", "-o",
                                     "{f}/data.npy"], 3),
    "output in a missing directory": (["transform", "{f}/model.umapx", "{f}/data.npy", "-o",
                                       "{f}/missing/t.npy"], 3),
    "unknown figure format": (["plot", "{f}/model.umapx", "-o", "{f}/p.xyz"], 3),
    "--grid 20000": (["inverse", "{f}/model.umapx", "--grid", "20000"], 3),
    "NaN points": (["inverse", "{f}/model.umapx", "--points", "{f}/points-nan.npy"], 3),
    "bad corners": (["inverse", "{f}/model.umapx", "--corners", "0,0", "1,x", "2,2", "3,3"], 3),
    "NaN corners": (["inverse", "{f}/model.umapx", "--corners", "0,0", "1,nan", "2,2", "3,3"], 3),
    "too many images": (["inverse", "{f}/model.umapx", "--points", "{f}/many-points.npy",
                         "--png", "{f}/g.png", "--image-shape", "2x5"], 3),
    "zero image shape": (["inverse", "{f}/model.umapx", "--png", "{f}/g.png", "--image-shape",
                          "0x0"], 3),
    "wrong number of labels": (["plot", "{f}/model.umapx", "-o", "{f}/p.png", "--labels",
                                "{f}/wide.npy"], 3),
    "unknown theme": (["plot", "{f}/model.umapx", "-o", "{f}/p.png", "--theme", "nope"], 3),
    "demo --limit 0": (["demo", "--limit", "0", "-o", "{f}/demo.png"], 3),
    "explore --port 99999": (["explore", "{f}/model.umapx", "--no-browser", "--port", "99999"],
                             3),
    "demo without its data": (["demo", "--dataset", "mnist", "--data-path", "{f}/nothing",
                               "-o", "{f}/demo.png"], 3),
    "transform to stdout": (["transform", "{f}/model.umapx", "{f}/data.npy"], 0),
    "inverse to stdout": (["inverse", "{f}/model.umapx", "--grid", "3"], 0),
}


QUICK_CLI_CASES = [
    "no command", "non-integer option", "NaN data", "complex data", "huge .npy header",
    "header only", "FIFO input", "flipped model", "/dev/zero model", "n_epochs=10**9",
    "output is a directory", "output in a read-only directory", "--grid 20000", "NaN points",
    "demo --limit 0", "transform to stdout", "explore --port 99999",
]


def run_cli_cases(folder, cases):
    """Each case's completed process (each in its own process, two at a time)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}

    def run(args):
        args = [arg.replace("{f}", str(folder)) for arg in args]
        return subprocess.run([sys.executable, "-m", "umapx.cli", *args], capture_output=True,
                              text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)

    (folder / "ro").chmod(0o555)
    try:
        with ThreadPoolExecutor(2) as pool:
            return dict(zip(cases, pool.map(run, [CLI_CASES[case][0] for case in cases])))
    finally:
        (folder / "ro").chmod(0o755)


@pytest.fixture(scope="module")
def quick_cli_results(cli_files):
    return run_cli_cases(cli_files, QUICK_CLI_CASES)


@pytest.fixture(scope="module")
def all_cli_results(cli_files):
    return run_cli_cases(cli_files, list(CLI_CASES))


@pytest.mark.parametrize("case", QUICK_CLI_CASES)
def test_command_line_exit_codes(quick_cli_results, case):
    check_cli_case(case, quick_cli_results[case])


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(set(CLI_CASES) - set(QUICK_CLI_CASES)))
def test_command_line_exit_codes_all_cases(all_cli_results, case):
    check_cli_case(case, all_cli_results[case])


def check_cli_case(case, done):
    expected = CLI_CASES[case][1]
    assert done.returncode == expected, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    if expected == 3:
        assert "umapx: error: " in done.stderr
    if expected == 0 and "stdout" in case:
        values = np.loadtxt(io.StringIO(done.stdout), delimiter=",", ndmin=2)
        assert values.size and np.all(np.isfinite(values))


# ----------------------------------------------------------------------------------------------
# Model files
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    """Format-2 files of an exact and an NN-descent model (re-saved format-1 fixtures)."""
    folder = tmp_path_factory.mktemp("hostile-models")
    files = {}
    for name in ("digits400-exact-v1.umapx", "digits400-nndescent-cosine-v1.umapx"):
        path = folder / name.replace("-v1", "")
        umapx.load(V1_MODEL.parent / name).save(path)
        files[name.split("-")[1]] = path.read_bytes()
    return files


def load_bytes(content, tmp_path, name="model.umapx"):
    path = tmp_path / name
    path.write_bytes(content)
    return umapx.load(path)


@PROPERTY
@given(which=st.sampled_from(["exact", "nndescent"]), data=st.data())
def test_any_corruption_is_refused(model_bytes, tmp_path_factory, which, data):
    content = bytearray(model_bytes[which])
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "zero"]))
    position = data.draw(st.integers(0, len(content) - 1))
    if kind == "flip":
        content[position] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        del content[position:]
    elif kind == "insert":
        content[position:position] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        content[position:position + 64] = bytes(min(64, len(content) - position))
        if bytes(content) == model_bytes[which]:
            return
    with pytest.raises(ModelFormatError):
        load_bytes(bytes(content), tmp_path_factory.mktemp("corrupt"))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(["exact", "nndescent"]), data=st.data())
def test_crafted_bytes_with_a_valid_checksum(model_bytes, small_model, tmp_path_factory,
                                             which, data):
    """Flips re-sealed with a valid checksum: refused, or a model whose outputs are sound."""
    content = bytearray(model_bytes[which][:-77])  # without the checksum comment
    for _ in range(data.draw(st.integers(1, 4))):
        content[data.draw(st.integers(0, len(content) - 1))] ^= data.draw(st.integers(1, 255))
    path = tmp_path_factory.mktemp("crafted") / "model.umapx"
    path.write_bytes(bytes(content) + b"umapx-sha256:" + b"0" * 64)
    try:
        seal(path)
    except zipfile.BadZipFile:
        return  # the flips broke the zip structure beyond what zipfile can append to
    try:
        model = umapx.load(path)
    except ModelFormatError:
        return
    held_out = umapx.load(V1_MODEL)._raw_data[:5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_sound(model.transform(held_out), (5, 2))
        samples = outcome(lambda: model.inverse_transform(model.embedding_[:5]))
    if samples is not None:
        assert_sound(samples, (5, 64))


def _npy_with_header(header):
    header = header.ljust(117).encode() + b"\n"
    return b"\x93NUMPY\x01\x00" + bytes([len(header), 0]) + header


@pytest.mark.parametrize("entry, content", [
    ("embedding.npy", _npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (10**12, 10**12), }")),
    ("embedding.npy", _npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-400, 2), }")),
    ("embedding.npy", _npy_with_header(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (400, 2), }")),
    ("embedding.npy", _npy_with_header(
        "{'descr': '>f4', 'fortran_order': False, 'shape': (400, 2), }") + bytes(3200)),
    ("embedding.npy", _npy_with_header("['not', 'a', 'dict']")),
    ("embedding.npy", b"\x93NUMPY\x03\x00" + bytes(200)),
    ("embedding.npy", b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 65535),
    ("embedding.npy", npy_bytes(np.zeros((400, 2), np.complex64))),
    ("embedding.npy", npy_bytes(np.array([None] * 800, dtype=object).reshape(400, 2))),
    ("metadata.json", b"[" * 100000 + b"]" * 100000),
    ("metadata.json", b'["a list"]'),
    ("metadata.json", b"\xff\xfe not utf-8"),
    ("metadata.json", b'{"format": "umapx-model", "format_version": 1e400}'),
])
def test_crafted_entries(tmp_path, entry, content):
    path = tmp_path / "crafted.umapx"
    with zipfile.ZipFile(V1_MODEL) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == entry else src.read(info))
    seal(path)
    with pytest.raises(ModelFormatError):
        umapx.load(path)


@pytest.mark.parametrize("edit", [
    lambda m: m.update(params={"n_neighbors": [15]}),
    lambda m: m["params"].update(init={"a": 1}),
    lambda m: m["params"].update(metric={"name": "euclidean"}),
    lambda m: m["params"].update(random_state=2**80),
    lambda m: m.update(random_state_state={"pos": -5, "has_gauss": 0, "cached_gaussian": 0.0}),
    lambda m: m["fitted"].update(feature_names_in_=[1, 2]),
    lambda m: m["fitted"].update(feature_names_in_="pixels"),
    lambda m: m["fitted"].update(n_features_in_=10**20),
    lambda m: m["fitted"].update(timings_=[1.0]),
    lambda m: m["fitted"].update(a_="1.5"),
    lambda m: m.update(metric=[]),
    lambda m: m["knn_index"].update(method=None),
    lambda m: m.update(format_version=-1),
    lambda m: m.update(format_version=True),
])
def test_crafted_metadata(tmp_path, edit):
    path = rewrite(V1_MODEL, tmp_path / "crafted.umapx", edit_metadata=edit)
    with pytest.raises(ModelFormatError):
        umapx.load(path)


def test_metadata_is_json_not_code(tmp_path):
    """Nothing in the metadata is evaluated: a string that looks like code stays a string and
    fails validation."""
    payload = "__import__('os').system('touch {}')".format(tmp_path / "ran")
    path = rewrite(V1_MODEL, tmp_path / "crafted.umapx",
                   edit_metadata=lambda m: m["params"].update(metric=payload))
    with pytest.raises(ModelFormatError):
        umapx.load(path)
    assert not (tmp_path / "ran").exists()
    json.loads(zipfile.ZipFile(path).read("metadata.json"))  # still plain JSON

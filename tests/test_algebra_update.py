"""Model algebra (``+`` union, ``*`` intersection, ``-`` contrast) and ``UMAP.update``: fit,
transform, inverse, save/load, determinism with threads and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError
from sklearn.manifold import trustworthiness

import umapx
from umapx.algebra import combine_graphs
from umapx.graph import reset_local_connectivity

N_EPOCHS = 120


@pytest.fixture(scope="module")
def rows(digits):
    data, labels = digits
    return data[:500].astype(np.float32), labels[:500]


@pytest.fixture(scope="module")
def pair(rows):
    data, _ = rows
    left = umapx.UMAP(n_neighbors=10, n_epochs=N_EPOCHS, random_state=1).fit(data)
    right = umapx.UMAP(n_neighbors=20, metric="cosine", n_epochs=N_EPOCHS,
                       random_state=2).fit(data)
    return left, right


def _graph(entries, n=3):
    rows, cols, values = zip(*entries)
    return scipy.sparse.csr_matrix((values, (rows, cols)), shape=(n, n))


# -- graph operations -------------------------------------------------------------------------


def test_union_intersection_contrast_values():
    left = _graph([(0, 1, 0.5), (1, 0, 0.5), (1, 2, 0.8)])
    right = _graph([(0, 1, 0.4), (1, 0, 0.4), (2, 1, 0.6)])
    union = combine_graphs(left, right, "union").toarray()
    assert union[0, 1] == pytest.approx(0.5 + 0.4 - 0.2)
    # an edge of one graph only meets the other's stand-in value (half its weakest edge)
    assert union[1, 2] == pytest.approx(0.8 + 0.2 - 0.16)
    assert union[2, 1] == pytest.approx(0.6 + 0.25 - 0.15)
    intersection = combine_graphs(left, right, "intersection").toarray()
    assert intersection[0, 1] == pytest.approx(0.2)
    assert intersection[1, 2] == pytest.approx(0.8 * 1e-4)  # right's stand-in is capped
    assert intersection[2, 1] == pytest.approx(0.25 * 0.6)
    contrast = combine_graphs(left, right, "contrast").toarray()
    assert contrast[0, 1] == pytest.approx(0.5 * 0.6)
    assert contrast[1, 2] == pytest.approx(0.8 * 1e-4)
    assert contrast[2, 1] == 0  # contrast keeps the left graph's edges only


def test_reset_local_connectivity_is_symmetric_with_unit_maxima(pair):
    left, right = pair
    for operation in ("union", "intersection", "contrast"):
        for rescale in (True, False):
            graph = reset_local_connectivity(
                combine_graphs(left.graph_, right.graph_, operation), rescale)
            assert abs(graph - graph.T).max() < 1e-6
            assert graph.data.min() >= 0 and graph.data.max() <= 1 + 1e-6
            np.testing.assert_allclose(graph.max(axis=1).toarray().ravel(), 1.0, atol=1e-6)


def test_combine_graphs_refuses_unknown_operation_and_shapes():
    graph = _graph([(0, 1, 0.5)])
    with pytest.raises(ValueError, match="operation"):
        combine_graphs(graph, graph, "xor")
    with pytest.raises(ValueError, match="shape"):
        combine_graphs(graph, _graph([(0, 1, 0.5)], n=4), "union")


# -- combined models --------------------------------------------------------------------------


@pytest.mark.parametrize("operator", ["+", "*", "-"])
def test_combined_model_embeds_transforms_and_inverts(rows, pair, operator):
    data, labels = rows
    left, right = pair
    combined = {"+": left + right, "*": left * right, "-": left - right}[operator]
    assert isinstance(combined, umapx.UMAP)
    assert combined.get_params() == left.get_params()
    assert combined.embedding_.shape == (len(data), 2)
    assert np.all(np.isfinite(combined.embedding_))
    assert not np.array_equal(combined.embedding_, left.embedding_)
    assert abs(combined.graph_ - combined.graph_.T).max() < 1e-6
    # a layout of the digits: far above the ~0.5 of a random one
    assert trustworthiness(data, combined.embedding_, n_neighbors=10) > 0.85
    # training rows placed by transform land on their combined embedding
    np.testing.assert_array_equal(combined.transform(data[:20]), combined.embedding_[:20])
    samples = combined.inverse_transform(combined.embedding_[:30])
    assert samples.shape == (30, data.shape[1]) and np.all(np.isfinite(samples))
    # generated samples resemble the rows embedded there more than other rows
    own = np.linalg.norm(samples - data[:30], axis=1).mean()
    other = np.linalg.norm(samples - data[200:230], axis=1).mean()
    assert own < other


def test_algebra_lays_out_anchored_and_update_does_not(rows, pair, monkeypatch):
    """Model algebra's new layout measures attractions between start-of-epoch positions;
    update keeps the moving position (each measured better that way on digits over 5 seeds:
    benchmarks/README.md, Variants)."""
    import umapx.estimator

    data, _ = rows
    left, right = pair
    seen = []
    original = umapx.estimator.optimize_layout

    def recording(*args, **kwargs):
        seen.append(kwargs.get("anchored_attraction", False))
        return original(*args, **dict(kwargs, n_epochs=2))

    monkeypatch.setattr(umapx.estimator, "optimize_layout", recording)
    for operation in ("__add__", "__mul__", "__sub__"):
        getattr(left, operation)(right)
    assert seen == [True, True, True]
    model = umapx.UMAP(n_neighbors=10, n_epochs=2, random_state=0).fit(data[:300])
    seen.clear()
    model.update(data[300:320], n_epochs=2)
    assert seen == [False]


def test_combined_model_saves_and_loads(tmp_path, rows, pair):
    data, _ = rows
    left, right = pair
    combined = left * right
    combined.save(tmp_path / "combined.umapx")
    loaded = umapx.load(tmp_path / "combined.umapx")
    np.testing.assert_array_equal(loaded.embedding_, combined.embedding_)
    assert (loaded.graph_ != combined.graph_).nnz == 0
    np.testing.assert_array_equal(loaded.transform(data[::7] + 0.01),
                                  combined.transform(data[::7] + 0.01))
    np.testing.assert_array_equal(loaded.inverse_transform(combined.embedding_[:9]),
                                  combined.inverse_transform(combined.embedding_[:9]))


def test_combination_is_deterministic_whatever_n_jobs(pair):
    left, right = pair
    single = left.set_params(n_jobs=1) - right
    several = left.set_params(n_jobs=2) - right
    left.set_params(n_jobs=-1)
    np.testing.assert_array_equal(single.embedding_, several.embedding_)


def test_combination_bad_input(rows, pair):
    data, _ = rows
    left, _ = pair
    smaller = umapx.UMAP(n_neighbors=10, n_epochs=10, random_state=0).fit(data[:100])
    with pytest.raises(ValueError, match="same rows"):
        left + smaller
    with pytest.raises(NotFittedError):
        left * umapx.UMAP()
    with pytest.raises(TypeError):
        left - 3


def test_graph_mode_combination_builds_the_graph_only(rows):
    data, _ = rows
    first = umapx.UMAP(n_neighbors=10, transform_mode="graph", random_state=0).fit(data)
    second = umapx.UMAP(n_neighbors=15, transform_mode="graph", random_state=0).fit(data)
    combined = first + second
    assert combined.graph_.shape == (len(data), len(data))
    with pytest.raises(AttributeError, match="no embedding"):
        combined.embedding_  # noqa: B018


# -- update -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def updated(rows):
    data, _ = rows
    model = umapx.UMAP(n_neighbors=10, n_epochs=N_EPOCHS, random_state=3).fit(data[:350])
    before = model.embedding_.copy()
    model.update(data[350:])
    return model, before


def test_update_continues_training_on_all_rows(rows, updated):
    data, _ = rows
    model, before = updated
    assert model.embedding_.shape == (len(data), 2)
    np.testing.assert_array_equal(model._raw_data, data)
    assert model.graph_.shape == (len(data), len(data))
    assert model.knn_indices_.shape[0] == len(data)
    # the old points stay close to where they were (median shift under 10% of the layout's
    # extent; about 4% measured), the new ones join the structure
    shift = np.linalg.norm(model.embedding_[:350] - before, axis=1)
    assert np.median(shift) < 0.1 * np.ptp(before, axis=0).max()
    assert trustworthiness(data, model.embedding_, n_neighbors=10) > 0.85


def test_update_without_epochs_keeps_the_old_embedding(rows):
    data, _ = rows
    model = umapx.UMAP(n_neighbors=10, n_epochs=60, random_state=3).fit(data[:300])
    before = model.embedding_.copy()
    placed = model.transform(data[300:])
    model.update(data[300:], n_epochs=0)
    np.testing.assert_array_equal(model.embedding_[:300], before)
    np.testing.assert_array_equal(model.embedding_[300:], placed)


def test_updated_model_transforms_inverts_and_saves(tmp_path, rows, updated):
    data, _ = rows
    model, _ = updated
    np.testing.assert_array_equal(model.transform(data[400:420]), model.embedding_[400:420])
    assert model.inverse_transform(model.embedding_[:5]).shape == (5, data.shape[1])
    model.save(tmp_path / "updated.umapx")
    loaded = umapx.load(tmp_path / "updated.umapx")
    np.testing.assert_array_equal(loaded.embedding_, model.embedding_)
    np.testing.assert_array_equal(loaded.transform(data[::11] + 0.02),
                                  model.transform(data[::11] + 0.02))


def test_update_is_deterministic_whatever_n_jobs(rows):
    data, _ = rows
    results = []
    for n_jobs in (1, 2):
        model = umapx.UMAP(n_neighbors=10, n_epochs=40, random_state=5, n_jobs=n_jobs)
        results.append(model.fit(data[:250]).update(data[250:400]).embedding_)
    np.testing.assert_array_equal(results[0], results[1])


def test_update_bad_input(rows):
    data, _ = rows
    model = umapx.UMAP(n_neighbors=10, n_epochs=20, random_state=0).fit(data[:100])
    with pytest.raises(ValueError, match="features"):
        model.update(data[100:110, :10])
    bad = data[100:110].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.update(bad)
    with pytest.raises(ValueError, match="n_epochs"):
        model.update(data[100:110], n_epochs=-1)
    with pytest.raises(NotFittedError):
        umapx.UMAP().update(data[:10])
    distances = np.abs(data[:50, :1] - data[:50, :1].T)
    precomputed = umapx.UMAP(metric="precomputed", n_neighbors=5, n_epochs=10,
                             random_state=0).fit(distances)
    with pytest.raises(ValueError, match="precomputed"):
        precomputed.update(distances[:5])


def test_update_keeps_parameters_describing_the_rows(tmp_path, rows):
    data, _ = rows
    init = np.random.RandomState(0).uniform(size=(120, 2))
    model = umapx.UMAP(n_neighbors=10, n_epochs=20, init=init, random_state=0).fit(data[:120])
    model.update(data[120:150], n_epochs=5)
    assert model.init.shape == (150, 2)
    model.save(tmp_path / "updated.umapx")
    np.testing.assert_array_equal(umapx.load(tmp_path / "updated.umapx").embedding_,
                                  model.embedding_)

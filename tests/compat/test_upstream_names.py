"""Gaps found by running umap-learn's own tests through the import alias
(benchmarks/umap_learn_api.py): ``umap_.init_update``, ``spectral.component_layout``,
float64-accurate ``distances`` functions, ``softmax_hellinger``, ``mahalanobis_f64`` and
``unique=True`` on sparse rows."""

from __future__ import annotations

import numpy as np
import pytest

import umapx as umap


def test_init_update_places_new_rows_at_their_original_neighbours():
    positions = np.array([[0.0, 0.0], [2.0, 4.0], [6.0, -2.0], [9.0, 9.0], [9.0, 9.0],
                          [9.0, 9.0]])
    before = positions.copy()
    indices = np.array([[0, 1], [1, 0], [2, 0], [0, 1], [4, 5], [2, -1]])
    umap.umap_.init_update(positions, 3, indices)
    np.testing.assert_array_equal(positions[:3], before[:3])  # original rows stay
    np.testing.assert_allclose(positions[3], [1.0, 2.0])      # mean of rows 0 and 1
    # no original neighbour (only new rows): the centre of the original rows
    np.testing.assert_allclose(positions[4], before[:3].mean(axis=0))
    np.testing.assert_allclose(positions[5], [6.0, -2.0])     # -1 is not a neighbour


def test_init_update_refuses_mismatched_input():
    with pytest.raises(ValueError, match="one row per row"):
        umap.umap_.init_update(np.zeros((4, 2)), 2, np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="n_original_samples"):
        umap.umap_.init_update(np.zeros((4, 2)), 0, np.zeros((4, 2), dtype=int))


def _line_of_components():
    """Three tight groups at 0, 1 and 10 on a line, as rows and as a distance matrix."""
    rng = np.random.RandomState(0)
    centres = np.array([0.0, 1.0, 10.0])
    labels = np.repeat(np.arange(3), 20)
    rows = np.column_stack([centres[labels] + rng.uniform(-0.1, 0.1, 60), np.zeros(60)])
    return rows, np.abs(rows[:, None, 0] - rows[None, :, 0]), labels


def test_component_layout_keeps_far_components_far():
    rows, distances, labels = _line_of_components()
    for layout in (umap.spectral.component_layout(rows, 3, labels, 2),
                   umap.spectral.component_layout(distances, 3, labels, 2, None,
                                                  metric="precomputed")):
        assert layout.shape == (3, 2) and np.abs(layout).max() == pytest.approx(1.0)
        gap = np.linalg.norm(layout[:, None] - layout[None], axis=-1)
        assert gap[0, 2] > 5 * gap[0, 1] and gap[1, 2] > 5 * gap[0, 1]


def test_component_layout_linkages_differ_and_repeat():
    _, distances, labels = _line_of_components()
    layouts = {linkage: umap.spectral.component_layout(
        distances, 3, labels, 2, None, metric="precomputed", metric_kwds={"linkage": linkage})
        for linkage in ("single", "average", "complete")}
    assert not np.array_equal(layouts["single"], layouts["complete"])
    assert not np.array_equal(layouts["single"], layouts["average"])
    np.testing.assert_array_equal(
        layouts["single"], umap.spectral.component_layout(
            distances, 3, labels, 2, None, metric="precomputed",
            metric_kwds={"linkage": "single"}))
    with pytest.raises(ValueError, match="linkage"):
        umap.spectral.component_layout(distances, 3, labels, 2, metric="precomputed",
                                       metric_kwds={"linkage": "ward"})
    with pytest.raises(ValueError, match="one label per row"):
        umap.spectral.component_layout(distances, 3, labels[:-1], 2, metric="precomputed")


def _finite_difference(function, x, y, step=1e-6):
    return np.array([(function(x + step * e, y) - function(x - step * e, y)) / (2 * step)
                     for e in np.eye(x.shape[0])])


@pytest.mark.parametrize("name", ["euclidean", "cosine", "correlation", "hellinger",
                                  "softmax_hellinger"])
def test_float64_rows_give_float64_accurate_distances(name):
    rng = np.random.RandomState(3)
    distance = umap.distances.named_distances[name]
    gradient = umap.distances.named_distances_with_gradients[name]
    for _ in range(5):
        x, y = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
        value, analytic = gradient(x, y)
        assert distance(x, y) == value  # the same float64 value as the gradient function
        # central differences of a float64 distance agree to ~1e-9 (measured); float32 values
        # would be off by ~1e-2 here
        np.testing.assert_allclose(_finite_difference(distance, x, y), analytic, atol=1e-6)
        # float32 rows: umapx's float32 kernel, within float32 rounding of the float64 value
        assert distance(x.astype(np.float32), y.astype(np.float32)) == pytest.approx(
            value, rel=1e-5, abs=1e-6)


def test_softmax_hellinger_and_mahalanobis_f64():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    softmax = np.exp(x) / np.exp(x).sum(), np.exp(y) / np.exp(y).sum()
    assert umap.distances.softmax_hellinger(x, y) == pytest.approx(
        umap.distances.hellinger(*softmax), rel=1e-12)
    assert umap.distances.softmax_hellinger(x + 100.0, y) == pytest.approx(
        umap.distances.softmax_hellinger(x, y), rel=1e-12)  # softmax ignores a shift
    vinv = np.diag([1.0, 2.0, 4.0])
    assert umap.distances.mahalanobis_f64(x, y, vinv) == pytest.approx(
        np.sqrt((x - y) @ vinv @ (x - y)), rel=1e-12)


def test_unique_on_sparse_rows(tmp_path):
    import scipy.sparse

    rng = np.random.RandomState(0)
    dense = rng.binomial(1, 0.3, size=(60, 12)) * rng.uniform(1.0, 2.0, size=(60, 12))
    dense[[10, 20]] = dense[3]
    dense[[30, 31]] = 0.0
    rows = scipy.sparse.csr_matrix(dense)
    model = umap.UMAP(n_neighbors=5, unique=True, n_epochs=30, random_state=0).fit(rows)
    assert model.embedding_.shape == (60, 2)
    for copy, original in ((10, 3), (20, 3), (31, 30)):
        np.testing.assert_array_equal(model.embedding_[copy], model.embedding_[original])
    assert np.unique(model.embedding_, axis=0).shape[0] == np.unique(dense, axis=0).shape[0]
    again = umap.UMAP(n_neighbors=5, unique=True, n_epochs=30, random_state=0).fit(rows)
    np.testing.assert_array_equal(again.embedding_, model.embedding_)
    placed = model.transform(rows[:5])
    generated = model.inverse_transform(model.embedding_[:3])
    assert placed.shape == (5, 2) and scipy.sparse.issparse(generated)
    model.save(tmp_path / "model.umapx")
    loaded = umap.load(tmp_path / "model.umapx")
    np.testing.assert_array_equal(loaded.embedding_, model.embedding_)
    np.testing.assert_array_equal(loaded.transform(rows[:5]), placed)

"""metric="precomputed" (dense and sparse distance matrices) and precomputed_knn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse
from scipy.spatial.distance import cdist

import umapx
from umapx import evaluation
from umapx.umap_ import nearest_neighbors


@pytest.fixture(scope="module")
def split(clustered):
    data, labels = clustered
    rng = np.random.RandomState(0)
    order = rng.permutation(len(data))
    train, test = order[:170], order[170:]
    return data[train], labels[train], data[test], labels[test]


def _sparse_knn_matrix(distances, k):
    """The ``k`` smallest off-diagonal entries of each row, stored with the diagonal."""
    n = distances.shape[0]
    rows, cols, values = [], [], []
    for i in range(n):
        order = np.argsort(distances[i], kind="stable")[: k + 1]
        rows.extend([i] * len(order))
        cols.extend(order)
        values.extend(distances[i, order])
    return scipy.sparse.csr_matrix((values, (rows, cols)), shape=distances.shape)


PARAMS = {"n_neighbors": 10, "n_epochs": 60, "random_state": 0}


@pytest.mark.parametrize("sparse", [False, True])
def test_precomputed_matches_the_metric_it_was_computed_with(split, sparse):
    train, labels, test, test_labels = split
    distances = cdist(train, train).astype(np.float32)
    matrix = _sparse_knn_matrix(distances, 15) if sparse else distances
    given = umapx.UMAP(metric="precomputed", **PARAMS).fit(matrix)
    direct = umapx.UMAP(**PARAMS).fit(train)
    np.testing.assert_array_equal(given.knn_indices_, direct.knn_indices_)
    np.testing.assert_allclose(given.knn_dists_, direct.knn_dists_, rtol=1e-5, atol=1e-5)
    assert abs(given.graph_ - direct.graph_).max() < 1e-4
    assert given._raw_data is None and given.n_features_in_ == len(train)
    assert evaluation.trustworthiness(train, given.embedding_, n_neighbors=10) > \
        evaluation.trustworthiness(train, direct.embedding_, n_neighbors=10) - 0.01
    # transform: distances from new points to the training points
    new = cdist(test, train).astype(np.float32)
    new = _sparse_knn_matrix(new, 20) if sparse else new
    placed = given.transform(new)
    assert placed.shape == (len(test), 2) and np.all(np.isfinite(placed))
    assert evaluation.transform_accuracy(given.embedding_, labels, placed, test_labels) > 0.95


def test_precomputed_sparse_rows_with_few_distances_get_few_neighbours(split):
    train = split[0]
    matrix = _sparse_knn_matrix(cdist(train, train), 12).tolil()
    matrix[3, :] = 0  # sample 3 keeps no distance at all
    matrix[:, 3] = 0
    matrix = matrix.tocsr()
    matrix.eliminate_zeros()
    with pytest.warns(UserWarning, match="no edge"):
        mapper = umapx.UMAP(metric="precomputed", **PARAMS).fit(matrix)
    assert np.all(mapper.knn_indices_[3, 1:] == -1)
    assert np.all(np.isfinite(mapper.embedding_))


def test_training_rows_transform_to_their_own_embedding(split):
    train = split[0]
    distances = cdist(train, train).astype(np.float32)
    mapper = umapx.UMAP(metric="precomputed", **PARAMS).fit(distances)
    np.testing.assert_array_equal(mapper.transform(distances[:20]), mapper.embedding_[:20])


def test_precomputed_models_have_no_inverse_and_say_why(split):
    train = split[0]
    mapper = umapx.UMAP(metric="precomputed", **PARAMS).fit(cdist(train, train))
    with pytest.raises(ValueError, match="metric='precomputed'"):
        mapper.inverse_transform(mapper.embedding_[:2])


def test_precomputed_save_load_plot_and_determinism(split, tmp_path):
    train, labels, test, _ = split
    distances = cdist(train, train)
    models = [umapx.UMAP(metric="precomputed", n_jobs=n_jobs, **PARAMS).fit(distances)
              for n_jobs in (1, 2)]
    np.testing.assert_array_equal(models[0].embedding_, models[1].embedding_)
    new = cdist(test, train)
    np.testing.assert_array_equal(models[0].transform(new), models[1].set_params(
        n_jobs=1).transform(new))
    models[0].save(tmp_path / "precomputed.umapx")
    loaded = umapx.load(tmp_path / "precomputed.umapx")
    assert loaded._raw_data is None
    np.testing.assert_array_equal(loaded.transform(new), models[0].transform(new))
    with pytest.raises(ValueError, match="metric='precomputed'"):
        loaded.inverse_transform(loaded.embedding_[:1])
    from umapx import plot

    plot.points(loaded, labels=labels)
    plot.diagnostic(loaded, "neighborhood_jaccard")
    with pytest.raises(ValueError, match="needs the input data"):
        plot.diagnostic(loaded, "pca")


def test_precomputed_pca_init_uses_the_distance_rows_as_umap_learn(split):
    train = split[0]
    mapper = umapx.UMAP(metric="precomputed", init="pca", **PARAMS).fit(cdist(train, train))
    assert np.all(np.isfinite(mapper.embedding_))


@pytest.mark.parametrize("matrix, message", [
    (np.ones((5, 6)), "square"),
    (-np.ones((5, 5)), "negative"),
    (np.full((5, 5), np.nan), "NaN"),
    (np.ones((5, 5)), "zero diagonal"),
    (scipy.sparse.csr_matrix(-np.eye(5) + np.ones((5, 5)) * 0), "negative|zero diagonal"),
    (scipy.sparse.csr_matrix(np.ones((5, 5))), "zero diagonal"),
])
def test_bad_distance_matrices_are_refused(matrix, message):
    with pytest.raises(ValueError, match=message):
        umapx.UMAP(metric="precomputed", n_neighbors=3, n_epochs=5).fit(matrix)


def test_bad_transform_distances_are_refused(split):
    train = split[0]
    mapper = umapx.UMAP(metric="precomputed", **PARAMS).fit(cdist(train, train))
    with pytest.raises(ValueError, match="170"):
        mapper.transform(np.ones((3, 20)))
    with pytest.raises(ValueError, match="negative"):
        mapper.transform(-np.ones((3, 170)))
    with pytest.raises(ValueError, match="metric_kwds"):
        umapx.UMAP(metric="precomputed", metric_kwds={"p": 2}).fit(cdist(train, train))


# -- precomputed_knn -----------------------------------------------------------------------------

def test_precomputed_knn_gives_the_same_model_as_searching(split, tmp_path):
    train, _, test, _ = split
    searched = umapx.UMAP(**PARAMS).fit(train)
    knn = nearest_neighbors(train, 10, "euclidean", None, False, 0)
    assert np.array_equal(knn[0][:, 0], np.arange(len(train)))
    for given in (knn, knn[:2], (searched._knn_indices, searched._knn_dists,
                                 searched._knn_search_index)):
        model = umapx.UMAP(precomputed_knn=given, **PARAMS).fit(train)
        np.testing.assert_array_equal(model.embedding_, searched.embedding_)
        np.testing.assert_array_equal(model.transform(test), searched.transform(test))
    model.save(tmp_path / "knn.umapx")
    loaded = umapx.load(tmp_path / "knn.umapx")
    assert loaded.precomputed_knn[2] is loaded._knn_search_index
    np.testing.assert_array_equal(loaded.transform(test), searched.transform(test))


def test_precomputed_knn_with_more_columns_is_cut_and_rows_are_normalised(split):
    train = split[0]
    indices, dists, _ = nearest_neighbors(train, 15, "euclidean", None, False, 0)
    searched = umapx.UMAP(**PARAMS).fit(train)
    wider = umapx.UMAP(precomputed_knn=(indices, dists), **PARAMS).fit(train)
    np.testing.assert_array_equal(wider.knn_indices_, searched.knn_indices_)
    # Rows in another order (self not first) are sorted back.
    shuffled = np.random.RandomState(0).permutation(10)
    reordered = umapx.UMAP(precomputed_knn=(indices[:, :10][:, shuffled],
                                            dists[:, :10][:, shuffled]), **PARAMS).fit(train)
    np.testing.assert_array_equal(reordered.embedding_, searched.embedding_)


def test_precomputed_knn_self_distances_from_rounding_count_as_zero(split):
    """scikit-learn's float32 euclidean k-NN gives points small non-zero distances to
    themselves (up to ~1e-3 on MNIST); umap-learn takes them, and so do we, as 0."""
    train, _, test, _ = split
    indices, dists, _ = nearest_neighbors(train, 10, "euclidean", None, False, 0)
    searched = umapx.UMAP(precomputed_knn=(indices, dists), **PARAMS).fit(train)
    rounded = dists.copy()
    rounded[:, 0] = np.random.RandomState(0).uniform(0.0, 1e-3, len(train))
    model = umapx.UMAP(precomputed_knn=(indices, rounded), **PARAMS).fit(train)
    np.testing.assert_array_equal(model.embedding_, searched.embedding_)
    assert np.all(model._knn_dists[:, 0] == 0)


def test_precomputed_knn_self_distances_beyond_rounding_are_said(split):
    """Self-distances on the scale of the neighbours' come from other data: a warning."""
    train = split[0]
    indices, dists, _ = nearest_neighbors(train, 10, "euclidean", None, False, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rounding-size self-distances pass silently
        noisy = dists.copy()
        noisy[:, 0] = 1e-6 * dists[:, -1]
        umapx.UMAP(precomputed_knn=(indices, noisy), **PARAMS).fit(train)
    wrong = dists.copy()
    wrong[:, 0] = dists[:, 1]
    with pytest.warns(UserWarning, match="distance to themselves"):
        umapx.UMAP(precomputed_knn=(indices, wrong), **PARAMS).fit(train)


def test_precomputed_knn_on_large_data_builds_a_search_index():
    rng = np.random.RandomState(1)
    data = rng.normal(size=(9000, 5)).astype(np.float32)
    knn = nearest_neighbors(data, 10, "euclidean", None, False, 0)
    model = umapx.UMAP(precomputed_knn=knn[:2], n_neighbors=10, n_epochs=5,
                       random_state=0).fit(data)
    assert model._knn_search_index.method == "nndescent"
    found, _ = model._knn_search_index.query(data[:200] + 0.001, 10)
    truth = np.argsort(cdist(data[:200] + 0.001, data), axis=1)[:, :10]
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
    assert recall > 0.9


def test_precomputed_knn_with_precomputed_metric(split):
    train, _, test, _ = split
    distances = cdist(train, train)
    knn = nearest_neighbors(distances, 10, "precomputed", None, False, 0)
    plain = umapx.UMAP(metric="precomputed", **PARAMS).fit(distances)
    model = umapx.UMAP(metric="precomputed", precomputed_knn=knn, **PARAMS).fit(distances)
    np.testing.assert_array_equal(model.embedding_, plain.embedding_)
    np.testing.assert_array_equal(model.transform(cdist(test, train)),
                                  plain.transform(cdist(test, train)))


def test_precomputed_knn_that_umap_learn_ignores_is_ignored_with_a_warning(split):
    train = split[0]
    indices, dists, _ = nearest_neighbors(train, 5, "euclidean", None, False, 0)
    searched = umapx.UMAP(**PARAMS).fit(train)
    with pytest.warns(UserWarning, match="fewer than n_neighbors"):
        model = umapx.UMAP(precomputed_knn=(indices, dists), **PARAMS).fit(train)
    np.testing.assert_array_equal(model.embedding_, searched.embedding_)
    indices, dists, _ = nearest_neighbors(train[:100], 10, "euclidean", None, False, 0)
    with pytest.warns(UserWarning, match="100 rows"):
        umapx.UMAP(precomputed_knn=(indices, dists), **PARAMS).fit(train)


@pytest.mark.parametrize("change, message", [
    (lambda i, d: (i, d[:, :5]), "same shape"),
    (lambda i, d: (i.astype(float), d), "integer"),
    (lambda i, d: (i + 1000, d), "outside"),
    (lambda i, d: (i, -d), "distances >= 0"),
    (lambda i, d: (np.roll(i, 1, axis=0), d), "its own index"),
    (lambda i, d: (i.tolist(), d), "numpy array"),
    (lambda i, d: (i, d, "index"), "NeighborIndex"),
])
def test_bad_precomputed_knn_is_refused(change, message, split):
    train = split[0]
    indices, dists, _ = nearest_neighbors(train, 10, "euclidean", None, False, 0)
    with pytest.raises(ValueError, match=message):
        umapx.UMAP(precomputed_knn=change(indices, dists), **PARAMS).fit(train)


def test_precomputed_knn_index_of_other_data_is_refused(split):
    train = split[0]
    knn = nearest_neighbors(train, 10, "euclidean", None, False, 0)
    other = nearest_neighbors(train, 10, "cosine", None, False, 0)
    with pytest.raises(ValueError, match="index over"):
        umapx.UMAP(precomputed_knn=(knn[0], knn[1], other[2]), **PARAMS).fit(train)

"""The names code written for umap-learn imports: umapx.umap_, distances, spectral, utils,
validation, plot.diagnostic("all"), and scikit-learn's feature names and set_output."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import scipy.sparse
from scipy.spatial.distance import cdist

import umapx
import umapx as umap


@pytest.fixture(scope="module")
def data(clustered):
    return clustered[0]


@pytest.fixture(scope="module")
def fitted(data):
    return umapx.UMAP(n_neighbors=10, n_epochs=50, random_state=0).fit(data)


def test_submodules_are_reachable_as_in_umap_learn():
    import umapx.distances
    import umapx.spectral
    import umapx.umap_
    import umapx.utils
    import umapx.validation

    assert umap.umap_.UMAP is umapx.UMAP
    for module in (umap.umap_, umap.distances, umap.spectral, umap.utils, umap.validation):
        assert module.__all__ and all(hasattr(module, name) for name in module.__all__)


@pytest.mark.parametrize("function, parameters", [
    ("nearest_neighbors", ["X", "n_neighbors", "metric", "metric_kwds", "angular",
                           "random_state", "low_memory", "use_pynndescent", "n_jobs", "verbose"]),
    ("fuzzy_simplicial_set", ["X", "n_neighbors", "random_state", "metric", "metric_kwds",
                              "knn_indices", "knn_dists", "angular", "set_op_mix_ratio",
                              "local_connectivity", "apply_set_operations", "verbose",
                              "return_dists"]),
    ("simplicial_set_embedding", ["data", "graph", "n_components", "initial_alpha", "a", "b",
                                  "gamma", "negative_sample_rate", "n_epochs", "init",
                                  "random_state", "metric", "metric_kwds", "densmap",
                                  "densmap_kwds", "output_dens", "output_metric",
                                  "output_metric_kwds", "euclidean_output", "parallel",
                                  "verbose", "tqdm_kwds"]),
    ("find_ab_params", ["spread", "min_dist"]),
    ("smooth_knn_dist", ["distances", "k", "n_iter", "local_connectivity", "bandwidth"]),
])
def test_umap_module_signatures_are_umap_learns(function, parameters):
    assert list(inspect.signature(getattr(umap.umap_, function)).parameters) == parameters


def test_nearest_neighbors(data):
    indices, dists, index = umap.umap_.nearest_neighbors(data, 10, "euclidean", {}, False, 0)
    assert indices.shape == dists.shape == (len(data), 10)
    truth = np.sort(cdist(data, data), axis=1)[:, :10]
    np.testing.assert_allclose(dists, truth, rtol=1e-5, atol=1e-5)
    assert np.array_equal(indices[:, 0], np.arange(len(data)))
    found, _ = index.query(data[:5] + 0.01, 3)
    assert found.shape == (5, 3)
    cosine = umap.umap_.nearest_neighbors(data, 5, "cosine", None, True, 0)
    np.testing.assert_allclose(cosine[1], np.sort(cdist(data, data, "cosine"), axis=1)[:, :5],
                               atol=1e-5)


def test_fuzzy_simplicial_set_is_the_models_graph(data, fitted):
    graph, sigmas, rhos = umap.umap_.fuzzy_simplicial_set(data, 10, 0, "euclidean")
    assert isinstance(graph, scipy.sparse.coo_matrix)
    assert abs(graph.tocsr() - fitted.graph_).max() < 1e-6
    np.testing.assert_allclose(sigmas, fitted.sigmas_, rtol=1e-6)
    same = umap.umap_.fuzzy_simplicial_set(None, 10, 0, "euclidean",
                                           knn_indices=fitted.knn_indices_,
                                           knn_dists=fitted.knn_dists_)[0]
    assert abs(same.tocsr() - fitted.graph_).max() == 0
    directed = umap.umap_.fuzzy_simplicial_set(data, 10, 0, "euclidean",
                                               apply_set_operations=False)[0].tocsr()
    assert np.all(np.diff(directed.indptr) <= 9)  # each row its own 9 neighbours only
    assert abs(directed - directed.T).max() > 0
    *_, dists = umap.umap_.fuzzy_simplicial_set(data, 10, 0, "euclidean", return_dists=True)
    assert abs(dists - dists.T).max() == 0 and dists.nnz > 0


def test_simplicial_set_embedding_lays_out_a_graph(data, fitted):
    graph = fitted.graph_
    a, b = umap.umap_.find_ab_params(1.0, 0.1)
    assert (a, b) == pytest.approx((fitted.a_, fitted.b_))
    embedding, aux = umap.umap_.simplicial_set_embedding(
        data, graph, 2, 1.0, a, b, 1.0, 5, 50, "spectral", 0, "euclidean", {}, False, {}, False)
    assert embedding.shape == (len(data), 2) and aux == {}
    from umapx import evaluation

    assert evaluation.trustworthiness(data, embedding, n_neighbors=10) > 0.9
    _, aux = umap.umap_.simplicial_set_embedding(
        data, graph, 2, 1.0, a, b, 1.0, 5, [10, 20], "random", 0, "euclidean", {}, False, {},
        False)
    assert len(aux["embedding_list"]) == 2
    sphere, _ = umap.umap_.simplicial_set_embedding(
        data, graph, 2, 1.0, a, b, 1.0, 5, 20, "spectral", 0, "euclidean", {}, False, {},
        False, output_metric="haversine", euclidean_output=False)
    assert np.all(np.isfinite(sphere))
    with pytest.raises(ValueError, match="graph_dists"):
        umap.umap_.simplicial_set_embedding(data, graph, 2, 1.0, a, b, 1.0, 5, 5, "random", 0,
                                            "euclidean", {}, True, {}, False)
    _, _, _, graph_dists = umap.umap_.fuzzy_simplicial_set(data, fitted.n_neighbors, 0,
                                                           "euclidean", return_dists=True)
    dens, aux = umap.umap_.simplicial_set_embedding(
        data, graph, 2, 1.0, a, b, 1.0, 5, 30, "random", 0, "euclidean", {}, True,
        {"graph_dists": graph_dists, "lambda": 2.0}, True)
    assert np.all(np.isfinite(dens)) and aux["rad_orig"].shape == aux["rad_emb"].shape \
        == (len(data),)


def test_graph_building_blocks(fitted):
    sigmas, rhos = umap.umap_.smooth_knn_dist(fitted.knn_dists_, 10)
    np.testing.assert_array_equal(sigmas, fitted.sigmas_)
    rows, cols, vals = umap.umap_.compute_membership_strengths(
        fitted.knn_indices_, fitted.knn_dists_, sigmas, rhos)
    assert np.all(vals[cols == rows] == 0) and vals.max() == 1.0
    *_, dists = umap.umap_.compute_membership_strengths(
        fitted.knn_indices_, fitted.knn_dists_, sigmas, rhos, return_dists=True)
    assert dists.shape == vals.shape
    epochs = umap.umap_.make_epochs_per_sample(np.array([1.0, 0.5, 0.0]), 10)
    np.testing.assert_allclose(epochs, [1.0, 2.0, -1.0])


def test_spectral_layout(fitted, data):
    layout = umap.spectral.spectral_layout(data, fitted.graph_, 2, 0)
    assert layout.shape == (len(data), 2) and np.all(np.isfinite(layout))
    np.testing.assert_array_equal(layout, umap.spectral.spectral_layout(data, fitted.graph_, 2,
                                                                        0))
    np.testing.assert_array_equal(
        umap.spectral.tswspectral_layout(data, fitted.graph_, 2, 0), layout)


def test_utils(fitted, data):
    assert not umap.utils.disconnected_vertices(fitted).any()
    distances = cdist(data[:30], data[:30])
    np.testing.assert_array_equal(umap.utils.fast_knn_indices(distances, 4),
                                  np.argsort(distances, axis=1, kind="stable")[:, :4])
    indices = umap.utils.fast_knn_indices(distances, 4)
    np.testing.assert_array_equal(umap.utils.submatrix(distances, indices, 4),
                                  np.sort(distances, axis=1)[:, :4])
    nearest = np.sort(distances, axis=1)[:, 1].mean()
    assert umap.utils.average_nn_distance(distances) == pytest.approx(nearest)
    assert umap.utils.average_nn_distance(scipy.sparse.csr_matrix(distances)) == \
        pytest.approx(nearest)
    rows = scipy.sparse.csr_matrix(np.array([[1, 0, 2], [0, 0, 0], [1, 0, 2], [0, 3, 0],
                                             [0, 0, 0]], dtype=float))
    unique, index, inverse, counts = umap.utils.csr_unique(rows)
    assert unique.shape[0] == 3 and list(counts) == [2, 2, 1]
    assert (unique[inverse] != rows).nnz == 0 and list(index) == [0, 1, 3]
    assert isinstance(umap.utils.ts(), str)


def test_trustworthiness_vector_matches_scikit_learn(data, fitted):
    from sklearn.manifold import trustworthiness

    vector = umap.validation.trustworthiness_vector(data, fitted.embedding_, 12)
    assert vector.shape == (13,) and vector[0] == 1.0
    for k in (1, 5, 12):
        assert vector[k] == pytest.approx(trustworthiness(data, fitted.embedding_,
                                                          n_neighbors=k), abs=1e-9)
    # The source orderings from the float32 distances trustworthiness_vector ranks by: float64
    # ones can order a near-tied pair the other way (one row of this data does).
    from umapx.metrics import resolve_metric

    distances = resolve_metric("euclidean").bind(data).pairwise(data, data).astype(np.float64)
    np.fill_diagonal(distances, -np.inf)
    order = np.argsort(distances, axis=1, kind="stable")
    embedded = np.argsort(cdist(fitted.embedding_, fitted.embedding_), axis=1,
                          kind="stable")[:, 1:13]
    bulk = umap.validation.trustworthiness_vector_bulk(order, embedded, 12)
    np.testing.assert_allclose(bulk, vector, atol=1e-9)


# -- plot.diagnostic("all") ------------------------------------------------------------------------

def test_diagnostic_all_draws_the_four_in_a_grid(fitted):
    import matplotlib.pyplot as plt

    axes = umap.plot.diagnostic(fitted, diagnostic_type="all")
    assert axes.shape == (2, 2)
    titles = [ax.get_title() for ax in axes.flat]
    assert titles[0].startswith("First three PCA") and titles[1].startswith("First three ICA")
    assert titles[2].startswith("Local dimension") and titles[3].startswith("Jaccard")
    assert len({ax.figure for ax in axes.flat}) == 1
    values = umap.plot.diagnostic(fitted, "all", return_diagnostics=True, plot_result=False)
    assert set(values) == {"pca", "ica", "local_dim", "neighborhood_jaccard"}
    assert values["pca"].shape == (len(fitted.embedding_), 3)
    plt.close("all")


# -- scikit-learn: feature names, set_output, pipelines -----------------------------------------

def test_feature_names_out(fitted):
    assert list(fitted.get_feature_names_out()) == ["umap0", "umap1"]
    three = umapx.UMAP(n_components=3, n_epochs=5, n_neighbors=5).fit(np.random.rand(30, 4))
    assert list(three.get_feature_names_out()) == ["umap0", "umap1", "umap2"]
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        umapx.UMAP().get_feature_names_out()


def test_set_output_pandas_in_a_pipeline_and_feature_union(data):
    pd = pytest.importorskip("pandas")
    from sklearn.decomposition import PCA
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.DataFrame(data, columns=[f"f{i}" for i in range(data.shape[1])],
                         index=np.arange(100, 100 + len(data)))
    mapper = umapx.UMAP(n_neighbors=10, n_epochs=20, random_state=0).set_output(
        transform="pandas")
    embedded = mapper.fit_transform(frame)
    assert list(embedded.columns) == ["umap0", "umap1"]
    assert list(embedded.index) == list(frame.index)
    placed = mapper.transform(frame.iloc[:5])
    assert isinstance(placed, pd.DataFrame) and list(placed.index) == list(frame.index[:5])
    pipeline = make_pipeline(StandardScaler(), umapx.UMAP(n_neighbors=10, n_epochs=20,
                                                          random_state=0))
    pipeline.set_output(transform="pandas")
    assert list(pipeline.fit_transform(frame).columns) == ["umap0", "umap1"]
    union = FeatureUnion([("pca", PCA(n_components=2)),
                          ("umap", umapx.UMAP(n_neighbors=10, n_epochs=20, random_state=0))])
    union.set_output(transform="pandas")
    combined = union.fit_transform(frame)
    assert list(combined.columns) == ["pca__pca0", "pca__pca1", "umap__umap0", "umap__umap1"]
    assert np.all(np.isfinite(combined.to_numpy()))
    default = umapx.UMAP(n_neighbors=10, n_epochs=20, random_state=0).fit(frame)
    assert isinstance(default.transform(frame.iloc[:3]), np.ndarray)


def test_embedding_can_be_replaced_as_umap_learn_users_do(data):
    mapper = umapx.UMAP(n_neighbors=10, n_epochs=30, random_state=0).fit(data)
    placed = mapper.transform(data[:5] + 0.05)
    mapper.embedding_ = mapper.embedding_.astype(np.float64) + 5.0  # forces see differences
    assert mapper.embedding_.dtype == np.float32
    moved = mapper.transform(data[:5] + 0.05)
    np.testing.assert_allclose(moved, placed + 5.0, atol=1e-3)
    assert mapper.inverse_transform(mapper.embedding_[:3]).shape == (3, data.shape[1])
    with pytest.raises(ValueError, match="shape"):
        mapper.embedding_ = np.zeros((3, 2))
    with pytest.raises(AttributeError, match="cannot be set"):
        mapper.graph_ = None

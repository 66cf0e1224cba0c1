"""Sparse input through the estimator, as umap-learn users pass it: fit, transform,
inverse_transform (sparse rows back), save/load, bad input, determinism, low_memory, and a
TF-IDF text corpus end to end."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph
from sklearn.feature_extraction.text import TfidfTransformer

import umapx
from umapx import evaluation
from umapx.datasets import make_topic_corpus
from umapx.inverse import InverseModel
from umapx.inverse_sparse import SparseInverseModel
from umapx.metrics import resolve_metric
from umapx.persistence import ModelFormatError


def _tfidf(n_documents=600, seed=0, topic_share=0.3, n_words=1500, n_topics=4):
    counts, topics = make_topic_corpus(n_documents=n_documents, n_words=n_words,
                                       n_topics=n_topics, document_length=60,
                                       topic_share=topic_share, words_per_topic=100,
                                       random_state=seed)
    return TfidfTransformer().fit_transform(counts), topics, counts


@pytest.fixture(scope="module")
def corpus():
    return _tfidf()


@pytest.fixture(scope="module")
def cosine_model(corpus):
    tfidf, topics, _ = corpus
    return umapx.UMAP(metric="cosine", random_state=0, n_epochs=60).fit(tfidf[:500])


# ----------------------------------------------------------------------------------------------
# Fit
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("convert", [
    lambda X: X.tocsc(), lambda X: X.tocoo(), lambda X: scipy.sparse.csr_array(X),
    lambda X: X.astype(np.float32),
    lambda X: scipy.sparse.csr_matrix((X.data, X.indices.astype(np.int64),
                                       X.indptr.astype(np.int64)), shape=X.shape),
], ids=["csc", "coo", "csr_array", "float32", "int64-indices"])
def test_every_sparse_format_gives_the_same_model(corpus, cosine_model, convert):
    tfidf = corpus[0][:500]
    given = convert(tfidf)
    model = umapx.UMAP(metric="cosine", random_state=0, n_epochs=60).fit(given)
    np.testing.assert_array_equal(model.embedding_, cosine_model.embedding_)
    assert scipy.sparse.issparse(model._raw_data)
    assert model.n_features_in_ == tfidf.shape[1]


def test_fit_never_changes_the_users_matrix():
    tfidf, _, _ = _tfidf(200, seed=3)
    coo = tfidf.tocoo()
    order = np.random.RandomState(0).permutation(coo.nnz)  # unsorted indices in every row
    messy = scipy.sparse.csr_matrix((coo.data[order], (coo.row[order], coo.col[order])),
                                    shape=tfidf.shape)
    messy = scipy.sparse.csr_matrix((messy.data, messy.indices, messy.indptr), shape=messy.shape)
    snapshot = [messy.data.copy(), messy.indices.copy(), messy.indptr.copy()]
    umapx.UMAP(metric="cosine", random_state=0, n_epochs=10).fit(messy)
    for before, after in zip(snapshot, [messy.data, messy.indices, messy.indptr]):
        np.testing.assert_array_equal(before, after)


SPARSE_METRICS = ["euclidean", "manhattan", "chebyshev", "minkowski", "cosine", "correlation",
                  "canberra", "braycurtis", "hellinger", "ll_dirichlet", "jaccard", "dice",
                  "hamming", "matching", "kulsinski", "rogerstanimoto", "russellrao",
                  "sokalmichener", "sokalsneath"]


def test_the_sparse_metrics_are_umap_learns():
    from umapx.metrics import metric_names

    assert sorted(metric_names(lambda spec: spec.sparse)) == sorted(SPARSE_METRICS)


@pytest.mark.parametrize("metric", SPARSE_METRICS)
def test_sparse_and_dense_fits_find_the_same_neighbours(metric):
    """Every sparse metric against the dense metric of the same name on the densified rows:
    the same neighbour distances (rows compared sorted, so ties may order either way) and,
    where distances are distinct, the same neighbours."""
    tfidf, _, counts = _tfidf(250, seed=11, n_words=600)
    data = counts if metric == "ll_dirichlet" else tfidf
    models = [umapx.UMAP(metric=metric, random_state=1, n_epochs=0, init="random",
                         n_neighbors=10).fit(x) for x in (data, data.toarray())]
    sparse_d, dense_d = (m.fitted_state.knn_dists for m in models)
    # ll_dirichlet: the sparse kernel takes exact log-gamma values, the dense one umap-learn's
    # approximation (below 1% apart).
    rtol = 1e-2 if metric == "ll_dirichlet" else 1e-4
    np.testing.assert_allclose(sparse_d, dense_d, rtol=rtol, atol=2e-6)
    sparse_i, dense_i = (m.fitted_state.knn_indices for m in models)
    distinct = np.all(np.diff(dense_d, axis=1) > 1e-4 * (1 + dense_d[:, 1:]), axis=1)
    np.testing.assert_array_equal(sparse_i[distinct, :2], dense_i[distinct, :2])


def test_approximate_search_on_sparse_rows_has_high_recall():
    tfidf, _, _ = _tfidf(1500, seed=4, n_words=3000, n_topics=6)
    for metric in ("cosine", "euclidean", "hellinger"):
        data = tfidf if metric != "hellinger" else abs(tfidf)
        exact = umapx.UMAP(metric=metric, n_epochs=0, init="random", random_state=2,
                           knn_method="exact").fit(data)
        approx = umapx.UMAP(metric=metric, n_epochs=0, init="random", random_state=2,
                            knn_method="nndescent").fit(data)
        recall = np.mean([len(set(a) & set(b)) / len(a)
                          for a, b in zip(exact.knn_indices_, approx.knn_indices_)])
        assert recall > 0.95, (metric, recall)
        # Queries of the NN-descent index find the exact neighbours of new points too.
        placed = approx.fitted_state.index.query(data[:200], 15)[0]
        truth = exact.fitted_state.index.query(data[:200], 15)[0]
        recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(placed, truth)])
        assert recall > 0.95, (metric, recall)


@pytest.mark.parametrize("metric", ["hellinger", "ll_dirichlet", "jaccard", "dice",
                                    "kulsinski", "rogerstanimoto", "russellrao",
                                    "sokalmichener", "sokalsneath", "matching", "hamming",
                                    "canberra", "braycurtis", "chebyshev", "minkowski"])
def test_fit_and_transform_with_each_sparse_metric(metric):
    _, topics, counts = _tfidf(300, seed=5)
    model = umapx.UMAP(metric=metric, random_state=0, n_epochs=30).fit(counts)
    assert np.all(np.isfinite(model.embedding_))
    placed = model.transform(counts[:20])
    np.testing.assert_array_equal(placed, model.embedding_[:20])  # exact copies


def test_pca_init_and_disconnected_components_on_sparse_data():
    # Two groups of documents with disjoint vocabularies: a disconnected graph, laid out per
    # component (placed by the sparse data's centroids).
    first, _, _ = _tfidf(150, seed=6, n_words=800)
    second, _, _ = _tfidf(150, seed=7, n_words=800)
    X = scipy.sparse.block_diag([first, second]).tocsr()
    for init in ("spectral", "pca"):
        model = umapx.UMAP(metric="cosine", random_state=0, n_epochs=50, n_neighbors=10,
                           init=init).fit(X)
        assert scipy.sparse.csgraph.connected_components(model.graph_)[0] >= 2
        assert np.all(np.isfinite(model.embedding_))
        groups = np.repeat([0, 1], 150)
        assert evaluation.knn_accuracy(model.embedding_, groups) == 1.0


def test_spectral_failure_falls_back_to_truncated_svd_on_sparse_data(corpus, monkeypatch):
    from umapx import init

    monkeypatch.setattr(init, "_component_spectral", lambda *args: None)
    tfidf = corpus[0][:300]
    with pytest.warns(RuntimeWarning, match="spectral initialisation failed"):
        fallback = umapx.UMAP(metric="cosine", n_epochs=0, random_state=0).fit(tfidf)
    pca = umapx.UMAP(metric="cosine", n_epochs=0, random_state=0, init="pca").fit(tfidf)
    if scipy.sparse.csgraph.connected_components(pca.graph_)[0] == 1:
        assert np.corrcoef(fallback.embedding_[:, 0], pca.embedding_[:, 0])[0, 1] > 0.99
    assert np.all(np.isfinite(fallback.embedding_))


# ----------------------------------------------------------------------------------------------
# Transform
# ----------------------------------------------------------------------------------------------


def test_transform_depends_on_the_row_only(corpus, cosine_model):
    tfidf = corpus[0]
    new = tfidf[500:]
    together = cosine_model.transform(new)
    apart = np.vstack([cosine_model.transform(new[i : i + 7]) for i in range(0, 100, 7)])
    np.testing.assert_array_equal(together, apart)
    np.testing.assert_array_equal(cosine_model.transform(tfidf[:30]),
                                  cosine_model.embedding_[:30])
    # The same rows given dense or in another sparse format.
    np.testing.assert_array_equal(cosine_model.transform(new.toarray()), together)
    np.testing.assert_array_equal(cosine_model.transform(scipy.sparse.csc_array(new)), together)


def test_transform_places_documents_with_their_topic(corpus, cosine_model):
    tfidf, topics, _ = corpus
    placed = cosine_model.transform(tfidf[500:])
    accuracy = evaluation.transform_accuracy(cosine_model.embedding_, topics[:500], placed,
                                             topics[500:])
    assert accuracy > 0.9


# ----------------------------------------------------------------------------------------------
# Inverse transform
# ----------------------------------------------------------------------------------------------


def test_inverse_transform_returns_sparse_rows(corpus, cosine_model):
    points = cosine_model.embedding_[:20] + 0.05
    samples, confidence = cosine_model.inverse_transform(points, return_confidence=True)
    assert isinstance(samples, scipy.sparse.csr_matrix) and samples.shape == (20, 1500)
    assert samples.dtype == np.float32 and np.all(np.isfinite(samples.data))
    assert np.all(samples.data != 0)
    assert confidence.shape == (20,) and np.all((confidence > 0) & (confidence <= 1))
    # A generated document lies near the documents it was generated among: transformed back,
    # it lands far closer to its point than two random documents lie apart (median ratio
    # 0.09-0.15 over seeds 0-3; a sample unrelated to its point would give about 1).
    near = cosine_model.transform(samples)
    embedding = cosine_model.embedding_
    pairs = np.random.RandomState(0).randint(0, len(embedding), size=(2, 2000))
    spread = np.median(np.linalg.norm(embedding[pairs[0]] - embedding[pairs[1]], axis=1))
    assert np.median(np.linalg.norm(near - points, axis=1)) < 0.3 * spread
    array_model = umapx.UMAP(metric="cosine", random_state=0, n_epochs=10).fit(
        scipy.sparse.csr_array(corpus[0][:300]))
    assert isinstance(array_model.inverse_transform(points[:3]), scipy.sparse.csr_array)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine", "chebyshev",
                                    "minkowski", "canberra", "braycurtis"])
def test_sparse_inverse_equals_the_dense_method(corpus, metric):
    tfidf = corpus[0][:300].astype(np.float32)
    resolved = resolve_metric(metric, {"p": 3} if metric == "minkowski" else None)
    rng = np.random.RandomState(0)
    embedding = rng.normal(size=(300, 2)).astype(np.float32)
    points = np.vstack([embedding[:40] + 0.1, rng.normal(scale=3, size=(10, 2))])
    args = (embedding, resolved, 1.6, 0.9, 15)
    sparse_model = SparseInverseModel(umapx.sparse.canonical_csr(tfidf), *args)
    dense_model = InverseModel(tfidf.toarray(), *args)
    found, found_support = sparse_model.generate(points, 15)
    expected, expected_support = dense_model.generate(points, 15)
    np.testing.assert_allclose(found.toarray(), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(found_support, expected_support)


def test_inverse_transform_of_sparse_correlation_is_refused(corpus):
    model = umapx.UMAP(metric="correlation", random_state=0, n_epochs=5).fit(corpus[0][:200])
    with pytest.raises(ValueError, match="correlation.*dense rows"):
        model.inverse_transform(model.embedding_[:2])


def test_inverse_transform_depends_on_the_point_only(cosine_model):
    points = np.random.RandomState(1).normal(scale=4, size=(60, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = cosine_model.inverse_transform(points)
        apart = scipy.sparse.vstack([cosine_model.inverse_transform(points[i : i + 9])
                                     for i in range(0, 60, 9)])
    assert (together != apart).nnz == 0


# ----------------------------------------------------------------------------------------------
# Save and load
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["exact", "nndescent"])
def test_save_load_round_trip(corpus, tmp_path, method):
    tfidf = scipy.sparse.csr_array(corpus[0][:500])
    model = umapx.UMAP(metric="cosine", random_state=0, n_epochs=20, knn_method=method).fit(tfidf)
    path = tmp_path / "sparse.umapx"
    model.save(path)
    loaded = umapx.load(path)
    assert isinstance(loaded._raw_data, scipy.sparse.csr_array)
    assert loaded._raw_data.indices.dtype == loaded._raw_data.indptr.dtype == np.int32
    assert (loaded._raw_data != model._raw_data).nnz == 0
    new = corpus[0][500:]
    np.testing.assert_array_equal(loaded.transform(new), model.transform(new))
    points = model.embedding_[:10] + 0.1
    assert (loaded.inverse_transform(points) != model.inverse_transform(points)).nnz == 0


def test_sparse_model_files_hold_csr_entries_in_place_of_training_data(cosine_model, tmp_path):
    import json
    import zipfile

    cosine_model.save(tmp_path / "sparse.umapx")
    with zipfile.ZipFile(tmp_path / "sparse.umapx") as archive:
        metadata = json.loads(archive.read("metadata.json"))
        names = set(archive.namelist())
    assert metadata["format_version"] == 2  # needs nothing of version 3 (unique=True models)
    assert metadata["sparse_training_data"] == {"container": "csr_matrix"}
    assert {"training_data_data.npy", "training_data_indices.npy",
            "training_data_indptr.npy"} <= names
    assert "training_data.npy" not in names


@pytest.mark.parametrize("entry, value, message", [
    ("training_data_indptr.npy", lambda a: a[::-1].copy(), "not canonical CSR"),
    ("training_data_indices.npy", lambda a: a + 10_000, "column index outside"),
    ("training_data_indices.npy", lambda a: a[::-1].copy(), "unsorted"),
    ("training_data_data.npy", lambda a: np.where(np.arange(len(a)) == 3, np.nan, a)
     .astype(np.float32), "non-finite"),
    ("training_data_data.npy", lambda a: a[:-1].copy(), "differ in length"),
])
def test_corrupt_sparse_training_data_is_refused(cosine_model, tmp_path, entry, value, message):
    """Crafted files (sealed with a valid checksum, so that the content checks are reached)."""
    from model_files import rewrite

    source = tmp_path / "model.umapx"
    cosine_model.save(source)
    with np.load(source) as archive:
        original = archive[entry[:-len(".npy")]]
    target = rewrite(source, tmp_path / "bad.umapx", replace={entry: value(original)})
    with pytest.raises(ModelFormatError, match=message):
        umapx.load(target)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


def test_bad_sparse_input_gets_clear_errors(corpus, cosine_model):
    tfidf = corpus[0][:100].astype(np.float64)
    with_nan = tfidf.copy()
    with_nan.data[5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        umapx.UMAP().fit(with_nan)
    with pytest.raises(ValueError, match="NaN or infinity"):
        cosine_model.transform(with_nan)
    with pytest.raises(ValueError, match="1500 features"):
        cosine_model.transform(tfidf[:, :200])
    with pytest.raises(TypeError, match="complex"):
        umapx.UMAP().fit(tfidf.astype(np.complex128))
    with pytest.warns(UserWarning, match="using n_neighbors=9 instead"):
        few = umapx.UMAP(n_epochs=10).fit(tfidf[:10])
    assert few.fitted_state.n_neighbors == 9
    with pytest.raises(ValueError, match="all 20 samples of X are identical"):
        umapx.UMAP().fit(scipy.sparse.csr_matrix(np.ones((20, 5))))


def test_metrics_without_a_sparse_kernel_are_named(corpus):
    import numba

    @numba.njit
    def user_metric(x, y):
        return np.abs(x - y).sum()

    with pytest.raises(ValueError, match="a user metric function has no sparse kernel.*cosine"):
        umapx.UMAP(metric=user_metric).fit(corpus[0][:100])
    with pytest.raises(ValueError, match="hellinger.*non-negative"):
        umapx.UMAP(metric="hellinger").fit(corpus[0][:100] - corpus[0][100:200])
    with pytest.raises(ValueError, match="metric='yule' has no sparse kernel"):
        umapx.UMAP(metric="yule").fit(corpus[0][:100])
    with pytest.raises(ValueError, match="ll_dirichlet.*positive total"):
        umapx.UMAP(metric="ll_dirichlet").fit(corpus[0][:100].multiply(
            (np.arange(100) > 0)[:, None]).tocsr())


def test_empty_rows_are_allowed():
    tfidf, _, _ = _tfidf(200, seed=8)
    tfidf = tfidf.tolil()
    tfidf[:5] = 0
    model = umapx.UMAP(metric="cosine", random_state=0, n_epochs=20).fit(tfidf.tocsr())
    assert np.all(np.isfinite(model.embedding_))
    assert np.all(np.isfinite(model.transform(tfidf[:5].tocsr())))


# ----------------------------------------------------------------------------------------------
# Determinism and low_memory
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["exact", "nndescent"])
def test_same_results_whatever_n_jobs_and_low_memory(corpus, method):
    tfidf = corpus[0]
    fits = []
    for n_jobs, low_memory in ((1, True), (2, True), (2, False)):
        model = umapx.UMAP(metric="cosine", random_state=3, n_epochs=30, knn_method=method,
                           n_jobs=n_jobs, low_memory=low_memory).fit(tfidf[:500])
        points = model.embedding_[:15] + 0.2
        fits.append((model.embedding_, model.transform(tfidf[500:]),
                     model.inverse_transform(points).toarray()))
    for other in fits[1:]:
        for a, b in zip(fits[0], other):
            np.testing.assert_array_equal(a, b)


def test_low_memory_false_builds_the_search_graph_at_fit(corpus):
    tfidf = corpus[0][:500]
    eager = umapx.UMAP(metric="cosine", n_epochs=0, init="random", knn_method="nndescent",
                       low_memory=False).fit(tfidf)
    lazy = umapx.UMAP(metric="cosine", n_epochs=0, init="random", knn_method="nndescent",
                      low_memory=True).fit(tfidf)
    index_type = type(lazy.fitted_state.index)
    assert index_type.search_graph.is_built(eager.fitted_state.index)
    assert not index_type.search_graph.is_built(lazy.fitted_state.index)


# ----------------------------------------------------------------------------------------------
# A TF-IDF text corpus end to end
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tfidf_corpus_embedding_separates_topics(seed):
    tfidf, topics, _ = _tfidf(1500, seed=seed, topic_share=0.15, n_words=4000, n_topics=6)
    model = umapx.UMAP(metric="cosine", random_state=seed, n_epochs=150).fit(tfidf)
    accuracy = evaluation.knn_accuracy(model.embedding_, topics)
    chance = evaluation.knn_accuracy(model.embedding_, np.random.RandomState(seed)
                                     .permutation(topics))
    assert accuracy > 0.9 and chance < 0.4, (accuracy, chance)
    trust = evaluation.trustworthiness(tfidf, model.embedding_, metric="cosine")
    assert trust > 0.75


# ----------------------------------------------------------------------------------------------
# Diagnostics of a sparse model
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pca", "ica", "local_dim", "neighborhood"])
def test_diagnostic_plots_of_a_sparse_model(cosine_model, kind):
    import matplotlib.pyplot as plt

    ax = umapx.plot.diagnostic(cosine_model, diagnostic_type=kind)
    assert ax is not None
    plt.close("all")


def test_local_dimension_of_sparse_rows_equals_dense():
    tfidf, _, _ = _tfidf(200, seed=9)
    neighbours = np.argsort(np.random.RandomState(0).rand(200, 200), axis=1)[:, :12]
    np.testing.assert_array_equal(evaluation.local_dimension(tfidf, neighbours),
                                  evaluation.local_dimension(tfidf.toarray(), neighbours))


# ----------------------------------------------------------------------------------------------
# umap-learn's entry points on sparse data
# ----------------------------------------------------------------------------------------------


def test_nearest_neighbors_and_precomputed_knn_on_sparse_data(corpus):
    from umapx.umap_ import nearest_neighbors

    tfidf = corpus[0][:300]
    indices, dists, index = nearest_neighbors(tfidf, 10, "cosine", None, False, 0)
    model = umapx.UMAP(metric="cosine", n_neighbors=10, random_state=0, n_epochs=20).fit(tfidf)
    np.testing.assert_array_equal(indices, model.fitted_state.knn_indices)
    np.testing.assert_array_equal(dists, model.fitted_state.knn_dists)
    given = umapx.UMAP(metric="cosine", n_neighbors=10, random_state=0, n_epochs=20,
                       precomputed_knn=(indices, dists, index)).fit(tfidf)
    np.testing.assert_array_equal(given.embedding_, model.embedding_)
    new = corpus[0][300:320]
    np.testing.assert_array_equal(given.transform(new), model.transform(new))
    with pytest.raises(ValueError, match="no sparse kernel"):
        nearest_neighbors(tfidf, 10, "yule", None, False, 0)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_low_memory_exact_search_gives_the_same_neighbours_as_the_transposed_path(corpus,
                                                                                  metric):
    """low_memory gathers products a group of 8 queries at a time without a transposed copy
    (500 rows: the last group is partial): the neighbours and distances of the training rows
    and of new queries are those of the blocked transposed path, bit for bit."""
    from umapx.knn import NeighborIndex

    tfidf = corpus[0].astype(np.float32)
    found = []
    for low_memory in (True, False):
        index, indices, distances = NeighborIndex.build(
            tfidf[:500], 10, resolve_metric(metric), method="exact", low_memory=low_memory)
        found.append((indices, distances, *index.query(tfidf[500:], 7)))
    for a, b in zip(*found):
        np.testing.assert_array_equal(a, b)

"""The UMAP estimator: parameters, determinism, transform, quality on digits, conformance."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import umapx
from umapx import evaluation


def test_init_only_stores_parameters():
    mapper = umapx.UMAP(n_neighbors=7, metric="cosine", random_state=3)
    assert mapper.get_params()["n_neighbors"] == 7
    assert not hasattr(mapper, "embedding_")
    assert clone(mapper).get_params() == mapper.get_params()
    mapper.set_params(min_dist=0.3)
    assert mapper.min_dist == 0.3


def test_fit_never_changes_the_parameters(blobs):
    mapper = umapx.UMAP(n_neighbors=10, random_state=0, n_jobs=2, n_epochs=20)
    before = mapper.get_params()
    mapper.fit(blobs[0])
    assert mapper.get_params() == before


def test_fitted_attributes(fitted_digits):
    mapper, data, _ = fitted_digits
    n = 1500
    assert mapper.embedding_.shape == (n, 2) and mapper.embedding_.dtype == np.float32
    assert mapper.graph_.shape == (n, n)
    assert mapper.knn_indices_.shape == (n, 15) and mapper._knn_indices is mapper.knn_indices_
    assert np.array_equal(mapper.knn_indices_[:, 0], np.arange(n))
    assert mapper.knn_dists_.shape == (n, 15)
    assert mapper.sigmas_.shape == (n,) and mapper._rhos is mapper.rhos_
    assert mapper._a == pytest.approx(1.577, abs=0.01)
    assert mapper._b == pytest.approx(0.895, abs=0.01)
    assert mapper.n_features_in_ == 64
    assert set(mapper.timings_) == {"knn", "graph", "init", "layout"}


def test_digits_quality(fitted_digits):
    """Structure is kept: figures close to umap-learn's on the same split (0.987 / 0.99).

    Over 24 fits (``python benchmarks/test_margins.py --seeds 8``: seeds 0-7 on the host CPU
    and emulating a Haswell and a baseline x86-64 CPU): trustworthiness 0.9846-0.9881, 10-NN
    accuracy 0.9900-0.9933, transform accuracy 0.9259-0.9394; the thresholds sit 0.015, 0.04
    and 0.045 below the minima.
    """
    mapper, data, labels = fitted_digits
    assert evaluation.trustworthiness(data[:1500], mapper.embedding_) > 0.97
    assert evaluation.knn_accuracy(mapper.embedding_, labels[:1500]) > 0.95
    placed = mapper.transform(data[1500:])
    assert evaluation.transform_accuracy(mapper.embedding_, labels[:1500], placed,
                                         labels[1500:]) > 0.88


def test_same_seed_same_embedding_whatever_n_jobs(digits):
    data = digits[0][:800]
    results = [umapx.UMAP(random_state=5, n_jobs=n_jobs, n_epochs=100).fit(data).embedding_
               for n_jobs in (1, 2, -1)]
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])


def test_different_seeds_differ(digits):
    data = digits[0][:400]
    first = umapx.UMAP(random_state=1, n_epochs=30).fit_transform(data)
    second = umapx.UMAP(random_state=2, n_epochs=30).fit_transform(data)
    assert not np.array_equal(first, second)


def test_an_unseeded_fit_is_a_seeded_fit_drawing_from_numpys_global_state(digits):
    # No separate unseeded path (umap-learn's unseeded fits run another, parallel algorithm):
    # random_state=None draws the seeds from numpy's global state, so an unseeded fit is the
    # seeded fit of whatever that state holds.
    data = digits[0][:400]
    saved = np.random.get_state()
    try:
        np.random.seed(3)
        unseeded = umapx.UMAP(n_epochs=30, n_jobs=-1).fit(data)
    finally:
        np.random.set_state(saved)
    seeded = umapx.UMAP(random_state=3, n_epochs=30, n_jobs=1).fit(data)
    assert np.array_equal(unseeded.embedding_, seeded.embedding_)
    assert np.array_equal(unseeded.transform(data[:50]), seeded.transform(data[:50]))


@pytest.mark.parametrize("init", ["spectral", "pca", "random"])
def test_init_methods(init, blobs):
    embedding = umapx.UMAP(init=init, random_state=0, n_epochs=50).fit_transform(blobs[0])
    assert np.all(np.isfinite(embedding))


def test_array_init_is_used(blobs):
    start = np.random.RandomState(0).rand(300, 2)
    mapper = umapx.UMAP(init=start, n_epochs=0).fit(blobs[0])
    # n_epochs=0: the start, scaled into the [0, 10] box.
    expected = 10 * (start - start.min(0)) / (start.max(0) - start.min(0))
    np.testing.assert_allclose(mapper.embedding_, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_components", [1, 3])
def test_other_dimensions(n_components, blobs):
    embedding = umapx.UMAP(n_components=n_components, random_state=0,
                           n_epochs=50).fit_transform(blobs[0])
    assert embedding.shape == (300, n_components)


def test_disconnected_components_are_laid_out_apart(blobs):
    data, labels = blobs
    mapper = umapx.UMAP(n_neighbors=5, random_state=0).fit(data)
    import scipy.sparse.csgraph

    n_components, _ = scipy.sparse.csgraph.connected_components(mapper.graph_)
    assert n_components == 3
    centres = np.array([mapper.embedding_[labels == c].mean(0) for c in range(3)])
    spread = max(mapper.embedding_[labels == c].std(0).max() for c in range(3))
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(3, 1)]
    assert gaps.min() > 2 * spread


@pytest.mark.parametrize("metric", ["manhattan", "cosine", "correlation", "chebyshev",
                                    "canberra", "braycurtis", "minkowski"])
def test_metrics_fit(metric, digits):
    mapper = umapx.UMAP(metric=metric, random_state=0, n_epochs=50).fit(digits[0][:400])
    assert np.all(np.isfinite(mapper.embedding_))


def test_binary_metrics_fit():
    binary = (np.random.RandomState(0).rand(200, 30) > 0.7).astype(np.float32)
    for metric in ("hamming", "jaccard"):
        assert np.all(np.isfinite(umapx.UMAP(metric=metric, n_epochs=20).fit_transform(binary)))


def test_transform_rows_are_independent_of_batch_and_threads(fitted_digits):
    mapper, data, _ = fitted_digits
    new = data[1500:]
    full = mapper.transform(new)
    assert np.array_equal(mapper.transform(new[37:90]), full[37:90])
    assert np.array_equal(mapper.transform(new[::-1]), full[::-1])
    assert np.array_equal(clone(mapper).set_params(n_jobs=1).fit(data[:1500]).transform(new), full)


def test_transform_of_training_points_returns_their_embedding(fitted_digits):
    mapper, data, _ = fitted_digits
    np.testing.assert_array_equal(mapper.transform(data[:200]), mapper.embedding_[:200])


def test_slightly_changed_training_rows_land_near_their_own_embedding(fitted_digits):
    """A training row plus a little noise (5% of the typical pixel value) is placed among the
    nearest training embeddings of its own row.

    Measured over 10 fits (5 seeds x pixels 0-1 and 0-255): the own row among the 15 nearest
    for 84-89% of the rows, median rank 3-4; thresholds 70% and 8.
    """
    mapper, data, _ = fitted_digits
    rows = data[:300]
    noise = np.random.RandomState(0).normal(scale=0.05 * np.median(rows[rows > 0]),
                                            size=rows.shape)
    placed = mapper.transform(rows + noise)
    own = np.linalg.norm(placed - mapper.embedding_[:300], axis=1)
    to_all = np.linalg.norm(placed[:, None] - mapper.embedding_[None], axis=2)
    rank = np.count_nonzero(to_all < own[:, None], axis=1)  # training points closer than own
    assert np.mean(rank < 15) >= 0.7 and np.median(rank) <= 8


def test_transform_quality_does_not_depend_on_the_pixel_scale(digits):
    """0-1 and 0-255 pixels (255 is not a power of two: the rounding, and so the layout,
    differ) place held-out digits equally well.

    Measured over 5 seeds (each at both scales): transform accuracy 0.926-0.936, the two
    scales at most 0.0034 apart for a seed; trustworthiness of the placed points 0.894-0.945,
    at most 0.027 apart. Thresholds on the medians of 3 seeds: accuracy >= 0.90 and gap
    <= 0.02; trustworthiness >= 0.86 and gap <= 0.04.
    """
    data, labels = digits
    accuracy, trust = {}, {}
    for scale in (1.0, 255.0):
        runs = []
        for seed in range(3):
            pixels = (data * scale).astype(np.float32)
            mapper = umapx.UMAP(random_state=seed, n_epochs=100).fit(pixels[:1500])
            placed = mapper.transform(pixels[1500:])
            runs.append((evaluation.transform_accuracy(mapper.embedding_, labels[:1500], placed,
                                                       labels[1500:]),
                         evaluation.trustworthiness(pixels[1500:], placed, sample_size=None)))
        accuracy[scale], trust[scale] = np.median(runs, axis=0)
    assert min(accuracy.values()) >= 0.90 and abs(accuracy[1.0] - accuracy[255.0]) <= 0.02
    assert min(trust.values()) >= 0.86 and abs(trust[1.0] - trust[255.0]) <= 0.04


def test_verbose_reports_stages_and_progress(capsys, blobs):
    umapx.UMAP(verbose=True, n_epochs=20, random_state=0).fit(blobs[0])
    err = capsys.readouterr().err
    for stage in ("knn", "graph", "init", "layout"):
        assert f"{stage} done in" in err
    assert "20/20 epochs" in err


def test_silent_by_default(capsys, blobs):
    umapx.UMAP(n_epochs=5, random_state=0).fit(blobs[0])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_supervised_labels_separate_classes(digits):
    """Labels weaken the graph's edges between classes, and the embedding follows.

    Checked on the graph (the mechanism, free of layout noise) and, for several seeds, on the
    share of each point's 15 embedding neighbours with another label. Measured over 8 seeds on
    two CPU targets (native and NUMBA_CPU_NAME=generic): unsupervised 0.038-0.067, supervised
    0.004-0.022, the per-seed ratio at most 0.40; the bounds below leave a wide margin.
    """
    from sklearn.neighbors import NearestNeighbors

    data, labels = digits
    data, labels = data[:700], labels[:700]

    def cross_class_weight(graph):
        graph = graph.tocoo()
        return graph.data[labels[graph.row] != labels[graph.col]].sum() / graph.data.sum()

    def impurity(embedding):
        neighbours = NearestNeighbors(n_neighbors=16).fit(embedding).kneighbors(embedding)[1]
        return np.mean(labels[neighbours[:, 1:]] != labels[:, None])

    ratios = []
    for seed in range(3):
        unsupervised = umapx.UMAP(random_state=seed).fit(data)
        supervised = umapx.UMAP(random_state=seed).fit(data, labels)
        assert cross_class_weight(supervised.graph_) < 0.05 * cross_class_weight(
            unsupervised.graph_)
        ratios.append(impurity(supervised.embedding_) / impurity(unsupervised.embedding_))
    assert max(ratios) < 0.7 and np.mean(ratios) < 0.5, ratios


def test_semi_supervised_and_string_labels(blobs):
    data, labels = blobs
    partial = labels.copy()
    partial[::2] = -1
    assert np.all(np.isfinite(umapx.UMAP(n_epochs=20).fit_transform(data, partial)))
    names = np.array(["a", "b", "c"])[labels]
    assert np.all(np.isfinite(umapx.UMAP(n_epochs=20).fit_transform(data, names)))


@pytest.mark.parametrize("y, message", [
    (np.zeros(10), "one entry per sample"),
    (np.zeros((300, 2)), "1-d"),
    (np.full(300, np.nan), "NaN"),
])
def test_bad_labels(y, message, blobs):
    with pytest.raises(ValueError, match=message):
        umapx.UMAP(n_epochs=5).fit(blobs[0], y)


def test_pickle_round_trip(fitted_digits):
    mapper, data, _ = fitted_digits
    restored = pickle.loads(pickle.dumps(mapper))
    np.testing.assert_array_equal(restored.transform(data[1500:1600]),
                                  mapper.transform(data[1500:1600]))


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("X, message", [
    (np.array([[1.0, np.nan]] * 30), "NaN"),
    (np.array([[1.0, np.inf]] * 30), "infinity"),
    (np.empty((0, 3)), "0 sample"),
    (np.ones(40), "Expected 2D array"),
    (np.array([["a", "b"]] * 30), "could not convert|dtype"),
    (np.random.RandomState(0).rand(30, 3) * 1e20, "Rescale"),
])
def test_bad_training_data(X, message):
    with pytest.raises(ValueError, match=message):
        umapx.UMAP().fit(X)


def test_transform_checks_its_input(fitted_digits):
    mapper, data, _ = fitted_digits
    with pytest.raises(ValueError, match="64 features"):
        mapper.transform(data[:5, :10])
    with pytest.raises(ValueError, match="NaN"):
        mapper.transform(np.full((2, 64), np.nan))


def test_unfitted_model_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        umapx.UMAP().transform(np.ones((3, 3)))


@pytest.mark.parametrize("params, message", [
    ({"n_neighbors": 1}, "n_neighbors"),
    ({"n_neighbors": 2.5}, "n_neighbors must be an integer"),
    ({"n_components": 0}, "n_components"),
    ({"min_dist": -1}, "min_dist"),
    ({"min_dist": 2.0}, "min_dist .* spread"),
    ({"spread": 0}, "spread"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"set_op_mix_ratio": 1.5}, "set_op_mix_ratio"),
    ({"n_epochs": -1}, "n_epochs"),
    ({"init": "magic"}, "init must be one of"),
    ({"init": np.ones((5, 2))}, "init array must have shape"),
    ({"metric": "nope"}, "metric='nope'"),
    ({"a": 1.0}, "a and b"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"random_state": "x"}, "random_state"),
    ({"knn_method": "kd"}, "knn_method"),
    ({"negative_sample_rate": -2}, "negative_sample_rate"),
    ({"local_connectivity": 0}, "local_connectivity"),
    # Bounds that keep a model from running for ever or overflowing float32 (a saved file
    # is checked against the same table).
    ({"n_epochs": 10**12}, r"n_epochs must be in \[0, 100000\]"),
    ({"negative_sample_rate": 10**9}, r"negative_sample_rate must be in \[0, 1000\]"),
    ({"a": 1e308, "b": 1.0}, "a must be in"),
    ({"a": 1.0, "b": 50.0}, r"b must be in \(0, 10\]"),
    ({"transform_seed": 2**40}, "transform_seed"),
    ({"spread": 1e20, "min_dist": 0.0}, r"a \(fitted to spread=1e\+20\) must be in"),
    ({"verbose": "x"}, "verbose"),
    ({"low_memory": "yes"}, "low_memory"),
    ({"target_weight": 2.0}, "target_weight"),
    ({"target_metric": "nope"}, "target_metric"),
])
def test_bad_parameters_name_the_parameter(params, message, blobs):
    mapper = umapx.UMAP(**{"n_epochs": 5, **params})
    with pytest.raises(ValueError, match=message):
        mapper.fit(blobs[0])


# -- scikit-learn conformance -------------------------------------------------------------------
# n_neighbors=5 because several checks fit 10-15 samples, where the default n_neighbors=15 would
# be shrunk to n_samples - 1 with a warning (as umap-learn does).

@parametrize_with_checks([umapx.UMAP(n_neighbors=5, n_epochs=20)])
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_spectral_failure_falls_back_to_pca_with_a_warning(blobs, monkeypatch):
    from umapx import init

    monkeypatch.setattr(init, "_component_spectral", lambda *args: None)
    data = blobs[0][:100]  # one blob: a connected graph
    with pytest.warns(RuntimeWarning, match="spectral initialisation failed"):
        mapper = umapx.UMAP(n_neighbors=10, n_epochs=0, random_state=0).fit(data)
    pca = umapx.UMAP(n_neighbors=10, n_epochs=0, random_state=0, init="pca").fit(data)
    assert np.all(np.isfinite(mapper.embedding_))
    # Same layout as asking for PCA up to the noise draws.
    assert np.corrcoef(mapper.embedding_[:, 0], pca.embedding_[:, 0])[0, 1] > 0.99


def test_more_components_than_samples_allow():
    data = np.random.RandomState(0).rand(20, 10)
    with pytest.warns(RuntimeWarning, match="spectral initialisation failed"):
        embedding = umapx.UMAP(n_components=25, n_neighbors=5, n_epochs=10).fit_transform(data)
    assert embedding.shape == (20, 25) and np.all(np.isfinite(embedding))


def test_transform_queue_size_sets_the_search_effort(digits):
    data = digits[0]
    mapper = umapx.UMAP(random_state=0, knn_method="nndescent", n_epochs=30).fit(data[:1400])
    from umapx.knn import NeighborIndex

    state = mapper.fitted_state
    truth, _ = NeighborIndex(state.metric, state.training_data, "exact").query(data[1400:], 15)

    def recall(queue_size):
        found, _ = state.index.query(data[1400:], 15, epsilon=0.005 * queue_size)
        return np.mean([len(set(f) & set(t)) / 15 for f, t in zip(found, truth)])

    assert recall(40) >= recall(4) and recall(40) > 0.99
    placed = mapper.set_params(transform_queue_size=40).transform(data[1400:])
    assert np.all(np.isfinite(placed))


# -- degenerate data and diverging parameters: clear errors, never silent garbage -----------


def test_data_too_small_for_float32_is_refused(digits):
    """Scaled by 1e-30, squared distances underflow float32 to 0 (the embedding used to be
    meaningless, silently)."""
    with pytest.raises(ValueError, match="underflow float32.*Rescale the data"):
        umapx.UMAP().fit(digits[0][:100].astype(np.float64) * 1e-30)


def test_the_data_scale_does_not_matter(digits):
    """0-255 and 0-1 pixel data (a power of two apart here) give the same neighbours, the same
    graph up to rounding, and embeddings of the same quality.

    Over 24 pairs of fits (``benchmarks/test_margins.py``, 8 seeds x 3 CPU targets): the
    smaller trustworthiness 0.9667-0.9836, the gap between the two 0 every time (the
    embeddings were identical); thresholds 0.95 and 0.02.
    """
    data = digits[0][:600]  # values k / 16
    small, large = (umapx.UMAP(random_state=0, n_epochs=100).fit(data * scale)
                    for scale in (1.0, 256.0))
    np.testing.assert_array_equal(small.knn_indices_, large.knn_indices_)
    np.testing.assert_allclose(large.knn_dists_, 256.0 * small.knn_dists_, rtol=1e-5)
    assert (small.graph_ != 0).nnz == (large.graph_ != 0).nnz
    np.testing.assert_allclose(small.graph_.toarray(), large.graph_.toarray(), atol=2e-3)
    trust = [evaluation.trustworthiness(data, m.embedding_) for m in (small, large)]
    assert min(trust) > 0.95 and abs(trust[0] - trust[1]) < 0.02


def test_identical_samples_are_refused():
    with pytest.raises(ValueError, match="all 40 samples of X are identical"):
        umapx.UMAP(n_neighbors=5).fit(np.full((40, 3), 7.0))


def test_groups_of_duplicates_embed(blobs):
    """Repeated rows (more copies than n_neighbors) are structure, not an error."""
    data = np.repeat(blobs[0][::60], 20, axis=0)  # 5 distinct rows, 20 copies each
    embedding = umapx.UMAP(n_neighbors=10, n_epochs=50, random_state=0).fit_transform(data)
    assert np.all(np.isfinite(embedding))


def test_a_metric_giving_nan_is_named(blobs):
    import numba

    @numba.njit
    def broken(x, y):
        return np.nan

    for method in ("exact", "nndescent"):
        # refused when the metric is first tried on two rows, or after the search
        with pytest.raises(ValueError, match="returned NaN|metric gave .* NaN or infinite"):
            umapx.UMAP(metric=broken, knn_method=method, n_epochs=5).fit(blobs[0])


def test_an_overflowing_metric_parameter_is_named(blobs):
    with pytest.raises(ValueError, match="NaN or infinite distances.*smaller p"):
        umapx.UMAP(metric="minkowski", metric_kwds={"p": 1000}, n_epochs=5).fit(blobs[0] * 100)


def test_a_diverging_layout_is_an_error_not_nan(blobs):
    # The forces of points that far apart are 0 (umapx.powers keeps d^(2b) finite), so the
    # coordinates stay finite but huge; either way, an error that names the cause.
    with pytest.raises(ValueError, match="layout (holds NaN|has coordinates as large as).*"
                                         "diverged.*learning_rate"):
        umapx.UMAP(learning_rate=1e30, n_epochs=20).fit(blobs[0])


@pytest.mark.parametrize("labels", [
    [1, "a", None] * 100,
    [1.5, "b"] * 150,
    [None, 2] * 150,
])
def test_labels_of_mixed_types(blobs, labels):
    with pytest.raises(ValueError, match="y mixes label types .*one type"):
        umapx.UMAP(n_epochs=5).fit(blobs[0], np.array(labels, dtype=object))

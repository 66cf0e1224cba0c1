"""inverse_transform: shapes, determinism, behaviour outside the support, metrics, bad input."""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import umapx
from umapx import evaluation
from umapx.inverse import interpolation_weights


@pytest.fixture(scope="module")
def model(digits):
    data, labels = digits
    return umapx.UMAP(random_state=0).fit(data[:1500]), data, labels


def test_shapes_and_range(model):
    mapper, data, _ = model
    samples = mapper.inverse_transform(mapper.embedding_[:40])
    assert samples.shape == (40, 64) and samples.dtype == np.float32
    assert samples.min() >= data[:1500].min() and samples.max() <= data[:1500].max()


@pytest.mark.parametrize("n_components", [1, 2, 3, 8])
def test_any_number_of_components(n_components, digits):
    data = digits[0][:600]
    mapper = umapx.UMAP(n_components=n_components, random_state=0, n_epochs=100).fit(data)
    points = mapper.embedding_[:25] + 0.01
    samples, confidence = mapper.inverse_transform(points, return_confidence=True)
    assert samples.shape == (25, 64) and np.all(np.isfinite(samples))
    assert confidence.shape == (25,) and np.all((confidence > 0) & (confidence <= 1))


def test_deterministic_and_independent_of_batching_and_threads(model):
    mapper, _, _ = model
    points = np.random.RandomState(0).uniform(mapper.embedding_.min(0), mapper.embedding_.max(0),
                                              size=(300, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = mapper.inverse_transform(points)
        assert np.array_equal(first, mapper.inverse_transform(points))
        assert np.array_equal(first[100:130], mapper.inverse_transform(points[100:130]))
        assert np.array_equal(first[::-1], mapper.inverse_transform(points[::-1]))
        single = mapper.set_params(n_jobs=1).inverse_transform(points)
        mapper.set_params(n_jobs=-1)
    assert np.array_equal(first, single)


@pytest.mark.filterwarnings("ignore:.*outside the support")
def test_reconstructs_held_out_digits(model):
    """Over 24 fits (``benchmarks/test_margins.py --seeds 8``: seeds 0-7 x 3 CPU targets): MSE
    0.39-0.41 of the mean-sample baseline (threshold 0.5), labels kept 0.926-0.939 (0.85),
    novelty 0.60-0.63 ([0.5, 1.5]), round trip 3.8-4.6 spacings (10)."""
    mapper, data, labels = model
    quality = evaluation.inverse_quality(mapper.transform, mapper.inverse_transform,
                                         data[:1500], labels[:1500], mapper.embedding_,
                                         data[1500:], labels[1500:])
    baseline = evaluation.reconstruction_mse(data[1500:], np.tile(data[:1500].mean(0), (297, 1)))
    assert quality["mse"] < 0.5 * baseline
    assert quality["label_preservation"] > 0.85
    assert 0.5 <= quality["novelty"] <= 1.5
    assert quality["round_trip"] < 10


def test_outside_the_support(model):
    mapper, data, _ = model
    embedding = mapper.embedding_
    centre = embedding.mean(0)
    direction = embedding[0] - centre
    direction /= np.linalg.norm(direction)
    radius = np.linalg.norm(embedding - centre, axis=1).max()
    distances = np.linspace(0.0, 20.0 * radius, 400)
    points = centre + distances[:, None] * direction
    with pytest.warns(UserWarning, match="far outside the support"):
        samples, confidence = mapper.inverse_transform(points, return_confidence=True)
    assert np.mean(confidence < np.exp(-9)) > 0.5
    assert np.all(np.isfinite(samples))
    train = data[:1500]
    assert samples.min() >= train.min() and samples.max() <= train.max()
    beyond = distances > 1.05 * radius
    # Confidence falls as the point moves away, and is tiny far outside.
    assert np.all(np.diff(confidence[beyond]) <= 1e-12)
    assert confidence[-1] < 1e-6
    _, on_data = mapper.inverse_transform(embedding[:200] + 1e-3, return_confidence=True)
    assert np.median(on_data) > 0.9
    # Continuous far outside: zooming into the largest change along the ray shrinks it (a jump
    # would stay). Its size on the coarse ray depends on the embedding, so on the CPU.
    outside = points[beyond]
    jumps = np.linalg.norm(np.diff(samples[beyond], axis=0), axis=1)
    worst = int(np.argmax(jumps))
    fine = outside[worst] + np.linspace(0.0, 1.0, 1001)[:, None] * (outside[worst + 1]
                                                                     - outside[worst])
    with pytest.warns(UserWarning, match="far outside the support"):
        zoomed = mapper.inverse_transform(fine)
    if jumps[worst] > 0:
        assert np.linalg.norm(np.diff(zoomed, axis=0), axis=1).max() < 0.05 * jumps[worst]
    with pytest.warns(UserWarning, match="far outside the support"):
        behaviour = evaluation.outside_support(mapper.inverse_transform, embedding, train)
    assert behaviour["finite"] and behaviour["in_range"] and behaviour["max_jump"] < 0.5


def test_weights_vanish_at_the_neighbourhood_edge():
    dists = np.array([[0.1, 0.2, 0.3, 0.3], [1.0, 1.0, 1.0, 1.0], [0.0, 0.5, 0.9, 2.0]])
    weights = interpolation_weights(dists, 1.58, 0.9)
    np.testing.assert_allclose(weights.sum(1), 1.0)
    assert weights[0, 2] == 0  # as far as the (k+1)-th neighbour: no weight
    np.testing.assert_allclose(weights[1], 1 / 3)  # all tied: uniform
    assert np.all(np.diff(weights[2]) < 0)


@pytest.mark.filterwarnings("ignore:.*outside the support")
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan", "correlation",
                                    "chebyshev", "minkowski", "canberra", "braycurtis"])
def test_metrics_with_an_inverse(metric, digits):
    """The worst metric's MSE ratio over 24 fits each (8 seeds x 3 CPU targets,
    ``benchmarks/test_margins.py``): 0.52-0.56 (threshold 0.7)."""
    data, labels = digits
    mapper = umapx.UMAP(metric=metric, random_state=0, n_epochs=100).fit(data[:800])
    samples = mapper.inverse_transform(mapper.transform(data[800:900]))
    assert samples.shape == (100, 64) and np.all(np.isfinite(samples))
    baseline = evaluation.reconstruction_mse(data[800:900], np.tile(data[:800].mean(0), (100, 1)))
    assert evaluation.reconstruction_mse(data[800:900], samples) < 0.7 * baseline


@pytest.mark.parametrize("metric", ["hamming", "jaccard"])
def test_metrics_without_an_inverse_say_so(metric):
    binary = (np.random.RandomState(0).rand(100, 12) > 0.5).astype(np.float32)
    mapper = umapx.UMAP(metric=metric, n_epochs=10).fit(binary)
    with pytest.raises(ValueError, match=f"not available for metric='{metric}'"):
        mapper.inverse_transform(mapper.embedding_[:3])


def test_fewer_neighbours_give_sharper_samples(model):
    mapper, data, _ = model
    points = mapper.transform(data[1500:1600])
    sharp = mapper.inverse_transform(points, n_neighbors=3)
    smooth = mapper.inverse_transform(points, n_neighbors=30)
    assert sharp.std(axis=0).mean() > smooth.std(axis=0).mean()


@pytest.mark.parametrize("points, error, message", [
    (np.ones((3, 3)), ValueError, "n_components=2"),
    (np.array([[np.nan, 0.0]]), ValueError, "NaN"),
    (np.empty((0, 2)), ValueError, "0 sample"),
    (np.ones(2), ValueError, "2D"),
])
def test_bad_points(model, points, error, message):
    with pytest.raises(error, match=message):
        model[0].inverse_transform(points)


def test_bad_neighbour_count(model):
    with pytest.raises(ValueError, match="n_neighbors"):
        model[0].inverse_transform(np.zeros((1, 2)), n_neighbors=0)


def test_unfitted():
    with pytest.raises(NotFittedError):
        umapx.UMAP().inverse_transform(np.zeros((1, 2)))


@pytest.mark.slow
def test_mnist_inverse_quality(mnist10k):
    """Held-out MNIST digits: better than umap-learn's measured figures on the same split
    (MSE 0.054, labels kept 0.60, novelty 1.04; benchmarks/README.md).

    umapx over 24 fits (``benchmarks/test_margins.py --seeds 8 --slow``: seeds 0-7 x 3 CPU
    targets): MSE 0.0347-0.0359 (threshold 0.045), labels kept 0.864-0.912 (0.8), novelty
    0.71-0.73 ([0.5, 1.5]).
    """
    data, labels = mnist10k
    train, test = data[:8000], data[8000:8500]
    mapper = umapx.UMAP(random_state=42).fit(train)
    quality = evaluation.inverse_quality(mapper.transform, mapper.inverse_transform, train,
                                         labels[:8000], mapper.embedding_, test,
                                         labels[8000:8500])
    assert quality["mse"] < 0.045
    assert quality["label_preservation"] > 0.8
    assert 0.5 <= quality["novelty"] <= 1.5


@pytest.mark.filterwarnings("ignore:.*outside the support")
def test_astronomically_far_points(model):
    mapper, data, _ = model
    points = np.array([[1e30, 0.0], [0.0, -1e200], [1e300, 1e300], [-1.79e308, 5.0]])
    samples, confidence = mapper.inverse_transform(points, return_confidence=True)
    assert np.all(np.isfinite(samples)) and np.all(confidence == 0)
    assert samples.min() >= data[:1500].min() and samples.max() <= data[:1500].max()


# ------------------------------------------------------------------------------------------------
# method="refine" and detail
# ------------------------------------------------------------------------------------------------

OPTIONS = [{"method": "refine"}, {"detail": 1.0}, {"method": "refine", "detail": 0.5}]


def _nearest_training_distance(samples, train):
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=1).fit(train).kneighbors(samples)[0][:, 0]


@pytest.mark.filterwarnings("ignore:.*outside the support")
@pytest.mark.parametrize("options", OPTIONS)
def test_options_deterministic_row_independent_and_in_range(model, options):
    mapper, data, _ = model
    train = data[:1500]
    rng = np.random.RandomState(1)
    points = rng.uniform(mapper.embedding_.min(0), mapper.embedding_.max(0), size=(200, 2))
    points = np.vstack([points, mapper.transform(data[1500:1600])])
    first = mapper.inverse_transform(points, **options)
    assert first.shape == (300, 64) and first.dtype == np.float32
    assert np.array_equal(first, mapper.inverse_transform(points, **options))
    assert np.array_equal(first[150:190], mapper.inverse_transform(points[150:190], **options))
    assert np.array_equal(first[::-1], mapper.inverse_transform(points[::-1], **options))
    try:
        single = mapper.set_params(n_jobs=1).inverse_transform(points, **options)
    finally:
        mapper.set_params(n_jobs=-1)
    assert np.array_equal(first, single)
    assert np.all(np.isfinite(first))
    assert first.min() >= train.min() and first.max() <= train.max()


@pytest.mark.parametrize("options", OPTIONS)
def test_options_far_outside(model, options):
    mapper, data, _ = model
    centre = mapper.embedding_.mean(0)
    points = centre + np.array([[30.0, 0.0], [0.0, -1e6], [1e300, 1e300], [-1.79e308, 5.0]])
    with pytest.warns(UserWarning, match="far outside the support"):
        samples, confidence = mapper.inverse_transform(points, return_confidence=True,
                                                       **options)
    assert np.all(np.isfinite(samples)) and np.all(confidence < 1e-6)
    assert samples.min() >= data[:1500].min() and samples.max() <= data[:1500].max()
    # Far outside there is no support to refine against: the refined sample is the blend.
    if options.get("detail", 0) == 0:
        blend = mapper.inverse_transform(points, n_neighbors=2 * mapper.n_neighbors)
        np.testing.assert_array_equal(samples[1:], blend[1:])


@pytest.mark.filterwarnings("ignore:.*outside the support")
@pytest.mark.parametrize("n_components", [1, 3, 8])
@pytest.mark.parametrize("options", OPTIONS)
def test_options_any_number_of_components(n_components, options, digits):
    data = digits[0][:600]
    mapper = umapx.UMAP(n_components=n_components, random_state=0, n_epochs=100).fit(data)
    points = np.vstack([mapper.embedding_[:25] + 0.01, mapper.embedding_.max(0) + 50.0])
    samples, confidence = mapper.inverse_transform(points, return_confidence=True, **options)
    assert samples.shape == (26, 64) and np.all(np.isfinite(samples))
    assert samples.min() >= data.min() and samples.max() <= data.max()
    assert confidence.shape == (26,)


def test_detail_is_continuous(model):
    """Zooming into the largest change along a path through the data shrinks it (a jump would
    stay), for the blend and for the blend with detail."""
    mapper, _, _ = model
    embedding = mapper.embedding_.astype(np.float64)
    rng = np.random.RandomState(3)
    for start in rng.choice(len(embedding), 4, replace=False):
        a = embedding[start]
        b = embedding[np.argsort(np.linalg.norm(embedding - a, axis=1))[30]]
        path = a + np.linspace(-1.0, 2.0, 301)[:, None] * (b - a)
        for options in ({}, {"detail": 1.0}):
            samples = mapper.inverse_transform(path, **options).astype(np.float64)
            jumps = np.linalg.norm(np.diff(samples, axis=0), axis=1)
            worst = int(np.argmax(jumps))
            fine = path[worst] + np.linspace(0.0, 1.0, 1001)[:, None] * (path[worst + 1]
                                                                          - path[worst])
            zoomed = mapper.inverse_transform(fine, **options).astype(np.float64)
            assert jumps[worst] > 0
            assert np.linalg.norm(np.diff(zoomed, axis=0), axis=1).max() < 0.05 * jumps[worst]


def test_refine_moves_the_blend_a_bounded_distance(model):
    """Each of the 3 steps moves a sample by at most 0.1 times its distance to the nearest
    training sample, so the refined sample stays within (1.1^3 - 1) of that of the blend."""
    from umapx import inverse_refine

    mapper, data, _ = model
    train = data[:1500]
    points = mapper.transform(data[1500:])
    blend = mapper.inverse_transform(points, n_neighbors=2 * mapper.n_neighbors)
    refined = mapper.inverse_transform(points, method="refine")
    moved = np.linalg.norm(refined.astype(np.float64) - blend, axis=1)
    bound = (1 + inverse_refine.REFINE_TRUST) ** inverse_refine.REFINE_STEPS - 1
    assert np.all(moved <= bound * _nearest_training_distance(blend, train) * (1 + 1e-4) + 1e-6)
    assert np.median(moved) > 0


@pytest.mark.filterwarnings("ignore:.*outside the support")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_refine_and_detail_do_what_they_say(seed, digits):
    """On held-out digits, for any seed: refine brings transform's starting point (the part of
    the forward map without random optimisation) nearer the asked point (measured ratio of
    medians 0.64-0.74 over 8 seeds) at no cost in reconstruction error (measured 2.5-4.5%
    lower); detail=1 moves samples away from the training samples (novelty +0.10-0.11) and
    costs reconstruction error (+11-15%)."""
    data, labels = digits
    train, test = data[:1500], data[1500:]
    mapper = umapx.UMAP(random_state=seed).fit(train)
    points = mapper.transform(test).astype(np.float64)
    blend = mapper.inverse_transform(points, n_neighbors=30)
    refined = mapper.inverse_transform(points, method="refine")
    start = clone_with_epochs(mapper, 0)
    miss_blend = np.median(np.linalg.norm(start.transform(blend) - points, axis=1))
    miss_refined = np.median(np.linalg.norm(start.transform(refined) - points, axis=1))
    assert miss_refined < 0.85 * miss_blend
    mse = {name: evaluation.reconstruction_mse(test, samples) for name, samples in
           (("today", mapper.inverse_transform(points)), ("refined", refined))}
    assert mse["refined"] < 1.01 * mse["today"]
    smooth = mapper.inverse_transform(points)
    detailed = mapper.inverse_transform(points, detail=1.0)
    novelty_smooth = evaluation.novelty_ratio(smooth, test, train)
    novelty_detailed = evaluation.novelty_ratio(detailed, test, train)
    assert novelty_detailed > novelty_smooth + 0.05
    assert evaluation.reconstruction_mse(test, detailed) > evaluation.reconstruction_mse(test,
                                                                                         smooth)
    baseline = evaluation.reconstruction_mse(test, np.tile(train.mean(0), (len(test), 1)))
    assert evaluation.reconstruction_mse(test, detailed) < 0.5 * baseline


def clone_with_epochs(mapper, n_epochs):
    """The same fitted model whose transform runs ``n_epochs`` (0: its starting point)."""
    import copy

    clone = copy.copy(mapper)
    clone.n_epochs = n_epochs
    return clone


@pytest.mark.filterwarnings("ignore:.*outside the support")
@pytest.mark.parametrize("metric", ["cosine", "manhattan", "chebyshev"])
def test_options_with_other_metrics(metric, digits):
    data, _ = digits
    mapper = umapx.UMAP(metric=metric, random_state=0, n_epochs=100).fit(data[:800])
    points = mapper.transform(data[800:900])
    for options in OPTIONS:
        samples = mapper.inverse_transform(points, **options)
        assert samples.shape == (100, 64) and np.all(np.isfinite(samples))
        assert samples.min() >= data[:800].min() and samples.max() <= data[:800].max()


@numba.njit
def _euclidean_with_gradient(x, y):
    total = 0.0
    for i in range(x.shape[0]):
        total += (x[i] - y[i]) ** 2
    distance = np.sqrt(total)
    return distance, (x - y) / (1e-6 + distance)


@pytest.mark.filterwarnings("ignore:.*outside the support")
def test_options_with_a_user_metric_and_other_output_metrics(digits):
    """refine runs a user metric's own gradient; it refuses a non-euclidean embedding (where
    transform does not start at the weighted mean it aims at), while detail works there."""
    data = digits[0][:500]
    mapper = umapx.UMAP(metric=_euclidean_with_gradient, random_state=0, n_epochs=50).fit(data)
    points = mapper.embedding_[:30] + 0.05
    for options in OPTIONS:
        samples = mapper.inverse_transform(points, **options)
        assert samples.shape == (30, 64) and np.all(np.isfinite(samples))
        assert samples.min() >= data.min() and samples.max() <= data.max()
    sphere = umapx.UMAP(output_metric="haversine", random_state=0, n_epochs=50).fit(data)
    with pytest.raises(ValueError, match="method='refine' needs a euclidean output_metric"):
        sphere.inverse_transform(sphere.embedding_[:3], method="refine")
    detailed = sphere.inverse_transform(sphere.embedding_[:3], detail=1.0)
    assert detailed.shape == (3, 64) and np.all(np.isfinite(detailed))


@pytest.mark.parametrize("options", OPTIONS)
def test_options_refused_for_sparse_models(digits, options):
    import scipy.sparse

    mapper = umapx.UMAP(random_state=0, n_epochs=30).fit(scipy.sparse.csr_matrix(digits[0][:300]))
    with pytest.raises(ValueError, match="not available for a model fitted on sparse data"):
        mapper.inverse_transform(mapper.embedding_[:2], **options)


def test_options_survive_save_and_load(model, tmp_path):
    mapper, data, _ = model
    points = mapper.transform(data[1500:1550])
    mapper.save(tmp_path / "m.umapx")
    loaded = umapx.load(tmp_path / "m.umapx")
    for options in OPTIONS:
        np.testing.assert_array_equal(mapper.inverse_transform(points, **options),
                                      loaded.inverse_transform(points, **options))


@pytest.mark.parametrize("options, message", [
    ({"method": "fast"}, "method must be one of"),
    ({"method": None}, "method must be one of"),
    ({"detail": -0.5}, "detail must be a finite number >= 0"),
    ({"detail": np.nan}, "detail must be a finite number >= 0"),
    ({"detail": "a lot"}, "detail must be a finite number >= 0"),
    ({"detail": True}, "detail must be a finite number >= 0"),
])
def test_bad_options(model, options, message):
    with pytest.raises(ValueError, match=message):
        model[0].inverse_transform(np.zeros((1, 2)), **options)


@pytest.mark.filterwarnings("ignore:.*outside the support")
@pytest.mark.parametrize("options", [{}, *OPTIONS])
def test_streamed_into_out_in_tiny_batches_is_bit_identical(model, options, tmp_path):
    """Batches of 1, 7 and 8192 points, 1 or all threads, into a new array or a memmap: the
    same bits (every sample depends only on its point)."""
    from umapx._jit import numba_threads
    from umapx.inverse_refine import refinement_state

    mapper, data, _ = model
    rng = np.random.RandomState(2)
    points = np.vstack([rng.uniform(mapper.embedding_.min(0) - 1, mapper.embedding_.max(0) + 1,
                                    size=(40, 2)), mapper.transform(data[1500:1530])])
    expected = mapper.inverse_transform(points, **options)
    out = np.lib.format.open_memmap(tmp_path / "samples.npy", mode="w+", dtype=np.float32,
                                    shape=expected.shape)
    assert mapper.inverse_transform(points, out=out, **options) is out
    assert np.array_equal(np.load(tmp_path / "samples.npy"), expected)
    state = mapper.fitted_state
    if options:
        options = {"method": "blend", **options, "refinement": refinement_state(
            state, mapper.local_connectivity, mapper._search_slack())}
    k = 2 * state.n_neighbors if options.get("method") == "refine" else state.n_neighbors
    for batch_size, threads in [(1, 1), (7, -1), (7, 1), (8192, 1)]:
        with numba_threads(threads):
            samples, support = state.inverse.generate(points, k, batch_size=batch_size,
                                                      **options)
        assert np.array_equal(samples, expected), (batch_size, threads)
        assert support.shape == (len(points),)


@pytest.mark.parametrize("out, error, message", [
    ([[0.0] * 64] * 3, TypeError, "out must be a numpy array"),
    (np.zeros((3, 64)), TypeError, "out must have dtype float32"),
    (np.zeros((3, 63), np.float32), ValueError, r"out must have shape .* = \(3, 64\)"),
    (np.zeros((64, 3), np.float32), ValueError, "out must have shape"),
    (np.broadcast_to(np.float32(0), (3, 64)), ValueError, "out is read-only"),
])
def test_bad_out(model, out, error, message):
    with pytest.raises(error, match=message):
        model[0].inverse_transform(model[0].embedding_[:3], out=out)


def test_out_refused_for_sparse_models(digits):
    import scipy.sparse

    mapper = umapx.UMAP(random_state=0, n_epochs=30).fit(scipy.sparse.csr_matrix(digits[0][:300]))
    with pytest.raises(ValueError, match="out is not available for a model fitted on sparse"):
        mapper.inverse_transform(mapper.embedding_[:2], out=np.zeros((2, 64), np.float32))


def test_out_refused_for_dask_input(model):
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="out is not available for dask input"):
        model[0].inverse_transform(da.zeros((4, 2), chunks=2), out=np.zeros((4, 64), np.float32))


def test_bad_batch_size(model):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model[0].fitted_state.inverse.generate(np.zeros((2, 2)), 15, batch_size=0)


@pytest.mark.slow
def test_mnist_refine_and_detail(mnist10k):
    """Held-out MNIST digits (measured with seeds 42, 0, 1): refine halves the distance from
    transform's starting point to the asked point (ratio of medians 0.49-0.51) with 3% lower
    reconstruction error; detail=1 gives novelty 0.85-0.86 at MSE 0.044-0.045."""
    data, labels = mnist10k
    train, test = data[:8000], data[8000:8500]
    mapper = umapx.UMAP(random_state=42).fit(train)
    points = mapper.transform(test).astype(np.float64)
    blend = mapper.inverse_transform(points)
    refined = mapper.inverse_transform(points, method="refine")
    start = clone_with_epochs(mapper, 0)
    wide = mapper.inverse_transform(points, n_neighbors=30)
    miss = [np.median(np.linalg.norm(start.transform(samples) - points, axis=1))
            for samples in (wide, refined)]
    assert miss[1] < 0.7 * miss[0]
    mse_blend = evaluation.reconstruction_mse(test, blend)
    assert evaluation.reconstruction_mse(test, refined) < 1.01 * mse_blend
    detailed = mapper.inverse_transform(points, detail=1.0)
    assert 0.8 < evaluation.novelty_ratio(detailed, test, train) < 1.15
    assert evaluation.reconstruction_mse(test, detailed) < 0.05

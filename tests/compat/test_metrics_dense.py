"""Every named dense metric of umap-learn: its distance against scipy or a direct numpy formula,
its gradient against finite differences, its ``metric_kwds``, and a fit / transform / inverse /
save-load round trip under it."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from metric_rows import BINARY, rows_for
from scipy.spatial import distance as sd
from scipy.special import betaln

import umapx
from umapx import metrics

# -- references ---------------------------------------------------------------------------------


def _binary(x, y):
    x, y = x != 0, y != 0
    return (np.sum(x & y), np.sum(x & ~y), np.sum(~x & y), len(x))


def _kulsinski(x, y):
    both, only_x, only_y, n = _binary(x, y)
    differ = only_x + only_y
    return 0.0 if differ == 0 else (differ - both + n) / (differ + n)


def _rogers_tanimoto(x, y):
    _, only_x, only_y, n = _binary(x, y)
    return 2.0 * (only_x + only_y) / (n + only_x + only_y)


def _hellinger(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.sqrt(max(1.0 - np.sum(np.sqrt(x * y)) / np.sqrt(x.sum() * y.sum()), 0.0))


def _ll_dirichlet(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    n_x, n_y = x.sum(), y.sum()
    both = (x * y) > 0.9
    shared = betaln(x[both], y[both]).sum()
    self_x = betaln(x[x > 0.9], x[x > 0.9]).sum()
    self_y = betaln(y[y > 0.9], y[y > 0.9]).sum()
    total = (shared - betaln(n_x, n_y) - (self_y - betaln(n_y, n_y))) / n_y \
        + (shared - betaln(n_y, n_x) - (self_x - betaln(n_x, n_x))) / n_x
    return np.sqrt(max(total, 0.0))


def _symmetric_kl(x, y, z=1e-11):
    p = (x.astype(np.float64) + z) / np.sum(x.astype(np.float64) + z)
    q = (y.astype(np.float64) + z) / np.sum(y.astype(np.float64) + z)
    return 0.5 * (np.sum(p * np.log(p / q)) + np.sum(q * np.log(q / p)))


def _poincare(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    delta = 2 * np.sum((x - y) ** 2) / ((1 - x @ x) * (1 - y @ y))
    return np.arccosh(1 + delta)


def _haversine(x, y):
    from sklearn.metrics.pairwise import haversine_distances

    return haversine_distances(x[None].astype(np.float64), y[None].astype(np.float64))[0, 0]


def _haversine_polar(x, y):
    """Great-circle distance with the first coordinate the angle from the pole."""
    return _haversine(np.array([np.pi / 2 - x[0], x[1]]), np.array([np.pi / 2 - y[0], y[1]]))


def _hyperboloid(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.arccosh(max(np.sqrt(1 + x @ x) * np.sqrt(1 + y @ y) - x @ y, 1.0))


def _russellrao(x, y):
    both, only_x, only_y, n = _binary(x, y)
    return 0.0 if only_x == only_y == 0 else (n - both) / n


def _scipy(name, **kwds):
    return lambda x, y: sd.cdist(x[None].astype(np.float64), y[None].astype(np.float64), name,
                                 **kwds)[0, 0]


def _scipy_bool(name):
    return lambda x, y: sd.cdist(x[None] != 0, y[None] != 0, name)[0, 0]


WIDTH = 6
_V = np.linspace(0.5, 2.0, WIDTH)
_W = np.linspace(0.2, 1.5, WIDTH)
_A = np.random.RandomState(9).normal(size=(WIDTH, WIDTH))
_VI = _A @ _A.T + 0.5 * np.eye(WIDTH)

# name -> (metric_kwds, reference(x, y))
CASES = {
    "euclidean": ({}, _scipy("euclidean")),
    "manhattan": ({}, _scipy("cityblock")),
    "chebyshev": ({}, _scipy("chebyshev")),
    "minkowski": ({"p": 3.0}, _scipy("minkowski", p=3.0)),
    "cosine": ({}, _scipy("cosine")),
    "correlation": ({}, _scipy("correlation")),
    "canberra": ({}, _scipy("canberra")),
    "braycurtis": ({}, _scipy("braycurtis")),
    "hamming": ({}, _scipy_bool("hamming")),
    "jaccard": ({}, _scipy_bool("jaccard")),
    "seuclidean": ({"V": _V}, _scipy("seuclidean", V=_V)),
    "wminkowski": ({"w": _W, "p": 3.0}, _scipy("minkowski", p=3.0, w=_W)),
    "mahalanobis": ({"VI": _VI}, _scipy("mahalanobis", VI=_VI)),
    "haversine": ({}, _haversine),
    "hellinger": ({}, _hellinger),
    "ll_dirichlet": ({}, _ll_dirichlet),
    "symmetric_kl": ({}, _symmetric_kl),
    "poincare": ({}, _poincare),
    "dice": ({}, _scipy_bool("dice")),
    "kulsinski": ({}, _kulsinski),
    "matching": ({}, _scipy_bool("hamming")),
    "rogerstanimoto": ({}, _scipy_bool("rogerstanimoto")),
    "russellrao": ({}, _russellrao),
    "sokalmichener": ({}, _rogers_tanimoto),
    "sokalsneath": ({}, _scipy_bool("sokalsneath")),
    "yule": ({}, _scipy_bool("yule")),
    "hyperboloid": ({}, _hyperboloid),
    "haversine_polar": ({}, _haversine_polar),
}
SPECS = {spec.name: spec for spec in metrics.METRICS}


def test_every_metric_of_the_table_is_tested():
    assert set(CASES) == set(SPECS)


def _resolved(name, rows):
    kwds, _ = CASES[name]
    spec = SPECS[name]
    if spec.input:
        return metrics.resolve_metric(name, kwds).bind(rows)
    return metrics.resolve_metric(name, kwds, role="output_metric").for_output(rows.shape[1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_distance_matches_reference(name):
    rows = rows_for(SPECS[name], n=12, width=WIDTH, seed=1)
    metric = _resolved(name, rows)
    ours = metric.pairwise(rows[:5], rows[5:])
    _, reference = CASES[name]
    expected = np.array([[reference(x, y) for y in rows[5:]] for x in rows[:5]])
    np.testing.assert_allclose(ours, expected, rtol=2e-4, atol=2e-5)
    # A row's distance to itself is 0 (every umap-learn metric here is 0 on the diagonal).
    assert np.allclose(np.diag(metric.pairwise(rows, rows)), 0.0, atol=1e-5)


@pytest.mark.parametrize("name", sorted(n for n in CASES if SPECS[n].gradient))
def test_gradient_matches_finite_differences(name):
    spec = SPECS[name]
    rows = rows_for(spec, n=10, width=WIDTH, seed=2).astype(np.float64)
    if spec.domain in ("nonnegative", "counts"):
        rows += 0.2  # away from the kink at zero
    metric = _resolved(name, rows.astype(np.float32))
    args = metric.distance_args
    step = 1e-6
    for x, y in zip(rows[:5], rows[5:]):
        grad = np.empty(len(x))
        value = metrics.gradient(args, x, y, grad)
        assert value == pytest.approx(metric.pairwise(x[None], y[None])[0, 0], rel=1e-3,
                                      abs=1e-5)
        numeric = np.empty(len(x))
        for i in range(len(x)):
            up, down = x.copy(), x.copy()
            up[i] += step
            down[i] -= step
            numeric[i] = (metrics.gradient(args, up, y, np.empty(len(x)))
                          - metrics.gradient(args, down, y, np.empty(len(x)))) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


def test_metrics_without_gradient_are_the_discrete_ones():
    without = {spec.name for spec in metrics.METRICS if not spec.gradient}
    assert without == set(BINARY) | {"ll_dirichlet"}


@pytest.mark.parametrize("alias, name", [
    ("l1", "manhattan"), ("taxicab", "manhattan"), ("cityblock", "manhattan"),
    ("l2", "euclidean"), ("linf", "chebyshev"), ("linfinity", "chebyshev"),
    ("linfty", "chebyshev"), ("infinity", "chebyshev"),
    ("standardised_euclidean", "seuclidean"), ("weighted_minkowski", "wminkowski"),
    ("SEUCLIDEAN", "seuclidean"),
])
def test_aliases(alias, name):
    assert metrics.resolve_metric(alias).name == name


# -- metric_kwds ---------------------------------------------------------------------------------


def test_umap_learn_and_scipy_names_of_array_parameters_agree():
    rows = rows_for(SPECS["seuclidean"], width=WIDTH)
    by_v = metrics.resolve_metric("seuclidean", {"V": _V}).bind(rows)
    by_sigma = metrics.resolve_metric("seuclidean", {"sigma": _V}).bind(rows)
    assert np.array_equal(by_v.pairwise(rows, rows), by_sigma.pairwise(rows, rows))
    by_vi = metrics.resolve_metric("mahalanobis", {"VI": _VI}).bind(rows)
    by_vinv = metrics.resolve_metric("mahalanobis", {"vinv": _VI}).bind(rows)
    by_v = metrics.resolve_metric("mahalanobis", {"V": np.linalg.inv(_VI)}).bind(rows)
    np.testing.assert_array_equal(by_vi.pairwise(rows, rows), by_vinv.pairwise(rows, rows))
    np.testing.assert_allclose(by_v.pairwise(rows, rows), by_vi.pairwise(rows, rows),
                               rtol=1e-4, atol=1e-5)


def test_array_parameters_default_to_the_data():
    rows = rows_for(SPECS["seuclidean"], n=60, width=WIDTH, seed=3).astype(np.float64)
    seuclidean = metrics.resolve_metric("seuclidean").bind(rows.astype(np.float32))
    np.testing.assert_allclose(seuclidean.vector, rows.var(axis=0, ddof=1), rtol=1e-5)
    expected = sd.cdist(rows[:3], rows[3:9], "seuclidean", V=rows.var(axis=0, ddof=1))
    np.testing.assert_allclose(seuclidean.pairwise(rows[:3], rows[3:9]), expected, rtol=1e-4)
    mahalanobis = metrics.resolve_metric("mahalanobis").bind(rows.astype(np.float32))
    expected = sd.cdist(rows[:3], rows[3:9], "mahalanobis",
                        VI=np.linalg.inv(np.cov(rows, rowvar=False)))
    np.testing.assert_allclose(mahalanobis.pairwise(rows[:3], rows[3:9]), expected, rtol=1e-3)
    wminkowski = metrics.resolve_metric("wminkowski", {"p": 3}).bind(rows.astype(np.float32))
    np.testing.assert_array_equal(wminkowski.vector, np.ones(WIDTH))


def test_constant_columns_leave_seuclidean_finite():
    rows = rows_for(SPECS["seuclidean"], n=30, width=WIDTH)
    rows[:, 2] = 4.0
    metric = metrics.resolve_metric("seuclidean").bind(rows)
    assert np.all(np.isfinite(metric.pairwise(rows, rows)))


@pytest.mark.parametrize("name, kwds, message", [
    ("seuclidean", {"V": [1.0, -1.0]}, "positive"),
    ("seuclidean", {"V": "abc"}, "1-d array"),
    ("seuclidean", {"V": [1.0, np.nan]}, "NaN"),
    ("seuclidean", {"V": [1.0], "sigma": [1.0]}, "same parameter"),
    ("mahalanobis", {"VI": np.ones((2, 3))}, "square"),
    ("mahalanobis", {"VI": [[1.0, 2.0], [0.0, 1.0]]}, "symmetric"),
    ("mahalanobis", {"VI": [[1.0, 0.0], [0.0, -1.0]]}, "positive semi-definite"),
    ("wminkowski", {"w": [1.0, -2.0]}, "non-negative"),
    ("wminkowski", {"p": 0.5}, ">= 1"),
    ("symmetric_kl", {"z": 0}, "positive"),
    ("haversine", {"p": 2}, "not understood"),
    ("hyperboloid", {}, "output metric only"),
])
def test_bad_metric_kwds_raise_clear_errors(name, kwds, message):
    with pytest.raises(ValueError, match=message):
        metrics.resolve_metric(name, kwds)


@pytest.mark.parametrize("name, kwds, data, message", [
    ("seuclidean", {"V": [1.0, 2.0]}, np.ones((20, 3)), "vector parameter has 2 values"),
    ("mahalanobis", {"VI": np.eye(2)}, np.ones((20, 3)), "matrix parameter has shape"),
    ("haversine", {}, np.zeros((20, 3)), "2 values"),
    ("hellinger", {}, -np.ones((20, 3)), "non-negative"),
    ("symmetric_kl", {}, -np.ones((20, 3)), "non-negative"),
    ("ll_dirichlet", {}, np.zeros((20, 3)), "positive total"),
    ("poincare", {}, np.ones((20, 3)), "unit ball"),
])
def test_data_outside_the_metric_domain_is_refused(name, kwds, data, message):
    with pytest.raises(ValueError, match=message):
        umapx.UMAP(metric=name, metric_kwds=kwds, n_neighbors=5, n_epochs=5).fit(data)


# -- whole models under every input metric ---------------------------------------------------------

INPUT_METRICS = sorted(name for name, spec in SPECS.items() if spec.input)


@pytest.mark.filterwarnings("ignore:.*(support of the embedding|have no edge)")
@pytest.mark.parametrize("name", INPUT_METRICS)
def test_fit_transform_inverse_and_save_under_every_metric(name, tmp_path):
    spec = SPECS[name]
    rows = rows_for(spec, n=150, width=WIDTH, seed=5)
    kwds, _ = CASES[name]
    mapper = umapx.UMAP(metric=name, metric_kwds=kwds or None, n_neighbors=8, n_epochs=30,
                        random_state=0).fit(rows[:120])
    assert np.all(np.isfinite(mapper.embedding_))
    placed = mapper.transform(rows[120:])
    assert placed.shape == (30, 2) and np.all(np.isfinite(placed))
    if spec.centre is not None:
        samples = mapper.inverse_transform(placed)
        assert samples.shape == (30, rows.shape[1]) and np.all(np.isfinite(samples))
        low, high = rows[:120].min(axis=0), rows[:120].max(axis=0)
        assert np.all(samples >= low - 1e-5) and np.all(samples <= high + 1e-5)
    else:
        with pytest.raises(ValueError, match="inverse_transform is not available"):
            mapper.inverse_transform(placed)
    path = tmp_path / f"{name}.umapx"
    mapper.save(path)
    loaded = umapx.load(path)
    np.testing.assert_array_equal(loaded.transform(rows[120:]), placed)
    assert loaded.fitted_state.metric == mapper.fitted_state.metric


def test_inverse_under_mean_centred_metrics_is_the_weighted_mean():
    """seuclidean and mahalanobis blend by the weighted mean: the minimiser of the weighted
    sum of their squared distances, whatever the (co)variances."""
    rows = rows_for(SPECS["euclidean"], n=200, width=WIDTH, seed=6)
    euclidean = umapx.UMAP(n_neighbors=10, n_epochs=30, random_state=0).fit(rows)
    points = euclidean.embedding_[:20] + 0.1
    for name, kwds in (("seuclidean", {"V": _V}), ("mahalanobis", {"VI": _VI})):
        other = umapx.UMAP(n_neighbors=10, n_epochs=30, random_state=0, metric=name,
                           metric_kwds=kwds).fit(rows)
        state = other.fitted_state
        dists, idx = state.inverse.index.query(points.astype(np.float64), 11)
        from umapx.inverse import interpolation_weights

        weights = interpolation_weights(dists, state.a, state.b)
        expected = np.einsum("qk,qkf->qf", weights, rows[idx[:, :10]].astype(np.float64))
        np.testing.assert_allclose(other.inverse_transform(points), expected, rtol=1e-4,
                                   atol=1e-5)


def test_functions_of_umapx_distances_run_as_the_built_in_metric(tmp_path):
    from umapx import distances

    rows = rows_for(SPECS["hellinger"], n=120, width=WIDTH)
    by_name = umapx.UMAP(metric="hellinger", n_neighbors=8, n_epochs=20, random_state=0)
    by_function = umapx.UMAP(metric=distances.hellinger, n_neighbors=8, n_epochs=20,
                             random_state=0)
    np.testing.assert_array_equal(by_name.fit_transform(rows), by_function.fit_transform(rows))
    by_function.save(tmp_path / "model.umapx")  # a built-in metric: it can be saved
    assert umapx.distances.named_distances["l1"] is distances.manhattan
    assert "hyperboloid" in umapx.distances.named_distances_with_gradients


@pytest.mark.parametrize("name", ["euclidean", "hellinger", "haversine_polar", "mahalanobis"])
def test_public_distance_functions_agree_with_the_table(name):
    from umapx import distances

    spec = SPECS[name]
    rows = rows_for(spec, n=4, width=WIDTH, seed=8)
    metric = _resolved(name, rows)
    if name == "haversine_polar":  # umap-learn's haversine_grad: the output metric's convention
        value, grad = distances.haversine_grad(rows[0], rows[1])
        assert value == pytest.approx(metric.pairwise(rows[:1], rows[1:2])[0, 0], rel=1e-5)
        return
    function = distances.named_distances[name]
    kwds = {"vinv": metric.matrix} if name == "mahalanobis" else {}
    assert function(rows[0], rows[1], **kwds) == pytest.approx(
        metric.pairwise(rows[:1], rows[1:2])[0, 0], rel=1e-5)
    value, grad = distances.named_distances_with_gradients[name](rows[0], rows[1], **kwds)
    assert value == pytest.approx(function(rows[0], rows[1], **kwds), rel=1e-5)
    assert grad.shape == (rows.shape[1],)

    if not kwds:
        @numba.njit
        def inside_numba(x, y):  # callable from the user's own numba code
            return function(x, y)

        assert inside_numba(rows[0], rows[1]) == pytest.approx(function(rows[0], rows[1]))


@pytest.mark.parametrize("name", ["seuclidean", "mahalanobis", "hellinger", "dice",
                                  "haversine", "symmetric_kl"])
def test_new_metrics_are_deterministic_across_threads(name):
    """Exact and approximate search, layout and transform: the same whatever n_jobs."""
    rows = rows_for(SPECS[name], n=300, width=WIDTH, seed=7)
    results = []
    for n_jobs in (1, 2):
        mapper = umapx.UMAP(metric=name, n_neighbors=8, n_epochs=20, random_state=3,
                            n_jobs=n_jobs, force_approximation_algorithm=True).fit(rows[:250])
        results.append((mapper.embedding_, mapper.transform(rows[250:])))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])

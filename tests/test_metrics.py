"""Distances against scipy, gradients against finite differences, metric resolution."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.spatial import distance as scipy_distance

from umapx import metrics

SCIPY_NAMES = {
    "euclidean": "euclidean",
    "manhattan": "cityblock",
    "chebyshev": "chebyshev",
    "cosine": "cosine",
    "correlation": "correlation",
    "canberra": "canberra",
    "braycurtis": "braycurtis",
}


@pytest.fixture
def rows():
    rng = np.random.RandomState(1)
    return rng.normal(size=(12, 7)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(SCIPY_NAMES))
def test_distances_match_scipy(name, rows):
    metric = metrics.resolve_metric(name)
    ours = metric.pairwise(rows[:5], rows[5:])
    reference = scipy_distance.cdist(rows[:5].astype(np.float64), rows[5:].astype(np.float64),
                                     SCIPY_NAMES[name])
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5)


def test_minkowski_matches_scipy(rows):
    metric = metrics.resolve_metric("minkowski", {"p": 3})
    reference = scipy_distance.cdist(rows[:5], rows[5:], "minkowski", p=3)
    np.testing.assert_allclose(metric.pairwise(rows[:5], rows[5:]), reference, rtol=1e-4)


def test_binary_metrics_match_scipy():
    rng = np.random.RandomState(2)
    binary = (rng.rand(10, 20) > 0.5).astype(np.float32)
    for name in ("hamming", "jaccard"):
        reference = scipy_distance.cdist(binary[:4] > 0, binary[4:] > 0, name)
        np.testing.assert_allclose(metrics.resolve_metric(name).pairwise(binary[:4], binary[4:]),
                                   reference, rtol=1e-6)


def test_search_distances_preserve_order(rows):
    """The cheap search distances rank neighbours exactly as the true metrics do."""
    for name in ("euclidean", "cosine", "correlation"):
        metric = metrics.resolve_metric(name)
        prepared = metric.prepare(rows)
        true = metric.pairwise(rows[:1], rows)[0]
        search = metric.pairwise(prepared[:1], prepared, search=True)[0]
        true_order = np.argsort(true, kind="stable")[1:]
        assert np.array_equal(true_order, np.argsort(search, kind="stable")[1:])


@pytest.mark.parametrize("name", ["euclidean", "manhattan", "chebyshev", "minkowski", "cosine",
                                  "correlation", "canberra", "braycurtis"])
def test_gradients_match_finite_differences(name):
    rng = np.random.RandomState(3)
    metric = metrics.resolve_metric(name, {"p": 3.0} if name == "minkowski" else None)
    assert metric.has_gradient
    for _ in range(5):
        x = rng.normal(size=6)
        y = rng.normal(size=6)
        grad = np.empty(6)
        value = metrics.gradient(metric.distance_args, x, y, grad)
        assert value == pytest.approx(metric.pairwise(x[None], y[None])[0, 0], rel=1e-4)
        step = 1e-6
        numeric = np.empty(6)
        for i in range(6):
            up, down = x.copy(), x.copy()
            up[i] += step
            down[i] -= step
            plus = metrics.gradient(metric.distance_args, up, y, np.empty(6))
            minus = metrics.gradient(metric.distance_args, down, y, np.empty(6))
            numeric[i] = (plus - minus) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("spec", metrics.METRICS, ids=lambda spec: spec.name)
def test_every_table_entry_is_handled_by_the_kernels(spec, rows):
    """A metric of the table has a branch in ``distance`` (and ``gradient`` if it says so)."""
    positive = np.abs(rows)  # positive rows suit every metric but a few
    if spec.domain in ("counts", "unit_ball", "latitude_longitude", "polar_azimuth"):
        pytest.skip("checked with rows of its domain in tests/compat/test_metrics_dense.py")
    if spec.input:
        metric = metrics.resolve_metric(spec.name).bind(positive)
    else:
        metric = metrics.resolve_metric(spec.name, role="output_metric").for_output(7)
    x, y = positive[0], positive[1]
    assert np.isfinite(metrics.distance(metric.distance_args, x, y))
    if spec.gradient:
        out = np.empty(len(x))
        assert np.isfinite(metrics.gradient(metric.distance_args, x.astype(np.float64),
                                            y.astype(np.float64), out))
    assert spec.search in metrics.SEARCH_KINDS
    assert spec.centre is None or spec.centre in metrics.CENTRE_KINDS
    for name in (spec.name, *spec.aliases):
        role = "metric" if spec.input else "output_metric"
        assert metrics.resolve_metric(name, role=role).spec is spec


def test_table_names_are_unique():
    names = [name for spec in metrics.METRICS for name in (spec.name, *spec.aliases)]
    assert len(names) == len(set(names))
    assert len({spec.code for spec in metrics.METRICS}) == len(metrics.METRICS)


def test_discrete_metrics_have_no_gradient():
    assert not metrics.resolve_metric("hamming").has_gradient
    assert not metrics.resolve_metric("jaccard").has_gradient


def test_aliases_resolve_to_canonical_names():
    assert metrics.resolve_metric("l2").name == "euclidean"
    assert metrics.resolve_metric("cityblock").name == "manhattan"
    assert metrics.resolve_metric("L1").name == "manhattan"


@pytest.mark.parametrize("metric, kwds, message", [
    ("nope", None, "metric='nope' is not supported"),
    ("minkowski", {"p": 0.5}, "p"),
    ("minkowski", {"q": 2}, "not understood"),
    ("euclidean", {"p": 2}, "not understood"),
    (3, None, "metric must be a string"),
    (lambda x, y: 0.0, None, "numba"),
])
def test_bad_metrics_raise_clear_errors(metric, kwds, message):
    with pytest.raises(ValueError, match=message):
        metrics.resolve_metric(metric, kwds)


def test_user_metric_is_used_by_the_kernels(rows):
    @numba.njit
    def weighted_l1(x, y):
        total = 0.0
        for i in range(x.shape[0]):
            total += (i + 1) * abs(x[i] - y[i])
        return total

    metric = metrics.resolve_metric(weighted_l1)
    assert metric.name == "weighted_l1" and not metric.has_gradient
    weights = np.arange(1, 8)
    expected = np.abs(rows[:3, None, :] - rows[None, 3:, :]) @ weights
    np.testing.assert_allclose(metric.pairwise(rows[:3], rows[3:]), expected, rtol=1e-5)

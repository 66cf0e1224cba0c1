"""Property-based tests (hypothesis): any parameter value or input either works or is refused
with a ValueError/TypeError that names the problem; never a crash, a hang or a silent NaN."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import umapx

DATA = np.random.RandomState(0).normal(size=(40, 5)).astype(np.float32)
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

numbers = st.one_of(
    st.integers(-5, 50),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.none(),
    st.booleans(),
    st.text(max_size=3),
)


@FAST
@given(name=st.sampled_from(["n_neighbors", "n_components", "min_dist", "spread",
                             "learning_rate", "set_op_mix_ratio", "local_connectivity",
                             "repulsion_strength", "negative_sample_rate", "n_epochs",
                             "transform_seed", "n_jobs"]),
       value=numbers)
def test_any_parameter_value_fits_or_names_itself(name, value):
    params = {"n_epochs": 5, "random_state": 0, name: value}
    try:
        embedding = umapx.UMAP(**params).fit_transform(DATA)
    except ValueError as error:
        assert name in str(error) or "min_dist" in str(error) or "n_samples" in str(error)
        return
    assert np.all(np.isfinite(embedding))


@FAST
@given(X=arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 4)),
                elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_any_array_fits_or_is_refused_clearly(X):
    try:
        embedding = umapx.UMAP(n_neighbors=3, n_epochs=5, random_state=0).fit_transform(X)
    except ValueError as error:
        message = str(error)
        assert any(word in message for word in ("NaN", "infinity", "sample", "n_neighbors",
                                                "too large", "feature", "Rescale"))
        return
    assert embedding.shape == (X.shape[0], 2)
    assert np.all(np.isfinite(embedding))


@FAST
@given(X=arrays(np.float64, st.tuples(st.integers(0, 5), st.integers(1, 8)),
                elements=st.floats(-1e6, 1e6, width=32)))
def test_transform_refuses_wrong_width_and_accepts_the_right_one(X):
    mapper = _fitted()
    if X.shape[0] == 0:
        with pytest.raises(ValueError, match="0 sample"):
            mapper.transform(X)
    elif X.shape[1] != 5:
        with pytest.raises(ValueError, match="features"):
            mapper.transform(X)
    else:
        result = mapper.transform(X)
        assert result.shape == (X.shape[0], 2) and np.all(np.isfinite(result))


_CACHE = {}


def _fitted():
    if "model" not in _CACHE:
        _CACHE["model"] = umapx.UMAP(n_neighbors=5, n_epochs=20, random_state=0).fit(DATA)
    return _CACHE["model"]

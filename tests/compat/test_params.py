"""Every constructor parameter of umap-learn 0.5.12's UMAP: same names, order and defaults; each
with its effect, validated, or refused with a clear error."""

from __future__ import annotations

import inspect
import io

import numpy as np
import pytest
import scipy.sparse

import umapx
from umapx import _validation

# umap-learn 0.5.12's UMAP.__init__, in order, with its defaults (its API, written down here
# so that the test needs no umap-learn).
UMAP_LEARN_PARAMETERS = [
    ("n_neighbors", 15), ("n_components", 2), ("metric", "euclidean"), ("metric_kwds", None),
    ("output_metric", "euclidean"), ("output_metric_kwds", None), ("n_epochs", None),
    ("learning_rate", 1.0), ("init", "spectral"), ("min_dist", 0.1), ("spread", 1.0),
    ("low_memory", True), ("n_jobs", -1), ("set_op_mix_ratio", 1.0),
    ("local_connectivity", 1.0), ("repulsion_strength", 1.0), ("negative_sample_rate", 5),
    ("transform_queue_size", 4.0), ("a", None), ("b", None), ("random_state", None),
    ("angular_rp_forest", False), ("target_n_neighbors", -1), ("target_metric", "categorical"),
    ("target_metric_kwds", None), ("target_weight", 0.5), ("transform_seed", 42),
    ("transform_mode", "embedding"), ("force_approximation_algorithm", False),
    ("verbose", False), ("tqdm_kwds", None), ("unique", False), ("densmap", False),
    ("dens_lambda", 2.0), ("dens_frac", 0.3), ("dens_var_shift", 0.1), ("output_dens", False),
    ("disconnection_distance", None), ("precomputed_knn", (None, None, None)),
]


def test_signature_is_umap_learns_then_umapx_own():
    parameters = list(inspect.signature(umapx.UMAP.__init__).parameters.values())[1:]
    ours = [(p.name, p.default) for p in parameters]
    assert ours[: len(UMAP_LEARN_PARAMETERS)] == UMAP_LEARN_PARAMETERS
    assert [name for name, _ in ours[len(UMAP_LEARN_PARAMETERS):]] == ["knn_method"]
    assert set(_validation.PARAMETERS) == {name for name, _ in ours}


def test_positional_arguments_mean_what_they_mean_in_umap_learn():
    mapper = umapx.UMAP(10, 3, "cosine", None, "euclidean", None, 50)
    assert (mapper.n_neighbors, mapper.n_components, mapper.metric, mapper.n_epochs) == \
        (10, 3, "cosine", 50)


@pytest.fixture(scope="module")
def data(clustered):
    return clustered[0]


def _fit(data, **params):
    return umapx.UMAP(**{"n_neighbors": 8, "n_epochs": 30, "random_state": 0, **params}).fit(data)


# -- parameters of the variants (their behaviour: tests/test_variants.py) ----------------------

@pytest.mark.parametrize("target_metric", ["l1", "l2", "ordinal", "count"])
def test_target_metrics_are_used_only_with_y(target_metric, clustered):
    data, labels = clustered
    mapper = umapx.UMAP(n_neighbors=8, n_epochs=10, target_metric=target_metric,
                        target_n_neighbors=5, target_metric_kwds={}, random_state=0)
    plain = mapper.fit_transform(data)  # without y: no target at all
    np.testing.assert_array_equal(plain, umapx.UMAP(n_neighbors=8, n_epochs=10,
                                                    random_state=0).fit_transform(data))
    assert mapper.fit(data, labels.astype(float)).graph_.nnz != 0


def test_densmap_settings_and_defaults_work(data):
    mapper = _fit(data, dens_lambda=0.0, dens_frac=1.0, dens_var_shift=0.0)
    assert np.all(np.isfinite(mapper.embedding_))


@pytest.mark.parametrize("params, message", [
    ({"dens_lambda": -1.0}, "dens_lambda"),
    ({"dens_frac": 1.5}, "dens_frac"),
    ({"dens_var_shift": -0.1}, "dens_var_shift"),
    ({"densmap": "yes"}, "densmap"),
    ({"unique": 1}, "unique"),
    ({"output_dens": None}, "output_dens"),
    ({"target_n_neighbors": 1}, "target_n_neighbors"),
    ({"target_n_neighbors": 0}, "target_n_neighbors"),
    ({"target_metric": "nope"}, "target_metric"),
    ({"target_metric_kwds": [1]}, "target_metric_kwds"),
    ({"transform_mode": "both"}, "transform_mode"),
    ({"tqdm_kwds": "disable"}, "tqdm_kwds"),
    ({"angular_rp_forest": "no"}, "angular_rp_forest"),
    ({"disconnection_distance": 0}, "disconnection_distance"),
    ({"disconnection_distance": "far"}, "disconnection_distance"),
    ({"output_metric": "nope"}, "output_metric"),
    ({"output_metric_kwds": 3}, "output_metric_kwds"),
    ({"n_epochs": [10, -1]}, "n_epochs"),
    ({"n_epochs": []}, "n_epochs"),
    ({"precomputed_knn": "abc"}, "precomputed_knn"),
])
def test_bad_values_of_the_new_parameters_name_them(params, message, data):
    with pytest.raises(ValueError, match=message):
        _fit(data, **params)


# -- parameters with an effect ------------------------------------------------------------------

def test_angular_rp_forest_is_accepted_without_effect(data):
    first = _fit(data, angular_rp_forest=True, force_approximation_algorithm=True)
    second = _fit(data, angular_rp_forest=False, force_approximation_algorithm=True)
    np.testing.assert_array_equal(first.embedding_, second.embedding_)


def test_force_approximation_algorithm_uses_nndescent(data):
    assert _fit(data).fitted_state.index.method == "exact"
    assert _fit(data, force_approximation_algorithm=True).fitted_state.index.method == \
        "nndescent"


def test_tswspectral_is_the_spectral_layout(data):
    np.testing.assert_array_equal(_fit(data, init="tswspectral").embedding_,
                                  _fit(data, init="spectral").embedding_)


@pytest.mark.filterwarnings("ignore:The spectral initialisation failed")
def test_few_samples_shrink_n_neighbors_with_a_warning(data):
    with pytest.warns(UserWarning, match="n_neighbors=15 .* using n_neighbors=9"):
        mapper = umapx.UMAP(n_epochs=20, random_state=0).fit(data[:10])
    assert mapper._n_neighbors == 9 and mapper.knn_indices_.shape == (10, 9)
    assert mapper.n_neighbors == 15  # the parameter is left as given
    assert np.all(np.isfinite(mapper.embedding_))
    assert mapper.transform(data[10:14]).shape == (4, 2)
    assert np.all(np.isfinite(mapper.inverse_transform(mapper.embedding_[:3])))
    with pytest.warns(UserWarning, match="using n_neighbors=2"):
        assert umapx.UMAP(n_epochs=5).fit(data[:2]).embedding_.shape == (2, 2)


def test_a_single_sample_is_embedded_at_the_origin_as_in_umap_learn(data, tmp_path):
    mapper = umapx.UMAP(n_components=3).fit(data[:1])
    np.testing.assert_array_equal(mapper.embedding_, np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="single sample"):
        mapper.transform(data[1:3])
    with pytest.raises(ValueError, match="single sample"):
        mapper.inverse_transform(np.zeros((1, 3)))
    mapper.save(tmp_path / "one.umapx")
    np.testing.assert_array_equal(umapx.load(tmp_path / "one.umapx").embedding_,
                                  mapper.embedding_)


def test_n_epochs_list_keeps_the_embeddings_along_the_way(data):
    mapper = _fit(data, n_epochs=[0, 10, 30, 10])
    snapshots = mapper.embedding_list_
    assert len(snapshots) == 3  # epochs 0, 10 and 30
    np.testing.assert_array_equal(snapshots[-1], mapper.embedding_)
    np.testing.assert_array_equal(snapshots[0], _fit(data, n_epochs=0).embedding_)
    assert not np.array_equal(snapshots[1], snapshots[2])
    assert not hasattr(_fit(data), "embedding_list_")


# -- transform_mode ------------------------------------------------------------------------------

def test_graph_mode_builds_only_the_graph(data, tmp_path):
    graph_model = _fit(data[:180], transform_mode="graph")
    full = _fit(data[:180])
    assert not hasattr(graph_model, "embedding_")
    assert set(graph_model.timings_) == {"knn", "graph"}
    assert (graph_model.graph_ != full.graph_).nnz == 0
    assert graph_model.fit_transform(data[:180]) is graph_model.graph_
    new = graph_model.transform(data[180:])
    assert isinstance(new, scipy.sparse.coo_matrix) and new.shape == (30, 180)
    # The same memberships the embedding model uses to place those points.
    full.set_params(transform_mode="graph")
    assert abs(full.transform(data[180:]) - new).max() == 0
    dense = new.toarray()
    assert np.all((dense >= 0) & (dense <= 1)) and np.all(dense.max(axis=1) > 0)
    assert np.all((dense > 0).sum(axis=1) <= 8)
    assert list(graph_model.get_feature_names_out())[:2] == ["umap0", "umap1"]
    assert len(graph_model.get_feature_names_out()) == 180
    with pytest.raises(ValueError, match="transform_mode='graph'"):
        graph_model.inverse_transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="transform_mode='graph'"):
        graph_model.set_params(transform_mode="embedding").transform(data[180:])
    graph_model.set_params(transform_mode="graph").save(tmp_path / "graph.umapx")
    loaded = umapx.load(tmp_path / "graph.umapx")
    assert abs(loaded.transform(data[180:]) - new).max() == 0


# -- progress: verbose and tqdm_kwds --------------------------------------------------------------

def test_tqdm_kwds_description_file_and_disable(data):
    stream = io.StringIO()
    _fit(data, verbose=True, tqdm_kwds={"desc": "Optimising", "file": stream, "ncols": 80})
    assert "[Optimising] |" in stream.getvalue() and "30/30 epochs" in stream.getvalue()
    assert "knn done in" in stream.getvalue()
    quiet = io.StringIO()
    _fit(data, verbose=True, tqdm_kwds={"disable": True, "file": quiet})
    assert "knn done in" in quiet.getvalue() and "30/30 epochs" not in quiet.getvalue()
    silent = io.StringIO()
    _fit(data, tqdm_kwds={"file": silent})
    assert silent.getvalue() == ""


# -- disconnection_distance ------------------------------------------------------------------------

@pytest.mark.parametrize("metric, expected", [
    ("euclidean", np.inf), ("cosine", 2.0), ("correlation", 2.0), ("hellinger", 1.0),
    ("jaccard", 1.0), ("dice", 1.0), ("hamming", np.inf),
])
def test_disconnection_distance_defaults_as_in_umap_learn(metric, expected, data):
    assert _fit(data, metric=metric, n_epochs=0)._disconnection_distance == expected


def test_disconnection_distance_removes_far_edges(data, tmp_path):
    far = data.copy()
    far[:5] += 100.0  # five outliers, far from everything (and close to each other)
    plain = _fit(far)
    limit = float(np.percentile(plain.knn_dists_[:, 1:], 90))
    with pytest.warns(UserWarning, match="disconnection_distance"):
        cut = _fit(far, disconnection_distance=limit)
    kept = cut.knn_dists_[cut.knn_indices_ >= 0]
    assert kept.max() < limit and np.count_nonzero(cut.knn_indices_ < 0) > 0
    assert np.all(cut.knn_indices_[:, 0] == np.arange(len(far)))  # each point keeps itself
    assert cut.graph_.nnz < plain.graph_.nnz
    isolated = umapx.utils.disconnected_vertices(cut)
    assert isolated.dtype == bool and np.all(np.isfinite(cut.embedding_))
    # New points beyond the distance from every training point get no membership at all.
    graph = cut.set_params(transform_mode="graph").transform(far[:5] + 1000.0)
    assert graph.nnz == 0
    cut.set_params(transform_mode="embedding")
    assert np.all(np.isfinite(cut.transform(far[:5] + 1000.0)))
    cut.save(tmp_path / "cut.umapx")
    assert umapx.load(tmp_path / "cut.umapx")._disconnection_distance == limit


# -- determinism and persistence of the new parameters ---------------------------------------------

def test_new_parameters_are_saved_and_loaded(data, tmp_path):
    mapper = _fit(data, n_epochs=[5, 20], tqdm_kwds={"desc": "x"}, disconnection_distance=50.0,
                  angular_rp_forest=True, target_metric="l2", target_n_neighbors=4,
                  dens_lambda=1.5)
    mapper.save(tmp_path / "model.umapx")
    loaded = umapx.load(tmp_path / "model.umapx")
    assert loaded.get_params() == mapper.get_params()
    np.testing.assert_array_equal(np.stack(loaded.embedding_list_),
                                  np.stack(mapper.embedding_list_))
    np.testing.assert_array_equal(loaded.transform(data[:7] + 0.1),
                                  mapper.transform(data[:7] + 0.1))


def test_old_files_still_load(tmp_path):
    from pathlib import Path

    for path in sorted((Path(__file__).parents[1] / "data").glob("*-v1.umapx")):
        mapper = umapx.load(path)
        assert mapper.output_metric == "euclidean" and mapper.transform_mode == "embedding"
        assert np.isinf(mapper._disconnection_distance)  # what the old fits did
        point = mapper.embedding_[:3]
        assert np.all(np.isfinite(mapper.inverse_transform(point)))
        mapper.save(tmp_path / path.name)  # re-saved in the current format
        again = umapx.load(tmp_path / path.name)
        np.testing.assert_array_equal(again.inverse_transform(point),
                                      mapper.inverse_transform(point))


def test_ensure_all_finite_lets_nan_through_to_user_metrics_only(data):
    import numba

    @numba.njit
    def observed_l1(x, y):
        total = 0.0
        for i in range(x.shape[0]):
            if np.isfinite(x[i]) and np.isfinite(y[i]):
                total += abs(x[i] - y[i])
        return total

    holes = data.copy()
    holes[::7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):  # by default NaN is refused
        _fit(holes, metric=observed_l1)
    model = umapx.UMAP(metric=observed_l1, n_neighbors=8, n_epochs=20, random_state=0)
    embedding = model.fit_transform(holes, ensure_all_finite="allow-nan")
    assert np.all(np.isfinite(embedding))
    assert np.all(np.isfinite(model.transform(holes[:5], ensure_all_finite="allow-nan")))
    # update passes the setting on to the placement of its new rows (it transforms them)
    model.update(holes[:14], ensure_all_finite="allow-nan", n_epochs=5)
    assert model.embedding_.shape[0] == len(holes) + 14
    assert np.all(np.isfinite(model.embedding_))
    with pytest.raises(ValueError, match="NaN"):
        model.update(holes[:14])
    with pytest.raises(ValueError, match="only lets non-finite values through"):
        umapx.UMAP(n_neighbors=8).fit(holes, ensure_all_finite=False)
    with pytest.raises(ValueError, match="ensure_all_finite"):
        umapx.UMAP(n_neighbors=8).fit(data, ensure_all_finite="sometimes")

"""AlignedUMAP and expand_relations: fit, alignment, per-slice transform and inverse,
update, save/load, determinism with threads and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.manifold import trustworthiness

import umapx
import umapx as umap
from umapx.aligned_umap import AlignedUMAP, expand_relations
from umapx.evaluation import alignment_error
from umapx.persistence import ModelFormatError

N_EPOCHS = 100


def _overlapping_slices(data, n_slices, size, step):
    """Windows of rows sorted along one feature (with noise), as umap-learn's examples build
    them, and the relations between consecutive windows (the rows they share)."""
    order = np.argsort(data[:, 20] + np.random.RandomState(0).normal(0, 0.1, len(data)))
    windows = [order[i * step:i * step + size] for i in range(n_slices)]
    relations = []
    for first, second in zip(windows[:-1], windows[1:]):
        position = {row: j for j, row in enumerate(second)}
        relations.append({i: position[row] for i, row in enumerate(first) if row in position})
    return [data[w] for w in windows], relations


@pytest.fixture(scope="module")
def slices(digits):
    data, _ = digits
    return _overlapping_slices(data[:900].astype(np.float32), 3, 360, 180)


@pytest.fixture(scope="module")
def aligned(slices):
    data, relations = slices
    return AlignedUMAP(n_neighbors=10, n_epochs=N_EPOCHS, random_state=0).fit(
        data, relations=relations)


def test_expand_relations_chains_relations_through_the_window():
    relations = [{0: 1, 1: 0, 2: 2}, {0: 2, 1: 1}]
    result = expand_relations(relations, window_size=2)
    assert result.shape == (3, 5, 3) and result.dtype == np.int32
    np.testing.assert_array_equal(result[1, 1], [1, 0, 2])  # slice 1 -> 0
    np.testing.assert_array_equal(result[2, 1], [-1, 1, 0])  # slice 2 -> 1
    np.testing.assert_array_equal(result[2, 0], [-1, 0, 1])  # slice 2 -> 0 through 1
    # forward chains stop before the last relation, as umap-learn's do
    longer = expand_relations(relations + [{0: 0, 2: 1}], window_size=2)
    np.testing.assert_array_equal(longer[0, 3], [1, 0, 2])  # slice 0 -> 1
    np.testing.assert_array_equal(longer[0, 4], [1, 2, -1])  # slice 0 -> 2 through 1
    np.testing.assert_array_equal(longer[1, 3], [2, 1, -1])  # slice 1 -> 2
    np.testing.assert_array_equal(result[0, 3], [1, 0, 2])
    assert np.all(result[0, 4] == -1) and np.all(result[1, 3:] == -1)
    assert np.all(longer[2, 3:] == -1)
    assert np.all(result[:, 2] == -1)  # no relation to the same slice
    assert np.all(result[0, :2] == -1)


def test_expand_relations_bad_input():
    with pytest.raises(ValueError, match="list of dicts"):
        expand_relations({0: 1})
    with pytest.raises(ValueError, match="integer"):
        expand_relations([{0: "a"}])
    with pytest.raises(ValueError, match="window"):
        expand_relations([{0: 1}], window_size=0)


def test_drop_in_names():
    assert umap.AlignedUMAP is AlignedUMAP
    assert umap.aligned_umap.expand_relations is expand_relations


def test_fit_gives_aligned_embeddings_that_keep_each_slice(slices, aligned):
    data, relations = slices
    embeddings = aligned.embeddings_
    assert aligned.n_models_ == 3 and len(embeddings) == 3
    for x, embedding in zip(data, embeddings):
        assert embedding.shape == (len(x), 2) and embedding.dtype == np.float32
        assert np.all(np.isfinite(embedding))
        assert trustworthiness(x, embedding, n_neighbors=10) > 0.85
    assert aligned.dict_relations_ == relations
    # without the alignment term the same slices drift apart
    free = AlignedUMAP(n_neighbors=10, n_epochs=N_EPOCHS, random_state=0,
                       alignment_regularisation=0.0).fit(data, relations=relations)
    tied = alignment_error(embeddings, relations)
    assert np.all(tied < alignment_error(free.embeddings_, relations))
    assert np.all(tied < 0.15)  # 0.06-0.08 measured over 4 seeds on a generic CPU


def test_fit_transform_returns_the_embeddings(slices, aligned):
    data, relations = slices
    again = AlignedUMAP(n_neighbors=10, n_epochs=N_EPOCHS, random_state=0).fit_transform(
        data, relations=relations)
    for first, second in zip(again, aligned.embeddings_):
        np.testing.assert_array_equal(first, second)


def test_transform_and_inverse_of_each_slice(slices, aligned):
    data, _ = slices
    for i in (0, 2, -1):
        np.testing.assert_array_equal(aligned.transform(data[i][:15], slice=i),
                                      aligned.embeddings_[i][:15])
        samples = aligned.inverse_transform(aligned.embeddings_[i][:20], slice=i)
        assert samples.shape == (20, data[i].shape[1]) and np.all(np.isfinite(samples))
        own = np.linalg.norm(samples - data[i][:20], axis=1).mean()
        other = np.linalg.norm(samples - data[i][100:120], axis=1).mean()
        assert own < other
    _, confidence = aligned.inverse_transform(aligned.embeddings_[1][:4], slice=1,
                                              return_confidence=True)
    assert confidence.shape == (4,)


def test_save_and_load(tmp_path, slices, aligned):
    data, _ = slices
    aligned.save(tmp_path / "aligned.umapx")
    loaded = umapx.load(tmp_path / "aligned.umapx")
    assert isinstance(loaded, AlignedUMAP)
    assert loaded.get_params() == aligned.get_params()
    assert loaded.dict_relations_ == aligned.dict_relations_
    for first, second in zip(loaded.embeddings_, aligned.embeddings_):
        np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(loaded.transform(data[1][:30] + 0.01, slice=1),
                                  aligned.transform(data[1][:30] + 0.01, slice=1))
    np.testing.assert_array_equal(
        loaded.inverse_transform(aligned.embeddings_[2][:5], slice=2),
        aligned.inverse_transform(aligned.embeddings_[2][:5], slice=2))
    with pytest.raises(ModelFormatError, match="AlignedUMAP"):
        umapx.estimator.load(tmp_path / "aligned.umapx")


def test_model_kind_tells_the_files_apart(tmp_path, aligned):
    from umapx.persistence import model_kind

    aligned.save(tmp_path / "aligned.umapx")
    single = umapx.UMAP(n_neighbors=5, n_epochs=5, random_state=0).fit(
        np.random.default_rng(0).normal(size=(40, 3)))
    single.save(tmp_path / "single.umapx")
    assert model_kind(tmp_path / "aligned.umapx") == "aligned"
    assert model_kind(str(tmp_path / "single.umapx")) == "umap"
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelFormatError, match="not a umapx model"):
        model_kind(tmp_path / "notes.txt")


def test_corrupt_aligned_file_is_refused(tmp_path, aligned):
    path = tmp_path / "aligned.umapx"
    aligned.save(path)
    content = path.read_bytes()
    (tmp_path / "cut.umapx").write_bytes(content[:len(content) // 2])
    with pytest.raises(ModelFormatError):
        umapx.load(tmp_path / "cut.umapx")


def test_update_adds_a_slice(digits, slices, aligned):
    data, relations = slices
    model = AlignedUMAP(n_neighbors=10, n_epochs=N_EPOCHS, random_state=0).fit(
        data, relations=relations)
    extra = digits[0][900:1000].astype(np.float32)
    relation = {180 + i: i for i in range(180)}  # the last slice's second half, and new rows
    model.update(np.vstack([data[-1][180:], extra]), relations=relation)
    assert model.n_models_ == 4 and model.embeddings_[3].shape == (280, 2)
    assert model.dict_relations_[-1] == relation
    assert model.transform(extra[:3], slice=3).shape == (3, 2)
    error = alignment_error(model.embeddings_, model.dict_relations_)
    assert np.all(error < 0.15)


def test_deterministic_whatever_n_jobs(slices):
    data, relations = slices
    results = [AlignedUMAP(n_neighbors=10, n_epochs=40, random_state=7, n_jobs=n_jobs)
               .fit(data, relations=relations).embeddings_ for n_jobs in (1, 2)]
    for first, second in zip(*results):
        np.testing.assert_array_equal(first, second)


def test_bad_input(slices, aligned):
    data, relations = slices
    model = AlignedUMAP(n_neighbors=10, n_epochs=5)
    with pytest.raises(ValueError, match="relations"):
        model.fit(data)
    with pytest.raises(ValueError, match="one dict per pair"):
        model.fit(data, relations=relations[:1])
    with pytest.raises(ValueError, match="outside"):
        model.fit(data, relations=[{0: 10_000}, relations[1]])
    with pytest.raises(ValueError, match="at least 2 slices"):
        model.fit(data[0], relations=[])
    with pytest.raises(ValueError, match="shared"):
        AlignedUMAP(n_components=[2, 2, 2]).fit(data, relations=relations)
    with pytest.raises(ValueError, match="one value per slice"):
        AlignedUMAP(n_neighbors=[10, 15]).fit(data, relations=relations)
    with pytest.raises(ValueError, match="alignment_regularisation"):
        AlignedUMAP(alignment_regularisation=-1.0).fit(data, relations=relations)
    with pytest.raises(NotFittedError):
        model.transform(data[0], slice=0)
    with pytest.raises(ValueError, match="slice must be an int"):
        aligned.transform(data[0][:3], slice=3)
    with pytest.raises(ValueError, match="features"):
        aligned.transform(data[0][:3, :5], slice=0)
    with pytest.raises(ValueError, match="one dict"):
        aligned.update(data[0], relations=relations)


def test_per_slice_parameters(slices):
    data, relations = slices
    model = AlignedUMAP(n_neighbors=[8, 10, 12], metric=["euclidean", "cosine", "euclidean"],
                        n_epochs=20, random_state=0).fit(data, relations=relations)
    assert [m.n_neighbors for m in model.mappers_] == [8, 10, 12]
    assert model.mappers_[1].metric == "cosine"


def test_update_takes_the_new_slice_parameters(slices):
    data, relations = slices
    model = AlignedUMAP(n_neighbors=[8, 10], n_epochs=20, random_state=0).fit(
        data[:2], relations=relations[:1])
    model.update(data[2], relations=relations[1], n_neighbors=12)
    assert model.n_neighbors == [8, 10, 12]
    assert [m.n_neighbors for m in model.mappers_] == [8, 10, 12]
    model.update(data[2][:100], relations={i: i for i in range(100)}, n_neighbors=9,
                 local_connectivity=1.0)
    assert model.n_neighbors == [8, 10, 12, 9] and model.local_connectivity == 1.0
    with pytest.raises(ValueError, match="shared"):
        model.update(data[0], relations={0: 0}, n_components=3)
    with pytest.raises(TypeError, match="unexpected"):
        model.update(data[0], relations={0: 0}, colour="red")


def test_small_slices_as_in_umap_learn_examples():
    """umap-learn's tests align iris sorted into overlapping slices of ~40 samples with the
    default parameters; the embeddings keep most 10-NN of each slice."""
    from sklearn.datasets import load_iris

    data = load_iris().data.astype(np.float32)
    slices, relations = _overlapping_slices(np.hstack([data] * 6), 4, 60, 30)
    model = AlignedUMAP(random_state=0).fit(slices, relations=relations)
    for x, embedding in zip(slices, model.embeddings_):
        assert trustworthiness(x, embedding, n_neighbors=10) > 0.8

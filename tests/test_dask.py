"""umapx on dask: lazy transform / inverse_transform equal, row by row, to in-process results.

Runs on a real ``distributed.LocalCluster`` (two worker processes, one thread each): arrays and
dataframes with uneven chunks and an empty partition, the model deserialised once per worker,
a worker killed mid-computation, the fit on a sample, chunked storage and the CLI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import umapx
from umapx.cli import main

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("zarr")
from umapx.dask import fit_sample, sample_rows  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def _fit_model(digits, knn_method):
    data = digits[0].astype(np.float32)
    mapper = umapx.UMAP(random_state=0, n_epochs=150, knn_method=knn_method).fit(data[:1500])
    rng = np.random.RandomState(1)
    # Held-out rows, noisy copies, and exact copies of training rows (their own embedding).
    rows = np.vstack([data[1500:], data[:1500:30] + rng.normal(scale=0.05, size=(50, 64)),
                      data[:20]]).astype(np.float32)
    return mapper, rows


@pytest.fixture(scope="module", params=["exact", "nndescent"])
def model(request, digits):
    """A model of each neighbour search (their query paths differ) and 367 rows to embed."""
    return _fit_model(digits, request.param)


@pytest.fixture(scope="module")
def exact_model(digits):
    return _fit_model(digits, "exact")


def _in_process(function, rows):
    """The in-process references: ``function`` on all rows, and on every 9th row alone.

    Each row alone gives the same as in the batch (tests/test_estimator.py and test_inverse.py
    check it on every row); the single calls here tie the dask results to them directly.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = function(rows)
        alone = [function(rows[i : i + 1]) for i in range(0, len(rows), 9)]
    return batch, alone


def _assert_rows_equal(result, batch, alone):
    assert np.array_equal(result, batch)
    assert np.array_equal(result[::9], np.concatenate(alone))


UNEVEN = (1, 2, 90, 7, 120, 147)  # 367 rows


def test_transform_array_equals_in_process_row_by_row(client, model):
    mapper, rows = model
    expected = _in_process(mapper.transform, rows)
    X = da.from_array(rows, chunks=(UNEVEN, (30, 34)))  # split along columns too
    lazy = mapper.transform(X)
    assert isinstance(lazy, da.Array) and lazy.chunks == (UNEVEN, (2,))
    result = lazy.compute()
    assert result.dtype == np.float32
    _assert_rows_equal(result, *expected)
    _assert_rows_equal(mapper.transform(da.from_array(rows, chunks=100)).compute(), *expected)


def test_inverse_array_equals_in_process_row_by_row(client, model):
    mapper, rows = model
    points = mapper.transform(rows) + np.float32(0.3)
    batch, alone = _in_process(lambda p: mapper.inverse_transform(p, return_confidence=True),
                               points)
    samples, confidence = mapper.inverse_transform(da.from_array(points, chunks=(UNEVEN, 2)),
                                                   return_confidence=True)
    samples, confidence = dask.compute(samples, confidence)
    _assert_rows_equal(samples, batch[0], [s for s, _ in alone])
    _assert_rows_equal(confidence, batch[1], [c for _, c in alone])
    alone = mapper.inverse_transform(da.from_array(points, chunks=50), n_neighbors=5).compute()
    assert alone.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.array_equal(alone, mapper.inverse_transform(points, n_neighbors=5))


@pytest.mark.parametrize("options", [{"method": "refine"}, {"detail": 1.0}])
def test_inverse_options_on_dask_equal_in_process(client, exact_model, options):
    """``method`` and ``detail`` travel to the workers: every row as in one process."""
    mapper, rows = exact_model
    points = mapper.transform(rows[:120]) + np.float32(0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = mapper.inverse_transform(points, **options)
    lazy = mapper.inverse_transform(da.from_array(points, chunks=((1, 50, 69), 2)), **options)
    assert np.array_equal(lazy.compute(), expected)
    with pytest.raises(ValueError, match="method must be one of"):
        mapper.inverse_transform(da.from_array(points, chunks=50), method="sharp")


def test_dataframes_keep_index_and_partitions(client, exact_model):
    mapper, rows = exact_model
    frame = pd.DataFrame(rows, columns=[f"pixel{i}" for i in range(64)],
                         index=pd.RangeIndex(1000, 1000 + len(rows)))
    lazy = dd.from_pandas(frame, npartitions=4)
    position = lazy.index.to_series()
    lazy = lazy[(position < 1100) | (position >= 1200)]  # an empty partition
    kept = frame.loc[np.asarray((frame.index < 1100) | (frame.index >= 1200))]
    embedded = mapper.transform(lazy)
    assert isinstance(embedded, dd.DataFrame) and embedded.npartitions == lazy.npartitions
    result = embedded.compute()
    assert list(result.columns) == ["umap0", "umap1"] and result.index.equals(kept.index)
    _assert_rows_equal(result.to_numpy(), *_in_process(mapper.transform, kept.to_numpy()))
    points = result + 0.3
    samples, confidence = mapper.inverse_transform(dd.from_pandas(points, npartitions=3),
                                                   return_confidence=True)
    samples, confidence = dask.compute(samples, confidence)
    batch, alone = _in_process(lambda p: mapper.inverse_transform(p, return_confidence=True),
                               points.to_numpy())
    assert list(samples.columns) == [f"x{i}" for i in range(64)]
    assert samples.index.equals(kept.index) and confidence.name == "confidence"
    _assert_rows_equal(samples.to_numpy(), batch[0], [s for s, _ in alone])
    _assert_rows_equal(confidence.to_numpy(), batch[1], [c for _, c in alone])


def test_feature_names_are_checked_and_kept(client, digits):
    frame = pd.DataFrame(digits[0][:400], columns=[f"p{i}" for i in range(64)])
    mapper = umapx.UMAP(random_state=0, n_epochs=30).fit(frame)
    lazy = dd.from_pandas(frame, npartitions=3)
    assert np.array_equal(mapper.transform(lazy).compute().to_numpy(), mapper.transform(frame))
    with pytest.raises(ValueError, match="feature names"):
        mapper.transform(lazy.rename(columns={"p0": "other"}))
    samples = mapper.inverse_transform(dd.from_pandas(
        pd.DataFrame(mapper.embedding_[:30], columns=["a", "b"]), npartitions=2)).compute()
    assert list(samples.columns) == list(frame.columns)


class UnpickleCounter:
    """Counts, per process, how many times it has been unpickled."""

    count = 0

    def __reduce__(self):
        return (_unpickled, ())


def _unpickled():
    UnpickleCounter.count += 1
    return UnpickleCounter()


def _unpickle_count():
    return UnpickleCounter.count


def test_model_travels_once_per_worker(client, exact_model):
    import copy

    mapper, rows = exact_model
    marked = copy.copy(mapper)
    marked._test_marker = UnpickleCounter()  # travels inside the model
    before = client.run(_unpickle_count)
    X = da.from_array(np.tile(rows, (2, 1)), chunks=40)  # 19 blocks for 2 workers
    Y = marked.inverse_transform(marked.transform(X))
    Y.compute()
    after = client.run(_unpickle_count)
    # Two lazy calls, hence two shipped models: one arrival of each per worker. A transfer
    # retried under heavy load (seen at load average 20+) can deliver a copy twice, so allow
    # that; a model shipped with every task would arrive ~19 times per worker (38 tasks).
    arrivals = [after[w] - before[w] for w in after]
    assert all(count <= 4 for count in arrivals), arrivals
    assert sum(arrivals) >= 2
    # Without a distributed client the model is one graph key that every block depends on.
    with dask.config.set(scheduler="threads"):
        lazy = mapper.transform(X)
    graph = dict(lazy.__dask_graph__())
    models = [k for k in graph if isinstance(k, str) and k.startswith("umapx-model-")]
    blocks = [k for k in graph if isinstance(k, tuple) and k[0] == lazy.name]
    assert len(models) == 1 and len(blocks) == X.numblocks[0]
    assert all(models[0] in graph[k].dependencies for k in blocks)


def test_workers_get_one_numba_thread_by_default(client, exact_model):
    from umapx.dask import _model_reference

    mapper, _ = exact_model
    assert client.submit(getattr, _model_reference(mapper, 1), "n_jobs").result() == 1
    assert client.submit(getattr, _model_reference(mapper, 3), "n_jobs").result() == 3
    assert mapper.n_jobs == -1  # the user's model is left alone


def test_killed_worker_is_retried_without_corrupting_the_result(client, exact_model):
    mapper, rows = exact_model
    rng = np.random.RandomState(0)
    many = (np.tile(rows, (80, 1)) + rng.normal(scale=0.02, size=(80 * len(rows), 64)))
    many = many.astype(np.float32)  # 29,360 rows in 30 blocks
    expected = mapper.transform(many)
    lazy = client.persist(mapper.transform(da.from_array(many, chunks=1000)))
    futures = distributed.futures_of(lazy)
    deadline = time.monotonic() + 120
    while sum(f.done() for f in futures) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    holders = client.who_has(futures)
    victim = next(w for f in futures if f.done() for w in holders[f.key])
    pid = client.run(os.getpid, workers=[victim])[victim]
    done_at_kill = sum(f.done() for f in futures)
    os.kill(pid, signal.SIGKILL)  # loses its finished blocks and the one it is running
    result = lazy.compute()
    assert 3 <= done_at_kill < len(futures)
    assert np.array_equal(result, expected)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the tests after this


def test_sample_is_seeded_and_independent_of_chunking(client, digits):
    data = digits[0].astype(np.float32)
    first = sample_rows(da.from_array(data, chunks=200), sample_size=300, random_state=7)
    assert np.array_equal(first, sample_rows(da.from_array(data, chunks=((7, 1000, 790), 64)),
                                             sample_size=300, random_state=7))
    frame = sample_rows(dd.from_pandas(pd.DataFrame(data), npartitions=5),
                        sample_size=300, random_state=7)
    assert np.array_equal(frame.to_numpy(), first)
    rows = np.sort(np.random.default_rng(7).choice(len(data), 300, replace=False))
    assert np.array_equal(first, data[rows])
    other = sample_rows(da.from_array(data, chunks=200), sample_size=300, random_state=8)
    assert not np.array_equal(first, other)
    assert len(sample_rows(da.from_array(data, chunks=200), sample_fraction=0.25,
                           random_state=0)) == round(0.25 * len(data))
    with pytest.raises(ValueError, match="exactly one"):
        sample_rows(da.from_array(data), sample_size=3, sample_fraction=0.1)
    with pytest.raises(ValueError, match="sample_size"):
        sample_rows(da.from_array(data), sample_size=len(data) + 1)


def test_fit_on_a_sample_embeds_every_row(client, digits):
    data = digits[0].astype(np.float32)
    X = da.from_array(data, chunks=(UNEVEN * 4 + (329,), 64))
    mapper, embedding = fit_sample(umapx.UMAP(random_state=0, n_epochs=100), X,
                                   sample_size=900, random_state=3)
    rows = np.sort(np.random.default_rng(3).choice(len(data), 900, replace=False))
    reference = umapx.UMAP(random_state=0, n_epochs=100).fit(data[rows])
    assert np.array_equal(mapper.embedding_, reference.embedding_)
    result = embedding.compute()
    assert np.array_equal(result, reference.transform(data))
    assert np.array_equal(result[rows], reference.embedding_)  # sampled rows keep their place


def test_bad_collections_are_refused_before_computing(exact_model):
    mapper, rows = exact_model
    with pytest.raises(ValueError, match="65 features"):
        mapper.transform(da.zeros((10, 65), chunks=5))
    with pytest.raises(ValueError, match="2-d"):
        mapper.transform(da.zeros(64, chunks=5))
    with pytest.raises(ValueError, match="numeric"):
        mapper.transform(da.from_array(np.array([["a"] * 64]), chunks=1))
    with pytest.raises(ValueError, match="coordinates"):
        mapper.inverse_transform(da.zeros((10, 3), chunks=5))
    with pytest.raises(ValueError, match="columns"):
        mapper.transform(dd.from_pandas(pd.DataFrame(rows[:, :10]), npartitions=2))
    with pytest.raises(ValueError, match="non-numeric"):
        frame = pd.DataFrame(rows).astype({0: str})
        mapper.transform(dd.from_pandas(frame, npartitions=2))
    with pytest.raises(TypeError, match="dask array or dask dataframe"):
        mapper.transform(dask.delayed(rows))
    with pytest.raises(ValueError, match="NaN"):
        bad = rows.copy()
        bad[5, 3] = np.nan
        mapper.transform(da.from_array(bad, chunks=50)).compute()


def test_importing_and_using_umapx_does_not_import_dask():
    code = ("import sys, numpy as np, umapx; "
            "X = np.random.RandomState(0).rand(100, 5); "
            "m = umapx.UMAP(n_epochs=5).fit(X); m.transform(X[:3]); "
            "m.inverse_transform(m.embedding_[:3]); "
            "assert 'dask' not in sys.modules, 'dask was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_on_the_cluster_with_zarr_and_parquet(client, exact_model, tmp_path):
    mapper, rows = exact_model
    model_path = tmp_path / "model.umapx"
    mapper.save(model_path)
    da.from_array(rows, chunks=(100, 64)).to_zarr(str(tmp_path / "rows.zarr"))
    names = [f"p{i}" for i in range(64)]
    pd.DataFrame(rows, columns=names).assign(label=1).to_parquet(tmp_path / "rows.parquet")
    address = client.scheduler.address
    embedding = mapper.transform(rows)

    assert main(["transform", str(model_path), str(tmp_path / "rows.zarr"), "-o",
                 str(tmp_path / "emb.zarr"), "--dask", address]) == 0
    assert np.array_equal(da.from_zarr(str(tmp_path / "emb.zarr")).compute(), embedding)
    assert main(["transform", str(model_path), str(tmp_path / "rows.parquet"), "-o",
                 str(tmp_path / "emb.parquet"), "--columns", ",".join(names),
                 "--dask", address]) == 0
    assert np.array_equal(pd.read_parquet(tmp_path / "emb.parquet").to_numpy(), embedding)

    da.from_array(embedding + 0.3, chunks=(90, 2)).to_zarr(str(tmp_path / "points.zarr"))
    assert main(["inverse", str(model_path), "--points", str(tmp_path / "points.zarr"),
                 "-o", str(tmp_path / "gen.zarr"), "--confidence",
                 str(tmp_path / "conf.zarr"), "--dask", address]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        samples, confidence = mapper.inverse_transform(embedding + 0.3, return_confidence=True)
    assert np.array_equal(da.from_zarr(str(tmp_path / "gen.zarr")).compute(), samples)
    assert np.array_equal(da.from_zarr(str(tmp_path / "conf.zarr")).compute(), confidence)
    assert main(["inverse", str(model_path), "--points", str(tmp_path / "points.zarr"),
                 "-o", str(tmp_path / "refined.zarr"), "--method", "refine", "--detail", "0.5",
                 "--dask", address]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refined = mapper.inverse_transform(embedding + 0.3, method="refine", detail=0.5)
    assert np.array_equal(da.from_zarr(str(tmp_path / "refined.zarr")).compute(), refined)

    assert main(["fit", str(tmp_path / "rows.zarr"), "-o", str(tmp_path / "sampled.umapx"),
                 "--sample-size", "200", "--n-epochs", "30", "--random-state", "0",
                 "--embedding", str(tmp_path / "all.parquet"), "--dask", address]) == 0
    fitted = umapx.load(tmp_path / "sampled.umapx")
    assert fitted.embedding_.shape == (200, 2)
    assert np.array_equal(pd.read_parquet(tmp_path / "all.parquet").to_numpy(),
                          fitted.transform(rows))


@pytest.mark.parametrize("argv, code, message", [
    (["transform", "M", "IN.zarr", "-o", "out.npy", "--dask", "local"], 2, "name a zarr store"),
    (["transform", "M", "IN.zarr", "--dask", "local"], 2, "-o must name"),
    (["inverse", "M", "--points", "P.zarr", "-o", "o.zarr", "--png", "x.png", "--dask",
      "local"], 2, "--points"),
    (["fit", "IN.zarr", "-o", "m.umapx", "--dask", "local"], 2, "--sample-size"),
    (["fit", "IN.npy", "-o", "m.umapx", "--sample-size", "5"], 2, "go with --dask"),
    (["transform", "M", "missing.zarr", "-o", "o.zarr", "--dask", "local"], 3,
     "no such file"),
])
def test_cli_dask_usage_and_input_errors(argv, code, message, fitted_digits, tmp_path, capsys,
                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    fitted_digits[0].save(tmp_path / "M")
    (tmp_path / "IN.zarr").mkdir()
    (tmp_path / "P.zarr").mkdir()
    assert main(argv) == code
    assert message in capsys.readouterr().err


def test_cli_reports_unreadable_storage_and_bad_addresses(fitted_digits, tmp_path, capsys):
    fitted_digits[0].save(tmp_path / "M")
    (tmp_path / "junk.zarr").mkdir()
    (tmp_path / "junk.zarr" / "zarr.json").write_text("not json")
    assert main(["transform", str(tmp_path / "M"), str(tmp_path / "junk.zarr"), "-o",
                 str(tmp_path / "o.zarr"), "--dask", "local:1"]) == 3
    assert "cannot read it" in capsys.readouterr().err
    assert main(["transform", str(tmp_path / "M"), str(tmp_path / "junk.zarr"), "-o",
                 str(tmp_path / "o.zarr"), "--dask", "local:x"]) == 2

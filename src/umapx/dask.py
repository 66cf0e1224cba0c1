"""Transform and inverse-transform dask collections, and fit on a sample of one.

Install with ``pip install umapx[dask]``. A fitted model's own methods take dask collections
and return lazy ones of the same kind, chunked by rows like the input::

    import dask.array as da
    import umapx
    from umapx.dask import fit_sample

    X = da.from_zarr("cells.zarr")                          # 10M x 50, on every worker's disk
    mapper, embedding = fit_sample(umapx.UMAP(random_state=42), X, sample_size=200_000,
                                   random_state=0)          # fit on a seeded sample
    embedding.to_zarr("embedding.zarr")                     # all rows, block by block
    generated = mapper.inverse_transform(da.from_zarr("points.zarr"))

How it runs
-----------
* The model is sent to each worker once: with a ``distributed`` client active it is scattered
  to every worker (``broadcast=True``); otherwise it is one key of the task graph that every
  block task depends on. Either way a worker deserialises it once, however many blocks it
  runs, and keeps it for the whole computation. Its neighbour-search graph and embedding tree
  are built before it is sent, not on every worker.
* Every block task runs the model's in-process ``transform`` / ``inverse_transform`` with
  ``n_jobs`` numba threads (default 1: a worker runs one task per thread, so one numba thread
  each uses the cores without oversubscription). The thread count never changes results.
* A row's result depends only on that row and the model (see :meth:`umapx.UMAP.transform`),
  so every row is bit-identical to ``mapper.transform(row)`` in-process, whatever the chunking
  and the number of workers; a block lost with a worker is simply computed again.
* Inverse transforms on workers do not warn about points far outside the embedding: ask for
  ``return_confidence=True`` instead.

Dask arrays come back as dask arrays (float32, one column chunk); dask dataframes as dask
dataframes with the input's index and partitions, columns ``umap0, umap1, ...`` for embeddings
and the training feature names (or ``x0, x1, ...``) for generated samples.

Sparse data: a dask array whose blocks are scipy.sparse matrices is transformed block by block
without densifying; make one from a sparse matrix with
``da.from_array(X_csr, chunks=(rows, -1), asarray=False)`` (``asarray=False`` keeps the blocks
sparse), or turn dense blocks sparse with ``X.map_blocks(scipy.sparse.csr_matrix)``. The
inverse transform of a model fitted on sparse data gives a dask array of scipy.sparse CSR
blocks (its rows as :meth:`umapx.UMAP.inverse_transform` returns them); dataframes, which are
dense, are refused for it.
"""

from __future__ import annotations

import copy
import sys
import uuid
import warnings

import dask
import dask.array as da
import numpy as np
import scipy.sparse

__all__ = ["transform", "inverse_transform", "sample_rows", "fit_sample", "read_chunked",
           "write_chunked", "storage_format"]

_CONFIDENCE = "__umapx_confidence__"


# ------------------------------------------------------------------------------------------------
# Public functions
# ------------------------------------------------------------------------------------------------


def transform(mapper, X, *, n_jobs=1):
    """Embed the rows of a dask array or dataframe with a fitted model, lazily.

    Parameters
    ----------
    mapper : umapx.UMAP
        A fitted model.
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n, n_features)
        Numeric rows; a dataframe's columns must be the training feature names when the model
        was fitted on a dataframe.
    n_jobs : int, default=1
        Numba threads per block task (-1: all cores of the worker).

    Returns
    -------
    dask.array.Array of shape (n, n_components), float32, or dask.dataframe.DataFrame
        Lazy; row ``i`` is bit-identical to ``mapper.transform(X[i:i+1])`` in-process.
    """
    mapper.fitted_state.build_lazy_parts(inverse=False)  # once here, not on every worker
    if _is_dataframe(X):
        _check_frame(mapper, X, mapper.n_features_in_, "features")
        columns = [f"umap{i}" for i in range(mapper.n_components)]
        return X.map_partitions(_transform_partition, _model_reference(mapper, n_jobs), columns,
                                meta=_frame_meta(X, columns))
    X = _row_blocks(X, mapper.n_features_in_, "features")
    n_out = mapper.n_components
    return X.map_blocks(_transform_block, _model_reference(mapper, n_jobs),
                        chunks=(X.chunks[0], (n_out,)), dtype=np.float32,
                        meta=np.empty((0, n_out), np.float32),
                        name="umapx-transform-" + uuid.uuid4().hex)


def inverse_transform(mapper, Y, *, n_neighbors=None, return_confidence=False, n_jobs=1,
                      method="blend", detail=0.0):
    """Generate input-space samples for the rows of a dask array or dataframe, lazily.

    Parameters
    ----------
    mapper : umapx.UMAP
        A fitted model.
    Y : dask.array.Array or dask.dataframe.DataFrame of shape (n, n_components)
        Points of the embedding space.
    n_neighbors : int or None
        As in :meth:`umapx.UMAP.inverse_transform`.
    return_confidence : bool
        Also return the per-point confidence (a dask array, or a dask series for a
        dataframe). Compute both together (``dask.compute(samples, confidence)``): each
        computed alone runs the inverse transform again.
    n_jobs : int, default=1
        Numba threads per block task.
    method : {"blend", "refine"}, default="blend"
    detail : float >= 0, default=0.0
        As in :meth:`umapx.UMAP.inverse_transform`.

    Returns
    -------
    samples : dask.array.Array of shape (n, n_features), float32, or dask.dataframe.DataFrame
        Lazy; row ``i`` is bit-identical to ``mapper.inverse_transform(Y[i:i+1])``. For a
        model fitted on sparse data, a dask array of scipy.sparse CSR blocks.
    confidence : dask.array.Array of shape (n,) or dask.dataframe.Series
        Only with ``return_confidence=True``.
    """
    options = {"n_neighbors": n_neighbors, "method": method, "detail": detail}
    # One in-process call validates the options and the metric and builds the inverse model.
    mapper.inverse_transform(mapper.embedding_[:1], **options)
    n_features = mapper.n_features_in_
    names = (list(mapper.feature_names_in_) if hasattr(mapper, "feature_names_in_")
             else [f"x{i}" for i in range(n_features)])
    sparse = mapper.fitted_state.sparse
    if _is_dataframe(Y):
        if sparse:
            raise TypeError("this model was fitted on sparse data: its inverse transform gives "
                            "sparse rows, which a dask dataframe cannot hold; pass the points "
                            "as a dask array (Y.to_dask_array(lengths=True))")
        _check_frame(mapper, Y, mapper.n_components, "embedding coordinates", names=False)
        columns = names + ([_CONFIDENCE] if return_confidence else [])
        result = Y.map_partitions(
            _inverse_partition, _model_reference(mapper, n_jobs), options, columns,
            meta=_frame_meta(Y, columns, confidence=return_confidence))
        if return_confidence:
            return result[names], result[_CONFIDENCE].rename("confidence")
        return result
    Y = _row_blocks(Y, mapper.n_components, "embedding coordinates")
    width = n_features + int(return_confidence)
    # With the confidence, both travel in one float64 block (float32 samples are exact in it).
    dtype = np.float64 if return_confidence else np.float32
    result = Y.map_blocks(_inverse_block, _model_reference(mapper, n_jobs), options,
                          return_confidence, chunks=(Y.chunks[0], (width,)), dtype=dtype,
                          meta=_empty_block(width, dtype, sparse),
                          name="umapx-inverse-" + uuid.uuid4().hex)
    if not return_confidence:
        return result
    if sparse:  # sparse blocks: split with block functions (column indexing keeps 2-d)
        samples = result.map_blocks(_leading_columns, n_features,
                                    chunks=(Y.chunks[0], (n_features,)), dtype=np.float32,
                                    meta=_empty_block(n_features, np.float32, True))
        confidence = result.map_blocks(_last_column, drop_axis=1, chunks=(Y.chunks[0],),
                                       dtype=np.float64, meta=np.empty((0,), np.float64))
        return samples, confidence
    return result[:, :n_features].astype(np.float32), result[:, n_features]


def sample_rows(X, *, sample_size=None, sample_fraction=None, random_state=None):
    """A seeded uniform sample of the rows of a dask array or dataframe, in memory.

    The rows drawn depend only on ``random_state`` and the number of rows, not on the
    chunking; they come back in their original order. Only the sample is gathered (each block
    task returns its own sampled rows).

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame
    sample_size : int, optional
        Number of rows to draw (without replacement); at most the number of rows.
    sample_fraction : float in (0, 1], optional
        Or the fraction of the rows to draw (rounded). Give exactly one of the two.
    random_state : int, numpy Generator or RandomState, or None

    Returns
    -------
    ndarray or pandas.DataFrame
    """
    if (sample_size is None) == (sample_fraction is None):
        raise ValueError("give exactly one of sample_size and sample_fraction")
    frame = _is_dataframe(X)
    if not frame:
        X = _row_blocks(X, None, "columns")
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        lengths = np.asarray(X.chunks[0], np.int64)
    else:
        lengths = np.asarray(X.map_partitions(len).compute(), np.int64)
    n_rows = int(lengths.sum())
    size = _sample_size(n_rows, sample_size, sample_fraction)
    rows = np.sort(_generator(random_state).choice(n_rows, size, replace=False))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    blocks = X.to_delayed()
    blocks = list(blocks) if frame else list(blocks[:, 0])
    parts = []
    for block, start, stop in zip(blocks, offsets[:-1], offsets[1:]):
        local = rows[(rows >= start) & (rows < stop)] - start
        if local.size:
            parts.append(dask.delayed(_take_rows)(block, local))
    parts = dask.compute(*parts)
    if frame:
        import pandas as pd

        return pd.concat(parts)
    return np.concatenate(parts)


def fit_sample(mapper, X, *, sample_size=None, sample_fraction=None, random_state=None,
               n_jobs=1):
    """Fit ``mapper`` on a seeded sample of ``X`` and embed all of ``X`` lazily.

    The sample (see :func:`sample_rows`) is gathered into this process and fitted there with
    the mapper's own settings (its ``random_state``, ``n_jobs``...); the sampled rows keep
    their fitted embedding in the result, the others are placed by ``transform``.

    Parameters
    ----------
    mapper : umapx.UMAP
        An unfitted (or to be refitted) model.
    X : dask.array.Array or dask.dataframe.DataFrame
    sample_size, sample_fraction, random_state
        As in :func:`sample_rows`.
    n_jobs : int, default=1
        Numba threads per block task of the lazy embedding.

    Returns
    -------
    mapper : umapx.UMAP
        Fitted on the sample.
    embedding : dask.array.Array or dask.dataframe.DataFrame
        Lazy embedding of every row of ``X``.
    """
    sample = sample_rows(X, sample_size=sample_size, sample_fraction=sample_fraction,
                         random_state=random_state)
    mapper.fit(sample)
    return mapper, transform(mapper, X, n_jobs=n_jobs)


# ------------------------------------------------------------------------------------------------
# Chunked storage: zarr for arrays, parquet for dataframes
# ------------------------------------------------------------------------------------------------

_FORMATS = {".zarr": "zarr", ".parquet": "parquet", ".pq": "parquet"}


def storage_format(path):
    """``"zarr"`` or ``"parquet"`` from the path's suffix (a local path or an fsspec URL)."""
    name = str(path).rstrip("/").lower()
    for suffix, kind in _FORMATS.items():
        if name.endswith(suffix):
            return kind
    raise ValueError(f"{path}: name a zarr store (.zarr) or a parquet dataset (.parquet)")


def read_chunked(path, *, columns=None, kind=None):
    """Open a zarr array or a parquet dataset lazily, as a dask array or dataframe.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.zarr`` store or a ``.parquet`` file or directory, local or an fsspec URL that
        every worker can read.
    columns : list of str, optional
        Parquet columns to read (default: all).
    kind : {"array", "dataframe"} or None
        Convert to this kind (a dataframe becomes an array with its partition lengths
        computed, which reads the data once).

    Returns
    -------
    dask.array.Array (zarr) or dask.dataframe.DataFrame (parquet)
    """
    if storage_format(path) == "zarr":
        data = da.from_zarr(str(path))
        if columns is not None:
            raise ValueError("columns applies to parquet input only")
        if kind == "dataframe":
            import dask.dataframe as dd

            if data.ndim != 2:
                raise ValueError(f"{path}: expected a 2-d array, got shape {data.shape}")
            return dd.from_dask_array(data, columns=[f"x{i}" for i in range(data.shape[1])])
        return data
    import dask.dataframe as dd

    frame = dd.read_parquet(str(path), columns=columns)
    if kind == "array":
        return frame.to_dask_array(lengths=True)
    return frame


def write_chunked(data, path, *, columns=None, compute=True):
    """Compute ``data`` block by block into a zarr store or parquet dataset (replaced).

    Each worker writes its own blocks, so the whole never sits in one process; the path must
    be reachable by every worker (a shared disk or an object store URL).

    Parameters
    ----------
    data : dask array (1-d or 2-d), dataframe or series
    path : str or os.PathLike
        ``.zarr`` or ``.parquet`` (see :func:`storage_format`).
    columns : list of str, optional
        Column names when an array is written to parquet (default ``x0, x1, ...``).
    compute : bool, default=True
        False returns the write as a lazy task, to compute with others (``dask.compute``).
    """
    import dask.dataframe as dd

    if storage_format(path) == "zarr":
        if isinstance(data, (dd.DataFrame, dd.Series)):
            data = data.to_dask_array(lengths=True)
        rows = data.chunks[0]
        if len(rows) > 1 and (len(set(rows[:-1])) > 1 or rows[-1] > rows[0]):
            data = data.rechunk({0: max(rows)})  # zarr needs equal chunks (but the last)
        return data.to_zarr(str(path), overwrite=True, compute=compute)
    if isinstance(data, da.Array):
        if data.ndim == 1:
            data = dd.from_dask_array(data, columns=(columns or ["x0"])[0]).to_frame()
        else:
            names = columns or [f"x{i}" for i in range(data.shape[1])]
            data = dd.from_dask_array(data, columns=names)
    elif isinstance(data, dd.Series):
        data = data.to_frame()
    return data.to_parquet(str(path), overwrite=True, compute=compute)


# ------------------------------------------------------------------------------------------------
# Block tasks (run on the workers)
# ------------------------------------------------------------------------------------------------


def _transform_block(block, model):
    if block.shape[0] == 0:
        return np.empty((0, model.n_components), np.float32)
    return model.transform(block)


def _inverse_block(block, model, options, with_confidence):
    """``inverse_transform`` of one block (``options``: its keywords), with the confidence
    as a last column if asked (sparse rows for a model fitted on sparse data)."""
    width = model.n_features_in_
    if block.shape[0] == 0:
        return _empty_block(width + int(with_confidence),
                            np.float64 if with_confidence else np.float32,
                            model.fitted_state.sparse)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*outside the support of the embedding")
        samples, confidence = model.inverse_transform(block, return_confidence=True, **options)
    if not with_confidence:
        return samples
    if scipy.sparse.issparse(samples):
        return scipy.sparse.hstack([samples.astype(np.float64), confidence[:, None]],
                                   format="csr")
    return np.hstack([samples.astype(np.float64), confidence[:, None]])


def _empty_block(width, dtype, sparse):
    if sparse:
        return scipy.sparse.csr_matrix((0, width), dtype=dtype)
    return np.empty((0, width), dtype)


def _leading_columns(block, stop):
    """The samples of a sparse block packed with its confidence (float32 again: exact)."""
    return block[:, :stop].astype(np.float32).tocsr()


def _last_column(block):
    return block[:, [block.shape[1] - 1]].toarray().ravel()


def _model_input(model, frame):
    """A partition as the model takes it: by name if fitted on names, else as an array."""
    return frame if hasattr(model, "feature_names_in_") else frame.to_numpy()


def _transform_partition(frame, model, columns):
    import pandas as pd

    values = _transform_block(_model_input(model, frame), model)
    return pd.DataFrame(values, index=frame.index, columns=columns)


def _inverse_partition(frame, model, options, columns):
    import pandas as pd

    with_confidence = columns[-1] == _CONFIDENCE
    values = _inverse_block(frame.to_numpy(), model, options, with_confidence)
    result = pd.DataFrame(values, index=frame.index, columns=columns)
    if with_confidence:
        return result.astype({name: np.float32 for name in columns[:-1]})
    return result


def _take_rows(block, rows):
    return block.iloc[rows] if hasattr(block, "iloc") else np.asarray(block[rows])


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _model_reference(mapper, n_jobs):
    """One reference to the model for every block task: a scattered future or a graph key.

    The copy sent differs from ``mapper`` only in ``n_jobs`` (which never changes results).
    """
    shipped = copy.copy(mapper)
    shipped.n_jobs = n_jobs
    client = _active_client()
    if client is not None:
        return client.scatter(shipped, broadcast=True, hash=False)
    return dask.delayed(shipped, name="umapx-model-" + uuid.uuid4().hex, traverse=False)


def _active_client():
    """The distributed client that ``compute`` would use now, or None."""
    if "distributed" not in sys.modules:
        return None
    from distributed import Client

    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if isinstance(client, Client) else None


def _is_dataframe(X):
    if isinstance(X, da.Array):
        return False
    import dask.dataframe as dd

    if isinstance(X, dd.DataFrame):
        return True
    raise TypeError(f"expected a dask array or dask dataframe, got {type(X).__name__}")


def _row_blocks(X, n_columns, what):
    """A 2-d dask array of numbers split by rows only (``n_columns`` checked when given)."""
    if X.ndim != 2:
        raise ValueError(f"expected a 2-d dask array (rows x {what}), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"expected numeric data, got dtype {X.dtype}")
    if n_columns is not None and X.shape[1] != n_columns:
        raise ValueError(f"X has {X.shape[1]} {what}, but this UMAP expects {n_columns}")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _check_frame(mapper, frame, n_columns, what, names=True):
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if len(frame.columns) != n_columns:
        raise ValueError(f"the dataframe has {len(frame.columns)} columns, but this UMAP "
                         f"expects {n_columns} {what}")
    odd = [str(c) for c, t in frame.dtypes.items() if not (is_numeric_dtype(t)
                                                           or is_bool_dtype(t))]
    if odd:
        raise ValueError(f"non-numeric columns: {', '.join(odd)}")
    if names and hasattr(mapper, "feature_names_in_"):
        expected = [str(c) for c in mapper.feature_names_in_]
        if [str(c) for c in frame.columns] != expected:
            raise ValueError("the dataframe's columns are not the feature names seen in fit "
                             f"(expected {expected[:5]}{'...' if len(expected) > 5 else ''})")


def _frame_meta(frame, columns, confidence=False):
    import pandas as pd

    meta = pd.DataFrame({name: np.empty(0, np.float32) for name in columns},
                        index=frame._meta.index[:0])
    if confidence:
        meta[_CONFIDENCE] = meta[_CONFIDENCE].astype(np.float64)
    return meta


def _sample_size(n_rows, sample_size, sample_fraction):
    if sample_size is not None:
        if not isinstance(sample_size, (int, np.integer)) or isinstance(sample_size, bool) \
                or not 0 < sample_size <= n_rows:
            raise ValueError(f"sample_size must be an integer in [1, {n_rows}] (the number of "
                             f"rows), got {sample_size!r}")
        return int(sample_size)
    if not isinstance(sample_fraction, (float, int)) or not 0 < sample_fraction <= 1:
        raise ValueError(f"sample_fraction must be in (0, 1], got {sample_fraction!r}")
    return max(1, int(round(sample_fraction * n_rows)))


def _generator(random_state):
    """A numpy Generator from an int, a Generator, a RandomState or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)

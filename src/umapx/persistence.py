"""Saved models: one versioned file that loads fast and without unpickling.

``UMAP.save(path)`` writes a fitted model; ``umapx.load(path)`` reads it back. The loaded model's
``transform`` and ``inverse_transform`` are bit-identical to the saved model's, and loading
recomputes nothing expensive: the k-NN graph, the neighbour index and the embedding are read,
not rebuilt. Only the KD-tree used by ``inverse_transform`` is rebuilt, on first use, exactly
as after ``fit``.

This module turns constructor parameters and a :class:`~umapx.state.FittedState` into a file
and back (:func:`save`, :func:`read`); it never imports the estimator, whose ``load`` builds
the model from what :func:`read` returns.

Format (version 2)
------------------
A ZIP archive of uncompressed entries, so any zip tool (or ``numpy.load``) can open it:

``metadata.json`` (the first entry), UTF-8 JSON:

* ``format``: ``"umapx-model"``; ``format_version``: ``3`` for ``unique=True`` models, ``2``
  for the others; ``umapx_version``: the writer;
* ``params``: the constructor parameters (``get_params``), except those stored otherwise:
  an array ``init`` (entry ``param_init``), a ``numpy.random.RandomState`` given as
  ``random_state``, whose exact state is kept, as pickling keeps it (entry
  ``param_random_state_key`` plus ``random_state_state``: ``{"pos", "has_gauss",
  "cached_gaussian"}``), array values of ``metric_kwds`` / ``output_metric_kwds`` (entries
  named in ``param_arrays``: ``{parameter: {key: [entry, ndim]}}``) and the arrays of
  ``precomputed_knn`` (entries ``param_precomputed_knn_indices`` / ``_dists``; its index, if
  one was given, is the model's own: ``precomputed_knn`` holds ``{"index": "fitted" | null}``);
* ``fitted``: ``a_``, ``b_``, ``n_features_in_``, ``feature_names_in_`` (a list of strings or
  null), ``timings_``, ``disconnection_distance`` (null for infinity),
  ``transform_sampling_reference`` (how ``transform`` samples new points' edges; absent in
  files of older writers, read as 1.0, what they used), and ``has_embedding`` /
  ``has_embedding_list`` / ``has_unique_inverse`` / ``has_densities`` (which of those
  optional entries the file holds; the training data is there unless the metric is
  ``"precomputed"``);
* ``metric``: ``{"name", "p", "arrays"}``, the resolved metric (a check on ``params``);
  ``arrays`` lists which of its array parameters are stored (entries ``metric_vector``,
  ``metric_matrix``), including those taken from the training data;
* ``output_metric``: the same for the metric of the embedding (entries
  ``output_metric_vector``, ``output_metric_matrix``);
* ``knn_index``: ``{"method": "exact" | "nndescent" | "precomputed", "epsilon"}``;
* ``sparse_training_data`` (sparse models only): ``{"container": "csr_matrix" |
  "csr_array"}``, the container family that ``inverse_transform`` returns.

``<name>.npy``, one NumPy array per entry (``numpy.lib.format``; never an object dtype):

=================================  =======  ===========================================
entry                              dtype    shape
=================================  =======  ===========================================
training_data                      float32  (n, n_features); dense models only (absent
                                            for ``precomputed``)
training_data_data,                float32, canonical CSR of sparse training data (sorted,
training_data_indices,             int32,   unique column indices in each row); sparse
training_data_indptr               int64    models only, shape (n, n_features_in_)
embedding                          float32  (n, n_components); absent for
                                            ``transform_mode="graph"``
embedding_list                     float32  (snapshots, n, n_components), list ``n_epochs``
unique_inverse                     int64    (n_input,), ``unique=True``: the distinct
                                            row (of the ``n`` fitted) of each input row
rad_orig, rad_emb                  float32  (n,), ``output_dens=True``: log local radii
knn_indices                        int32    (n, n_neighbors)
knn_dists                          float32  (n, n_neighbors)
sigmas, rhos                       float32  (n,)
graph_data, graph_indices,         float32, ``graph_`` in CSR form, shape (n, n)
graph_indptr                       int32 or int64
index_graph_indptr                 int64    (n + 1,), NN-descent index only
index_graph_neighbours             int32    (edges,), NN-descent index only
index_tree_<field>                          the ``RPTree`` fields, NN-descent index only
param_init                         float64  (n, n_components), when ``init`` is an array
param_random_state_key             uint32   (624,), when ``random_state`` is a RandomState
=================================  =======  ===========================================

The archive's comment (the last bytes of the file) is ``umapx-sha256:`` followed by the
SHA-256 (64 hexadecimal digits) of every byte of the file before the comment: any change to the
file -- an entry, a zip header, the metadata -- is refused on load. Version 1 (umapx 0.1) is
the same without the checksum; it still loads, with every check below except the checksum.

Entries are written in a fixed order with a fixed timestamp: saving the same model twice gives
the same bytes. The file is written to a temporary file ``.<name>.<pid>-<random>.tmp`` beside
the target and renamed over it, so a crash never leaves a half-written model under the target
name. The temporary file is removed on every exit path Python sees (an exception,
``KeyboardInterrupt``, and ``SIGTERM`` / ``SIGHUP`` in the main thread while they have their
default action); a save killed outright (``SIGKILL``, power loss) leaves it behind, and the next
save into that directory removes such files of processes that no longer run. Saving refuses a
target that is a directory and a write-protected target file (no write permission bit, or not
writable by this user): it is never replaced silently through the rename.

Safety and validation
---------------------
Loading never unpickles and never runs code from the file. Before reading, the path must be a
regular file (not a directory, FIFO, device or socket; a symbolic link is followed) of at most
:data:`MAX_FILE_BYTES` bytes. Then: the checksum; the format name and version (a newer version
asks to upgrade umapx); that each entry is present once, uncompressed, not overlapping others
(so memory use is bounded by the file size), of the expected dtype and of a shape consistent
with the others, and that its bytes match the zip checksum; that every stored index points
inside the arrays it indexes (a crafted file cannot make the compiled kernels read out of
bounds or loop forever); that values are sound (data, embedding, distances, local scales and
graph weights finite and in range; ``a_``, ``b_`` and every parameter within the ranges a fit
accepts, so a loaded model cannot produce NaN or run for ever); sparse training data must be
canonical CSR. Any failure raises
:class:`ModelFormatError` saying what is wrong.

Models with a user metric function (as ``metric``, ``output_metric`` or ``target_metric``)
cannot be saved: compiled code is not data, and storing it would mean unpickling it on load.

Versioning: ``FORMAT_VERSION`` grows whenever a reader of the previous version would misread a
new file; readers keep reading every older version. Parameters missing from a file (an older
writer) take their defaults. Version 2 (umap-learn's parameters, precomputed and graph-only
models, output metrics, metric arrays) adds the optional entries and sections above; a
version 1 file is read as a version 2 file without them. Version 3 adds ``unique_inverse``
(models fitted with ``unique=True``, whose other arrays hold the distinct rows only; they are
the only models written as version 3) and the radii of ``output_dens``.
``transform_sampling_reference`` needs no new version: a reader that does not know it places
new points as its own ``transform`` always did.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import numbers
import os
import re
import secrets
import signal
import stat
import threading
import time
import zipfile
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from . import _validation
from ._version import __version__
from .knn import NeighborIndex
from .knn.nndescent import RPTree
from .metrics import Metric, resolve_metric, spec_of
from .sparse import canonical_csr_arrays_status
from .state import ARRAYS, EUCLIDEAN_OUTPUT, FittedState

FORMAT_NAME = "umapx-model"
ALIGNED_FORMAT_NAME = "umapx-aligned-model"
FORMAT_VERSION = 3
#: The version written for models that need nothing of version 3 (older readers load them).
_PLAIN_VERSION = 2

#: Largest model file :func:`read` opens (64 GiB); raise it for larger models.
MAX_FILE_BYTES = 64 << 30

_METADATA = "metadata.json"
_ZIP_MAGIC = b"PK\x03\x04"
_FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry
_CHUNK = 1 << 24  # bytes read at a time into an array or the checksum
# The archive comment: this prefix and the SHA-256 of every byte before the comment.
_CHECKSUM_PREFIX = b"umapx-sha256:"
_CHECKSUM_LENGTH = len(_CHECKSUM_PREFIX) + 64
# Temporary files of saves: ".<name>.<pid>-<12 hex digits>.tmp" (umapx 0.1: no "<pid>-").
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?:(?P<pid>[0-9]+)-)?[0-9a-f]{12}\.tmp")
_STALE_UNKNOWN_WRITER_S = 3600.0  # age after which a temporary file without a pid is stale
_CLEANUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                         if hasattr(signal, name))

# Arrays every model has: entry -> (dtypes, number of dimensions): the state's array fields,
# and its graph as three CSR arrays.
_FITTED_ARRAYS = {
    **ARRAYS,
    "graph_data": (("float32",), 1),
    "graph_indices": (("int32", "int64"), 1),
    "graph_indptr": (("int32", "int64"), 1),
}
# Arrays of an NN-descent index (``NeighborIndex.state_arrays``), under the prefix "index_".
_NNDESCENT_ARRAYS = {
    "graph_indptr": ("int64", 1),
    "graph_neighbours": ("int32", 1),
    **{"tree_" + field: ("int32", 1) for field in RPTree._fields},
    "tree_offset": ("float32", 1),
}
_INDEX_PREFIX = "index_"
# Membership strengths are at most 1; float32 rounding of the fuzzy union may exceed it by ulps.
_MAX_GRAPH_WEIGHT = 1.0 + 1e-5
# Sparse training data, in place of ``training_data``.
_SPARSE_DATA_ARRAYS = {
    "training_data_data": ("float32", 1),
    "training_data_indices": ("int32", 1),
    "training_data_indptr": ("int64", 1),
}
_SPARSE_CONTAINERS = {"csr_matrix": scipy.sparse.csr_matrix, "csr_array": scipy.sparse.csr_array}
# The array parameters of a metric (fields of ``Metric``): entry suffix -> (dtype, ndim).
_METRIC_ARRAYS = {"vector": ("float64", 1), "matrix": ("float64", 2)}
# Parameters that may hold arrays in their dict values.
_KWDS_PARAMS = ("metric_kwds", "output_metric_kwds", "target_metric_kwds")


class ModelFormatError(ValueError):
    """A file is not a umapx model this version can load: foreign, truncated, corrupt or newer."""


# ----------------------------------------------------------------------------------------------
# Saving
# ----------------------------------------------------------------------------------------------


def save(path, params, state):
    """Write a fitted model to ``path`` (see the module docstring for the format).

    Parameters
    ----------
    path : str or os.PathLike
        Destination; replaced atomically if it exists.
    params : dict
        The estimator's constructor parameters (``get_params(deep=False)``).
    state : FittedState

    Raises
    ------
    ValueError
        If the model uses a user metric function, or a parameter that cannot be stored.
    """
    metadata, arrays = _encode(params, state)
    encoded = json.dumps(metadata, indent=1, allow_nan=False).encode("utf-8")
    _write_atomically(os.fspath(path), encoded, arrays)


def _encode(model_params, state):
    """The JSON metadata and the named arrays that describe a model."""
    for role, metric in (("metric", state.metric), ("output_metric", state.output_metric)):
        if metric.user_function is not None:
            raise ValueError(
                f"cannot save a model with a user {role} function ({metric.name!r}): a umapx "
                "model file holds data, not compiled code, so that loading one never runs code "
                "from the file. Use a built-in metric, or pickle the estimator (and only "
                "unpickle files you trust)"
            )
    if callable(model_params.get("target_metric")):
        raise ValueError("cannot save a model with a user target_metric function: a umapx "
                         "model file holds data, not compiled code (the fitted model does not "
                         "need it: pass target_metric by name, or pickle the estimator)")
    # Version 3 added unique=True models, whose fitted arrays hold the distinct rows only: a
    # version 2 reader would misread them. Other models stay readable by version 2 readers.
    version = FORMAT_VERSION if state.unique_inverse is not None else _PLAIN_VERSION
    metadata = {"format": FORMAT_NAME, "format_version": version,
                "umapx_version": __version__}
    arrays = {}
    params = {}
    param_arrays = {}
    for name, value in model_params.items():
        if name == "init" and not isinstance(value, str):
            arrays["param_init"] = np.asarray(value, dtype=np.float64)
        elif name == "random_state" and isinstance(value, np.random.RandomState):
            _, key, pos, has_gauss, cached_gaussian = value.get_state(legacy=True)
            arrays["param_random_state_key"] = key
            metadata["random_state_state"] = {"pos": int(pos), "has_gauss": int(has_gauss),
                                              "cached_gaussian": float(cached_gaussian)}
        elif name in _KWDS_PARAMS and isinstance(value, dict):
            plain = {}
            for position, (key, item) in enumerate(value.items()):
                if isinstance(item, np.ndarray) and item.ndim in (1, 2):
                    entry = f"param_{name}_{position}"
                    arrays[entry] = np.asarray(item, dtype=np.float64)
                    param_arrays.setdefault(name, {})[str(key)] = [entry, item.ndim]
                else:
                    plain[key] = item
            params[name] = _json_value(name, plain)
        elif name == "precomputed_knn":
            params[name] = _encode_precomputed_knn(value, state, arrays)
        elif name in ("metric", "output_metric") and isinstance(
                getattr(value, "_umapx_metric", None), str):
            params[name] = value._umapx_metric  # a umapx.distances function: stored by name
        else:
            params[name] = _json_value(name, value)
    metadata["params"] = params
    if param_arrays:
        metadata["param_arrays"] = param_arrays
    feature_names = state.feature_names_in
    distance = state.disconnection_distance
    metadata["fitted"] = {
        "a_": float(state.a),
        "b_": float(state.b),
        "n_features_in_": int(state.n_features_in),
        "feature_names_in_": None if feature_names is None else [str(f) for f in feature_names],
        "timings_": {str(stage): float(seconds) for stage, seconds in state.timings.items()},
        "disconnection_distance": None if np.isinf(distance) else float(distance),
        "has_embedding": state.embedding is not None,
        "has_embedding_list": state.embedding_list is not None,
        "has_unique_inverse": state.unique_inverse is not None,
        "has_densities": state.rad_orig is not None,
        "transform_sampling_reference": float(state.transform_sampling_reference),
    }
    for role, metric in (("metric", state.metric), ("output_metric", state.output_metric)):
        stored = [field for field in _METRIC_ARRAYS if getattr(metric, field) is not None]
        metadata[role] = {"name": metric.name, "p": float(metric.p), "arrays": stored}
        for field in stored:
            arrays[f"{role}_{field}"] = getattr(metric, field)
    index = state.index
    metadata["knn_index"] = {"method": index.method, "epsilon": float(index.epsilon)}

    graph = state.graph.tocsr()
    arrays.update({name: getattr(state, name) for name in ARRAYS
                   if getattr(state, name) is not None})
    if state.sparse:
        data = arrays.pop("training_data")
        container = "csr_array" if isinstance(data, scipy.sparse.csr_array) else "csr_matrix"
        metadata["sparse_training_data"] = {"container": container}
        arrays.update({"training_data_data": data.data,
                       "training_data_indices": data.indices.astype(np.int32, copy=False),
                       "training_data_indptr": data.indptr.astype(np.int64, copy=False)})
    arrays.update({"graph_data": graph.data, "graph_indices": graph.indices,
                   "graph_indptr": graph.indptr})
    for name, array in index.state_arrays().items():
        arrays[_INDEX_PREFIX + name] = array
    return metadata, arrays


def _encode_precomputed_knn(value, state, arrays):
    """``precomputed_knn`` as JSON (its arrays go into ``arrays``)."""
    if not isinstance(value, (tuple, list)) or all(item is None for item in value):
        return None
    arrays["param_precomputed_knn_indices"] = np.asarray(value[0], dtype=np.int64)
    arrays["param_precomputed_knn_dists"] = np.asarray(value[1], dtype=np.float64)
    index = value[2] if len(value) > 2 else None
    if index is not None and index is not state.index:
        raise ValueError("cannot save precomputed_knn: its index is not the model's own")
    return {"length": len(value), "index": None if index is None else "fitted"}


def _json_value(name, value):
    """``value`` as plain JSON types, or a ValueError naming the parameter."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _json_value(f"{name}[{key!r}]", item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(f"{name}[{i}]", item) for i, item in enumerate(value)]
    raise ValueError(
        f"cannot save parameter {name}={value!r}: a model file stores numbers, strings, "
        "booleans, None and lists or dicts of them"
    )


def _write_atomically(path, metadata, arrays, raw=None):
    """Write the archive to a temporary file beside ``path``, then rename it over ``path``."""
    path = os.path.abspath(path)
    _check_target(path)
    directory, name = os.path.split(path)
    remove_stale_temporaries(directory, name)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
    try:
        with _removed_on_termination(temporary):
            with open(temporary, "x+b") as file:
                _write_archive(file, metadata, arrays, raw)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def _write_archive(file, metadata, arrays, raw=None):
    """Write the checksummed ZIP archive of the metadata, the arrays (``.npy`` entries) and
    ``raw`` (entry name -> bytes) to ``file`` (open for reading and writing, empty)."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.comment = _CHECKSUM_PREFIX + b"0" * 64  # filled in below
        archive.writestr(_entry_info(_METADATA), metadata)
        for entry, array in arrays.items():
            with archive.open(_entry_info(entry + ".npy"), "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.ascontiguousarray(array),
                                          allow_pickle=False)
        for entry, content in (raw or {}).items():
            archive.writestr(_entry_info(entry), content)
    file.flush()
    size = file.seek(0, os.SEEK_END)
    digest = _sha256(file, size - _CHECKSUM_LENGTH)
    file.seek(size - 64)
    file.write(digest.encode("ascii"))


def _check_target(path):
    """Refuse a target that saving could not (or must not) replace, before any work."""
    directory = os.path.dirname(path)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"cannot save the model to {path}: it is a directory; give a file name such as "
            f"{os.path.join(path, 'model.umapx')}")
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"cannot save the model to {path}: the directory {directory} does not exist")
    if os.path.lexists(path) and not is_writable(path):
        raise PermissionError(
            f"cannot save the model to {path}: the file is write-protected; remove it or make "
            "it writable first (umapx never replaces a write-protected file)")
    if not is_writable(directory):
        raise PermissionError(
            f"cannot save the model to {path}: the directory {directory} is not writable")


def is_writable(path):
    """Whether ``path`` (a file or directory) may be written: writable by this user, and not
    write-protected (no write permission bit at all, which even root respects here, as ``rm``
    asks before removing such a file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return os.access(path, os.W_OK) and bool(stat.S_IMODE(mode) & 0o222)


def remove_stale_temporaries(directory, name):
    """Remove temporary files that killed saves of ``name`` left in ``directory``.

    A temporary file is stale when the process that wrote it no longer runs (its pid is in the
    name), or, for files without a pid (umapx 0.1), when it is over an hour old. Files of saves
    still running (in this or another process) are kept.
    """
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry)
        if match is None or match["name"] != name:
            continue
        temporary = os.path.join(directory, entry)
        if match["pid"] is not None:
            stale = not _process_exists(int(match["pid"]))
        else:
            try:
                stale = time.time() - os.lstat(temporary).st_mtime > _STALE_UNKNOWN_WRITER_S
            except OSError:
                continue
        if stale:
            with contextlib.suppress(OSError):
                os.remove(temporary)


def _process_exists(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or an unusable number: leave the file alone
    return True


@contextlib.contextmanager
def _removed_on_termination(temporary):
    """Remove ``temporary`` if SIGTERM or SIGHUP ends the process during the block.

    Only signals still at their default action (ending the process) are intercepted, only in
    the main thread (where Python runs handlers), and the process then ends by the same
    signal, as it would have without the handler.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def end(signum, frame):
        with contextlib.suppress(OSError):
            os.remove(temporary)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    try:
        for signum in _CLEANUP_SIGNALS:
            if signal.getsignal(signum) == signal.SIG_DFL:
                previous[signum] = signal.signal(signum, end)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _sha256(file, size):
    """Hex SHA-256 of the first ``size`` bytes of ``file``."""
    file.seek(0)
    digest = hashlib.sha256()
    # One buffer for all the chunks: a new one per chunk costs a page fault per 4 KiB (~0.1 s
    # of system time per 200 MB on a virtual machine).
    buffer = memoryview(bytearray(min(_CHUNK, size)))
    remaining = size
    while remaining > 0:
        read = file.readinto(buffer[:min(_CHUNK, remaining)])
        if not read:
            break
        digest.update(buffer[:read])
        remaining -= read
    return digest.hexdigest()


def _entry_info(name):
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIMESTAMP)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # rw-r--r-- for unzip
    return info


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------

# What restoring the model from checked entries can raise on inconsistent content.
_RESTORE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)


@dataclass(frozen=True)
class SavedModel:
    """What a model file holds: the constructor parameters it names (the ones it lacks take
    their defaults) and the fitted state."""

    params: dict
    state: FittedState


def read(path):
    """Read and check a model file written by :func:`save` (``umapx.load`` builds the model).

    Nothing is unpickled and nothing expensive is recomputed; every entry is validated first.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    SavedModel

    Raises
    ------
    ModelFormatError
        If the path is not a regular file, is larger than :data:`MAX_FILE_BYTES`, or the file
        is not a umapx model (a text file, another zip or ``.npz``), is truncated, corrupt
        or unsound, or was written in a newer format version than this umapx reads.
    OSError
        If the file cannot be opened.
    """
    path = os.fspath(path)
    with _open_regular_file(path) as file:
        return _read_model(file, os.fstat(file.fileno()).st_size, path)


def read_any(path):
    """:func:`read` or :func:`read_aligned`, whichever kind of model the file declares (the
    file is read and its checksum verified once).

    Returns
    -------
    SavedModel or SavedAlignedModel
    """
    path = os.fspath(path)
    with _open_regular_file(path) as file:
        return _read_model(file, os.fstat(file.fileno()).st_size, path, expected=None)


def _read_model(file, size, path, expected=FORMAT_NAME):
    """:func:`read` (or, with ``expected=ALIGNED_FORMAT_NAME``, :func:`read_aligned`; with
    None, the kind the file declares) of an open binary file of ``size`` bytes (``path`` names
    it in messages)."""
    with _open_archive(file, size, path) as (archive, checksum):
        reader = _ArchiveReader(archive, path, size, checksum)
        if expected is None:
            expected = reader.metadata(formats=(FORMAT_NAME, ALIGNED_FORMAT_NAME))["format"]
        try:
            return _restore(reader) if expected == FORMAT_NAME else _restore_aligned(reader)
        except ModelFormatError:
            raise
        except _RESTORE_ERRORS as error:
            raise reader.error(f"its content is inconsistent ({type(error).__name__}: "
                               f"{error})") from error


@contextlib.contextmanager
def _open_archive(file, size, path):
    """``(zipfile.ZipFile, checksum)`` of a model file after its checksum is verified, or a
    ModelFormatError saying why not."""
    checksum = _verify_checksum(file, size, path)
    file.seek(0)
    head = file.read(len(_ZIP_MAGIC))
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
    except Exception as error:  # zipfile raises many kinds on foreign or damaged bytes
        if head == _ZIP_MAGIC:
            raise ModelFormatError(
                f"{path} is a damaged zip archive, not a loadable umapx model: it is "
                f"truncated or corrupt ({error})"
            ) from error
        raise ModelFormatError(
            f"{path} is not a umapx model file (not a zip archive; models are written by "
            "UMAP.save)"
        ) from error
    with archive:
        yield archive, checksum


def model_kind(path):
    """Which kind of model a file holds: ``"umap"`` (:meth:`UMAP.save`) or ``"aligned"``
    (:meth:`AlignedUMAP.save`); a ModelFormatError for anything else."""
    path = os.fspath(path)
    with _open_regular_file(path) as file:
        size = os.fstat(file.fileno()).st_size
        with _open_archive(file, size, path) as (archive, checksum):
            reader = _ArchiveReader(archive, path, size, checksum)
            found = reader.metadata(formats=(FORMAT_NAME, ALIGNED_FORMAT_NAME))["format"]
    return "aligned" if found == ALIGNED_FORMAT_NAME else "umap"


def _open_regular_file(path):
    """Open ``path`` for reading if it is a regular file within the size bound.

    Checked before opening (a FIFO would block, a device could be read without end) and again
    on the open file (the path could have changed in between).
    """
    _check_regular(os.stat(path), path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        _check_regular(os.fstat(descriptor), path)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _check_regular(info, path):
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else
                "a FIFO" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise ModelFormatError(f"{path} is {kind}, not a umapx model file (models are regular "
                               "files written by UMAP.save)")
    if info.st_size > MAX_FILE_BYTES:
        raise ModelFormatError(
            f"{path} is {info.st_size} bytes, more than umapx.persistence.MAX_FILE_BYTES "
            f"({MAX_FILE_BYTES}); raise that limit to load a model this large")


def _verify_checksum(file, size, path):
    """Check the archive's SHA-256 comment; return whether the file has one."""
    if size < _CHECKSUM_LENGTH:
        return False
    file.seek(size - _CHECKSUM_LENGTH)
    trailer = file.read(_CHECKSUM_LENGTH)
    if not trailer.startswith(_CHECKSUM_PREFIX):
        return False
    expected = trailer[len(_CHECKSUM_PREFIX):].decode("ascii", "replace")
    if _sha256(file, size - _CHECKSUM_LENGTH) != expected:
        raise ModelFormatError(
            f"{path} is not a valid umapx model file: its content does not match its SHA-256 "
            "checksum (the file is corrupt or was modified after saving)")
    return True


class _ArchiveReader:
    """Reads and checks the entries of one model archive."""

    def __init__(self, archive, path, size, checksum):
        self.archive = archive
        self.path = path
        self.used = set()  # entries read so far
        self._check_entries(size, checksum)

    def _check_entries(self, size, checksum):
        """Each entry present once, the stored entries not overlapping (so what is read is
        bounded by the file size), and a comment only when it is the checksum."""
        names = self.archive.namelist()
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise self.error(f"the entries {twice} appear more than once")
        if sum(info.compress_size for info in self.archive.infolist()) > size:
            raise self.error("its entries claim more bytes than the file holds")
        if self.archive.comment and not checksum:
            raise self.error("its archive comment is not a umapx checksum")
        self.checksum = checksum

    def error(self, message):
        return ModelFormatError(f"{self.path} is not a valid umapx model file: {message}")

    @contextlib.contextmanager
    def _decoding(self, entry):
        """Report anything raised while decoding ``entry``'s bytes as a corrupt entry."""
        try:
            yield
        except ModelFormatError:
            raise
        except Exception as error:  # zipfile, json and numpy raise many kinds on bad bytes
            raise self.error(f"the entry {entry} is corrupt ({type(error).__name__}: {error})") \
                from error

    def _info(self, entry):
        self.used.add(entry)
        try:
            info = self.archive.getinfo(entry)
        except KeyError:
            raise self.error(f"the entry {entry} is missing (truncated or incomplete file)") \
                from None
        if info.compress_type != zipfile.ZIP_STORED:
            raise self.error(f"the entry {entry} is compressed; umapx writes stored entries")
        return info

    def metadata(self, formats=(FORMAT_NAME,)):
        """The checked metadata dict (format name, one of ``formats``, and version)."""
        if _METADATA not in self.archive.namelist():
            names = self.archive.namelist()
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise ModelFormatError(
                f"{self.path} is not a umapx model file: it is a zip archive without "
                f"{_METADATA} (entries: {shown or 'none'})"
            )
        with self._decoding(_METADATA):
            metadata = json.loads(self.archive.read(self._info(_METADATA)).decode("utf-8"))
        if not isinstance(metadata, dict) or metadata.get("format") not in formats:
            found = metadata.get("format") if isinstance(metadata, dict) else None
            hint = (" (an AlignedUMAP file: load it with umapx.load)"
                    if found == ALIGNED_FORMAT_NAME else "")
            raise ModelFormatError(
                f"{self.path} is not a umapx model file: its {_METADATA} declares format "
                f"{found!r}, expected {' or '.join(map(repr, formats))}{hint}"
            )
        version = metadata.get("format_version")
        if not _is_int(version) or version < 1:
            raise self.error(f"format_version must be a positive integer, got {version!r}")
        if version > FORMAT_VERSION:
            raise ModelFormatError(
                f"{self.path} was saved by umapx {metadata.get('umapx_version', '(unknown)')} "
                f"in model format version {version}; this umapx {__version__} reads "
                f"format versions up to {FORMAT_VERSION}. Upgrade umapx to load it"
            )
        if version >= 2 and not self.checksum:
            raise self.error("its SHA-256 checksum is missing (the end of the file is damaged)")
        return metadata

    def array(self, name, dtype, ndim):
        """Entry ``name`` as a fresh writable array, after checking its header and checksum."""
        entry = name + ".npy"
        info = self._info(entry)
        allowed = tuple(np.dtype(d) for d in ((dtype,) if isinstance(dtype, str) else dtype))
        with self._decoding(entry), self.archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, fortran_order, found = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran_order, found = np.lib.format.read_array_header_2_0(stream)
            else:
                raise self.error(f"the entry {entry} has unsupported .npy version {version}")
            if found not in allowed:
                expected = " or ".join(str(d) for d in allowed)
                raise self.error(f"the entry {entry} has dtype {found}, expected {expected}")
            if len(shape) != ndim or fortran_order:
                raise self.error(f"the entry {entry} has shape {shape}, expected {ndim}-d C order")
            # Size checked before allocating: memory use stays bounded by the file size.
            if any(size < 0 for size in shape) or (
                    stream.tell() + math.prod(shape) * found.itemsize != info.file_size):
                raise self.error(f"the entry {entry} does not hold {shape} values of {found}")
            array = np.empty(shape, dtype=found)
            buffer = memoryview(array.reshape(-1).view(np.uint8))
            for start in range(0, len(buffer), _CHUNK):
                chunk = buffer[start:start + _CHUNK]
                if stream.readinto(chunk) != len(chunk):
                    raise self.error(f"the entry {entry} is shorter than its header says")
            stream.read(1)  # at the end: zipfile compares the CRC-32 here
        return array

    def arrays(self, table, prefix=""):
        return {name: self.array(prefix + name, dtype, ndim)
                for name, (dtype, ndim) in table.items()}

    def check_all_used(self):
        """Refuse entries that no reader of this format would read (crafted additions)."""
        extra = sorted(set(self.archive.namelist()) - self.used)
        if extra:
            shown = ", ".join(extra[:5]) + (", ..." if len(extra) > 5 else "")
            raise self.error(f"it holds entries a umapx model does not have: {shown}")


def _restore(reader):
    """The :class:`SavedModel` of a checked archive."""
    metadata = reader.metadata()
    fitted = _section(reader, metadata, "fitted")
    metric = _restore_metric(reader, metadata, "metric")
    sparse = "sparse_training_data" in metadata
    # Which optional arrays the model has (version 1 files always hold the first two).
    present = {"training_data": not metric.is_precomputed and not sparse,
               "embedding": fitted.get("has_embedding", True),
               "embedding_list": fitted.get("has_embedding_list", False),
               "unique_inverse": fitted.get("has_unique_inverse", False),
               "rad_orig": fitted.get("has_densities", False),
               "rad_emb": fitted.get("has_densities", False)}
    if not all(isinstance(value, bool) for value in present.values()):
        raise reader.error("has_embedding, has_embedding_list, has_unique_inverse and "
                           "has_densities must be true or false")
    arrays = reader.arrays({name: rule for name, rule in _FITTED_ARRAYS.items()
                            if present.get(name, True)})
    arrays.update({name: None for name, here in present.items() if not here})
    if sparse:
        arrays["training_data"] = _restore_sparse_data(reader, metadata)
    n = _check_fitted_arrays(reader, arrays)
    _check_fitted_values(reader, arrays)
    params = _restore_params(reader, metadata, n)
    training_data = arrays["training_data"]
    output_metric = (_restore_metric(reader, metadata, "output_metric")
                     if "output_metric" in metadata else EUCLIDEAN_OUTPUT)
    if training_data is not None:
        metric.check_width(training_data.shape[1])
    if arrays["embedding"] is not None:
        output_metric.check_width(arrays["embedding"].shape[1], "output_metric")

    a, b = fitted.get("a_"), fitted.get("b_")
    try:
        _validation.check_curve(a, b, "a_", "b_")
        if arrays["embedding"] is not None:
            _validation.check_layout(arrays["embedding"], a, b)
    except ValueError as error:
        raise reader.error(str(error)) from error
    n_features = fitted.get("n_features_in_")
    width = n if training_data is None else training_data.shape[1]
    if n_features != width or not _is_int(n_features):
        raise reader.error("n_features_in_ does not match the training data")
    timings = fitted.get("timings_")
    if not isinstance(timings, dict) or not all(
            isinstance(v, float) and np.isfinite(v) for v in timings.values()):
        raise reader.error("timings_ must map stage names to seconds")
    feature_names = fitted.get("feature_names_in_")
    if feature_names is not None:
        if (not isinstance(feature_names, list) or len(feature_names) != n_features
                or not all(isinstance(f, str) for f in feature_names)):
            raise reader.error("feature_names_in_ must be n_features_in_ strings")
        feature_names = np.asarray(feature_names, dtype=object)
    distance = fitted.get("disconnection_distance")
    if distance is None:
        distance = np.inf
    elif not isinstance(distance, float) or not distance > 0:
        raise reader.error(f"disconnection_distance must be a positive number or null, got "
                           f"{distance!r}")
    # Older writers did not record it: their transform sampled relative to 1.
    reference = fitted.get("transform_sampling_reference", 1.0)
    if not isinstance(reference, float) or not 0 < reference <= 1:
        raise reader.error(f"transform_sampling_reference must be a number in (0, 1], got "
                           f"{reference!r}")

    state = FittedState(
        **{name: arrays[name] for name in ARRAYS},
        graph=scipy.sparse.csr_matrix(
            (arrays["graph_data"], arrays["graph_indices"], arrays["graph_indptr"]),
            shape=(n, n)),
        a=a, b=b, metric=metric,
        index=_restore_index(reader, metadata, metric, training_data, n),
        n_features_in=n_features, feature_names_in=feature_names, timings=dict(timings),
        output_metric=output_metric, disconnection_distance=distance,
        transform_sampling_reference=reference,
    )
    if isinstance(params.get("precomputed_knn"), tuple) and params["precomputed_knn"][2] == \
            "fitted":
        indices, dists, _ = params["precomputed_knn"]
        params["precomputed_knn"] = (indices, dists, state.index)
    reader.check_all_used()
    return SavedModel(params, state)


def _restore_sparse_data(reader, metadata):
    """The sparse training data of a file, checked to be canonical CSR."""
    container = _SPARSE_CONTAINERS.get(_section(reader, metadata, "sparse_training_data")
                                       .get("container"))
    if container is None:
        raise reader.error("sparse_training_data names an unknown container")
    n_features = _section(reader, metadata, "fitted").get("n_features_in_")
    if not _is_int(n_features) or not 0 < n_features < 2**31:
        raise reader.error(f"n_features_in_ must be a positive integer, got {n_features!r}")
    arrays = reader.arrays(_SPARSE_DATA_ARRAYS)
    data, indices, indptr = (arrays["training_data_" + part]
                             for part in ("data", "indices", "indptr"))
    if indices.shape != data.shape or indptr.shape[0] < 1:
        raise reader.error("the sparse training data arrays differ in length")
    problem = canonical_csr_arrays_status(indptr, indices, n_features)
    if problem:
        raise reader.error(f"the sparse training data is not canonical CSR: {problem}")
    if not np.all(np.isfinite(data)):
        raise reader.error("the sparse training data has non-finite values")
    # One index dtype for both arrays, as canonical_csr makes them (scipy would copy otherwise).
    indptr = indptr.astype(np.int32 if indices.shape[0] < 2**31 else np.int64)
    indices = indices.astype(indptr.dtype, copy=False)
    return container((data, indices, indptr), shape=(indptr.shape[0] - 1, n_features))


def _restore_params(reader, metadata, n):
    """The saved constructor parameters (only those the file names)."""
    params = _section(reader, metadata, "params")
    unknown = set(params) - set(_validation.PARAMETERS)
    if unknown:
        raise reader.error(f"it names parameters this umapx does not know: {sorted(unknown)}")
    params = dict(params)
    if not isinstance(params.get("init", ""), str):  # an array init is an entry of its own
        raise reader.error(f"the init parameter must be a method name, got {params['init']!r}")
    for name, entries in metadata.get("param_arrays", {}).items():
        if name not in _KWDS_PARAMS or not isinstance(entries, dict) or not isinstance(
                params.get(name), dict):
            raise reader.error(f"param_arrays names {name!r}, not a dict parameter")
        for key, where in entries.items():
            if (not isinstance(where, list) or len(where) != 2 or not isinstance(where[0], str)
                    or not where[0].startswith(f"param_{name}_") or where[1] not in (1, 2)):
                raise reader.error(f"param_arrays[{name!r}][{key!r}] is not [entry, ndim]")
            params[name][key] = reader.array(where[0], "float64", where[1])
    knn = params.get("precomputed_knn", None)
    if knn is None:
        params.pop("precomputed_knn", None)
    else:
        if not isinstance(knn, dict) or knn.get("index") not in (None, "fitted") \
                or knn.get("length") not in (2, 3):
            raise reader.error(f"precomputed_knn must describe its arrays, got {knn!r}")
        indices = reader.array("param_precomputed_knn_indices", "int64", 2)
        dists = reader.array("param_precomputed_knn_dists", "float64", 2)
        params["precomputed_knn"] = ((indices, dists, knn["index"]) if knn["length"] == 3
                                     else (indices, dists))
    if "param_init.npy" in reader.archive.namelist():
        params["init"] = reader.array("param_init", "float64", 2)
        if params["init"].shape[0] != n or not np.all(np.isfinite(params["init"])):
            raise reader.error("the init array must have one finite row per training sample")
    if "random_state_state" in metadata:
        state = _section(reader, metadata, "random_state_state")
        key = reader.array("param_random_state_key", "uint32", 1)
        random_state = np.random.RandomState()
        random_state.set_state(("MT19937", key, state["pos"], state["has_gauss"],
                                state["cached_gaussian"]))
        params["random_state"] = random_state
    return params



def _restore_metric(reader, metadata, role):
    """The resolved metric of section ``role`` ("metric" or "output_metric")."""
    saved = _section(reader, metadata, role)
    name, p, stored = saved.get("name"), saved.get("p"), saved.get("arrays", [])
    spec = spec_of(name) if isinstance(name, str) else None
    if spec is None or not isinstance(p, float) or not isinstance(stored, list) \
            or not set(stored) <= set(_METRIC_ARRAYS):
        raise reader.error(f"its {role} {saved} is not valid")
    scalar = {kwd.field for kwd in spec.kwds.values()} & {"p"}
    if not (np.isfinite(p) and p > 0 if scalar else p == spec.default_p) or (
            "p" in spec.kwds and p < 1):
        raise reader.error(f"its {role} {saved} has an invalid parameter p={p}")
    try:
        spec = resolve_metric(name, None, role=role).spec
    except ValueError as error:
        raise reader.error(f"its {role} {saved} is not valid ({error})") from error
    values = {field: reader.array(f"{role}_{field}", *_METRIC_ARRAYS[field]) for field in stored}
    if any(np.any(np.isnan(value)) for value in values.values()):
        raise reader.error(f"its {role} parameters contain NaN")
    return Metric(spec, p=p, vector=values.get("vector"), matrix=values.get("matrix"))


def _restore_index(reader, metadata, metric, training_data, n):
    settings = _section(reader, metadata, "knn_index")
    method, epsilon = settings.get("method"), settings.get("epsilon")
    if not isinstance(epsilon, float) or not np.isfinite(epsilon) or epsilon < 0:
        raise reader.error(f"the index epsilon must be a number >= 0, got {epsilon!r}")
    if (method == "precomputed") != metric.is_precomputed:
        raise reader.error(f"its k-NN index method {method!r} does not fit its metric")
    if method in ("exact", "precomputed"):
        state = {}
    elif method == "nndescent":
        state = reader.arrays(_NNDESCENT_ARRAYS, prefix=_INDEX_PREFIX)
        _check_index_arrays(reader, state, training_data.shape[0])
    else:
        raise reader.error(f"unknown k-NN index method {method!r}")
    return NeighborIndex.from_state(metric, training_data, method, state, epsilon, n_samples=n)


# -- consistency checks (a crafted file must not send the kernels out of bounds) ------------


def _check_fitted_arrays(reader, arrays):
    """Check shapes and index ranges of the fitted arrays; return the number of samples."""
    n = arrays["knn_indices"].shape[0]
    for name in ("training_data", "embedding", "knn_dists", "sigmas", "rhos", "rad_orig",
                 "rad_emb"):
        if arrays[name] is not None and arrays[name].shape[0] != n:
            raise reader.error(f"{name} has {arrays[name].shape[0]} rows but the k-NN graph "
                               f"has {n}")
    snapshots = arrays["embedding_list"]
    if snapshots is not None and (arrays["embedding"] is None
                                  or snapshots.shape[1:] != arrays["embedding"].shape):
        raise reader.error("embedding_list does not hold embeddings of the embedding's shape")
    if arrays["knn_dists"].shape != arrays["knn_indices"].shape:
        raise reader.error("knn_dists and knn_indices differ in shape")
    _check_range(reader, "knn_indices", arrays["knn_indices"], -1, n)
    if arrays["unique_inverse"] is not None:
        _check_range(reader, "unique_inverse", arrays["unique_inverse"], 0, n)
    _check_csr(reader, "graph", arrays["graph_indptr"], arrays["graph_indices"], n)
    if arrays["graph_data"].shape != arrays["graph_indices"].shape:
        raise reader.error("graph_data and graph_indices differ in length")
    return n


def _check_fitted_values(reader, arrays):
    """Values a fit can produce: finite data, embedding, distances (infinite only for the
    neighbours ``disconnection_distance`` removed, index -1), scales and weights."""
    for name in ("training_data", "embedding", "embedding_list", "sigmas", "rhos", "graph_data"):
        values = arrays.get(name)
        if scipy.sparse.issparse(values):  # sparse training data: its stored values
            values = values.data
        if values is not None and not _all_finite(values):
            raise reader.error(f"{name} holds NaN or infinite values")
    absent = arrays["knn_indices"] < 0
    if not (np.isfinite(arrays["knn_dists"][~absent]).all()
            and np.isposinf(arrays["knn_dists"][absent]).all()):
        raise reader.error("knn_dists holds NaN or infinite values for present neighbours")
    for name in ("knn_dists", "sigmas", "rhos", "graph_data"):
        if arrays[name].size and arrays[name].min() < 0:
            raise reader.error(f"{name} holds negative values")
    if arrays["graph_data"].size and arrays["graph_data"].max() > _MAX_GRAPH_WEIGHT:
        raise reader.error("graph_data holds membership strengths above 1")
    n = arrays["knn_indices"].shape[0]
    if arrays["knn_indices"].shape[1] and np.any(arrays["knn_indices"][:, 0] != np.arange(n)):
        raise reader.error("knn_indices does not list each sample first among its neighbours")
    if arrays["training_data"] is None:
        return
    try:
        _validation.check_magnitude(arrays["training_data"], "the training data",
                                    allow_tiny=False)
    except ValueError as error:
        raise reader.error(str(error)) from error


def _all_finite(array):
    """Whether every value is finite, a block at a time (no full-size temporary)."""
    flat = array.reshape(-1)
    step = _CHUNK // 4
    return all(np.isfinite(flat[start:start + step]).all() for start in range(0, flat.size, step))


def _check_index_arrays(reader, state, n):
    _check_csr(reader, "index graph", state["graph_indptr"], state["graph_neighbours"], n)
    if not _all_finite(state["tree_offset"]):
        raise reader.error("the index tree has NaN or infinite split offsets")
    tree = {field: state["tree_" + field] for field in RPTree._fields}
    perm = tree.pop("perm")
    if perm.shape != (n,):
        raise reader.error("the index tree does not order every training sample")
    _check_range(reader, "index tree_perm", perm, 0, n)
    n_nodes = tree["left"].shape[0]
    if n_nodes == 0 or any(values.shape != (n_nodes,) for values in tree.values()):
        raise reader.error("the index tree's node arrays differ in length")
    nodes = np.arange(n_nodes)
    internal = tree["left"] != -1
    for side in ("left", "right"):  # children come after their parent: descents end
        child = tree[side][internal]
        if np.any(child <= nodes[internal]) or np.any(child >= n_nodes):
            raise reader.error(f"the index tree has invalid {side} children")
    _check_range(reader, "index tree_start", tree["start"], 0, n + 1)
    _check_range(reader, "index tree_end", tree["end"], 0, n + 1)
    if np.any(tree["start"] > tree["end"]):
        raise reader.error("the index tree has leaves that end before they start")
    for pivot in ("pivot_a", "pivot_b"):
        _check_range(reader, f"index tree_{pivot}", tree[pivot], -1, n)
    if np.any((tree["pivot_a"] == -1) != (tree["pivot_b"] == -1)):
        raise reader.error("the index tree has nodes with a single pivot")


def _check_csr(reader, name, indptr, indices, n):
    """``indptr``/``indices`` form a valid CSR structure of ``n`` rows and columns."""
    if (indptr.shape != (n + 1,) or indptr[0] != 0 or indptr[-1] != indices.shape[0]
            or np.any(np.diff(indptr) < 0)):
        raise reader.error(f"the {name} row pointers are inconsistent")
    _check_range(reader, f"{name} indices", indices, 0, n)


def _check_range(reader, name, values, low, high):
    """All ``values`` lie in ``[low, high)``."""
    if values.size and (values.min() < low or values.max() >= high):
        raise reader.error(f"{name} has values outside [{low}, {high})")


def _section(reader, metadata, name):
    value = metadata.get(name)
    if not isinstance(value, dict):
        raise reader.error(f"{_METADATA} has no {name!r} section")
    return value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)



# ----------------------------------------------------------------------------------------------
# AlignedUMAP models
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedAlignedModel:
    """What an AlignedUMAP file holds: its constructor parameters, the relations between
    consecutive slices, and each slice's model as ``(params, state)``."""

    params: dict
    relations: list
    slices: list


def save_aligned(path, params, relations, slices):
    """Write an AlignedUMAP model to ``path``.

    Format: a ZIP archive (uncompressed entries) whose ``metadata.json`` holds ``format``
    ``"umapx-aligned-model"``, ``format_version``, ``umapx_version``, ``params`` (the
    AlignedUMAP's constructor parameters, JSON values), ``relations`` (per pair of consecutive
    slices, a list of ``[index, related index]`` pairs) and ``n_slices``; entry
    ``slice_<i>.umapx`` (zero-padded to 4 digits) is slice ``i``'s model, a complete model file
    in the format above.

    Parameters
    ----------
    path : str or os.PathLike
    params : dict
    relations : list of dict
    slices : list of (dict, FittedState)
    """
    metadata = {"format": ALIGNED_FORMAT_NAME, "format_version": FORMAT_VERSION,
                "umapx_version": __version__,
                "params": {name: _json_value(name, value) for name, value in params.items()},
                "relations": [[[int(k), int(v)] for k, v in sorted(r.items())]
                              for r in relations],
                "n_slices": len(slices)}
    raw = {}
    for i, (slice_params, state) in enumerate(slices):
        buffer = io.BytesIO()
        slice_metadata, arrays = _encode(slice_params, state)
        _write_archive(buffer, json.dumps(slice_metadata, indent=1, allow_nan=False).encode(),
                       arrays)
        raw[_slice_entry(i)] = buffer.getvalue()
    encoded = json.dumps(metadata, indent=1, allow_nan=False).encode("utf-8")
    _write_atomically(os.fspath(path), encoded, {}, raw)


def read_aligned(path):
    """Read and check an AlignedUMAP file written by :func:`save_aligned`.

    Returns
    -------
    SavedAlignedModel
    """
    path = os.fspath(path)
    with _open_regular_file(path) as file:
        return _read_model(file, os.fstat(file.fileno()).st_size, path,
                           expected=ALIGNED_FORMAT_NAME)


def _slice_entry(i):
    return f"slice_{i:04d}.umapx"


def _restore_aligned(reader):
    metadata = reader.metadata(formats=(ALIGNED_FORMAT_NAME,))
    params = _section(reader, metadata, "params")
    n_slices, relations = metadata.get("n_slices"), metadata.get("relations")
    if not _is_int(n_slices) or n_slices < 2:
        raise reader.error(f"n_slices must be an integer >= 2, got {n_slices!r}")
    if not isinstance(relations, list) or len(relations) != n_slices - 1:
        raise reader.error("relations must hold one list per pair of consecutive slices")
    slices = []
    for i in range(n_slices):
        entry = _slice_entry(i)
        with reader._decoding(entry):
            content = reader.archive.read(reader._info(entry))
        slices.append(_read_model(io.BytesIO(content), len(content),
                                  f"{reader.path}[{entry}]"))
    checked = []
    for i, pairs in enumerate(relations):
        if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(_is_int(v) for v in p)
                for p in pairs):
            raise reader.error(f"relations[{i}] must be a list of [index, index] pairs")
        relation = {k: v for k, v in pairs}
        sizes = slices[i].state.n_samples, slices[i + 1].state.n_samples
        for k, v in relation.items():
            if not (0 <= k < sizes[0] and 0 <= v < sizes[1]):
                raise reader.error(f"relations[{i}] maps {k} to {v}, outside the slices")
        checked.append(relation)
    reader.check_all_used()
    return SavedAlignedModel(dict(params), checked, [(s.params, s.state) for s in slices])


__all__ = ["save", "read", "save_aligned", "read_aligned", "read_any", "model_kind",
           "SavedAlignedModel", "SavedModel", "ModelFormatError", "FORMAT_NAME",
           "FORMAT_VERSION", "ALIGNED_FORMAT_NAME"]

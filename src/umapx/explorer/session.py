"""What the explorer shows, computed from a fitted model.

The model is read through its public attributes (``embedding_``, ``n_features_in_``,
``feature_names_in_``, ``n_jobs``) and its fitted state: generated samples come from the state's
inverse model, exactly what ``inverse_transform`` returns, without its input checks (done here)
and its far-outside warning (shown as low confidence instead). Everything the page receives is
built here: the points and labels as little-endian typed arrays, the metadata as JSON, batches
of generated samples, and a coarse raster of the inverse transform's confidence (the
low-confidence overlay).

A model fitted on sparse data generates sparse rows, typically thousands of columns wide (a
vocabulary). Drawn as images (``image_shape``) its rows are densified, one batch at a time;
otherwise each sample is shown as its :data:`TOP_TERMS` largest values and their columns (the
top terms of a document, named by ``feature_names``), sent as ``TOP_TERMS`` values followed by
``TOP_TERMS`` column numbers (exact in float32 below 2**24 columns; -1 where a row holds fewer
values).
"""

from __future__ import annotations

import json

import numpy as np

from .._jit import numba_threads
from ..geometry import default_corners
from ..inverse import LOW_CONFIDENCE, SMALL_BATCH, confidence_from_support

#: Most embedding points one inverse request may hold (a 64 x 64 grid).
MAX_BATCH = 4096
#: Most training neighbours reported per generated sample.
MAX_NEIGHBOURS = 32
#: Side of the confidence raster over the embedding's bounding box (plus a margin).
SUPPORT_RASTER = 128
#: Most distinct categories a labelling may have (their codes are sent as uint16).
MAX_CATEGORIES = 65535
#: A numeric labelling with more distinct values than this is shown as continuous values (a
#: colour map) rather than as categories.
MAX_NUMERIC_CATEGORIES = 64
#: Largest values (and their columns) shown per sample of a sparse model without image_shape.
TOP_TERMS = 16


def encode_labels(labels, n_points):
    """Labels as what the page colours by: categories (uint16 codes + names) or values.

    Returns
    -------
    dict
        ``{"kind": "none"}``, ``{"kind": "categories", "names": [...], "codes": uint16}`` or
        ``{"kind": "values", "values": float32, "low": float, "high": float}``.
    """
    if labels is None:
        return {"kind": "none"}
    array = np.asarray(labels)
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim != 1 or len(array) != n_points:
        raise ValueError(f"labels must hold one value per embedded point ({n_points}), "
                         f"got shape {np.shape(labels)}")
    if array.dtype.kind in "iufb":
        values = array.astype(np.float64)
        distinct = np.unique(values[np.isfinite(values)])
        if len(distinct) > MAX_NUMERIC_CATEGORIES:
            low, high = float(distinct[0]), float(distinct[-1])
            return {"kind": "values", "values": values.astype("<f4"), "low": low, "high": high}
        distinct, codes = np.unique(array, return_inverse=True)
        names = [f"{v:g}" if isinstance(v, float) else str(v) for v in distinct.tolist()]
    else:
        names, codes = np.unique(array.astype(str), return_inverse=True)
        names = names.tolist()
    if len(names) > MAX_CATEGORIES:
        raise ValueError(f"labels have {len(names)} distinct values; at most {MAX_CATEGORIES} "
                         "categories can be shown (give numeric values to colour by value)")
    return {"kind": "categories", "names": names, "codes": codes.astype("<u2")}


def read_labels(path):
    """One label per training sample from ``.npy``/``.npz`` (numbers or strings) or text.

    Text files hold one label per line (a CSV's first column); numeric text becomes numbers,
    and a first line above numbers is taken for a header.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such labels file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            names = archive.files
            key = next((k for k in ("labels", "target", "y") if k in names),
                       names[0] if len(names) == 1 else None)
            if key is None:
                raise ValueError(f"{path}: which array holds the labels? it has "
                                 f"{', '.join(names)} (name one 'labels')")
            return archive[key]
    with open(path, encoding="utf-8") as handle:
        lines = [line.rstrip("\r\n").split(",")[0].strip() for line in handle]
    while lines and not lines[-1]:
        lines.pop()
    for skip in (0, 1):  # numbers, or numbers under a header line
        try:
            return np.array([float(v) for v in lines[skip:]])
        except ValueError:
            pass
    return np.array(lines)


def check_image_shape(image_shape, n_features):
    """``(height, width)`` or ``(height, width, 3)`` holding exactly ``n_features`` values."""
    if image_shape is None:
        return None
    try:
        shape = tuple(int(v) for v in image_shape)
    except (TypeError, ValueError) as error:
        raise ValueError(f"image_shape must be (height, width) or (height, width, 3), got "
                         f"{image_shape!r}") from error
    if len(shape) not in (2, 3) or min(shape) < 1 or (len(shape) == 3 and shape[2] != 3):
        raise ValueError(f"image_shape must be (height, width) or (height, width, 3), got "
                         f"{image_shape!r}")
    if int(np.prod(shape)) != n_features:
        raise ValueError(f"image_shape {shape} holds {int(np.prod(shape))} values, but the model "
                         f"generates samples of {n_features} features")
    return shape


def grid_over(bounds, nx, ny):
    """Centres of an ``nx`` x ``ny`` raster over ``bounds = (xmin, xmax, ymin, ymax)``.

    Row-major from the bottom row (``ymin``) up; float64 array of shape (nx * ny, 2).
    """
    xmin, xmax, ymin, ymax = bounds
    xs = xmin + (np.arange(nx) + 0.5) * (xmax - xmin) / nx
    ys = ymin + (np.arange(ny) + 0.5) * (ymax - ymin) / ny
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


class ExplorerSession:
    """A fitted model prepared for the explorer page.

    Parameters
    ----------
    mapper : fitted UMAP
        Its embedding must be 2-d.
    labels : array-like of shape (n_samples,), optional
        Colours the points: categories (ints, strings) or continuous values (floats).
    image_shape : tuple, optional
        ``(height, width)`` (grey) or ``(height, width, 3)`` (RGB, channels last): samples are
        drawn as images. Otherwise as a chart of the features.
    feature_names : sequence of str, optional
        Names of the features (default: the model's ``feature_names_in_`` when it was fitted
        on a pandas DataFrame).
    """

    def __init__(self, mapper, labels=None, image_shape=None, feature_names=None):
        embedding = getattr(mapper, "embedding_", None)
        if embedding is None:
            raise ValueError("the model is not fitted: call fit before exploring it")
        embedding = np.asarray(embedding)
        if embedding.ndim != 2 or embedding.shape[1] != 2:
            raise ValueError(f"the explorer shows 2-d embeddings; this model's embedding has "
                             f"shape {embedding.shape} (fit with n_components=2)")
        self.mapper = mapper
        self.state = mapper.fitted_state
        self.embedding = np.ascontiguousarray(embedding, dtype="<f4")
        self.n_points = len(self.embedding)
        self.n_features = int(mapper.n_features_in_)
        self.image_shape = check_image_shape(image_shape, self.n_features)
        self.feature_names = _feature_names(mapper, feature_names, self.n_features)
        # top terms of sparse rows, unless they are drawn as images
        self.terms = (min(TOP_TERMS, self.n_features)
                      if self.state.sparse and self.image_shape is None else 0)
        self.labels = encode_labels(labels, self.n_points)
        self.n_neighbours = int(min(self.state.n_neighbors, MAX_NEIGHBOURS, self.n_points))
        self.bounds = _bounds(self.embedding)
        self.support_bounds = _padded(self.bounds, 0.05)
        self.support, self.sample_low, self.sample_high = self._support_raster()
        self.default_corners = self._default_corners()

    # --------------------------------------------------------------------------------------
    # Generated samples
    # --------------------------------------------------------------------------------------

    def inverse(self, points):
        """Samples, confidence and nearest training points for embedding points.

        Parameters
        ----------
        points : ndarray of shape (n, 2)

        Returns
        -------
        samples : float32 ndarray (n, n_features), or (n, 2 * terms) for top terms
            (:attr:`terms` > 0: each row's largest values, then their columns)
        confidence : float32 ndarray (n,)
        neighbours : int32 ndarray (n, k)
        """
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(points) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} points per request, got {len(points)}")
        if not np.all(np.isfinite(points)):
            raise ValueError("points must be finite numbers")
        # The fitted state's inverse model is what ``inverse_transform`` runs, without its
        # input checks (done above) and its far-outside warning (shown as low confidence).
        inverse = self.state.inverse
        with numba_threads(1 if len(points) <= SMALL_BATCH else self.mapper.n_jobs):
            samples, out_of_support = inverse.generate(points, self.state.n_neighbors)
            _, neighbours = inverse.index.query(points, self.n_neighbours)
        if self.terms:
            samples = top_terms(samples, self.terms)
        elif self.state.sparse:
            samples = samples.toarray()  # image rows: at most MAX_BATCH of them
        return (np.asarray(samples, dtype="<f4"),
                confidence_from_support(out_of_support).astype("<f4"),
                neighbours.astype(np.int32))

    def inverse_in_batches(self, points):
        """:meth:`inverse` over any number of points, in batches of :data:`MAX_BATCH`."""
        parts = [self.inverse(points[start:start + MAX_BATCH])
                 for start in range(0, len(points), MAX_BATCH)]
        return tuple(np.concatenate(arrays) for arrays in zip(*parts))

    def _support_raster(self):
        """Confidence over a raster, and the range of the samples generated there.

        The samples generated anywhere are blends of training samples, so the range over a
        raster covering the embedding (and beyond it, where samples stay those of the nearest
        points) is the range the page needs to draw any sample.
        """
        raster = grid_over(self.support_bounds, SUPPORT_RASTER, SUPPORT_RASTER)
        width = 2 * self.terms if self.terms else self.n_features
        low = np.full(width, np.inf)
        high = np.full(width, -np.inf)
        confidence = np.empty(len(raster), dtype="<f4")
        for start in range(0, len(raster), MAX_BATCH):
            samples, confidence[start:start + MAX_BATCH], _ = self.inverse(
                raster[start:start + MAX_BATCH])
            np.minimum(low, samples.min(axis=0), out=low)
            np.maximum(high, samples.max(axis=0), out=high)
        return confidence, low, high

    def _default_corners(self):
        """The tutorial's corners (:func:`umapx.geometry.default_corners`): embedded training
        points near the corners of the central 90% of the data."""
        return default_corners(self.embedding)

    # --------------------------------------------------------------------------------------
    # What the page receives
    # --------------------------------------------------------------------------------------

    def meta(self):
        """JSON-ready description of the model and of the arrays the page will fetch."""
        labels = {key: value for key, value in self.labels.items()
                  if key in ("kind", "names", "low", "high")}
        if self.terms:  # value slots only (the others hold column numbers)
            sample_low, sample_high = self.sample_low[:self.terms], self.sample_high[:self.terms]
        else:
            sample_low, sample_high = self.sample_low, self.sample_high
        image_range = [float(sample_low.min()), float(sample_high.max())]
        return {
            "n_points": self.n_points,
            "n_features": self.n_features,
            "n_neighbours": self.n_neighbours,
            "feature_names": self.feature_names,
            "image_shape": list(self.image_shape) if self.image_shape else None,
            "labels": labels,
            "bounds": [float(v) for v in self.bounds],
            "support": {"bounds": [float(v) for v in self.support_bounds],
                        "width": SUPPORT_RASTER, "height": SUPPORT_RASTER,
                        "low_confidence": LOW_CONFIDENCE},
            "sample_low": _finite_list(sample_low),
            "sample_high": _finite_list(sample_high),
            "terms": self.terms,
            "image_range": image_range,
            "default_corners": self.default_corners.tolist(),
            "max_batch": MAX_BATCH,
        }

    def meta_json(self):
        return json.dumps(self.meta(), allow_nan=False).encode()

    def points_bytes(self):
        return self.embedding.tobytes()

    def labels_bytes(self):
        kind = self.labels["kind"]
        if kind == "categories":
            return self.labels["codes"].tobytes()
        if kind == "values":
            return self.labels["values"].tobytes()
        return b""

    def support_bytes(self):
        return self.support.tobytes()


def top_terms(rows, count):
    """The ``count`` largest values of each row of a CSR matrix and their columns, as one
    float32 array ``(n, 2 * count)``: values in decreasing order (ties: lower column first),
    then the column numbers; a row with fewer values is padded with value 0 and column -1."""
    rows = rows.tocsr()
    n = rows.shape[0]
    out = np.zeros((n, 2 * count), np.float32)
    out[:, count:] = -1
    for i in range(n):
        start, stop = rows.indptr[i], rows.indptr[i + 1]
        values, columns = rows.data[start:stop], rows.indices[start:stop]
        order = np.lexsort((columns, -values))[:count]
        out[i, : len(order)] = values[order]
        out[i, count : count + len(order)] = columns[order]
    return out


def encode_inverse(samples, confidence, neighbours, compute_ms=0.0):
    """The binary answer to an inverse request, all little-endian.

    ``uint32[3]`` header (n points, n features, k neighbours) and ``float32`` milliseconds the
    server spent computing, then ``float32[n * n_features]`` samples, ``float32[n]`` confidence
    and ``int32[n * k]`` indices of the nearest training points.
    """
    n, d = samples.shape
    header = np.array([n, d, neighbours.shape[1]], dtype="<u4").tobytes()
    return b"".join([header, np.float32(compute_ms).astype("<f4").tobytes(),
                     samples.astype("<f4").tobytes(),
                     confidence.astype("<f4").tobytes(), neighbours.astype("<i4").tobytes()])


def decode_points(body):
    """Embedding points from a request body of little-endian float32 (x, y) pairs."""
    if len(body) == 0 or len(body) % 8:
        raise ValueError(f"the body must be float32 (x, y) pairs: a multiple of 8 bytes, got "
                         f"{len(body)}")
    points = np.frombuffer(body, dtype="<f4").reshape(-1, 2)
    if len(points) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} points per request, got {len(points)}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite numbers")
    return points


def _feature_names(mapper, feature_names, n_features):
    if feature_names is None:
        feature_names = getattr(mapper, "feature_names_in_", None)
    if feature_names is None:
        return None
    names = [str(name) for name in feature_names]
    if len(names) != n_features:
        raise ValueError(f"feature_names has {len(names)} names for {n_features} features")
    return names


def _bounds(embedding):
    (xmin, ymin), (xmax, ymax) = embedding.min(axis=0), embedding.max(axis=0)
    return float(xmin), float(xmax), float(ymin), float(ymax)


def _padded(bounds, fraction):
    xmin, xmax, ymin, ymax = bounds
    pad = fraction * max(xmax - xmin, ymax - ymin, 1e-9)
    return xmin - pad, xmax + pad, ymin - pad, ymax + pad


def _finite_list(values):
    return [float(v) if np.isfinite(v) else 0.0 for v in values]

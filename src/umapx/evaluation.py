"""Quality measures of embeddings and of generated samples.

Forward (how well an embedding keeps the data's structure):

* :func:`trustworthiness` -- are embedding neighbours also data neighbours (1 is perfect);
* :func:`knn_accuracy` -- accuracy of a k-NN classifier on a train/test split of the embedded
  points;
* :func:`transform_accuracy` -- accuracy on held-out points placed by ``transform``, with the
  classifier fitted on the training embedding.

Per point (what the diagnostic plots of :mod:`umapx.plot` colour by):

* :func:`local_dimension` -- the local intrinsic dimension of each point's input neighbourhood;
* :func:`neighborhood_jaccard` -- how much of each point's input neighbourhood the embedding
  kept.

Inverse (how good ``inverse_transform``'s samples are), on held-out points never used in fit:
see :func:`inverse_quality`.

All measures take plain arrays, so they apply to any embedding library's output. Arrays are
checked first: wrong shapes, mismatched lengths, NaN or infinite values and out-of-range
indices raise a ValueError naming the argument.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse
from sklearn.manifold import trustworthiness as _sk_trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import check_array

#: Rows handled at once by the neighbourhood measures (small blocks stay in cache).
_BLOCK_ROWS = 512


def _matrix(value, name, dtype=np.float64, min_samples=1, accept_sparse=False):
    """``value`` as a finite 2-d numeric array (or CSR matrix, with ``accept_sparse``), or a
    ValueError naming ``name``."""
    return check_array(value, dtype=dtype, ensure_min_samples=min_samples, input_name=name,
                       accept_sparse="csr" if accept_sparse else False)


def _same_rows(**arrays):
    """Raise a ValueError unless every named array has the same number of rows."""
    lengths = {name: array.shape[0] for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"expected one row per sample in each argument, but {shown}")


def _same_columns(**arrays):
    widths = {name: array.shape[1] for name, array in arrays.items()}
    if len(set(widths.values())) > 1:
        shown = ", ".join(f"{name} has {width}" for name, width in widths.items())
        raise ValueError(f"expected the same number of columns, but {shown}")


def _labels(value, name):
    labels = np.asarray(value)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of labels, got shape {labels.shape}")
    return labels


def _count(value, name, low=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _neighbour_indices(value, n_samples, name="neighbors"):
    indices = np.asarray(value)
    if indices.ndim != 2 or indices.dtype.kind not in "iu" or indices.shape[1] == 0:
        raise ValueError(f"{name} must be a 2-d integer array (one row of indices per sample), "
                         f"got shape {indices.shape} and dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= n_samples):
        raise ValueError(f"{name} holds indices outside [0, {n_samples})")
    return indices


def _sample(n, size, random_state):
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(np.random.RandomState(random_state).choice(n, size, replace=False))


def trustworthiness(X, embedding, n_neighbors=15, sample_size=5000, random_state=0,
                    metric="euclidean"):
    """Trustworthiness of ``embedding`` for ``X`` (sklearn's definition) on a random sample.

    Parameters
    ----------
    X : ndarray (n, d) or scipy.sparse matrix
    embedding : ndarray (n, dim)
    n_neighbors : int
    sample_size : int or None
        Points drawn (without replacement) to compute it on; None uses all (O(n^2) memory).
    random_state : int
    metric : str
        Metric of the input space (any of scikit-learn's ``pairwise_distances``).

    Returns
    -------
    float in [0, 1]
    """
    X = _matrix(X, "X", dtype=None, accept_sparse=True)
    embedding = _matrix(embedding, "embedding", dtype=None)
    _same_rows(X=X, embedding=embedding)
    n_neighbors = _count(n_neighbors, "n_neighbors")
    if sample_size is not None:
        sample_size = _count(sample_size, "sample_size", low=2)
    rows = _sample(X.shape[0], sample_size, random_state)
    if n_neighbors >= len(rows) / 2:
        raise ValueError(f"n_neighbors ({n_neighbors}) must be less than half the number of "
                         f"samples used ({len(rows)})")
    sample = X[rows].astype(np.float32) if scipy.sparse.issparse(X) else \
        np.asarray(X[rows], np.float32)
    return float(_sk_trustworthiness(sample, np.asarray(embedding[rows], np.float32),
                                     n_neighbors=n_neighbors, metric=metric))


def knn_accuracy(embedding, labels, n_neighbors=10, test_size=0.2, random_state=0):
    """Accuracy of a ``n_neighbors``-NN classifier on a stratified split of the embedding."""
    embedding, labels = _matrix(embedding, "embedding"), _labels(labels, "labels")
    _same_rows(embedding=embedding, labels=labels)
    train_x, test_x, train_y, test_y = train_test_split(
        embedding, labels, test_size=test_size, random_state=random_state, stratify=labels
    )
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors).fit(train_x, train_y)
    return float(classifier.score(test_x, test_y))


def transform_accuracy(train_embedding, train_labels, test_embedding, test_labels,
                       n_neighbors=10):
    """Accuracy on held-out points placed by ``transform`` (classifier fit on training)."""
    train_embedding = _matrix(train_embedding, "train_embedding")
    test_embedding = _matrix(test_embedding, "test_embedding")
    train_labels, test_labels = _labels(train_labels, "train_labels"), _labels(test_labels,
                                                                                "test_labels")
    _same_rows(train_embedding=train_embedding, train_labels=train_labels)
    _same_rows(test_embedding=test_embedding, test_labels=test_labels)
    _same_columns(train_embedding=train_embedding, test_embedding=test_embedding)
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors).fit(train_embedding, train_labels)
    return float(classifier.score(test_embedding, test_labels))


# ------------------------------------------------------------------------------------------------
# Per-point measures
# ------------------------------------------------------------------------------------------------


def local_dimension(data, neighbors, variance_threshold=0.8):
    """Local intrinsic dimension of each point's neighbourhood.

    Parameters
    ----------
    data : ndarray of shape (n_samples, n_features), or a scipy.sparse matrix
    neighbors : int ndarray of shape (n_samples, k)
        Row ``i``: indices of the neighbourhood of point ``i`` (itself included).
    variance_threshold : float in (0, 1]

    Returns
    -------
    ndarray of shape (n_samples,), int
        The number of principal components of each neighbourhood needed to explain
        ``variance_threshold`` of its variance (0 for a neighbourhood of identical points).
    """
    data = _matrix(data, "data", dtype=np.float32, accept_sparse=True)
    sparse = scipy.sparse.issparse(data)
    neighbors = _neighbour_indices(neighbors, data.shape[0])
    _same_rows(data=data, neighbors=neighbors)
    if not 0.0 < variance_threshold <= 1.0:
        raise ValueError(f"variance_threshold must be in (0, 1], got {variance_threshold!r}")
    dimensions = np.empty(len(neighbors), dtype=np.int64)
    # Sparse blocks form a (batch k)^2 product of which the diagonal k x k blocks are kept.
    step = _SPARSE_BLOCK_ROWS if sparse else _BLOCK_ROWS
    for start in range(0, len(neighbors), step):
        # The k x k Gram matrix of the centred neighbourhood has the same non-zero spectrum as
        # its covariance, and is small.
        if sparse:
            gram = _centred_sparse_grams(data, neighbors[start:start + step])
        else:
            block = data[neighbors[start:start + step]]  # (batch, k, n_features)
            block -= block.mean(axis=1, keepdims=True)
            gram = np.matmul(block, block.transpose(0, 2, 1)).astype(np.float64)
        spectrum = np.clip(np.linalg.eigvalsh(gram)[:, ::-1], 0.0, None)
        explained = np.cumsum(spectrum, axis=1)
        total = explained[:, -1:]
        needed = np.sum(explained < variance_threshold * total * (1 - 1e-9), axis=1) + 1
        dimensions[start:start + step] = np.where(total[:, 0] > 0, needed, 0)
    return dimensions


_SPARSE_BLOCK_ROWS = 64


def _centred_sparse_grams(data, neighbors):
    """Gram matrices (batch, k, k) of the centred neighbourhoods of sparse rows."""
    batch, k = neighbors.shape
    rows = data[neighbors.ravel()]
    products = (rows @ rows.T).toarray().astype(np.float64).reshape(batch, k, batch, k)
    grams = products[np.arange(batch), :, np.arange(batch), :]
    centring = np.eye(k) - 1.0 / k
    return centring @ grams @ centring


def neighborhood_jaccard(neighbors, embedding):
    """Jaccard index of each point's input-space and embedding neighbourhoods.

    Parameters
    ----------
    neighbors : int ndarray of shape (n_samples, k)
        Input-space neighbors of each point (itself included).
    embedding : ndarray of shape (n_samples, dim)

    Returns
    -------
    ndarray of shape (n_samples,), in [0, 1]
        ``|A & B| / |A | B|`` for the input neighbors ``A`` and the ``k`` nearest embedded
        points ``B``.
    """
    from scipy.spatial import cKDTree

    embedding = _matrix(embedding, "embedding")
    neighbors = _neighbour_indices(neighbors, len(embedding))
    _same_rows(neighbors=neighbors, embedding=embedding)
    k = neighbors.shape[1]
    if k > len(embedding):
        raise ValueError(f"neighbors has {k} columns, more than the {len(embedding)} samples")
    _, embedded = cKDTree(embedding).query(embedding, k=k, workers=-1)
    embedded = embedded.reshape(len(embedding), k)
    shared = np.empty(len(neighbors), dtype=np.int64)
    for start in range(0, len(neighbors), _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        shared[rows] = np.sum(neighbors[rows, :, None] == embedded[rows, None, :], axis=(1, 2))
    return shared / (2 * k - shared)


# ------------------------------------------------------------------------------------------------
# Inverse transform
# ------------------------------------------------------------------------------------------------


def _nearest_distances(queries, reference):
    from sklearn.neighbors import NearestNeighbors

    reference = _matrix(reference, "training data", dtype=np.float32)
    queries = _matrix(queries, "samples", dtype=np.float32)
    _same_columns(samples=queries, training_data=reference)
    finder = NearestNeighbors(n_neighbors=1).fit(reference)
    return finder.kneighbors(queries)[0][:, 0]


def embedding_spacing(embedding):
    """Typical nearest-neighbour spacing of an embedding (median distance to the nearest other
    embedded point): the unit of :func:`round_trip_error`."""
    from scipy.spatial import cKDTree

    embedding = _matrix(embedding, "embedding", min_samples=2)
    return float(np.median(cKDTree(embedding).query(embedding, k=2)[0][:, 1]))


def reconstruction_mse(original, generated):
    """Mean squared error between held-out samples and their reconstructions."""
    original, generated = _matrix(original, "original"), _matrix(generated, "generated")
    if original.shape != generated.shape:
        raise ValueError(f"original and generated must have the same shape, got "
                         f"{original.shape} and {generated.shape}")
    return float(np.mean((original - generated) ** 2))


def label_preservation(generated, labels, classifier):
    """Fraction of generated samples that ``classifier`` (trained on real data) assigns the
    label of the held-out sample they were generated from."""
    generated, labels = _matrix(generated, "generated", np.float32), _labels(labels, "labels")
    _same_rows(generated=generated, labels=labels)
    predicted = classifier.predict(generated)
    return float(np.mean(predicted == labels))


def round_trip_error(transform, generated, points, spacing):
    """Median ``|transform(generated) - points|`` in units of the embedding's ``spacing``."""
    points = _matrix(points, "points")
    if not (isinstance(spacing, numbers.Real) and np.isfinite(spacing) and spacing > 0):
        raise ValueError(f"spacing must be a positive number, got {spacing!r}")
    placed = _matrix(transform(generated), "transform(generated)")
    if placed.shape != points.shape:
        raise ValueError(f"transform(generated) has shape {placed.shape}, points {points.shape}")
    return float(np.median(np.linalg.norm(placed - points, axis=1)) / spacing)


def novelty_ratio(generated, held_out, training):
    """Median distance of generated samples to their nearest training sample, over the same for
    real held-out samples: ~0 for copies of training samples, >> 1 for blur, ~1 is ideal."""
    return float(np.median(_nearest_distances(generated, training))
                 / np.median(_nearest_distances(held_out, training)))


def outside_support(inverse_transform, embedding, data, n_rays=20, steps=30, max_factor=10.0,
                    random_state=0):
    """How an inverse transform behaves beyond the embedded data, along rays leaving it.

    Rays start at the embedding's centre and head towards random embedded training points, from
    the embedding's radius out to ``max_factor`` times it. At every position ``y`` the inverse
    is evaluated at ``y`` and at ``y`` moved by 0.1% of the radius. Reported: whether every
    output is finite and inside the per-feature range of ``data``, and the largest change
    caused by such a small move, in units of the median nearest-neighbour distance of the
    training data (a continuous inverse stays far below 1; one that snaps between arbitrary
    training samples jumps by about 1 or more).

    Parameters
    ----------
    inverse_transform : callable
        ``points -> samples`` (e.g. ``mapper.inverse_transform``).
    embedding, data : ndarray
        Training embedding and training data.

    Returns
    -------
    dict with ``finite``, ``in_range``, ``max_jump``.
    """
    rng = np.random.RandomState(random_state)
    embedding = _matrix(embedding, "embedding", min_samples=2)
    data = _matrix(data, "data", dtype=None, min_samples=2)
    _same_rows(embedding=embedding, data=data)
    n_rays, steps = _count(n_rays, "n_rays"), _count(steps, "steps")
    if n_rays > len(embedding):
        raise ValueError(f"n_rays ({n_rays}) must be at most the number of embedded points "
                         f"({len(embedding)})")
    if not (np.isfinite(max_factor) and max_factor >= 1.0):
        raise ValueError(f"max_factor must be a number >= 1, got {max_factor!r}")
    centre = embedding.mean(axis=0)
    radius = np.linalg.norm(embedding - centre, axis=1).max()
    directions = embedding[rng.choice(len(embedding), n_rays, replace=False)] - centre
    directions /= np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-12)
    fractions = np.linspace(1.0, max_factor, steps)
    points = (centre + directions[:, None, :] * radius * fractions[None, :, None]).reshape(
        -1, embedding.shape[1])
    nudges = rng.normal(size=points.shape)
    nudges *= 1e-3 * radius / np.linalg.norm(nudges, axis=1, keepdims=True)
    generated = np.asarray(inverse_transform(np.vstack([points, points + nudges])), np.float64)
    low, high = data.min(axis=0), data.max(axis=0)
    tolerance = 1e-6 * (np.abs(high) + 1.0)
    jumps = np.linalg.norm(generated[: len(points)] - generated[len(points):], axis=1)
    return {
        "finite": bool(np.all(np.isfinite(generated))),
        "in_range": bool(np.all((generated >= low - tolerance) & (generated <= high + tolerance))),
        "max_jump": float(jumps.max() / _typical_spacing(data, rng)),
    }


def _typical_spacing(data, rng, size=2000):
    """Median distance of a data sample to its nearest other sample."""
    from sklearn.neighbors import NearestNeighbors

    rows = rng.choice(len(data), min(size, len(data)), replace=False)
    data = np.asarray(data, np.float32)
    finder = NearestNeighbors(n_neighbors=2).fit(data)
    return float(np.median(finder.kneighbors(data[rows])[0][:, 1]))


def inverse_quality(transform, inverse_transform, train_data, train_labels, train_embedding,
                    test_data, test_labels, classifier=None):
    """All inverse measures on held-out samples (never used in fit).

    ``points = transform(test_data)`` and ``generated = inverse_transform(points)``.

    Parameters
    ----------
    transform, inverse_transform : callable
        The model's methods (any library's).
    train_data, train_labels, train_embedding : ndarray
        The data the model was fitted on, its labels and its embedding.
    test_data, test_labels : ndarray
        Held-out samples.
    classifier : fitted classifier or None
        Judge of label preservation; default a 10-NN classifier on ``train_data``.

    Returns
    -------
    dict with ``mse``, ``label_preservation``, ``round_trip``, ``novelty``.
    """
    train_data = _matrix(train_data, "train_data", dtype=None)
    test_data = _matrix(test_data, "test_data", dtype=None)
    train_labels = _labels(train_labels, "train_labels")
    _same_rows(train_data=train_data, train_labels=train_labels)
    _same_rows(test_data=test_data, test_labels=_labels(test_labels, "test_labels"))
    _same_columns(train_data=train_data, test_data=test_data)
    if classifier is None:
        classifier = KNeighborsClassifier(n_neighbors=10).fit(
            np.asarray(train_data, np.float32), train_labels)
    points = np.asarray(transform(test_data), np.float64)
    generated = inverse_transform(points)
    return {
        "mse": reconstruction_mse(test_data, generated),
        "label_preservation": label_preservation(generated, test_labels, classifier),
        "round_trip": round_trip_error(transform, generated, points,
                                       embedding_spacing(train_embedding)),
        "novelty": novelty_ratio(generated, test_data, train_data),
    }

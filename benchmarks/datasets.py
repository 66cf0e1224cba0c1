"""Benchmark datasets, pixels scaled to [0, 1], as (train, train_labels, test, test_labels).

* ``digits``: sklearn's digits, first 1500 / last 297;
* ``mnist10k``: the real 10k MNIST subset (``../shared/data/mnist10k.npz`` or
  ``$UMAPX_MNIST10K``), first 8000 / last 2000;
* ``fashion``: Fashion-MNIST's 60000 training / 10000 test images (Debian package
  ``dataset-fashion-mnist`` or anywhere ``umapx.datasets`` finds them).

Sparse text corpora (:func:`corpus`), TF-IDF of ``umapx.datasets.make_topic_corpus`` counts
(sklearn's 20 newsgroups needs the internet): ``corpus20k`` (20000 documents, 20000 words,
20 topics), ``corpus5k`` (5000 documents, same vocabulary).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MNIST10K = Path(os.environ.get(
    "UMAPX_MNIST10K", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist10k.npz"))

NAMES = ("digits", "mnist10k", "fashion")


def load(name):
    from umapx import datasets

    if name == "digits":
        data, labels = datasets.load_digits()
        data = data / 16.0
        return data[:1500], labels[:1500], data[1500:], labels[1500:]
    if name == "mnist10k":
        data, labels = datasets.load_mnist(path=MNIST10K)
        data = data / 255.0
        return data[:8000], labels[:8000], data[8000:], labels[8000:]
    if name == "fashion":
        train, train_labels = datasets.load_fashion_mnist(subset="train", download=False)
        test, test_labels = datasets.load_fashion_mnist(subset="test", download=False)
        return train / 255.0, train_labels, test / 255.0, test_labels
    raise ValueError(f"unknown dataset {name!r}; choose from {NAMES}")


CORPORA = {"corpus20k": 20000, "corpus5k": 5000}


def corpus(name):
    """``(tfidf, topics)``: a float32 CSR TF-IDF matrix (unit rows) and each row's topic."""
    from sklearn.feature_extraction.text import TfidfTransformer

    from umapx.datasets import make_topic_corpus

    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; choose from {sorted(CORPORA)}")
    counts, topics = make_topic_corpus(n_documents=CORPORA[name], n_words=20000, n_topics=20,
                                       document_length=150, topic_share=0.15, random_state=0)
    tfidf = TfidfTransformer().fit_transform(counts).astype(np.float32)
    tfidf.sort_indices()
    return tfidf, topics


def as_float32(*arrays):
    return tuple(np.ascontiguousarray(a, dtype=np.float32) if a.dtype.kind == "f" else a
                 for a in arrays)


# ----------------------------------------------------------------------------------------------
# Scale datasets (benchmarks/run.py scale): generated once, cached as .npy, read by prefix
# ----------------------------------------------------------------------------------------------

SCALE_NAMES = ("blobs", "fashion1m")
SCALE_ROWS = 1_000_000
CACHE = Path(os.environ.get("UMAPX_BENCH_CACHE", Path.home() / ".cache" / "umapx" / "bench"))


def _blob_stds():
    return np.random.RandomState(0).uniform(0.5, 3.0, size=40)


def _blobs():
    """1M x 50 float32: 40 Gaussian blobs with standard deviations uniform in [0.5, 3]."""
    from sklearn.datasets import make_blobs

    stds = _blob_stds()
    data, labels = make_blobs(n_samples=SCALE_ROWS, n_features=50, centers=40,
                              cluster_std=stds, random_state=0)
    return data.astype(np.float32), labels.astype(np.int64)


def _shifted(images, dx, dy):
    """Images (n, 28, 28) translated by (dx, dy) pixels, the uncovered border zero."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def _new_blobs(n_rows):
    """``n_rows`` more points of :func:`_blobs`'s 40 blobs, drawn with another seed.

    The centres are those ``make_blobs(centers=40, n_features=50, random_state=0)`` draws
    first (uniform in [-10, 10], its default box); each point picks a blob at random.
    """
    centres = np.random.RandomState(0).uniform(-10.0, 10.0, size=(40, 50))
    rng = np.random.RandomState(1)
    labels = rng.randint(40, size=n_rows)
    data = centres[labels] + rng.normal(size=(n_rows, 50)) * _blob_stds()[labels, None]
    return data.astype(np.float32), labels.astype(np.int64)


def _fashion_images():
    """Fashion-MNIST's 70k images in [0, 1] (float32), their labels and the PCA to 50 dims
    (fitted on them, as :func:`_fashion1m` does)."""
    from sklearn.decomposition import PCA

    from umapx import datasets

    images, labels = datasets.load_fashion_mnist(download=False)
    images = (images / 255.0).astype(np.float32)
    return images, labels, PCA(n_components=50, random_state=0).fit(images)


def _new_fashion(n_rows):
    """``n_rows`` Fashion-MNIST images translated by half a pixel, PCA to 50 dims.

    Each is the mean of one image under two translations of :func:`_fashion1m` one pixel
    apart (a translation by a half-integer offset): images of the same kind, none in the fit.
    """
    images, labels, pca = _fashion_images()
    rng = np.random.RandomState(1)
    chosen = rng.randint(len(images), size=n_rows)
    dx, dy = rng.randint(-2, 2, size=n_rows), rng.randint(-2, 3, size=n_rows)
    square = images.reshape(-1, 28, 28)
    moved = np.empty((n_rows, 28, 28), np.float32)
    for x in range(-2, 2):
        for y in range(-2, 3):
            rows = np.flatnonzero((dx == x) & (dy == y))
            moved[rows] = 0.5 * (_shifted(square[chosen[rows]], x, y)
                                 + _shifted(square[chosen[rows]], x + 1, y))
    data = pca.transform(moved.reshape(n_rows, -1)).astype(np.float32)
    return np.ascontiguousarray(data), labels[chosen].astype(np.int64)


def _fashion1m():
    """Fashion-MNIST's 70k images grown to 1M by translations of 1-2 pixels, PCA to 50 dims.

    Every image appears once as it is and in up to 14 shifted copies (each a translation drawn
    from the 24 non-zero shifts of at most 2 pixels); rows are shuffled, so any prefix is a
    sample of the whole; the PCA (fitted on the 70k originals, pixels in [0, 1]) keeps 50
    components.
    """
    images, labels, pca = _fashion_images()
    n = len(images)
    rng = np.random.RandomState(0)
    shifts = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if (dx, dy) != (0, 0)]
    copies = -(-SCALE_ROWS // n) - 1
    square = images.reshape(n, 28, 28)
    parts, part_labels = [pca.transform(images).astype(np.float32)], [labels]
    for _ in range(copies):
        choice = rng.randint(len(shifts), size=n)
        moved = np.empty_like(square)
        for s, (dx, dy) in enumerate(shifts):
            rows = np.flatnonzero(choice == s)
            moved[rows] = _shifted(square[rows], dx, dy)
        parts.append(pca.transform(moved.reshape(n, -1)).astype(np.float32))
        part_labels.append(labels)
    data, labels = np.vstack(parts), np.concatenate(part_labels)
    order = rng.permutation(len(data))[:SCALE_ROWS]
    return np.ascontiguousarray(data[order]), labels[order].astype(np.int64)


def fashion1m_image_of_row(n_rows=SCALE_ROWS, n_images=70_000):
    """The Fashion-MNIST image (0 .. 69999) each of the first ``n_rows`` rows of ``fashion1m``
    is a copy of, from the same random draws as :func:`_fashion1m` (no images needed)."""
    rng = np.random.RandomState(0)
    copies = -(-SCALE_ROWS // n_images) - 1
    for _ in range(copies):
        rng.randint(24, size=n_images)  # the shifts drawn for each copy
    order = rng.permutation((copies + 1) * n_images)[:SCALE_ROWS]
    return order[:n_rows] % n_images


def load_scale(name, n_rows=None):
    """The first ``n_rows`` rows of a scale dataset as ``(data, labels)`` (float32, int64).

    Generated on first use and cached under ``$UMAPX_BENCH_CACHE`` (``~/.cache/umapx/bench``);
    later reads memory-map the file and copy only the prefix.
    """
    builders = {"blobs": _blobs, "fashion1m": _fashion1m}
    if name not in builders:
        raise ValueError(f"unknown scale dataset {name!r}; choose from {SCALE_NAMES}")
    data_file, label_file = CACHE / f"{name}-data.npy", CACHE / f"{name}-labels.npy"
    if not data_file.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        data, labels = builders[name]()
        np.save(label_file, labels)
        np.save(data_file, data)
        del data, labels
    n_rows = SCALE_ROWS if n_rows is None else int(n_rows)
    data = np.array(np.load(data_file, mmap_mode="r")[:n_rows])
    return data, np.load(label_file)[:n_rows]


def load_scale_new(name, n_rows):
    """``(data, labels)``: ``n_rows`` rows of the distribution of scale dataset ``name`` that
    are not among its rows (``blobs``: the same blobs, another seed; ``fashion1m``: images
    translated by half a pixel), for ``transform``. Cached beside the dataset."""
    builders = {"blobs": _new_blobs, "fashion1m": _new_fashion}
    if name not in builders:
        raise ValueError(f"unknown scale dataset {name!r}; choose from {SCALE_NAMES}")
    stem = CACHE / f"{name}-new{int(n_rows)}"
    data_file, label_file = Path(f"{stem}-data.npy"), Path(f"{stem}-labels.npy")
    if not data_file.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        data, labels = builders[name](int(n_rows))
        np.save(label_file, labels)
        np.save(data_file, data)
    return np.load(data_file), np.load(label_file)

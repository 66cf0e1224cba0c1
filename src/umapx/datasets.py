"""Loaders for the datasets of the tutorial: MNIST, Fashion-MNIST, and sklearn's digits; and a
generated text corpus (:func:`make_topic_corpus`) for sparse input.

Each loader returns ``(data, labels)``: ``data`` a float32 array (n_samples, n_features) in the
original pixel range, ``labels`` an int array. Files are looked for locally first, in order:

1. the ``path`` argument (a directory, an ``.npz`` file or an IDX file pair's directory);
2. the directory in the environment variable ``UMAPX_DATA`` (and its ``mnist`` /
   ``fashion-mnist`` sub-directories);
3. the system locations of the Debian packages (``/usr/share/datasets/fashion-mnist``);
4. the user cache (``~/.cache/umapx`` or ``$XDG_CACHE_HOME/umapx``), where downloads are kept.

Supported files: the IDX files of the original distributions (``train-images-idx3-ubyte`` and
friends, optionally gzipped) and ``.npz`` archives with ``data`` and ``target`` arrays. When
nothing is found the data is downloaded with ``sklearn.datasets.fetch_openml`` (as the tutorial
does) and cached; offline, the error says how to get the files.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

_SUBSETS = ("all", "train", "test")

_OPENML = {"mnist": "mnist_784", "fashion-mnist": "Fashion-MNIST"}
_SYSTEM_DIRS = {
    "mnist": [Path("/usr/share/datasets/mnist")],
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
}
_IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset is neither on disk nor downloadable."""


def load_digits():
    """sklearn's 8x8 handwritten digits (1797 x 64, values 0-16): the embedded default."""
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64)


def load_mnist(path=None, subset="all", download=True):
    """MNIST handwritten digits (70,000 x 784, pixels 0-255).

    Parameters
    ----------
    path : str or Path, optional
        A directory holding the IDX files or a ``.npz`` file (keys ``data``, ``target``).
    subset : {"all", "train", "test"}
        With IDX files: the 60,000 training images, the 10,000 test images, or both (training
        first, as ``fetch_openml`` orders them). An ``.npz`` file is returned whole.
    download : bool
        Fall back to ``fetch_openml`` when no local copy is found.

    Returns
    -------
    data : ndarray (n, 784), float32
    labels : ndarray (n,), int64
    """
    return _load("mnist", path, subset, download)


def load_fashion_mnist(path=None, subset="all", download=True):
    """Fashion-MNIST (70,000 x 784, pixels 0-255); same arguments as :func:`load_mnist`.

    On Debian/Ubuntu ``apt-get install dataset-fashion-mnist`` provides the files.
    """
    return _load("fashion-mnist", path, subset, download)


def make_topic_corpus(n_documents=2000, n_words=5000, n_topics=5, document_length=120,
                      topic_share=0.3, words_per_topic=200, zipf_exponent=1.1,
                      random_state=None):
    """A generated corpus of word counts with topics: a sparse matrix like a text corpus.

    Word frequencies follow Zipf's law: word ``w`` (0 is the most common) has background
    probability proportional to ``1 / (w + 1) ** zipf_exponent``. Each topic owns
    ``words_per_topic`` words drawn from outside the 50 most common, with Zipf frequencies of
    their own. A document picks a topic uniformly, a length from a Poisson distribution of mean
    ``document_length`` (at least 5 words), and draws each word from its topic with probability
    ``topic_share``, else from the background. Documents of a topic therefore share a
    vocabulary under a common background, the structure a TF-IDF embedding should recover.
    Use it when no real corpus is at hand (sklearn's 20 newsgroups needs the internet).

    Parameters
    ----------
    n_documents, n_words, n_topics : int
    document_length : float
        Mean number of words per document.
    topic_share : float in [0, 1]
        Expected fraction of a document's words drawn from its topic.
    words_per_topic : int
    zipf_exponent : float
    random_state : int, RandomState or None

    Returns
    -------
    counts : scipy.sparse.csr_matrix of shape (n_documents, n_words), int64
        Word counts of every document (columns: words).
    topics : ndarray of shape (n_documents,), int
        The topic of each document.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfTransformer
    >>> counts, topics = make_topic_corpus(n_documents=500, random_state=0)
    >>> tfidf = TfidfTransformer().fit_transform(counts)   # sparse, rows of unit norm
    """
    import scipy.sparse
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    common = min(50, n_words // 4)
    if n_words - common < words_per_topic:
        raise ValueError(f"n_words={n_words} is too small for words_per_topic={words_per_topic}")
    background = 1.0 / np.arange(1, n_words + 1) ** zipf_exponent
    background /= background.sum()
    within_topic = 1.0 / np.arange(1, words_per_topic + 1) ** zipf_exponent
    within_topic /= within_topic.sum()
    topic_words = [common + rng.choice(n_words - common, words_per_topic, replace=False)
                   for _ in range(n_topics)]
    topics = rng.randint(n_topics, size=n_documents)
    lengths = np.maximum(rng.poisson(document_length, size=n_documents), 5)
    from_topic = rng.binomial(lengths, topic_share)
    documents = [np.repeat(np.arange(n_documents), lengths - from_topic)]
    words = [rng.choice(n_words, size=int((lengths - from_topic).sum()), p=background)]
    for topic in range(n_topics):
        members = np.flatnonzero(topics == topic)
        documents.append(np.repeat(members, from_topic[members]))
        words.append(topic_words[topic][rng.choice(words_per_topic,
                                                   size=int(from_topic[members].sum()),
                                                   p=within_topic)])
    documents, words = np.concatenate(documents), np.concatenate(words)
    counts = scipy.sparse.csr_matrix(
        (np.ones(len(words), np.int64), (documents, words)), shape=(n_documents, n_words))
    counts.sum_duplicates()
    return counts, topics


def cache_dir():
    """Where downloaded datasets are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "umapx"


def _load(name, path, subset, download):
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}")
    candidates = []
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise DatasetNotFoundError(f"{name}: {path} does not exist")
        candidates.append(path)
    else:
        env = os.environ.get("UMAPX_DATA")
        if env:
            candidates += [Path(env) / name, Path(env)]
        candidates += _SYSTEM_DIRS[name]
        candidates += [cache_dir() / name, cache_dir()]
    for candidate in candidates:
        found = _read_local(candidate, name, subset)
        if found is not None:
            return found
    if path is not None:
        raise DatasetNotFoundError(
            f"{name}: no IDX files ({', '.join(_IDX_NAMES['train'])}, ...) or .npz file found "
            f"at {path}"
        )
    if not download:
        raise DatasetNotFoundError(_how_to_get(name, candidates))
    return _download(name, subset, candidates)


def _read_local(path, name, subset):
    if path.is_file():
        if path.suffix == ".npz":
            return _read_npz(path)
        return None
    if not path.is_dir():
        return None
    npz = path / f"{name}.npz"
    if npz.is_file():
        return _subset_of(_read_npz(npz), subset)
    parts = []
    for part in ("train", "test") if subset == "all" else (subset,):
        images = _find_idx(path, _IDX_NAMES[part][0])
        labels = _find_idx(path, _IDX_NAMES[part][1])
        if images is None or labels is None:
            return None
        data = read_idx(images)
        parts.append((data.reshape(len(data), -1).astype(np.float32),
                      read_idx(labels).astype(np.int64)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _subset_of(loaded, subset):
    data, labels = loaded
    if subset == "all" or len(data) != 70000:
        return data, labels
    return (data[:60000], labels[:60000]) if subset == "train" else (data[60000:], labels[60000:])


def _find_idx(directory, stem):
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                      stem.replace("-idx", ".idx") + ".gz"):
        if (directory / candidate).is_file():
            return directory / candidate
    return None


def read_idx(path):
    """Read an IDX file (the MNIST distribution format), gzipped or not, as an ndarray."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX element type 0x{raw[2]:02x}")
    n_dims = raw[3]
    header = 4 + 4 * n_dims
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims))
    dtype = np.dtype(dtypes[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path} is truncated or corrupt: expected {expected} bytes of data, "
                         f"found {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _read_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        if {"data", "target"} <= keys:
            return archive["data"].reshape(len(archive["data"]), -1).astype(np.float32), \
                archive["target"].astype(np.int64)
    raise ValueError(f"{path}: expected arrays 'data' and 'target' in the .npz file, "
                     f"found {sorted(keys)}")


def _download(name, subset, searched):
    from sklearn.datasets import fetch_openml

    try:
        data, labels = fetch_openml(_OPENML[name], version=1, return_X_y=True, as_frame=False,
                                    parser="liac-arff")
    except Exception as error:  # no network, proxy, server error...
        raise DatasetNotFoundError(
            _how_to_get(name, searched) + f"\nThe download failed: {error}"
        ) from error
    data = np.asarray(data, dtype=np.float32)
    labels = np.asarray(labels).astype(np.int64)
    target = cache_dir() / name
    try:
        target.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(target / f"{name}.npz", data=data.astype(np.uint8), target=labels)
    except OSError:
        pass  # a read-only home: the data is still returned
    return _subset_of((data, labels), subset)


def _how_to_get(name, searched):
    places = "\n".join(f"  - {p}" for p in searched)
    debian = (" On Debian/Ubuntu: apt-get install dataset-fashion-mnist."
              if name == "fashion-mnist" else "")
    return (
        f"{name} was not found locally and could not be downloaded. Looked in:\n{places}\n"
        f"Put the IDX files (train-images-idx3-ubyte.gz, ...) or a {name}.npz (arrays 'data' and "
        f"'target') in one of these places, or pass path=..., or set UMAPX_DATA.{debian} With "
        f"internet access the loader downloads it from OpenML."
    )

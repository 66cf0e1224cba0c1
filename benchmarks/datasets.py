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

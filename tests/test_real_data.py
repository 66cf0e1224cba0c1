"""End-to-end quality on real data against umap-learn 0.5.12's figures (slow).

The thresholds are umap-learn's measured figures on the same splits minus 0.01 (the acceptance
margin), from ``python benchmarks/run.py fit`` (see benchmarks/README.md):

==========  ===============  ==========  ==============
dataset     trustworthiness  10-NN acc.  transform acc.
==========  ===============  ==========  ==============
MNIST-10k   0.9579           0.9337      0.8995
Fashion     0.9720           0.7768      0.7693
==========  ===============  ==========  ==============
"""

from __future__ import annotations

import numpy as np
import pytest

import umapx
from umapx import evaluation

pytestmark = pytest.mark.slow


def _measure(train, train_labels, test, test_labels):
    mapper = umapx.UMAP(random_state=42).fit(train)
    placed = mapper.transform(test)
    return (evaluation.trustworthiness(train, mapper.embedding_),
            evaluation.knn_accuracy(mapper.embedding_, train_labels),
            evaluation.transform_accuracy(mapper.embedding_, train_labels, placed, test_labels))


def test_mnist10k_matches_umap_learn(mnist10k):
    data, labels = mnist10k
    data = data.astype(np.float32)
    trust, accuracy, transform_accuracy = _measure(data[:8000], labels[:8000], data[8000:],
                                                   labels[8000:])
    assert trust >= 0.9579 - 0.01
    assert accuracy >= 0.9337 - 0.01
    assert transform_accuracy >= 0.8995 - 0.01


def test_fashion_mnist_matches_umap_learn(fashion_mnist):
    train, train_labels, test, test_labels = fashion_mnist
    trust, accuracy, transform_accuracy = _measure(train.astype(np.float32), train_labels,
                                                   test.astype(np.float32), test_labels)
    assert trust >= 0.9720 - 0.01
    assert accuracy >= 0.7768 - 0.01
    assert transform_accuracy >= 0.7693 - 0.01

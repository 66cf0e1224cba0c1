"""End-to-end quality on real data: a regression guard that holds on any machine (slow).

One fit with ``random_state=42`` per dataset (as the tutorial). The same seed gives different
embeddings on different CPUs (numba compiles for the host CPU with fastmath; BLAS, numpy and
libm also pick code by CPU), so each threshold sits below the spread of umapx's own figures
over seeds and CPUs: the minimum measured minus three standard deviations. Measured with
``python benchmarks/run.py spread --datasets mnist10k,fashion --seeds 42,0,1,2`` -- 12 fits per
dataset, one fresh process each: seeds 42, 0, 1, 2 on the host CPU (AVX-512), emulating a
Haswell (AVX2 + FMA) and a baseline x86-64 CPU (SSE2, no FMA; ``benchmarks/targets.py``):

==========  ==================  ======  ======  ======  ======  =========
dataset     measure             min     median  max     std     threshold
==========  ==================  ======  ======  ======  ======  =========
MNIST-10k   trustworthiness     0.9579  0.9597  0.9607  0.0009  0.955
MNIST-10k   10-NN accuracy      0.9200  0.9313  0.9363  0.0043  0.905
MNIST-10k   transform accuracy  0.8905  0.9018  0.9060  0.0044  0.875
Fashion     trustworthiness     0.9673  0.9696  0.9737  0.0015  0.960
Fashion     10-NN accuracy      0.7702  0.7753  0.7825  0.0039  0.755
Fashion     transform accuracy  0.7526  0.7631  0.7689  0.0041  0.740
==========  ==================  ======  ======  ======  ======  =========

The comparison with umap-learn 0.5.12 (the issue's "within 0.01" of its figures) is judged
where both run side by side on the same machine: ``python benchmarks/run.py fit``
(benchmarks/README.md).
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


def test_mnist10k_quality(mnist10k):
    data, labels = mnist10k
    data = data.astype(np.float32)
    trust, accuracy, transform_accuracy = _measure(data[:8000], labels[:8000], data[8000:],
                                                   labels[8000:])
    assert trust >= 0.955
    assert accuracy >= 0.905
    assert transform_accuracy >= 0.875


def test_fashion_mnist_quality(fashion_mnist):
    train, train_labels, test, test_labels = fashion_mnist
    trust, accuracy, transform_accuracy = _measure(train.astype(np.float32), train_labels,
                                                   test.astype(np.float32), test_labels)
    assert trust >= 0.960
    assert accuracy >= 0.755
    assert transform_accuracy >= 0.740

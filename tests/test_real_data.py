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


def test_mnist10k_transform_does_not_depend_on_the_pixel_scale(mnist10k):
    """0-1 and 0-255 pixels (255 is not a power of two: the rounding, and so the layout,
    differ like another seed's) place the 2,000 held-out digits equally well.

    ``benchmarks/transform_quality.py`` (session 6, seeds 0-2 at both scales, paired by seed):
    transform accuracy 0.9035-0.9070, trustworthiness of the placed points 0.9443-0.9464; the
    0-255 - 0-1 difference of a seed -0.0025 to +0.0025 (accuracy) and -0.0021 to +0.0012
    (trustworthiness), umap-learn's -0.0023 to +0.0015. The medians of 3 seeds per scale are
    compared with margins several times that spread (0.015 and 0.006); each median is held
    above the floor of the module docstring's spread over seeds and CPUs (accuracy 0.875) and
    above the lowest placed-point trustworthiness measured less 0.01 (0.934). It passed here
    on the host CPU and as a generic x86-64 CPU (``NUMBA_CPU_NAME=generic``).
    """
    data, labels = mnist10k
    accuracy, trust = {}, {}
    for scale in (1.0, 255.0):
        pixels = (data * scale).astype(np.float32)
        train, test = pixels[:8000], pixels[8000:]
        runs = []
        for seed in range(3):
            mapper = umapx.UMAP(random_state=seed).fit(train)
            placed = mapper.transform(test)
            runs.append((evaluation.transform_accuracy(mapper.embedding_, labels[:8000], placed,
                                                       labels[8000:]),
                         evaluation.trustworthiness(test, placed, sample_size=None)))
        accuracy[scale], trust[scale] = np.median(runs, axis=0)
    assert min(accuracy.values()) >= 0.875 and abs(accuracy[1.0] - accuracy[255.0]) <= 0.015
    assert min(trust.values()) >= 0.934 and abs(trust[1.0] - trust[255.0]) <= 0.006

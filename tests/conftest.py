"""Shared fixtures: small synthetic data, sklearn digits, and the real datasets when present.

Real-data fixtures skip cleanly when the files are missing: MNIST-10k lives in
``../shared/data/mnist10k.npz`` beside the checkout, Fashion-MNIST comes from the Debian package
``dataset-fashion-mnist`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from data_paths import FASHION_DIR, MNIST10K

os.environ.setdefault("MPLBACKEND", "Agg")



@pytest.fixture(scope="session")
def digits():
    from umapx.datasets import load_digits

    data, labels = load_digits()
    return data / 16.0, labels


@pytest.fixture(scope="session")
def blobs():
    """Three well separated Gaussian blobs, 300 x 10."""
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=10.0, size=(3, 10))
    labels = np.repeat(np.arange(3), 100)
    return (centres[labels] + rng.normal(size=(300, 10))).astype(np.float32), labels


@pytest.fixture(scope="session")
def mnist10k():
    if not MNIST10K.is_file():
        pytest.skip(f"MNIST-10k not found at {MNIST10K}")
    from umapx.datasets import load_mnist

    data, labels = load_mnist(path=MNIST10K)
    return data / 255.0, labels


@pytest.fixture(scope="session")
def fashion_mnist():
    if not FASHION_DIR.is_dir():
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    from umapx.datasets import load_fashion_mnist

    train, train_labels = load_fashion_mnist(path=FASHION_DIR, subset="train")
    test, test_labels = load_fashion_mnist(path=FASHION_DIR, subset="test")
    return train / 255.0, train_labels, test / 255.0, test_labels


@pytest.fixture(scope="session")
def fitted_digits(digits):
    """A digits model fitted once for the tests that only read it."""
    import umapx

    data, labels = digits
    return umapx.UMAP(random_state=42).fit(data[:1500]), data, labels

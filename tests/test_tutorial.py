"""The inverse-transform tutorial (shared/seed), step by step with ``import umapx as umap``.

The tutorial loads MNIST and Fashion-MNIST with ``sklearn.datasets.fetch_openml``. These tests
run its statements unchanged, with ``fetch_openml`` served from local files (MNIST-10k,
Fashion-MNIST's IDX files) so they need no internet; digits runs in the quick suite.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from data_paths import FASHION_DIR, MNIST10K


@pytest.fixture
def offline_openml(monkeypatch):
    """``fetch_openml`` answering from local files, as openml would (float data, str labels)."""
    import sklearn.datasets

    from umapx import datasets

    def fetch_openml(name, version=1, return_X_y=False, **kwargs):
        if name == "mnist_784":
            if not MNIST10K.is_file():
                pytest.skip("MNIST-10k not available")
            data, labels = datasets.load_mnist(path=MNIST10K)
        elif name == "Fashion-MNIST":
            if not FASHION_DIR.is_dir():
                pytest.skip("Fashion-MNIST not installed")
            data, labels = datasets.load_fashion_mnist(path=FASHION_DIR)
        else:
            raise ValueError(name)
        assert return_X_y
        return data.astype(np.float64), labels.astype(str).astype(object)

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fetch_openml)


def tutorial(data, labels, corners, image_side, output):
    """The tutorial's statements after loading the data (figure code included)."""
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    import umapx as umap
    import umapx.plot  # noqa: F401  (the tutorial's "import umap.plot")

    mapper = umap.UMAP(random_state=42).fit(data)
    umap.plot.points(mapper, labels=labels)
    test_pts = np.array([
        (corners[0] * (1 - x) + corners[1] * x) * (1 - y) +
        (corners[2] * (1 - x) + corners[3] * x) * y
        for y in np.linspace(0, 1, 10)
        for x in np.linspace(0, 1, 10)
    ])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inv_transformed_points = mapper.inverse_transform(test_pts)

    fig = plt.figure(figsize=(12, 6))
    gs = GridSpec(10, 20, fig)
    scatter_ax = fig.add_subplot(gs[:, :10])
    digit_axes = np.zeros((10, 10), dtype=object)
    for i in range(10):
        for j in range(10):
            digit_axes[i, j] = fig.add_subplot(gs[i, 10 + j])
    scatter_ax.scatter(mapper.embedding_[:, 0], mapper.embedding_[:, 1],
                       c=labels.astype(np.int32), cmap='Spectral', s=0.1)
    scatter_ax.set(xticks=[], yticks=[])
    scatter_ax.scatter(test_pts[:, 0], test_pts[:, 1], marker='x', c='k', s=15)
    for i in range(10):
        for j in range(10):
            digit_axes[i, j].imshow(inv_transformed_points[i * 10 + j].reshape(image_side,
                                                                               image_side))
            digit_axes[i, j].set(xticks=[], yticks=[])
    fig.savefig(output)
    plt.close("all")
    return mapper, test_pts, inv_transformed_points, caught


def _check(mapper, data, samples, output):
    assert samples.shape == (100, data.shape[1])
    assert np.all(np.isfinite(samples))
    assert samples.min() >= data.min() and samples.max() <= data.max()
    assert output.read_bytes()[:4] == b"\x89PNG"


def test_tutorial_on_digits(tmp_path):
    from sklearn.datasets import load_digits

    from umapx.plot import default_corners

    data, labels = load_digits(return_X_y=True)
    import umapx

    corners = default_corners(umapx.UMAP(random_state=42).fit(data).embedding_)
    mapper, _, samples, _ = tutorial(data, labels, corners, 8, tmp_path / "digits.png")
    _check(mapper, data, samples, tmp_path / "digits.png")


@pytest.mark.slow
def test_tutorial_on_mnist(offline_openml, tmp_path):
    import sklearn.datasets

    data, labels = sklearn.datasets.fetch_openml('mnist_784', version=1, return_X_y=True)
    corners = np.array([
        [-5, -10],  # 1
        [-7, 6],  # 7
        [2, -8],  # 2
        [12, 4],  # 0
    ])
    mapper, test_pts, samples, caught = tutorial(data, labels, corners, 28,
                                                 tmp_path / "mnist.png")
    _check(mapper, data, samples, tmp_path / "mnist.png")
    # The hand-picked corners were chosen for umap-learn's embedding of the full 70k MNIST:
    # points that land outside this embedding's support still give finite, in-range samples,
    # and the user is told.
    _, confidence = mapper.inverse_transform(test_pts, return_confidence=True)
    if np.any(confidence < np.exp(-9)):
        assert any("outside the support" in str(w.message) for w in caught)


@pytest.mark.slow
def test_tutorial_on_fashion_mnist(offline_openml, tmp_path):
    import sklearn.datasets

    data, labels = sklearn.datasets.fetch_openml('Fashion-MNIST', version=1, return_X_y=True)
    corners = np.array([
        [-2, -6],  # bags
        [-9, 3],  # boots?
        [7, -5],  # shirts/tops/dresses
        [4, 10],  # pants
    ])
    mapper, _, samples, _ = tutorial(data, labels, corners, 28, tmp_path / "fashion.png")
    _check(mapper, data, samples, tmp_path / "fashion.png")
    assert mapper.embedding_.shape == (70000, 2)

"""Dataset loaders: local IDX / npz files, search order, subsets, the offline error."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from data_paths import FASHION_DIR, MNIST10K

from umapx import datasets


def _write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(header + array.tobytes())


@pytest.fixture
def idx_folder(tmp_path):
    rng = np.random.RandomState(0)
    for part, n in (("train", 6), ("t10k", 4)):
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte.gz",
                   rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8))
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte.gz",
                   rng.randint(0, 10, size=n).astype(np.uint8))
    return tmp_path


def test_idx_files_and_subsets(idx_folder):
    data, labels = datasets.load_fashion_mnist(path=idx_folder)
    assert data.shape == (10, 784) and data.dtype == np.float32 and labels.shape == (10,)
    train, _ = datasets.load_fashion_mnist(path=idx_folder, subset="train")
    test, _ = datasets.load_fashion_mnist(path=idx_folder, subset="test")
    assert np.array_equal(np.vstack([train, test]), data)
    raw = datasets.read_idx(idx_folder / "train-images-idx3-ubyte.gz")
    assert raw.shape == (6, 28, 28) and np.array_equal(raw.reshape(6, -1), train)


def test_corrupt_idx_is_refused(tmp_path):
    path = tmp_path / "bad-idx"
    path.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x10abc")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        datasets.read_idx(path)
    path.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(path)


def test_npz_file(tmp_path):
    np.savez(tmp_path / "digits.npz", data=np.ones((5, 4), np.uint8), target=np.arange(5))
    data, labels = datasets.load_mnist(path=tmp_path / "digits.npz")
    assert data.shape == (5, 4) and data.dtype == np.float32 and labels.tolist() == [0, 1, 2, 3, 4]
    np.savez(tmp_path / "other.npz", x=np.ones(3))
    with pytest.raises(ValueError, match="'data' and 'target'"):
        datasets.load_mnist(path=tmp_path / "other.npz")


def test_environment_variable_directory(idx_folder, monkeypatch, tmp_path):
    monkeypatch.setenv("UMAPX_DATA", str(idx_folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data, _ = datasets.load_mnist(download=False)
    assert data.shape == (10, 784)


def test_offline_error_says_how_to_get_the_data(monkeypatch, tmp_path):
    import sklearn.datasets

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", no_network)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("UMAPX_DATA", raising=False)
    monkeypatch.setattr(datasets, "_SYSTEM_DIRS", {"mnist": [], "fashion-mnist": []})
    with pytest.raises(datasets.DatasetNotFoundError, match="network is unreachable") as error:
        datasets.load_fashion_mnist()
    assert "apt-get install dataset-fashion-mnist" in str(error.value)
    with pytest.raises(datasets.DatasetNotFoundError, match="could not be downloaded"):
        datasets.load_mnist(download=False)


def test_download_is_cached(monkeypatch, tmp_path):
    import sklearn.datasets

    calls = []

    def fake_openml(name, **kwargs):
        calls.append(name)
        return np.full((70000, 4), 7.0), np.array(["3"] * 70000, dtype=object)

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_openml)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("UMAPX_DATA", raising=False)
    monkeypatch.setattr(datasets, "_SYSTEM_DIRS", {"mnist": [], "fashion-mnist": []})
    data, labels = datasets.load_mnist(subset="test")
    assert data.shape == (10000, 4) and labels[0] == 3 and calls == ["mnist_784"]
    again, _ = datasets.load_mnist()
    assert again.shape == (70000, 4) and calls == ["mnist_784"]  # served from the cache


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="subset"):
        datasets.load_mnist(subset="validation")
    with pytest.raises(datasets.DatasetNotFoundError, match="does not exist"):
        datasets.load_mnist(path=tmp_path / "missing")
    with pytest.raises(datasets.DatasetNotFoundError, match="no IDX files"):
        datasets.load_mnist(path=tmp_path)


def test_digits():
    data, labels = datasets.load_digits()
    assert data.shape == (1797, 64) and labels.shape == (1797,)


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Fashion-MNIST not installed")
def test_system_fashion_mnist():
    data, labels = datasets.load_fashion_mnist(subset="test", download=False)
    assert data.shape == (10000, 784) and set(np.unique(labels)) == set(range(10))


@pytest.mark.skipif(not MNIST10K.is_file(), reason="MNIST-10k not available")
def test_mnist10k_file():
    data, labels = datasets.load_mnist(path=MNIST10K)
    assert data.shape == (10000, 784) and data.max() == 255
    assert np.bincount(labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]

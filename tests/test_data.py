"""Loading MNIST from a .npz file or a folder of IDX files, and clear errors for anything else."""
import gzip
import struct

import numpy as np
import pytest

from conftest import FIXTURES
from digitcore.data import DataError, load_mnist

TINY = FIXTURES / "mnist_tiny.npz"


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    (gzip.open if compress else open)(path, "wb").write(header + array.astype(np.uint8).tobytes())


def test_npz_with_keras_keys():
    (x_train, y_train), (x_test, y_test) = load_mnist(TINY)
    assert x_train.shape == (600, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (600,) and x_test.shape == (100, 28, 28) and y_test.max() <= 9


@pytest.mark.parametrize("compress", [False, True])
def test_folder_of_idx_files(tmp_path, compress):
    (x_train, y_train), (x_test, y_test) = load_mnist(TINY)
    suffix = ".gz" if compress else ""
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", x_train, compress)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y_train, compress)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", x_test, compress)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", y_test, compress)
    (a, b), (c, d) = load_mnist(tmp_path)
    assert np.array_equal(a, x_train) and np.array_equal(b, y_train)
    assert np.array_equal(c, x_test) and np.array_equal(d, y_test)


def test_missing_path_names_it(tmp_path):
    with pytest.raises(DataError, match="nowhere.npz.*no such file"):
        load_mnist(tmp_path / "nowhere.npz")


def test_folder_without_idx_files_says_what_is_expected(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_npz_with_wrong_keys(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(DataError, match="missing arrays"):
        load_mnist(bad)


def test_file_that_is_not_npz(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_text("hello")
    with pytest.raises(DataError, match="mnist.npz: not a readable .npz"):
        load_mnist(bad)


def test_wrong_image_shape(tmp_path):
    bad = tmp_path / "mnist.npz"
    z = np.zeros((2, 32, 32), np.uint8)
    np.savez(bad, x_train=z, y_train=np.zeros(2, np.uint8), x_test=z, y_test=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match=r"expected \(N, 28, 28\) uint8"):
        load_mnist(bad)


def test_failed_download_is_a_data_error_naming_the_way_out(monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataError, match="could not download MNIST.*--data"):
        load_mnist(None)

"""Load MNIST: from Keras's download, a local .npz with Keras's keys, or a folder of the four IDX files."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

Split = tuple[np.ndarray, np.ndarray]

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# The names LeCun's site uses; a trailing .gz is accepted too.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class DataError(Exception):
    """The data set is missing or not in a format we read; the message names the path and what was expected."""


def load_mnist(path: str | Path | None = None) -> tuple[Split, Split]:
    """((x_train, y_train), (x_test, y_test)): images (N, 28, 28) uint8 white on black, labels (N,) uint8.

    path=None downloads through keras.datasets.mnist (needs the internet); a .npz file or a folder of
    IDX files is read locally.
    """
    if path is None:
        import keras  # only this path needs Keras; everything else here is plain numpy

        try:
            return keras.datasets.mnist.load_data()
        except Exception as e:  # Keras raises a bare Exception for a failed download
            raise DataError(f"could not download MNIST ({e}); offline, pass --data path/to/mnist.npz") from e
    path = Path(path).expanduser()
    if path.is_dir():
        arrays = _load_idx_folder(path)
    elif path.is_file():
        arrays = _load_npz(path)
    else:
        raise DataError(f"{path}: no such file or folder (expected an mnist.npz or a folder of MNIST IDX files)")
    _check(arrays, path)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in NPZ_KEYS if k not in f.files]
            if missing:
                raise DataError(f"{path}: missing arrays {missing} (expected Keras's keys {list(NPZ_KEYS)})")
            return {k: f[k] for k in NPZ_KEYS}
    except DataError:
        raise
    except Exception as e:  # zipfile, pickle and OS errors all mean the same thing to a user
        raise DataError(f"{path}: not a readable .npz file with keys {list(NPZ_KEYS)} ({e})") from e


def _load_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for key, name in IDX_FILES.items():
        candidates = [folder / name, folder / (name + ".gz"), folder / name.replace("-idx", ".idx")]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise DataError(f"{folder}: missing {name} (expected the four MNIST IDX files: {list(IDX_FILES.values())})")
        arrays[key] = read_idx(found)
    return arrays


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (optionally gzipped) as a uint8 array of the shape its header declares."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
        zero, dtype_code, ndim = data[0:2], data[2], data[3]
        if zero != b"\x00\x00" or dtype_code != 0x08:
            raise ValueError("not an unsigned-byte IDX file")
        shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
        return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    except Exception as e:
        raise DataError(f"{path}: not a valid IDX file ({e})") from e


def _check(arrays: dict[str, np.ndarray], path: Path) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise DataError(f"{path}: x_{split} has shape {x.shape} {x.dtype}, expected (N, 28, 28) uint8")
        if y.shape != (len(x),) or y.max(initial=0) > 9:
            raise DataError(f"{path}: y_{split} has shape {y.shape}, expected ({len(x)},) labels 0-9")


def validation_split(count: int, seed: int, validation: int, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices of MNIST's train split held out for validation, and those trained on: fixed by the seed."""
    order = np.random.default_rng(seed).permutation(count)
    if limit:
        order = order[:limit]
    validation = min(validation, len(order) // 5)
    return order[:validation], order[validation:]


def validation_digits(data: str | Path | None, seed: int = 42, validation: int = 6000) -> np.ndarray:
    """(N, 28, 28) float32: the MNIST train digits digitcore.train holds out for validation with this seed."""
    (x_train, _), _ = load_mnist(data)
    return x_train[validation_split(len(x_train), seed, validation)[0]].astype(np.float32) / 255

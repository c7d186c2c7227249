"""Keras -> ONNX: write the serving artefact beside a .keras file and record in its .json which file it came from.

Needs TensorFlow and tf2onnx (requirements.txt); serving the result needs neither (digitcore/runtime.py)."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from digitcore import runtime
from digitcore.runtime import DIGITS, STRINGS, Contract, ModelError

AGREE = 1e-5  # largest difference allowed between Keras's and ONNX Runtime's probabilities


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Keep TensorFlow's C++ notices (oneDNN, CPU features, graph optimiser) off the user's terminal.

    They are written straight to file descriptor 2, some before any Python logging exists, so no setting
    hides them all; failures still reach the caller as Python exceptions."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras():
    """Import Keras (and TensorFlow) quietly."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native_stderr():
        import keras
    return keras


def fits(model: Any, contract: Contract) -> bool:
    """Whether a Keras model's input and output shapes are those of the contract."""
    shape_in, shapes_out = contract
    return tuple(model.input_shape) == (None, *shape_in) and tuple(model.output_shape) in ((None, *o) for o in shapes_out)


def load_keras(path: str | Path, contracts: tuple[Contract, ...] = (DIGITS,)) -> Any:
    """A .keras model that keeps one of the contracts (by default a digit model's: (N, 28, 28, 1) -> (N, 10 or
    11)); ModelError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found (train one with: python -m digitcore train --out {path})")
    try:
        keras = import_keras()
    except ImportError:  # an app-only install (requirements-app.txt) serves .onnx files alone
        raise ModelError(f"{path}: reading a .keras file needs TensorFlow and Keras (requirements.txt); "
                         "this install serves .onnx files (made by python -m digitcore export)") from None
    try:
        with quiet_native_stderr():
            model = keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many kinds for a damaged file; to a user they mean one thing
        raise ModelError(f"{path}: not a readable Keras model file ({type(e).__name__}: {e})") from None
    if not any(fits(model, c) for c in contracts):
        wanted = "; or ".join(f"{(None, *i)} -> " + " or ".join(str((None, *o)) for o in outs) for i, outs in contracts)
        raise ModelError(f"{path}: the model takes {model.input_shape} and gives {model.output_shape}; expected {wanted}")
    return model


def write_onnx(model: Any, path: str | Path) -> None:
    """Save a Keras model as ONNX through Keras's own exporter (tf2onnx), batch size left free."""
    keras = import_keras()
    spec = keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="float32", name="image")
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # Keras's tf2onnx patch probes np.object; nothing for users
        model.export(str(path), format="onnx", verbose=False, input_signature=[spec])


def check_agreement(model: Any, served: runtime.OnnxModel) -> float:
    """Largest difference between Keras's and the ONNX model's probabilities on 64 fixed random inputs; ModelError past AGREE."""
    x = np.random.default_rng(0).random((64, *model.input_shape[1:]), np.float32)
    gap = float(np.abs(served(x) - model(x, training=False).numpy()).max())
    if gap > AGREE:
        raise ModelError(f"{served.name}: its outputs differ from Keras's by {gap:.1e} (more than {AGREE:.0e})")
    return gap


def onnx_bytes(keras_path: str | Path, contract: Contract = DIGITS) -> bytes:
    """A .keras file exported to ONNX in memory (for serving a .keras on the fly), checked against Keras."""
    model = load_keras(keras_path, (contract,))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        write_onnx(model, path)
        data = path.read_bytes()
    check_agreement(model, runtime.OnnxModel(data, str(keras_path), contract=contract))
    return data


def export(keras_path: str | Path, onnx_path: str | Path | None = None) -> dict:
    """Write keras_path (a digit model or the string network) as .onnx beside it (or to onnx_path), check both
    agree, record both sha256 in its .json."""
    keras_path = Path(keras_path)
    onnx_path = Path(onnx_path) if onnx_path is not None else keras_path.with_suffix(".onnx")
    model = load_keras(keras_path, (DIGITS, STRINGS))
    contract = DIGITS if fits(model, DIGITS) else STRINGS
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    write_onnx(model, onnx_path)
    gap = check_agreement(model, runtime.load(onnx_path, contract=contract))
    record = {
        "onnx": os.path.relpath(onnx_path, keras_path.parent),
        "onnx_sha256": runtime.sha256(onnx_path),
        "keras_sha256": runtime.sha256(keras_path),
        "max_difference": gap,
        "tf2onnx": _version("tf2onnx"),
        "command": f"python -m digitcore export {keras_path.name}",
    }
    json_path = keras_path.with_suffix(".json")
    metrics = json.loads(json_path.read_text()) if json_path.is_file() else {}
    metrics["export"] = record
    json_path.write_text(json.dumps(metrics, indent=2) + "\n")
    return record


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)

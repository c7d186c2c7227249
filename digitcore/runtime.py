"""The served models: ONNX files run by ONNX Runtime; no TensorFlow.

A digit model maps (N, 28, 28, 1) float32 to (N, 10 or 11) probabilities; the string model (digitcore/strings.py)
maps (N, 28, 128, 1) strips to (N, 32, 12) probabilities. Each is checked against its contract when opened."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

INPUT_SHAPE = (28, 28, 1)
CLASSES = (10, 11)  # the ten digits, and optionally an eleventh "not a digit"
Contract = tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]  # input shape, the output shapes allowed (batch left out)
DIGITS: Contract = (INPUT_SHAPE, tuple((c,) for c in CLASSES))
STRINGS: Contract = ((28, 128, 1), ((32, 12),))


class ModelError(Exception):
    """The model file is missing, unreadable, stale or of the wrong shape; the message names the path."""


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes: how digits.json ties an export to the .keras it came from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_export(onnx_path: Path, keras_path: Path) -> None:
    """Raise ModelError unless keras_path's .json records this .onnx as exported from this very .keras.

    Without the .keras (an artefact shipped alone) only the .onnx's own recorded sha256 is checked."""
    record_path = keras_path.with_suffix(".json")
    redo = f"re-export it with: python -m digitcore export {keras_path}"
    try:
        record = json.loads(record_path.read_text()).get("export") or {}
    except (OSError, ValueError, AttributeError):
        record = {}
    if not record:
        raise ModelError(f"{onnx_path}: {record_path} records no export; {redo}")
    if record.get("onnx_sha256") != sha256(onnx_path):
        raise ModelError(f"{onnx_path}: not the file {record_path} records (changed since export); {redo}")
    if keras_path.is_file() and record.get("keras_sha256") != sha256(keras_path):
        raise ModelError(f"{onnx_path}: stale, exported from an older {keras_path.name}; {redo}")


class OnnxModel:
    """An ONNX model in one ONNX Runtime session, loaded once and shared by threads (run() is thread-safe)."""

    def __init__(self, source: str | Path | bytes, name: str, threads: int = 1, contract: Contract = DIGITS):
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One thread per call: for one digit the pool's hand-off costs more than it saves, and the other core
        # stays free for the web server or a second request (benchmarks/README.md, "Serving runtime").
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its optimiser notices are not for users
        try:
            self.session = ort.InferenceSession(source if isinstance(source, bytes) else str(source), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as e:  # ONNX Runtime raises several kinds for a damaged file; to a user they mean one thing
            raise ModelError(f"{name}: not a readable ONNX model ({type(e).__name__}: {e})") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        shape_in = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else None
        shape_out = tuple(outputs[0].shape[1:]) if len(outputs) == 1 else None
        expected_in, expected_out = contract
        if shape_in == expected_in and shape_out and not all(isinstance(d, int) for d in shape_out):
            # The exporter left a dimension unnamed (the string network's columns): ask the model itself.
            shape_out = self.session.run(None, {inputs[0].name: np.zeros((1, *shape_in), np.float32)})[0].shape[1:]
        if shape_in != expected_in or inputs[0].type != "tensor(float)" or shape_out not in expected_out:
            got = [(i.shape, i.type) for i in inputs], [o.shape for o in outputs]
            wanted = " or ".join(str(("N", *o)) for o in expected_out)
            raise ModelError(f"{name}: the model takes {got[0]} and gives {got[1]}; "
                             f"expected one float input {('N', *expected_in)} -> one output {wanted}")
        self.name = name
        self.input_name = inputs[0].name
        self.classes: int = shape_out[-1]

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """(N, *input shape) float32 in [0, 1] -> (N, *output shape) float32: a digit model's probabilities."""
        return self.session.run(None, {self.input_name: inputs})[0]


def load(path: str | Path, keras_path: str | Path | None = None, threads: int = 1, contract: Contract = DIGITS) -> OnnxModel:
    """Open an .onnx file; with keras_path, first check the export is that file's (ModelError if stale)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found (export one with: python -m digitcore export)")
    if keras_path is not None:
        check_export(path, Path(keras_path))
    return OnnxModel(path, str(path), threads, contract)

"""The one predict every caller uses: load the model once, turn any picture into probabilities of 0-9."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitcore import runtime
from digitcore.images import as_array
from digitcore.preprocess import to_model_input
from digitcore.runtime import ModelError

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "digits.keras"  # what train writes
DEFAULT_ONNX = DEFAULT_MODEL.with_suffix(".onnx")  # what is served: exported from DEFAULT_MODEL (digits.json says so)
NO_DIGIT = np.full(10, 0.1, np.float32)  # what "no digit" reports: no class preferred


@dataclass(frozen=True)
class Prediction:
    """label: 0-9, or None when the picture holds no digit; probabilities: (10,) summing to 1;
    model_input: the (28, 28) float32 picture the model saw, or None."""

    label: int | None
    probabilities: np.ndarray
    model_input: np.ndarray | None


class Recognizer:
    """A loaded model and the one predict that everything (CLI, app, benchmarks) calls."""

    def __init__(self, model: runtime.OnnxModel):
        self.model = model
        self.classes: int = model.classes  # 10 digits, or 11 with "not a digit"
        self.probabilities(np.zeros((1, 28, 28), np.float32))  # warm up now, not on the first user's request

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int = 1) -> "Recognizer":
        """The served model, loaded once; never imports TensorFlow unless given a .keras file.

        None: models/digits.onnx, checked against models/digits.keras by the sha256 digits.json records
        (a stale export is a ModelError saying how to re-export). An .onnx path: that artefact (checked the same
        way when a .json beside it records an export). A .keras path: exported to ONNX on the fly and checked
        against Keras, so exactly that file is served by the same runtime (needs TensorFlow and tf2onnx).
        threads: ONNX Runtime's threads per call; 1 suits one digit at a time in a server, 2 a big batch."""
        if path is None:
            return cls(runtime.load(DEFAULT_ONNX, DEFAULT_MODEL, threads))
        path = Path(path)
        if path.suffix == ".keras":
            if not path.is_file():
                raise ModelError(f"{path}: model file not found (train one with: python -m digitcore train --out {path})")
            from digitcore.export import onnx_bytes  # imports TensorFlow: only for a .keras file

            return cls(runtime.OnnxModel(onnx_bytes(path), str(path), threads))
        if path.suffix != ".onnx":
            raise ModelError(f"{path}: expected a .onnx or .keras model file")
        recorded = path.with_suffix(".json").is_file()  # exported here by digitcore: hold it to what was recorded
        return cls(runtime.load(path, path.with_suffix(".keras") if recorded else None, threads))

    def probabilities(self, inputs: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """(N, 28, 28) float32 model inputs -> (N, classes) probabilities, in batches that keep memory small."""
        inputs = np.asarray(inputs, np.float32)[..., None]
        if len(inputs) <= batch_size:
            return self.model(inputs)
        return np.concatenate([self.model(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])

    def predict(self, image: Any) -> Prediction:
        """Label and probabilities for one picture: array, PIL image, file path, bytes or Gradio sketchpad value."""
        array = as_array(image)
        model_input = None if array is None else to_model_input(array)
        if model_input is None:
            return Prediction(None, NO_DIGIT.copy(), None)
        probabilities = self.probabilities(model_input[None])[0]
        return Prediction(int(probabilities.argmax()), probabilities, model_input)

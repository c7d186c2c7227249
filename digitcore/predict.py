"""The one reading every caller uses: load the model once, turn any picture into a number, its digits, or why not."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from digitcore.images import as_array
from digitcore.preprocess import find_ink, to_field
from digitcore.segment import split_digits

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "digits.keras"
NO_DIGIT = np.full(10, 0.1, np.float32)  # what "no digit" reports: no class preferred
EMPTY, NOT_A_DIGIT, TOO_MANY = "empty", "not a digit", "too many pieces"  # why a reading has no number
MAX_DIGITS = 30  # a longer "number" is scribble or text: answered at once, not read piece by piece


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
    with quiet_native_stderr():
        import keras
    return keras


def inference_function(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The model as a plain function (N, 28, 28, 1) float32 -> (N, 10), for serving.

    The weights are frozen into constants so TensorFlow folds each batch norm into its convolution and fuses
    convolution, bias and ReLU; a session runs the graph without eager dispatch. Measured on 2 slow cores:
    one digit 1.2-1.6 ms instead of 2.5 ms through model(x), 10,000 digits 2.0-2.3 s instead of 3.4 s; the same outputs
    (tests/test_recognizer.py)."""
    import_keras()
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec((None, 28, 28, 1), tf.float32)  # one signature: every batch size, no re-tracing
    )
    frozen = convert_variables_to_constants_v2(traced)
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(frozen.graph.as_graph_def(), name="")
    # The graph runs in the calling thread on one core: no hand-off to pools (waking them costs ~0.5 ms here),
    # the other core stays free for the web server or a second call, and batches are no slower (2.0-2.3 s).
    config = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=-1, intra_op_parallelism_threads=1)
    session = tf.compat.v1.Session(graph=graph, config=config)  # thread-safe: the app calls it from several workers
    return session.make_callable(
        graph.get_tensor_by_name(frozen.outputs[0].name), [graph.get_tensor_by_name(frozen.inputs[0].name)]
    )


class ModelError(Exception):
    """The model file is missing or unreadable; the message names the path."""


@dataclass(frozen=True)
class Digit:
    """One digit of a reading. label: 0-9, or None when this piece is not a digit; probabilities: (10,) over
    the digits, summing to 1 (the closest digits, even when rejected); not_digit: the model's probability that
    the piece is no digit at all; model_input: the (28, 28) float32 picture the model saw; box: (x, y, w, h)
    in the original picture's pixels."""

    label: int | None
    probabilities: np.ndarray
    not_digit: float
    model_input: np.ndarray
    box: tuple[int, int, int, int]

    @property
    def confidence(self) -> float:
        """How sure the model is of this piece's answer: of its digit, or that it is not a digit."""
        if self.label is None:
            return self.not_digit
        return float(self.probabilities[self.label]) * (1.0 - self.not_digit)

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 6), "box": list(self.box)}


@dataclass(frozen=True)
class Reading:
    """What a picture says. number: its digits as a string ("2026"), or None; digits: each piece, left to
    right; reason: why number is None ("empty", "not a digit", "too many pieces"), else None."""

    number: str | None
    digits: tuple[Digit, ...]
    reason: str | None

    @property
    def single(self) -> Digit | None:
        """The one digit, when the picture holds exactly one piece."""
        return self.digits[0] if len(self.digits) == 1 else None

    @property
    def label(self) -> int | None:
        return self.single.label if self.single else None

    @property
    def probabilities(self) -> np.ndarray | None:
        return self.single.probabilities if self.single else None

    def to_dict(self) -> dict:
        """The JSON shape the CLI and the API share: label and probabilities are filled for one digit."""
        single = self.single
        return {
            "number": self.number,
            "reason": self.reason,
            "digits": [d.to_dict() for d in self.digits],
            "label": single.label if single else None,
            "probabilities": {str(d): round(float(q), 6) for d, q in enumerate(single.probabilities)} if single else None,
        }


@dataclass(frozen=True)
class Prediction:
    """One picture read as one digit. label: 0-9, or None (reason says why: "empty" or "not a digit");
    probabilities: (10,) summing to 1; model_input: the (28, 28) float32 picture the model saw, or None."""

    label: int | None
    probabilities: np.ndarray
    model_input: np.ndarray | None
    reason: str | None = None


class Recognizer:
    """A loaded model and the one predict that everything (CLI, app, benchmarks) calls."""

    reject_threshold = 0.5  # "not a digit" above this probability of the model's 11th class

    def __init__(self, model: Any):
        self.model = model
        with quiet_native_stderr():
            self._forward = inference_function(model)
            self.probabilities(np.zeros((1, 28, 28), np.float32))  # warm up now, not on the first user's request

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Recognizer":
        """Load a .keras model (default models/digits.keras beside the package) that keeps the input/output contract."""
        path = Path(path) if path is not None else DEFAULT_MODEL
        if not path.is_file():
            raise ModelError(f"{path}: model file not found (train one with: python -m digitcore train --out {path})")
        keras = import_keras()
        try:
            model = keras.models.load_model(path, compile=False)
        except Exception as e:  # Keras raises many kinds for a damaged file; to a user they mean one thing
            raise ModelError(f"{path}: not a readable Keras model file ({type(e).__name__}: {e})") from None
        if tuple(model.input_shape) != (None, 28, 28, 1) or tuple(model.output_shape) != (None, 10):
            raise ModelError(f"{path}: the model takes {model.input_shape} and gives {model.output_shape}; "
                             "expected (None, 28, 28, 1) -> (None, 10)")
        return cls(model)

    def probabilities(self, inputs: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """(N, 28, 28) float32 model inputs -> (N, 10) probabilities, in batches that keep memory small."""
        inputs = np.asarray(inputs, np.float32)[..., None]
        if len(inputs) <= batch_size:
            return self._forward(inputs)
        return np.concatenate([self._forward(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])

    def classify(self, model_inputs: np.ndarray) -> list[tuple[int | None, np.ndarray, float]]:
        """(N, 28, 28) model inputs -> per input (label or None for "not a digit", (10,) digit probabilities, not_digit)."""
        scores = self.probabilities(model_inputs)
        digits = scores[:, :10]
        # An 11-class model's last output is "not a digit"; a 10-class model never rejects.
        not_digit = scores[:, 10] if scores.shape[1] > 10 else np.zeros(len(scores), np.float32)
        digits = digits / np.maximum(digits.sum(axis=1, keepdims=True), 1e-12)
        rejected = not_digit > self.reject_threshold
        return [
            (None if r else int(d.argmax()), d.astype(np.float32), float(n)) for d, n, r in zip(digits, not_digit, rejected)
        ]

    def predict(self, image: Any) -> Prediction:
        """One picture read as one digit: array, PIL image, file path, bytes or Gradio sketchpad value."""
        array = as_array(image)
        ink = None if array is None else find_ink(array)
        if ink is None:
            return Prediction(None, NO_DIGIT.copy(), None, EMPTY)
        model_input = to_field(ink.strength)
        label, probabilities, _ = self.classify(model_input[None])[0]
        return Prediction(label, probabilities, model_input, None if label is not None else NOT_A_DIGIT)

    def read(self, image: Any) -> Reading:
        """A picture of one line of writing read as a number: its digits left to right, boxed, in one model call."""
        array = as_array(image)
        ink = None if array is None else find_ink(array)
        if ink is None:
            return Reading(None, (), EMPTY)
        pieces = split_digits(ink.strength, self.piece_scores)
        if len(pieces) > MAX_DIGITS:
            return Reading(None, (), TOO_MANY)
        model_inputs = np.stack([to_field(piece) for piece, _ in pieces])
        digits = tuple(
            Digit(label, probabilities, not_digit, model_input, ink.box_in_picture(*box))
            for (label, probabilities, not_digit), model_input, (_, box) in zip(
                self.classify(model_inputs), model_inputs, pieces
            )
        )
        if any(d.label is None for d in digits):
            return Reading(None, digits, NOT_A_DIGIT)
        return Reading("".join(str(d.label) for d in digits), digits, None)

    def piece_scores(self, pieces: list[np.ndarray]) -> np.ndarray:
        """How surely each soft ink map is one digit, (N,) in [0, 1]: segmentation's judge of candidate cuts."""
        classified = self.classify(np.stack([to_field(p) for p in pieces]))
        return np.array([(1 - n) * p.max() for _, p, n in classified], np.float32)

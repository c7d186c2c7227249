"""The one predict every caller uses: load the model once, turn any picture into probabilities of 0-9."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from digitcore.images import as_array
from digitcore.preprocess import to_model_input

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "digits.keras"
NO_DIGIT = np.full(10, 0.1, np.float32)  # what "no digit" reports: no class preferred


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
class Prediction:
    """label: 0-9, or None when the picture holds no digit; probabilities: (10,) summing to 1;
    model_input: the (28, 28) float32 picture the model saw, or None."""

    label: int | None
    probabilities: np.ndarray
    model_input: np.ndarray | None


class Recognizer:
    """A loaded model and the one predict that everything (CLI, app, benchmarks) calls."""

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
        if tuple(model.input_shape) != (None, 28, 28, 1) or tuple(model.output_shape) not in ((None, 10), (None, 11)):
            raise ModelError(f"{path}: the model takes {model.input_shape} and gives {model.output_shape}; "
                             "expected (None, 28, 28, 1) -> (None, 10) or (None, 11)")
        return cls(model)

    def probabilities(self, inputs: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """(N, 28, 28) float32 model inputs -> (N, 10) probabilities, in batches that keep memory small."""
        inputs = np.asarray(inputs, np.float32)[..., None]
        if len(inputs) <= batch_size:
            return self._forward(inputs)
        return np.concatenate([self._forward(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])

    def predict(self, image: Any) -> Prediction:
        """Label and probabilities for one picture: array, PIL image, file path, bytes or Gradio sketchpad value."""
        array = as_array(image)
        model_input = None if array is None else to_model_input(array)
        if model_input is None:
            return Prediction(None, NO_DIGIT.copy(), None)
        probabilities = self.probabilities(model_input[None])[0]
        return Prediction(int(probabilities.argmax()), probabilities, model_input)

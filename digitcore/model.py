"""The network: a Keras CNN in the spirit of the Keras MNIST example, built and compiled in this one place.

Contract of the saved file (other tools rely on it): input (N, 28, 28, 1) float32 in [0, 1], white digit
on black; output (N, 11) softmax probabilities: columns 0-9 the digits, column 10 (NOT_DIGIT) "not a digit"
(letters, symbols, doodles, several digits). A picture is rejected when column 10 wins or exceeds the
"reject_threshold" in digits.json beside the model. Files made before this (N, 10) stay readable.
"""
from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NOT_DIGIT = 10  # the output column of "not a digit"
NUM_CLASSES = 11


def conv_bn(filters: int, strides: int = 1) -> list[layers.Layer]:
    """3x3 convolution, batch norm, ReLU: the unit every block is made of."""
    return [
        layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),  # the batch norm supplies the bias
        layers.BatchNormalization(),
        layers.ReLU(),
    ]


def convolutions(size: str) -> list[layers.Layer]:
    """full: blocks 32-32 / 64-64 / 128 with max-pooling, 22M multiply-adds a digit. fast: 16 / 48 / 96 wide,
    halving by strided convolutions instead of pooling after full-size ones, 5M multiply-adds.

    The fast widths are multiples of 16 because ONNX Runtime's convolutions on AVX-512 are far slower per
    multiply-add at other widths: 24 channels take about as long as 32 (benchmarks/README.md, "Channels")."""
    if size not in ("full", "fast"):
        raise ValueError(f"size must be 'full' or 'fast', not {size!r}")
    if size == "fast":
        return [*conv_bn(16), *conv_bn(16, strides=2), *conv_bn(48), *conv_bn(48, strides=2), *conv_bn(96),
                layers.MaxPooling2D()]  # (3, 3, 96)
    return [
        *conv_bn(32),
        *conv_bn(32),
        layers.MaxPooling2D(),  # (14, 14, 32)
        *conv_bn(64),
        *conv_bn(64),
        layers.MaxPooling2D(),  # (7, 7, 64)
        *conv_bn(128),
        layers.MaxPooling2D(),  # (3, 3, 128)
    ]


def build_model(temperature: float = 1.0, size: str = "full") -> keras.Model:
    """The convolutions of the given size, a dense head, softmax; about 290k parameters (full) or 185k (fast).

    temperature divides the logits before the softmax (temperature scaling, fitted after training), so the
    saved file's probabilities are calibrated and its contract stays plain softmax output.
    """
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            *convolutions(size),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(NUM_CLASSES, name="logits"),
            layers.Rescaling(1.0 / temperature, name="temperature"),
            layers.Softmax(),
        ],
        name="digits",
    )


def compile_model(model: keras.Model, learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3) -> keras.Model:
    """Adam and sparse categorical cross-entropy, as in the original."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def logits_model(model: keras.Model) -> keras.Model:
    """The same network up to the logits, for fitting the temperature."""
    return keras.Model(model.inputs, model.get_layer("logits").output)

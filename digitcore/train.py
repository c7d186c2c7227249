"""Train the CNN on MNIST's training split with augmentation that looks like what users draw and photograph.

Every augmented digit goes through the same preprocessing as a user's picture (digitcore.preprocess), so
the model learns on exactly the kind of 28x28 input it will be given: thick and thin strokes, slant,
blur, low resolution, all re-normalised into the 20-pixel box.
"""
from __future__ import annotations

import json
import math
import shlex
import sys
import time
from pathlib import Path

import cv2
import keras
import numpy as np

from digitcore import evaluate
from digitcore.data import load_mnist
from digitcore.export import export
from digitcore.model import build_model, compile_model, logits_model
from digitcore.predict import DEFAULT_MODEL, Recognizer
from digitcore.preprocess import stroke_width, to_model_input

CANVAS = 96  # augmentation works at twice MNIST's scale, with room to rotate and thicken without clipping


def add_serifs(picture: np.ndarray, rng: np.random.Generator) -> None:
    """Draw a 1 the way much of the world writes it: a flag at the top, sometimes a foot (in place, white on black).

    MNIST's 1s are mostly plain strokes, so a model trained on them alone reads a flagged 1 as a 7."""
    rows, cols = np.nonzero(picture > 128)
    if len(rows) < 10:
        return
    height = rows.max() - rows.min()
    width = int(np.clip(round(stroke_width(picture / np.float32(255))), 2, 10))
    top = rows.min()
    x_top = int(cols[rows <= top + 2].mean())
    if rng.random() < 0.85:
        length, angle = rng.uniform(0.2, 0.4) * height, np.deg2rad(rng.uniform(20, 60))
        end = (int(x_top - length * np.cos(angle)), int(top + length * np.sin(angle)))
        cv2.line(picture, (x_top, int(top)), end, 255, width, cv2.LINE_AA)
    if rng.random() < 0.25:
        bottom = rows.max()
        x_bottom = int(cols[rows >= bottom - 2].mean())
        half = int(rng.uniform(0.12, 0.25) * height)
        cv2.line(picture, (x_bottom - half, int(bottom)), (x_bottom + half, int(bottom)), 255, width, cv2.LINE_AA)


def augment_digit(digit: np.ndarray, rng: np.random.Generator, label: int | None = None) -> np.ndarray:
    """(28, 28) uint8 MNIST digit -> (28, 28) float32 model input of a randomly distorted version of it."""
    if rng.random() < 0.2:  # keep some digits exactly as MNIST has them
        return digit.astype(np.float32) / 255
    picture = np.zeros((CANVAS, CANVAS), np.uint8)
    offset = (CANVAS - 56) // 2
    picture[offset : offset + 56, offset : offset + 56] = cv2.resize(digit, (56, 56), interpolation=cv2.INTER_LINEAR)
    if label == 1 and rng.random() < 0.5:
        add_serifs(picture, rng)

    # Slant, rotation and aspect: people write at every angle; scaling is undone by the 20-pixel box anyway.
    angle = np.deg2rad(rng.uniform(-15, 15))
    shear = rng.uniform(-0.3, 0.3)
    sx, sy = rng.uniform(0.75, 1.2, size=2)
    linear = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array([[sx, shear], [0, sy]])
    centre = np.array([CANVAS / 2, CANVAS / 2])
    affine = np.hstack([linear, (centre - linear @ centre)[:, None]]).astype(np.float32)
    picture = cv2.warpAffine(picture, affine, (CANVAS, CANVAS), flags=cv2.INTER_LINEAR)

    # Stroke width: a 40 px brush on a small drawing is three times MNIST's pen; a fine pen is thinner.
    pen = rng.random()
    if pen < 0.4:
        k = int(rng.choice([3, 5, 7, 9, 11]))
        picture = cv2.dilate(picture, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    elif pen < 0.55:
        picture = cv2.erode(picture, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))

    # Low resolution (8x8 scans upscaled, tiny photos) or plain blur (focus, motion).
    look = rng.random()
    if look < 0.25:
        side = int(CANVAS / rng.uniform(4, 7))
        small = cv2.resize(picture, (side, side), interpolation=cv2.INTER_AREA)
        picture = cv2.resize(small, (CANVAS, CANVAS), interpolation=int(rng.choice([cv2.INTER_NEAREST, cv2.INTER_LINEAR])))
    elif look < 0.45:
        picture = cv2.GaussianBlur(picture, (0, 0), rng.uniform(0.5, 2.0))

    model_input = to_model_input(picture)
    return digit.astype(np.float32) / 255 if model_input is None else model_input


class AugmentedDigits(keras.utils.PyDataset):
    """Batches of freshly augmented digits; each batch's randomness comes from (seed, epoch, batch) so runs repeat."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.epoch = 0
        self.order = np.random.default_rng([seed, 0]).permutation(len(x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = np.stack([augment_digit(self.x[i], rng, int(self.y[i])) for i in batch])
        return images[..., None], self.y[batch]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))


def fit_temperature(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the validation negative log-likelihood (a grid search is plenty for one number)."""
    logits = logits_model(model).predict(x, batch_size=1000, verbose=0).astype(np.float64)
    best, best_nll = 1.0, np.inf
    for t in np.arange(0.5, 3.0, 0.02):
        z = logits / t
        z -= z.max(axis=1, keepdims=True)
        nll = -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean()
        if nll < best_nll:
            best, best_nll = float(t), nll
    return round(best, 2)


def train(
    data: str | Path | None = None,
    out: str | Path = DEFAULT_MODEL,
    epochs: int = 20,
    batch_size: int = 128,
    learning_rate: float = 2e-3,
    validation: int = 6000,
    limit: int | None = None,
    seed: int = 42,
    command: str | None = None,
) -> dict:
    """Train, keep the best epoch by validation accuracy, calibrate, save the model and its metrics; returns the metrics."""
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(data)
    order = np.random.default_rng(seed).permutation(len(x_train))
    if limit:
        order = order[:limit]
    validation = min(validation, len(order) // 5)
    x_val, y_val = x_train[order[:validation]], y_train[order[:validation]]
    x_fit, y_fit = x_train[order[validation:]], y_train[order[validation:]]
    x_val = x_val[..., None].astype(np.float32) / 255

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = out.with_name(out.stem + ".best.keras")
    batches = AugmentedDigits(x_fit, y_fit, batch_size, seed, workers=1)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs * len(batches), alpha=0.01)
    model = compile_model(build_model(), schedule)
    started = time.time()
    history = model.fit(
        batches,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_accuracy", save_best_only=True)],
        verbose=2 if not sys.stdout.isatty() else "auto",
    )
    training_seconds = time.time() - started

    best = keras.models.load_model(checkpoint)
    temperature = fit_temperature(best, x_val, y_val)
    model = compile_model(build_model(temperature))
    model.set_weights(best.get_weights())  # the temperature is a constant, not a weight: the lists line up
    model.save(out)
    checkpoint.unlink()

    # The saved file, scored through the same predict the CLI and the app use.
    test = evaluate.score(Recognizer.load(out).probabilities(x_test / np.float32(255)), y_test)
    metrics = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "test_ece": test["ece"],
        "temperature": temperature,
        "best_epoch": int(np.argmax(history.history["val_accuracy"])) + 1,
        "epochs": epochs,
        "val_accuracy": float(max(history.history["val_accuracy"])),
        "training_seconds": round(training_seconds, 1),
        "parameters": model.count_params(),
        "train_images": len(x_fit),
        "validation_images": len(x_val),
        "seed": seed,
        "keras": keras.__version__,
        "command": command or "python -m digitcore " + shlex.join(sys.argv[1:]),
    }
    out.with_suffix(".json").write_text(json.dumps(metrics, indent=2) + "\n")
    metrics["export"] = export(out)  # the .onnx that is served, beside the .keras, recorded in the .json
    return metrics

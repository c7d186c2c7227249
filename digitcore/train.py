"""Train the CNN on MNIST's training split with augmentation that looks like what users draw and photograph.

Every augmented digit goes through the same preprocessing as a user's picture (digitcore.preprocess), so
the model learns on exactly the kind of 28x28 input it will be given: thick and thin strokes, slant,
blur, low resolution, all re-normalised into the 20-pixel box. Every batch also holds a fixed share of
non-digits (digitcore.negatives: letters, symbols, doodles, pairs and pieces of digits), distorted the same
way, labelled NOT_DIGIT; their probability, against a threshold fitted on validation digits, rejects.
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

from digitcore import evaluate, runtime
from digitcore.corrections import WEIGHT, load_corrections, mix_in, score_file
from digitcore.data import load_mnist, validation_split
from digitcore.export import export
from digitcore.model import NOT_DIGIT, build_model, compile_model, logits_model
from digitcore.negatives import crop, make_pool, side_by_side
from digitcore.predict import DEFAULT_MODEL, Recognizer
from digitcore.preprocess import stroke_width, to_model_input
from digitcore.runtime import ModelError

CANVAS = 96  # augmentation works at twice MNIST's scale, with room to rotate and thicken without clipping
NEGATIVE_SHARE = 0.125  # of every batch: enough to learn the class, few enough to keep an epoch's cost
POOL_SIZE = 16000  # non-digit canvases rendered once; each batch distorts a fresh sample of them
CUT_SHARE = 0.15  # of the augmented digits: cut from a touching pair, as segmentation leaves a digit of a number
OVERLAP = (-0.02, 0.15)  # how far (of the digit's height) a touching neighbour reaches into it, as people write
SLIVER = 0.2  # a cut digit keeps at most this much (of its own ink) of its neighbour; more is a wrong cut,
              # which digitcore.negatives.digit_piece teaches as "not a digit"


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


def cut_from_pair(digit: np.ndarray, neighbour: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """(H, W) uint8: the digit as a straight cut through a touching pair leaves it, the neighbour written up to
    OVERLAP into it, on its left or right, and the cut somewhere in the overlap; None when that would keep more
    than SLIVER of the neighbour.

    Segmentation reads each side of a cut; trained on whole digits alone, the model doubts a digit that keeps a
    sliver of its neighbour or lost its own edge, and the cut that reads best is then a wrong one."""
    a, b = crop(digit), crop(neighbour)
    overlap = min(int(round(rng.uniform(*OVERLAP) * a.shape[0])), min(a.shape[1], b.shape[1]) - 1)  # a 1 is narrow
    dy = int(rng.integers(-3, 4))
    on_left = rng.random() < 0.5  # where the neighbour is
    first = b if on_left else a
    pair = side_by_side(b, a, -overlap, dy) if on_left else side_by_side(a, b, -overlap, dy)
    cut = first.shape[1] - int(rng.integers(0, max(overlap, 0) + 1))  # a seam through the overlap
    piece = pair[:, cut:] if on_left else pair[:, :cut]
    own = int((a > 127).sum())
    if (piece > 127).sum() - own > SLIVER * own:
        return None
    return crop(piece)


def augment_digit(digit: np.ndarray, rng: np.random.Generator, label: int | None = None,
                  neighbour: np.ndarray | None = None) -> np.ndarray:
    """(28, 28) uint8 MNIST digit -> (28, 28) float32 model input of a randomly distorted version of it; given
    another digit as a neighbour, CUT_SHARE of them are cut from a touching pair with it first."""
    if rng.random() < 0.2:  # keep some digits exactly as MNIST has them
        return digit.astype(np.float32) / 255
    picture = np.zeros((CANVAS, CANVAS), np.uint8)
    piece = cut_from_pair(digit, neighbour, rng) if neighbour is not None and rng.random() < CUT_SHARE else None
    if piece is None:
        offset = (CANVAS - 56) // 2
        picture[offset : offset + 56, offset : offset + 56] = cv2.resize(digit, (56, 56), interpolation=cv2.INTER_LINEAR)
    else:  # at the same twice-MNIST scale, centred
        h, w = min(2 * piece.shape[0], CANVAS), min(2 * piece.shape[1], CANVAS)
        y, x = (CANVAS - h) // 2, (CANVAS - w) // 2
        picture[y : y + h, x : x + w] = cv2.resize(piece, (w, h), interpolation=cv2.INTER_LINEAR)
    if label == 1 and rng.random() < 0.5:
        add_serifs(picture, rng)
    model_input = distort(picture, rng)
    return digit.astype(np.float32) / 255 if model_input is None else model_input


def augment_negative(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(CANVAS, CANVAS) uint8 non-digit, white on black -> (28, 28) float32 model input, distorted like a digit."""
    model_input = distort(canvas, rng)
    if model_input is None:  # never seen; a plain shrink keeps the batch whole
        return cv2.resize(canvas, (28, 28), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return model_input


def distort(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """(CANVAS, CANVAS) uint8 ink, white on black -> (28, 28) float32 model input of a randomly distorted version."""
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
    return to_model_input(picture)


class AugmentedDigits(keras.utils.PyDataset):
    """Batches of freshly augmented digits, plus negatives_per_batch non-digits distorted from the pool (label
    NOT_DIGIT); each batch's randomness comes from (seed, epoch, batch) so runs repeat."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                 negatives: np.ndarray | None = None, negatives_per_batch: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.negatives, self.negatives_per_batch = negatives, negatives_per_batch if negatives is not None else 0
        self.epoch = 0
        self.order = np.random.default_rng([seed, 0]).permutation(len(x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        neighbours = self.x[rng.integers(len(self.x), size=len(batch))]
        images = [augment_digit(self.x[i], rng, int(self.y[i]), n) for i, n in zip(batch, neighbours)]
        picks = rng.integers(len(self.negatives), size=self.negatives_per_batch) if self.negatives_per_batch else []
        images += [augment_negative(self.negatives[i], rng) for i in picks]
        labels = np.concatenate([self.y[batch], np.full(len(picks), NOT_DIGIT, self.y.dtype)])
        return np.stack(images)[..., None], labels

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))


def load_weights(path: str | Path, model: keras.Model) -> list[np.ndarray]:
    """The weights of the .keras model at path, to start training from; ModelError unless they fit model."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found, so training cannot start from it")
    try:
        weights = keras.models.load_model(path).get_weights()
    except Exception as e:  # Keras raises several kinds for a damaged file
        raise ModelError(f"{path}: not a readable .keras model ({type(e).__name__}: {e})") from None
    if [w.shape for w in weights] != [w.shape for w in model.get_weights()]:
        raise ModelError(f"{path}: its layers are not this network's; start from a model of the same --size")
    return weights


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
    extra: str | Path | None = None,
    extra_weight: int = WEIGHT,
    command: str | None = None,
    size: str = "full",
    init: str | Path | None = None,
) -> dict:
    """Train, keep the best epoch by validation accuracy, calibrate, save the model and its metrics; returns the metrics.

    extra: a corrections database (digitcore.store); its corrections are mixed in, each seen extra_weight times an
    epoch, except a fixed held-out share that is scored, with MNIST's test split, before (the model at out) and after.
    init: a .keras model of the same size whose weights training starts from (fine-tuning), not random ones."""
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(data)
    held, fit = validation_split(len(x_train), seed, validation, limit)
    x_val, y_val = x_train[held], y_train[held]
    x_fit, y_fit = x_train[fit], y_train[fit]
    x_val = x_val.astype(np.float32) / 255
    val_digits = len(x_val)
    # Non-digits: pairs and pieces from each split's own digits; validation's distorted once, with a seed of its own.
    pool, _ = make_pool(min(POOL_SIZE, max(500, len(x_fit) // 3)), seed, x_fit)
    val_pool, _ = make_pool(len(held) // 6, seed + 1, x_train[held])
    val_rng = np.random.default_rng([seed, 1, 1])
    x_val = np.concatenate([x_val, np.stack([augment_negative(c, val_rng) for c in val_pool])])[..., None]
    y_val = np.concatenate([y_val, np.full(len(val_pool), NOT_DIGIT, y_val.dtype)])

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if extra:
        extra_fit, extra_held, skipped = load_corrections(extra)
        corrections = {"database": str(extra), "trained": len(extra_fit[0]), "weight": extra_weight,
                       "held_out": len(extra_held[0]), "skipped": skipped,
                       "before": score_file(out, (x_test, y_test), extra_held)}  # the previous model, if any
        x_fit, y_fit = mix_in(x_fit, y_fit, *extra_fit, weight=extra_weight)
    checkpoint = out.with_name(out.stem + ".best.keras")
    per_batch = round(batch_size * NEGATIVE_SHARE / (1 - NEGATIVE_SHARE))
    batches = AugmentedDigits(x_fit, y_fit, batch_size, seed, pool, per_batch, workers=1)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs * len(batches), alpha=0.01)
    model = compile_model(build_model(size=size), schedule)
    if init:
        model.set_weights(load_weights(init, model))
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
    model = compile_model(build_model(temperature, size))
    model.set_weights(best.get_weights())  # the temperature is a constant, not a weight: the lists line up
    model.save(out)
    checkpoint.unlink()

    # The saved file, through the same predict the CLI and the app use: threshold from validation, figures on test.
    recognizer = Recognizer.load(out)
    val_probabilities = recognizer.probabilities(x_val[..., 0])
    threshold = evaluate.fit_reject_threshold(val_probabilities[:val_digits])
    test = evaluate.score(recognizer.probabilities(x_test / np.float32(255)), y_test, threshold)
    metrics = {
        "classes": NOT_DIGIT + 1,
        "size": size,
        "not_digit_class": NOT_DIGIT,
        "reject_threshold": threshold,
        "test_accuracy": test["accuracy"],
        "test_rejected": test["rejected"],
        "test_loss": test["loss"],
        "test_ece": test["ece"],
        "temperature": temperature,
        "best_epoch": int(np.argmax(history.history["val_accuracy"])) + 1,
        "epochs": epochs,
        "val_accuracy": float(max(history.history["val_accuracy"])),
        "training_seconds": round(training_seconds, 1),
        "parameters": model.count_params(),
        "train_images": len(x_fit),
        "validation_images": val_digits,
        "negatives_per_batch": per_batch,
        "negative_pool": len(pool),
        "validation_negatives": len(val_pool),
        "validation_digits_rejected": float(evaluate.rejected(val_probabilities[:val_digits], threshold).mean()),
        "validation_negatives_rejected": float(evaluate.rejected(val_probabilities[val_digits:], threshold).mean()),
        "seed": seed,
        "init": {"model": Path(init).name, "sha256": runtime.sha256(init), "learning_rate": learning_rate} if init else None,
        "keras": keras.__version__,
        "command": command or "python -m digitcore " + shlex.join(sys.argv[1:]),
    }
    out.with_suffix(".json").write_text(json.dumps(metrics, indent=2) + "\n")
    if extra:  # scored once the .json holds the new model's reject threshold, which the served rule uses
        metrics["corrections"] = {**corrections, "after": score_file(out, (x_test, y_test), extra_held)}
        out.with_suffix(".json").write_text(json.dumps(metrics, indent=2) + "\n")
    metrics["export"] = export(out)  # the .onnx that is served, beside the .keras, recorded in the .json
    full = out.with_name(DEFAULT_MODEL.name).with_suffix(".onnx")
    if size == "fast" and full.is_file():  # served as a pair with the full model beside it: fit the pair too
        pair = Recognizer.load(full, fast=out.with_suffix(".onnx"))
        metrics["cascade"] = evaluate.record_pair_threshold(full, out.with_suffix(".onnx"), pair.probabilities(x_val[:val_digits, ..., 0]))
    return metrics

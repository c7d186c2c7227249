"""Score a model on labelled 28x28 inputs: accuracy, loss, calibration, rejection, and a picture report of its mistakes.

Columns are read generally: a model with 10 outputs never rejects; with 11, column 10 is "not a digit".
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from digitcore.runtime import sha256
from digitcore.shapes import refused_shapes

REJECTED_DIGITS = 0.002  # a fitted threshold rejects at most this share of validation digits (target: 0.3% on test)
NOT_DIGIT = 10  # digitcore.model.NOT_DIGIT (not imported: this module stays free of Keras)


def rejected(probabilities: np.ndarray, threshold: float, inputs: np.ndarray | None = None) -> np.ndarray:
    """(N,) bool: the probability of "not a digit" exceeds threshold (never for (N, 10) outputs), or, given
    the (N, 28, 28) model inputs, the input is a shape no digit has (shapes.refused_shapes: a stroke lying
    flat, an arrow).

    Not "not a digit wins": a digit the model half-doubts is still read as its likeliest digit, so the
    threshold alone sets how many real digits are given up (fitted on validation digits when training).
    uint8 inputs (MNIST as loaded) are scaled to the model's 0-1 first: the shape rule's ink levels are the model's."""
    refused = np.zeros(len(probabilities), bool)
    if probabilities.shape[1] > NOT_DIGIT:
        refused = probabilities[:, NOT_DIGIT] > threshold
    if inputs is not None:
        inputs = inputs / np.float32(255) if inputs.dtype == np.uint8 else inputs
        refused = refused | refused_shapes(inputs)
    return refused


def reject_threshold(model_path: str | Path) -> float:
    """The "reject_threshold" saved in the .json beside a model file (0.5 when there is none)."""
    metrics = Path(model_path).with_suffix(".json")
    try:
        return float(json.loads(metrics.read_text()).get("reject_threshold", 0.5))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.5


def pair_threshold(model_path: str | Path, fast_path: str | Path) -> float:
    """The reject threshold of a cascade (fast_path first): the one fitted for this very pair, recorded under
    "cascade" in the fast model's .json with the sha256 of the model it was fitted with; else the model's own."""
    try:
        record = json.loads(Path(fast_path).with_suffix(".json").read_text()).get("cascade") or {}
        if sha256(model_path) in (record.get("model_onnx_sha256"), record.get("model_keras_sha256")):
            return float(record["reject_threshold"])
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        pass
    return reject_threshold(model_path)


def fit_reject_threshold(probabilities: np.ndarray, share: float = REJECTED_DIGITS) -> float:
    """The lowest threshold on P(not a digit) that rejects at most `share` of these (N, 11) validation digits."""
    for t in np.arange(50, 99) / 100:
        if rejected(probabilities, float(t)).mean() <= share:
            return float(t)
    return 0.99


def record_pair_threshold(model: Path, fast: Path, probabilities: np.ndarray) -> dict:
    """Fit the reject threshold of a pair of .onnx files as served (fast first, both for the doubtful) on its
    (N, classes) probabilities for validation digits, like a single model's, and record it under "cascade"
    in the fast model's .json, with the sha256 of the model it was fitted with (pair_threshold reads it).

    For the doubtful the pair's "not a digit" is the mean of two models', so either model's own threshold gives
    up another share of digits than the fit allows (the full model's 0.78 gave up half as many)."""
    keras_file = model.with_suffix(".keras")
    record = {
        "model": model.name,
        "model_onnx_sha256": sha256(model),
        "model_keras_sha256": sha256(keras_file) if keras_file.is_file() else None,
        "reject_threshold": fit_reject_threshold(probabilities),
        "validation_digits": len(probabilities),
    }
    metrics_path = fast.with_suffix(".json")
    metrics = json.loads(metrics_path.read_text())
    metrics["cascade"] = record
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    return record


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by bin size."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def score(probabilities: np.ndarray, labels: np.ndarray, threshold: float = 0.5, inputs: np.ndarray | None = None) -> dict:
    """(N, 10 or 11) probabilities and (N,) true digits -> accuracy (a rejected digit counts as wrong), share
    rejected as "not a digit", loss (cross-entropy) and expected calibration error. Given the model inputs,
    rejection is the reader's whole rule (rejected)."""
    labels = np.asarray(labels).astype(np.int64)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)
    rejects = rejected(probabilities, threshold, inputs)
    return {
        "accuracy": float(((probabilities[:, :NOT_DIGIT].argmax(axis=1) == labels) & ~rejects).mean()),
        "rejected": float(rejects.mean()),
        "loss": float(-np.log(picked).mean()),
        "ece": expected_calibration_error(probabilities, labels),
    }


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """(classes, classes) counts: row = true label, column = predicted label."""
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def save_report(folder: str | Path, images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, worst: int = 36, threshold: float = 0.5) -> list[Path]:
    """Save confusion_matrix.png and worst_mistakes.png (the most confident wrong answers) into folder."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works on a server
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels).astype(np.int64)
    refused = rejected(probabilities, threshold, images.reshape(len(images), 28, 28))
    predicted = np.where(refused, NOT_DIGIT, probabilities[:, :NOT_DIGIT].argmax(axis=1))
    classes = probabilities.shape[1]
    matrix = confusion_matrix(labels, predicted, classes)[:10]  # rows: the true digits; columns: every output

    fig, ax = plt.subplots(figsize=(7, 6))
    # Log colour scale: the diagonal (~1000) would otherwise hide the handful of mistakes.
    shown = ax.imshow(np.log1p(matrix), cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color="white" if i == j else "black")
    ax.set(xticks=range(classes), xticklabels=[str(c) if c < NOT_DIGIT else "not" for c in range(classes)],
           yticks=range(10), xlabel="predicted", ylabel="true label",
           title=f"Confusion matrix: {(predicted == labels).mean():.2%} of {len(labels)} right")
    fig.colorbar(shown, ax=ax, label="log(1 + count)")
    fig.tight_layout()
    confusion_path = folder / "confusion_matrix.png"
    fig.savefig(confusion_path, dpi=120)
    plt.close(fig)

    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:worst]
    cols = 6
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.8), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(np.squeeze(images[i]), cmap="gray")
        ax.set_title(f"#{i} true {labels[i]}\nsaid {predicted[i]} ({probabilities[i, predicted[i]]:.0%})", fontsize=8)
    fig.suptitle(f"The {len(wrong)} most confident mistakes")
    fig.tight_layout()
    mistakes_path = folder / "worst_mistakes.png"
    fig.savefig(mistakes_path, dpi=120)
    plt.close(fig)
    return [confusion_path, mistakes_path]

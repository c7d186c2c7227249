"""Corrections as training data: (x, y) arrays from the store, a fixed held-out share, and scores before and after.

A correction is held out by a stable hash of its row id, so the same rows are held out in every run and
are never trained on; MNIST's test split stays MNIST's alone.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from digitcore.data import DataError
from digitcore.evaluate import NOT_DIGIT
from digitcore.store import CorrectionStore

HELD_OUT = 0.2  # of the corrections, kept for evaluation
WEIGHT = 10  # each correction is seen this many times an epoch, augmented afresh each time

Split = tuple[np.ndarray, np.ndarray]


def is_held_out(row_id: int, share: float = HELD_OUT) -> bool:
    """Whether a row is held out: its id's SHA-256 as a number in [0, 1) below share (the same in every run)."""
    return int.from_bytes(hashlib.sha256(str(row_id).encode()).digest()[:8], "big") / 2**64 < share


def load_corrections(db: str | Path, classes: int | None = None, share: float = HELD_OUT) -> tuple[Split, Split, int]:
    """((x_fit, y_fit), (x_held, y_held), skipped): (N, 28, 28) uint8 model inputs and (N,) uint8 labels.

    Rows labelled beyond the model's classes ("not a digit" for a 10-class model) are skipped and counted."""
    if classes is None:
        from digitcore.model import NUM_CLASSES

        classes = NUM_CLASSES
    rows = [r for r in CorrectionStore(db, create=False).rows()]
    usable = [r for r in rows if r.correct < classes]
    if not usable:
        raise DataError(f"{db}: no corrections to train on ({len(rows)} rows, none with a label of this model's {classes} classes)")
    held = np.array([is_held_out(r.id, share) for r in usable])
    x = np.stack([r.model_input for r in usable])
    y = np.array([r.correct for r in usable], np.uint8)
    return (x[~held], y[~held]), (x[held], y[held]), len(rows) - len(usable)


def mix_in(x: np.ndarray, y: np.ndarray, x_extra: np.ndarray, y_extra: np.ndarray, weight: int = WEIGHT) -> Split:
    """Training digits with each correction repeated weight times (every copy is augmented on its own)."""
    return np.concatenate([x, np.repeat(x_extra, weight, axis=0)]), np.concatenate([y, np.repeat(y_extra, weight)])


def accuracy(recognizer, x: np.ndarray, y: np.ndarray) -> float | None:
    """Share of (N, 28, 28) uint8 inputs read as their label by the rule the app serves (label 10: "not a digit",
    above the model's reject threshold); None for no inputs."""
    if len(x) == 0:
        return None
    said = [NOT_DIGIT if label is None else label for label, _, _ in recognizer.classify(x / np.float32(255))]
    return float((np.array(said) == y).mean())


def score_file(model: str | Path, test: Split, held: Split) -> dict | None:
    """MNIST-test and held-out-corrections accuracy of a saved model; None when there is no readable model there."""
    from digitcore.predict import ModelError, Recognizer

    try:
        recognizer = Recognizer.load(model)
    except ModelError:
        return None
    return {"mnist_test": accuracy(recognizer, *test), "held_out_corrections": accuracy(recognizer, *held)}


def describe(report: dict) -> str:
    """The before/after table train prints: MNIST test and held-out corrections, side by side."""

    def cell(scores: dict | None, key: str) -> str:
        value = None if scores is None else scores[key]
        return f"{'-':>8}" if value is None else f"{value:8.2%}"

    before, after = report["before"], report["after"]
    return "\n".join(
        [
            f"corrections from {report['database']}: {report['trained']} trained on (x{report['weight']}), "
            f"{report['held_out']} held out, {report['skipped']} skipped (labels this model lacks)",
            f"{'':22}{'before':>8}{'after':>8}",
            f"{'MNIST test':22}{cell(before, 'mnist_test')}{cell(after, 'mnist_test')}",
            f"{'held-out corrections':22}{cell(before, 'held_out_corrections')}{cell(after, 'held_out_corrections')}",
        ]
        + (["(before: no model at --out to compare with)"] if before is None else [])
    )


def name(label: int | None) -> str:
    """A label index as people read it: "7", "not a digit", or "nothing" (the model gave no answer)."""
    from digitcore.store import LABELS

    return "nothing" if label is None else LABELS[label]


def counts(rows: list) -> list[tuple[int | None, int, int]]:
    """(said, correct, how many) for every pair, most frequent first; pairs where the model was right come last."""
    pairs: dict[tuple[int | None, int], int] = {}
    for r in rows:
        pairs[r.said, r.correct] = pairs.get((r.said, r.correct), 0) + 1
    return sorted(((s, c, n) for (s, c), n in pairs.items()), key=lambda t: (t[0] == t[1], -t[2], -1 if t[0] is None else t[0], t[1]))


def save_grid(folder: str | Path, rows: list, per_pair: int = 10, pairs: int = 12) -> Path:
    """corrections.png in folder: a row per (said -> correct) pair, most frequent first, its newest model inputs."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works on a server
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shown = counts(rows)[:pairs]
    fig, axes = plt.subplots(max(1, len(shown)), per_pair, figsize=(per_pair * 1.2, max(1, len(shown)) * 1.45), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for line, (said, correct, n) in zip(axes, shown):
        newest = [r for r in rows if (r.said, r.correct) == (said, correct)][::-1][:per_pair]
        line[0].text(-0.15, 0.5, f"{name(said)} -> {name(correct)}\n({n})", transform=line[0].transAxes, ha="right",
                     va="center", fontsize=9)
        for ax, r in zip(line, newest):
            ax.imshow(r.model_input, cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"#{r.id}" + ("" if r.probability is None else f" {r.probability:.0%}"), fontsize=7)
    fig.suptitle(f"{len(rows)} corrections: what the model saw, by (model said -> correct), newest first")
    fig.tight_layout()
    path = folder / "corrections.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path

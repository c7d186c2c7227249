"""Touching digits read whole: a strip of ink (several digits at MNIST's scale) in, a digit string out.

A sequence network (digitcore/train_strings.py) gives, for each of STEPS columns of the strip, the
probabilities of blank, of each digit and of "not a digit"; the reading is the usual greedy CTC decoding (the best class per
column, repeats merged, blanks dropped). It needs no cut: digits whose strokes overlap are read where a
cut through them would take part of one digit with the other. Pure numpy and OpenCV.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitcore.preprocess import BOX, normalise_stroke_width

HEIGHT = 28  # rows of a strip, as MNIST's field
WIDTH = 128  # columns of a strip: room for seven digits at MNIST's scale
STEPS = 32  # columns the network answers for (4 strip pixels each)
BLANK = 0  # class 0 of each step is "nothing here"; class d + 1 is digit d; the last class a non-digit
NOT_DIGIT = 10  # the label of a non-digit in a reading (class NOT_DIGIT + 1)
CLASSES = 12
# The network names a digit about a step before the digit's middle (on 890 digits of MNIST fixture strings read
# right, 2-4 digits touching or overlapping: 1.07 steps left, sd 0.43), so a symbol's column is its peak's plus this.
PEAK_LAG = 1
STRIP_SHAPE = (HEIGHT, WIDTH, 1)


@dataclass(frozen=True)
class StringReading:
    """A strip read whole. labels: the digits left to right, NOT_DIGIT for a shape that is none; for each,
    at the step it was read surest: probabilities (len, 10) over the digits, sure (len,) that step's top
    probability, not_digit (len,) its probability of a non-digit, and centres, the strip column of the symbol's
    middle (PEAK_LAG after that step)."""

    labels: tuple[int, ...]
    probabilities: np.ndarray
    sure: np.ndarray
    not_digit: np.ndarray
    centres: tuple[int, ...]


def to_strip(ink: np.ndarray) -> tuple[np.ndarray, float, int] | None:
    """(HEIGHT, WIDTH) float32 strip of a soft ink map of one line of digits, its ink BOX px tall and strokes
    at MNIST's width, centred; with scale and offset, which map the map's columns onto the strip's (strip
    column = column * scale + offset). None when there is no ink or it is too long for a strip."""
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    if rows.size == 0:
        return None
    cropped_width = cols[-1] + 1 - cols[0]
    crop = normalise_stroke_width(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], by_height=True)
    pad = (crop.shape[1] - cropped_width) // 2  # a thickened pen grows the map on every side
    scale = BOX / crop.shape[0]
    w = max(1, round(crop.shape[1] * scale))
    if w > WIDTH - 4:
        return None
    digits = cv2.resize(crop, (w, BOX), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    strip = np.zeros((HEIGHT, WIDTH), np.float32)
    left = (WIDTH - w) // 2
    top = (HEIGHT - BOX) // 2
    strip[top : top + BOX, left : left + w] = digits
    strip /= max(float(strip.max()), 1e-6)
    return np.clip(strip, 0, 1), scale, left + round(pad * scale) - round(cols[0] * scale)


def decode(steps: np.ndarray) -> StringReading:
    """(STEPS, CLASSES) probabilities of one strip -> its reading (greedy CTC: best class per step, repeats
    merged, blanks dropped)."""
    best = steps.argmax(axis=1)
    step_px = WIDTH / len(steps)
    labels, peaks = [], []
    k = 0
    while k < len(best):
        j = k
        while j + 1 < len(best) and best[j + 1] == best[k]:
            j += 1
        if best[k] != BLANK:
            labels.append(int(best[k]) - 1)
            peaks.append(k + int(steps[k : j + 1, best[k]].argmax()))
        k = j + 1
    digits = steps[peaks, 1 : NOT_DIGIT + 1].reshape(-1, 10)
    return StringReading(
        tuple(labels),
        (digits / np.maximum(digits.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32),
        steps[peaks].max(axis=1) if peaks else np.zeros(0, np.float32),
        steps[peaks, NOT_DIGIT + 1] if peaks else np.zeros(0, np.float32),
        tuple(round((p + 0.5 + PEAK_LAG) * step_px) for p in peaks),
    )


def window(strip: np.ndarray, centre: int) -> np.ndarray:
    """(HEIGHT, HEIGHT) of the strip around a column: what the network looked at to read the digit there."""
    padded = np.pad(strip, ((0, 0), (HEIGHT // 2, HEIGHT // 2)))
    return padded[:, centre : centre + HEIGHT].copy()


def boundaries(reading: StringReading, scale: float, left: int, width: int) -> list[tuple[int, int]]:
    """Each symbol's columns (first, one past last) in the ink map the strip was made from (strip columns =
    ink columns * scale + left): from the ink's left edge to midway between neighbours to its right edge."""
    centres = [(c - left) / scale for c in reading.centres]
    cuts = [0] + [round((a + b) / 2) for a, b in zip(centres, centres[1:])] + [width]
    return [(int(np.clip(a, 0, width - 1)), int(np.clip(max(b, a + 1), 1, width))) for a, b in zip(cuts, cuts[1:])]

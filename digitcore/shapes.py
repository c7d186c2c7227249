"""Shapes no digit has, refused by their geometry whatever the model says: a stroke lying flat, an arrow.

The model never saw these shapes, and reads both as a 1 with 99%: a dash as a slanted 1, an arrow as a 1
with a flag. Each rule looks at the (28, 28) model input, so it sees a digit exactly as the model does.
"""
from __future__ import annotations

import math

import numpy as np

# A straight stroke lying flatter than this (degrees off vertical) is a dash or an arrow, not a 1: of MNIST's
# 60,000 train digits 27 are as flat and as line-like, 22 of them 5s squashed flat, none of them a 1.
LYING = 55.0
LINE_LIKE = 0.8  # how elongated ink must be to count as one straight stroke: 0 for a disc, 1 for a line
# An arrow: a shaft at most SHAFT as wide as long (the spread across its axis over the spread along it), and
# at one end only, ink reaching at least BARB field pixels beyond the shaft's edge on both sides, each side at
# least SYMMETRIC of the other (a 1's flag leaves on one side), between TIP and HEAD of the length from the end,
# while at the tip itself the ink is at most TIP_WIDTH as wide (barbs meet at a point; a 1's foot is widest at
# its end). Chosen on arrows of another seed than the benchmark's and MNIST train digits: it takes 106 of the
# 130 arrows the model read as digits there, and 1 of 20,000 train digits (a 1).
SHAFT, BARB, SYMMETRIC = 0.2, 0.8, 0.7
TIP, HEAD, TIP_WIDTH = 0.1, 0.35, 0.6

_ys, _xs = (v.ravel().astype(np.float64) for v in np.mgrid[:28, :28])
_BASIS = np.stack([np.ones_like(_xs), _xs, _ys, _xs * _xs, _xs * _ys, _ys * _ys], axis=1)  # (784, 6): moments' terms


def refused_shapes(inputs: np.ndarray) -> np.ndarray:
    """(N,) bool: which (N, 28, 28) model inputs are a stroke lying flat or an arrow: surely not digits."""
    return lying_flat(inputs) | np.array([arrow(ink) for ink in inputs], bool)


def moments(ink: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """(mass, x centre, y centre, mu20, mu11, mu02) of a (28, 28) ink map: its second moments about the centre,
    as cv2.moments gives them, in one small matrix product."""
    m00, m10, m01, m20, m11, m02 = (float(v) for v in np.asarray(ink, np.float64).ravel() @ _BASIS)
    if m00 <= 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    x, y = m10 / m00, m01 / m00
    return m00, x, y, m20 - x * m10, m11 - x * m01, m02 - y * m01


def quantile(values: np.ndarray, q: float) -> float:
    """np.percentile(values, 100 * q), linear between neighbours, for a few values: a tenth of its overhead."""
    ordered = np.sort(values)
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return float(ordered[below] + (position - below) * (ordered[above] - ordered[below]))


def lying_flat(inputs: np.ndarray) -> np.ndarray:
    """(N,) bool: each (N, 28, 28) model input is one straight stroke lying more than LYING degrees off vertical.

    The ink's second moments say how line-like it is and which way it lies."""
    flat = np.zeros(len(inputs), bool)
    for i, ink in enumerate(inputs):
        _, _, _, mu20, mu11, mu02 = moments(ink)
        spread, skew = mu20 - mu02, 2 * mu11
        off_vertical = 90 - abs(math.degrees(math.atan2(skew, spread)) / 2)
        flat[i] = off_vertical > LYING and math.hypot(spread, skew) > LINE_LIKE * (mu20 + mu02)
    return flat


def arrow(ink: np.ndarray) -> bool:
    """Whether one (28, 28) model input is a straight shaft with an arrowhead at one end (any direction)."""
    strong = np.where(ink > 0.3, ink, 0)
    mass, cx, cy, a, b, c = moments(strong)  # most digits stop here: not a shaft
    half_sum, half_diff = (a + c) / 2, math.hypot((a - c) / 2, b)
    if mass <= 0 or half_sum + half_diff <= 0 or math.sqrt(max(half_sum - half_diff, 0) / (half_sum + half_diff)) > SHAFT:
        return False
    ys, xs = np.nonzero(strong)
    if len(xs) < 10:
        return False
    theta = 0.5 * math.atan2(2 * b, a - c)  # the shaft's direction
    x, y = xs - cx, ys - cy
    along = x * math.cos(theta) + y * math.sin(theta)
    signed = y * math.cos(theta) - x * math.sin(theta)  # across the shaft, one side negative
    across = np.abs(signed)
    low, high = along.min(), along.max()
    length = high - low
    middle = np.abs(along - (high + low) / 2) < 0.2 * length
    shaft = quantile(across[middle], 0.9) if middle.any() else 1.0  # half the shaft's width
    heads = 0
    for from_end in (high - along, along - low):
        head = (from_end < HEAD * length) & (from_end >= TIP * length)
        if not head.any():
            continue
        left, right = signed[head].max(), -signed[head].min()
        tip = across[from_end < TIP * length].max()
        if min(left, right) >= shaft + BARB and min(left, right) >= SYMMETRIC * max(left, right) \
                and tip <= TIP_WIDTH * max(left, right) + 0.5:
            heads += 1
    return heads == 1

"""Split the ink of one line of writing into digits, left to right. Pure numpy/OpenCV: no model.

A piece is the soft ink of one digit (cropped) and its box in the ink map's pixels. Pieces whose columns
overlap belong to one digit (a 5's bar, a 4 in two strokes, a 7's crossbar).
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h in the ink map's pixels
Piece = tuple[np.ndarray, Box]  # (h, w) float32 soft ink of one digit, and where it sits in the map
Scorer = Callable[[list[np.ndarray]], np.ndarray]  # soft ink maps -> how surely each is one digit, (N,) in [0, 1]


def split_digits(ink: np.ndarray, score: Scorer | None = None) -> list[Piece]:
    """The digits of a soft ink map (h, w) float32, left to right; score lets a caller judge candidate cuts."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((ink > 0).astype(np.uint8), connectivity=8)
    groups: list[list[int]] = []
    for i in sorted(range(1, count), key=lambda i: stats[i, cv2.CC_STAT_LEFT]):
        x, w = stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_WIDTH]
        if groups and x < max(stats[j, cv2.CC_STAT_LEFT] + stats[j, cv2.CC_STAT_WIDTH] for j in groups[-1]):
            groups[-1].append(i)
        else:
            groups.append([i])
    pieces = []
    for group in groups:
        mask = np.isin(labels, group)
        x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
        pieces.append((np.where(mask, ink, 0)[y : y + h, x : x + w], (x, y, w, h)))
    return pieces

"""Make the app's example pictures (committed; re-run only to change them): python examples/make_examples.py [mnist.npz]

Each imitates something a user gives the app: a phone photo of a digit on paper, a drawing like the
sketchpad's, a pen-written digit, a photo of blank paper. They are made from MNIST *test* digits and
OpenCV's Hershey fonts, so no training image is in them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
MNIST = HERE.parent.parent / "shared" / "data" / "mnist.npz"
THREE = 18  # index in MNIST's test split of the 3 used for the photo (the first 3 in the split)


def paper(rng: np.random.Generator, side: int = 480) -> np.ndarray:
    """(side, side, 3) uint8 off-white paper lit unevenly from one corner, with sensor noise."""
    y, x = np.mgrid[0:side, 0:side] / side
    light = 215 + 30 * (1 - 0.6 * x - 0.4 * y)  # brighter at the top left
    page = np.stack([light * 0.97, light * 0.99, light], axis=-1)  # slightly warm (BGR)
    return np.clip(page + rng.normal(0, 3, page.shape), 0, 255).astype(np.uint8)


def photo_of(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A (28, 28) white-on-black MNIST digit as a photo of dark pencil on paper: (480, 480, 3) uint8 BGR."""
    page = paper(rng)
    ink = cv2.resize(digit, (260, 260), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    strength = np.zeros(page.shape[:2], np.float32)
    strength[120:380, 100:360] = np.clip(ink, 0, 1)
    strength = cv2.GaussianBlur(strength, (0, 0), 1.5)  # a little out of focus
    pencil = np.array([60, 55, 50], np.float32)  # dark grey graphite, BGR
    photo = page * (1 - strength[..., None] * 0.85) + pencil * strength[..., None] * 0.85
    return np.clip(photo, 0, 255).astype(np.uint8)


def sketch(strokes: list[list[tuple[int, int]]], side: int = 480, width: int = 24) -> np.ndarray:
    """Black strokes on white like the sketchpad's: (side, side, 3) uint8."""
    page = np.full((side, side, 3), 255, np.uint8)
    for points in strokes:
        cv2.polylines(page, [np.array(points, np.int32)], False, (0, 0, 0), width, cv2.LINE_AA)
    return page


def pen_written(text: str, rng: np.random.Generator) -> np.ndarray:
    """A digit in OpenCV's script font, dark blue ink on paper: (480, 480, 3) uint8 BGR."""
    page = paper(rng)
    cv2.putText(page, text, (150, 360), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 9, (120, 40, 30), 14, cv2.LINE_AA)
    return cv2.GaussianBlur(page, (3, 3), 0)


def main(mnist: Path = MNIST) -> None:
    """Write the example pictures next to this script."""
    rng = np.random.default_rng(0)
    with np.load(mnist) as data:
        three, label = data["x_test"][THREE], int(data["y_test"][THREE])
    assert label == 3, f"MNIST test digit {THREE} is a {label}"
    cv2.imwrite(str(HERE / "three_photo.jpg"), photo_of(three, rng), [cv2.IMWRITE_JPEG_QUALITY, 85])
    seven = [[(140, 110), (340, 105), (300, 200), (250, 300), (215, 390)]]
    cv2.imwrite(str(HERE / "seven_sketch.png"), sketch(seven))
    cv2.imwrite(str(HERE / "two_pen.jpg"), pen_written("2", rng), [cv2.IMWRITE_JPEG_QUALITY, 85])
    cv2.imwrite(str(HERE / "blank_paper.jpg"), paper(rng), [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else MNIST)

"""Shared fixtures: the committed model (loaded once per test run) and a few hundred real MNIST test digits."""
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def recognizer():
    from digitcore import Recognizer

    return Recognizer.load()


@pytest.fixture(scope="session")
def mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """300 real MNIST test digits (30 of each), (N, 28, 28) uint8 white on black, and their labels."""
    with np.load(FIXTURES / "mnist_test_300.npz") as f:
        return f["x"], f["y"]


def dark_on_light(digit: np.ndarray, side: int = 400, at: tuple[int, int] = (100, 100), scale: int = 8) -> np.ndarray:
    """An MNIST digit drawn as dark ink on a white (side x side) page, scaled up, its corner at `at`: (H, W) uint8."""
    import cv2

    page = np.full((side, side), 255, np.uint8)
    big = cv2.resize(digit, (28 * scale, 28 * scale), interpolation=cv2.INTER_LINEAR)
    y, x = at
    h = min(28 * scale, side - y)
    w = min(28 * scale, side - x)
    page[y : y + h, x : x + w] = 255 - big[:h, :w]
    return page

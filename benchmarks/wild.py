"""The "wild pictures" benchmark: how digitcore reads what users actually hand it.

Four kinds of picture are generated in memory with a fixed seed (only MNIST's *test* split is used):
  sketch  a Gradio sketchpad value: black strokes on a transparent or opaque white RGBA canvas
  photo   a phone photo of ink on tinted, unevenly lit paper: noisy, blurred, JPEG-compressed
  scan    handwriting from other sources: MNIST on a large white page, scikit-learn's 8x8 digits
  empty   no digit at all: blank sketchpads, white or black pictures, photos of plain paper (answer: None)
Each kind is scored through Recognizer.predict and, side by side, through the original approach
(PIL grey, plain resize to 28x28, straight into the model).

    python -m benchmarks.wild [--n 200] [--seed 0] [--data mnist.npz] [--model PATH] [--save DIR] [--show-errors DIR]
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from PIL import Image

from benchmarks.render import (
    MAX_SKETCH_STROKE, Digits, Item, camera, crop, hershey_glyph, jpeg, mnist_ink, mnist_strokes, photo_size, photograph, pick_digit,
    place, sketchpad, slant,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter would bury the table

KINDS = ("sketch", "photo", "scan", "empty")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


# ---------------------------------------------------------------------------------------------- sources


@functools.lru_cache(maxsize=2)
def mnist_test(data_path: Path) -> Digits:
    """MNIST's test images and labels: the only split pictures are made from (the train split trains the model)."""
    from digitcore.data import load_mnist

    _, (x_test, y_test) = load_mnist(data_path)
    return x_test, y_test


@functools.lru_cache(maxsize=1)
def sklearn_digits() -> Digits:
    """scikit-learn's 8x8 digits (other writers than MNIST's) as uint8 0-255, without the few ambiguous ones."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.reshape(len(digits.images), -1)
    y = digits.target
    # A couple of dozen of these 8x8 scrawls are ambiguous even to a person. Drop those whose 5 nearest
    # neighbours in the set mostly carry another label: a judgement independent of the recognizer under test.
    squared = (x * x).sum(1)
    distances = squared[:, None] + squared[None, :] - 2 * x @ x.T
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1)[:, :5]
    clear = (y[neighbours] == y[:, None]).sum(axis=1) >= 3
    images = np.round(digits.images[clear] * 255 / 16).astype(np.uint8)
    return images, y[clear]


def make_sketch(rng: np.random.Generator, digits: Digits) -> Item:
    """A Gradio sketchpad value: black strokes on a transparent or an opaque white RGBA canvas, half each."""
    h = int(rng.integers(400, 801))
    w = int(np.clip(h * rng.uniform(0.8, 1.25), 400, 800))
    height = rng.uniform(1 / 3, 0.92) * min(h, w)
    # Brushes of 5-40 px, but never so fat for the digit that its loops close up (MNIST's strokes are ~12%).
    brush = int(rng.integers(5, max(6, min(40, round(0.16 * height))) + 1))
    if rng.random() < 0.5:
        label = int(rng.integers(10))
        ink = hershey_glyph(label, height, brush, rng)
    else:
        i = pick_digit(rng, digits, max_stroke=MAX_SKETCH_STROKE)
        label, ink = int(digits[1][i]), mnist_strokes(digits[0][i], height, brush)
    ink = slant(ink, rng.uniform(-15, 15), rng.uniform(-0.3, 0.3))
    return sketchpad(place(ink, (h, w), rng), transparent=rng.random() < 0.5), label


def make_photo(rng: np.random.Generator, digits: Digits) -> Item:
    """A phone photo of one handwritten or printed digit on paper, RGB uint8."""
    h, w = photo_size(rng)
    height = rng.uniform(0.2, 0.7) * min(h, w)
    if rng.random() < 0.5:
        i = pick_digit(rng, digits)
        label, ink = int(digits[1][i]), mnist_ink(digits[0][i], height, rng)
    else:
        label = int(rng.integers(10))
        ink = hershey_glyph(label, height, max(2, round(rng.uniform(0.04, 0.12) * height)), rng)
    ink = slant(ink, rng.uniform(-10, 10), 0.0)
    return photograph(place(ink, (h, w), rng, margin=0.05), rng), label


def make_scan(rng: np.random.Generator, digits: Digits) -> Item:
    """Real handwriting from elsewhere, grey uint8: an MNIST digit on a scanned page or a scikit-learn digit."""
    return scan_mnist(rng, digits) if rng.random() < 0.5 else scan_sklearn(rng)


def scan_mnist(rng: np.random.Generator, digits: Digits) -> Item:
    """An MNIST test digit, dark on light, at 2-6x scale anywhere on a 600-1200 px white or light grey page."""
    i = pick_digit(rng, digits)
    side = round(28 * rng.uniform(2, 6))
    digit = cv2.resize(digits[0][i], (side, side), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    layer = place(digit, (int(rng.integers(600, 1201)), int(rng.integers(600, 1201))), rng)
    page, ink = rng.uniform(225, 255), rng.uniform(0, 50)
    grey = page - (page - ink) * layer + rng.uniform(0, 2) * rng.standard_normal(layer.shape, dtype=np.float32)
    return np.clip(grey + 0.5, 0, 255).astype(np.uint8), int(digits[1][i])


def scan_sklearn(rng: np.random.Generator) -> Item:
    """A scikit-learn 8x8 digit upscaled to 32-128 px, white on black as given or dark on light, maybe with a margin."""
    images, labels = sklearn_digits()
    i = rng.integers(len(images))
    side = int(rng.integers(32, 129))
    interpolation = cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR
    picture = cv2.resize(images[i], (side, side), interpolation=interpolation)
    background = 0
    if rng.random() < 0.5:
        picture, background = 255 - picture, 255
    if rng.random() < 0.5:  # the 8x8 digits fill their box; a scan usually has paper around the digit
        picture = np.pad(picture, int(rng.integers(side // 8, side // 2 + 1)), constant_values=background)
    return picture, int(labels[i])


# ----------------------------------------------------------------------------------------------- empty


def make_empty(rng: np.random.Generator, digits: Digits) -> Item:
    """A picture without a digit: blank sketchpad, white picture, photo of plain paper or black picture."""
    which = rng.choice(4, p=[0.25, 0.2, 0.45, 0.1])
    h, w = photo_size(rng)
    if which == 0:
        return np.zeros((800, 800, 4), np.uint8), None  # Gradio's untouched transparent canvas
    if which == 1:
        return np.full((h, w, 3 if rng.random() < 0.5 else 4), 255, np.uint8), None
    if which == 2:
        return photograph(np.zeros((h, w), np.float32), rng), None
    return np.zeros((h, w, 3), np.uint8), None


MAKERS: dict[str, Callable[[np.random.Generator, Digits], Item]] = {
    "sketch": make_sketch,
    "photo": make_photo,
    "scan": make_scan,
    "empty": make_empty,
}


def make_set(kind: str, n: int = 200, seed: int = 0, data_path: str | Path = DEFAULT_DATA) -> list[Item]:
    """n (picture, expected label) pairs of one kind; picture i depends only on (seed, kind, i), not on n."""
    if kind not in MAKERS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    digits = mnist_test(Path(data_path))
    make = MAKERS[kind]
    return [make(np.random.default_rng([seed, KINDS.index(kind), i]), digits) for i in range(n)]


# ------------------------------------------------------------------------------------------------ score


def original_input(picture: np.ndarray) -> np.ndarray:
    """The original approach's (28, 28) input: PIL grey (which drops alpha), PIL's default resize, / 255."""
    return np.asarray(Image.fromarray(picture).convert("L").resize((28, 28)), np.float32) / 255


def score(recognizer: Any, items: list[Item]) -> dict:
    """Accuracy of recognizer.predict and of the original approach on (picture, expected label) pairs."""
    expected = [label for _, label in items]
    predictions = [recognizer.predict(picture) for picture, _ in items]
    labels = [p.label for p in predictions]
    original: list[int] = []
    if items:  # the original approach, batched; it always answers a digit, so it is never right on "empty"
        batch = np.stack([original_input(picture) for picture, _ in items])
        original = [int(d) for d in recognizer.probabilities(batch).argmax(axis=1)]
    right = [got == want for got, want in zip(labels, expected)]
    original_right = [got == want for got, want in zip(original, expected)]
    return {
        "n": len(items),
        "digitcore_correct": sum(right),
        "original_correct": sum(original_right),
        "digitcore": sum(right) / max(len(items), 1),
        "original": sum(original_right) / max(len(items), 1),
        "none_on_digits": sum(got is None and want is not None for got, want in zip(labels, expected)),
        "expected": expected,
        "labels": labels,
        "original_labels": original,
        "wrong": [i for i, ok in enumerate(right) if not ok],
        "model_inputs": [p.model_input for p in predictions],
    }


def format_table(results: dict[str, dict]) -> str:
    """The accuracy table, one row per kind and a total; 'None' counts digitcore's no-digit answers on digits."""
    lines = [f"{'kind':<9} {'n':<5} {'digitcore':<11} {'original':<10} None on digits"]
    for kind, r in results.items():
        none = "-" if kind == "empty" else str(r["none_on_digits"])
        lines.append(f"{kind:<9} {r['n']:<5} {r['digitcore']:<11.3f} {r['original']:<10.3f} {none}")
    n = sum(r["n"] for r in results.values())
    digitcore = sum(r["digitcore_correct"] for r in results.values()) / max(n, 1)
    original = sum(r["original_correct"] for r in results.values()) / max(n, 1)
    none = sum(r["none_on_digits"] for r in results.values())
    lines.append(f"{'all':<9} {n:<5} {digitcore:<11.3f} {original:<10.3f} {none}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- output


def save_set(folder: Path, kind: str, items: list[Item]) -> None:
    """Write each picture as e.g. photo_0007_label3.jpg or empty_0003_labelNone.png, to score through the CLI later."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (picture, label) in enumerate(items):
        # Photos are JPEGs already; re-saving at quality 95 changes them by a grey level or two. All else is lossless.
        suffix = "jpg" if kind == "photo" else "png"
        Image.fromarray(picture).save(folder / f"{kind}_{i:04d}_label{label}.{suffix}", quality=95)


def display_rgb(picture: np.ndarray, side: int) -> np.ndarray:
    """The picture as RGB uint8 fitted into side x side, transparency shown as mid grey."""
    if picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2)
    elif picture.shape[2] == 4:
        alpha = picture[..., 3:].astype(np.float32) / 255
        picture = (picture[..., :3] * alpha + 128 * (1 - alpha)).astype(np.uint8)
    h, w = picture.shape[:2]
    s = side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = cv2.resize(picture, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_NEAREST)
    tile = np.full((side, side, 3), 64, np.uint8)
    tile[: size[1], : size[0]] = small
    return tile


def error_tile(picture: np.ndarray, model_input: np.ndarray | None, caption: str, side: int = 192) -> np.ndarray:
    """RGB tile: the picture beside the 28x28 the model saw (black if none), with a caption bar above."""
    seen = np.zeros((28, 28), np.float32) if model_input is None else model_input
    seen = cv2.resize(np.round(seen * 255).astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST)
    body = np.hstack([display_rgb(picture, side), np.full((side, 4, 3), 255, np.uint8), np.repeat(seen[..., None], 3, 2)])
    bar = np.full((24, body.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, caption, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (200, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, body])


def montage(tiles: list[np.ndarray], columns: int = 4) -> np.ndarray:
    """The tiles (all one size) in a grid, left to right, top to bottom, with white gaps."""
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * (h + 6), columns * (w + 6), 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        sheet[r * (h + 6) : r * (h + 6) + h, c * (w + 6) : c * (w + 6) + w] = tile
    return sheet


def save_errors(folder: Path, kind: str, items: list[Item], result: dict) -> int:
    """One PNG per misread picture (picture | model input) and a montage of them all; returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    tiles = []
    for i in result["wrong"]:
        want, got = result["expected"][i], result["labels"][i]
        tile = error_tile(items[i][0], result["model_inputs"][i], f"{kind} {i}: want {want}, got {got}")
        Image.fromarray(tile).save(folder / f"{kind}_{i:04d}_label{want}_got{got}.png")
        tiles.append(tile)
    if tiles:
        Image.fromarray(montage(tiles)).save(folder / f"{kind}_errors.png")
    return len(tiles)


# ------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wild", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="pictures per kind (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="the set is a function of the seed (default: %(default)s)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="mnist.npz; only its test split is used (default: %(default)s)")
    parser.add_argument("--model", type=Path, help="a .keras model (default: Recognizer.load()'s, models/digits.keras)")
    parser.add_argument("--save", type=Path, metavar="DIR", help="also write every picture there, label in the name")
    parser.add_argument("--show-errors", type=Path, metavar="DIR",
                        help="write the misread pictures beside what the model saw")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate every kind, score it both ways, print the table; returns the exit code."""
    args = parse_args(argv)
    from digitcore import ModelError, Recognizer
    from digitcore.data import DataError

    started = time.perf_counter()
    try:
        mnist_test(args.data)  # first: a wrong path should not wait for TensorFlow to start
        recognizer = Recognizer.load(args.model)
    except (ModelError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    generating = scoring = 0.0
    results = {}
    for kind in KINDS:
        t0 = time.perf_counter()
        items = make_set(kind, args.n, args.seed, args.data)
        t1 = time.perf_counter()
        results[kind] = score(recognizer, items)
        generating, scoring = generating + t1 - t0, scoring + time.perf_counter() - t1
        if args.save:
            save_set(args.save, kind, items)
        if args.show_errors:
            save_errors(args.show_errors, kind, items, results[kind])
    print(format_table(results))
    total = sum(r["n"] for r in results.values())
    print(f"\n{total} pictures: generated in {generating:.1f} s, scored in {scoring:.1f} s; "
          f"wall time {time.perf_counter() - started:.1f} s including model load")
    if args.save:
        print(f"pictures saved in {args.save}")
    if args.show_errors:
        print(f"misread pictures saved in {args.show_errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

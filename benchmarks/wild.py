"""The "wild pictures" benchmark: how digitcore reads what users actually hand it.

Fourteen kinds of picture are generated in memory with a fixed seed (only MNIST's *test* split is used):
  sketch  a Gradio sketchpad value: black strokes on a transparent or opaque white RGBA canvas
  photo   a phone photo of ink on tinted, unevenly lit paper: noisy, blurred, JPEG-compressed
  scan    handwriting from other sources: MNIST on a large white page, scikit-learn's 8x8 digits
  empty   no digit at all: blank sketchpads, white or black pictures, photos of plain paper (answer: None)
  pen     the pen sweep: pens of 1-30% of the digit's height on sketchpads and photos, reported per width band
  faint   pencil 20-80 grey levels darker than tinted, unevenly lit, noisy paper
  ruled   lined and squared notebook paper, blue or grey lines crossing the strokes
  desk    a sticky note or page covering 25-70% of a photo, on a darker or lighter desk, its edges in view
  tight   a fine pen (1-4% of the digit's height), the digit filling 60-95% of the picture: a photo cropped close,
          a sketchpad written edge to edge; its long strokes are as long as ruling
  askew   a ruled page filling the photo, turned 0.5-5 degrees: slivers of the desk along the frame, the page's
          edge crossing the rules there
  shadow  a photo like "photo" with a shadow cast across it from beyond the frame (a hand, the phone): a straight
          or round edge, sharp or soft, 25-50% darker
  box     a photo of a digit written in a printed box, a form's field: its sides 1-3 px, grey or blue, 10-40% of
          the digit's height away from it
  underline  a digit with a line drawn under it in the same pen (to set a 6 apart from a 9, or for emphasis),
          1.1-1.8 times its width, a little tilted and bowed, apart from it or touching; sketched or photographed
  perspective  a lined or squared page filling the photo, taken at an angle: each corner of the frame 0-6% of the
          page's side off square, so its rules converge, each tilted a few degrees its own way
The renderers are in benchmarks/render.py.
Each kind is scored through Recognizer.predict (one digit, /predict: the "digitcore" column), through
Recognizer.read (the number the page shows: "page") and, side by side, through the original approach
(PIL grey, plain resize to 28x28, straight into the model).

    python -m benchmarks.wild [--n 200] [--seed 0] [--kinds sketch,photo,...] [--data mnist.npz] [--model PATH] [--save DIR] [--show-errors DIR]
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
    MAX_SKETCH_STROKE, Digits, Item, camera, compose, crop, hershey_glyph, holes, lighting, mnist_ink, mnist_strokes,
    desk, paper_tint, pen_colour, photo_size, photograph, photograph_form, pick_digit, place, ruling, sheet_on_desk, sketchpad, slant, underline,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter would bury the table

KINDS = ("sketch", "photo", "scan", "empty", "pen", "faint", "ruled", "desk", "tight", "askew", "shadow", "box", "underline",
         "perspective")
# Pen widths as fractions of the digit's height; the pen kind's picture i uses band i % 6.
PEN_BANDS = ((0.01, 0.05), (0.05, 0.10), (0.10, 0.15), (0.15, 0.20), (0.20, 0.25), (0.25, 0.30))
NOTE_TINTS = ((252, 236, 130), (250, 190, 200), (180, 225, 250), (245, 245, 240), (246, 237, 214))
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


def make_photo(rng: np.random.Generator, digits: Digits, shadow: bool = False) -> Item:
    """A phone photo of one handwritten or printed digit on paper, RGB uint8; with a shadow cast across it."""
    h, w = photo_size(rng)
    height = rng.uniform(0.2, 0.7) * min(h, w)
    if rng.random() < 0.5:
        i = pick_digit(rng, digits)
        label, ink = int(digits[1][i]), mnist_ink(digits[0][i], height, rng)
    else:
        label = int(rng.integers(10))
        ink = hershey_glyph(label, height, max(2, round(rng.uniform(0.04, 0.12) * height)), rng)
    ink = slant(ink, rng.uniform(-10, 10), 0.0)
    return photograph(place(ink, (h, w), rng, margin=0.05), rng, shadow), label


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


# ------------------------------------------------------------------------------------------ pen, faint, ruled, desk


def make_pen(rng: np.random.Generator, digits: Digits, band: int = 0) -> Item:
    """The pen sweep: a digit drawn with a pen of PEN_BANDS[band] of its height, on a sketchpad or in a photo."""
    return pen_drawing(rng, digits, PEN_BANDS[band], (0.35, 0.92))


def make_tight(rng: np.random.Generator, digits: Digits) -> Item:
    """A fine pen's digit filling most of the picture, on a sketchpad or in a photo cropped close to it."""
    return pen_drawing(rng, digits, (0.01, 0.04), (0.6, 0.95))


def pen_drawing(rng: np.random.Generator, digits: Digits, pen: tuple[float, float], tall: tuple[float, float]) -> Item:
    """A digit drawn with a pen of the given fractions of its height, and as tall as the given fractions of the
    picture's shorter side, on a sketchpad or in a photo, half each."""
    on_canvas = rng.random() < 0.5
    if on_canvas:
        h = int(rng.integers(400, 801))
        w = int(np.clip(h * rng.uniform(0.8, 1.25), 400, 800))
    else:
        h, w = photo_size(rng)
    height = rng.uniform(*tall) * min(h, w)
    label, ink = fat_digit(rng, digits, height, pen)
    ink = slant(ink, rng.uniform(-10, 10), rng.uniform(-0.2, 0.2))
    if on_canvas:
        return sketchpad(place(ink, (h, w), rng), transparent=rng.random() < 0.5), label
    return photograph(place(ink, (h, w), rng, margin=0.03), rng), label


def fat_digit(rng: np.random.Generator, digits: Digits, height: float, band: tuple[float, float]) -> tuple[int, np.ndarray]:
    """(label, ink) drawn with a pen in the band (fraction of height), redrawn until the pen closes none of its loops.

    A loop the pen fills in makes a digit no person could read either (a fat 8 becomes a blob), so the check
    compares the loops of the same drawing in a 3% pen: a judgement independent of the recognizer."""
    while True:
        pen = max(2, round(rng.uniform(*band) * height))
        thin_pen = max(2, round(0.03 * height))
        if rng.random() < 0.5:
            label, font_seed = int(rng.integers(10)), int(rng.integers(2**31))
            ink = hershey_glyph(label, height, pen, np.random.default_rng(font_seed))
            reference = hershey_glyph(label, height, thin_pen, np.random.default_rng(font_seed))
        else:
            i = pick_digit(rng, digits, max_stroke=MAX_SKETCH_STROKE)
            label = int(digits[1][i])
            ink, reference = mnist_strokes(digits[0][i], height, pen), mnist_strokes(digits[0][i], height, thin_pen)
        if holes(ink) == holes(reference):
            return label, ink


def any_digit(rng: np.random.Generator, digits: Digits, height: float, pen: tuple[float, float]) -> tuple[int, np.ndarray]:
    """(label, ink) of an MNIST test digit in a soft pen or a Hershey glyph with a pen in the range (fraction of height)."""
    if rng.random() < 0.5:
        i = pick_digit(rng, digits)
        return int(digits[1][i]), mnist_ink(digits[0][i], height, rng)
    label = int(rng.integers(10))
    return label, hershey_glyph(label, height, max(2, round(rng.uniform(*pen) * height)), rng)


def make_faint(rng: np.random.Generator, digits: Digits) -> Item:
    """Pencil 20-80 grey levels darker than tinted, unevenly lit paper, photographed with noise."""
    h, w = photo_size(rng)
    label, ink = any_digit(rng, digits, rng.uniform(0.25, 0.7) * min(h, w), (0.03, 0.10))
    ink = slant(ink, rng.uniform(-10, 10), 0.0)
    paper = paper_tint(rng)
    pencil = paper - rng.uniform(20, 80)
    scene = compose(paper, [(place(ink, (h, w), rng, margin=0.05), pencil)])
    return camera(scene * lighting((h, w), rng), rng, noise=(2, 6)), label


def make_ruled(rng: np.random.Generator, digits: Digits) -> Item:
    """A digit on lined or squared notebook paper (blue or grey lines) crossing its strokes, photographed."""
    h, w = photo_size(rng)
    page, label = ruled_page(rng, digits, (h, w), rng.uniform(0.25, 0.7), squared=0.5, margin=0.05)
    return camera(page * lighting((h, w), rng), rng), label


def make_askew(rng: np.random.Generator, digits: Digits) -> Item:
    """A lined page filling the photo, turned 0.5-5 degrees on a desk that shows in slivers along the frame."""
    h, w = photo_size(rng)
    page, label = ruled_page(rng, digits, (h, w), rng.uniform(0.2, 0.5), squared=0.0, margin=0.15)
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), rng.choice([-1, 1]) * rng.uniform(0.5, 5), rng.uniform(0.98, 1.05))
    cover = cv2.warpAffine(np.ones((h, w), np.float32), turn, (w, h), flags=cv2.INTER_LINEAR)
    surface = desk((h, w), rng)
    scene = surface + (cv2.warpAffine(page, turn, (w, h), flags=cv2.INTER_LINEAR) - surface) * cover[..., None]
    return camera(scene * lighting((h, w), rng), rng), label


def make_perspective(rng: np.random.Generator, digits: Digits) -> Item:
    """A lined or squared page filling the photo, taken at an angle: the frame shows a four-sided part of a larger
    page, each corner up to 6% of its side off square, so the rules converge."""
    h, w = photo_size(rng)
    big = (int(1.3 * h), int(1.3 * w))
    page, label = ruled_page(rng, digits, big, rng.uniform(0.2, 0.45), squared=0.5, margin=0.25)
    square = np.float32([[0.12, 0.12], [0.88, 0.12], [0.88, 0.88], [0.12, 0.88]])
    seen = (square + rng.uniform(-0.06, 0.06, (4, 2))).astype(np.float32) * np.float32([big[1], big[0]])
    frame = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    scene = cv2.warpPerspective(page, cv2.getPerspectiveTransform(seen, frame), (w, h), flags=cv2.INTER_LINEAR)
    return camera(scene * lighting((h, w), rng), rng), label


def make_box(rng: np.random.Generator, digits: Digits) -> Item:
    """A phone photo of a digit written in a printed box (a form's field), RGB uint8."""
    h, w = photo_size(rng)
    label, ink = any_digit(rng, digits, rng.uniform(0.2, 0.6) * min(h, w), (0.04, 0.12))
    ink = place(slant(ink, rng.uniform(-10, 10), 0.0), (h, w), rng, margin=0.05)
    ys, xs = np.nonzero(ink > 0.3)
    pad = int(rng.uniform(0.1, 0.4) * (ys.max() - ys.min()))
    box = np.zeros_like(ink)
    cv2.rectangle(box, (max(0, xs.min() - pad), max(0, ys.min() - pad)),
                  (min(w - 1, xs.max() + pad), min(h - 1, ys.max() + pad)), 1.0, int(rng.integers(1, 4)), cv2.LINE_AA)
    return photograph_form(ink, box, rng), label


def make_underline(rng: np.random.Generator, digits: Digits) -> Item:
    """A digit with a line drawn under it by the same pen: on a sketchpad (RGBA) or photographed (RGB), half each."""
    sketch = rng.random() < 0.5
    h, w = (int(rng.integers(400, 801)), int(rng.integers(400, 801))) if sketch else photo_size(rng)
    height = rng.uniform(0.2, 0.55) * min(h, w)
    label, ink = any_digit(rng, digits, height, (0.04, 0.12))
    layer = underline(crop(slant(ink, rng.uniform(-10, 10), 0.0)), rng)
    if sketch:
        return sketchpad(place(layer, (h, w), rng), transparent=rng.random() < 0.5), label
    return photograph(place(layer, (h, w), rng, margin=0.05), rng), label


def ruled_page(rng: np.random.Generator, digits: Digits, shape: tuple[int, int], tall: float, squared: float,
               margin: float) -> tuple[np.ndarray, int]:
    """float32 (H, W, 3) paper, squared with that chance, else lined (blue or grey lines), and its digit's label:
    the digit `tall` of the paper's shorter side, at least `margin` of it from the edges."""
    height = tall * min(shape)
    label, ink = any_digit(rng, digits, height, (0.04, 0.12))
    ink = slant(ink, rng.uniform(-10, 10), 0.0)
    squared = rng.random() < squared
    spacing = height / (rng.uniform(1.5, 4.0) if squared else rng.uniform(1.0, 2.5))
    blue = rng.random() < 0.5
    line = np.array([150, 180, 235] if blue else [160, 160, 160], np.float32) + rng.uniform(-20, 20, 3).astype(np.float32)
    paper = paper_tint(rng)
    layers = [(ruling(shape, spacing, squared, rng), line), (place(ink, shape, rng, margin=margin), pen_colour(rng))]
    return compose(paper, layers), label


def make_desk(rng: np.random.Generator, digits: Digits) -> Item:
    """A sticky note or a page covering 25-70% of a photo, turned a little, on a darker or lighter desk."""
    h, w = photo_size(rng)
    cover = rng.uniform(0.25, 0.70)
    aspect = 1.0 if rng.random() < 0.5 else 1.414  # a square note or an A-series page
    sheet_h = int(np.sqrt(cover * h * w * aspect))
    sheet_w = max(20, int(sheet_h / aspect))
    label, ink = any_digit(rng, digits, rng.uniform(0.4, 0.75) * min(sheet_h, sheet_w), (0.04, 0.12))
    ink = slant(ink, rng.uniform(-10, 10), 0.0)
    tint = np.array(NOTE_TINTS[rng.integers(len(NOTE_TINTS))], np.float32)
    sheet = compose(tint, [(place(ink, (sheet_h, sheet_w), rng, margin=0.1), pen_colour(rng))])
    scene = sheet_on_desk(sheet, (h, w), cover, rng)
    return camera(scene * lighting((h, w), rng), rng), label


MAKERS: dict[str, Callable[[np.random.Generator, Digits], Item]] = {
    "sketch": make_sketch,
    "photo": make_photo,
    "scan": make_scan,
    "empty": make_empty,
    "pen": make_pen,
    "faint": make_faint,
    "ruled": make_ruled,
    "desk": make_desk,
    "tight": make_tight,
    "askew": make_askew,
    "shadow": lambda rng, digits: make_photo(rng, digits, shadow=True),
    "box": make_box,
    "underline": make_underline,
    "perspective": make_perspective,
}


def make_set(kind: str, n: int = 200, seed: int = 0, data_path: str | Path = DEFAULT_DATA) -> list[Item]:
    """n (picture, expected label) pairs of one kind; picture i depends only on (seed, kind, i), not on n."""
    if kind not in MAKERS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    digits = mnist_test(Path(data_path))
    make = MAKERS[kind]
    if kind == "pen":
        return [make_pen(np.random.default_rng([seed, KINDS.index(kind), i]), digits, i % len(PEN_BANDS)) for i in range(n)]
    return [make(np.random.default_rng([seed, KINDS.index(kind), i]), digits) for i in range(n)]


# ------------------------------------------------------------------------------------------------ score


def original_input(picture: np.ndarray) -> np.ndarray:
    """The original approach's (28, 28) input: PIL grey (which drops alpha), PIL's default resize, / 255."""
    return np.asarray(Image.fromarray(picture).convert("L").resize((28, 28)), np.float32) / 255


def score(recognizer: Any, items: list[Item]) -> dict:
    """Accuracy of recognizer.predict (one digit, /predict), of recognizer.read (the number the page shows) and
    of the original approach on (picture, expected label) pairs."""
    expected = [label for _, label in items]
    predictions = [recognizer.predict(picture) for picture, _ in items]
    labels = [p.label for p in predictions]
    numbers = [recognizer.read(picture).number for picture, _ in items]
    read_right = [got == (None if want is None else str(want)) for got, want in zip(numbers, expected)]
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
        "read_correct": sum(read_right),
        "read": sum(read_right) / max(len(items), 1),
        "none_on_digits": sum(got is None and want is not None for got, want in zip(labels, expected)),
        "expected": expected,
        "labels": labels,
        "numbers": numbers,
        "original_labels": original,
        "wrong": [i for i, ok in enumerate(right) if not ok],
        "model_inputs": [p.model_input for p in predictions],
    }


def format_table(results: dict[str, dict]) -> str:
    """The accuracy table, one row per kind and a total; digitcore is predict (one digit), page is read (the
    number the page shows: a stray piece of ink read as a second digit or "not a digit" counts as wrong);
    'None' counts predict's no-digit answers on digits."""
    lines = [f"{'kind':<9} {'n':<5} {'digitcore':<11} {'page':<8} {'original':<10} None on digits"]
    for kind, r in results.items():
        none = "-" if kind == "empty" else str(r["none_on_digits"])
        lines.append(f"{kind:<9} {r['n']:<5} {r['digitcore']:<11.3f} {r['read']:<8.3f} {r['original']:<10.3f} {none}")
        if kind == "pen":
            lines += pen_band_rows(r)
    n = sum(r["n"] for r in results.values())
    digitcore = sum(r["digitcore_correct"] for r in results.values()) / max(n, 1)
    page = sum(r["read_correct"] for r in results.values()) / max(n, 1)
    original = sum(r["original_correct"] for r in results.values()) / max(n, 1)
    none = sum(r["none_on_digits"] for r in results.values())
    lines.append(f"{'all':<9} {n:<5} {digitcore:<11.3f} {page:<8.3f} {original:<10.3f} {none}")
    return "\n".join(lines)


def pen_band_rows(result: dict) -> list[str]:
    """One table row per pen-width band of the pen kind (picture i is in band i % 6)."""
    rows = []
    for band, (low, high) in enumerate(PEN_BANDS):
        idx = range(band, result["n"], len(PEN_BANDS))
        right = sum(result["labels"][i] == result["expected"][i] for i in idx)
        page = sum(result["numbers"][i] == str(result["expected"][i]) for i in idx)
        original = sum(result["original_labels"][i] == result["expected"][i] for i in idx)
        none = sum(result["labels"][i] is None for i in idx)
        name = f" {low:.0%}-{high:.0%}"
        count = max(len(idx), 1)
        rows.append(f"{name:<9} {len(idx):<5} {right / count:<11.3f} {page / count:<8.3f} {original / count:<10.3f} {none}")
    return rows


# ---------------------------------------------------------------------------------------------- output


def save_set(folder: Path, kind: str, items: list[Item]) -> None:
    """Write each picture as e.g. photo_0007_label3.jpg or empty_0003_labelNone.png, to score through the CLI later."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (picture, label) in enumerate(items):
        # Photos are JPEGs already; re-saving at quality 95 changes them by a grey level or two. All else is lossless.
        suffix = "jpg" if kind in ("photo", "faint", "ruled", "desk", "perspective") else "png"
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


def add_set_options(parser: argparse.ArgumentParser, n: int, kinds: tuple[str, ...] | None = None) -> None:
    """The options every picture-set benchmark has: set size and seed, kinds, MNIST path, model, where errors go."""
    parser.add_argument("--n", type=int, default=n, help="pictures per kind (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="the set is a function of the seed (default: %(default)s)")
    if kinds:
        parser.add_argument("--kinds", default=",".join(kinds), help="comma-separated kinds to run (default: all: %(default)s)")
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                            help="mnist.npz; only its test split is used (default: %(default)s)")
    parser.add_argument("--model", type=Path, help="a .onnx or .keras model, served alone (default: Recognizer.load()'s: models/digits.onnx, digits-fast.onnx first)")
    parser.add_argument("--fast", type=Path, help="with --model: a fast .onnx or .keras model that answers its sure cases first")
    parser.add_argument("--strings", type=Path, help="a string network that reads touching digits whole (default: models/strings.onnx "
                        "without --model; 'none': read without one)")
    parser.add_argument("--show-errors", type=Path, metavar="DIR", help="write the misread pictures beside what the model saw")


def check_set_options(parser: argparse.ArgumentParser, args: argparse.Namespace, kinds: tuple[str, ...] | None = None) -> None:
    """Refuse a set size below 1 and unknown kinds; turns args.kinds into a list."""
    if args.n < 1:
        parser.error("--n must be at least 1")
    if kinds:
        args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
        unknown = [k for k in args.kinds if k not in kinds]
        if unknown or not args.kinds:
            parser.error(f"unknown kind(s) {unknown}; choose from {', '.join(kinds)}")


def load_recognizer(model: Path | None, data: Path | None = None, fast: Path | None = None, strings: Path | None = None) -> Any:
    """The Recognizer to measure, or None after printing why not (a wrong MNIST path is reported before the model loads)."""
    from digitcore import ModelError, Recognizer
    from digitcore.data import DataError

    try:
        if data is not None:
            mnist_test(data)
        return Recognizer.load(model, fast=fast, strings=strings)
    except (ModelError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wild", description=__doc__.split("\n")[0])
    add_set_options(parser, 200, KINDS)
    parser.add_argument("--save", type=Path, metavar="DIR", help="also write every picture there, label in the name")
    args = parser.parse_args(argv)
    check_set_options(parser, args, KINDS)
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate every kind, score it both ways, print the table; returns the exit code."""
    args = parse_args(argv)
    started = time.perf_counter()
    recognizer = load_recognizer(args.model, args.data, args.fast, args.strings)
    if recognizer is None:
        return 2
    generating = scoring = 0.0
    results = {}
    for kind in args.kinds:
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

"""Make the app's example pictures (committed; re-run only to change them): python examples/make_examples.py [mnist.npz]

Each imitates something a user gives the app: a phone photo of a digit on paper, a drawing like the
sketchpad's, a pen-written digit, a photo of blank paper; and, drawn by benchmarks/render.py, a marker-fat
digit, faint pencil, a digit on ruled paper and a sticky note on a dark desk. They are made from MNIST
*test* digits and OpenCV's Hershey fonts, so no training image is in them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
MNIST = HERE.parent.parent / "shared" / "data" / "mnist.npz"
THREE = 18  # index in MNIST's test split of the 3 used for the photo (the first 3 in the split)
INK_DIGITS = {"marker_fat_photo.jpg": 1, "faint_pencil.jpg": 0, "ruled_digit.jpg": 4, "sticky_note_desk.jpg": 7}
NOTE_SEED = 3  # where the note lies and how it is turned
FORM_DIGITS = (2, 7, 0, 15)  # indices in MNIST's test split of the digits written in the form's boxes: 1, 9, 7, 5
SHADOW_SEED = 1  # where the shadow over the form falls
# indices in MNIST's test split: test digits 1, 0, 4 and 7 are a 2, a 7, a 4 and a 9


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


def number_photo(text: str, rng: np.random.Generator) -> np.ndarray:
    """A number in OpenCV's simplex font, dark pen on a photo of paper, slightly turned: (420, 900, 3) uint8 BGR."""
    page = np.full((420, 900, 3), (214, 234, 244), np.uint8)  # cream paper (BGR)
    cv2.putText(page, text, (110, 300), cv2.FONT_HERSHEY_SIMPLEX, 7, (60, 30, 25), 16, cv2.LINE_AA)
    turn = cv2.getRotationMatrix2D((450, 210), 3, 1.0)
    page = cv2.warpAffine(page, turn, (900, 420), borderMode=cv2.BORDER_REPLICATE)
    shade = np.linspace(0.8, 1.0, 900, dtype=np.float32)[None, :, None]  # light from the right
    noisy = page * shade + rng.normal(0, 4, page.shape)
    return cv2.GaussianBlur(np.clip(noisy, 0, 255).astype(np.uint8), (3, 3), 0)


def ink_examples(x_test: np.ndarray) -> dict[str, np.ndarray]:
    """The harder pictures of issue 10, RGB uint8, drawn with the benchmark's own renderers."""
    sys.path.insert(0, str(HERE.parent))  # run as a script from anywhere: benchmarks/ sits beside examples/
    from benchmarks import render

    rng = np.random.default_rng(10)
    light = lambda shape: render.lighting(shape, rng)  # noqa: E731
    pictures = {}
    # A marker whose stroke is a quarter of the digit's height, photographed.
    ink = render.mnist_strokes(x_test[INK_DIGITS["marker_fat_photo.jpg"]], 300, 75)
    layer = render.place(ink, (480, 420), rng, margin=0.1)
    pictures["marker_fat_photo.jpg"] = render.camera(render.compose(np.float32([246, 237, 214]), [(layer, (20, 20, 25))]) * light((480, 420)), rng)
    # Pencil 35 grey levels darker than cream paper, unevenly lit.
    ink = render.mnist_strokes(x_test[INK_DIGITS["faint_pencil.jpg"]], 260, 10)
    layer = render.place(ink, (480, 480), rng, margin=0.15)
    paper = np.float32([240, 232, 212])
    pictures["faint_pencil.jpg"] = render.camera(render.compose(paper, [(layer, paper - 35)]) * light((480, 480)), rng, noise=(3, 4))
    # Blue pen on lined paper whose rules cross the strokes.
    ink = render.mnist_strokes(x_test[INK_DIGITS["ruled_digit.jpg"]], 240, 14)
    rules = render.ruling((480, 600), 70, False, rng)
    layers = [(rules, (150, 180, 235)), (render.place(ink, (480, 600), rng, margin=0.15), (30, 50, 160))]
    pictures["ruled_digit.jpg"] = render.camera(render.compose(np.float32([247, 246, 242]), layers) * light((480, 600)), rng)
    # A yellow sticky note covering a third of the photo, on a dark desk.
    ink = render.mnist_strokes(x_test[INK_DIGITS["sticky_note_desk.jpg"]], 200, 16)
    note = render.compose(np.float32([252, 236, 130]), [(render.place(ink, (300, 300), rng, margin=0.15), (20, 20, 25))])
    scene = render.sheet_on_desk(note, (540, 720), 0.33, np.random.default_rng(NOTE_SEED))  # the note wholly in view
    pictures["sticky_note_desk.jpg"] = render.camera(scene * light((540, 720)), rng)
    # A number in a form's row of printed boxes, the phone's shadow over its right half.
    boxes, digits = np.zeros((420, 760), np.float32), np.zeros((420, 760), np.float32)
    for k, i in enumerate(FORM_DIGITS):
        cv2.rectangle(boxes, (110 + 135 * k, 140), (110 + 135 * (k + 1), 275), 1.0, 2, cv2.LINE_AA)
        ink = render.crop(render.mnist_strokes(x_test[i], 96, 9))
        top, left = 207 - ink.shape[0] // 2, 177 + 135 * k - ink.shape[1] // 2
        digits[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    layers = [(boxes, (90, 90, 95)), (digits, (30, 50, 160))]
    shadow = render.cast_shadow((420, 760), np.random.default_rng(SHADOW_SEED))
    pictures["form_in_shadow.jpg"] = render.camera(render.compose(np.float32([246, 240, 226]), layers) * light((420, 760)) * shadow, rng)
    return pictures


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
    cv2.imwrite(str(HERE / "number_photo.jpg"), number_photo("2026", np.random.default_rng(11)), [cv2.IMWRITE_JPEG_QUALITY, 85])
    with np.load(mnist) as data:
        x_test = data["x_test"]
    for name, rgb in ink_examples(x_test).items():
        cv2.imwrite(str(HERE / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else MNIST)

"""The "numbers" benchmark: how digitcore reads a line of handwritten digits.

Seven kinds of picture are generated in memory with a fixed seed, from MNIST's *test* split, OpenCV's
Hershey fonts and scikit-learn's 8x8 digits (one source per number, like one writer), each drawn as a
sketchpad value (transparent or white RGBA) or photographed on paper:
  gaps        2-6 digits with gaps between them
  touching    2-4 digits whose neighbours touch or overlap
  two-stroke  1-3 digits with gaps, one of them written in two strokes (a stroke cut, the pen lifted)
  single      one digit
  blank       no ink: blank canvases and paper (the answer is "no number")
  form        2-6 digits in a form's row of printed boxes, one to a box, photographed
  underlined  2-6 digits with gaps and a line drawn under the number by the same pen, apart from it or touching it
Whole strings are scored through Recognizer.read and, side by side, through Recognizer.predict (one digit
per picture, today's page).

    python -m benchmarks.numbers [--n 200] [--seed 0] [--kinds gaps,touching] [--show-errors DIR]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from PIL import Image

# The renderers are shared with the wild-pictures benchmark; imported here only, so moving them is one edit.
from benchmarks.render import (
    MAX_SKETCH_STROKE, Digits, crop, hershey_glyph, mnist_ink, mnist_strokes, photo_size, photograph, photograph_form,
    pick_digit, place, sketchpad, slant, underline,
)
from benchmarks.wild import (
    DEFAULT_DATA, add_set_options, check_set_options, load_recognizer, make_empty, mnist_test, sklearn_digits,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

KINDS = ("gaps", "touching", "two-stroke", "single", "blank", "form", "underlined")
TWO_STROKE_FAVOURITES = (4, 5, 7)  # the digits people most often write in two strokes: half the cut digits
SOURCES = ("mnist", "hershey", "sklearn")  # where a number's digits come from: one writer per number
Item = tuple[np.ndarray, "str | None", str]  # (picture, expected number or None for no number, source)


# ----------------------------------------------------------------------------------------------- glyphs


def glyph(rng: np.random.Generator, source: str, label: int, height: float, brush: int, sketch: bool,
          digits: Digits) -> np.ndarray:
    """float32 ink (0-1) of one digit with the given label, about height px tall, from the given source."""
    if source == "hershey":
        return hershey_glyph(label, height, brush, rng)
    if source == "mnist":
        pool = np.flatnonzero(digits[1] == label)
        image = digits[0][pool[pick_digit(rng, (digits[0][pool], digits[1][pool]), MAX_SKETCH_STROKE if sketch else np.inf)]]
    else:
        images, labels = sklearn_digits()
        pool = np.flatnonzero(labels == label)
        image = images[pool[rng.integers(len(pool))]]
    return mnist_strokes(image, height, brush) if sketch else mnist_ink(image, height, rng)


def two_strokes(ink: np.ndarray, rng: np.random.Generator, gap: float) -> np.ndarray | None:
    """The ink with one stroke cut by a straight gap (the pen lifted), leaving two pieces of at least a tenth
    of the ink each; None when no random cut of 30 does that."""
    h, w = ink.shape
    ys, xs = np.nonzero(ink > 0.5)
    for _ in range(30):
        k = rng.integers(len(ys))
        angle = rng.uniform(0, np.pi)
        d = np.array([np.cos(angle), np.sin(angle)]) * 2 * max(h, w)
        p = np.array([xs[k], ys[k]], np.float64)
        cut = ink.copy()
        cv2.line(cut, tuple(np.round(p - d).astype(int)), tuple(np.round(p + d).astype(int)), 0.0,
                 max(2, round(gap)), cv2.LINE_8)
        count, _, stats, _ = cv2.connectedComponentsWithStats((cut > 0.05).astype(np.uint8), connectivity=8)
        areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
        if count == 3 and areas[1] >= 0.1 * areas.sum():
            return cut
    return None


def compose(glyphs: list[np.ndarray], gaps: list[float], rng: np.random.Generator) -> np.ndarray:
    """One line of writing: the glyphs left to right, gaps[i] px between glyph i and i + 1 (negative: overlap),
    each a little up or down."""
    height = max(g.shape[0] for g in glyphs)
    jitter = [int(rng.uniform(-0.06, 0.06) * height) for _ in glyphs]
    lefts = [0]
    for g, gap in zip(glyphs[:-1], gaps):
        lefts.append(max(0, int(round(lefts[-1] + g.shape[1] + gap))))
    top_pad = max(0, -min(jitter)) + height
    canvas = np.zeros((3 * height + 2 * max(abs(j) for j in jitter) + 2,
                       max(x + g.shape[1] for x, g in zip(lefts, glyphs)) + 2), np.float32)
    for g, x, j in zip(glyphs, lefts, jitter):
        y = top_pad + j + (height - g.shape[0]) // 2
        region = canvas[y : y + g.shape[0], x : x + g.shape[1]]
        np.maximum(region, g, out=region)
    return crop(canvas)


# ------------------------------------------------------------------------------------------------ items


def make_number(rng: np.random.Generator, digits: Digits, count: int, gap: tuple[float, float],
                cut: bool = False, underlined: bool = False) -> Item:
    """A picture of a number of `count` digits, gaps drawn from `gap` (of the digit height), one digit in two
    strokes when cut, a line drawn under it when underlined; a sketchpad value (transparent or white) or a photo,
    a third each."""
    medium = ("transparent", "white", "photo")[rng.integers(3)]
    source = SOURCES[rng.integers(3)]
    labels = [int(d) for d in rng.integers(10, size=count)]
    if cut:
        where = int(rng.integers(count))
        if rng.random() < 0.5:
            labels[where] = int(rng.choice(TWO_STROKE_FAVOURITES))
    if medium == "photo":
        h, w = photo_size(rng)
        h, w = min(h, w), max(h, w)  # a number is written across the page
    else:
        h, w = int(rng.integers(400, 801)), int(rng.integers(600, 1001))
    height = min(rng.uniform(0.25, 0.6) * h, 0.85 * w / (0.75 * count + 0.3 * (count - 1)))
    brush = int(np.clip(rng.uniform(0.06, 0.14) * height, 3, 40))
    glyphs = []
    for k, label in enumerate(labels):
        size = height * rng.uniform(0.9, 1.1)
        ink = glyph(rng, source, label, size, brush, medium != "photo", digits)
        if cut and k == where:
            split = two_strokes(ink, rng, rng.uniform(0.03, 0.08) * size)
            ink = split if split is not None else ink
        glyphs.append(ink)
    line = compose(glyphs, [rng.uniform(*gap) * height for _ in labels[1:]], rng)
    if underlined:
        line = underline(line, rng)
    line = slant(line, rng.uniform(-5, 5), rng.uniform(-0.2, 0.2))
    layer = place(line, (h, w), rng, margin=0.04)
    picture = photograph(layer, rng) if medium == "photo" else sketchpad(layer, transparent=medium == "transparent")
    return picture, "".join(map(str, labels)), source


def make_form(rng: np.random.Generator, digits: Digits) -> Item:
    """A photo of a number of 2-6 digits written in a form's row of printed boxes, one digit to a box, the boxes
    sharing their sides or apart, the digits 55-85% of a box's height (a big one touches its box)."""
    count = int(rng.integers(2, 7))
    source = SOURCES[rng.integers(3)]
    labels = [int(d) for d in rng.integers(10, size=count)]
    h, w = photo_size(rng)
    h, w = min(h, w), max(h, w)
    apart = 0.0 if rng.random() < 0.5 else rng.uniform(0.05, 0.2)  # of a box's side between boxes
    side = int(min(0.45 * h, 0.9 * w / (count + apart * (count - 1))))
    left, top = int(rng.integers(0, w - side * (count + apart * (count - 1)) + 1)), int(rng.integers(0, h - side + 1))
    ink, boxes = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
    thickness = int(rng.integers(1, 4))
    for k, label in enumerate(labels):
        x = left + int(k * side * (1 + apart))
        cv2.rectangle(boxes, (x, top), (x + side - 1, top + side - 1), 1.0, thickness, cv2.LINE_AA)
        size = rng.uniform(0.55, 0.85) * side
        g = crop(glyph(rng, source, label, size, max(2, round(rng.uniform(0.06, 0.12) * size)), False, digits))
        fit = min(1.0, (side - 4) / max(g.shape))  # a glyph wider than its box keeps to it
        if fit < 1.0:
            g = cv2.resize(g, (max(1, int(g.shape[1] * fit)), max(1, int(g.shape[0] * fit))), interpolation=cv2.INTER_AREA)
        y0 = top + (side - g.shape[0]) // 2 + int(rng.uniform(-0.05, 0.05) * side)
        x0 = x + (side - g.shape[1]) // 2 + int(rng.uniform(-0.05, 0.05) * side)
        y0, x0 = int(np.clip(y0, top + 1, top + side - 1 - g.shape[0])), int(np.clip(x0, x + 1, x + side - 1 - g.shape[1]))
        np.maximum(ink[y0 : y0 + g.shape[0], x0 : x0 + g.shape[1]], g, out=ink[y0 : y0 + g.shape[0], x0 : x0 + g.shape[1]])
    return photograph_form(ink, boxes, rng), "".join(map(str, labels)), source


MAKERS: dict[str, Callable[[np.random.Generator, Digits], Item]] = {
    "gaps": lambda rng, d: make_number(rng, d, int(rng.integers(2, 7)), (0.12, 0.5)),
    "touching": lambda rng, d: make_number(rng, d, int(rng.integers(2, 5)), (-0.15, -0.02)),
    "two-stroke": lambda rng, d: make_number(rng, d, int(rng.integers(1, 4)), (0.12, 0.5), cut=True),
    "single": lambda rng, d: make_number(rng, d, 1, (0, 0)),
    "blank": lambda rng, d: (make_empty(rng, d)[0], None, "blank"),
    "form": make_form,
    "underlined": lambda rng, d: make_number(rng, d, int(rng.integers(2, 7)), (0.12, 0.5), underlined=True),
}


def make_set(kind: str, n: int = 200, seed: int = 0, data_path: str | Path = DEFAULT_DATA) -> list[Item]:
    """n (picture, expected number) pairs of one kind; picture i depends only on (seed, kind, i), not on n."""
    if kind not in MAKERS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    digits = mnist_test(Path(data_path))
    return [MAKERS[kind](np.random.default_rng([seed, 100 + KINDS.index(kind), i]), digits) for i in range(n)]


# ------------------------------------------------------------------------------------------------ score


def score(recognizer: Any, items: list[Item]) -> dict:
    """Whole-string accuracy of Recognizer.read (also per source) and of Recognizer.predict (one digit), and
    read's time."""
    expected = [want for _, want, _ in items]
    readings, seconds = [], []
    for picture, *_ in items:
        t = time.perf_counter()
        readings.append(recognizer.read(picture))
        seconds.append(time.perf_counter() - t)
    singles = [recognizer.predict(picture).label for picture, *_ in items]
    got = [r.number for r in readings]
    right = [g == want for g, want in zip(got, expected)]
    # Segmentation apart from recognition: as many pieces as digits, and then each digit read right.
    counted = [len(r.digits) == len(want or "") for r, want in zip(readings, expected)]
    pairs = [(d.label, int(c)) for r, want, ok in zip(readings, expected, counted) if ok and want
             for d, c in zip(r.digits, want)]
    single_right = [(None if s is None else str(s)) == want for s, want in zip(singles, expected)]
    return {
        "n": len(items),
        "read": sum(right) / max(len(items), 1),
        "by_source": {source: float(np.mean([ok for ok, (*_, s) in zip(right, items) if s == source]))
                      for source in SOURCES if any(s == source for *_, s in items)},
        "predict": sum(single_right) / max(len(items), 1),
        "count": sum(counted) / max(len(items), 1),
        "digits": sum(a == b for a, b in pairs) / max(len(pairs), 1),
        "ms": 1e3 * float(np.median(seconds)) if seconds else 0.0,
        "wrong": [(i, expected[i], got[i], readings[i]) for i, ok in enumerate(right) if not ok],
    }


def format_table(results: dict[str, dict]) -> str:
    """One row per kind: whole strings right through read and through predict, segmentation's count, digits
    read right, and read's median time."""
    lines = [f"{'kind':<11} {'n':<5} {'read':<8} {'predict':<9} {'count':<7} {'digits':<8} {'read p50':<10} "
             f"read by source: {' / '.join(SOURCES)}"]
    for kind, r in results.items():
        digits = "-" if kind == "blank" else f"{r['digits']:.3f}"
        by_source = " / ".join(f"{r['by_source'][s]:.3f}" if s in r["by_source"] else "-" for s in SOURCES)
        lines.append(f"{kind:<11} {r['n']:<5} {r['read']:<8.3f} {r['predict']:<9.3f} {r['count']:<7.3f} "
                     f"{digits:<8} {r['ms']:<5.1f} ms   {'' if kind == 'blank' else by_source}")
    lines.append("read: whole strings right through Recognizer.read; predict: through Recognizer.predict (one digit);\n"
                 "count: as many pieces as digits; digits: each digit read right, where the count is right;\n"
                 "by source: read, for the numbers written from MNIST test digits, Hershey fonts, scikit-learn's 8x8 digits")
    return "\n".join(lines)


def save_errors(folder: Path, kind: str, items: list[Item], result: dict) -> None:
    """Each misread picture as a PNG with the boxes read drawn on it, expected and read number in the name."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, want, got, reading in result["wrong"]:
        picture = items[i][0]
        if picture.ndim == 3 and picture.shape[2] == 4:  # transparency shown as white
            alpha = picture[..., 3:].astype(np.float32) / 255
            picture = (picture[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
        picture = np.ascontiguousarray(picture if picture.ndim == 3 else np.stack([picture] * 3, -1))
        for d in reading.digits:
            x, y, w, h = d.box
            cv2.rectangle(picture, (x, y), (x + w, y + h), (220, 0, 0), 2)
            cv2.putText(picture, str(d.label), (x, max(y - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (220, 0, 0), 2)
        Image.fromarray(picture).save(folder / f"{kind}_{i:04d}_want{want}_got{got}.png")


# ------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.numbers", description=__doc__.split("\n")[0])
    add_set_options(parser, 200, KINDS)
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
    results = {}
    for kind in args.kinds:
        items = make_set(kind, args.n, args.seed, args.data)
        results[kind] = score(recognizer, items)
        if args.show_errors:
            save_errors(args.show_errors, kind, items, results[kind])
    print(format_table(results))
    print(f"\nwall time {time.perf_counter() - started:.1f} s including model load and generation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

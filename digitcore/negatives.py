"""Pictures that are not digits, made reproducibly from a seed: letters, symbols, doodles, pairs and pieces of digits.

The model learns an 11th class, "not a digit", from these. Each maker returns ink: an (H, W) uint8 picture,
white on black, cropped to the shape. Training puts the ink on the same 96 px canvas as the augmented digits
(`on_canvas`) and sends it through the same distortions and preprocessing.

Ambiguous shapes are NOT negatives: they stay the digit they look like (see AMBIGUOUS).

Training and held-out parts (the benchmark and the test fixtures use only the held-out ones):
  fonts    train: DejaVu Sans (4 styles), Hershey SIMPLEX, DUPLEX, COMPLEX, COMPLEX_SMALL, SCRIPT_SIMPLEX,
                  COMPLEX italic
           held out: DejaVu Serif and DejaVu Sans Mono (4 styles each), Hershey PLAIN, TRIPLEX, SCRIPT_COMPLEX
  doodles  train: circle (a circle with features: face, cross, bar, rings, dot, sun), star, spiral, wave, grid,
                  scribble, strokes, shape (triangle, square, envelope), flower, polygon
           held out: house, heart, arrow, cloud
  digits   pairs of two MNIST train digits; pieces: a digit with part of its neighbour, as a bad cut leaves it
Pure numpy/OpenCV/Pillow.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS = 96  # the augmentation canvas of digitcore.train
BOX = 48  # the longer side of a negative on that canvas (an augmented MNIST digit's ink is ~40 px tall)
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # matplotlib ships the DejaVu fonts

# Shapes that read as a digit: never used as negatives. Letters and symbols with their digit:
AMBIGUOUS = {
    "0": "OoQDØø()",  # a circle is a 0 (a slashed zero too); a bracket is half of one, or a curved 1
    "1": "IlijJT|!/\\[]",  # a vertical stroke, with or without flag and foot; T and J are often written 1 or 7
    "2": "Zz",
    "5": "Ss",
    "6": "bG",
    "8": "B",
    "9": "gq",
    "-": ".,'`_-",  # specks and bare dashes: nothing to tell apart once scaled to the 20 px box
}
# A plain circle (0), a plain vertical stroke (1), a slashed circle (0) are never drawn by the doodles either.
LETTERS = "".join(c for c in "ABCEFHKLMNPRUVWXYacdefhkmnprtuvwxy" if c not in "".join(AMBIGUOUS.values()))
SYMBOLS_ASCII = "+=#?@&%$*<>^~:;"
SYMBOLS_EXTRA = "÷×±≠≈√∞πΣΩλμψ★☺✓✗♪☀♣♠☂©®"  # DejaVu Sans has them all; no hearts, arrows, houses, clouds

TRAIN_TTF = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf")
HELD_OUT_TTF = ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
                "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
                "DejaVuSansMono-BoldOblique.ttf")
TRAIN_HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
                 cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
                 cv2.FONT_HERSHEY_COMPLEX | cv2.FONT_ITALIC)
HELD_OUT_HERSHEY = (cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
HELD_OUT_SYMBOLS = SYMBOLS_ASCII + "÷×±≠√∞πΣΩλ"  # the ones DejaVu Serif and Mono have too

Lines = list[np.ndarray]  # polylines, each (k, 2) float (x, y) in the unit square [-1, 1]^2, y down


# ------------------------------------------------------------------------------------------- glyphs


@functools.lru_cache(maxsize=64)
def _ttf(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def crop(ink: np.ndarray) -> np.ndarray:
    """The ink cut to the box of its nonzero pixels (unchanged if it has none)."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return ink
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def ttf_glyph(char: str, font: str, height: float) -> np.ndarray:
    """(H, W) uint8 ink of one character in a TrueType font from FONT_DIR, its font size height px."""
    face = _ttf(font, max(8, int(round(height))))
    left, top, right, bottom = face.getbbox(char)
    image = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(image).text((2 - left, 2 - top), char, fill=255, font=face)
    return crop(np.asarray(image))


def hershey_glyph(char: str, font: int, height: float, thickness: int) -> np.ndarray:
    """(H, W) uint8 ink of one ASCII character in an OpenCV Hershey font, capitals about height px tall."""
    (_, cap), _ = cv2.getTextSize("H", font, 1.0, 1)
    scale = max(height - thickness, 4.0) / cap
    (width, tall), base = cv2.getTextSize(char, font, scale, thickness)
    pad = 2 * thickness + 8
    canvas = np.zeros((tall + base + 2 * pad, width + 2 * pad), np.uint8)
    cv2.putText(canvas, char, (pad, pad + tall), font, scale, 255, thickness, cv2.LINE_AA)
    return crop(canvas)


def glyph(chars: str, rng: np.random.Generator, height: float, held_out: bool) -> np.ndarray:
    """Ink of a random character from chars in a random training (or held-out) font."""
    ttf, hershey = (HELD_OUT_TTF, HELD_OUT_HERSHEY) if held_out else (TRAIN_TTF, TRAIN_HERSHEY)
    char = chars[rng.integers(len(chars))]
    if not char.isascii() or rng.random() < 0.6:
        return ttf_glyph(char, ttf[rng.integers(len(ttf))], height)
    thickness = max(1, round(rng.uniform(0.05, 0.13) * height))
    return hershey_glyph(char, hershey[rng.integers(len(hershey))], height, thickness)


# ------------------------------------------------------------------------------------------ doodles


def draw(lines: Lines, height: float, thickness: int) -> np.ndarray:
    """(H, W) uint8 ink of polylines in unit coordinates drawn about height px tall with a round pen."""
    points = np.concatenate(lines)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = max(height - thickness, 4.0) / max(float((high - low).max()), 1e-6)
    pad = thickness + 2
    size = np.ceil((high - low) * scale).astype(int) + 2 * pad + 1
    canvas = np.zeros((size[1], size[0]), np.uint8)
    fixed = [np.round(((line - low) * scale + pad) * 16).astype(np.int32) for line in lines]  # shift=4: sub-pixel
    cv2.polylines(canvas, fixed, False, 255, max(1, thickness), cv2.LINE_AA, shift=4)
    return crop(canvas)


def ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, end: float = 2 * np.pi, n: int = 64) -> np.ndarray:
    """(n, 2) points along an elliptic arc from start to end (radians)."""
    t = np.linspace(start, end, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def circle_with_features(rng: np.random.Generator) -> Lines:
    """A circle that is not a 0: a face, a cross or bar inside, rings, a dot in the middle, or a sun's rays."""
    ry = rng.uniform(0.85, 1.0)
    lines = [ellipse(0, 0, 1.0, ry)]
    which = rng.integers(6)
    if which == 0:  # a face: the eyes are big enough to survive preprocessing's speck removal
        eye, y = rng.uniform(0.12, 0.2), rng.uniform(-0.45, -0.2)
        for x in (-0.38, 0.38):
            lines += [ellipse(x + rng.uniform(-0.05, 0.05), y, eye, eye * rng.uniform(0.8, 1.5), n=20)]
        mood = rng.integers(3)
        if mood == 0:
            lines.append(ellipse(0, 0.05, 0.55, 0.45, 0.2 * np.pi, 0.8 * np.pi, 24))  # smile
        elif mood == 1:
            lines.append(ellipse(0, 0.75, 0.5, 0.35, 1.2 * np.pi, 1.8 * np.pi, 24))  # frown
        else:
            lines.append(np.array([[-0.45, 0.45], [0.45, 0.45]]))
    elif which == 1:
        lines += [np.array([[-1.0, 0], [1.0, 0]]), np.array([[0, -ry], [0, ry]])]
    elif which == 2:
        lines.append(np.array([[-1.0, 0], [1.0, 0]]) + [0, rng.uniform(-0.2, 0.2)])
    elif which == 3:
        r = rng.uniform(0.35, 0.6)
        lines.append(ellipse(0, 0, r, r * ry))
    elif which == 4:
        r = rng.uniform(0.15, 0.25)
        lines.append(ellipse(0, 0, r, r, n=20))
    else:
        k = int(rng.integers(6, 13))
        for a in np.linspace(0, 2 * np.pi, k, endpoint=False) + rng.uniform(0, np.pi):
            lines.append(np.array([[np.cos(a), ry * np.sin(a)], [1.6 * np.cos(a), 1.6 * ry * np.sin(a)]]))
    return lines


def star(rng: np.random.Generator) -> Lines:
    """A star outline with 5-8 points, or a pentagram drawn in one stroke."""
    turn = rng.uniform(0, 2 * np.pi)
    if rng.random() < 0.3:
        a = turn + np.arange(6) * 4 * np.pi / 5
        return [np.stack([np.cos(a), np.sin(a)], axis=1)]
    k = int(rng.integers(5, 9))
    a = turn + np.arange(2 * k + 1) * np.pi / k
    r = np.where(np.arange(2 * k + 1) % 2 == 0, 1.0, rng.uniform(0.35, 0.55))
    return [np.stack([r * np.cos(a), r * np.sin(a)], axis=1)]


def spiral(rng: np.random.Generator) -> Lines:
    """A spiral of 2-4 turns (fewer would be a 6 or a 9), round or square."""
    turns = rng.uniform(2, 4)
    if rng.random() < 0.25:  # square: corners on the diagonals, each a little further out
        k = np.arange(int(turns * 4) + 1)
        a, r = np.pi / 4 + k * np.pi / 2, (k + 1) / (k[-1] + 1)
        return [np.stack([r * np.cos(a), r * np.sin(a)], axis=1)]
    t = np.linspace(0, turns * 2 * np.pi, int(60 * turns))
    r = (t + 0.3) / t[-1]
    sign = 1 if rng.random() < 0.5 else -1
    return [np.stack([r * np.cos(sign * t), r * np.sin(sign * t)], axis=1)]


def wave(rng: np.random.Generator) -> Lines:
    """1-3 parallel sine waves or zigzags of 1.5-4 periods."""
    periods, amplitude = rng.uniform(1.5, 4), rng.uniform(0.12, 0.35)
    x = np.linspace(-1, 1, int(40 * periods))
    phase = 2 * np.pi * periods * (x + 1) / 2 + rng.uniform(0, 2 * np.pi)
    y = amplitude * (np.sin(phase) if rng.random() < 0.6 else 2 / np.pi * np.arcsin(np.sin(phase)))
    gap = rng.uniform(0.35, 0.6)
    return [np.stack([x, y + i * gap], axis=1) for i in range(int(rng.integers(1, 4)))]


def grid(rng: np.random.Generator) -> Lines:
    """2-4 lines each way, crossing: a hash, a noughts-and-crosses board or a lattice."""
    def jitter() -> float:
        return rng.uniform(-0.06, 0.06)
    overhang = rng.uniform(0, 0.3)
    lines = []
    for p in np.linspace(-0.6, 0.6, int(rng.integers(2, 5))):
        lines.append(np.array([[-1 - overhang, p + jitter()], [1 + overhang, p + jitter()]]))
    for p in np.linspace(-0.6, 0.6, int(rng.integers(2, 5))):
        lines.append(np.array([[p + jitter(), -1 - overhang], [p + jitter(), 1 + overhang]]))
    return lines


def chaikin(points: np.ndarray, rounds: int = 3) -> np.ndarray:
    """The polyline smoothed by corner cutting."""
    for _ in range(rounds):
        a, b = points[:-1], points[1:]
        points = np.concatenate([points[:1], np.stack([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b], 1).reshape(-1, 2), points[-1:]])
    return points


def scribble(rng: np.random.Generator) -> Lines:
    """A smooth tangle through 8-14 random points, or back-and-forth hatching."""
    if rng.random() < 0.3:
        k = int(rng.integers(5, 10))
        ys = np.linspace(-1, 1, k) + rng.uniform(-0.08, 0.08, k)
        xs = np.where(np.arange(k) % 2 == 0, -1.0, 1.0) + rng.uniform(-0.15, 0.15, k)
        return [chaikin(np.stack([xs, ys], axis=1), 1)]
    return [chaikin(rng.uniform(-1, 1, (int(rng.integers(8, 15)), 2)))]


def strokes(rng: np.random.Generator) -> Lines:
    """4-7 random straight strokes."""
    return [rng.uniform(-1, 1, (2, 2)) for _ in range(int(rng.integers(4, 8)))]


def shape(rng: np.random.Generator) -> Lines:
    """A triangle, a square, or a square with an envelope's flap."""
    which = rng.integers(3)
    if which == 0:
        a = rng.uniform(0, 2 * np.pi) + np.array([0, 2, 4, 6]) * np.pi / 3 + np.r_[rng.uniform(-0.2, 0.2, 3), 0]
        a[3] = a[0] + 2 * np.pi
        return [np.stack([np.cos(a), np.sin(a)], axis=1)]
    h = rng.uniform(0.8, 1.0)
    square = np.array([[-1, -h], [1, -h], [1, h], [-1, h], [-1, -h]]) + rng.uniform(-0.05, 0.05, (5, 2))
    square[4] = square[0]
    lines = [square]
    if which == 2:
        lines.append(np.array([[-1, -h], [0, rng.uniform(-0.1, 0.3)], [1, -h]]))
    return lines


def flower(rng: np.random.Generator) -> Lines:
    """A closed outline of 4-12 round petals, maybe with a centre: bumps on a loop are not a 0 (no stem: a 9)."""
    k = int(rng.integers(4, 13))
    t = np.linspace(0, 2 * np.pi, 40 * k)
    r = 1 + rng.uniform(0.2, 0.5) * np.abs(np.sin(k * t / 2)) - 0.3
    squash = rng.uniform(0.75, 1.0)
    lines = [np.stack([r * np.cos(t), squash * r * np.sin(t)], axis=1)]
    if rng.random() < 0.5:
        c = rng.uniform(0.2, 0.35)
        lines.append(ellipse(0, 0, c, c * squash, n=24))
    return lines


def polygon(rng: np.random.Generator) -> Lines:
    """An irregular closed outline of 6-9 corners, some pointing in deeply: never an oval (0), a D (0) or a sliver (1)."""
    while True:
        k = int(rng.integers(6, 10))
        a = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(0.75, 1.0, k)
        r[rng.choice(k, size=int(rng.integers(2, k // 2 + 1)), replace=False)] = rng.uniform(0.3, 0.6)
        points = np.stack([r * np.cos(a), r * np.sin(a)], axis=1).astype(np.float32)
        (_, _), (w, h), _ = cv2.minAreaRect(points)
        solidity = cv2.contourArea(points) / max(cv2.contourArea(cv2.convexHull(points)), 1e-6)
        if max(w, h) < 2 * min(w, h) and solidity < 0.8:
            return [np.concatenate([points, points[:1]]).astype(np.float64)]


# Held out: never in training.
def house(rng: np.random.Generator) -> Lines:
    """A square with a roof, maybe a door."""
    roof = rng.uniform(0.5, 1.0)
    lines = [np.array([[-1, 0], [-1, 1.4], [1, 1.4], [1, 0], [-1, 0], [0, -roof], [1, 0]])]
    if rng.random() < 0.6:
        w = rng.uniform(0.2, 0.35)
        x = rng.uniform(-0.5, 0.5)
        lines.append(np.array([[x - w, 1.4], [x - w, 0.7], [x + w, 0.7], [x + w, 1.4]]))
    return lines


def heart(rng: np.random.Generator) -> Lines:
    """The classic heart curve, a little squashed or stretched."""
    t = np.linspace(0, 2 * np.pi, 100)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([x * rng.uniform(0.85, 1.15), y], axis=1) / 16]


def arrow(rng: np.random.Generator) -> Lines:
    """An arrow pointing any way: a shaft and an open or closed head."""
    a = rng.uniform(0, 2 * np.pi)
    d = np.array([np.cos(a), np.sin(a)])
    tip, tail = d, -d
    head, spread = rng.uniform(0.3, 0.5), rng.uniform(0.35, 0.6)
    rot = lambda s: np.array([[np.cos(s), -np.sin(s)], [np.sin(s), np.cos(s)]])  # noqa: E731
    left, right = tip - head * rot(spread) @ d, tip - head * rot(-spread) @ d
    if rng.random() < 0.3:
        return [np.stack([tail, tip]), np.stack([left, tip, right, left])]
    return [np.stack([tail, tip]), np.stack([left, tip, right])]


def cloud(rng: np.random.Generator) -> Lines:
    """A closed outline of 5-9 bumps, wider than tall."""
    k = int(rng.integers(5, 10))
    t = np.linspace(0, 2 * np.pi, 40 * k)
    r = 1 + rng.uniform(0.25, 0.4) * np.abs(np.sin(k * t / 2))  # arcs meeting in cusps: never an oval 0
    return [np.stack([r * np.cos(t) * rng.uniform(1.4, 1.8), r * np.sin(t)], axis=1)]


# ----------------------------------------------------------------------------------- pairs and pieces


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int, dy: int) -> np.ndarray:
    """(H, W) uint8: two inks in one picture, right starting gap px after left ends (negative: overlapping it)
    and dy px lower; the gap must leave the picture wider than either."""
    h = max(left.shape[0], right.shape[0]) + abs(dy)
    w = left.shape[1] + right.shape[1] + gap
    out = np.zeros((h, w), np.uint8)
    out[max(0, -dy) : max(0, -dy) + left.shape[0], : left.shape[1]] = left
    region = out[max(0, dy) : max(0, dy) + right.shape[0], w - right.shape[1] :]
    np.maximum(region, right, out=region)
    return out


def digit_pair(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two MNIST digits side by side, touching, overlapping a little or a little apart: (H, W) uint8 at 28 px scale."""
    a, b = (crop(digits[i]) for i in rng.integers(len(digits), size=2))
    gap = int(rng.integers(-3, 5))
    dy = int(rng.integers(-3, 4))
    gap = max(gap, max(a.shape[1], b.shape[1]) + 4 - a.shape[1] - b.shape[1])  # never one on top of the other
    return side_by_side(a, b, gap, dy)


def digit_piece(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit with 30-70% of a neighbour touching it, as a wrong cut of a number leaves it."""
    while True:
        a, b = (crop(digits[i]) for i in rng.integers(len(digits), size=2))
        keep = int(round(rng.uniform(0.3, 0.7) * b.shape[1]))
        part = crop(b[:, :keep]) if rng.random() < 0.5 else crop(b[:, b.shape[1] - keep :])
        if part.size and (part > 127).sum() >= 0.25 * (a > 127).sum():  # a speck would leave a plain digit
            break
    pair = [a, part] if rng.random() < 0.5 else [part, a]
    h = max(p.shape[0] for p in pair)
    gap = int(rng.integers(-2, 2))
    out = np.zeros((h, max(pair[0].shape[1] + pair[1].shape[1] + gap, pair[0].shape[1], pair[1].shape[1])), np.uint8)
    out[: pair[0].shape[0], : pair[0].shape[1]] = pair[0]
    region = out[: pair[1].shape[0], out.shape[1] - pair[1].shape[1] :]
    np.maximum(region, pair[1], out=region)
    return out


# ------------------------------------------------------------------------------------------- makers

DOODLES: dict[str, Callable[[np.random.Generator], Lines]] = {
    "circle": circle_with_features, "star": star, "spiral": spiral, "wave": wave, "grid": grid,
    "scribble": scribble, "strokes": strokes, "shape": shape, "flower": flower, "polygon": polygon,
}
HELD_OUT_DOODLES: dict[str, Callable[[np.random.Generator], Lines]] = {
    "house": house, "heart": heart, "arrow": arrow, "cloud": cloud,
}
# Training kinds and their share of the pool.
TRAIN_KINDS = {"letter": 0.2, "symbol": 0.13, **{k: 0.04 for k in DOODLES}, "pair": 0.15, "piece": 0.12}
HELD_OUT_KINDS = ("letter", "symbol", *HELD_OUT_DOODLES)


def make_ink(kind: str, rng: np.random.Generator, height: float, held_out: bool = False,
             digits: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8 ink, white on black, of one non-digit of the given kind, about height px on its longer side.

    held_out picks the held-out fonts (letters, symbols); held-out doodle kinds are only made with held_out.
    Pairs and pieces need digits: (N, 28, 28) uint8 MNIST *train* images."""
    if kind == "letter":
        return glyph(LETTERS, rng, height, held_out)
    if kind == "symbol":
        return glyph(HELD_OUT_SYMBOLS if held_out else SYMBOLS_ASCII + SYMBOLS_EXTRA, rng, height, held_out)
    doodles = HELD_OUT_DOODLES if held_out else DOODLES
    if kind in doodles:
        return draw(doodles[kind](rng), height, max(1, round(rng.uniform(0.06, 0.14) * height)))
    if kind in ("pair", "piece") and not held_out:
        if digits is None:
            raise ValueError(f"{kind!r} negatives are made from MNIST digits: pass digits")
        ink = digit_pair(digits, rng) if kind == "pair" else digit_piece(digits, rng)
        s = height / max(ink.shape)
        return cv2.resize(ink, (max(1, round(ink.shape[1] * s)), max(1, round(ink.shape[0] * s))), interpolation=cv2.INTER_LINEAR)
    kinds = HELD_OUT_KINDS if held_out else tuple(TRAIN_KINDS)
    raise ValueError(f"unknown kind {kind!r}; expected one of {kinds}")


def on_canvas(ink: np.ndarray) -> np.ndarray:
    """(CANVAS, CANVAS) uint8: the ink's longer side scaled to BOX, centred, as augmentation expects."""
    s = BOX / max(ink.shape)
    w, h = max(1, round(ink.shape[1] * s)), max(1, round(ink.shape[0] * s))
    small = cv2.resize(ink, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    top, left = (CANVAS - h) // 2, (CANVAS - w) // 2
    canvas[top : top + h, left : left + w] = small
    return canvas


def make_pool(n: int, seed: int, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, CANVAS, CANVAS) uint8 training negatives on canvases and (n,) their kind names; the same for the same seed."""
    rng = np.random.default_rng([seed, 11])
    names = list(TRAIN_KINDS)
    shares = np.array(list(TRAIN_KINDS.values()))
    kinds = rng.choice(len(names), size=n, p=shares / shares.sum())
    # Glyphs are rendered at twice the box so their own strokes, not the font's hinting, set the look.
    pool = np.stack([on_canvas(make_ink(names[k], rng, 2 * BOX, digits=digits)) for k in kinds])
    return pool, np.array(names)[kinds]

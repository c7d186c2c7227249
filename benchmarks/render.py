"""Renderers for test pictures: digits drawn as users draw them, on the surfaces users draw them on.

Shared by the benchmarks: digit shapes (Hershey glyphs, MNIST test digits redrawn with any pen), a sketchpad
canvas (transparent or white), a phone photo of paper (tint, uneven light, noise, blur, JPEG), notebook
ruling, and a sheet lying on a desk. Everything is a plain function of its arguments and a numpy Generator,
so a picture is a function of the seed. Nothing here knows digitcore.
"""
from __future__ import annotations

import cv2
import numpy as np

Item = tuple[np.ndarray, "int | None"]  # (picture, expected label; None = no digit)
Digits = tuple[np.ndarray, np.ndarray]  # (N, 28, 28) uint8 images, (N,) labels

# OpenCV's stroke fonts. FONT_ITALIC only changes COMPLEX and TRIPLEX. Every digit of every one of these reads
# unambiguously (the serifed 1s, the open 4s and the script 7s included), so all ten glyphs of each are used.
FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX_SMALL,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
    cv2.FONT_HERSHEY_COMPLEX | cv2.FONT_ITALIC,
    cv2.FONT_HERSHEY_TRIPLEX | cv2.FONT_ITALIC,
)
# Thinning a fat MNIST stroke (wider than ~3.5 of its 28 px; ~8% of the test split) merges loops and drops
# strokes, so sketches are redrawn only from digits of ordinary stroke width; the brush sets the width anyway.
MAX_SKETCH_STROKE = 3.5
SKELETON_UPSCALE = 6  # MNIST digits are thinned at 6x (168 px): smooth enough to redraw at up to ~750 px
PAPER_TINTS = ((247, 246, 242), (246, 237, 214), (224, 224, 220), (231, 238, 249))  # white, cream, grey, bluish

# ----------------------------------------------------------------------------------------- digit shapes


def crop(mask: np.ndarray) -> np.ndarray:
    """The mask cut to the bounding box of its non-zero pixels."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width in pixels of a uint8 digit: twice the ink area over the length of its outline.

    Like digitcore.preprocess.stroke_width, written again on purpose: the pictures must not depend on the
    code they test."""
    mask = (image > 127).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    return 2 * float(mask.sum()) / max(sum(cv2.arcLength(c, True) for c in contours), 1.0)


def pick_digit(rng: np.random.Generator, digits: Digits, max_stroke: float = np.inf) -> int:
    """Index of a random MNIST test digit, drawn again until its stroke width is at most max_stroke."""
    while True:
        i = int(rng.integers(len(digits[0])))
        if stroke_width(digits[0][i]) <= max_stroke:
            return i


def hershey_glyph(digit: int, height: float, thickness: int, rng: np.random.Generator) -> np.ndarray:
    """float32 ink (0-1) of the digit in a random Hershey font, about height px tall, strokes thickness px wide."""
    font = FONTS[rng.integers(len(FONTS))]
    (_, cap), _ = cv2.getTextSize(str(digit), font, 1.0, 1)
    scale = max(height - thickness, 4.0) / cap  # the pen adds half its width above and below the outline
    (width, glyph_height), _ = cv2.getTextSize(str(digit), font, scale, thickness)
    pad = 2 * thickness + 8
    canvas = np.zeros((glyph_height + 2 * pad, width + 2 * pad), np.uint8)
    cv2.putText(canvas, str(digit), (pad, pad + glyph_height), font, scale, 255, thickness, cv2.LINE_AA)
    return crop(canvas).astype(np.float32) / 255


def thin(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide skeleton of a boolean mask (Zhang-Suen thinning, vectorised)."""
    img = np.pad(mask, 1).astype(np.uint8)
    centre = img[1:-1, 1:-1]  # a view: removals write through to img
    # The 8 neighbours p2..p9 of every pixel, clockwise from north, as views of the padded image.
    p = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
         img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]
    while True:
        changed = False
        for step in (0, 1):
            count = sum(q.astype(np.int32) for q in p)
            transitions = sum((p[i] == 0) & (p[(i + 1) % 8] == 1) for i in range(8))
            if step == 0:
                side = (p[0] * p[2] * p[4] == 0) & (p[2] * p[4] * p[6] == 0)
            else:
                side = (p[0] * p[2] * p[6] == 0) & (p[0] * p[4] * p[6] == 0)
            remove = (centre == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                centre[remove] = 0
                changed = True
        if not changed:
            return centre.astype(bool)


def skeleton_segments(skeleton: np.ndarray) -> np.ndarray:
    """(k, 2, 2) float32 (x, y) end points joining every skeleton pixel to itself and to each 8-neighbour once."""
    padded = np.pad(skeleton, 1)
    ys, xs = np.nonzero(padded)
    segments = [np.stack([xs, ys, xs, ys], axis=1)]  # the zero-length ones keep isolated dots
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        joined = padded[ys + dy, xs + dx]
        segments.append(np.stack([xs[joined], ys[joined], xs[joined] + dx, ys[joined] + dy], axis=1))
    return np.concatenate(segments).reshape(-1, 2, 2).astype(np.float32)


def mnist_strokes(image: np.ndarray, height: float, brush: int) -> np.ndarray:
    """float32 ink of an MNIST digit re-drawn with a round brush along its skeleton, about height px tall."""
    side = 28 * SKELETON_UPSCALE
    skeleton = thin(cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC) > 127)
    segments = skeleton_segments(skeleton)
    points = segments.reshape(-1, 2)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = max(height - brush, 4.0) / max(high[1] - low[1], 1.0)
    points = (segments - low) * scale + brush  # a brush-wide margin all round
    width, tall = np.ceil((high - low) * scale).astype(int) + 2 * brush + 1
    canvas = np.zeros((tall, width), np.uint8)
    fixed = np.round(points * 16).astype(np.int32)  # shift=4: sub-pixel end points, so no staircase
    cv2.polylines(canvas, list(fixed), False, 255, brush, cv2.LINE_AA, shift=4)
    return crop(canvas).astype(np.float32) / 255


def mnist_ink(image: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """float32 ink opacity of an MNIST digit upscaled smoothly to about height px, thresholded soft (bold or fine pen)."""
    digit = np.pad(crop(image), 2)  # room for the blur below, so no stroke is cut flat at the box
    scale = height / (digit.shape[0] - 4)
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    big = cv2.resize(digit, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    big = cv2.GaussianBlur(big, (0, 0), 0.4 * scale)  # rounds off the 28x28 pixel grid a cubic still shows
    # Opacity ramps from 0 to 1 between two levels relative to the digit's own peak, so faint strokes stay
    # (lighter) instead of breaking up; a lower ramp gives a bolder pen, a narrower one a crisper edge.
    low = rng.uniform(0.2, 0.4) * big.max()
    high = low + rng.uniform(0.1, 0.3) * big.max()
    return crop(np.clip((big - low) / (high - low), 0.0, 1.0))


def slant(ink: np.ndarray, rotation: float, shear: float) -> np.ndarray:
    """The ink rotated (degrees) and sheared like italics about its centre, on a canvas just big enough."""
    h, w = ink.shape
    t = np.deg2rad(rotation)
    matrix = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.array([[1.0, shear], [0.0, 1.0]])
    corners = (np.array([[0, 0], [w, 0], [0, h], [w, h]]) - [w / 2, h / 2]) @ matrix.T
    out_w, out_h = np.ceil(corners.max(axis=0) - corners.min(axis=0)).astype(int) + 2
    shift = np.array([out_w / 2, out_h / 2]) - matrix @ [w / 2, h / 2]
    affine = np.hstack([matrix, shift[:, None]])
    warped = cv2.warpAffine(ink, affine, (int(out_w), int(out_h)), flags=cv2.INTER_LINEAR, borderValue=0)
    return crop(warped)


def place(ink: np.ndarray, shape: tuple[int, int], rng: np.random.Generator, margin: float = 0.02) -> np.ndarray:
    """An (H, W) float32 layer with the ink at a random position at least margin (of the side) from the edges;
    the ink is shrunk first if it would not fit."""
    canvas_h, canvas_w = shape
    gap_h, gap_w = int(margin * canvas_h), int(margin * canvas_w)
    h, w = ink.shape
    s = min(1.0, (canvas_h - 2 * gap_h) / h, (canvas_w - 2 * gap_w) / w)
    if s < 1.0:
        ink = cv2.resize(ink, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
        h, w = ink.shape
    top = rng.integers(gap_h, canvas_h - gap_h - h + 1)
    left = rng.integers(gap_w, canvas_w - gap_w - w + 1)
    layer = np.zeros(shape, np.float32)
    layer[top : top + h, left : left + w] = ink
    return layer


def underline(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The writing (cropped float32 ink) with a line drawn under it by the same pen, cropped: the line starts and
    ends 5-40% of the writing's width past it (of its height, for a narrow 1), sits from 3% into it to 20% of its
    height below it, tilts up to 4 degrees and bows by up to 2% of its length."""
    ih, iw = ink.shape
    pen = max(2, round(stroke_width(np.round(ink * 255).astype(np.uint8))))
    reach = max(iw, 0.5 * ih)
    start, end = -rng.uniform(0.05, 0.4) * reach, iw + rng.uniform(0.05, 0.4) * reach
    y0 = ih + rng.uniform(-0.03, 0.2) * ih
    xs = np.linspace(start, end, 32)
    tilt = np.tan(np.radians(rng.uniform(-4, 4)))
    bow = rng.uniform(-0.02, 0.02) * (end - start)
    ys = y0 + tilt * (xs - start) + bow * (1 - ((xs - start) / (end - start) * 2 - 1) ** 2)
    left, top = int(np.ceil(-start)) + pen, pen
    layer = np.zeros((int(ys.max()) + 2 * pen + 2 + top, int(np.ceil(end)) + left + pen + 1), np.float32)
    layer[top : top + ih, left : left + iw] = ink
    points = np.round(np.stack([xs + left, ys + top], axis=1) * 16).astype(np.int32)
    line = np.zeros_like(layer)
    cv2.polylines(line, [points], False, 1.0, pen, cv2.LINE_AA, shift=4)
    return crop(np.maximum(layer, line * float(np.percentile(ink[ink > 0.5], 90))))  # as dark as the strokes


# --------------------------------------------------------------------------------------------- surfaces


def sketchpad(alpha: np.ndarray, transparent: bool) -> np.ndarray:
    """(H, W, 4) uint8: black ink of the given opacity on rgba(0,0,0,0) or on opaque white."""
    a = np.round(alpha * 255).astype(np.uint8)
    rgba = np.zeros((*a.shape, 4), np.uint8)
    if transparent:
        rgba[..., 3] = a
    else:
        rgba[..., :3] = (255 - a)[..., None]
        rgba[..., 3] = 255
    return rgba


def photo_size(rng: np.random.Generator) -> tuple[int, int]:
    """(H, W) of a photo: sides 200-1200 px, aspect 0.6-1.6 but never square, portrait or landscape."""
    aspect = rng.uniform(1.05, 1.6)
    short = rng.uniform(200, 1200 / aspect)
    long = short * aspect
    return (round(long), round(short)) if rng.random() < 0.5 else (round(short), round(long))


def photograph(ink: np.ndarray, rng: np.random.Generator, shadow: bool = False) -> np.ndarray:
    """RGB uint8 photo of the ink layer (opacity 0-1) in a random pen colour on tinted, unevenly lit paper, with
    a shadow cast across it when asked."""
    paper = (np.array(PAPER_TINTS[rng.integers(len(PAPER_TINTS))]) + rng.uniform(-6, 6, 3)).astype(np.float32)
    pen = pen_colour(rng).astype(np.float32)
    alpha = ink[..., None]
    scene = paper + (pen - paper) * alpha  # float32 throughout: these pictures are up to 1200x1200x3
    light = lighting(ink.shape, rng)
    return camera(scene * (light * cast_shadow(ink.shape, rng) if shadow else light), rng)


def pen_colour(rng: np.random.Generator) -> np.ndarray:
    """An RGB ink colour: black, blue ballpoint or pencil grey, a third each."""
    pen = rng.integers(3)
    if pen == 0:
        return np.full(3, rng.uniform(10, 45))
    if pen == 1:
        return np.array([30.0, 50.0, 160.0]) + rng.uniform(-15, 15, 3)
    return np.full(3, rng.uniform(90, 130))


def lighting(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(H, W, 1) float32 illumination: a gradient and a vignette mixed, falling from 1 to 0.55-0.70 across the picture."""
    h, w = shape
    y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    angle = rng.uniform(0, 2 * np.pi)
    gradient = x * float(np.cos(angle)) + y * float(np.sin(angle))  # Python floats keep numpy in float32
    cx, cy = (float(c) for c in rng.uniform(-0.5, 0.5, 2))
    vignette = (x - cx) ** 2 + (y - cy) ** 2
    mix = rng.uniform(0, 1)
    field = normalise(mix * normalise(gradient) + (1 - mix) * normalise(vignette))
    drop = rng.uniform(0.30, 0.45)
    return (1 - drop * field)[..., None]


def photograph_form(ink: np.ndarray, boxes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RGB uint8 photo of writing (opacity 0-1) in printed boxes (opacity 0-1), the boxes grey or blue, on tinted,
    unevenly lit paper."""
    printed = np.float32([60, 60, 60]) if rng.random() < 0.5 else np.float32([90, 120, 200])
    scene = compose(paper_tint(rng), [(boxes, printed), (ink, pen_colour(rng))])
    return camera(scene * lighting(ink.shape, rng), rng)


def cast_shadow(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(H, W, 1) float32 light left by a shadow cast from beyond the frame (a hand, the phone): a straight edge
    across the picture or a round one from a side, half each, sharp to soft, darkening the paper by 25-50%."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:  # a straight edge through a point of the middle
        angle = rng.uniform(0, 2 * np.pi)
        px, py = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        inside = (x - px) * float(np.cos(angle)) + (y - py) * float(np.sin(angle))
    else:  # a disc centred on the left or right edge
        cx, cy = float(rng.choice([0, w])), rng.uniform(0, h)
        inside = rng.uniform(0.3, 0.7) * max(h, w) - np.hypot(x - cx, y - cy)
    soft = rng.uniform(1, 0.03 * max(h, w))  # the penumbra's width, px
    shade = 1 / (1 + np.exp(-np.clip(inside / soft, -50, 50)))
    return (1 - rng.uniform(0.25, 0.5) * shade)[..., None]


def normalise(field: np.ndarray) -> np.ndarray:
    """The array rescaled to span exactly [0, 1]."""
    low, high = field.min(), field.max()
    return (field - low) / max(high - low, np.float32(1e-9))


def camera(scene: np.ndarray, rng: np.random.Generator, noise: tuple[float, float] = (3, 10)) -> np.ndarray:
    """What a phone adds to a float RGB scene: lens blur, sensor noise (sigma in the range), JPEG compression; RGB uint8."""
    picture = cv2.GaussianBlur(scene, (0, 0), rng.uniform(0.5, 1.5))
    picture += rng.uniform(*noise) * rng.standard_normal(picture.shape, dtype=np.float32)
    return jpeg(np.clip(picture + 0.5, 0, 255).astype(np.uint8), int(rng.integers(40, 91)))


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """The RGB picture after a round trip through JPEG at the given quality."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok, "OpenCV could not encode a JPEG"
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def holes(ink: np.ndarray) -> int:
    """How many loops (enclosed paper regions bigger than 0.5% of the box) the ink at opacity >= 0.5 has."""
    mask = (ink >= 0.5).astype(np.uint8)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    inner = [c for c, h in zip(contours, hierarchy[0]) if h[3] >= 0]  # contours with a parent are holes
    return sum(cv2.contourArea(c) > 0.005 * mask.size for c in inner)


def paper_tint(rng: np.random.Generator) -> np.ndarray:
    """float32 RGB of a sheet: one of the paper tints, varied a little."""
    return (np.array(PAPER_TINTS[rng.integers(len(PAPER_TINTS))]) + rng.uniform(-6, 6, 3)).astype(np.float32)


def compose(background: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """float32 (H, W, 3) scene: each (opacity (H, W), RGB colour) layer painted over the background in turn."""
    scene = np.broadcast_to(background, (*layers[0][0].shape, 3)).astype(np.float32)
    for alpha, colour in layers:
        scene = scene + (np.asarray(colour, np.float32) - scene) * alpha[..., None]
    return scene


def ruling(shape: tuple[int, int], spacing: float, squared: bool, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32 opacity of notebook ruling: lines every `spacing` px, slightly tilted, 1-3 px; grid if squared."""
    h, w = shape
    layer = np.zeros(shape, np.uint8)
    width = int(rng.integers(1, 4))
    tilt = np.tan(np.deg2rad(rng.uniform(-3, 3)))
    phase = rng.uniform(0, spacing)
    for y in np.arange(phase, h + w * abs(tilt), spacing):
        cv2.line(layer, (0, round(y * 16)), (w * 16, round((y + w * tilt) * 16)), 255, width, cv2.LINE_AA, shift=4)
    if squared:
        for x in np.arange(rng.uniform(0, spacing), w + h * abs(tilt), spacing):
            cv2.line(layer, (round(x * 16), 0), (round((x - h * tilt) * 16), h * 16), 255, width, cv2.LINE_AA, shift=4)
    return layer.astype(np.float32) / 255 * rng.uniform(0.5, 1.0)


def desk(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """float32 (H, W, 3) surface under a sheet: dark (wood, grey, black) or light (white or pale table), grained."""
    h, w = shape
    if rng.random() < 0.6:
        colour = np.array([(95, 65, 40), (60, 60, 65), (30, 28, 26), (130, 90, 55)][rng.integers(4)], np.float32)
    else:
        colour = np.array([(250, 250, 250), (238, 236, 230), (215, 220, 228)][rng.integers(3)], np.float32)
    grain = cv2.resize(rng.standard_normal((max(2, h // 40), 4)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(colour + rng.uniform(3, 12) * grain[..., None], 0, 255)


def sheet_on_desk(sheet: np.ndarray, shape: tuple[int, int], cover: float, rng: np.random.Generator) -> np.ndarray:
    """float32 (H, W, 3) scene: the sheet scene scaled to cover that fraction of the frame, turned, on a desk."""
    h, w = shape
    sh, sw = sheet.shape[:2]
    s = np.sqrt(cover * h * w / (sh * sw))
    s = min(s, 0.95 * min(h, w) / max(sh, sw) * 1.3)  # a sheet larger than the frame would hide the desk
    angle = rng.uniform(-20, 20)
    centre = (w / 2 + rng.uniform(-0.15, 0.15) * w, h / 2 + rng.uniform(-0.15, 0.15) * h)
    matrix = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, s)
    matrix[:, 2] += np.array(centre) - np.array([sw / 2, sh / 2])
    warped = cv2.warpAffine(sheet, matrix, (w, h), flags=cv2.INTER_LINEAR)
    cover_mask = cv2.warpAffine(np.ones((sh, sw), np.float32), matrix, (w, h), flags=cv2.INTER_LINEAR)
    surface = desk(shape, rng)
    return surface + (warped - surface) * cover_mask[..., None]

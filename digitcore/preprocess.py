"""One digit's ink in, the 28x28 input the model expects out: made the way MNIST itself was made.

MNIST digits are white on black, size-normalised so the longer side of the ink fits 20 pixels (aspect kept,
anti-aliased), then placed in a 28x28 field so the centre of mass sits at the centre. Before that, a pen
lift's gap is bridged and the stroke brought to MNIST's width. The ink comes from digitcore.ink. Pure
numpy/OpenCV: no Keras, no UI.
"""
from __future__ import annotations

import cv2
import numpy as np

from digitcore.ink import components, find_ink
from digitcore.shapes import encloses, straightness

FIELD = 28  # the model's input side
BOX = 20  # the longer side of the digit inside the field, as in MNIST; the rest is margin for centring
CENTRE = 14.0  # where MNIST's centre of mass sits, in pixel-index coordinates (measured: 14.00 +- 0.29)
THIN_STROKE, TARGET_STROKE, FAT_STROKE = 1.5, 2.4, 3.5  # stroke widths in field pixels; MNIST's median is 2.4
STROKE_PART = 0.5  # only pieces at least this long (of the digit's longer side) are strokes to bridge,
SHORT_STROKE, STROKE_LIKE = 0.25, 0.6  # and shorter ones down to this, if this elongated (shapes.straightness)
                                       # and round no hole: a bit of a loop the pen lift cut off, not a dot or a ring
PEN_LIFT = 0.1  # a gap between strokes this narrow (of the digit's longer side) is a pen lift, bridged
BLURRED = 0.3  # ink with more of its pixels than this between 0.05 and 0.95 is blurred, not drawn with a fat pen


def to_model_input(image: np.ndarray) -> np.ndarray | None:
    """(28, 28) float32 in [0, 1], white digit on black, from any picture array; None when there is no digit."""
    ink = find_ink(image)
    return None if ink is None else to_field(ink.strength)


def to_field(ink: np.ndarray) -> np.ndarray:
    """(28, 28) float32 model input from the soft ink map of one digit: pen lifts bridged, MNIST's stroke width,
    box and centring."""
    return center_in_field(normalise_stroke_width(bridge_pen_lifts(ink)))


def bridge_pen_lifts(ink: np.ndarray) -> np.ndarray:
    """The soft ink of one digit with the narrow gaps between its separate strokes closed.

    A digit written in two strokes (a 4, a 5's bar, a 7's crossbar, the pen lifted mid-stroke) often leaves a
    gap where the strokes were meant to meet; MNIST's digits have none, and the model reads a 4 with a cut
    arm as a 1 or a 7. Gaps up to PEN_LIFT of the ink's longer side (2 of the field's 20 px) are closed, only
    between pieces at least STROKE_PART of that side long: a digit in one stroke, or a stroke and a dot, is
    left exactly as it is. A shorter piece, down to SHORT_STROKE, is a stroke too when it is line-like and goes
    round no hole: the part of a 6's or a 9's loop a pen lift cut off (the 6 read as a 5)."""
    count, labels, stats, _ = components((ink > 0.5).astype(np.uint8))
    areas, lengths = stats[1:, cv2.CC_STAT_AREA], stats[1:, cv2.CC_STAT_WIDTH : cv2.CC_STAT_HEIGHT + 1].max(axis=1)
    # Strokes, not dots: a ?'s dot or a %'s rings sit close to the rest on purpose, and glued on make a 2 or an 8.
    longest, inked = max(ink.shape), areas.sum()
    sizeable = [k for k in range(1, count) if areas[k - 1] >= 0.02 * inked and (
        lengths[k - 1] >= STROKE_PART * longest
        or lengths[k - 1] >= SHORT_STROKE * longest and stroke_like(labels, stats[k], k))]
    if len(sizeable) < 2:
        return ink
    side = 2 * max(1, round(PEN_LIFT * longest / 2)) + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    padded = np.pad(ink, side)  # so closing never glues ink to the map's edge
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, disc)[side:-side, side:-side]
    # Only the gaps between strokes are filled: where two strokes' reaches meet, not a stroke's own corners.
    across = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * side + 1, 2 * side + 1))  # a gap's whole width
    reach = sum(cv2.dilate((labels == k).astype(np.uint8), across) for k in sizeable[:8])
    return np.where(reach >= 2, closed, ink)


def stroke_like(labels: np.ndarray, box: np.ndarray, k: int) -> bool:
    """Whether component k of labels (its stats row box) is a bit of stroke: at least STROKE_LIKE elongated and
    round no hole."""
    x, y, w, h = box[:4]
    piece = (labels[y : y + h, x : x + w] == k).astype(np.uint8)
    return not encloses(piece) and straightness(cv2.moments(piece.astype(np.float32)))[0] >= STROKE_LIKE


def _bounding_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels of a soft ink map: twice the area over the outline's length."""
    mask = (ink >= 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return 2 * float(ink.sum()) / max(outline, 1.0)


def normalise_stroke_width(ink: np.ndarray, by_height: bool = False) -> np.ndarray:
    """The ink cropped, its strokes brought towards MNIST's width for the 20-pixel box: a fine pen thickened
    (padded on every side by the pen's growth), a fat marker thinned. The box holds the longer side, or with
    by_height the height (a strip of several digits)."""
    top, bottom, left, right = _bounding_box(ink)
    ink = ink[top:bottom, left:right]
    scale = BOX / (ink.shape[0] if by_height else max(ink.shape))
    width = stroke_width(ink)
    if width * scale < THIN_STROKE:
        return thicken(ink, width, scale)
    if width * scale > FAT_STROKE and not blurred(ink):
        return thin(ink, scale)
    return ink


def thicken(ink: np.ndarray, width: float, scale: float) -> np.ndarray:
    """Strokes of that width dilated to TARGET_STROKE field pixels (fine pens, big canvases)."""
    radius = max(1, round((TARGET_STROKE / scale - width) / 2))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(np.pad(ink, radius), kernel)


def blurred(ink: np.ndarray) -> bool:
    """Whether the ink is soft all over (an upscaled low-resolution scan) rather than crisp: its width is blur."""
    inked = np.count_nonzero(ink > 0.05)
    return np.count_nonzero((ink > 0.05) & (ink < 0.95)) > BLURRED * max(inked, 1)


def thin(ink: np.ndarray, scale: float) -> np.ndarray:
    """Strokes of a fat marker eroded towards TARGET_STROKE field pixels, none of them away.

    A pen a quarter of the digit's height gives strokes three times MNIST's width, whose swollen ends and
    serifs the model misreads (a 1 or a 3 as a 2). The pen's width is twice the median depth of the strokes'
    ridge (their middle line), which the places where strokes merge into a blob hardly move. A pixel is eroded
    by less where its own stroke is thinner than the pen, so no stroke disappears."""
    mask = np.pad((ink >= 0.5).astype(np.uint8), 1)
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)[1:-1, 1:-1]
    ridge = depth[(depth > 0) & (depth >= cv2.dilate(depth, np.ones((3, 3), np.uint8)))]
    if ridge.size == 0:
        return ink
    pen = 2 * float(np.median(ridge))
    if pen > 0.5 * min(ink.shape):
        return ink  # a dot, a disc or a blob (an 8 whose loops the pen filled): no strokes to thin
    # Eroding by r takes 2r off the pen and off the box the field is scaled from: solve for MNIST's width after both.
    r = (pen - TARGET_STROKE / scale) / (2 * (1 - TARGET_STROKE / BOX))
    if r < 1:
        return ink
    k = 2 * int(pen) + 1
    deepest = cv2.dilate(depth, np.ones((k, k), np.uint8))  # the depth of the middle of a pixel's own stroke
    erosion = np.clip(np.minimum(r, deepest - (pen / 2 - r)), 0, None)  # every stroke keeps pen / 2 - r each side
    return ink * np.clip(depth - erosion + 1, 0, 1)


def center_in_field(ink: np.ndarray) -> np.ndarray:
    """(28, 28) float32: the ink cropped, its longer side scaled to 20 px, placed with its centre of mass at the centre."""
    top, bottom, left, right = _bounding_box(ink)
    crop = ink[top:bottom, left:right]
    h, w = crop.shape
    s = BOX / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    digit = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    mass = float(digit.sum())
    if mass <= 0:
        dx, dy = (FIELD - size[0]) // 2, (FIELD - size[1]) // 2
    else:  # numpy, not cv2.moments: that reads an (N, 2) array as a list of points
        cx = float(digit.sum(axis=0) @ np.arange(size[0])) / mass
        cy = float(digit.sum(axis=1) @ np.arange(size[1])) / mass
        dx, dy = round(CENTRE - cx), round(CENTRE - cy)
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    field = cv2.warpAffine(digit, shift, (FIELD, FIELD), flags=cv2.INTER_NEAREST, borderValue=0)
    # MNIST's strokes reach full white; a thin stroke averaged down by the resize would not.
    return np.clip(field / max(float(field.max()), 1e-6), 0.0, 1.0).astype(np.float32)

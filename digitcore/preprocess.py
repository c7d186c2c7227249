"""Any picture of one digit in, the 28x28 input the model expects out: made the way MNIST itself was made.

MNIST digits are white on black, size-normalised so the longer side of the ink fits 20 pixels (aspect kept,
anti-aliased), then placed in a 28x28 field so the centre of mass sits at the centre. A drawing or a photo
only looks like that after we separate the ink from the paper, so most of this module is that separation.
Pure numpy/OpenCV: no Keras, no UI.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FIELD = 28  # the model's input side
BOX = 20  # the longer side of the digit inside the field, as in MNIST; the rest is margin for centring
CENTRE = 14.0  # where MNIST's centre of mass sits, in pixel-index coordinates (measured: 14.00 +- 0.29)
WORK_SIDE = 256  # larger pictures are shrunk to this first: enough for any stroke, and everything after is cheap
MAX_PIXELS = 64_000_000  # a larger array is refused rather than processed slowly
MIN_CONTRAST = 32  # ink must differ from the paper by this many grey levels (of 255) to count as a digit
THIN_STROKE, TARGET_STROKE = 1.5, 2.4  # stroke widths in field pixels; MNIST's median is 2.4


class InvalidImage(ValueError):
    """The input is not a picture we can read; the message says what was wrong."""


@dataclass(frozen=True)
class Ink:
    """The ink of a picture: a soft map cropped to the ink's box, and where that box sits in the picture.

    strength: (h, w) float32 in [0, 1], light ink on dark, paper and everything that is not ink removed.
    origin: (x, y) of the map's top-left corner in working pixels; scale: working pixels per picture pixel."""

    strength: np.ndarray
    origin: tuple[int, int]
    scale: float

    def box_in_picture(self, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int]:
        """A box (x, y, w, h) in the map's pixels -> the same box in the original picture's pixels."""
        s = self.scale
        x0, y0 = (x + self.origin[0]) / s, (y + self.origin[1]) / s
        x1, y1 = (x + w + self.origin[0]) / s, (y + h + self.origin[1]) / s
        return int(x0), int(y0), int(np.ceil(x1) - int(x0)), int(np.ceil(y1) - int(y0))


def to_model_input(image: np.ndarray) -> np.ndarray | None:
    """(28, 28) float32 in [0, 1], white digit on black, from any picture array; None when there is no digit."""
    ink = find_ink(image)
    return None if ink is None else to_field(ink.strength)


def find_ink(image: np.ndarray) -> Ink | None:
    """The ink of any picture array, at working scale (longer side at most 256 px); None when there is none."""
    image = to_uint8(image)
    # Colour is halved towards the working size before it is made grey, so that touches a quarter of the
    # pixels or fewer. (Compositing transparency after averaging differs only in the half-pixel rim of a stroke.)
    grey = shrink(to_grey(halve(image, WORK_SIDE)), WORK_SIDE)
    found = extract_ink(grey)
    if found is None:
        return None
    strength, origin = found
    return Ink(strength, origin, grey.shape[1] / image.shape[1])


def to_field(ink: np.ndarray) -> np.ndarray:
    """(28, 28) float32 model input from the soft ink map of one digit: MNIST's stroke width, box and centring."""
    return center_in_field(normalise_stroke_width(ink))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """The array as uint8 (H, W) or (H, W, C) with C in 1-4; floats in [0, 1] or [0, 255], bool and uint16 accepted."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (2, 3, 4)):
        raise InvalidImage(
            f"an array of shape {image.shape} is not a picture: expected (H, W), (H, W, 3) or (H, W, 4)"
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InvalidImage(f"the picture is empty (shape {image.shape})")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise InvalidImage(f"the picture is too large ({image.shape[1]}x{image.shape[0]}; at most {MAX_PIXELS:,} pixels)")
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise InvalidImage("the picture has NaN or infinite values")
        scale = 255.0 if image.max(initial=0) <= 1.0 else 1.0  # [0, 1] floats vs [0, 255] floats
        return np.clip(image * scale + 0.5, 0, 255).astype(np.uint8)
    if np.issubdtype(image.dtype, np.integer):
        return np.clip(image, 0, 255).astype(np.uint8)
    raise InvalidImage(f"an array of dtype {image.dtype} is not a picture")


def to_grey(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 grey; transparency composited onto a backdrop that contrasts with the opaque ink."""
    image = to_uint8(image)
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 2:
        grey, alpha = np.ascontiguousarray(image[:, :, 0]), np.ascontiguousarray(image[:, :, 1])
    else:
        grey = cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY if channels == 4 else cv2.COLOR_RGB2GRAY)
        if channels == 3:
            return grey
        alpha = cv2.extractChannel(image, 3)
    if alpha.min() == 255:
        return grey
    # A sketchpad gives black strokes on transparent pixels (often themselves black): dropping the alpha
    # would make it all black. Composite onto white for dark ink and onto black for light ink.
    opaque = cv2.threshold(alpha, 127, 1, cv2.THRESH_BINARY)[1]
    dark_ink = cv2.countNonZero(opaque) == 0 or cv2.mean(grey, mask=opaque)[0] < 128
    if dark_ink:
        return cv2.subtract(255, cv2.multiply(cv2.subtract(255, grey), alpha, scale=1 / 255))
    return cv2.multiply(grey, alpha, scale=1 / 255)


def halve(image: np.ndarray, min_side: int) -> np.ndarray:
    """Halve by 2x2 averages while the longer side is at least 2 * min_side (grey or colour).

    OpenCV has a fast path for exact halving: 800 -> 400 takes 0.02 ms, where one area-resize 800 -> 256
    takes 2 ms here."""
    while max(image.shape[:2]) >= 2 * min_side and min(image.shape[:2]) >= 2:
        h, w = image.shape[0] // 2, image.shape[1] // 2
        image = cv2.resize(image[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)
    return image


def shrink(grey: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale so the longer side is at most max_side: halving, then bilinear for the last ratio (under 2)."""
    grey = halve(grey, max_side)
    h, w = grey.shape[:2]
    if max(h, w) <= max_side:
        return grey
    s = max_side / max(h, w)
    return cv2.resize(grey, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_LINEAR)


def extract_ink(grey: np.ndarray) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Float32 ink strength in [0, 1], light on dark, paper removed, cropped to the ink, and the crop's (x, y);
    None when there is no digit."""
    if min(grey.shape) >= 3:
        grey = cv2.GaussianBlur(grey, (3, 3), 0)  # takes the edge off sensor noise and JPEG ringing
    lo, median, hi = _percentiles(grey, (0.05, 50, 99.95))
    if median - lo > hi - median:  # the paper is the majority: ink lies on whichever side is further from it
        grey = cv2.bitwise_not(grey)
    ink = cv2.subtract(grey, _background(grey))
    # The paper's own variation, from the lowest quarter (a fat digit can cover half a picture).
    low, quartile = _percentiles(ink, (10, 25))
    noise = quartile + 6 * max(quartile - low, 1)
    if ink.max() < max(MIN_CONTRAST, noise):
        return None
    otsu, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    threshold = max(otsu, noise, MIN_CONTRAST / 2)
    mask = (ink > threshold).astype(np.uint8)
    strength = float(np.median(ink[mask > 0])) if mask.any() else 0.0
    if strength < MIN_CONTRAST:
        return None
    keep = _digit_components(mask)
    if keep is None:
        return None
    # Only the digit's box matters from here on (with a pixel of margin for the anti-aliased rim).
    x, y, w, h = cv2.boundingRect(keep)
    top, left = max(y - 1, 0), max(x - 1, 0)
    ink, keep = ink[top : y + h + 1, left : x + w + 1], keep[top : y + h + 1, left : x + w + 1]
    # Soft ink: zero at half the threshold, full strength at the strokes' median, anti-aliased between.
    floor = threshold / 2
    soft = np.clip((ink.astype(np.float32) - floor) / max(strength - floor, 1.0), 0.0, 1.0)
    soft *= cv2.dilate(keep, np.ones((3, 3), np.uint8))  # keep the anti-aliased rim of the kept strokes
    return soft, (left, top)


def _percentiles(image: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Percentiles of a uint8 image from its histogram: an order of magnitude faster than np.percentile."""
    cumulative = np.cumsum(cv2.calcHist([image], [0], None, [256], [0, 256]).ravel())
    return [float(np.searchsorted(cumulative, q / 100 * cumulative[-1])) for q in qs]


def _background(grey: np.ndarray) -> np.ndarray:
    """The paper's own brightness, light ink on dark: a morphological opening at coarse scale, so uneven lighting subtracts out."""
    h, w = grey.shape
    if max(h, w) <= 160:  # small pictures (icons, low-resolution scans) are not unevenly lit
        return np.full_like(grey, _percentiles(grey, (10,))[0])  # light ink on dark: paper is among the darkest
    # The window spans 15% of the picture: wider than any stroke drawn on a canvas or page this large,
    # so it always reaches some paper and never hollows a fat stroke out.
    window = 0.15 * max(h, w)
    s = 32 / max(h, w)
    coarse = cv2.resize(grey, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    k = 2 * int(np.ceil(window * s / 2)) + 1
    # Opening (min then max) rather than a plain minimum: it follows the paper into dark corners (vignetting).
    coarse = cv2.morphologyEx(coarse, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    coarse = cv2.blur(coarse, (3, 3))
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)


def _digit_components(mask: np.ndarray) -> np.ndarray | None:
    """uint8 mask of the connected pieces that make the digit (specks dropped); None if nothing is digit-sized."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = areas.max()
    if largest < max(3, 1e-4 * mask.size):
        return None
    kept = np.flatnonzero(areas >= 0.08 * largest) + 1  # a 5's separate bar is well above 8%; dust is below
    if len(kept) == count - 1:
        return mask
    lut = np.zeros(count, np.uint8)
    lut[kept] = 1
    return lut[labels]


def _bounding_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels of a soft ink map: twice the area over the outline's length."""
    mask = (ink >= 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return 2 * float(ink.sum()) / max(outline, 1.0)


def normalise_stroke_width(ink: np.ndarray) -> np.ndarray:
    """Thicken strokes that would be thinner than MNIST's after scaling to the 20-pixel box (fine pens, big canvases)."""
    top, bottom, left, right = _bounding_box(ink)
    scale = BOX / max(bottom - top, right - left)
    width = stroke_width(ink[top:bottom, left:right])
    if width * scale >= THIN_STROKE:
        return ink
    radius = max(1, round((TARGET_STROKE / scale - width) / 2))
    padded = np.pad(ink[top:bottom, left:right], radius)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(padded, kernel)


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

"""Find the ink of any picture: what is writing, apart from the paper, its light and texture, ruled lines, a
form's boxes, a line drawn under the writing, the page's edge and the desk around a note. Picture in, soft ink
map (light ink on dark) out.

The paper is estimated from where the ink is not (digitcore.paper), so a stroke of any width stays ink, and a
note on a desk is read on its own paper (digitcore.sheet); weak ink is kept where it joins strong ink
(hysteresis), with the threshold set by the paper's own noise. Pure numpy/OpenCV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from digitcore.images import to_uint8
from digitcore.paper import MIN_CONTRAST, background, ink_is_dark, paper_noise, percentiles, rim_percentiles
from digitcore.shapes import holes
from digitcore.sheet import find_sheet, paper_beyond, rim_differs

WORK_SIDE = 256  # larger pictures are shrunk to this first: enough for any stroke, and everything after is cheap
LINE_SPAN = 0.6  # a straight line this long (of the picture's side) may be ruling or an edge, not a stroke
LINE_PAST = 0.02  # ... and is, when it runs on this far (of the side) past the writing at both ends,
LINE_THROUGH = 0.1  # ... or through it: at least this share of the writing beside it lies on its other side
REACH = 4  # px: a line's pixels this near the writing touch it
UPRIGHT_PAST = 0.25  # of the writing's height: a lone upright line running this far past it at both ends is a rule
END_ZONE = 0.15  # of an upright line's length: writing beside it only this near its ends is a 1's foot or flag
FIRM = 0.25  # of the ink threshold: the weak level that sheds ruling and edges riding in on the digit
LINE_CROSSING = 7  # a run of mask this long (working px) across a ruled line is a stroke crossing it
RULING = 3  # this many long straight lines one way are ruling: thicker ones count (a blurred photo of a grid)
TILTS = np.arange(-5, 5.5, 0.5)  # degrees a page may be turned in a photo for its ruling to be found (_ruling_tilt)
RULED_PEAK = 1.5  # ruling concentrates the rows' ink at its angle this much over the median angle's
RULED_BRIDGE = 15  # px along a turned rule that are bridged: its dashes (a faint rule shrunk askew)
STROKE_OVER_RULE = 1.5  # ink this many times a rule's own median along it is a stroke lying on the rule
# Working px around a pixel where its stroke's peak is looked for: wider than the pixel blocks of an upscaled
# low-resolution scan (an 8x8 digit at 128 px has 16 px blocks), or every grey block of its edge counts as a
# light arm and comes out full strength, swelling the digit into a block-outlined mess.
PEAK_WINDOW = 21
FRAME_BAND = 0.08  # ink running out of the frame and no further in than this (of the side) is not writing,
BAND_SHARE = 0.9  # ... nor is ink running out of it with this share of its strong pixels that far in
BLOCK = 3  # a picture whose rows and columns all come in runs this long or longer is an enlarged tiny one
BOX_SIDE = 0.9  # a piece whose bounding box is inked along this share of each side is a box round the writing
UNDERLINE_FOOT = 0.4  # a line one digit meets only this near its left (of its width) may be a 2's base, and is
UNDERLINE_PAST = 0.12  # ... an underline only when it runs on past the digit at both ends by this (of its width) and
# by a stroke's width: the base of a 2, printed or written, runs a little past the rest of the 2
UNDERLINE_NUMBER = 1.5  # writing this much wider than tall over a line is a number, not a 2 over its base
UNDERLINE_GAP = 7  # px: gaps along an underline this short are closed before it is measured
UNDERLINE_SMALL = 32  # px: writing less tall (an MNIST digit, 20 px) is too coarse to tell an underline from a 2's base
UNDERLINE_TILT = 12.0  # degrees: an underline is drawn level within this, and bows by at most
UNDERLINE_BOW = 0.03  # ... this much of its length


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


def find_ink(image: np.ndarray) -> Ink | None:
    """The ink of any picture array, at working scale (longer side at most 256 px); None when there is none."""
    image = to_uint8(image)
    # Colour is halved towards the working size before it is made grey, so that touches a quarter of the
    # pixels or fewer. (Compositing transparency after averaging differs only in the half-pixel rim of a stroke.)
    halved = halve(image, WORK_SIDE)
    grey = smooth_blocks(shrink(to_grey(halved), WORK_SIDE))
    found = extract_ink(grey, halved if halved.ndim == 3 and halved.shape[2] >= 3 else None)
    if found is None:
        return None
    strength, origin = found
    return Ink(strength, origin, grey.shape[1] / image.shape[1])


def smooth_blocks(grey: np.ndarray) -> np.ndarray:
    """A picture enlarged without smoothing (a tiny original, each of its pixels a block of BLOCK or more
    identical rows and columns) blurred over one block, which is what enlarging it smoothly gives; any other
    picture as it is. Left blocky, an 8x8 digit's staircase edges and square corners read as other digits."""
    rows = np.flatnonzero((grey[1:] != grey[:-1]).any(axis=1))  # where one block of rows ends
    cols = np.flatnonzero((grey[:, 1:] != grey[:, :-1]).any(axis=0))
    if len(rows) < 4 or len(cols) < 4:  # a few bands or a blank page: nothing to tell blocks by
        return grey
    block = int(min(np.diff(rows).min(), np.diff(cols).min()))  # the margins around the blocks do not count
    return cv2.blur(grey, (block, block)) if block >= BLOCK else grey


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


def extract_ink(grey: np.ndarray, colour: np.ndarray | None = None) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Float32 ink strength in [0, 1], light on dark, paper removed, cropped to the ink, and the crop's (x, y);
    None when there is no digit. colour: the picture in colour (any size), which tells a shadow from a desk."""
    if min(grey.shape) >= 3:
        grey = cv2.GaussianBlur(grey, (3, 3), 0)  # takes the edge off sensor noise and JPEG ringing
    sheet = find_sheet(grey, colour, cut_by_level=rim_differs(grey))
    if sheet is not None:  # a note or page with the desk around it: the paper is the sheet, the desk is not ink
        found = _ink_on(paper_beyond(grey, sheet), sheet)
        if found is not None:
            return found
    return _ink_on(grey, None)


def _ink_on(grey: np.ndarray, sheet: np.ndarray | None) -> tuple[np.ndarray, tuple[int, int]] | None:
    """extract_ink's work on a blurred grey picture, only inside the sheet mask when there is one."""
    lo, median, hi = percentiles(grey, (0.05, 50, 99.95))
    # The paper is the majority, and ink lies on whichever side is further from it. But a marker digit may
    # cover most of a picture: when the picture's rim is one even level, the paper is that.
    rim_low, rim_median, rim_high = rim_percentiles(grey)
    if rim_high - rim_low < 0.1 * (hi - lo):
        dark_ink = rim_median - lo > hi - rim_median
    else:
        below, above = median - lo, hi - median
        # Uneven light spreads the paper both ways about equally, so it can only have decided tails that
        # are close (within a factor of 2): in a photo, those are judged again with the light taken out.
        close = max(below, above) < 2 * min(below, above)
        flat = ink_is_dark(grey) if close and max(grey.shape) > 160 else None
        dark_ink = below > above if flat is None else flat
    if dark_ink:
        grey = cv2.bitwise_not(grey)
    ink = cv2.subtract(grey, background(grey))
    if sheet is not None:  # the sheet's own edge, a few pixels wide, is not ink either
        ink *= cv2.erode(sheet, np.ones((7, 7), np.uint8))
    noise = paper_noise(ink, grey)
    if ink.max() < max(MIN_CONTRAST, noise):
        return None
    otsu, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    threshold = max(otsu, noise, MIN_CONTRAST / 2)
    # Hysteresis: weak ink (a light arm of a 4, the faint end of a pencil stroke) counts when it touches strong ink.
    weak = max(noise / 2, MIN_CONTRAST / 2)
    mask = _strokes(ink, min(weak, threshold), threshold)
    # But ruling, a grid or a sheet's edge that touches the digit rides in on it too, its blurred halo too wide
    # at the paper's noise floor to be taken for a line. Ink at a quarter of the threshold sheds them; it is
    # taken when the weak level brought in much that lies away from those firmer strokes (not just their ends).
    if FIRM * threshold > weak and _far_from(mask, mask & (ink > threshold)):  # the strong ink first: cheap
        firm = _strokes(ink, FIRM * threshold, threshold)
        if _far_from(mask, firm):
            mask = firm
    strength = float(np.median(ink[mask > 0])) if mask.any() else 0.0
    if strength < max(MIN_CONTRAST / 2, noise):
        return None
    keep = _digit_components(mask, ink > threshold)
    if keep is None:
        return None
    keep = _without_underline(keep)
    # Only the digit's box matters from here on (with a pixel of margin for the anti-aliased rim).
    x, y, w, h = cv2.boundingRect(keep)
    top, left = max(y - 1, 0), max(x - 1, 0)
    ink, keep = ink[top : y + h + 1, left : x + w + 1], keep[top : y + h + 1, left : x + w + 1]
    # Soft ink: zero at half the threshold, full strength at the strokes' median, anti-aliased between. A weak
    # stroke is measured against its own peak instead, so a light arm comes out as solid as the rest.
    rim = cv2.dilate(keep, np.ones((3, 3), np.uint8))  # keep the anti-aliased rim of the kept strokes
    inked = ink.astype(np.float32) * rim
    peak = np.minimum(cv2.dilate(inked, np.ones((PEAK_WINDOW, PEAK_WINDOW), np.uint8)), strength)
    floor = np.minimum(threshold / 2, peak / 2)
    soft = np.clip((inked - floor) / np.maximum(peak - floor, 1.0), 0.0, 1.0)
    return soft * rim, (left, top)


def _strokes(ink: np.ndarray, low: float, high: float) -> np.ndarray:
    """uint8 mask of the ink above low that touches ink above high, without boxes round the writing and the lines
    across the picture."""
    return _hysteresis(_without_lines(_without_boxes((ink > low).astype(np.uint8)), ink, high), ink, high)


def _without_boxes(mask: np.ndarray) -> np.ndarray:
    """The mask without the boxes of a form that the writing is in: a piece inked along at least BOX_SIDE of each
    side of its bounding box and hollow loses its sides and the upright dividers of a row of boxes. A box counts
    when something is written inside it or inside another box as tall: an empty square alone may be a 0."""
    count, labels, stats, _ = components(mask)
    boxes = []  # (label, x, y, h, its sides and dividers, whether something is written inside)
    for k in np.flatnonzero(np.minimum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]) >= 16) + 1:
        x, y, w, h = (int(v) for v in stats[k, :4])
        piece = labels[y : y + h, x : x + w] == k
        b = max(3, round(0.08 * min(w, h)))  # wide enough for a side a few degrees askew
        sides = (piece[:b].any(axis=0), piece[-b:].any(axis=0), piece[:, :b].any(axis=1), piece[:, -b:].any(axis=1))
        if min(side.mean() for side in sides) < BOX_SIDE or piece[b:-b, b:-b].mean() > 0.7:
            continue  # open somewhere, or a solid blob
        if not any(cv2.boundingRect(c)[3] >= 0.5 * h for c in holes(piece)):
            continue  # no room inside as tall as half the box: squared paper's grid, which the line search takes out
        rows, cols = piece.mean(axis=1), piece.mean(axis=0)
        rim = np.zeros((h, w), np.uint8)
        # Each side as thick as it is inked nearly all along (a thick or blurred line), at least the band.
        rim[: max(b, _leading(rows))] = rim[h - max(b, _leading(rows[::-1])) :] = 1
        rim[:, : max(b, _leading(cols))] = rim[:, w - max(b, _leading(cols[::-1])) :] = 1
        rim[:, _dividers(piece[b : h - b])] = 1
        rim = cv2.dilate(rim, np.ones((3, 3), np.uint8)) > 0
        written = np.count_nonzero(mask[y : y + h, x : x + w][~rim]) >= 0.01 * (w - 2 * b) * (h - 2 * b)
        boxes.append((k, x, y, h, rim, written))
    heights = [h for *_, h, _, written in boxes if written]
    if not heights:
        return mask
    tall = float(np.median(heights))
    out = mask.copy()
    for k, x, y, h, rim, _ in boxes:
        if 0.75 * tall <= h <= 1.33 * tall:
            region = out[y : y + h, x : x + rim.shape[1]]
            region[(labels[y : y + h, x : x + rim.shape[1]] == k) & rim] = 0
    return out


def _dividers(inside: np.ndarray) -> np.ndarray:
    """(W,) bool: the columns of a row of boxes (its inside, between its top and bottom sides) that are its upright
    dividers: bands of columns inked from the top side to the bottom, and no wider than that at most rows. A digit
    touching both sides also fills a few columns top to bottom, but its strokes are wider than those columns."""
    full = inside.mean(axis=0) >= 0.95
    # Two boxes' sides a pixel or two apart are one divider: the gap between them is inked at some rows.
    full = cv2.morphologyEx(full.astype(np.uint8)[None], cv2.MORPH_CLOSE, np.ones((1, 3), np.uint8))[0] > 0
    edges = np.flatnonzero(np.diff(np.r_[0, full.astype(np.int8), 0]))
    for start, stop in zip(edges[::2], edges[1::2]):
        middle = (start + stop) // 2
        # Each row's run of ink through the band's middle column: as wide as the band for a straight upright line.
        run = _leading_run(inside[:, middle::-1]) + _leading_run(inside[:, middle:]) - 1
        if np.median(np.where(inside[:, middle], run, 0)) > stop - start + 2:
            full[start:stop] = False
    return full


def _leading_run(rows: np.ndarray) -> np.ndarray:
    """(H,) how many pixels each row of a bool array holds before its first blank one."""
    return np.where(rows.all(axis=1), rows.shape[1], rows.argmin(axis=1))


def _leading(coverage: np.ndarray) -> int:
    """How many rows (or columns) from a box's edge in, up to a quarter of it, are inked at least 80% across, after
    up to two rows of the side's blurred rim."""
    inked = coverage[: len(coverage) // 4] >= 0.8
    start = np.flatnonzero(inked[:3])
    if len(start) == 0:
        return 0
    band = inked[start[0] :]
    return int(start[0]) + (int(band.argmin()) if not band.all() else len(band))


def _without_underline(keep: np.ndarray) -> np.ndarray:
    """The writing without a line drawn under it (to set a 6 apart from a 9, or a number apart): a thin, nearly
    level, straight stroke along the bottom of every column of the writing, running on past the rest by half a
    stroke's width, at both ends under one digit, at one end under a number; by UNDERLINE_PAST of the rest's width
    and a stroke's width when that is one digit meeting the line at its left, as a 2 meets its base."""
    x, y, w, h = cv2.boundingRect(keep)
    if w < 8 or h < UNDERLINE_SMALL:
        return keep
    writing = keep[y : y + h, x : x + w]
    found = _line_along_bottom(writing)
    if found is None:
        return keep
    line, pen = found
    rest = (writing > 0) & ~line
    if pen > 0.25 * h or w < 4 * pen or not rest.any():
        return keep
    ys, xs = np.nonzero(rest)
    if ys.max() - ys.min() < 2 * pen:
        return keep  # the rest is a sliver of the line's rim: the line is the writing (a dash, a lying 1)
    # Where the rest meets the line: a 2's diagonal meets its base at the 2's left, what stands on an underline
    # (the bottom of a 6's loop, a 4's stem) further in.
    meets = np.flatnonzero((rest & cv2.dilate(line.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)).any(axis=0))
    width = xs.max() - xs.min() + 1
    alone = width < UNDERLINE_NUMBER * (ys.max() - ys.min() + 1)  # one digit over the line, not a number
    foot = max(UNDERLINE_FOOT * width, 1.5 * pen)  # a fat pen's diagonal meets the base over more of it
    base_of_a_2 = alone and len(meets) > 0 and meets[-1] - xs.min() < foot
    # Under a number the line need run on past it at one end only: people stop it under the last digit. (Digits
    # touching along one base, as in a hurried "222", end with it at both ends.)
    margins = sorted((xs.min(), w - 1 - xs.max()))
    if (margins[0] if alone else margins[1]) < (max(UNDERLINE_PAST * width, pen) if base_of_a_2 else max(2.0, pen / 2)):
        return keep
    out = keep.copy()
    out[y : y + h, x : x + w][line] = 0
    return out


def _line_along_bottom(writing: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(bool mask of the line, its pen's width) when the lowest ink of every column of the writing (a uint8 mask
    cropped to it) lies along one straight, nearly level line; else None."""
    h, w = writing.shape
    # Gaps along the line closed: a pen skipping, or a long line the level line search took out in steps.
    joined = cv2.morphologyEx(writing, cv2.MORPH_CLOSE, np.ones((1, UNDERLINE_GAP), np.uint8)) > 0
    if not joined.any(axis=0).all():
        return None  # a column without ink: nothing runs under all of the writing
    bottom = h - 1 - joined[::-1].argmax(axis=0)  # the lowest ink of each column
    k = w // 20
    low, high = np.partition(bottom, (k, w - 1 - k))[[k, w - 1 - k]]
    if high - low > 0.2 * w + 2 or np.mean(np.abs(np.diff(bottom)) <= 2) < 0.9:
        return None  # the bottom edge is not level, or it jumps: no line under it (nearly every digit: 20 us)
    rows, cols = np.arange(h)[:, None], np.arange(w)
    top = np.where(~joined & (rows < bottom), rows, -1).max(axis=0) + 1  # where each column's lowest run starts
    run = bottom - top + 1
    cap = int(np.median(run))  # a pen's round ends curve up: the line is fitted without them
    middle = cols[cap : w - cap]
    if len(middle) < 8:
        return None
    level = np.polyfit(middle, bottom[middle], 2)
    inline = np.abs(bottom - np.polyval(level, cols)) <= max(2, cap / 4)  # a stroke may cross the line and hang below it
    if inline[middle].mean() < 0.9:
        return None
    along = middle[inline[middle]]
    level = np.polyfit(along, bottom[along], 2)
    length = along[-1] - along[0]
    tilt = abs(np.polyval(level, along[-1]) - np.polyval(level, along[0])) / max(length, 1)
    if tilt > math.tan(math.radians(UNDERLINE_TILT)) or abs(level[0]) * (length / 2) ** 2 > UNDERLINE_BOW * length:
        return None
    edge = np.polyval(level, cols)
    pen = float(np.percentile(run[along], 20))  # what stands on the line lengthens its runs: most may be inked above it
    # The line is each column's lowest run, or its pen's width of it where a stroke stands on it; not where a stroke
    # crosses the line and hangs below it, or where the writing runs on past the line's end (its round ends rise by
    # half the pen).
    start = np.where(run <= 1.5 * pen + 1, top, edge - pen - 1)
    on_line = np.abs(bottom - edge) <= pen / 2 + 2
    return joined & (rows >= start) & (rows <= edge + 2) & on_line, pen


def _far_from(mask: np.ndarray, strokes: np.ndarray) -> bool:
    """Whether more of the mask lies over 4 px from the strokes than half the strokes' own pixels."""
    near = cv2.dilate(strokes, np.ones((9, 9), np.uint8))
    return np.count_nonzero(mask & (1 - near)) > 0.5 * np.count_nonzero(strokes)


def _hysteresis(weak: np.ndarray, ink: np.ndarray, high: float) -> np.ndarray:
    """uint8 mask of the pieces of the weak mask that have a pixel of ink above high."""
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    strong = np.zeros(count, np.uint8)
    strong[labels[ink > high]] = 1
    strong[0] = 0
    return strong.take(labels)


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """cv2.connectedComponentsWithStats of a uint8 mask, 8-connected, by Grana's algorithm: the same labels and
    stats as the default, which with stats costs three times as long on a 256 px digit (370 against 130 us)."""
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)


def _without_lines(mask: np.ndarray, ink: np.ndarray, high: float) -> np.ndarray:
    """The mask without ruling, an underline or a page edge (_without_level_lines), with ruled lines on a page
    photographed askew first turned level. Shrunk to the working size, a thin rule a degree or more off level
    comes out as dashes a row apart, which no level line search joins up."""
    h, w = mask.shape
    if max(h, w) <= 160:  # icons and small scans have no ruling
        return mask
    tilt = _ruling_tilt(mask)
    if tilt is None:
        return _without_level_lines(mask, ink, high)
    c, s = abs(math.cos(math.radians(tilt))), abs(math.sin(math.radians(tilt)))
    size = (math.ceil(w * c + h * s), math.ceil(h * c + w * s))  # the turned picture, corners and all
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
    turn[:, 2] += (size[0] - w) / 2, (size[1] - h) / 2
    turned = cv2.warpAffine(mask, turn, size, flags=cv2.INTER_NEAREST)
    kept = _without_level_lines(turned, cv2.warpAffine(ink, turn, size, flags=cv2.INTER_LINEAR), high, RULED_BRIDGE, True)
    lines = cv2.warpAffine((turned & (1 - kept)).astype(np.float32), cv2.invertAffineTransform(turn), (w, h),
                           flags=cv2.INTER_LINEAR)
    return mask & (lines < 0.25).astype(np.uint8)


def _ruling_tilt(mask: np.ndarray) -> float | None:
    """The angle (degrees, counter-clockwise) that turns a family of thin, nearly level lines level: the one of
    TILTS whose rows' ink is most concentrated, at least RULED_PEAK times the median over TILTS; None when there
    are too few thin level runs to be ruling (nearly every picture: the search then costs 30 us), or as many
    upright ones."""
    h, w = mask.shape
    if min(h, w) < 32:
        return None  # a strip of a picture: no page of ruling
    band = int(FRAME_BAND * w)  # upright lines there may be the page's edges; squared paper has them all over
    if _thin_runs(mask, horizontal=True) < 1.2 * w or _thin_runs(mask[:, band:w - band], horizontal=False) >= 1.2 * h:
        return None  # no lines, or squared paper: its upright lines hold a grid together for the level search
    small = cv2.resize(mask, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    peaks = [float(np.square(cv2.warpAffine(small, cv2.getRotationMatrix2D(centre, float(t), 1.0), small.shape[::-1],
                                            flags=cv2.INTER_NEAREST).sum(axis=1, dtype=np.float64)).sum())
             for t in TILTS]
    best = int(np.argmax(peaks))
    return float(TILTS[best]) if peaks[best] >= RULED_PEAK * max(float(np.median(peaks)), 1.0) else None


def _thin_runs(mask: np.ndarray, horizontal: bool) -> int:
    """How many pixels of the mask lie in runs at least 9 px long one way and at most 4 px thick the other."""
    across, along = ((5, 1), (1, 9)) if horizontal else ((1, 5), (9, 1))
    thin = mask & (1 - cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones(across, np.uint8)))
    return cv2.countNonZero(cv2.morphologyEx(thin, cv2.MORPH_OPEN, np.ones(along, np.uint8)))


def _without_level_lines(mask: np.ndarray, ink: np.ndarray, high: float, bridge: int = 7, turned: bool = False) -> np.ndarray:
    """The mask without ruling, an underline or a page edge: straight lines across most of the picture that run
    on past the writing at both ends, or through it. A line that ends in the writing is part of it (a tall thin 1,
    the bar of a 7 that fills the frame). Where a stroke crosses a line taken out, its pixels stay. bridge: the
    gaps along a line (px) that are closed before it is measured. turned: the lines were turned exactly level,
    so a line is only the rows (or columns) it fills along its length, not a stroke bridged onto it."""
    h, w = mask.shape
    found = np.zeros_like(mask)
    candidates = []
    for horizontal in (True, False):
        # Upright rules are looked for with the level ones taken out: where the rules of squared paper cross,
        # the level rule is then no stroke running on across the upright one, and the grid's corners go too.
        left = mask & (1 - found)
        side = w if horizontal else h
        along = (lambda n: np.ones((1, n) if horizontal else (n, 1), np.uint8))
        # Closing first bridges the gaps noise leaves in a faint line; the opening keeps only long straight runs.
        opened = cv2.morphologyEx(cv2.morphologyEx(left, cv2.MORPH_CLOSE, along(bridge)), cv2.MORPH_OPEN, along(max(15, round(0.08 * side))))
        extent = np.flatnonzero(opened.any(axis=0 if horizontal else 1))
        if len(extent) == 0 or extent[-1] - extent[0] < LINE_SPAN * side:
            continue  # nothing long enough: the usual case, and it spares labelling the pieces
        count, labels, stats, _ = components(opened)
        span = stats[1:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
        long = np.flatnonzero(span >= LINE_SPAN * side) + 1
        # A lone straight run thicker than LINE_CROSSING is a fat stroke, but ruling comes in families, and
        # photographed out of focus its lines come out as thick as that at the paper's noise floor.
        ruling = len(long) >= RULING
        crossings: dict[int, np.ndarray] = {}  # by run length: one opening serves every line of a family
        for k in long:
            piece = (labels == k).astype(np.uint8)
            if turned:  # a digit sitting on a rule is not part of it: only the rule's own rows are
                filled = piece.sum(axis=1 if horizontal else 0) >= 0.25 * span[k - 1]
                piece &= (filled[:, None] if horizontal else filled[None, :]).astype(np.uint8)
                if not piece.any():
                    continue  # long, but no rule's rows: a slanting run of strokes bridged together
            # Thin along much of its length (digits touching it may cover the rest, so not the median).
            axis = 0 if horizontal else 1
            runs = np.count_nonzero(np.diff(piece, axis=axis, prepend=0) == 1, axis=axis)  # parallel lines per column
            across = piece.sum(axis=axis)[runs > 0] / runs[runs > 0]
            thickness = np.percentile(across, 20)
            if thickness > (2 * LINE_CROSSING - 2 if ruling else LINE_CROSSING - 1):
                continue
            rimmed = cv2.dilate(piece, np.ones((3, 1) if horizontal else (1, 3), np.uint8))  # with its soft rim
            if turned:  # where a stroke lies along a turned rule, ink well above the rule's own is the stroke's
                rimmed &= (ink <= STROKE_OVER_RULE * float(np.median(ink[piece > 0]))).astype(np.uint8)
            # A stroke crosses a line where the mask runs on across it (further than the line is thick): keep those pixels.
            run = max(LINE_CROSSING, int(thickness) + 4)
            line = rimmed & (1 - _crossing(left, run if ruling else LINE_CROSSING, horizontal, crossings))
            found |= line  # every candidate, ruling or not, is left out when the writing is judged
            # A level line running past the writing at both ends goes whole: a thick one a few degrees off level has
            # steps between its level runs as thick as LINE_CROSSING, which would stay as dashes (an underline's).
            whole = rimmed & (1 - _crossing(left, run, horizontal, crossings)) if horizontal and not ruling else line
            x, y, width, height = stats[k, :4]
            py, px = np.nonzero(labels[y : y + height, x : x + width] == k)  # in its box: full-size scans add up
            candidates.append(((py + y, px + x), horizontal, line, whole))
    if not candidates:
        return mask
    # The writing is what lies a few pixels away from every line and holds ink above high (not the weak noise of
    # a dark rim); with none, the lines are the writing (one tall 1).
    writing = _digit_components(_hysteresis(mask & (1 - cv2.dilate(found, np.ones((7, 7), np.uint8))), ink, high))
    if writing is None:
        return mask
    points, reach = np.nonzero(writing), cv2.dilate(writing, np.ones((2 * REACH + 1,) * 2, np.uint8))
    lines = np.zeros_like(mask)
    verdicts = [_runs_past_or_through(pixels, points, reach, horizontal) for pixels, horizontal, _, _ in candidates]
    # Upright lines running past the writing come in families (squared paper), or run far past it (a margin line, a
    # page's edge). A lone one running a little past it is a tall 1 beside a shorter digit.
    upright = [i for i, verdict in enumerate(verdicts) if verdict == "past" and not candidates[i][1]]
    if len(upright) < RULING:
        for i in upright:
            verdicts[i] = _runs_past_or_through(candidates[i][0], points, reach, False, UPRIGHT_PAST * np.ptp(points[0]))
    for (_, _, line, whole), verdict in zip(candidates, verdicts):
        if verdict is not None:
            lines |= whole if verdict == "past" else line
    return mask & (1 - lines)


def _crossing(mask: np.ndarray, run: int, horizontal: bool, cache: dict[int, np.ndarray]) -> np.ndarray:
    """Where the mask runs on at least `run` px across a level (or upright) line: strokes crossing it. One opening
    serves every line of a family, so they are kept in cache by run length."""
    if run not in cache:
        cache[run] = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((run, 1) if horizontal else (1, run), np.uint8))
    return cache[run]


def _runs_past_or_through(line: tuple[np.ndarray, np.ndarray], writing: tuple[np.ndarray, np.ndarray],
                          reach: np.ndarray, horizontal: bool, past: float = 0.0) -> str | None:
    """How a long straight line lies by the writing: "past" when it runs on past it at both ends (ruling, an
    underline, a page edge), "through" when it runs through it (writing on both sides of it, as ruling crosses a
    digit), None when it ends in it. line and writing: their pixels' rows and columns; reach: the writing's mask
    grown by REACH px. past: how far (px) it must run on past the writing at both ends, if further than LINE_PAST."""
    ys, xs = line
    wy, wx = writing
    along, across, w_along, w_across = (xs, ys, wx, wy) if horizontal else (ys, xs, wy, wx)
    # The writing's extent, with the line's pixels within reach of it: a line ending in a stroke ends there.
    touching = along[reach[ys, xs] > 0]
    start, end = touching.min(initial=w_along.min()), touching.max(initial=w_along.max())
    past = max(past, LINE_PAST * reach.shape[1 if horizontal else 0])
    if along.min() < start - past and along.max() > end + past:
        return "past"
    # An upright line the writing lies all alongside, beside it only near its ends, is the writing's own stem: a 1 on
    # its foot or over its underline, with its flag. (A rule through the writing has writing beside its length, or
    # runs on into it from beyond.)
    stem = not horizontal and w_along.min() >= along.min() - REACH and w_along.max() <= along.max() + REACH
    ends = END_ZONE * (along.max() - along.min()) if stem else 0
    beside = (w_along >= along.min() + ends) & (w_along <= along.max() - ends)
    if not beside.any():
        return None
    beyond = w_across[beside] > np.polyval(np.polyfit(along, across, 1), w_along[beside])
    return "through" if min(beyond.mean(), 1 - beyond.mean()) >= LINE_THROUGH else None


def _digit_components(mask: np.ndarray, strong: np.ndarray | None = None) -> np.ndarray | None:
    """uint8 mask of the connected pieces that make the writing (specks dropped); None if nothing is digit-sized.
    strong: where the ink is above the threshold, which tells a page's edge at the frame from what hangs on it
    (without it, every pixel of the mask counts).

    A piece stays when it is big beside the largest, tall like a digit (a thin 1 beside a fat 8), or small
    but close to a kept piece (the dot of a careless stroke)."""
    count, labels, stats, _ = components(mask)
    if count < 2:
        return None
    # Pieces lying wholly in the picture's outer 3% are its rim (light falling off at the edge), not writing.
    h, w = mask.shape
    x0, y0 = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + stats[1:, cv2.CC_STAT_WIDTH], y0 + stats[1:, cv2.CC_STAT_HEIGHT]
    rx, ry = max(2, 0.03 * w), max(2, 0.03 * h)
    rim = (x1 <= rx) | (x0 >= w - rx) | (y1 <= ry) | (y0 >= h - ry)
    # So are pieces running out of the frame that lie wholly in its outer FRAME_BAND: a sliver of desk or shadow
    # between a sheet's edge and the frame, a strip of the next page. (A digit cut by the frame reaches further in.)
    fx, fy = FRAME_BAND * w, FRAME_BAND * h
    rim |= ((x0 == 0) & (x1 <= fx)) | ((x1 == w) & (x0 >= w - fx)) | ((y0 == 0) & (y1 <= fy)) | ((y1 == h) & (y0 >= h - fy))
    # And pieces nearly all there, or their strong ink, with fainter ink hanging on reaching further in: the edge
    # of a page photographed askew, with the ends of ruled lines on it.
    at_frame = (x0 == 0) | (y0 == 0) | (x1 == w) | (y1 == h)
    if max(h, w) > 160 and (at_frame & ~rim).any():
        rim |= _in_frame_band(labels, stats, np.flatnonzero(at_frame & ~rim), int(fx), int(fy), mask if strong is None else strong)
    stats[1:, cv2.CC_STAT_AREA] *= ~rim if max(h, w) > 160 else 1
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(areas.argmax())
    if areas[largest] < max(3, 1e-4 * mask.size):
        return None
    tall = stats[1:, cv2.CC_STAT_HEIGHT]
    keep = (areas >= 0.08 * areas[largest]) | ((tall >= 0.4 * tall[largest]) & (areas >= 0.01 * areas[largest]))
    if keep.all():
        return mask
    reach = 0.25 * tall[largest]
    kept = np.flatnonzero(keep)
    for i in np.flatnonzero(~keep & (areas >= 0.01 * areas[largest])):
        gap_x = np.maximum(0, np.maximum(x0[kept] - x1[i], x0[i] - x1[kept]))
        gap_y = np.maximum(0, np.maximum(y0[kept] - y1[i], y0[i] - y1[kept]))
        keep[i] = bool((np.maximum(gap_x, gap_y) <= reach).any())
    lut = np.zeros(count, np.uint8)
    lut[1:] = keep
    return lut.take(labels)


def _in_frame_band(labels: np.ndarray, stats: np.ndarray, candidates: np.ndarray, fx: int, fy: int,
                   strong: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the candidate pieces (labels - 1) that run out of the frame have at least BAND_SHARE
    of their pixels in the strong mask in the frame's outer band on that side (fx, fy px deep). A digit cut by
    the frame reaches much further in."""
    h, w = labels.shape
    out = np.zeros(len(stats) - 1, bool)
    for k in candidates:
        x, y, width, height = stats[k + 1, :4]
        own = (labels[y : y + height, x : x + width] == k + 1) & (strong[y : y + height, x : x + width] > 0)
        total = max(int(np.count_nonzero(own)), 1)
        inside = max(np.count_nonzero(own[:, : fx - x]) if x == 0 else 0,
                     np.count_nonzero(own[:, max(w - fx - x, 0) :]) if x + width == w else 0,
                     np.count_nonzero(own[: fy - y]) if y == 0 else 0,
                     np.count_nonzero(own[max(h - fy - y, 0) :]) if y + height == h else 0)
        out[k] = inside >= BAND_SHARE * total
    return out

"""A sheet (sticky note, page) lying on a desk: where it is, and the picture with the desk replaced by the
sheet's paper, so that the desk is not taken for the paper or for ink. Pure numpy/OpenCV; used by digitcore.ink.
"""
from __future__ import annotations

import cv2
import numpy as np

from digitcore.paper import SHADOW, to_coarse, paper_surface, percentiles, rim_percentiles

SHEET_CONTRAST = 25  # grey levels between a sheet and the desk it lies on
SAME_COLOUR = 0.015  # chromaticities (r, g, b over their sum) this close (summed) are one paper's, in light or shade


def rim_differs(grey: np.ndarray) -> bool:
    """Whether the picture's rim and its middle differ like a desk and a sheet (else all is one paper)."""
    h, w = grey.shape
    middle = grey[h // 4 : h - h // 4, w // 4 : w - w // 4]
    return abs(rim_percentiles(grey)[1] - percentiles(np.ascontiguousarray(middle), (50,))[0]) >= SHEET_CONTRAST


def find_sheet(grey: np.ndarray, colour: np.ndarray | None = None, cut_by_level: bool = True) -> np.ndarray | None:
    """uint8 mask of a sheet (sticky note, page) lying on a darker or lighter desk, or None when the picture
    is all paper. A sheet is a solid region with straight sides, 15-85% of the picture, holding the writing.

    It is looked for on either side of one grey level (when cut_by_level), then as a region its own sharp edge
    encloses: light falling off into the corners can leave a light desk there as dark as the note on it. Given
    the picture in colour (any size), a region with the same paper around it is no sheet (same_paper)."""
    sheet = _sheet_in_grey(grey, cut_by_level)
    if sheet is not None and colour is not None and same_paper(colour, sheet):
        return None  # a shadow's edge across one paper (which the paper's light then follows), or a printed box
    return sheet


def _sheet_in_grey(grey: np.ndarray, cut_by_level: bool) -> np.ndarray | None:
    """find_sheet's search in the grey picture alone."""
    h, w = grey.shape
    if max(h, w) <= 160:
        return None
    coarse = to_coarse(grey)
    step = cv2.morphologyEx(coarse, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))  # 3x3 max - min
    if cut_by_level:
        cut, _ = cv2.threshold(coarse, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        if (coarse > cut).any() and not (coarse > cut).all():
            contrast = float(np.median(coarse[coarse > cut])) - float(np.median(coarse[coarse <= cut]))
            for side in (coarse > cut, coarse <= cut) if contrast >= SHEET_CONTRAST else ():
                filled = solid_region(side, at_frame=True)
                if filled is not None and is_sheet(filled, step, contrast):
                    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_NEAREST)
    filled = solid_region(step < SHEET_CONTRAST / 2)
    if filled is None:
        return None
    filled = cv2.dilate(filled, np.ones((3, 3), np.uint8))  # out to the middle of the edge the region stops at
    if filled.all():
        return None
    contrast = abs(float(np.median(coarse[filled > 0])) - float(np.median(coarse[filled == 0])))
    if contrast < SHEET_CONTRAST or not is_sheet(filled, step, contrast):
        return None
    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_NEAREST)


def solid_region(side: np.ndarray, at_frame: bool = False) -> np.ndarray | None:
    """uint8 mask of the first piece of a bool mask, largest first, whose outline filled is 15-85% of the
    picture, solid (92% of its hull) and straight-sided (at most 6 corners); None when there is none.
    at_frame: a notch where a piece meets the picture's edge is closed first (closed_at_frame)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(side.astype(np.uint8), connectivity=4)
    for k in 1 + np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:3]:
        if stats[k, cv2.CC_STAT_AREA] < 0.1 * side.size:
            break
        piece = (labels == k).astype(np.uint8)
        contours, _ = cv2.findContours(closed_at_frame(piece) if at_frame else piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        outline = max(contours, key=cv2.contourArea)
        area, hull = cv2.contourArea(outline), cv2.convexHull(outline)
        if not 0.15 * side.size <= area <= 0.85 * side.size or area < 0.92 * cv2.contourArea(hull):
            continue
        if len(cv2.approxPolyDP(hull, 0.015 * cv2.arcLength(hull, True), True)) > 6:
            continue  # round: a fat 0, not a sheet
        return cv2.drawContours(np.zeros(side.shape, np.uint8), [outline], -1, 1, cv2.FILLED)
    return None


def closed_at_frame(piece: np.ndarray) -> np.ndarray:
    """The piece with its notch at the picture's edge filled: a digit written up to the edge of a note that runs
    out of the frame cuts into the note's outline there, and it is no longer solid. Only when one edge of the
    picture alone has a notch, and only one: ruling, and light falling off across a page, cut several, or at
    opposite edges."""
    closed = piece.copy()
    edges = (closed[0], closed[-1], closed[:, 0], closed[:, -1])  # views: filling one fills closed
    notches = [np.count_nonzero(np.diff(np.flatnonzero(edge)) > 1) for edge in edges]
    if sorted(notches) == [0, 0, 0, 1]:
        edge = edges[notches.index(1)]
        on = np.flatnonzero(edge)
        edge[on[0] : on[-1] + 1] = 1
    return closed


def is_sheet(filled: np.ndarray, step: np.ndarray, contrast: float) -> bool:
    """Whether a solid region ends at a sharp edge (not light falling off across one paper) and has
    something written on it (else it is a fat stroke)."""
    edge = cv2.morphologyEx(filled, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    edge[[0, -1], :] = edge[:, [0, -1]] = 0  # the picture's own border is no edge of the sheet
    if not edge.any() or np.median(step[edge > 0]) < 0.4 * contrast:
        return False
    return written_on(step, filled)


def written_on(step: np.ndarray, filled: np.ndarray) -> bool:
    """Whether something is written inside the mask, away from its edge: else it is a fat stroke, not a sheet."""
    inside = cv2.erode(filled, np.ones((5, 5), np.uint8))
    return np.count_nonzero(step[inside > 0] >= SHEET_CONTRAST / 2) >= 0.002 * step.size


def same_paper(colour: np.ndarray, sheet: np.ndarray) -> bool:
    """Whether what lies around a sheet found in the grey picture is the sheet's own paper, not a desk: the same
    colour, at least SHADOW as bright. In grey, a shadow's straight edge across a page (a hand, the phone), or a
    printed box on a form, looks like the edge of a note on a desk; a desk differs in colour, or is far darker.
    colour: the picture, (H, W, 3 or 4) uint8 at any size; sheet: its uint8 mask at the working size."""
    mask = to_coarse(sheet)
    # Sampled, not averaged: medians of a few hundred pixels need no smoothing, and this is 30 times quicker.
    rgb = cv2.resize(np.ascontiguousarray(colour[..., :3]), mask.shape[::-1], interpolation=cv2.INTER_NEAREST)
    rgb = rgb.astype(np.float32) + 1
    inside = cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0
    around = cv2.dilate(mask, np.ones((3, 3), np.uint8)) == 0
    if inside.sum() < 12 or around.sum() < 12:
        return False
    lit, shaded = np.median(rgb[inside], axis=0), np.median(rgb[around], axis=0)
    chroma = float(np.abs(lit / lit.sum() - shaded / shaded.sum()).sum())
    return bool(chroma < SAME_COLOUR and min(lit.sum(), shaded.sum()) >= SHADOW * max(lit.sum(), shaded.sum()))


def paper_beyond(grey: np.ndarray, sheet: np.ndarray) -> np.ndarray:
    """The picture with the desk replaced by the sheet's paper carried on past its edges, light and shade
    included: a flat fill would make the sheet's shaded side stand out against it like ink."""
    h, w = grey.shape
    coarse = to_coarse(grey)
    inside = cv2.erode(cv2.resize(sheet, coarse.shape[::-1], interpolation=cv2.INTER_NEAREST), np.ones((3, 3), np.uint8)) > 0
    if inside.sum() < 12:
        return np.where(sheet > 0, grey, np.uint8(np.median(grey[sheet > 0])))
    lo, median, hi = np.percentile(coarse[inside], (0.5, 50, 99.5))
    dark_ink = median - lo > hi - median
    surface, _ = paper_surface(255 - coarse if dark_ink else coarse, inside)
    surface = 255 - surface if dark_ink else surface
    # A quadratic runs away far from the pixels it was fitted on: the desk gets no lighter or darker than the sheet.
    surface = np.clip(surface, surface[inside].min(), surface[inside].max()).astype(np.float32)
    fill = cv2.resize(surface, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.where(sheet > 0, grey, np.clip(fill + 0.5, 0, 255).astype(np.uint8))

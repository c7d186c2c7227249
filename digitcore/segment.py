"""Split the ink of a line of writing into digits, left to right. Pure numpy/OpenCV: no model.

Three steps, each on boolean masks over the ink map:
  1. geometry: small marks (a 5's bar, a 7's crossbar, a dot) join the nearest digit-sized stroke, and
     strokes whose columns overlap join one digit (a 4 in two strokes);
  2. ambiguous joins: neighbours a hair apart are joined when the model reads them more surely as one digit;
  3. cuts: a wide piece, or a narrower one the model reads as no digit, is cut along seams (nearly straight
     top-to-bottom paths through the least ink, so they pass between touching or overlapping digits); every
     run of up to MAX_RUN slices between seams is a candidate digit, and the chain of candidates that reads
     most surely wins, each cut costing a little (more if it crosses strokes). One round loop is never cut.
     Each chosen cut is then tried again along curved seams, and with the neighbours sharing the strokes
     where they overlap, and moved where both sides read more surely. A cut stands only when its digits
     read surely in their own right (sure_cut): a letter or a heart reads as no digit whole, so any cut of
     it beats the whole, but its halves read as doubtful digits; and not when two neighbours are straight
     strokes leaning apart (leaning_apart: a V cut at its point reads as "11").
The model is never imported: the caller passes `score`, which says how surely each soft ink map is one digit.
Judging is batched: at most one call for the joins, one for the doubts and one for the cuts of a line, and two
for each cut refined. Rows of ink separated by blank rows are lines, read top to bottom, each left to right,
as one sequence.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from digitcore.ink import components
from digitcore.preprocess import stroke_width
from digitcore.shapes import LINE_LIKE, holes, straightness

Box = tuple[int, int, int, int]  # x, y, w, h in the ink map's pixels
Piece = tuple[np.ndarray, Box]  # (h, w) float32 soft ink of one digit, and where it sits in the map
Scorer = Callable[[list[np.ndarray]], np.ndarray]  # soft ink maps -> how surely each is one digit, (N,) in [0, 1]

LINE_GAP = 0.25  # lines of writing are further apart than this (of the shorter line's height)
MAX_PIECES = 30  # past this many digit-sized pieces nothing is judged: the caller answers "too many" at once
MARK = 0.45  # a stroke shorter than this (of the line's height) is part of a digit (a bar, a foot), not one
TALL = 0.6  # a candidate digit cut from a piece is at least this tall (of the line's height)
NEAR = 0.6  # a mark joins a digit no further than this (of the line's height) away; else it stays its own piece
OVERLAP = 0.3  # strokes whose columns overlap this much (of the narrower) are one digit before any judging
TOUCH = 0.15  # neighbours closer than this (of the line's height) may be one digit: the model decides
MAX_WIDTH = 1.1  # no single digit is wider than this (of the line's height): wider slices are not candidates
CUT_WIDTH = 1.05  # pieces wider than this (of the line's height) are always tried for a cut
NARROW_CUT = 0.3  # pieces between this and CUT_WIDTH wide are tried when the model doubts they are one digit
                  # (two touching 1s or 7s are narrower than one wide digit)
SURE_MEAN = 0.7  # the digits cut from a piece read at least this surely (geometric mean), or it stays whole
SURE_PART = 0.9  # ... and each of them this surely, when the piece is no wider than one digit
DOUBT = 0.1  # a piece scoring less than this as one digit is in doubt (the model reads two touching digits as
             # no digit, a clumsy single digit as a digit, if unsure)
LOOP, LOOP_AREA = 0.8, 0.4  # a piece with a hole this wide (of its width) and this big (of its box) is one round
                            # shape (a smiley, a circle): never cut
ROUND, ROUND_AREA = 0.7, 0.2  # a hole this wide and big (a heart, a house) makes every digit cut from the piece
                              # need SURE_PART, however wide the piece
APART = 40.0  # neighbours as line-like as a stroke (shapes.LINE_LIKE) leaning this many degrees apart are one V
EDGE = 0.15  # a cut leaves at least this (of the line's height) on either side
TYPICAL_WIDTH = 0.9  # digits are at most about this wide (of the line's height): wider candidates score less,
                     # and wider neighbours are never joined
WIDE = 2.5  # log-score lost per line height of width beyond TYPICAL_WIDTH
CUT = 0.7  # log-score lost per cut: cutting needs evidence (the model reads fragments of a digit surely too)
CROSSING = 0.5  # log-score lost per stroke a cut crosses: touching digits meet at one stroke, a cut digit at more
SEAM_STEP = 0.5  # ink-free cost of a seam pixel: seams prefer short, near-vertical paths
SEAM_ROWS = 48  # seams are searched at most this many rows tall: enough to pass between digits, and fast
BAND = 0.05  # a seam strays at most this far (of the line's height) sideways from where it starts: nearly straight
             # seams are many and distinct (with 0.15 most converged on a few paths: touching read 58% -> 66%)
MAX_CUTS = 16  # candidate seams per piece at most
SPACING = 0.2  # every stretch this wide (of the line's height) offers its cheapest seam, so cuts cover the piece
REFINE_BAND = 0.25  # a chosen cut is tried again along seams straying this far sideways (of the line's height)
REFINE_CUTS = 6  # seams tried per chosen cut
REFINE_TOP = 2  # of those, the cuts whose sides read best are tried with shared strokes
SHARE = 0.1  # overlapping digits share strokes: a side is also tried with its neighbour's ink this near its own
MAX_RUN = 6  # a candidate digit spans at most this many slices between seams


def split_digits(ink: np.ndarray, score: Scorer | None = None, limit: int = MAX_PIECES) -> list[Piece]:
    """The digits of a soft ink map (h, w) float32, lines top to bottom, each left to right.

    score judges ambiguous joins and cuts (without it, only geometry decides). More than `limit` pieces are
    returned unjudged, so a caller can refuse scribble or text fast."""
    pieces: list[Piece] = []
    if not (ink > 0).any():
        return pieces
    for top, bottom in lines(ink > 0):
        band = ink[top:bottom]
        masks = split_line(band, score, limit - len(pieces))
        for mask in masks:
            x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
            pieces.append((np.where(mask, band, 0)[y : y + h, x : x + w], (x, y + top, w, h)))
        if len(pieces) > limit:
            break
    return pieces


def touching_runs(ink: np.ndarray, pieces: list[Piece]) -> list[list[int]]:
    """Indices of the pieces of an ink map (in reading order) grouped into runs of neighbours that share a
    connected stroke of the ink: digits written into each other, or one piece cut into several. Neighbours a gap
    apart, however their boxes overlap (slanted writing), are separate runs."""
    _, labels = cv2.connectedComponents((ink > 0).astype(np.uint8), connectivity=8)
    strokes = [set(np.unique(labels[y : y + h, x : x + w][piece > 0]).tolist()) for piece, (x, y, w, h) in pieces]
    runs: list[list[int]] = []
    shared: set[int] = set()
    for i, own in enumerate(strokes):
        if runs and shared & own:
            runs[-1].append(i)
            shared |= own
        else:
            runs.append([i])
            shared = set(own)
    return runs


def lines(mask: np.ndarray) -> list[tuple[int, int]]:
    """(top, bottom) rows of each line of writing: bands of ink between blank rows. A band too thin to be a line
    of digits (a 5's bar above its body) or a hair away from the next (a digit in two stacked strokes) is joined
    to its neighbour."""
    rows = mask.any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])))
    bands = [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2])]
    while len(bands) > 1:
        tallest = max(b - a for a, b in bands)
        gaps = [bands[i + 1][0] - bands[i][1] for i in range(len(bands) - 1)]
        heights = [b - a for a, b in bands]
        joins = [
            i for i in range(len(gaps))
            if min(heights[i], heights[i + 1]) < 0.5 * tallest or gaps[i] < LINE_GAP * min(heights[i], heights[i + 1])
        ]
        if not joins:
            break
        i = min(joins, key=lambda i: gaps[i])  # the closest pair first
        bands[i : i + 2] = [[bands[i][0], bands[i + 1][1]]]
    return [(a, b) for a, b in bands]


def split_line(ink: np.ndarray, score: Scorer | None, limit: int) -> list[np.ndarray]:
    """Boolean masks (h, w) of the digits of one line of ink, left to right."""
    count, labels, stats, _ = components((ink > 0).astype(np.uint8))
    boxes = stats[1:, :4]
    if count - 1 > 4 * limit:  # scribble: masks of the first few components are answer enough
        return [labels == i for i in range(1, limit + 2)]
    height = line_height(boxes)
    groups = join_by_geometry(boxes, height)
    if len(groups) > limit:
        return [np.isin(labels, [i + 1 for i in g]) for g in groups[: limit + 1]]
    masks = [np.isin(labels, [i + 1 for i in g]) for g in groups]
    # Measured again on the groups, and after the joins: a digit in two strokes may have only shorter strokes.
    height = max(height, line_height(boxes_of(masks)))
    if score is not None:
        masks = join_by_score(ink, masks, height, score)
        height = max(height, line_height(boxes_of(masks)))
        masks = cut_by_score(ink, masks, height, score)
    return sorted(masks, key=lambda m: centre_x(m))


def line_height(boxes: np.ndarray) -> float:
    """A digit's height in this line: the median height of the boxes (x, y, w, h) at least half as tall as the tallest."""
    heights = boxes[:, 3]
    return float(np.median(heights[heights >= 0.5 * heights.max()]))


def boxes_of(masks: list[np.ndarray]) -> np.ndarray:
    """(k, 4) boxes (x, y, w, h) of the masks."""
    return np.array([cv2.boundingRect(m.astype(np.uint8)) for m in masks])


def join_by_geometry(boxes: np.ndarray, height: float) -> list[list[int]]:
    """Component indices grouped into digits: marks join the nearest stroke, column-overlapping strokes join."""
    marks = [i for i, (x, y, w, h) in enumerate(boxes) if h < MARK * height]
    strokes = sorted(set(range(len(boxes))) - set(marks), key=lambda i: boxes[i, 0])
    if not strokes:  # only marks (a row of dashes): each is its own piece
        return [[i] for i in marks]
    groups: list[list[int]] = []
    right = -1
    for i in strokes:
        x, _, w, _ = boxes[i]
        if groups:
            left = min(boxes[j, 0] for j in groups[-1])
            overlap = right - x
            narrower = min(w, right - left)
            if overlap >= OVERLAP * narrower:
                groups[-1].append(i)
                right = max(right, x + w)
                continue
        groups.append([i])
        right = x + w
    for i in marks:
        distances = [box_distance(boxes[i], boxes[g]) for g in groups]
        nearest = int(np.argmin(distances))
        if distances[nearest] <= NEAR * height:
            groups[nearest].append(i)
        else:
            groups.append([i])
    return sorted(groups, key=lambda g: boxes[g, 0].min())


def box_distance(box: np.ndarray, group: np.ndarray) -> float:
    """Gap in pixels between a box (x, y, w, h) and the nearest of a group's boxes (k, 4); 0 when they overlap."""
    dx = np.maximum(0, np.maximum(group[:, 0] - (box[0] + box[2]), box[0] - (group[:, 0] + group[:, 2])))
    dy = np.maximum(0, np.maximum(group[:, 1] - (box[1] + box[3]), box[1] - (group[:, 1] + group[:, 3])))
    return float(np.hypot(dx, dy).min())


def columns(mask: np.ndarray) -> tuple[int, int]:
    """First and one-past-last column holding ink."""
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(cols[-1]) + 1


def centre_x(mask: np.ndarray) -> float:
    left, right = columns(mask)
    return (left + right) / 2


def crop(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The soft ink under the mask, cut to the mask's box."""
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return np.where(mask, ink, 0)[y : y + h, x : x + w]


def join_by_score(ink: np.ndarray, masks: list[np.ndarray], height: float, score: Scorer) -> list[np.ndarray]:
    """Neighbours within TOUCH of each other joined where the model reads the pair more surely as one digit."""
    spans = [columns(m) for m in masks]
    # A pair's width is judged against its own height when that is taller than the line's: the two strokes of one
    # digit (a 4's corner and its stem) are each shorter than the digit, and pull the line's height down.
    pairs = [
        i for i in range(len(masks) - 1)
        if spans[i + 1][0] - spans[i][1] < TOUCH * height
        and spans[i + 1][1] - spans[i][0] <= MAX_WIDTH * max(height, rows_tall(masks[i] | masks[i + 1]))
    ]
    if not pairs:
        return masks
    singles = sorted({j for i in pairs for j in (i, i + 1)})
    maps = [crop(ink, masks[j]) for j in singles] + [crop(ink, masks[i] | masks[i + 1]) for i in pairs]
    scores = score(maps)
    alone = dict(zip(singles, scores[: len(singles)]))
    gains = {i: s - alone[i] * alone[i + 1] for i, s in zip(pairs, scores[len(singles) :])}
    taken: set[int] = set()
    for i in sorted(gains, key=gains.get, reverse=True):  # best joins first; a piece joins at most once
        if gains[i] > 0 and not taken & {i, i + 1}:
            taken |= {i, i + 1}
            masks[i] = masks[i] | masks[i + 1]
            masks[i + 1] = None
    return [m for m in masks if m is not None]


def cut_by_score(ink: np.ndarray, masks: list[np.ndarray], height: float, score: Scorer) -> list[np.ndarray]:
    """Pieces that may hold several digits cut into the digits that read most surely: candidate seams cut
    each into slices, every run of up to MAX_RUN neighbouring slices is a candidate digit, and the best chain
    of them is kept (all candidates of all pieces judged in one call) when its digits read surely; if they do
    not, the best chain of the candidates read surely, if any; else the piece stays whole."""
    lattices = []  # (piece index, {(i, j): candidate mask}, [strokes each seam crosses])
    for k in to_cut(ink, masks, height, score):
        cuts = seams(ink, masks[k], height)
        if cuts:
            lattices.append((k, candidates(ink, masks[k], [c for c, _ in cuts], height), [x for _, x in cuts]))
    if not lattices:
        return masks
    maps = [crop(ink, m) for _, spans, _ in lattices for m in spans.values()]
    scores = iter(score(maps))
    out: list[list[np.ndarray]] = [[m] for m in masks]
    for k, spans, crossings in lattices:
        judged = {ij: (m, float(next(scores))) for ij, m in spans.items()}
        out[k] = sure_chain(ink, judged, crossings, masks[k], height, score)
        if len(out[k]) == 1:  # the best chain read doubtfully: then the best chain of the sure candidates, if any
            whole = (0, len(crossings) + 1)  # as candidates() keys it; with it in, a chain always exists
            sure = {ij: v for ij, v in judged.items() if v[1] >= SURE_PART or ij == whole}
            if len(sure) > 1:
                out[k] = sure_chain(ink, sure, crossings, masks[k], height, score)
    return [m for chain in out for m in chain]


def sure_chain(ink: np.ndarray, judged: dict, crossings: list[float], mask: np.ndarray, height: float,
               score: Scorer) -> list[np.ndarray]:
    """The best chain of the judged candidates, refined; the whole piece unless its digits read surely."""
    chain = best_chain(judged, crossings, height) or [mask]
    if len(chain) > 1:
        chain = refine_cuts(ink, chain, height, score)
    if len(chain) > 1 and (leaning_apart(chain) or not sure_cut(score([crop(ink, m) for m in chain]), mask, height)):
        return [mask]
    return chain


def refine_cuts(ink: np.ndarray, chain: list[np.ndarray], height: float, score: Scorer) -> list[np.ndarray]:
    """The chain's cuts moved where both neighbours read more surely: each pair of neighbours, left to right, is
    cut again along curved seams (up to REFINE_BAND sideways), which can pass around a stroke that reaches
    into the neighbour's columns where a nearly straight seam clips it. Where digits overlap, their strokes
    merge and no path separates them, so for the REFINE_TOP cuts whose sides read best, each side is also tried
    with the other side's ink within a stroke width, or within SHARE, of its own (both keep the shared stroke).
    Each side keeps whichever reads most surely, and the cut whose two sides' scores have the largest product
    wins (the current cut included). Two model calls per pair."""
    chain = list(chain)
    kernels = [cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
               for r in {max(1, int(round(r))) for r in (stroke_width(ink), SHARE * height)}]
    for i in range(len(chain) - 1):
        union = chain[i] | chain[i + 1]
        options = [(chain[i], chain[i + 1])]
        for left, _ in seams(ink, union, height, REFINE_BAND, REFINE_CUTS):
            right = union & ~left
            if tall_enough(left, height) and tall_enough(right, height):
                options.append((left, right))
        plain = score([crop(ink, m) for pair in options for m in pair]).reshape(-1, 2)
        top = np.argsort(-plain.prod(axis=1), kind="stable")[:REFINE_TOP]
        grown = [m | (other & (cv2.dilate(m.astype(np.uint8), kernel) > 0))
                 for t in top for m, other in (options[t], options[t][::-1]) for kernel in kernels]
        scores = score([crop(ink, m) for m in grown]).reshape(len(top), 2, len(kernels))
        best_value, best = -1.0, options[0]
        for n, (t, sides) in enumerate(zip(top, scores)):
            pieces = []
            for side in range(2):
                k = int(sides[side].argmax())
                if sides[side, k] > plain[t, side]:
                    pieces.append((grown[(2 * n + side) * len(kernels) + k], sides[side, k]))
                else:
                    pieces.append((options[t][side], plain[t, side]))
            value = pieces[0][1] * pieces[1][1]
            if value > best_value:
                best_value, best = value, (pieces[0][0], pieces[1][0])
        chain[i], chain[i + 1] = best
    return chain


def sure_cut(scores: np.ndarray, mask: np.ndarray, height: float) -> bool:
    """Whether digits cut from one piece read surely enough to be digits at all, not parts of one non-digit.

    The lattice only compares a cut with the whole, and a letter, a heart or a cloud reads as no digit whole,
    so any cut wins; but its parts read as doubtful digits, where the digits of a touching number read surely.
    A piece no wider than one digit (an H), or one with a hole across most of it (a heart, a house: two touching
    digits rarely enclose one), needs every part sure."""
    if np.exp(np.log(np.maximum(scores, 1e-6)).mean()) < SURE_MEAN:
        return False
    left, right = columns(mask)
    if right - left > CUT_WIDTH * height and not one_loop(mask, ROUND, ROUND_AREA):
        return True
    return scores.min() >= SURE_PART


def leaning_apart(chain: list[np.ndarray]) -> bool:
    """Whether two neighbours of a chain are both straight strokes leaning APART degrees or more from each other:
    a V or a caret cut at its point, each half read as a 1. One writer's 1s lean alike."""
    slants = []
    for m in chain:
        elongation, direction = straightness(cv2.moments(m.astype(np.uint8), binaryImage=True))
        slants.append(direction if elongation > LINE_LIKE else None)
    return any(a is not None and b is not None and abs((a - b + 90) % 180 - 90) >= APART
               for a, b in zip(slants, slants[1:]))


def rows_tall(mask: np.ndarray) -> int:
    """How many rows the mask's ink spans, top to bottom."""
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[-1] + 1 - rows[0]) if len(rows) else 0


def tall_enough(mask: np.ndarray, height: float) -> bool:
    """Whether the mask holds ink spanning at least TALL of the line's height: a digit, not a bar or a crumb."""
    return rows_tall(mask) >= max(TALL * height, 1)


def to_cut(ink: np.ndarray, masks: list[np.ndarray], height: float, score: Scorer) -> list[int]:
    """Indices of the pieces worth cutting: wider than any digit, or as wide as two narrow digits and read
    in doubt as one (one call judges them all); never a single round loop (a smiley, a circle)."""
    widths = [(right - left) / height for left, right in map(columns, masks)]
    wide = [k for k, w in enumerate(widths) if w > CUT_WIDTH]
    middle = [k for k, w in enumerate(widths) if NARROW_CUT < w <= CUT_WIDTH]
    if middle:
        doubts = score([crop(ink, masks[k]) for k in middle])
        wide += [k for k, s in zip(middle, doubts) if s < DOUBT]
    return sorted(k for k in wide if not one_loop(masks[k]))


def one_loop(mask: np.ndarray, wide: float = LOOP, big: float = LOOP_AREA) -> bool:
    """Whether the piece is one round shape: a hole spanning most of its width and filling much of its box (a
    0, a face), so no seam can pass between two digits in it. Two touching digits close smaller holes."""
    _, _, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return any(cv2.boundingRect(c)[2] >= wide * w and cv2.contourArea(c) >= big * w * h for c in holes(mask))


def candidates(ink: np.ndarray, mask: np.ndarray, cuts: list[np.ndarray], height: float) -> dict[tuple[int, int], np.ndarray]:
    """Candidate digits of a piece: {(i, j): mask} for the ink between seams i and j (0 and n+1 are its edges)."""
    n = len(cuts)
    total = float(ink[mask].sum())
    spans = {(0, n + 1): mask}  # the whole is always a candidate
    for i in range(n + 1):
        for j in range(i + 1, min(i + 1 + MAX_RUN, n + 2)):
            m = mask.copy()
            if i > 0:
                m &= ~cuts[i - 1]
            if j <= n:
                m &= cuts[j - 1]
            if not m.any() or float(ink[m].sum()) < 0.03 * total:
                continue
            left, right = columns(m)
            rows = np.flatnonzero(m.any(axis=1))
            # A digit is about as tall as its line: a bar or a foot cut off is not one.
            if right - left <= MAX_WIDTH * height and rows[-1] + 1 - rows[0] >= TALL * height:
                spans[(i, j)] = m
    return spans


def best_chain(spans: dict[tuple[int, int], tuple[np.ndarray, float]], crossings: list[float],
               height: float) -> list[np.ndarray]:
    """The chain of candidate digits from the left edge to the right that reads most surely: the product of
    their scores, less for every stroke a cut crosses and for a digit wider than a digit usually is; [] if none."""
    end = max((j for _, j in spans), default=0)
    best: dict[int, tuple[float, list[np.ndarray]]] = {0: (0.0, [])}
    for j in range(1, end + 1):
        options = []
        for (i, jj), (m, s) in spans.items():
            if jj != j or i not in best:
                continue
            left, right = columns(m)
            value = np.log(max(s, 1e-6)) - WIDE * max(0.0, (right - left) / height - TYPICAL_WIDTH)
            if i > 0:
                value -= CUT + CROSSING * crossings[i - 1]
            options.append((best[i][0] + value, best[i][1] + [m]))
        if options:
            best[j] = max(options, key=lambda o: o[0])
    return best[end][1] if end in best else []


def seams(ink: np.ndarray, mask: np.ndarray, height: float, band_width: float = BAND,
          most: int = MAX_CUTS) -> list[tuple[np.ndarray, float]]:
    """The best ways to cut the piece in two, left to right, as (mask of the ink left of the seam, strokes the
    seam crosses). Seams are top-to-bottom paths through the least ink, one pixel sideways per row at most and
    within band_width (of the line's height) of where they start, at most `most` of them, searched on the piece
    shrunk to at most SEAM_ROWS rows."""
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    piece = np.where(mask, ink, 0)[y : y + h, x : x + w]
    shrink = max(1.0, h / SEAM_ROWS)
    small = piece if shrink == 1 else cv2.resize(
        piece, (max(1, round(w / shrink)), max(1, round(h / shrink))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape
    margin, band = max(1, int(EDGE * height / shrink)), max(1, int(band_width * height / shrink))
    if sw <= 2 * margin:
        return []
    starts, ends, moves, seam_cost = seam_search(small * 10 + SEAM_STEP, margin, band)
    paths = trace(starts, ends, moves, band, h)
    paths = np.round((paths + 0.5) * w / sw).astype(np.int64)  # back to the piece's columns, (starts, h)
    # Ink left of each seam: every row's running sum of ink, read where the seam crosses that row.
    ink_left = np.take_along_axis(np.pad(np.cumsum(piece, axis=1), ((0, 0), (1, 0))), np.clip(paths, 0, w).T, 1).sum(0)
    total_ink = float(piece.sum())
    width = max(stroke_width(piece), 1.0)
    # Each side keeps a stroke half a line tall, or a tenth of the ink (a 1 beside an 8 has more).
    least = min(0.1 * total_ink, 0.5 * height * width)
    chosen = pick_seams(seam_cost, ink_left, least, total_ink, max(1, int(margin // 2)),
                        max(1, int(SPACING * height / shrink)), most)
    cols = np.arange(w)
    found = []
    for s in sorted(chosen, key=lambda s: ink_left[s]):  # left to right: the more ink left, the further right
        path = paths[s]
        inside = (path >= 0) & (path < w)
        crossed = float((piece[np.flatnonzero(inside), path[inside]] >= 0.5).sum()) / width
        left = np.zeros_like(mask)
        left[y : y + h, x : x + w] = cols[None, :] < path[:, None]
        found.append((left & mask, crossed))
    return found


def trace(starts: np.ndarray, ends: np.ndarray, moves: np.ndarray, band: int, rows: int) -> np.ndarray:
    """Every start's cheapest path traced back from its end: (starts, rows) columns of the shrunk piece, as
    float, for the given number of full-size rows."""
    sh = moves.shape[0]
    paths = np.empty((len(starts), sh), np.int64)
    o = ends.astype(np.int64)
    index = np.arange(len(starts))
    for r in range(sh - 1, -1, -1):
        paths[:, r] = starts + o - band
        if r > 0:
            o = o + moves[r, index, o]
    return paths[:, np.minimum((np.arange(rows) * sh) // rows, sh - 1)].astype(np.float64)


def pick_seams(cost: np.ndarray, ink_left: np.ndarray, least: float, total: float, near: int, stretch: int,
               most: int = MAX_CUTS) -> list[int]:
    """Starts whose seams are worth trying, at most `most`: the cheapest seam within `near` starts of itself,
    and the cheapest of every `stretch` starts, so that cuts are offered all along the piece; each leaves
    `least` ink on either side and cuts off ink no other chosen seam does."""
    lowest = cv2.erode(cost.astype(np.float32)[None, :], np.ones((1, 2 * near + 1), np.uint8),
                       borderType=cv2.BORDER_REPLICATE)[0]
    chosen: list[int] = []
    covered: set[int] = set()
    for s in np.argsort(cost, kind="stable"):
        if len(chosen) == most:
            break
        if not least < ink_left[s] < total - least:
            continue
        if any(abs(ink_left[s] - ink_left[c]) <= 0.02 * total for c in chosen):  # cuts like a chosen seam
            continue
        if cost[s] <= lowest[s] + 1e-6 or s // stretch not in covered:
            chosen.append(int(s))
            covered.add(s // stretch)
    return chosen


def seam_search(cost: np.ndarray, margin: int, band: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cheapest top-to-bottom paths through cost (h, w), one starting at each column a margin from the edges
    and keeping within band columns of it: (starts, end offset index, moves (h, starts, offsets), path cost)."""
    h, w = cost.shape
    cost = np.pad(cost, ((0, 0), (band, band)), constant_values=SEAM_STEP)
    starts = np.arange(margin, w - margin)
    at = starts[:, None] + np.arange(2 * band + 1)[None, :]  # (starts, offsets) columns in the padded cost
    total = cost[0][at]
    moves = np.zeros((h, *at.shape), np.int8)  # the step (-1, 0, 1) into each cell, to trace paths back
    for r in range(1, h):  # total[s, o]: the cheapest path from the top row to row r, column starts[s] + o - band
        from_left, from_right = np.full_like(total, np.inf), np.full_like(total, np.inf)
        from_left[:, 1:], from_right[:, :-1] = total[:, :-1], total[:, 1:]
        stacked = np.stack([from_left, total, from_right])
        moves[r] = stacked.argmin(axis=0) - 1
        total = cost[r][at] + stacked.min(axis=0)
    ends = total.argmin(axis=1)
    return starts, ends, moves, total[np.arange(len(starts)), ends]

"""The paper a picture's ink lies on: its grey level and uneven light (a gradient, a vignette, a shadow cast
across it), its own noise, and which side of it the ink lies. Pure numpy/OpenCV; digitcore.ink subtracts what
this finds.
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

MIN_CONTRAST = 16  # ink must differ from the paper by this many grey levels (of 255), and rise above its noise
COARSE = 64  # side of the picture the paper is estimated on: fine enough for the light at the rim
SHADOW = 0.35  # a shadow leaves paper at least this share of its brightness; a marker's ink is darker


def percentiles(image: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Percentiles of a uint8 image from its histogram: an order of magnitude faster than np.percentile."""
    cumulative = np.cumsum(cv2.calcHist([image], [0], None, [256], [0, 256]).ravel())
    return [float(np.searchsorted(cumulative, q / 100 * cumulative[-1])) for q in qs]


def to_coarse(grey: np.ndarray) -> np.ndarray:
    """The picture (grey or colour) shrunk by area to COARSE px on its longer side: where light, sheets and
    paper are judged."""
    h, w = grey.shape[:2]
    s = COARSE / max(h, w)
    return cv2.resize(grey, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def rim_percentiles(grey: np.ndarray) -> list[float]:
    """The 10th, 50th and 90th percentile grey levels of the picture's outer 3% on every side."""
    h, w = grey.shape
    b = max(1, round(0.03 * min(h, w)))
    rim = np.concatenate([grey[:b].ravel(), grey[-b:].ravel(), grey[:, :b].ravel(), grey[:, -b:].ravel()])
    return percentiles(rim[None, :], (10, 50, 90))


def background(grey: np.ndarray) -> np.ndarray:
    """The paper's own brightness, light ink on dark, so uneven lighting subtracts out: a coarse morphological
    opening that follows the light closely, held near a smooth surface that no stroke can lift, except in a
    shadow cast across the picture."""
    h, w = grey.shape
    if max(h, w) <= 160:  # small pictures (icons, low-resolution scans) are not unevenly lit
        return np.full_like(grey, percentiles(grey, (10,))[0])  # light ink on dark: paper is among the darkest
    coarse = to_coarse(grey)
    # An opening with a window of 15% of the picture follows vignetting into the corners, but a marker stroke
    # wider than the window survives it and would be taken for paper. So the paper may not stray from a smooth
    # surface fitted to the pixels that are not ink, which no stroke can lift, by more than that fit's own error.
    narrow = opening(coarse, 0.15 * COARSE)
    surface, error = paper_surface(coarse)
    # Near the picture's edge the opening falls short of light that keeps rising into the edge: the surface's
    # floor catches that too.
    tolerance = max(4.0, 3 * error)
    # But a shadow cast from beyond the frame (a hand, the phone) darkens the paper far more than any smooth light,
    # over a region that runs out of the frame: there the opening is the paper. A fat stroke lies inside the
    # picture, or is darker than any shadow (a sketchpad's black marker running off the canvas).
    paper = np.clip(narrow.astype(np.float32), surface - tolerance, surface + tolerance)
    shade = narrow > paper
    if shade.any():
        shade = reaching_frame(shade & (255 - narrow.astype(np.float32) >= SHADOW * (255 - surface)))
        paper = np.where(shade, narrow, paper)
    paper = np.clip(paper, 0, 255).astype(np.uint8)
    paper = cv2.resize(cv2.blur(paper, (3, 3)), (w, h), interpolation=cv2.INTER_LINEAR)
    if shade.any():
        # Coarse and blurred, the shadow's edge would come out as a line of ink: near it, the same opening at
        # full size (a square: ten times quicker than a disc this wide, and as good along a straight edge).
        near = cv2.dilate(shade.astype(np.uint8), np.ones((3, 3), np.uint8))
        near = cv2.resize(near, (w, h), interpolation=cv2.INTER_NEAREST)
        k = 2 * int(0.15 * max(h, w) / 2) + 1
        paper = np.where(near > 0, cv2.morphologyEx(grey, cv2.MORPH_OPEN, np.ones((k, k), np.uint8)), paper)
    return paper


def reaching_frame(mask: np.ndarray) -> np.ndarray:
    """bool: the 8-connected pieces of a bool mask that touch the picture's edge."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    touching = np.zeros(count, bool)
    touching[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    touching[0] = False
    return touching[labels]


def opening(coarse: np.ndarray, window: float) -> np.ndarray:
    """Grey opening (min then max) with a disc about window px wide: it follows the paper into dark corners."""
    k = 2 * int(np.ceil(window / 2)) + 1
    return cv2.morphologyEx(coarse, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))


def paper_surface(
    coarse: np.ndarray, within: np.ndarray | None = None, two_sided: bool = False
) -> tuple[np.ndarray, float]:
    """A quadratic surface (uneven light: a gradient and a vignette) fitted to the paper of a coarse picture,
    light ink on dark, refitting without the pixels that stand above it; and the fit's spread in grey levels.
    Only the pixels where the bool mask within is set are fitted, when it is given. two_sided: the ink's
    polarity is not known, so pixels standing out on either side are left out."""
    if within is not None and np.count_nonzero(within[::2, ::2]) < 12:  # too few to fit six terms to: level
        return np.full(coarse.shape, float(np.median(coarse[within])) if within.any() else float(np.median(coarse))), 0.0
    terms, every_other = quadratic_terms(coarse.shape)
    # Fitted on every other pixel, by normal equations in einsum: numpy's lstsq and matmul hand this to a
    # threaded BLAS, which costs milliseconds on a busy machine for a 6-term fit.
    pick = slice(None) if within is None else within[::2, ::2].ravel()
    basis = every_other[pick]
    values = coarse[::2, ::2].ravel().astype(np.float64)[pick]
    # Ink is light and at most about half of the picture; of unknown polarity, it is left out after the first fit.
    # (Values at most the 40th percentile are those at most the order statistic under it: partition is quicker.)
    forty = int(0.4 * (len(values) - 1))
    use = np.ones(len(values), bool) if two_sided else values <= np.partition(values, forty)[forty]
    for _ in range(4 if two_sided else 3):
        a = basis[use]
        coef = np.linalg.solve(np.einsum("ni,nj->ij", a, a) + 1e-6 * np.eye(6), np.einsum("ni,n->i", a, values[use]))
        residual = values - np.einsum("ni,i->n", basis, coef)
        error = 1.4826 * float(np.median(np.abs(residual[use])))
        use = (np.abs(residual) if two_sided else residual) < max(3 * error, 2.0)
        if use.sum() < 6:
            break
    return sum(float(c) * t for c, t in zip(coef, terms)), error


@functools.lru_cache(maxsize=8)
def quadratic_terms(shape: tuple[int, int]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """1, x, y, x^2, xy, y^2 over a grid of that shape, x and y in [-0.5, 0.5); and on every other pixel each
    way, as the (pixels, 6) columns of a fit."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    x, y = x / w - 0.5, y / h - 0.5
    terms = np.ones_like(x), x, y, x * x, x * y, y * y
    return terms, np.stack([t[::2, ::2].ravel() for t in terms], axis=1)


def paper_noise(ink: np.ndarray, grey: np.ndarray) -> float:
    """Grey levels above the paper that its own texture and sensor noise reach: no ink is weaker than this."""
    # The paper's spread from the lowest quarter (a fat digit can cover half a picture), and the fine-grained
    # noise from the difference to a local mean, whose median ignores the few pixels on stroke edges.
    low, quartile = percentiles(ink, (10, 25))
    spread = quartile + 6 * max(quartile - low, 1)
    detail = cv2.absdiff(grey, cv2.blur(grey, (5, 5)))
    sigma = 1.4826 * percentiles(detail, (50,))[0]
    return max(spread, quartile + 6 * sigma)


def ink_is_dark(grey: np.ndarray) -> bool | None:
    """Whether the ink is darker than the paper, judged with the light's unevenness taken out; None when no
    smooth surface fits the paper (a marker's blob covering much of the picture pulls the fit).

    Light falling off by a third across a photo spreads the paper's own grey levels wider than faint pencil
    stands out from it, so the raw picture's darkest and lightest pixels tell only which side is shaded. The
    ink is what stands out furthest from a smooth surface fitted to the paper."""
    h, w = grey.shape
    coarse = to_coarse(grey)
    surface, error = paper_surface(coarse, two_sided=True)
    if error > MIN_CONTRAST:
        return None
    light = cv2.resize(surface.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    flat = np.clip(grey.astype(np.float32) - light + 128, 0, 255).astype(np.uint8)
    lo, median, hi = percentiles(flat, (0.05, 50, 99.95))
    return median - lo > hi - median

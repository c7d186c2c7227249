"""The "not a digit" benchmark: letters, symbols and doodles drawn and photographed, which should all be rejected.

Only what training never saw is used (digitcore.negatives): letters and symbols in the held-out fonts (DejaVu
Serif and Sans Mono, Hershey PLAIN, TRIPLEX, SCRIPT_COMPLEX) and the held-out doodle kinds house, heart,
arrow and cloud. Each kind comes as
  sketch  a Gradio sketchpad value: black strokes on a transparent or opaque white 400-800 px RGBA canvas
  photo   a phone photo of the shape in ink on tinted, unevenly lit paper (benchmarks.wild's camera)
and is scored per kind: the share answered "not a digit" (target: at least 95% of each kind), as the page
shows it (Recognizer.read, which may cut a shape into "digits") and, beside it, by Recognizer.predict (one digit).

With --wild it also reads benchmarks.wild's digits (and blanks) with the same rule, so the cost to digits
is measured on the same pictures as README's figures: a rejected digit counts as wrong.

    python -m benchmarks.not_digits [--n 100] [--seed 0] [--model PATH] [--save DIR] [--show-errors DIR] [--wild]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter would bury the table

from benchmarks.render import photo_size, photograph, place, sketchpad, slant  # noqa: E402
from benchmarks.wild import add_set_options, check_set_options, error_tile, load_recognizer, montage  # noqa: E402
from digitcore.negatives import HELD_OUT_KINDS, make_ink  # noqa: E402

MEDIA = ("sketch", "photo")
TARGET = 0.95


def make_sketch(kind: str, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 4) uint8 sketchpad value: one held-out non-digit of this kind in black on a transparent or white canvas."""
    h = int(rng.integers(400, 801))
    w = int(np.clip(h * rng.uniform(0.8, 1.25), 400, 800))
    ink = make_ink(kind, rng, rng.uniform(1 / 3, 0.92) * min(h, w), held_out=True).astype(np.float32) / 255
    ink = slant(ink, rng.uniform(-15, 15), rng.uniform(-0.3, 0.3))
    return sketchpad(place(ink, (h, w), rng), transparent=rng.random() < 0.5)


def make_photo(kind: str, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) uint8 phone photo of one held-out non-digit of this kind on paper."""
    h, w = photo_size(rng)
    ink = make_ink(kind, rng, rng.uniform(0.2, 0.7) * min(h, w), held_out=True).astype(np.float32) / 255
    ink = slant(ink, rng.uniform(-10, 10), 0.0)
    return photograph(place(ink, (h, w), rng, margin=0.05), rng)


def make_set(kind: str, medium: str, n: int = 100, seed: int = 0) -> list[np.ndarray]:
    """n pictures of one kind and medium; picture i depends only on (seed, kind, medium, i), not on n."""
    if kind not in HELD_OUT_KINDS or medium not in MEDIA:
        raise ValueError(f"unknown kind or medium {kind!r}, {medium!r}; expected {HELD_OUT_KINDS} and {MEDIA}")
    make = make_sketch if medium == "sketch" else make_photo
    return [make(kind, np.random.default_rng([seed, HELD_OUT_KINDS.index(kind), MEDIA.index(medium), i])) for i in range(n)]


def answer(recognizer: Any, picture: np.ndarray) -> tuple[str, np.ndarray | None]:
    """("not a digit" | "empty" | "0".."9", model input) for one picture, as Recognizer.predict reports it."""
    prediction = recognizer.predict(picture)
    said = prediction.reason if prediction.label is None else str(prediction.label)
    return said, prediction.model_input


def page_answer(recognizer: Any, picture: np.ndarray) -> tuple[str, np.ndarray | None]:
    """("not a digit" | "empty" | "too many pieces" | the number read, first piece's model input) for one
    picture, as Recognizer.read reports it: what the page and /read show."""
    reading = recognizer.read(picture)
    said = reading.reason if reading.number is None else reading.number
    return said, reading.digits[0].model_input if reading.digits else None


def score(recognizer: Any, pictures: list[np.ndarray]) -> dict:
    """Share answered "not a digit" by the page (Recognizer.read) and by Recognizer.predict (one digit), the
    page's answers themselves and what the model saw."""
    answers = [page_answer(recognizer, p) for p in pictures]
    said = [a for a, _ in answers]
    return {
        "n": len(said),
        "rejected": sum(a == "not a digit" for a in said),
        "predict_rejected": sum(answer(recognizer, p)[0] == "not a digit" for p in pictures),
        "empty": sum(a == "empty" for a in said),
        "answers": said,
        "model_inputs": [m for _, m in answers],
    }


def format_table(results: dict[tuple[str, str], dict]) -> str:
    """One row per kind: share the page answered "not a digit" per medium and in all, Recognizer.predict's share
    in all, and the numbers most often answered instead."""
    lines = [f"{'kind':<8} {'sketch':<8} {'photo':<8} {'all':<8} {'predict':<8} {'target':<7} instead (count)"]
    for kind in dict.fromkeys(k for k, _ in results):
        rows = [results[(kind, m)] for m in MEDIA if (kind, m) in results]
        shares = [r["rejected"] / max(r["n"], 1) for r in rows]
        total = sum(r["rejected"] for r in rows) / max(sum(r["n"] for r in rows), 1)
        predicted = sum(r["predict_rejected"] for r in rows) / max(sum(r["n"] for r in rows), 1)
        instead: dict[str, int] = {}
        for r in rows:
            for a in r["answers"]:
                if a != "not a digit":
                    instead[a] = instead.get(a, 0) + 1
        worst = ", ".join(f"{a} ({c})" for a, c in sorted(instead.items(), key=lambda ac: -ac[1])[:4]) or "-"
        met = "met" if min(shares) >= TARGET else "MISSED"
        lines.append(f"{kind:<8} " + " ".join(f"{s:<8.3f}" for s in shares) + f" {total:<8.3f} {predicted:<8.3f} {met:<7} {worst}")
    n = sum(r["n"] for r in results.values())
    lines.append(f"{'all':<8} {'':<8} {'':<8} {sum(r['rejected'] for r in results.values()) / max(n, 1):<8.3f} "
                 f"{sum(r['predict_rejected'] for r in results.values()) / max(n, 1):<8.3f} ({n} pictures)")
    lines.append("sketch, photo, all: answered \"not a digit\" by Recognizer.read (the page, /read); "
                 "predict: by Recognizer.predict (one digit, /predict)")
    return "\n".join(lines)


def score_wild(recognizer: Any, n: int = 200, seed: int = 0) -> str:
    """benchmarks.wild's kinds read with the rejection rule: right (a rejected digit is wrong) and rejected, per kind."""
    from benchmarks import wild

    lines = [f"{'kind':<9} {'n':<5} {'right':<8} rejected"]
    for kind in wild.KINDS:
        items = wild.make_set(kind, n, seed)
        said = [answer(recognizer, picture)[0] for picture, _ in items]
        right = np.mean([a == ("empty" if label is None else str(label)) for a, (_, label) in zip(said, items)])
        lines.append(f"{kind:<9} {len(items):<5} {right:<8.3f} {sum(a == 'not a digit' for a in said)}")
    return "\n".join(lines)


def save_errors(folder: Path, kind: str, medium: str, pictures: list[np.ndarray], result: dict) -> int:
    """One montage of the pictures not answered "not a digit", each beside what the model saw; returns how many."""
    tiles = [error_tile(p, m, f"{kind} {medium} {i}: {a}")
             for i, (p, a, m) in enumerate(zip(pictures, result["answers"], result["model_inputs"])) if a != "not a digit"]
    if tiles:
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(montage(tiles)).save(folder / f"{kind}_{medium}_errors.png")
    return len(tiles)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.not_digits", description=__doc__.split("\n")[0])
    add_set_options(parser, 100)
    parser.add_argument("--threshold", type=float, help="reject above this P(not a digit) (default: the model's digits.json)")
    parser.add_argument("--save", type=Path, metavar="DIR", help="also write every picture there")
    parser.add_argument("--wild", action="store_true", help="also read benchmarks.wild's 800 pictures (seed 0) with the rule")
    args = parser.parse_args(argv)
    check_set_options(parser, args)
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate every held-out kind in both media, score it, print the table; returns the exit code."""
    args = parse_args(argv)
    started = time.perf_counter()
    recognizer = load_recognizer(args.model, fast=args.fast, strings=args.strings)
    if recognizer is None:
        return 2
    if recognizer.classes < 11:
        print("note: this model has no \"not a digit\" output, so it rejects nothing", file=sys.stderr)
    if args.threshold is not None:  # to compare thresholds on the same pictures
        recognizer.reject_threshold = args.threshold
    threshold = recognizer.reject_threshold
    results = {}
    for kind in HELD_OUT_KINDS:
        for medium in MEDIA:
            pictures = make_set(kind, medium, args.n, args.seed)
            results[(kind, medium)] = score(recognizer, pictures)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                for i, p in enumerate(pictures):
                    Image.fromarray(p).save(args.save / f"{kind}_{medium}_{i:04d}.{'jpg' if medium == 'photo' else 'png'}", quality=95)
            if args.show_errors:
                save_errors(args.show_errors, kind, medium, pictures, results[(kind, medium)])
    print(format_table(results))
    if args.wild:
        print("\nbenchmarks.wild (n 200, seed 0) with the rejection rule:\n" + score_wild(recognizer))
    print(f"\nthreshold {threshold} on P(not a digit); seed {args.seed}; "
          f"wall time {time.perf_counter() - started:.1f} s including model load")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

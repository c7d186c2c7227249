"""Latency of one prediction, where the time goes, and (with --original) the original way side by side.

    python -m benchmarks.latency [--runs 300] [--model PATH] [--data ../shared/data/mnist.npz] [--original]

Prints p50/p95 in milliseconds for: Recognizer.predict on an 800x800 RGBA sketchpad array and on a
1024x768 RGB photo array; each preprocessing stage; the model call (ONNX Runtime: the fast model, and the full
one for what the fast one is unsure of), also over 1,000 MNIST digits one at a time; and the batch evaluation
of the 10,000 MNIST test images on one thread and on two, beside the full model alone. Like the app, it never imports TensorFlow, unless
--original asks for the original way (grey, resize to 28x28, Keras model.predict on models/digits.keras).
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from digitcore import Recognizer  # noqa: E402
from digitcore import ink, preprocess as pre  # noqa: E402
from digitcore.data import load_mnist  # noqa: E402
from digitcore.images import to_uint8  # noqa: E402
from digitcore.evaluate import score  # noqa: E402
from digitcore.predict import DEFAULT_MODEL, DEFAULT_ONNX  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def sketch_rgba(side: int = 800) -> np.ndarray:
    """A '3' in black 24 px strokes on a transparent canvas, as Gradio's sketchpad hands it over."""
    canvas = np.zeros((side, side, 4), np.uint8)
    cv2.putText(canvas, "3", (side // 4, side * 3 // 4), cv2.FONT_HERSHEY_SIMPLEX, side / 60, (0, 0, 0, 255), 24, cv2.LINE_AA)
    return canvas


def photo_rgb(width: int = 1024, height: int = 768) -> np.ndarray:
    """A dark '7' on cream, unevenly lit, noisy paper."""
    rng = np.random.default_rng(0)
    paper = np.ones((height, width, 3), np.float32) * np.array([228, 218, 196], np.float32)
    paper *= np.linspace(0.65, 1.0, width, dtype=np.float32)[None, :, None]
    cv2.putText(paper, "7", (width // 3, height * 3 // 4), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, height / 70, (40, 40, 60), 14, cv2.LINE_AA)
    paper += rng.normal(0, 5, paper.shape).astype(np.float32)
    return np.clip(paper, 0, 255).astype(np.uint8)


def number_sketch_rgba(side: int = 800, number: str = "204719", step: float = 7 / 48) -> np.ndarray:
    """A number in black 16 px strokes across a transparent canvas, each digit `step` of the side after the last
    (7/48: a stroke or two apart; 0.075: each written into the next), as Gradio's sketchpad hands it over."""
    canvas = np.zeros((side, side, 4), np.uint8)
    for k, digit in enumerate(number):
        x = side // 16 + round(k * side * step)
        cv2.putText(canvas, digit, (x, side * 5 // 8), cv2.FONT_HERSHEY_SIMPLEX, side / 200, (0, 0, 0, 255), 16, cv2.LINE_AA)
    return canvas


def timings(fn: Callable[[], object], runs: int) -> np.ndarray:
    """Milliseconds of each of `runs` calls, after a few warm-up calls."""
    for _ in range(5):
        fn()
    out = np.empty(runs)
    for i in range(runs):
        t = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - t) * 1e3
    return out


def alternate(first: Callable[[], object], second: Callable[[], object], runs: int) -> np.ndarray:
    """(runs, 2) milliseconds of first() and second(), called in turn, so both meet the machine's same moments."""
    out = np.empty((runs, 2))
    for i in range(runs + 5):  # the first 5 rounds warm up
        for j, fn in enumerate((first, second)):
            t = time.perf_counter()
            fn()
            if i >= 5:
                out[i - 5, j] = (time.perf_counter() - t) * 1e3
    return out


def row(name: str, ms: np.ndarray) -> str:
    return f"{name:<44} p50 {np.percentile(ms, 50):8.2f} ms   p95 {np.percentile(ms, 95):8.2f} ms"


def original_way(model, picture: np.ndarray) -> np.ndarray:
    """What most MNIST demos do: grey, resize to 28x28, model.predict."""
    grey = Image.fromarray(picture).convert("L").resize((28, 28))
    return model.predict(np.asarray(grey, np.float32)[None, ..., None] / 255, verbose=0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--model", default=None, help="a .onnx or .keras model served alone (default: models/digits.onnx with digits-fast.onnx first)")
    parser.add_argument("--fast", default=None, help="with --model: a fast model that answers its sure cases first")
    parser.add_argument("--strings", default=None, help="a string network for touching digits (default: models/strings.onnx without --model; 'none': without)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="MNIST .npz for the batch figure (skipped if missing)")
    parser.add_argument("--original", action="store_true", help="also time the original way (imports TensorFlow)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    recognizer = Recognizer.load(args.model, fast=args.fast, strings=args.strings)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; model loaded in {time.perf_counter() - started:.1f} s")
    sketch, photo = sketch_rgba(), photo_rgb()
    assert recognizer.predict(sketch).label == 3 and recognizer.predict(photo).label == 7, "benchmark inputs misread"

    results = {}
    for name, picture in (("sketch 800x800 RGBA", sketch), ("photo 1024x768 RGB", photo)):
        print(f"\n{name}")
        # The stages as to_model_input runs them, each timed on the previous stage's output.
        colour = ink.halve(to_uint8(picture), ink.WORK_SIDE)
        grey = ink.to_grey(colour)
        small = ink.shrink(grey, ink.WORK_SIDE)
        strength, _ = ink.extract_ink(small)
        model_input = pre.to_model_input(picture)[None]
        stages = {
            "  halve the colour picture": lambda: ink.halve(to_uint8(picture), ink.WORK_SIDE),
            "  to_grey (alpha, colour)": lambda: ink.to_grey(colour),
            "  shrink to 256": lambda: ink.shrink(grey, ink.WORK_SIDE),
            "  extract_ink (polarity, paper, specks)": lambda: ink.extract_ink(small),
            "  stroke width + centre in 28x28": lambda: pre.to_field(strength),
            "  to_model_input, all of the above": lambda: pre.to_model_input(picture),
            "  model call (ONNX Runtime, 1 thread)": lambda: recognizer.probabilities(model_input),
        }
        if recognizer.fast is not None:  # the cascade's two models, each alone on the same input
            stages["    the fast model alone"] = lambda: recognizer.fast(model_input[..., None])
            stages["    the full model alone"] = lambda: recognizer.model(model_input[..., None])
        stage_ms = {stage: timings(fn, args.runs) for stage, fn in stages.items()}
        for stage, ms in stage_ms.items():
            print(row(stage, ms))
        results[name] = timings(lambda: recognizer.predict(picture), args.runs)
        print(row("Recognizer.predict, end to end", results[name]))
        # Preprocessing alone and the whole predict, alternately on the same picture, so both see the same
        # moment of a busy machine: the median of the pairs' differences is what the model adds.
        pairs = alternate(lambda: pre.to_model_input(picture), lambda: recognizer.predict(picture), args.runs)
        print(f"{'predict minus preprocessing, paired: p50':<44}     {np.median(pairs[:, 1] - pairs[:, 0]):8.2f} ms"
              f"   (preprocessing p50 {np.median(pairs[:, 0]):.2f}, predict p50 {np.median(pairs[:, 1]):.2f})")
        if args.original:
            from digitcore.export import load_keras  # TensorFlow: only when asked

            keras_model = load_keras(DEFAULT_MODEL)
            original = timings(lambda: original_way(keras_model, picture), max(50, args.runs // 5))
            print(row("original way (grey, resize, model.predict)", original))
            print(f"{'speed-up over the original way':<44} x{np.median(original) / np.median(results[name]):.1f}")

    # Numbers: a 6-digit sketch read through Recognizer.read, beside the one-digit sketch above.
    number = number_sketch_rgba()
    assert recognizer.read(number).number == "204719", "number benchmark input misread"
    print(f"\n{row('Recognizer.read, 6-digit 800x800 sketch', timings(lambda: recognizer.read(number), args.runs))}")
    touching = number_sketch_rgba(number="1975", step=0.075)  # each digit into the next
    print(f"{row('Recognizer.read, 4 touching digits', timings(lambda: recognizer.read(touching), args.runs))}"
          f"   (read as {recognizer.read(touching).number})")
    print(row("Recognizer.predict, one-digit sketch (again)", timings(lambda: recognizer.predict(sketch), args.runs)))

    if Path(args.data).is_file():
        _, (x_test, y_test) = load_mnist(args.data)
        print()
        # One digit per call over many digits: the cascade's time depends on how sure the fast model is of each.
        singles = x_test[:1000, :, :, None] / np.float32(255)
        one_at_a_time = np.empty(len(singles))
        for i, digit in enumerate(singles):
            t = time.perf_counter()
            recognizer.probabilities(digit[None, ..., 0])
            one_at_a_time[i] = (time.perf_counter() - t) * 1e3
        line = row(f"model call, {len(singles)} MNIST test digits one at a time", one_at_a_time)
        if recognizer.fast is not None:
            unsure = recognizer.doubted(recognizer.fast(singles)).mean()
            line += f"   ({unsure:.1%} passed on to the full model)"
        print(line)
        batch_runs = [("", 1, recognizer), ("", 2, Recognizer.load(args.model, threads=2, fast=args.fast))]
        if recognizer.fast is not None:  # side by side: the full model alone, as served before the cascade
            batch_runs.append((", full model alone", 2, Recognizer.load(args.model or DEFAULT_ONNX, threads=2)))
        for note, threads, batch_recognizer in batch_runs:
            t = time.perf_counter()
            probabilities = batch_recognizer.probabilities(x_test / np.float32(255))  # as `evaluate` does
            seconds = time.perf_counter() - t
            accuracy = score(probabilities, y_test, batch_recognizer.reject_threshold)["accuracy"]  # the served rule
            print(f"batch: {len(x_test)} MNIST test images in {seconds:.2f} s on {threads} thread(s){note} ({accuracy:.2%} right)")


if __name__ == "__main__":
    main()

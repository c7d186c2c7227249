"""Do corrections fix a mistake? 7s written with a crossbar (rare in MNIST), corrected, retrained on, read again.

1. MNIST *train* 7s get a crossbar drawn through the stem (random length, height and width, fixed seed), are put
   on a white page as dark ink, and are read by today's model. Each one it misreads becomes a correction, saved
   through digitcore.store the way the app saves one.
2. `python -m digitcore train --extra` retrains on MNIST plus the corrections (a fixed 20% held out by row id).
   With --baseline (the default unless --epochs matches the committed model's), the same command without
   --extra trains a second model, so the two differ only by the corrections.
3. Every model reads crossbar 7s made the same way from MNIST's *test* 7s (figures only; never trained on), the
   held-out corrections and MNIST's test split.

    python -m benchmarks.corrections [--epochs 20] [--limit N] [--out DIR] [--data mnist.npz] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist.npz"
SEVEN = 7


def crossbar(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(28, 28) uint8 MNIST 7 -> the same 7 with a bar across its stem, drawn at 4x and shrunk back."""
    big = cv2.resize(digit, (112, 112), interpolation=cv2.INTER_LINEAR)
    rows, cols = np.nonzero(big > 128)
    top, height = rows.min(), rows.max() - rows.min()
    y = int(top + rng.uniform(0.45, 0.62) * height)  # about halfway down the stem
    near = cols[np.abs(rows - y) <= 2]
    x = int(near.mean()) if len(near) else int(cols.mean())
    half = int(rng.uniform(0.15, 0.3) * height)
    cv2.line(big, (x - half, y), (x + half, y), 255, int(rng.integers(6, 10)), cv2.LINE_AA)
    return cv2.resize(big, (28, 28), interpolation=cv2.INTER_AREA)


def on_paper(digit: np.ndarray) -> np.ndarray:
    """(28, 28) white-on-black digit -> (304, 304) uint8 page, dark ink on white: what a user hands the app."""
    return np.pad(255 - cv2.resize(digit, (224, 224), interpolation=cv2.INTER_LINEAR), 40, constant_values=255)


def crossbar_sevens(x: np.ndarray, y: np.ndarray, seed: int) -> list[np.ndarray]:
    """Every 7 of a split as a crossbar 7 on paper, in order; the same pictures for the same seed."""
    rng = np.random.default_rng(seed)
    return [on_paper(crossbar(d, rng)) for d in x[y == SEVEN]]


def model_inputs(pages: list[np.ndarray]) -> np.ndarray:
    """(N, 28, 28) float32: each page prepared as Recognizer.predict prepares it (the same for every model)."""
    from digitcore.ink import find_ink
    from digitcore.preprocess import to_field

    return np.stack([to_field(find_ink(p).strength) for p in pages])


def labels(recognizer, inputs: np.ndarray) -> list[int | None]:
    """What Recognizer.predict would answer for each input, in one batch: a digit, or None for "not a digit"."""
    return [label for label, _, _ in recognizer.classify(inputs)]


def save_corrections(db: Path, pages: list[np.ndarray], inputs: np.ndarray, recognizer, model_hash: str, limit: int) -> int:
    """Save each misread page as a correction to 7 (at most limit), as the app saves one; returns how many."""
    from digitcore.store import CorrectionStore, png_bytes

    store = CorrectionStore(db)
    saved = 0
    for page, model_input, (label, probabilities, not_digit) in zip(pages, inputs, recognizer.classify(inputs)):
        if label != SEVEN and saved < limit:
            said, probability = (10, not_digit) if label is None else (label, float(probabilities[label]))
            store.save(png_bytes(page), SEVEN, model_input, said, probability, model_hash, source="benchmark:crossbar")
            saved += 1
    return saved


def train(data: Path, out: Path, epochs: int, limit: int | None, seed: int, extra: Path | None) -> dict:
    """The real command line, as a user runs it; returns the metrics it saved."""
    command = [sys.executable, "-m", "digitcore", "train", "--data", str(data), "--out", str(out), "--epochs", str(epochs),
               "--seed", str(seed)]
    command += ["--limit", str(limit)] if limit else []
    command += ["--extra", str(extra)] if extra else []
    print("$", " ".join(command[1:]), flush=True)
    started = time.time()
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=sys.stderr)
    print(f"  {time.time() - started:.0f} s", flush=True)
    return json.loads(out.with_suffix(".json").read_text())


def main(argv: list[str] | None = None) -> int:
    """Build the corrections, retrain, score; print a table and write results.json into --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="mnist.npz (default: %(default)s)")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "digits.keras", help="today's model")
    parser.add_argument("--out", type=Path, default=Path("corrections-benchmark"), help="working folder (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=20, help="training budget of each retrained model (default: %(default)s)")
    parser.add_argument("--limit", type=int, help="train on only this many MNIST images (a quick try)")
    parser.add_argument("--corrections", type=int, default=400, help="at most this many corrections (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="the crossbars' seed (training keeps its own, 42)")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=None,
                        help="also train without the corrections (default: when --epochs or --limit differ from the model's own)")
    args = parser.parse_args(argv)

    from digitcore.data import load_mnist
    from digitcore.predict import Recognizer
    from digitcore.store import file_hash

    args.out.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    today = Recognizer.load(args.model)
    train_pages = crossbar_sevens(x_train, y_train, args.seed)
    test_inputs = model_inputs(crossbar_sevens(x_test, y_test, args.seed + 1))
    db = args.out / "corrections.sqlite"
    for stale in args.out.glob("corrections.sqlite*"):
        stale.unlink()
    saved = save_corrections(db, train_pages, model_inputs(train_pages), today, file_hash(args.model), args.corrections)
    print(f"{saved} corrections from {len(train_pages)} crossbar 7s of MNIST train, in {db}", flush=True)

    model_metrics = json.loads(args.model.with_suffix(".json").read_text())
    baseline = args.baseline
    if baseline is None:
        baseline = args.epochs != model_metrics.get("epochs") or bool(args.limit)
    shutil.copy(args.model, args.out / "with.keras")  # so train's "before" is today's model, with its threshold
    if args.model.with_suffix(".json").is_file():
        shutil.copy(args.model.with_suffix(".json"), args.out / "with.json")
    runs = {"with": train(args.data, args.out / "with.keras", args.epochs, args.limit, 42, db)}
    if baseline:
        runs["without"] = train(args.data, args.out / "without.keras", args.epochs, args.limit, 42, None)

    from digitcore.corrections import accuracy, load_corrections

    _, held, _ = load_corrections(db)
    hard = [i for i, label in enumerate(labels(today, test_inputs)) if label != SEVEN]  # today's misreads among them
    models = {"today": (today, model_metrics)}
    models.update({name: (Recognizer.load(args.out / f"{name}.keras"), metrics) for name, metrics in runs.items()})
    results = {"corrections": saved, "held_out": len(held[0]), "epochs": args.epochs, "limit": args.limit,
               "test_crossbar_sevens": len(test_inputs), "misread_by_today": len(hard), "models": {}}
    for name, (recognizer, metrics) in models.items():
        read = labels(recognizer, test_inputs)
        results["models"][name] = {
            "mnist_test": accuracy(recognizer, x_test, y_test),
            "held_out_corrections": accuracy(recognizer, *held),
            "crossbar_sevens": float(np.mean([label == SEVEN for label in read])),
            "crossbar_sevens_today_misreads": float(np.mean([read[i] == SEVEN for i in hard])) if hard else None,
            "plain_test_sevens": accuracy(recognizer, x_test[y_test == SEVEN], y_test[y_test == SEVEN]),
            "training_seconds": metrics.get("training_seconds"),
        }
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


def table(results: dict) -> str:
    """The figures as a Markdown table, one column per model."""
    names = list(results["models"])
    rows = [
        ("MNIST test (10,000)", "mnist_test"),
        (f"held-out corrections ({results['held_out']})", "held_out_corrections"),
        (f"crossbar 7s from MNIST test ({results['test_crossbar_sevens']})", "crossbar_sevens"),
        (f"  of them, those today's model misreads ({results['misread_by_today']})", "crossbar_sevens_today_misreads"),
        ("plain MNIST test 7s", "plain_test_sevens"),
    ]
    lines = ["| read right | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for title, key in rows:
        cells = [results["models"][n][key] for n in names]
        lines.append(f"| {title} | " + " | ".join("-" if c is None else f"{c:.2%}" for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

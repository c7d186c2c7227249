"""Command line: python -m digitcore {train, train-strings, evaluate, predict, export, pair, corrections} ..."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is not for users

from digitcore.corrections import WEIGHT  # noqa: E402
from digitcore.predict import DEFAULT_FAST, DEFAULT_MODEL, DEFAULT_STRINGS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run one command, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m digitcore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="train a model on MNIST and save it with its metrics")
    p.add_argument("--data", help="mnist.npz or a folder of IDX files (default: download with Keras)")
    p.add_argument("--out", help="where to save the .keras file (default: models/digits.keras, or digits-fast.keras with --size fast)")
    p.add_argument("--size", choices=("full", "fast"), default="full", help="full: the accurate network; fast: the quick one that answers the sure cases first")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--limit", type=int, help="train on only this many training images (for a quick try)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--learning-rate", type=float, default=2e-3, help="the peak of the cosine schedule (default: %(default)s)")
    p.add_argument("--init", metavar="KERAS", help="start from this model's weights (same --size), to fine-tune it, not from random ones")
    p.add_argument("--extra", metavar="DB", help="also train on the corrections in this database (a share held out to score)")
    p.add_argument("--extra-weight", type=int, default=WEIGHT, help="times each correction is seen per epoch (default: %(default)s)")

    p = commands.add_parser("train-strings", help="train the string network that reads touching digits whole, and export it")
    p.add_argument("--data", help="mnist.npz or a folder of IDX files (default: download with Keras)")
    p.add_argument("--out", default=str(DEFAULT_STRINGS), help="where to save the .keras file (default: %(default)s)")
    p.add_argument("--strings", type=int, default=300_000, help="synthetic strings made from MNIST train digits (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--seed", type=int, default=42, help="fixes the strings and the validation digits, as train's seed does")
    p.add_argument("--init", metavar="KERAS", help="start from this string network's weights, to fine-tune it")
    p.add_argument("--draw", type=int, default=0, help="which training strings: 0 the first network's, another number new ones (default: %(default)s)")
    p.add_argument("--bend", type=float, default=0.0, help="share of the glyphs bent as by another hand (default: %(default)s)")
    p.add_argument("--stretch", type=float, nargs=2, default=(1.0, 1.0), metavar=("LOW", "HIGH"), help="each digit's width times a factor in this range (default: 1 1)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="the peak of the cosine schedule (default: %(default)s)")
    p.add_argument("--alone", type=float, help="share of training strings that are one non-digit alone (default: 0.45, as the served network's)")
    p.add_argument("--serifs", type=float, default=0.0, help="share of the 1s drawn with a flag, sometimes a foot, as train draws half of them (default: %(default)s)")

    p = commands.add_parser("evaluate", help="accuracy, loss and calibration of a model on the MNIST test split")
    p.add_argument("--data", help="mnist.npz or a folder of IDX files (default: download with Keras)")
    p.add_argument("--model", help="a .onnx or .keras file (default: models/digits.onnx, and digits-fast.onnx first for its sure cases); a named file is served alone")
    p.add_argument("--report", metavar="DIR", help="also save a confusion matrix and the worst mistakes as pictures")

    p = commands.add_parser("predict", help="label and probabilities for each picture file")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--model", help="a .onnx or .keras file (default: models/digits.onnx, and digits-fast.onnx first for its sure cases); a named file is served alone")
    p.add_argument("--strings", help="the string network for touching digits (default: models/strings.onnx without --model; 'none': without)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = commands.add_parser("corrections", help="review the corrections people gave the app: counts and pictures")
    p.add_argument("--db", help="the corrections database (default: corrections.sqlite beside models/)")
    p.add_argument("--report", metavar="DIR", help="also save a picture grid of them, and each picture people gave")

    p = commands.add_parser("export", help="write a .keras model as the .onnx that is served, and record it in its .json")
    p.add_argument("model", nargs="?", default=str(DEFAULT_MODEL), help="the .keras file (default: %(default)s)")
    p.add_argument("--out", help="where to write the .onnx (default: beside the .keras file)")

    p = commands.add_parser("pair", help="fit the reject threshold of the served pair (digits-fast first) on validation digits")
    p.add_argument("--data", help="mnist.npz or a folder of IDX files (default: download with Keras)")
    p.add_argument("--seed", type=int, default=42, help="the seed both models were trained with: it fixes the validation split")

    args = parser.parse_args(argv)
    run = {"train": run_train, "train-strings": run_train_strings, "evaluate": run_evaluate, "predict": run_predict, "export": run_export,
           "pair": run_pair, "corrections": run_corrections}
    try:
        return run[args.command](args)
    except KeyboardInterrupt:
        return 130
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


class UserError(Exception):
    """Something the user can fix: a missing file, a bad argument."""


def _user_errors():
    from digitcore.data import DataError
    from digitcore.predict import ModelError
    from digitcore.store import StoreError

    return (DataError, ModelError, StoreError)


def run_train(args: argparse.Namespace) -> int:
    try:
        if args.extra:  # a wrong path is found now, not after TensorFlow and MNIST have loaded
            from digitcore.store import CorrectionStore

            CorrectionStore(args.extra, create=False)
        if args.init and not Path(args.init).is_file():
            raise UserError(f"{args.init}: model file not found, so training cannot start from it")
        from digitcore.train import train

        out = args.out or (DEFAULT_MODEL if args.size == "full" else DEFAULT_FAST)
        metrics = train(args.data, out, size=args.size, epochs=args.epochs, batch_size=args.batch_size, limit=args.limit, seed=args.seed,
                        learning_rate=args.learning_rate, init=args.init, extra=args.extra, extra_weight=args.extra_weight)
    except _user_errors() as e:
        raise UserError(e) from e
    print(json.dumps(metrics, indent=2))
    if "corrections" in metrics:
        from digitcore.corrections import describe

        print(describe(metrics["corrections"]))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from digitcore import evaluate
    from digitcore.data import load_mnist
    from digitcore.predict import Recognizer

    try:
        recognizer = Recognizer.load(args.model, threads=2)  # a batch: both cores
        _, (x_test, y_test) = load_mnist(args.data)
    except _user_errors() as e:
        raise UserError(e) from e
    started = time.perf_counter()
    inputs = x_test / np.float32(255)  # model inputs, as the reader's shape rule sees them too
    probabilities = recognizer.probabilities(inputs)
    threshold = recognizer.reject_threshold
    result = evaluate.score(probabilities, y_test, threshold, inputs)  # the reader's rule, shape included
    seconds = time.perf_counter() - started
    print(f"test accuracy {result['accuracy']:.4f} (\"not a digit\" counted wrong)  rejected {result['rejected']:.4f}  "
          f"loss {result['loss']:.4f}  ECE {result['ece']:.4f}  ({len(x_test)} images in {seconds:.1f} s)")
    if recognizer.fast is not None:
        print(f"served as a cascade: {recognizer.fast.name} answers what it is at least {recognizer.sure:.0%} sure of, "
              f"the mean of both with {recognizer.model.name} the rest")
    if args.report:
        saved = evaluate.save_report(args.report, inputs, y_test, probabilities, threshold=threshold)
        print("report:", ", ".join(str(p) for p in saved))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from digitcore.images import InvalidImage, read_image
    from digitcore.predict import Recognizer

    try:
        recognizer = Recognizer.load(args.model, strings=args.strings)
    except _user_errors() as e:
        raise UserError(e) from e
    failures = 0
    for path in args.files:
        try:
            reading = recognizer.read(read_image(path))
        except InvalidImage as e:
            failures += 1
            if args.json:
                print(json.dumps({"path": str(path), "error": str(e)}), flush=True)
            else:
                print(f"{path}: error: {e}", flush=True)
            continue
        if args.json:
            print(json.dumps({"path": str(path), **reading.to_dict()}), flush=True)
        else:
            print(f"{path}: {describe(reading)}", flush=True)
    return 1 if failures else 0


def describe(reading) -> str:
    """One line for a person: the number, with the top probabilities when it is one digit, or why there is none."""
    if reading.number is None:
        return {"empty": "no digit found"}.get(reading.reason, reading.reason)
    if reading.single is None:
        return f"{reading.number}  ({len(reading.digits)} digits, least sure {min(d.confidence for d in reading.digits):.3f})"
    top = sorted(enumerate(reading.probabilities), key=lambda dq: -dq[1])[:3]
    return f"{reading.number}  (" + ", ".join(f"{d}: {q:.3f}" for d, q in top) + ")"

def run_train_strings(args: argparse.Namespace) -> int:
    from digitcore.train_strings import ALONE, train

    try:
        metrics = train(args.data, Path(args.out), args.strings, args.epochs, args.seed, args.init, args.draw,
                        args.learning_rate, args.bend, tuple(args.stretch), ALONE if args.alone is None else args.alone,
                        args.serifs)
    except _user_errors() as e:
        raise UserError(e) from e
    print(json.dumps(metrics, indent=2))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from digitcore.export import export

    try:
        record = export(args.model, args.out)
    except _user_errors() as e:
        raise UserError(e) from e
    print(json.dumps(record, indent=2))
    return 0


def run_pair(args: argparse.Namespace) -> int:
    """Fit and record the reject threshold of models/digits.onnx with digits-fast.onnx first (after retraining
    either); needs no TensorFlow."""
    from digitcore.data import validation_digits
    from digitcore.evaluate import record_pair_threshold
    from digitcore.predict import Recognizer

    model, fast = DEFAULT_MODEL.with_suffix(".onnx"), DEFAULT_FAST.with_suffix(".onnx")
    try:
        x_val = validation_digits(args.data, args.seed)
        record = record_pair_threshold(model, fast, Recognizer.load(model, fast=fast).probabilities(x_val))
    except _user_errors() as e:
        raise UserError(e) from e
    print(json.dumps(record, indent=2))
    return 0


def run_corrections(args: argparse.Namespace) -> int:
    """Review: how many corrections of each (model said -> correct), and with --report a grid and the pictures."""
    from digitcore.corrections import counts, name, save_grid
    from digitcore.store import DEFAULT_DB, CorrectionStore

    try:
        store = CorrectionStore(args.db or DEFAULT_DB, create=False)
        rows = store.rows(pictures=bool(args.report))
    except _user_errors() as e:
        raise UserError(e) from e
    if not rows:
        print(f"{store.path}: no corrections yet")
        return 0
    models = len({r.model_hash for r in rows})
    print(f"{store.path}: {len(rows)} corrections, {rows[0].created[:16]} to {rows[-1].created[:16]} UTC, "
          f"from {models} model{'s' if models > 1 else ''}")
    print(f"{'model said':>12} -> {'correct':<12} {'count':>6}")
    for said, correct, n in counts(rows):
        print(f"{name(said):>12} -> {name(correct):<12} {n:>6}")
    if args.report:
        folder = Path(args.report)
        (folder / "pictures").mkdir(parents=True, exist_ok=True)
        for r in rows:
            (folder / "pictures" / f"{r.id}_said_{name(r.said)}_is_{name(r.correct)}.png".replace(" ", "-")).write_bytes(r.picture)
        print("report:", save_grid(folder, rows), f"and {len(rows)} pictures in", folder / "pictures")
    return 0

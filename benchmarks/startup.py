"""Start-up time and resident memory of `python app.py` beside an empty Gradio app, side by side in one run.

    python -m benchmarks.startup [--rounds 3] [--requests 200]

The empty app is benchmarks/echo_app.py: a Blocks app with an Image and a Label whose /predict answers at once.
Each round starts both (in turn, so both see the same machine), times until the page answers, sends each the
same `--requests` uploads of an MNIST digit through /predict, and reads the server's resident memory. Prints
each round, the medians and the ratios app / empty (targets: start-up at most 1.5x, memory at most 2x).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.load import ROOT, free_port, raw_round_trip, rss_mb, start_app

APPS = {"empty Gradio app": ROOT / "benchmarks" / "echo_app.py", "python app.py": ROOT / "app.py"}


def measure(app: Path, picture: Path, requests: int) -> tuple[float, float]:
    """(seconds until the page answers, resident MB after `requests` uploads through /predict) for one fresh server."""
    port = free_port()
    process, seconds = start_app(port, app)
    try:
        for _ in range(requests):
            _, label = raw_round_trip(f"http://127.0.0.1:{port}/", picture)
            if label != "3":
                raise SystemExit(f"{app.name} answered {label}, not 3")
        return seconds, rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)

    with np.load(ROOT / "tests" / "fixtures" / "mnist_test_300.npz") as f:
        three = f["x"][f["y"] == 3][0]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in APPS}
    with tempfile.TemporaryDirectory() as folder:
        picture = Path(folder) / "three.png"
        Image.fromarray(three).save(picture)
        for round_ in range(args.rounds):
            for name, app in APPS.items():
                seconds, mb = measure(app, picture, args.requests)
                results[name].append((seconds, mb))
                print(f"round {round_ + 1}  {name:<18} page answers after {seconds:5.2f} s   "
                      f"resident after {args.requests} requests {mb:6.0f} MB", flush=True)

    medians = {name: np.median(np.array(r), axis=0) for name, r in results.items()}
    for name, (seconds, mb) in medians.items():
        print(f"median   {name:<18} {seconds:5.2f} s   {mb:6.0f} MB")
    (empty_s, empty_mb), (app_s, app_mb) = medians.values()
    print(f"app / empty: start-up x{app_s / empty_s:.2f} (target at most 1.5), memory x{app_mb / empty_mb:.2f} (target at most 2)")


if __name__ == "__main__":
    main()

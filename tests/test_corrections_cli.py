"""Review and retrain from the command line, on a corrections database made the way the app makes one."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import FIXTURES, ROOT, dark_on_light
from digitcore import Recognizer
from digitcore.corrections import accuracy, counts, is_held_out, load_corrections, mix_in, name
from digitcore.model import NUM_CLASSES
from digitcore.store import CorrectionStore, file_hash, png_bytes


def run(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "digitcore", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def db(tmp_path_factory, recognizer, mnist_sample):
    """40 real MNIST test digits drawn on pages, read by the model and saved as the app saves a correction
    (here every 4th is 'corrected' to the next digit, so review has pairs to count), and one 'not a digit'."""
    x, y = mnist_sample
    path = tmp_path_factory.mktemp("corrections") / "corrections.sqlite"
    store = CorrectionStore(path)
    model_hash = file_hash(ROOT / "models" / "digits.onnx")
    for i in range(0, 300, 7)[:40]:
        page = dark_on_light(x[i], side=300, at=(30, 30), scale=8)
        p = recognizer.predict(page)
        correct = int(y[i]) if i % 4 else (int(y[i]) + 1) % 10
        store.save(png_bytes(page), correct, p.model_input, said=p.label, probability=float(p.probabilities[p.label]),
                   model_hash=model_hash, source="test")
    store.save(png_bytes(page), "not a digit", p.model_input, said=p.label, probability=0.5, model_hash=model_hash,
               source="test")
    return path


def test_review_counts_pairs_and_writes_a_grid_and_the_pictures(db, tmp_path):
    out = run("corrections", "--db", str(db), "--report", "review", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = CorrectionStore(db).rows()
    assert f"{len(rows)} corrections" in out.stdout and "from 1 model" in out.stdout
    lines = out.stdout.splitlines()
    assert len(counts(rows)) > 10  # right answers, "corrected" ones and the not-a-digit
    for said, correct, n in counts(rows):
        assert [*name(said).split(), "->", *name(correct).split(), str(n)] in [line.split() for line in lines]
    grid = Image.open(tmp_path / "review" / "corrections.png")
    assert grid.width > 600 and grid.height > 300
    pictures = sorted((tmp_path / "review" / "pictures").iterdir())
    assert len(pictures) == len(rows)
    assert np.asarray(Image.open(pictures[0])).shape == (300, 300)  # the picture the user gave, as it was


def test_review_of_a_missing_or_foreign_file_is_a_message(tmp_path):
    out = run("corrections", "--db", "nowhere.sqlite", cwd=tmp_path)
    assert out.returncode == 2 and "nowhere.sqlite: no corrections database here" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "nowhere.sqlite").exists()
    (tmp_path / "text.sqlite").write_text("hello\n" * 50)
    out = run("corrections", "--db", "text.sqlite", cwd=tmp_path)
    assert out.returncode == 2 and "not an SQLite database" in out.stderr and "Traceback" not in out.stderr


def test_held_out_share_is_fixed_by_the_row_id(db):
    assert [is_held_out(i) for i in range(50)] == [is_held_out(i) for i in range(50)]
    assert 0.18 < np.mean([is_held_out(i) for i in range(20_000)]) < 0.22
    (x_fit, y_fit), (x_held, y_held), skipped = load_corrections(db, classes=10)
    assert skipped == 1  # "not a digit": a 10-class model has no such label
    assert len(x_fit) + len(x_held) == len(CorrectionStore(db).rows()) - 1
    assert len(x_held) > 0 and x_fit.dtype == np.uint8 and x_fit.shape[1:] == (28, 28)
    held_ids = {r.id for r in CorrectionStore(db).rows() if r.correct < 10 and is_held_out(r.id)}
    assert len(held_ids) == len(x_held)
    x, y = mix_in(np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8), x_fit, y_fit, weight=3)
    assert len(x) == 5 + 3 * len(x_fit) and np.array_equal(y[5:8], np.repeat(y_fit[:1], 3))


def test_train_with_extra_reports_before_and_after(db, tmp_path):
    """A quick real run (500 images, 1 epoch): the corrections are mixed in and both models are scored."""
    model = tmp_path / "m.keras"
    shutil.copy(ROOT / "models" / "digits.keras", model)  # "before" is the committed model
    out = run("train", "--data", str(FIXTURES / "mnist_tiny.npz"), "--limit", "500", "--epochs", "1",
              "--extra", str(db), "--out", str(model), cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads((tmp_path / "m.json").read_text())["corrections"]
    usable = [r for r in CorrectionStore(db).rows() if r.correct < NUM_CLASSES]  # "not a digit" once the model has it
    held = sum(is_held_out(r.id) for r in usable)
    assert (report["held_out"], report["trained"], report["weight"]) == (held, len(usable) - held, 10)
    assert report["skipped"] == 41 - len(usable)
    assert report["before"]["mnist_test"] > 0.97  # the committed model on the 100 fixture test digits
    assert 0 <= report["after"]["mnist_test"] <= 1 and 0 <= report["after"]["held_out_corrections"] <= 1
    assert "held-out corrections" in out.stdout and "MNIST test" in out.stdout
    # "after" is what the app would serve: the new model with the threshold its own .json now holds.
    with np.load(FIXTURES / "mnist_tiny.npz") as f:
        served = accuracy(Recognizer.load(model), f["x_test"], f["y_test"])
    assert report["after"]["mnist_test"] == served


def test_train_with_a_missing_extra_database_is_a_message(tmp_path):
    out = run("train", "--data", str(FIXTURES / "mnist_tiny.npz"), "--epochs", "1", "--extra", "none.sqlite",
              "--out", str(tmp_path / "m.keras"), cwd=tmp_path)
    assert out.returncode == 2 and "none.sqlite: no corrections database here" in out.stderr
    assert "Traceback" not in out.stderr


def test_benchmark_crossbar_sevens_are_repeatable_and_prepared_as_predict_prepares_them(recognizer, mnist_sample):
    from benchmarks import corrections as bench

    x, y = mnist_sample
    a, b = bench.crossbar_sevens(x, y, seed=3), bench.crossbar_sevens(x, y, seed=3)
    assert len(a) == (y == 7).sum() and all(np.array_equal(p, q) for p, q in zip(a, b))
    assert a[0].shape == (304, 304) and a[0].dtype == np.uint8 and a[0][0, 0] == 255  # dark ink on white paper
    assert (a[0] < 128).sum() > ((255 - x[y == 7][0]) < 128).sum() * 64  # the 7 has gained ink: the bar
    inputs = bench.model_inputs(a[:5])
    for page, model_input, label in zip(a[:5], inputs, bench.labels(recognizer, inputs)):
        p = recognizer.predict(page)
        assert np.array_equal(p.model_input, model_input) and p.label == label

"""The one predict: the committed model (served with ONNX Runtime), every kind of input, and loading from anywhere."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import FIXTURES, ROOT, dark_on_light
from digitcore import InvalidImage, ModelError, Recognizer
from digitcore.predict import DEFAULT_MODEL


def test_committed_model_keeps_the_contract(recognizer):
    assert recognizer.classes in (10, 11)  # 11: the digits and "not a digit"
    out = recognizer.probabilities(np.zeros((2, 28, 28), np.float32))
    assert out.shape == (2, recognizer.classes) and out.dtype == np.float32
    assert np.allclose(out.sum(axis=1), 1, atol=1e-5)


def test_committed_model_reads_real_mnist_test_digits(recognizer, mnist_sample):
    x, y = mnist_sample
    predicted = recognizer.probabilities(x.astype(np.float32) / 255).argmax(axis=1)
    assert (predicted == y).mean() >= 0.99  # 300 digits: at most 3 wrong


def test_model_is_shared_by_threads(recognizer, mnist_sample):
    """The app's workers call one loaded model at once: answers stay each caller's own."""
    from concurrent.futures import ThreadPoolExecutor

    x = mnist_sample[0].astype(np.float32) / 255
    alone = recognizer.probabilities(x)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda i: recognizer.probabilities(x[i : i + 1])[0], range(len(x))))
    assert np.abs(np.array(together) - alone).max() <= 1e-6


def test_committed_metrics_describe_the_model():
    metrics = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    for key in ("test_accuracy", "test_loss", "test_ece", "epochs", "training_seconds", "parameters", "command"):
        assert key in metrics
    # A floor against committing a broken model, not the target: issue 12 asks 0.995, this model has 0.9944 (README).
    assert metrics["test_accuracy"] >= 0.994 and metrics["test_rejected"] <= 0.003
    assert metrics["command"].startswith("python -m digitcore train")


def test_predict_accepts_every_kind_of_input(recognizer, mnist_sample, tmp_path):
    x, y = mnist_sample
    digit, label = x[7], int(y[7])
    page = dark_on_light(digit)
    rgba = np.zeros((*page.shape, 4), np.uint8)
    rgba[..., 3] = 255 - page
    path = tmp_path / "digit.png"
    Image.fromarray(page).save(path)
    inputs = {
        "grey array": page,
        "rgb array": np.stack([page] * 3, axis=-1),
        "rgba array": rgba,
        "PIL image": Image.fromarray(page),
        "path": path,
        "str path": str(path),
        "sketchpad dict": {"background": None, "layers": [rgba], "composite": rgba},
    }
    for name, image in inputs.items():
        p = recognizer.predict(image)
        assert p.label == label, name
        assert p.probabilities.shape == (10,) and p.probabilities.sum() == pytest.approx(1, abs=1e-5)
        assert p.model_input.shape == (28, 28) and p.model_input.dtype == np.float32


def test_blank_canvas_has_no_label(recognizer):
    for blank in (np.zeros((800, 800, 4), np.uint8), np.full((600, 600, 3), 255, np.uint8), None):
        p = recognizer.predict(blank)
        assert p.label is None and p.model_input is None
        assert p.probabilities.sum() == pytest.approx(1) and p.probabilities.max() <= 0.1 + 1e-6


def test_bad_input_raises_invalid_image(recognizer, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    for bad in (text, tmp_path / "missing.png", np.zeros((3, 3, 7)), 42):
        with pytest.raises(InvalidImage):
            recognizer.predict(bad)


def test_missing_model_names_the_path(tmp_path):
    with pytest.raises(ModelError, match="nothing.keras: model file not found"):
        Recognizer.load(tmp_path / "nothing.keras")


def test_corrupt_model_names_the_path(tmp_path):
    pytest.importorskip("keras")  # a .keras file is read with Keras (requirements.txt, not requirements-app.txt)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 this is not a keras archive")
    with pytest.raises(ModelError, match="broken.keras: not a readable Keras model"):
        Recognizer.load(broken)


def test_recognizer_loads_from_another_working_directory(tmp_path, mnist_sample):
    """The default model is found relative to the package, not the working directory."""
    Image.fromarray(mnist_sample[0][0]).save(tmp_path / "d.png")
    code = "from digitcore import Recognizer; print(Recognizer.load().predict('d.png').label)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(mnist_sample[1][0])


def read_as_labelled(recognizer, path, page: bool = False) -> bool:
    """Whether a benchmark picture saved as <kind>_<i>_label<digit> is read as that digit by predict, and with
    page also by read, what the page shows (a stray piece beside the digit makes it two digits, or none)."""
    image, label = np.asarray(Image.open(path).convert("RGB")), path.stem.rsplit("label", 1)[1]
    return recognizer.predict(image).label == int(label) and (not page or recognizer.read(image).number == label)


@pytest.mark.parametrize("path", sorted((FIXTURES / "desk").glob("*.jpg")), ids=lambda p: p.stem)
def test_notes_on_a_desk_are_read(recognizer, path):
    """Generated by benchmarks.wild's desk kind: a sheet lit unevenly (its shaded side is not ink), written
    with a fine pen (too thin to show at the scale the sheet is found at), a note on a lighter desk whose
    edge rode in on the digit at the paper's noise floor (0032, 0143), or a note running out of the frame
    with the digit written up to that edge, which notched its outline (s0_0005, 0038, 0195: the note itself read
    as ink), or a sliver of desk between a tilted note's edge and the frame kept as ink (s0_0119, 0123, 0194:
    "not a digit", 3 or "71" on the page)."""
    assert read_as_labelled(recognizer, path, page=True)


@pytest.mark.parametrize("path", sorted((FIXTURES / "ruled").glob("*.jpg")), ids=lambda p: p.stem)
def test_digits_on_squared_paper_are_read(recognizer, path):
    """Generated by benchmarks.wild's ruled kind: blurred grid lines touching the digit, too wide at the paper's
    noise floor to be taken for lines, carried the whole grid in through the digit ("no digit"); or a strip of
    ruling along the frame kept as ink (s0_0082)."""
    assert read_as_labelled(recognizer, path, page=True)


@pytest.mark.parametrize("path", sorted((FIXTURES / "askew").glob("*.jpg")), ids=lambda p: p.stem)
def test_a_ruled_page_photographed_askew_is_read_on_the_page(recognizer, path):
    """A lined page filling the photo, turned a few degrees (benchmarks.wild's askew kind, and a number whose
    digits sit on the rules, photographed at a slant): the page's edge at the frame carried the ends of the
    rules in ("not a digit", or a 1 beside the digit), and rules shrunk askew came out as dashes no level line
    search joined; taking them out along a rule must not take a 7's bar lying on it ("3511"). The two n600
    pictures made the turned line search fail with an IndexError (a long run with no rule's rows in it)."""
    image = np.asarray(Image.open(path).convert("RGB"))
    assert recognizer.read(image).number == path.stem.rsplit("label", 1)[1]


@pytest.mark.parametrize("path", sorted((FIXTURES / "shadow").glob("*.jpg")), ids=lambda p: p.stem)
def test_a_photo_with_a_shadow_across_it_is_read(recognizer, path):
    """benchmarks.wild's shadow kind (seed 0): a hand's or the phone's shadow cast across the page, its edge
    straight or round, sharp or soft. The shadow was taken for ink (held to the paper's smooth light, like a fat
    stroke), or its edge for a sheet's on a desk: "not a digit", or a 1 read off the edge."""
    image = np.asarray(Image.open(path).convert("RGB"))
    assert recognizer.read(image).number == path.stem.rsplit("label", 1)[1]


@pytest.mark.parametrize("path", sorted((FIXTURES / "box").glob("*.jpg")), ids=lambda p: p.stem)
def test_a_digit_written_in_a_printed_box_is_read(recognizer, path):
    """benchmarks.wild's box kind (seed 0): a digit in a form's field, the box's sides 1-3 px, grey or blue. The
    box and the digit were one piece ("not a digit"), or the box's sides were read beside the digit."""
    image = np.asarray(Image.open(path).convert("RGB"))
    assert recognizer.read(image).number == path.stem.rsplit("label", 1)[1]


@pytest.mark.parametrize("path", sorted((FIXTURES / "underline").glob("*.*")), ids=lambda p: p.stem)
def test_a_digit_with_a_line_drawn_under_it_is_read(recognizer, path):
    """benchmarks.wild's underline kind (seed 0): a line in the digit's own pen drawn under it, on a sketchpad
    (PNG, transparent or white) or photographed. The line joined the digit ("not a digit", a 6 with a base
    read as nothing, a 0 on a line read 2)."""
    image = np.asarray(Image.open(path))
    assert recognizer.read(image).number == path.stem.rsplit("label", 1)[1]


@pytest.mark.parametrize("path", sorted((FIXTURES / "tall").glob("*.*")), ids=lambda p: p.stem)
def test_fine_pen_digits_that_fill_the_picture_are_read_on_the_page(recognizer, path):
    """A fine pen's 1 or 7 filling most of the picture (benchmarks.wild's pen drawing, 1-4% pens, 60-95% of the
    picture): its long stroke was taken for a rule and cut into dashes, and the page said "not a digit"."""
    image = np.asarray(Image.open(path).convert("RGB"))
    assert recognizer.read(image).number == path.stem.rsplit("label", 1)[1]


# A thinned serifed 1 whose base the pen swelled into a 2's: the full network reads 1 (0.77), the fast network
# trained with cut digits 2 (0.97, sure enough to answer alone). The 24-channel pair read 1 by 0.496 against 0.492.
# Strict: a model that reads it again makes this fail, so the mark is removed.
MISREAD_PENS = {"pen_0191_label1": "read as 2 by the pair served since 2026-12-03 (benchmarks/README.md, 'Channels')"}


def pen_cases() -> list:
    return [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=MISREAD_PENS[p.stem])) if p.stem in MISREAD_PENS else p
        for p in sorted((FIXTURES / "pen").glob("*.*"))
    ]


@pytest.mark.parametrize("path", pen_cases(), ids=lambda p: p.stem)
def test_fat_marker_digits_are_read(recognizer, path):
    """Generated by benchmarks.wild's pen kind, pens of 20-30% of the digit's height: read as 2 until the strokes
    were thinned towards MNIST's width (a serifed 1 and a 3 whose arms the pen swells)."""
    assert read_as_labelled(recognizer, path)


@pytest.mark.parametrize("path", sorted((FIXTURES / "scan").glob("*.png")), ids=lambda p: p.stem)
def test_low_resolution_scans_are_read(recognizer, path):
    """Generated by benchmarks.wild's scan kind: scikit-learn 8x8 digits upscaled in blocks, whose grey edge blocks
    came out full strength (each measured against its own peak) and were refused as "not a digit"."""
    assert read_as_labelled(recognizer, path)

"""The one predict: the committed model (served with ONNX Runtime), every kind of input, and loading from anywhere."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, dark_on_light
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
    assert metrics["test_accuracy"] >= 0.995
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

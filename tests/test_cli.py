"""The command line, run as a user runs it: python -m digitcore ..., from another directory."""
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import FIXTURES, ROOT


def run(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**(env or os.environ), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "digitcore", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_predict_json_reads_mnist_pngs_and_a_blank_page(tmp_path, mnist_sample):
    x, y = mnist_sample
    picks = [0, 35, 70, 105, 140, 175, 210, 245, 280, 299]
    for i in picks:
        Image.fromarray(x[i]).save(tmp_path / f"digit{i}.png")
    Image.fromarray(np.full((300, 300), 255, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    files = [f"digit{i}.png" for i in picks] + ["blank.png", "broken.png"]
    out = run("predict", "--json", *files, cwd=tmp_path)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["path"] for line in lines] == files
    for i, line in zip(picks, lines):
        assert line["label"] == int(y[i])
        assert set(line["probabilities"]) == {str(d) for d in range(10)}
        assert abs(sum(line["probabilities"].values()) - 1) < 1e-3
        assert line["number"] == str(y[i]) and line["reason"] is None
        assert len(line["digits"]) == 1 and line["digits"][0]["label"] == int(y[i])
        assert 0.5 < line["digits"][0]["confidence"] <= 1
    assert lines[-2]["label"] is None and lines[-2]["number"] is None and lines[-2]["reason"] == "empty"
    assert "error" in lines[-1] and "broken.png" in lines[-1]["error"]
    assert out.returncode == 1  # one file failed


def test_predict_text_output(tmp_path, mnist_sample):
    x, y = mnist_sample
    Image.fromarray(x[0]).save(tmp_path / "a.png")
    out = run("predict", "a.png", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"a.png: {y[0]}")


def test_predict_reads_a_number_in_json_and_text(tmp_path, mnist_sample):
    x, y = mnist_sample
    picks = [5, 66, 120, 211]
    page = np.full((220, 760), 255, np.uint8)
    for i, k in enumerate(picks):
        page[40:180, 40 + i * 180 : 180 + i * 180] = 255 - np.array(Image.fromarray(x[k]).resize((140, 140)))
    Image.fromarray(page).save(tmp_path / "number.png")
    expected = "".join(str(y[k]) for k in picks)
    line = json.loads(run("predict", "--json", "number.png", cwd=tmp_path).stdout)
    assert line["number"] == expected and line["reason"] is None
    assert [d["label"] for d in line["digits"]] == [int(y[k]) for k in picks]
    for i, d in enumerate(line["digits"]):
        x0, y0, w, h = d["box"]
        assert 40 + i * 180 <= x0 and x0 + w <= 180 + i * 180 + 1 and 40 <= y0 and y0 + h <= 181
    assert line["label"] is None and line["probabilities"] is None  # filled for one digit only
    out = run("predict", "number.png", cwd=tmp_path)
    assert out.stdout.startswith(f"number.png: {expected}"), out.stdout


def test_predict_missing_file_is_an_error_line_not_a_traceback(tmp_path):
    out = run("predict", "nope.png", cwd=tmp_path)
    assert out.returncode == 1
    assert "nope.png: error: nope.png: no such file" in out.stdout
    assert "Traceback" not in out.stderr


def test_missing_model_is_a_clear_error(tmp_path):
    out = run("predict", "--model", "gone.keras", "x.png", cwd=tmp_path)
    assert out.returncode == 2
    assert "gone.keras: model file not found" in out.stderr and "Traceback" not in out.stderr


def test_evaluate_prints_accuracy_and_saves_a_report(tmp_path):
    out = run("evaluate", "--data", str(FIXTURES / "mnist_tiny.npz"), "--report", "report", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    accuracy = float(out.stdout.split("test accuracy ")[1].split()[0])
    assert accuracy >= 0.97  # 100 real test digits
    assert "served as a cascade: " in out.stdout and "digits-fast.onnx answers" in out.stdout
    assert (tmp_path / "report" / "confusion_matrix.png").stat().st_size > 1000
    assert (tmp_path / "report" / "worst_mistakes.png").stat().st_size > 1000


def test_evaluate_offline_without_data_is_a_clear_error(tmp_path):
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    out = run("evaluate", cwd=tmp_path, env=env)  # no --data: Keras tries to download MNIST, and cannot
    assert out.returncode == 2
    assert "could not download MNIST" in out.stderr and "--data" in out.stderr and "Traceback" not in out.stderr


def test_train_with_missing_data_is_a_clear_error(tmp_path):
    out = run("train", "--data", "missing.npz", "--out", "m.keras", cwd=tmp_path)
    assert out.returncode == 2
    assert "missing.npz: no such file" in out.stderr and "Traceback" not in out.stderr


def test_train_from_a_missing_model_is_a_clear_error_before_any_training(tmp_path):
    out = run("train", "--data", "missing.npz", "--init", "gone.keras", "--out", "m.keras", cwd=tmp_path)
    assert out.returncode == 2  # found before the data is even looked for
    assert "gone.keras: model file not found" in out.stderr and "Traceback" not in out.stderr


def test_pair_with_missing_data_is_a_clear_error_and_changes_nothing(tmp_path):
    fast_json = ROOT / "models" / "digits-fast.json"
    before = fast_json.read_bytes()
    out = run("pair", "--data", "missing.npz", cwd=tmp_path)
    assert out.returncode == 2
    assert "missing.npz: no such file" in out.stderr and "Traceback" not in out.stderr
    assert fast_json.read_bytes() == before

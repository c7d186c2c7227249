"""The served artefact: ONNX Runtime gives Keras's probabilities, a stale or wrong file is refused, and serving
never loads TensorFlow (a real `python app.py` server and a real `python -m digitcore predict`)."""
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.load import free_port, start_app
from conftest import ROOT
from digitcore import ModelError, Recognizer, runtime
from digitcore.predict import DEFAULT_FAST, DEFAULT_MODEL, DEFAULT_ONNX, DEFAULT_STRINGS

SERVED = [DEFAULT_MODEL, DEFAULT_FAST]  # the full model and the fast one that answers its sure cases first


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """The committed digits.keras, digits.onnx and digits.json copied into tmp_path; returns the .onnx."""
    for suffix in (".keras", ".onnx", ".json"):
        shutil.copy(DEFAULT_MODEL.with_suffix(suffix), tmp_path / f"digits{suffix}")
    return tmp_path / "digits.onnx"


def tiny_onnx(path: Path, input_shape: list, classes: int) -> Path:
    """A real ONNX model (flatten, one dense layer, softmax) with the given input shape and class count."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    features = int(np.prod(input_shape[1:]))
    weights = np.random.default_rng(0).normal(0, 0.1, (features, classes)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"]), helper.make_node("MatMul", ["flat", "w"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", classes])],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


# --- consistency with the .keras file -----------------------------------------------------------------


@pytest.mark.parametrize("keras_path", [*SERVED, DEFAULT_STRINGS], ids=["full", "fast", "strings"])
def test_committed_export_is_recorded_against_the_committed_keras_file(keras_path):
    record = json.loads(keras_path.with_suffix(".json").read_text())["export"]
    assert record["keras_sha256"] == runtime.sha256(keras_path)
    assert record["onnx_sha256"] == runtime.sha256(keras_path.with_suffix(".onnx"))
    assert record["onnx"] == keras_path.with_suffix(".onnx").name


@pytest.mark.parametrize("keras_path", SERVED, ids=["full", "fast"])
def test_runtime_gives_keras_probabilities_on_real_mnist(keras_path, mnist_sample):
    from digitcore.export import load_keras  # needs TensorFlow: not in requirements-app.txt

    pytest.importorskip("tensorflow")
    x = mnist_sample[0].astype(np.float32) / 255  # all 300 committed test digits
    keras_out = load_keras(keras_path)(x[..., None], training=False).numpy()
    alone = Recognizer.load(keras_path.with_suffix(".onnx"))
    served = alone.probabilities(x)
    assert served.shape == keras_out.shape == (300, alone.classes)
    assert np.abs(served - keras_out).max() <= 1e-5
    assert np.abs(alone.probabilities(x, batch_size=7) - keras_out).max() <= 1e-5  # batched the same


def test_string_runtime_gives_keras_probabilities_on_strips_of_real_mnist(mnist_sample):
    """The string network's export, on strips of fixture digits side by side, and refused as a digit model."""
    from digitcore.export import load_keras
    from digitcore.strings import to_strip

    pytest.importorskip("tensorflow")
    x = mnist_sample[0].astype(np.float32) / 255
    strips = np.stack([to_strip(np.concatenate(list(x[k : k + 3]), axis=1))[0] for k in range(0, 90, 3)])[..., None]
    keras_out = load_keras(DEFAULT_STRINGS, (runtime.STRINGS,))(strips, training=False).numpy()
    served = runtime.load(DEFAULT_STRINGS.with_suffix(".onnx"), DEFAULT_STRINGS, contract=runtime.STRINGS)(strips)
    assert served.shape == keras_out.shape == (30, *runtime.STRINGS[1][0])
    assert np.abs(served - keras_out).max() <= 1e-5
    with pytest.raises(ModelError, match="expected one float input"):
        runtime.load(DEFAULT_STRINGS.with_suffix(".onnx"))  # not a digit model


def test_keras_file_is_served_through_an_export_made_on_the_fly(mnist_sample):
    pytest.importorskip("tf2onnx")
    x = mnist_sample[0][:50].astype(np.float32) / 255
    on_the_fly = Recognizer.load(DEFAULT_MODEL)
    assert np.abs(on_the_fly.probabilities(x) - Recognizer.load(DEFAULT_ONNX).probabilities(x)).max() <= 1e-6


# --- the cascade: the fast model's sure answers, the full model's for the rest ---------------------------


def test_default_serves_the_fast_model_first_and_both_when_unsure(recognizer, mnist_sample):
    x = mnist_sample[0].astype(np.float32) / 255
    # Digits, and the same digits cut in half: the halves are what the fast model should doubt.
    x = np.concatenate([x, x * (np.arange(28) < 14)[None, :, None]])
    full = Recognizer.load(DEFAULT_ONNX).probabilities(x)
    fast = Recognizer.load(DEFAULT_FAST.with_suffix(".onnx")).probabilities(x)
    sure = fast.max(axis=1) >= recognizer.sure
    assert 0 < sure.sum() < len(x), "the set must hold both sure and unsure cases"
    served = recognizer.probabilities(x)
    assert np.abs(served[sure] - fast[sure]).max() <= 1e-6
    assert np.abs(served[~sure] - (fast[~sure] + full[~sure]) / 2).max() <= 1e-6
    assert recognizer.sure >= recognizer.reject_threshold  # a sure "not a digit" is rejected by the full model's rule


def test_a_named_model_is_served_alone_unless_given_a_fast_partner(mnist_sample):
    assert Recognizer.load(DEFAULT_ONNX).fast is None
    assert Recognizer.load(DEFAULT_ONNX, fast=DEFAULT_FAST.with_suffix(".onnx")).fast is not None


def test_a_stale_fast_model_is_refused(tmp_path):
    for suffix in (".keras", ".onnx", ".json"):
        shutil.copy(DEFAULT_FAST.with_suffix(suffix), tmp_path / f"digits-fast{suffix}")
    (tmp_path / "digits-fast.keras").write_bytes(DEFAULT_FAST.read_bytes() + b"retrained")
    with pytest.raises(ModelError, match="digits-fast.onnx: stale"):
        Recognizer.load(DEFAULT_ONNX, fast=tmp_path / "digits-fast.onnx")


def test_models_with_different_classes_cannot_be_paired(tmp_path):
    ten = tiny_onnx(tmp_path / "ten.onnx", ["N", 28, 28, 1], 10)
    with pytest.raises(ModelError, match="ten.onnx gives 10 classes.*cannot be paired"):
        Recognizer.load(DEFAULT_ONNX, fast=ten)


def test_export_writes_the_artefact_and_records_both_files(tmp_path, mnist_sample):
    pytest.importorskip("tf2onnx")
    from digitcore.export import export

    keras_path = tmp_path / "m.keras"
    shutil.copy(DEFAULT_MODEL, keras_path)
    record = export(keras_path)
    assert json.loads((tmp_path / "m.json").read_text())["export"] == record
    assert record["keras_sha256"] == runtime.sha256(keras_path) and record["max_difference"] <= 1e-5
    x = mnist_sample[0][:20].astype(np.float32) / 255
    assert np.abs(Recognizer.load(tmp_path / "m.onnx").probabilities(x) - Recognizer.load(DEFAULT_ONNX).probabilities(x)).max() <= 1e-6


# --- stale, missing, damaged or wrong artefacts ----------------------------------------------------------


def test_stale_export_is_refused_with_how_to_re_export(model_copy):
    keras_path = model_copy.with_suffix(".keras")
    keras_path.write_bytes(keras_path.read_bytes() + b"retrained")  # a newer .keras than the export
    with pytest.raises(ModelError, match=r"digits.onnx: stale.*python -m digitcore export"):
        Recognizer.load(model_copy)
    with pytest.raises(ModelError, match="stale"):
        runtime.load(model_copy, keras_path)


def test_swapped_artefact_is_refused(model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ModelError, match="digits.onnx: not the file .* records"):
        Recognizer.load(model_copy)


def test_export_without_a_record_is_refused(model_copy):
    record = model_copy.with_suffix(".json")
    record.write_text(json.dumps({k: v for k, v in json.loads(record.read_text()).items() if k != "export"}))
    with pytest.raises(ModelError, match="records no export"):
        Recognizer.load(model_copy)


def test_artefact_alone_is_served(model_copy, mnist_sample):
    model_copy.with_suffix(".json").unlink()
    model_copy.with_suffix(".keras").unlink()
    x = mnist_sample[0][:10].astype(np.float32) / 255
    assert Recognizer.load(model_copy).probabilities(x).argmax(axis=1).tolist() == mnist_sample[1][:10].tolist()


def test_missing_artefact_names_the_file(tmp_path):
    with pytest.raises(ModelError, match="nothing.onnx: model file not found"):
        Recognizer.load(tmp_path / "nothing.onnx")


def test_damaged_artefact_names_the_file(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(DEFAULT_ONNX.read_bytes()[:5000])  # a truncated copy
    with pytest.raises(ModelError, match="broken.onnx: not a readable ONNX model"):
        Recognizer.load(broken)


def test_other_file_kinds_are_refused(tmp_path):
    with pytest.raises(ModelError, match="expected a .onnx or .keras"):
        Recognizer.load(tmp_path / "model.h5")


@pytest.mark.parametrize("input_shape, classes", [(["N", 28, 28], 10), (["N", 32, 32, 1], 10), (["N", 28, 28, 1], 12)],
                         ids=["no channel", "32x32", "12 classes"])
def test_wrong_shapes_are_refused_naming_the_file(tmp_path, input_shape, classes):
    path = tiny_onnx(tmp_path / "wrong.onnx", input_shape, classes)
    with pytest.raises(ModelError, match=r"wrong.onnx: the model takes .* expected"):
        Recognizer.load(path)


def test_eleven_classes_are_served(tmp_path, mnist_sample):
    """The coming model has an 11th class, "not a digit": probabilities are the model's own (N, 11)."""
    recognizer = Recognizer.load(tiny_onnx(tmp_path / "eleven.onnx", ["N", 28, 28, 1], 11))
    assert recognizer.classes == 11
    out = recognizer.probabilities(mnist_sample[0][:5].astype(np.float32) / 255)
    assert out.shape == (5, 11) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


# --- no TensorFlow in serving ---------------------------------------------------------------------------


def tensorflow_mapped(pid: int) -> list[str]:
    """TensorFlow's native libraries loaded into a process, from /proc: importing tensorflow maps them."""
    return sorted({line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if "tensorflow" in line})


def test_app_server_answers_without_tensorflow(tmp_path, mnist_sample):
    Image.fromarray(mnist_sample[0][0]).save(tmp_path / "digit.png")
    port = free_port()
    process, _ = start_app(port)
    try:
        from gradio_client import Client, handle_file

        answer = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(handle_file(tmp_path / "digit.png"), api_name="/predict")
        assert answer["label"] == str(mnist_sample[1][0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
        assert process.poll() is None
        assert tensorflow_mapped(process.pid) == []
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cli_predict_imports_no_tensorflow(tmp_path, mnist_sample):
    Image.fromarray(mnist_sample[0][3]).save(tmp_path / "d.png")
    code = ("import sys; from digitcore.cli import main; code = main(['predict', '--json', 'd.png']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx'))); sys.exit(code)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    prediction, modules = out.stdout.splitlines()
    assert json.loads(prediction)["label"] == int(mnist_sample[1][3])
    assert modules == "[]"


def test_latency_benchmark_imports_no_tensorflow(tmp_path):
    code = ("import sys; from benchmarks import latency; latency.main(['--runs', '3', '--data', 'none']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx')))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "model call (ONNX Runtime" in out.stdout
    assert out.stdout.splitlines()[-1] == "[]"

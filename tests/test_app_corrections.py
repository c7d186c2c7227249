"""Corrections in the app: the panel beside an answer, a click that saves, /correct over HTTP, and the start-up flags."""
import io
import subprocess
import sys

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import app
from benchmarks.load import free_port
from conftest import ROOT
from digitcore.store import CorrectionStore, file_hash
from test_app import sketchpad_value

SEVEN = [[(130, 100), (350, 100), (210, 400)]]


@pytest.fixture
def store(tmp_path, monkeypatch):
    store = CorrectionStore(tmp_path / "corrections.sqlite")
    monkeypatch.setattr(app, "store", store)
    return store


def panel(outputs: tuple) -> dict:
    """The correction panel's updates: visible, the digit choices (when shown), the status line."""
    box, which, status = outputs[-3:]
    return {"visible": box["visible"], "which": which.get("choices") if which.get("visible") else None, "status": status}


def test_a_click_saves_the_picture_its_input_and_what_the_model_said(store):
    value = sketchpad_value(SEVEN)
    outputs = app.recognize(value)
    assert panel(outputs) == {"visible": True, "which": None, "status": ""}
    message = app.correct_shown("1", "sketch", value, None, 0)
    assert message == "Saved, thank you: it is 1 (the model said 7)."
    (row,) = store.rows(pictures=True)
    assert (row.said, row.correct, row.position, row.source) == (7, 1, 0, "sketch")
    assert 0.5 < row.probability <= 1
    assert row.model_hash == "+".join(file_hash(ROOT / "models" / name) for name in ("digits.onnx", "digits-fast.onnx", "strings.onnx"))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(row.picture))), value["composite"])
    assert np.array_equal(row.model_input, np.round(app.recognizer().predict(value).model_input * 255))


def test_a_number_offers_its_digits_and_saves_the_one_picked(store, mnist_sample):
    x, y = mnist_sample
    page = np.full((200, 500), 255, np.uint8)
    for i, k in enumerate((5, 66)):
        page[30:170, 40 + i * 220 : 180 + i * 220] = 255 - np.array(Image.fromarray(x[k]).resize((140, 140)))
    outputs = app.recognize(page)
    choices = panel(outputs)["which"]
    assert [value for _, value in choices] == [0, 1] and choices[1][0].startswith(f"digit 2: {y[66]}")
    message = app.correct_shown("not a digit", "upload", None, page, 1)
    assert message == f"Saved, thank you: digit 2 is not a digit (the model said {y[66]})."
    assert (store.rows()[0].position, store.rows()[0].correct) == (1, 10)


def test_no_panel_without_an_answer_or_with_corrections_off(store, monkeypatch):
    assert panel(app.recognize(None))["visible"] is False
    assert panel(app.recognize({"background": None, "layers": [], "composite": np.zeros((99, 99, 4), np.uint8)}))["visible"] is False
    monkeypatch.setattr(app, "store", None)
    assert panel(app.recognize(sketchpad_value(SEVEN)))["visible"] is False
    with pytest.raises(app.gr.Error, match="turned off"):
        app.correct_shown("1", "sketch", sketchpad_value(SEVEN), None, 0)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The real app on a free port with its own corrections file; a gradio_client for it."""
    path = tmp_path_factory.mktemp("api") / "corrections.sqlite"
    saved = app.store
    app.store = CorrectionStore(path)
    port = free_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, max_file_size=app.MAX_FILE_SIZE, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False, ssl_verify=False)
    finally:
        app.demo.close()
        app.store = saved


def test_api_correct_saves_a_row(client):
    three = handle_file(str(app.EXAMPLES / "three_photo.jpg"))
    answer = client.predict(three, "8", api_name="/correct")  # which digit: 1 unless told
    assert (answer["said"], answer["correct"], answer["digit"]) == ("3", "8", 1)
    row = app.store.row(answer["id"], pictures=True)
    assert (row.source, row.correct, row.said) == ("api", 8, 3)
    assert Image.open(io.BytesIO(row.picture)).format == "PNG"


def test_api_correct_refuses_a_bad_answer_with_its_reason(client):
    before = app.store.count()
    three = handle_file(str(app.EXAMPLES / "three_photo.jpg"))
    with pytest.raises(AppError, match="must be a digit 0-9 or 'not a digit', not '12'"):
        client.predict(three, "12", 1, api_name="/correct")
    with pytest.raises(AppError, match="nothing to correct"):
        client.predict(handle_file(str(app.EXAMPLES / "blank_paper.jpg")), "4", 1, api_name="/correct")
    with pytest.raises(AppError, match="there is no digit 3"):
        client.predict(three, "4", 3, api_name="/correct")
    assert app.store.count() == before


def test_a_foreign_corrections_file_stops_the_app_at_start(tmp_path):
    (tmp_path / "notes.txt").write_text("not a database\n" * 20)
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--corrections", str(tmp_path / "notes.txt")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'notes.txt'}: not an SQLite database (file is not a database); "
                                                  "give another --corrections path"]


def test_start_up_says_where_corrections_go_and_no_corrections_turns_them_off(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(app.demo, "launch", lambda **kwargs: None)
    monkeypatch.setattr(app.demo, "block_thread", lambda: None)
    monkeypatch.setattr(app, "store", None)
    app.main(["--corrections", str(tmp_path / "c.sqlite")])
    assert f"Corrections are saved to {tmp_path / 'c.sqlite'}" in capsys.readouterr().out
    assert app.store.path == tmp_path / "c.sqlite" and not app.store.path.exists()  # made by the first correction
    app.main(["--no-corrections"])
    assert app.store is None and "Corrections: off" in capsys.readouterr().out
    app.main([])
    assert app.store.path == ROOT / "corrections.sqlite"  # the default: beside models/

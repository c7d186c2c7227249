"""The Gradio app: its handler called directly, the real server called through gradio_client, and main()'s flags."""
import contextlib
import io
import socket
import subprocess
import sys

import cv2
import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

import app
from benchmarks.load import free_port
from conftest import ROOT

EXAMPLES = ROOT / "examples"


def sketchpad_value(strokes: list[list[tuple[int, int]]], side: int = 480) -> dict:
    """What the sketchpad sends: black strokes (24 px, as its brush) on an opaque white (side, side) RGBA canvas."""
    canvas = np.full((side, side, 4), 255, np.uint8)
    for points in strokes:
        cv2.polylines(canvas, [np.array(points, np.int32)], False, (0, 0, 0, 255), 24, cv2.LINE_AA)
    layer = np.zeros_like(canvas)
    layer[..., 3] = 255 - canvas[..., 0]  # the strokes alone, on transparency
    return {"background": None, "layers": [layer], "composite": canvas}


def top_label(value: dict) -> str:
    return max(value, key=value.get)


def shown(outputs: tuple) -> dict:
    """The handler's updates by component name, values only for the visible ones."""
    names = ["number", "label", "seen", "boxes", "pieces"]
    page = {}
    for name, output in zip(names, outputs):
        if not (isinstance(output, dict) and "__type__" in output):
            page[name] = output
        elif output.get("visible", True):
            page[name] = output["value"]
    return page


# --- the handler, no server ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "composite",
    [np.full((480, 480, 4), 255, np.uint8), np.zeros((480, 480, 4), np.uint8)],
    ids=["white canvas", "transparent canvas"],
)
def test_blank_sketchpad_says_no_digit_without_a_guess(composite):
    page = shown(app.recognize({"background": None, "layers": [], "composite": composite}))
    assert page["label"] == app.NO_DIGIT
    assert page["seen"] is None and page["number"] == ""


def test_nothing_to_read_clears_the_outputs():
    page = shown(app.recognize(None))
    assert page == {"number": "", "label": None, "seen": None}


@pytest.mark.parametrize(
    "strokes, digit",
    [
        ([[(240, 70), (240, 410)]], "1"),
        ([[(130, 100), (350, 100), (210, 400)]], "7"),
        ([[(270, 70), (130, 280), (360, 280)], [(280, 170), (280, 420)]], "4"),
    ],
    ids=["1", "7", "4"],
)
def test_drawn_digit_is_read(strokes, digit):
    page = shown(app.recognize(sketchpad_value(strokes)))
    label, seen = page["label"], page["seen"]
    assert page["number"] == "" and "boxes" not in page  # one digit: the page looks as it always did
    assert set(label) == {str(d) for d in range(10)}
    assert sum(label.values()) == pytest.approx(1, abs=1e-4)
    assert top_label(label) == digit
    assert seen.shape == (28 * app.SHOWN_SCALE, 28 * app.SHOWN_SCALE) and seen.dtype == np.uint8
    assert seen.max() == 255  # the digit is visible in what the model saw, white on black
    assert seen[0].max() == 0


@pytest.mark.parametrize("name, digit", [("three_photo.jpg", "3"), ("seven_sketch.png", "7"), ("two_pen.jpg", "2")])
def test_example_pictures_are_read(name, digit):
    page = shown(app.recognize(str(EXAMPLES / name)))
    assert top_label(page["label"]) == digit
    assert page["seen"] is not None


def test_blank_paper_photo_says_no_digit():
    page = shown(app.recognize(str(EXAMPLES / "blank_paper.jpg")))
    assert page["label"] == app.NO_DIGIT and page["seen"] is None


def test_a_number_shows_large_with_a_box_and_an_input_per_digit():
    four = [[(180, 60), (60, 250), (230, 250)], [(190, 140), (190, 330)]]  # a 4 in two strokes
    two = [[(330, 110), (370, 70), (440, 70), (470, 120), (450, 190), (330, 330), (490, 330)]]
    page = shown(app.recognize(sketchpad_value(four + two, side=560)))
    assert page["number"] == "42"
    assert "label" not in page and "seen" not in page  # a number shows its digits instead
    picture, boxes = page["boxes"]
    assert picture.shape == (560, 560, 3)
    assert [label.split(":")[1].split()[0] for _, label in boxes] == ["4", "2"]
    (x0, _, x1, _), (x2, _, x3, _) = (box for box, _ in boxes)
    assert x0 < 100 and 200 < x1 < 260 and 300 < x2 < 340 and x3 > 470  # each box sits on its digit
    assert [caption.split(":")[0] for _, caption in page["pieces"]] == ["1", "2"]
    assert all(image.shape == (28 * app.SHOWN_SCALE,) * 2 for image, _ in page["pieces"])


def test_the_form_example_reads_its_number_in_the_boxes_under_the_shadow():
    """examples/form_in_shadow.jpg: "1975" in a form's row of boxes, the phone's shadow over half of it."""
    page = shown(app.recognize(str(EXAMPLES / "form_in_shadow.jpg")))
    assert page["number"] == "1975"
    assert len(page["boxes"][1]) == 4  # a box on each digit, none on the form's boxes


def test_every_example_in_the_app_exists():
    assert app.EXAMPLE_PICTURES and all((EXAMPLES / name).is_file() for name in app.EXAMPLE_PICTURES)


def test_bad_files_raise_a_clear_gradio_error(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes((EXAMPLES / "seven_sketch.png").read_bytes()[:2000])
    cases = {
        tmp_path / "missing.png": "no such file",
        text: "not an image file",
        truncated: "truncated",
    }
    for path, words in cases.items():
        with pytest.raises(gr.Error) as caught:
            app.recognize(str(path))
        assert words in caught.value.message, path
        assert str(tmp_path) not in caught.value.message  # the server's paths are not the user's business


def test_model_is_loaded_once_for_many_requests(monkeypatch):
    loads = []
    real_load = app.Recognizer.load

    def counting_load(path=None):
        loads.append(path)
        return real_load(path)

    monkeypatch.setattr(app.Recognizer, "load", counting_load)
    app.recognizer.cache_clear()
    for _ in range(3):
        app.recognize(str(EXAMPLES / "seven_sketch.png"))
        app.recognize(sketchpad_value([[(240, 70), (240, 410)]]))
    assert loads == [None]  # None: digitcore's default model


# --- main(): the model check and --share ----------------------------------------------------------------


def test_missing_model_stops_the_app_with_one_line_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "digits.keras"
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--model", str(missing)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_model_stops_main_with_a_message_naming_the_path(tmp_path, monkeypatch):
    corrupt = tmp_path / "digits.keras"
    corrupt.write_bytes(b"this is not a zip file")
    monkeypatch.setattr(app, "model_path", app.model_path)  # restored after the test
    monkeypatch.setattr(app.demo, "launch", lambda **kwargs: pytest.fail("launched with a broken model"))
    with pytest.raises(SystemExit) as stopped:
        app.main(["--model", str(corrupt)])
    assert str(corrupt) in str(stopped.value.code)
    app.recognizer.cache_clear()  # the next test loads the default model again


def test_share_flag_reaches_launch(monkeypatch):
    calls = []
    monkeypatch.setattr(app.demo, "launch", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(app.demo, "block_thread", lambda: None)
    monkeypatch.setattr(app.demo, "share_url", "https://example.gradio.live")
    app.main(["--share", "--port", "7999"])
    assert len(calls) == 1
    assert calls[0]["share"] is True
    assert calls[0]["server_port"] == 7999 and calls[0]["server_name"] == "127.0.0.1"
    assert calls[0]["max_file_size"] == "10mb"


def test_without_share_flag_no_share(monkeypatch):
    calls = []
    monkeypatch.setattr(app.demo, "launch", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(app.demo, "block_thread", lambda: None)
    app.main([])
    assert calls[0]["share"] is False and calls[0]["server_port"] == 7860


def test_share_link_failure_is_explained_and_the_app_keeps_serving(monkeypatch):
    """A real launch whose tunnel fails as it does offline: Gradio prints its reason and carries on; we say so plainly."""

    def no_tunnel(*args, **kwargs):
        raise ConnectionError("no route to the share server")  # what setup_tunnel meets without internet

    monkeypatch.setattr(gr.networking, "setup_tunnel", no_tunnel)
    tiny = gr.Blocks()  # a real server, but not the module's demo, which the server tests below launch
    with tiny:
        gr.Markdown("hello")
    monkeypatch.setattr(app, "demo", tiny)
    monkeypatch.setattr(tiny, "block_thread", lambda: None)
    port = free_port()
    out = io.StringIO()  # not capsys: it closes its stream after the test, and the server thread may still write to it
    try:
        with contextlib.redirect_stdout(out):
            app.main(["--share", "--port", str(port)])
        out = out.getvalue()
        assert f"Could not open a share link (no internet?); the app is still available at http://127.0.0.1:{port}" in out
        assert tiny.share_url is None
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # still serving
    finally:
        tiny.close()


def test_upload_is_read_once_for_the_page_and_once_for_the_api(tmp_path):
    upload = {"path": str(EXAMPLES / "three_photo.jpg")}
    page = shown(app.recognize_upload(upload))
    label, seen = page["label"], page["seen"]
    assert max(label, key=label.get) == "3"
    assert seen.shape == (28 * app.SHOWN_SCALE, 28 * app.SHOWN_SCALE) and seen.max() == 255
    assert app.predict_upload(upload) == label  # /predict: the label alone
    assert app.read_upload(upload)["number"] == "3"  # /read: the reading as JSON
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    for handler in (app.recognize_upload, app.predict_upload, app.read_upload):
        with pytest.raises(gr.Error, match="not an image file"):
            handler({"path": str(bad)})
    # The page's upload triggers one event, private; /predict has no trigger of its own.
    config = app.demo.get_config_file()
    upload_id = next(c["id"] for c in config["components"] if c["props"].get("elem_id") == "upload")
    on_upload = [d for d in config["dependencies"] if (upload_id, "upload") in map(tuple, d["targets"])]
    assert [d["api_visibility"] for d in on_upload] == ["private"]
    assert next(d for d in config["dependencies"] if d["api_name"] == "predict")["targets"] == []
    assert next(d for d in config["dependencies"] if d["api_name"] == "read")["targets"] == []


# --- the real server through gradio_client ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    port = free_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, max_file_size=app.MAX_FILE_SIZE, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}", verbose=False)
    finally:
        app.demo.close()


def test_api_reads_a_photo_of_a_dark_three_on_paper(client):
    result = client.predict(handle_file(str(EXAMPLES / "three_photo.jpg")), api_name="/predict")
    assert result["label"] == "3"
    confidences = {c["label"]: c["confidence"] for c in result["confidences"]}
    assert set(confidences) == {str(d) for d in range(10)}
    assert max(confidences, key=confidences.get) == "3"


def test_api_says_no_digit_for_blank_paper(client):
    result = client.predict(handle_file(str(EXAMPLES / "blank_paper.jpg")), api_name="/predict")
    assert result["label"] == app.NO_DIGIT
    assert not result.get("confidences")


def test_api_answers_a_bad_file_with_its_reason_and_stays_up(client, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(AppError, match="not an image file"):
        client.predict(handle_file(str(text)), api_name="/predict")
    result = client.predict(handle_file(str(EXAMPLES / "seven_sketch.png")), api_name="/predict")
    assert result["label"] == "7"


def test_api_refuses_files_over_the_upload_limit(client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes((EXAMPLES / "seven_sketch.png").read_bytes() + b"\0" * (11 * 2**20))  # 11 MB
    with pytest.raises(Exception, match="maximum file size"):
        client.predict(handle_file(str(big)), api_name="/predict")


def test_api_reads_a_transparent_png_as_drawn(client, tmp_path):
    """Black strokes on transparent pixels that are themselves black: only the alpha channel shows the digit."""
    strokes = sketchpad_value([[(130, 100), (350, 100), (210, 400)]])["layers"][0]
    assert (strokes[..., :3] == 0).all()
    path = tmp_path / "seven.png"
    cv2.imwrite(str(path), strokes)  # BGRA: the same, as all colour channels are 0
    result = client.predict(handle_file(str(path)), api_name="/predict")
    assert result["label"] == "7"


def test_api_reads_a_number_with_its_digits_and_boxes(client, tmp_path, mnist_sample):
    x, y = mnist_sample
    picks = [3, 40, 77, 150]
    page = np.full((200, 720), 255, np.uint8)
    for i, k in enumerate(picks):
        page[30:170, 30 + i * 170 : 170 + i * 170] = 255 - cv2.resize(x[k], (140, 140))
    path = tmp_path / "number.png"
    cv2.imwrite(str(path), page)
    result = client.predict(handle_file(str(path)), api_name="/read")
    assert result["number"] == "".join(str(y[k]) for k in picks) and result["reason"] is None
    assert [d["label"] for d in result["digits"]] == [int(y[k]) for k in picks]
    lefts = [d["box"][0] for d in result["digits"]]
    assert all(30 + i * 170 <= left < 170 + i * 170 for i, left in enumerate(lefts))
    assert result["label"] is None and result["probabilities"] is None  # filled for one digit only
    blank = client.predict(handle_file(str(EXAMPLES / "blank_paper.jpg")), api_name="/read")
    assert blank == {"number": None, "reason": "empty", "digits": [], "label": None, "probabilities": None}

"""Handwritten digit recognizer: draw a digit or a number, or upload a picture of one, and see what the CNN reads.

    python app.py [--port 7860] [--host 127.0.0.1] [--model models/digits.onnx] [--share]
                  [--corrections corrections.sqlite | --no-corrections]
"""
from __future__ import annotations

import argparse
import functools
import os
import socket
import sys
from pathlib import Path
from typing import Any

# After every event Gradio re-summarises up to 10,000 past events with pandas, for a monitoring dashboard
# this app does not enable: 2-9 ms of CPU a request here. Once per 1,000 events is plenty.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from digitcore import Digit, InvalidImage, ModelError, Prediction, Reading, Recognizer, metrics  # noqa: E402
from digitcore.images import as_array, to_rgb  # noqa: E402
from digitcore.predict import EMPTY, NOT_A_DIGIT  # noqa: E402
from digitcore.store import (  # noqa: E402
    DEFAULT_DB, LABELS, Correction, CorrectionRefused, CorrectionStore, StoreError, file_hash, png_bytes
)

EXAMPLES = Path(__file__).resolve().parent / "examples"
EXAMPLE_PICTURES = [
    "three_photo.jpg", "number_photo.jpg", "seven_sketch.png", "two_pen.jpg", "marker_fat_photo.jpg", "faint_pencil.jpg",
    "ruled_digit.jpg", "sticky_note_desk.jpg", "form_in_shadow.jpg", "blank_paper.jpg",
]  # examples/make_examples.py
NO_DIGIT = "no digit found"
MAX_FILE_SIZE = "10mb"
SHOWN_SCALE = 8  # the 28x28 model input is shown 8x larger, pixel for pixel
model_path: str | None = None  # --model; None means digitcore's default: models/digits.onnx with digits-fast.onnx first
store: CorrectionStore | None = None  # --corrections; None: corrections are off (main opens the default)
KEPT_NOTICE = "Corrections (your picture and the right answer) are kept by this demo's owner to improve the model."
CSS = """
#number, #number * { font-size: 64px; font-weight: 700; line-height: 1.15; letter-spacing: 0.06em; }
#number .why { font-size: 28px; font-weight: 600; letter-spacing: normal; color: var(--body-text-color-subdued); }
"""

# Gradio's sketchpad opens with no tool selected ("select the draw tool to start") and ignores strokes
# until the brush button is clicked. Click it for the user whenever the sketchpad has no tool selected
# (on page load, and if a re-render ever resets it), so the first stroke draws.
SELECT_BRUSH_JS = """
() => {
    const selectBrush = () => {
        const pad = document.getElementById("sketchpad");
        const brush = pad && pad.querySelector('button[aria-label="Brush"]');
        if (brush && !pad.querySelector("button.highlight")) brush.click();
    };
    new MutationObserver(selectBrush).observe(document.body, {childList: true, subtree: true});
    selectBrush();
}
"""


@functools.cache
def recognizer() -> Recognizer:
    """The model, loaded once on first use (main loads it up front so a bad --model stops the app at start)."""
    return Recognizer.load(model_path)


@functools.cache
def model_hash() -> str:
    """SHA-256 of the served model files, kept with each correction: the full network's, then after a '+' each of
    the fast one's and the string network's that is served (a .keras served by --model is hashed as that file)."""
    served = recognizer()
    return "+".join(file_hash(m.name) for m in (served.model, served.fast, served.strings) if m is not None)


def read_picture(picture: Any) -> tuple[np.ndarray | None, Reading | None]:
    """Sketchpad value or image file path -> (the picture as an array, its reading); a bad file is a gr.Error."""
    if picture is None:
        return None, None
    try:
        array = as_array(picture)
        return array, recognizer().read(array)
    except InvalidImage as e:
        message = str(e).removeprefix(f"{picture}: ")  # the server's temporary path means nothing to the user
        raise gr.Error(message) from None


def label_value(digit: Digit | Prediction) -> dict[str, float]:
    """The Label's value for one piece: its 10 probabilities, or "not a digit" above the closest digits."""
    if digit.label is not None or not isinstance(digit, Digit):
        return {str(d): float(p) for d, p in enumerate(digit.probabilities)}
    rest = 1.0 - digit.not_digit  # the digits' share: small, so none of them looks like an answer
    return {NOT_A_DIGIT: digit.not_digit, **{str(d): float(p) * rest for d, p in enumerate(digit.probabilities)}}


def number_html(reading: Reading | None) -> str:
    """The number, large; or in words why there is none. One digit is shown by the Label itself, as it always was."""
    if reading is None or reading.reason == EMPTY or (reading.single and reading.number):
        return ""
    if reading.number is None:
        return f'<span class="why">{reading.reason}</span>'
    return reading.number


def show(array: np.ndarray | None, reading: Reading | None) -> tuple:
    """A reading -> updates for (number, label, seen, boxes, pieces): one digit as a Label and its 28x28 input,
    a number as boxes over the picture and each digit's input with its probabilities."""
    number = number_html(reading)
    if reading is None or not reading.digits:
        label = None if reading is None else NO_DIGIT if reading.reason == EMPTY else reading.reason
        return number, gr.update(value=label, visible=True), gr.update(value=None, visible=True), *hide_number()
    single = reading.single
    if single is not None:
        return number, gr.update(value=label_value(single), visible=True), gr.update(value=enlarge(single.model_input), visible=True), *hide_number()
    boxes = [((x, y, x + w, y + h), f"{i + 1}: {caption(d)}") for i, (d, (x, y, w, h)) in enumerate((d, d.box) for d in reading.digits)]
    gallery = [(enlarge(d.model_input), f"{i + 1}: {caption(d, top=3)}") for i, d in enumerate(reading.digits)]
    return (
        number,
        gr.update(visible=False),
        gr.update(visible=False),
        gr.update(value=(to_rgb(array), boxes), visible=True),
        gr.update(value=gallery, visible=True),
    )


def hide_number() -> tuple:
    return gr.update(value=None, visible=False), gr.update(value=None, visible=False)


def caption(digit: Digit, top: int = 1) -> str:
    """"4 (98%)", with the runners-up when top > 1; "not a digit (91%)" for a rejected piece."""
    if digit.label is None:
        return f"{NOT_A_DIGIT} ({digit.not_digit:.0%})"
    order = np.argsort(-digit.probabilities)[:top]
    return ", ".join(f"{d} ({digit.probabilities[d]:.0%})" for d in order)


def recognize(picture: Any) -> tuple:
    """Sketchpad value or image file path -> updates for (number, label, seen, boxes, pieces, and the correction
    panel, which digit, its status)."""
    array, reading = read_picture(picture)
    return *show(array, reading), *offer_correction(reading)


def offer_correction(reading: Reading | None) -> tuple:
    """Updates for (the correction panel, which digit, its status): shown beside an answer while corrections are on;
    for a number, the digit to correct is picked from a list."""
    if store is None or reading is None or not reading.digits:
        return gr.update(visible=False), gr.update(), ""
    choices = [(f"digit {i + 1}: {caption(d)}", i) for i, d in enumerate(reading.digits)]
    return gr.update(visible=True), gr.update(choices=choices, value=0, visible=len(choices) > 1), ""


def save_correction(picture: Any, answer: str, position: int, source: str) -> tuple[Correction, str]:
    """Read the picture again (the same reading that is shown), keep one digit's correction; the row and a confirmation."""
    if store is None:
        raise gr.Error("Corrections are turned off on this server.")
    array, reading = read_picture(picture)
    try:
        row = store.save_reading(png_bytes(array), reading, answer, int(position or 0), model_hash(), source)
    except CorrectionRefused as e:
        raise gr.Error(f"Not saved: {e}.") from None
    except StoreError as e:  # full or unwritable: the owner's problem, in the owner's log; the visitor gets a sentence
        print(f"corrections: {e}", file=sys.stderr, flush=True)
        raise gr.Error("Not saved: this demo keeps no more corrections for now.") from None
    which = f"digit {row.position + 1} is" if len(reading.digits) > 1 else "it is"
    return row, f"Saved, thank you: {which} {LABELS[row.correct]} (the model said {LABELS[row.said]})."


def correct_shown(answer: str, shown_from: str, sketch: Any, upload: str | None, position: int) -> str:
    """A click on "Wrong? It is a ...": correct the answer on show, from the sketchpad or the upload."""
    return save_correction(upload if shown_from == "upload" else sketch, answer, position, shown_from or "sketch")[1]


def correct_upload(upload: dict[str, Any] | None, answer: str, position: float | None = 1) -> dict:
    """/correct, for API callers: a picture, its correct answer (0-9 or "not a digit") and, for a number, which
    digit (1 = leftmost). Returns the saved row's id, what the model said and the answer kept."""
    if upload is None:
        raise gr.Error("Not saved: no picture.")
    row, message = save_correction(upload["path"], str(answer), int(position or 1) - 1, "api")
    return {"id": row.id, "digit": row.position + 1, "said": LABELS[row.said], "correct": LABELS[row.correct], "message": message}


def recognize_upload(upload: dict[str, Any] | None) -> tuple:
    """The page's upload, the file as it is (Gradio's own decoding would refuse a bad one without saying why)."""
    return recognize(upload and upload["path"])


def predict_upload(upload: dict[str, Any] | None) -> dict[str, float] | str | None:
    """/predict, for API callers: the picture read as one digit, the Label's value alone (no image to download)."""
    if upload is None:
        return None
    try:
        prediction = recognizer().predict(upload["path"])
    except InvalidImage as e:
        raise gr.Error(str(e).removeprefix(f"{upload['path']}: ")) from None
    if prediction.label is None:
        return NO_DIGIT if prediction.reason == EMPTY else NOT_A_DIGIT
    return label_value(prediction)


def read_upload(upload: dict[str, Any] | None) -> dict | None:
    """/read, for API callers: the number, each digit with its box and confidence, and why nothing was read."""
    _, reading = read_picture(upload and upload["path"])
    return None if reading is None else reading.to_dict()


def enlarge(model_input: np.ndarray | None) -> np.ndarray | None:
    """(28, 28) float32 in [0, 1] -> (224, 224) uint8, each pixel a block, so the picture stays sharp on screen."""
    if model_input is None:
        return None
    return np.kron((model_input * 255).round().astype(np.uint8), np.ones((SHOWN_SCALE, SHOWN_SCALE), np.uint8))


with gr.Blocks(title="Digit recognizer", delete_cache=(600, 600)) as demo:
    gr.Markdown(
        "# Digit recognizer\nWrite a digit or a number on the canvas, or upload a photo of one: a CNN trained on "
        "MNIST reads it."
    )
    # The outputs are made first (the examples refer to them) and placed on the right below.
    number = gr.HTML(elem_id="number", render=False)
    label = gr.Label(num_top_classes=10, label="Prediction", elem_id="prediction", render=False)
    seen = gr.Image(
        label="What the model saw (28x28)", interactive=False, height=240, buttons=[], elem_id="model-input", render=False
    )
    boxes = gr.AnnotatedImage(label="Digits found", visible=False, elem_id="boxes", render=False)
    pieces = gr.Gallery(
        label="What the model saw, digit by digit", visible=False, columns=6, height=200, elem_id="pieces", render=False
    )
    # "Wrong? It is a ...": one button per label; for a number, which digit. Shown beside an answer (offer_correction).
    with gr.Column(visible=False, render=False, elem_id="correction") as correction:
        gr.Markdown("**Wrong? It is a ...**")
        which = gr.Dropdown(label="Which digit", visible=False, elem_id="correct-which", interactive=True)
        # The ten digits in one row, "not a digit" under them: one row of eleven wraps a lone 9 on a narrow column.
        answer_buttons = []
        for names in (LABELS[:10], LABELS[10:]):
            with gr.Row():
                answer_buttons += [
                    gr.Button(name, size="sm", min_width=24, elem_id=f"correct-{name.replace(' ', '-')}") for name in names
                ]
        correction_status = gr.Markdown(elem_id="correction-status")
        gr.Markdown(KEPT_NOTICE, elem_id="correction-notice")
    outputs = [number, label, seen, boxes, pieces, correction, which, correction_status]
    reading_json = gr.JSON(visible=False, render=False)  # /read's output: an API answer, never shown on the page
    # Which input the answer on show came from (set in the browser, no server call), and /correct's inputs and output.
    shown_from = gr.Textbox("sketch", visible=False, render=False)
    api_answer = gr.Textbox(visible=False, render=False, label="correct answer: 0-9 or 'not a digit'")
    api_digit = gr.Number(1, visible=False, render=False, precision=0, label="which digit of a number, 1 = leftmost")
    correction_json = gr.JSON(visible=False, render=False)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            with gr.Tab("Draw"):
                sketchpad = gr.Sketchpad(
                    elem_id="sketchpad",  # SELECT_BRUSH_JS finds the brush button under this id
                    show_label=False,
                    canvas_size=(720, 360),  # room for a number written along one line
                    fixed_canvas=True,
                    height="min(420px, 70vw)",
                    brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"),
                    eraser=gr.Eraser(default_size=24),
                    layers=False,
                    transforms=(),
                    buttons=[],
                )
            with gr.Tab("Upload a picture"):
                upload = gr.Image(
                    label="Photo or scan of a digit or a number",
                    sources=("upload", "webcam", "clipboard"),
                    type="filepath",
                    image_mode=None,  # examples reach digitcore as the files they are, like uploads
                    height=420,
                    elem_id="upload",
                )
                gr.Examples(
                    examples=[str(EXAMPLES / name) for name in EXAMPLE_PICTURES],
                    inputs=upload,
                    outputs=outputs,
                    fn=recognize,
                    run_on_click=True,
                    cache_examples=False,
                )
        with gr.Column(scale=2, min_width=240):
            number.render()
            label.render()
            seen.render()
            boxes.render()
            pieces.render()
            correction.render()
            for hidden in (reading_json, shown_from, api_answer, api_digit, correction_json):
                hidden.render()
    sketchpad.change(
        recognize,
        sketchpad,
        outputs,
        trigger_mode="always_last",  # while the model works, only the latest drawing waits: no stale backlog
        concurrency_limit=2,
        show_progress="hidden",  # no spinner flashing over the label on every stroke
        api_visibility="private",
    )
    # .upload, not .change: .change fires twice when a new file replaces the shown one (two error pop-ups)
    upload.upload(
        recognize_upload,
        upload,
        outputs,
        preprocess=False,  # the raw upload: Gradio decoding a bad file first would fail with a bare "Error"
        concurrency_limit=4,  # a prediction is a few ms of numpy that releases the GIL: serve several at once
        concurrency_id="upload",
        show_progress="minimal",
        api_visibility="private",
    )
    # /predict and /read are endpoints of their own (no trigger: the page never runs them), so the page decodes
    # an upload once and an API call keeps nothing between calls. They share the page's upload workers.
    gr.on(
        [], predict_upload, upload, label, api_name="predict", preprocess=False, concurrency_limit=4, concurrency_id="upload"
    )
    gr.on([], read_upload, upload, reading_json, api_name="read", preprocess=False, concurrency_id="upload")
    upload.clear(lambda: recognize(None), None, outputs, show_progress="hidden", api_visibility="private")
    sketchpad.change(None, None, shown_from, js="() => 'sketch'")
    upload.change(None, None, shown_from, js="() => 'upload'")  # uploads and examples alike
    for name, button in zip(LABELS, answer_buttons):
        button.click(
            functools.partial(correct_shown, name), [shown_from, sketchpad, upload, which], correction_status,
            concurrency_limit=4, concurrency_id="correct", api_visibility="private",
        )
    gr.on(
        [], correct_upload, [upload, api_answer, api_digit], correction_json, api_name="correct", preprocess=False,
        concurrency_limit=4, concurrency_id="correct",
    )
    demo.load(None, js=SELECT_BRUSH_JS)


def serving_address(host: str | None, port: int | None) -> tuple[str, int]:
    """--host/--port if given, else what a Space or container sets (GRADIO_SERVER_NAME, GRADIO_SERVER_PORT or PORT),
    else 127.0.0.1:7860."""
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    if port is not None:
        return host, port
    for name in ("GRADIO_SERVER_PORT", "PORT"):
        if os.environ.get(name):
            if not os.environ[name].isdigit():
                sys.exit(f"error: {name}={os.environ[name]!r} is not a port number")
            return host, int(os.environ[name])
    return host, 7860


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, load the model once, serve the app (and its /metrics) until interrupted."""
    global model_path, store
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="port to serve on (default: $GRADIO_SERVER_PORT, $PORT or 7860)")
    parser.add_argument(
        "--host", help="address to listen on; 0.0.0.0 for all (default: $GRADIO_SERVER_NAME or 127.0.0.1)"
    )
    parser.add_argument("--model", help="a .onnx or .keras model file, served alone (default: models/digits.onnx, and digits-fast.onnx first for its sure cases)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public link (needs internet)")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--corrections", metavar="PATH", default=str(DEFAULT_DB),
                      help="SQLite file for the corrections visitors give (default: %(default)s)")
    kept.add_argument("--no-corrections", action="store_true", help="no \"Wrong? It is a ...\" buttons, no /correct")
    args = parser.parse_args(argv)
    host, port = serving_address(args.host, args.port)

    try:
        store = None if args.no_corrections else CorrectionStore(args.corrections)  # a bad file stops the app at once
    except StoreError as e:
        sys.exit(f"error: {e}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: its C++ warnings are not for users
    if args.model != model_path:
        model_path = args.model
        recognizer.cache_clear()
        model_hash.cache_clear()
    try:
        served = recognizer()
    except ModelError as e:
        sys.exit(f"error: {e}")
    metrics.observe(served)  # count and time every read and predict it serves
    print("Corrections: off (--no-corrections)" if store is None else f"Corrections are saved to {store.path.resolve()}",
          flush=True)

    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=args.share,
            max_file_size=MAX_FILE_SIZE,
            # Each API call is a new session; keep the newest 1,000 (a visitor's own stays fresh as they draw).
            state_session_capacity=1000,
            app_kwargs=metrics.serve_metrics(f"{socket.gethostname()}:{port}"),  # /metrics, this replica's
            prevent_thread_lock=True,
            css=CSS,
        )
    except OSError as e:  # the port is taken, or the host is not an address of this machine
        sys.exit(f"error: cannot serve on {host}:{port} (port taken, or not this machine's address): {e}")
    if args.share and not demo.share_url:  # Gradio prints why and carries on without the link
        print(f"\nCould not open a share link (no internet?); the app is still available at {demo.local_url}", flush=True)
    demo.block_thread()  # until Ctrl+C, which it handles by closing the server


if __name__ == "__main__":
    main()

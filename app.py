"""Handwritten digit recognizer: draw a digit or upload a picture of one, and see what the CNN reads.

    python app.py [--port 7860] [--host 127.0.0.1] [--model models/digits.keras] [--share]
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

from digitcore import InvalidImage, ModelError, Recognizer, metrics  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "examples"
EXAMPLE_PICTURES = ["three_photo.jpg", "seven_sketch.png", "two_pen.jpg", "blank_paper.jpg"]  # examples/make_examples.py
NO_DIGIT = "no digit found"
MAX_FILE_SIZE = "10mb"
SHOWN_SCALE = 8  # the 28x28 model input is shown 8x larger, pixel for pixel
model_path: str | None = None  # --model; None means digitcore's default, models/digits.keras

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


def read_digit(picture: Any) -> tuple[dict[str, float] | str | None, np.ndarray | None]:
    """Sketchpad value or image file path -> (the Label's value, the (28, 28) input the model saw)."""
    if picture is None:
        return None, None
    try:
        prediction = recognizer().predict(picture)
    except InvalidImage as e:
        message = str(e).removeprefix(f"{picture}: ")  # the server's temporary path means nothing to the user
        raise gr.Error(message) from None
    if prediction.label is None:
        return NO_DIGIT, None
    return {str(digit): float(p) for digit, p in enumerate(prediction.probabilities)}, prediction.model_input


def recognize(picture: Any) -> tuple[dict[str, float] | str | None, np.ndarray | None]:
    """Sketchpad value or image file path -> (the Label's value, the model's input enlarged for display)."""
    label_value, model_input = read_digit(picture)
    return label_value, enlarge(model_input)


def recognize_upload(upload: dict[str, Any] | None) -> tuple[dict[str, float] | str | None, np.ndarray | None]:
    """The page's upload, the file as it is (Gradio's own decoding would refuse a bad one without saying why)
    -> (the Label's value, what the model saw)."""
    return recognize(upload and upload["path"])


def predict_upload(upload: dict[str, Any] | None) -> dict[str, float] | str | None:
    """/predict, for API callers: the Label's value alone, so they get no image file to download."""
    return read_digit(upload and upload["path"])[0]


def enlarge(model_input: np.ndarray | None) -> np.ndarray | None:
    """(28, 28) float32 in [0, 1] -> (224, 224) uint8, each pixel a block, so the picture stays sharp on screen."""
    if model_input is None:
        return None
    return np.kron((model_input * 255).round().astype(np.uint8), np.ones((SHOWN_SCALE, SHOWN_SCALE), np.uint8))


with gr.Blocks(title="Digit recognizer", delete_cache=(600, 600)) as demo:
    gr.Markdown("# Digit recognizer\nDraw a digit 0-9 on the canvas, or upload a photo of one: a CNN trained on MNIST reads it.")
    # The outputs are made first (the examples refer to them) and placed on the right below.
    label = gr.Label(num_top_classes=10, label="Prediction", elem_id="prediction", render=False)
    seen = gr.Image(
        label="What the model saw (28x28)", interactive=False, height=240, buttons=[], elem_id="model-input", render=False
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            with gr.Tab("Draw"):
                sketchpad = gr.Sketchpad(
                    elem_id="sketchpad",  # SELECT_BRUSH_JS finds the brush button under this id
                    show_label=False,
                    canvas_size=(480, 480),
                    fixed_canvas=True,
                    height="min(560px, 110vw)",  # the 480 px canvas near 100% on a laptop, fitted to a phone
                    brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),  # a 24 px wide stroke
                    eraser=gr.Eraser(default_size=24),
                    layers=False,
                    transforms=(),
                    buttons=[],
                )
            with gr.Tab("Upload a picture"):
                upload = gr.Image(
                    label="Photo or scan of one digit",
                    sources=("upload", "webcam", "clipboard"),
                    type="filepath",
                    image_mode=None,  # examples reach digitcore as the files they are, like uploads
                    height=420,
                    elem_id="upload",
                )
                gr.Examples(
                    examples=[str(EXAMPLES / name) for name in EXAMPLE_PICTURES],
                    inputs=upload,
                    outputs=[label, seen],
                    fn=recognize,
                    run_on_click=True,
                    cache_examples=False,
                )
        with gr.Column(scale=2, min_width=240):
            label.render()
            seen.render()
    sketchpad.change(
        recognize,
        sketchpad,
        [label, seen],
        trigger_mode="always_last",  # while the model works, only the latest drawing waits: no stale backlog
        concurrency_limit=2,
        show_progress="hidden",  # no spinner flashing over the label on every stroke
        api_visibility="private",
    )
    # .upload, not .change: .change fires twice when a new file replaces the shown one (two error pop-ups)
    upload.upload(
        recognize_upload,
        upload,
        [label, seen],
        preprocess=False,  # the raw upload: Gradio decoding a bad file first would fail with a bare "Error"
        concurrency_limit=4,  # a prediction is a few ms of numpy/TF that releases the GIL: serve several at once
        concurrency_id="upload",
        show_progress="minimal",
        api_visibility="private",
    )
    # /predict is an endpoint of its own (no trigger: the page never runs it), so the page decodes an upload
    # once and an API call keeps nothing between calls. It shares the page's upload workers.
    gr.on(
        [], predict_upload, upload, label, api_name="predict", preprocess=False, concurrency_limit=4, concurrency_id="upload"
    )
    upload.clear(lambda: (None, None), None, [label, seen], show_progress="hidden", api_visibility="private")
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
    global model_path
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="port to serve on (default: $GRADIO_SERVER_PORT, $PORT or 7860)")
    parser.add_argument(
        "--host", help="address to listen on; 0.0.0.0 for all (default: $GRADIO_SERVER_NAME or 127.0.0.1)"
    )
    parser.add_argument("--model", help="a .keras model file (default: models/digits.keras)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public link (needs internet)")
    args = parser.parse_args(argv)
    host, port = serving_address(args.host, args.port)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: its C++ warnings are not for users
    if args.model != model_path:
        model_path = args.model
        recognizer.cache_clear()
    try:
        served = recognizer()
    except ModelError as e:
        sys.exit(f"error: {e}")
    if not hasattr(served.predict, "__wrapped__"):  # count and time every predict, once however often main runs
        served.predict = metrics.observe_predict(served.predict)

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
        )
    except OSError as e:  # the port is taken, or the host is not an address of this machine
        sys.exit(f"error: cannot serve on {host}:{port} (port taken, or not this machine's address): {e}")
    if args.share and not demo.share_url:  # Gradio prints why and carries on without the link
        print(f"\nCould not open a share link (no internet?); the app is still available at {demo.local_url}", flush=True)
    demo.block_thread()  # until Ctrl+C, which it handles by closing the server


if __name__ == "__main__":
    main()

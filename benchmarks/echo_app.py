"""The floor under benchmarks.load: a Gradio app with the same /predict upload endpoint as app.py that
answers at once, reading no file and running no model. Its round trip is what gradio_client and Gradio
cost by themselves on the machine; app.py can only add to it.

    python benchmarks/echo_app.py [--port 7861]
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# Run as a script, this folder comes first on sys.path, and benchmarks/numbers.py would shadow the standard
# library's numbers module (which Gradio's imports need).
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")  # as app.py sets it

import gradio as gr  # noqa: E402


def answer(upload: dict[str, Any] | None) -> dict[str, float]:
    """The same shape of answer as app.py's /predict, without looking at the upload."""
    return {"3": 1.0}


with gr.Blocks() as demo:
    upload = gr.Image(type="filepath")
    label = gr.Label()
    upload.upload(answer, upload, label, api_name="predict", preprocess=False, concurrency_limit=4)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7861)
    demo.launch(server_name="127.0.0.1", server_port=parser.parse_args().port)

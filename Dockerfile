# The digit recognizer in a container: python app.py on 0.0.0.0:7860 (or $PORT), as a non-root user.
#
#   docker build -t digits . && docker run --rm -p 7860:7860 digits      # then http://localhost:7860
#
# Not built or run where it was written (no Docker there): tests/test_deploy.py checks that it parses,
# that every COPY source exists and is not excluded by .dockerignore. See README "Deploy".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_ANALYTICS_ENABLED=False

# uid 1000, as Hugging Face's Docker Spaces expect.
RUN useradd --create-home --uid 1000 app
WORKDIR /home/app/digits

# The serving requirements (ONNX Runtime, no TensorFlow) install this package in editable mode, so it comes first.
COPY requirements-app.txt pyproject.toml README.md ./
COPY digitcore/ digitcore/
RUN pip install -r requirements-app.txt

COPY models/ models/
COPY examples/ examples/
COPY app.py ./
RUN chown -R app:app /home/app/digits

USER app
EXPOSE 7860
# The port the app serves on, chosen as app.py chooses it: GRADIO_SERVER_PORT, else PORT, else 7860.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; port = os.environ.get('GRADIO_SERVER_PORT') or os.environ.get('PORT') or '7860'; urllib.request.urlopen(f'http://127.0.0.1:{port}/config', timeout=4)"
CMD ["python", "app.py"]

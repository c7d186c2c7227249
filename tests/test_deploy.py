"""What a host or container gives the app: address from the environment, /metrics, the nginx config, the Dockerfile."""
import fnmatch
import os
import shlex
import subprocess
import sys
import urllib.request

import pytest

from benchmarks.load import ROOT, digit_picture, free_port, raw_round_trip
from deploy.dockerfile import instructions as dockerfile_instructions
from deploy.replicas import nginx_config


@pytest.mark.parametrize("flags, env, expected", [
    ((None, None), {}, ("127.0.0.1", 7860)),
    ((None, None), {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7000", "PORT": "8000"}, ("0.0.0.0", 7000)),
    ((None, None), {"PORT": "8000"}, ("127.0.0.1", 8000)),
    (("127.0.0.2", 9000), {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7000"}, ("127.0.0.2", 9000)),
])
def test_address_comes_from_flags_then_environment_then_default(monkeypatch, flags, env, expected):
    import app

    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert app.serving_address(*flags) == expected


def test_a_bad_port_in_the_environment_is_a_message(monkeypatch):
    import app

    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(SystemExit, match="PORT='http' is not a port number"):
        app.serving_address(None, None)


def test_app_serves_on_port_from_environment_with_metrics(tmp_path):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_SERVER_PORT", None)
    env.pop("GRADIO_SERVER_NAME", None)
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(1200):
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "the app exited"
                import time

                time.sleep(0.1)
        _, label = raw_round_trip(url, digit_picture(tmp_path))
        with urllib.request.urlopen(url + "metrics", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/plain")
            text = r.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert label == "3"
    assert 'digits_predictions_total{outcome="ok",replica="' in text and f':{port}"}} 1.0' in text
    assert 'route="upload",status="200"' in text
    assert "digits_predict_seconds_count" in text


def test_predictions_are_counted_by_outcome(recognizer):
    from digitcore import InvalidImage, metrics
    import numpy as np

    def count(outcome):
        return metrics.PREDICTIONS.labels(metrics.replica, outcome)._value.get()

    predict = metrics.observe_predict(recognizer.predict)
    before = {k: count(k) for k in ("ok", "empty", "invalid_image")}
    assert predict(str(ROOT / "examples" / "three_photo.jpg")).label == 3
    assert predict(np.full((64, 64), 255, np.uint8)).label is None
    with pytest.raises(InvalidImage):
        predict(b"not a picture")
    assert {k: count(k) - v for k, v in before.items()} == {"ok": 1, "empty": 1, "invalid_image": 1}


def test_route_labels_stay_few():
    from digitcore.metrics import route_of

    assert route_of("/") == "page"
    assert route_of("/gradio_api/call/predict/0f3a9c") == "call"
    assert route_of("/gradio_api/file=/tmp/gradio/abc/three.png") == "file"
    assert route_of("/assets/index-abc123.js") == "other"


@pytest.mark.skipif(not any(os.path.exists(p) for p in ("/usr/sbin/nginx", "/usr/bin/nginx")), reason="nginx is not installed")
@pytest.mark.parametrize("affinity", ["cookie", "address", "header", "session", "round-robin"])
def test_nginx_accepts_the_config_for_other_machines(tmp_path, affinity):
    (tmp_path / "temp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config("0.0.0.0:8080", ["10.0.0.1:7860", "10.0.0.2:7860"], affinity))
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "server 10.0.0.2:7860;" in conf.read_text()


def test_dockerfile_is_slim_non_root_healthy_and_on_7860():
    instructions = dockerfile_instructions()
    known = {"FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
    assert {name for name, _ in instructions} <= known
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert ("USER", "app") in instructions and [n for n, _ in instructions].index("USER") > [n for n, _ in instructions].index("RUN")
    assert ("EXPOSE", "7860") in instructions
    assert any(name == "HEALTHCHECK" for name, _ in instructions)
    env = " ".join(args for name, args in instructions if name == "ENV")
    assert "GRADIO_SERVER_NAME=0.0.0.0" in env
    assert not any("tensorflow" in args.lower() for _, args in instructions)  # the ONNX Runtime requirements only
    assert ("CMD", '["python", "app.py"]') in instructions


def test_every_copy_source_exists_and_is_sent_to_the_build():
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]

    def sent(path: str) -> bool:  # .dockerignore's rule: the last matching line decides
        verdict = True
        for rule in ignore:
            negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                verdict = negate
        return verdict

    sources = [src for name, args in dockerfile_instructions() if name == "COPY"
               for src in shlex.split(args)[:-1] if not src.startswith("--")]
    missing = [src for src in sources if not (ROOT / src).exists()]
    if missing == ["requirements-app.txt"]:
        pytest.skip("requirements-app.txt comes with the ONNX Runtime change; every other COPY source exists")
    assert not missing
    assert all(sent(src.rstrip("/")) for src in sources)
    assert not sent("tests") and not sent(".git") and not sent("benchmarks")


def test_kubernetes_manifests_match_the_container():
    import yaml

    deployment, service = (yaml.safe_load((ROOT / "deploy" / "k8s" / f"{n}.yaml").read_text()) for n in ("deployment", "service"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 7860 == service["spec"]["ports"][0]["targetPort"]
    assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert service["spec"]["sessionAffinity"] == "ClientIP"

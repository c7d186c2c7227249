"""2 app processes behind a real nginx on loopback, started as a user starts them: `python -m deploy.replicas`."""
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.load import digit_picture, gradio_client_users, plain_http_users, served_per_replica
from deploy.replicas import ROOT, free_port, nginx_binary

try:
    nginx_binary()
    NGINX = True
except RuntimeError:
    NGINX = False

pytestmark = pytest.mark.skipif(not NGINX, reason="nginx is not installed (apt-get install -y nginx; .ci/run does)")


def children(pid: int) -> list[int]:
    """Direct child processes of pid, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """`python -m deploy.replicas --replicas 2` running; yields (url, replica urls, its process); SIGTERM at the end."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen([sys.executable, "-m", "deploy.replicas", "--replicas", "2", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:  # the printed URL means every process answers
        lines.append(line)
        if line.startswith("Running on"):
            break
    else:
        pytest.fail("deploy.replicas did not start:\n" + "".join(lines))
    replica_urls = line.split("replicas: ", 1)[1].split(";", 1)[0].split(", ")
    yield f"http://127.0.0.1:{port}/", replica_urls, process
    if process.poll() is None:
        process.kill()


def test_several_clients_are_all_answered_right_and_both_replicas_serve(deployment, tmp_path):
    url, replica_urls, _ = deployment
    picture = digit_picture(tmp_path)
    before = served_per_replica(replica_urls)
    right, total, lost = gradio_client_users(url, picture, clients=6, calls=3)
    times, errors, _ = asyncio.run(plain_http_users(url, picture, clients=6, requests=18))
    served = [a - b for a, b in zip(served_per_replica(replica_urls), before)]
    assert (right, total) == (18, 18), lost
    assert (len(times), errors) == (18, [])
    assert sum(served) == 36
    assert min(served) > 0, f"one replica served nothing: {served}"


def test_metrics_of_each_replica_pass_through_nginx(deployment):
    import urllib.request

    url, replica_urls, _ = deployment
    for i, replica in enumerate(replica_urls):
        with urllib.request.urlopen(f"{url}replicas/{i}/metrics", timeout=10) as r:
            text = r.read().decode()
        port = replica.rstrip("/").rsplit(":", 1)[1]
        assert f':{port}"' in text and "digits_predict_seconds_bucket" in text


def test_sigterm_stops_every_process_it_started(deployment):
    _, _, process = deployment
    started = children(process.pid)
    assert len(started) == 3  # two apps and nginx's master
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started if Path(f"/proc/{pid}").exists()]

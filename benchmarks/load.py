"""The app under load, through gradio_client on localhost: start-up, round trips, concurrency, memory.

    python -m benchmarks.load [--clients 20] [--seconds 20] [--burst 50] [--soak 2000]

Starts `python app.py` on a free port as a separate process (as a user would), then measures:
start-up until the page answers; the p50/p95 round trip of one upload; `clients` concurrent clients
for `seconds` (requests served, errors, p95); a burst of `burst` simultaneous requests (all answered
right?); and the server's resident memory before and after `soak` more requests. Traffic goes to
127.0.0.1 only; every loop is bounded in count and time.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, app: Path = ROOT / "app.py") -> tuple[subprocess.Popen, float]:
    """Launch app.py and wait until its page answers; returns the process and the seconds it took."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(app), "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while time.perf_counter() - started < 120:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.status == 200:
                    return process, time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the app did not answer within 120 s")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_round_trip(url: str, picture: Path) -> tuple[float, str]:
    """One upload through Gradio's plain HTTP API (upload, call, read the event stream): the server's own latency,
    without gradio_client, which polls its message queue every 50 ms."""
    import httpx

    t = time.perf_counter()
    with httpx.Client(base_url=url, timeout=30) as http:
        with picture.open("rb") as f:
            path = http.post("gradio_api/upload", files={"files": f}).json()[0]
        data = {"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}]}
        event = http.post("gradio_api/call/predict", json=data).json()["event_id"]
        with http.stream("GET", f"gradio_api/call/predict/{event}") as stream:
            lines = [line for line in stream.iter_lines() if line.startswith("data:")]
    label = str(json.loads(lines[-1][5:])[0].get("label"))
    return (time.perf_counter() - t) * 1e3, label


async def plain_http_clients(url: str, picture: Path, clients: int, seconds: float) -> tuple[list[float], list[str]]:
    """`clients` concurrent plain-HTTP clients (asyncio: a light load generator) sending uploads for `seconds`."""
    import asyncio

    import httpx

    data = picture.read_bytes()
    times, errors = [], []
    stop = time.perf_counter() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                path = (await http.post("gradio_api/upload", files={"files": ("three.png", data)})).json()[0]
                body = {"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}]}
                event = (await http.post("gradio_api/call/predict", json=body)).json()["event_id"]
                async with http.stream("GET", f"gradio_api/call/predict/{event}") as stream:
                    lines = [line async for line in stream.aiter_lines() if line.startswith("data:")]
                label = str(json.loads(lines[-1][5:])[0].get("label"))
                times.append((time.perf_counter() - t) * 1e3)
                if label != "3":
                    errors.append(f"wrong label {label}")
            except Exception as e:  # counted and reported, not raised: this is a load test
                errors.append(repr(e))

    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return times, errors


def report_concurrency(name: str, times: list[float], errors: list[str], seconds: float, server_cpu: float) -> None:
    ms = np.array(times)
    print(f"{name} for {seconds:.0f} s: {len(ms)} requests served, {len(errors)} errors, "
          f"p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, {len(ms) / seconds:.0f} requests/s, "
          f"server CPU {server_cpu / max(len(ms), 1) * 1e3:.0f} ms a request")


def digit_picture(folder: Path) -> Path:
    """A photo-like dark 3 on light paper, written as a PNG to upload."""
    page = np.full((300, 300, 3), 235, np.uint8)
    cv2.putText(page, "3", (80, 230), cv2.FONT_HERSHEY_SIMPLEX, 7, (30, 30, 30), 18, cv2.LINE_AA)
    path = folder / "three.png"
    cv2.imwrite(str(path), page)
    return path


def top_label(result) -> str:
    return str(result["label"]) if isinstance(result, dict) else str(result)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--soak", type=int, default=2000)
    parser.add_argument("--app", type=Path, default=ROOT / "app.py", help="the app to start (default: %(default)s)")
    args = parser.parse_args(argv)

    from gradio_client import Client, handle_file

    port = free_port()
    process, startup = start_app(port, args.app)
    url = f"http://127.0.0.1:{port}/"
    print(f"start-up until the page answers: {startup:.1f} s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            picture_path = digit_picture(Path(tmp))
            picture = handle_file(str(picture_path))
            client = Client(url, verbose=False)

            def one(c: Client) -> tuple[float, str]:
                t = time.perf_counter()
                label = top_label(c.predict(picture, api_name="/predict"))
                return (time.perf_counter() - t) * 1e3, label

            for _ in range(5):
                one(client)
            single = [one(client) for _ in range(100)]
            ms = np.array([t for t, _ in single])
            print(f"one client, 100 uploads: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
                  f"right {sum(label == '3' for _, label in single)}/100")

            raw = [raw_round_trip(url, picture_path) for _ in range(100)]
            ms = np.array([t for t, _ in raw])
            print(f"one plain HTTP client, 100 uploads: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
                  f"right {sum(label == '3' for _, label in raw)}/100")

            # `clients` concurrent gradio_client clients, threads of this process, back to back for `seconds`.
            clients = [Client(url, verbose=False) for _ in range(args.clients)]
            stop = time.perf_counter() + args.seconds
            lock, times, errors = threading.Lock(), [], []

            def keep_sending(c: Client) -> None:
                while time.perf_counter() < stop:
                    try:
                        t, label = one(c)
                        with lock:
                            times.append(t)
                            if label != "3":
                                errors.append(f"wrong label {label}")
                    except Exception as e:  # counted and reported, not raised: this is a load test
                        with lock:
                            errors.append(repr(e))

            cpu_before = cpu_seconds(process.pid)
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(keep_sending, clients))
            report_concurrency(f"{args.clients} gradio_client clients", times, errors, args.seconds, cpu_seconds(process.pid) - cpu_before)

            # The same with a light load generator: what the server itself sustains on the cores it shares.
            import asyncio

            cpu_before = cpu_seconds(process.pid)
            times, errors = asyncio.run(plain_http_clients(url, picture_path, args.clients, args.seconds))
            report_concurrency(f"{args.clients} plain HTTP clients", times, errors, args.seconds, cpu_seconds(process.pid) - cpu_before)

            # A burst: burst requests at once, each from its own thread.
            burst_clients = [Client(url, verbose=False) for _ in range(args.burst)]
            with ThreadPoolExecutor(args.burst) as pool:
                burst = list(pool.map(lambda c: one(c)[1], burst_clients))
            print(f"burst of {args.burst} simultaneous requests: {sum(label == '3' for label in burst)}/{args.burst} answered right")

            # Memory over a soak of sequential-ish requests from 4 threads, after the warm-up above.
            before = rss_mb(process.pid)
            with ThreadPoolExecutor(4) as pool:
                soak = list(pool.map(lambda i: one(burst_clients[i % len(burst_clients)])[1], range(args.soak)))
            after = rss_mb(process.pid)
            print(f"memory over {args.soak} more requests: {before:.0f} MB -> {after:.0f} MB ({after - before:+.0f} MB), "
                  f"{sum(label == '3' for label in soak)}/{args.soak} right")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()

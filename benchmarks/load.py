"""The app under load, through gradio_client on localhost: start-up, round trips, concurrency, memory.

    python -m benchmarks.load [--clients 20] [--seconds 20] [--burst 50] [--soak 2000]

Starts `python app.py` on a free port as a separate process (as a user would), then measures:
start-up until the page answers; the p50/p95 round trip of one upload; `clients` concurrent clients
(each its own process) for `seconds` (requests served, errors, p95); a burst of `burst` simultaneous
requests (all answered right?); and the server's resident memory before and after `soak` more requests.
Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.

gradio_client is measured as a user would make it, Client(url), and with Client(url, ssl_verify=False):
for a plain-http URL that changes nothing on the wire, but spares the client building a TLS context
(loading the CA bundle, ~30 ms here) for each of the three HTTP requests of every call. The same
round trip to benchmarks/echo_app.py, which answers without reading the file, is the floor that
gradio_client and Gradio set by themselves (gradio_client waits for results in 50 ms sleeps).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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
    with httpx.Client(base_url=url, timeout=30, verify=False) as http:  # http: no TLS context to build
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


def client_round_trips(url: str, picture: Path, n: int, ssl_verify: bool = True) -> list[tuple[float, str]]:
    """n uploads, one after another, through one gradio_client Client: (milliseconds, label) each, after 5 warm-ups."""
    from gradio_client import Client, handle_file

    client, upload = Client(url, verbose=False, ssl_verify=ssl_verify), handle_file(str(picture))

    def one() -> tuple[float, str]:
        t = time.perf_counter()
        label = top_label(client.predict(upload, api_name="/predict"))
        return (time.perf_counter() - t) * 1e3, label

    for _ in range(5):
        one()
    return [one() for _ in range(n)]


def keep_sending(url: str, picture: Path, start_at: float, seconds: float, ssl_verify: bool) -> tuple[list[float], list[str]]:
    """One client process: uploads back to back from wall time start_at for `seconds`; (milliseconds, errors)."""
    from gradio_client import Client, handle_file

    client, upload = Client(url, verbose=False, ssl_verify=ssl_verify), handle_file(str(picture))
    times, errors = [], []
    time.sleep(max(0.0, start_at - time.time()))
    while time.time() < start_at + seconds:
        t = time.perf_counter()
        try:
            label = top_label(client.predict(upload, api_name="/predict"))
            times.append((time.perf_counter() - t) * 1e3)
            if label != "3":
                errors.append(f"wrong label {label}")
        except Exception as e:  # counted and reported, not raised: this is a load test
            errors.append(repr(e))
    return times, errors


def concurrent_clients(url: str, picture: Path, clients: int, seconds: float, ssl_verify: bool) -> tuple[list[float], list[str]]:
    """`clients` gradio_client clients, each in its own process (as separate users are), all sending for `seconds`."""
    start_at = time.time() + 5  # time for every process to start and fetch the app's config first
    with ProcessPoolExecutor(clients) as pool:
        results = list(pool.map(keep_sending, *zip(*[(url, picture, start_at, seconds, ssl_verify)] * clients)))
    return [t for times, _ in results for t in times], [e for _, errors in results for e in errors]


def report_round_trips(name: str, results: list[tuple[float, str]]) -> None:
    ms = np.array([t for t, _ in results])
    print(f"{name}: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
          f"right {sum(label == '3' for _, label in results)}/{len(results)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--soak", type=int, default=2000)
    parser.add_argument("--app", type=Path, default=ROOT / "app.py", help="the app to start (default: %(default)s)")
    args = parser.parse_args(argv)

    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as tmp:
        picture = digit_picture(Path(tmp))
        echo_port = free_port()
        echo, _ = start_app(echo_port, ROOT / "benchmarks" / "echo_app.py")
        try:
            echo_url = f"http://127.0.0.1:{echo_port}/"
            report_round_trips("floor: echo app, gradio_client Client(url), 100 uploads", client_round_trips(echo_url, picture, 100))
            report_round_trips("floor: echo app, Client(url, ssl_verify=False), 100 uploads",
                               client_round_trips(echo_url, picture, 100, ssl_verify=False))
        finally:
            echo.terminate()
            echo.wait(timeout=30)

        port = free_port()
        process, startup = start_app(port, args.app)
        url = f"http://127.0.0.1:{port}/"
        print(f"start-up until the page answers: {startup:.1f} s")
        try:
            report_round_trips("one gradio_client Client(url), 100 uploads", client_round_trips(url, picture, 100))
            report_round_trips("one Client(url, ssl_verify=False), 100 uploads", client_round_trips(url, picture, 100, ssl_verify=False))
            report_round_trips("one plain HTTP client, 100 uploads", [raw_round_trip(url, picture) for _ in range(100)])

            for ssl_verify in (True, False):
                cpu_before = cpu_seconds(process.pid)
                times, errors = concurrent_clients(url, picture, args.clients, args.seconds, ssl_verify)
                name = f"{args.clients} gradio_client clients" + ("" if ssl_verify else " (ssl_verify=False)")
                report_concurrency(name, times, errors, args.seconds, cpu_seconds(process.pid) - cpu_before)

            # The same with a light load generator: what the server itself sustains on the cores it shares.
            import asyncio

            cpu_before = cpu_seconds(process.pid)
            times, errors = asyncio.run(plain_http_clients(url, picture, args.clients, args.seconds))
            report_concurrency(f"{args.clients} plain HTTP clients", times, errors, args.seconds, cpu_seconds(process.pid) - cpu_before)

            # A burst: burst requests at once, each from its own thread and client.
            upload = handle_file(str(picture))
            burst_clients = [Client(url, verbose=False) for _ in range(args.burst)]
            with ThreadPoolExecutor(args.burst) as pool:
                burst = list(pool.map(lambda c: top_label(c.predict(upload, api_name="/predict")), burst_clients))
            print(f"burst of {args.burst} simultaneous requests: {sum(label == '3' for label in burst)}/{args.burst} answered right")

            # Memory over a soak of requests from 4 threads, after the warm-up above.
            before = rss_mb(process.pid)
            with ThreadPoolExecutor(4) as pool:
                soak = list(pool.map(lambda _: raw_round_trip(url, picture)[1], range(args.soak)))
            after = rss_mb(process.pid)
            print(f"memory over {args.soak} more requests: {before:.0f} MB -> {after:.0f} MB ({after - before:+.0f} MB), "
                  f"{sum(label == '3' for label in soak)}/{args.soak} right")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

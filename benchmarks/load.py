"""The app under load, through gradio_client on localhost: start-up, round trips, concurrency, memory.

    python -m benchmarks.load [--clients 20] [--seconds 20] [--burst 50] [--soak 2000]
    python -m benchmarks.load --url http://127.0.0.1:8080/ [--clients 20] [--requests 2000]
    python -m benchmarks.load --compare 2 [--clients 20] [--requests 2000]
    python -m benchmarks.load --affinity [--clients 8]

--url sends `requests` uploads from `clients` plain-HTTP users (asyncio) to a server already running, and
checks every answer. --compare N starts 1 replica alone, 1 behind nginx and N behind nginx
(deploy/replicas.py), loads each the same way in one run, and reports requests/s, p95, errors, how the
requests split over the replicas and the CPU seconds of replicas, nginx and the clients. --affinity starts
2 replicas behind nginx with each balancing rule deploy/replicas.py knows and reports, per kind of client
(gradio_client, plain HTTP with and without cookies, Chromium), how many calls came back right and how
they split.

Without those, the benchmark of one app process:

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
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

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


async def timed_upload(http: Any, data: bytes, times: list[float], errors: list[str]) -> None:
    """One upload through /predict's HTTP API, as a plain client makes it: its milliseconds go to times, a failure or a
    wrong label (the picture is a 3) to errors. Not raised: this is a load test."""
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
    except Exception as e:
        errors.append(repr(e))


async def plain_http_clients(url: str, picture: Path, clients: int, seconds: float) -> tuple[list[float], list[str]]:
    """`clients` concurrent plain-HTTP clients (asyncio: a light load generator) sending uploads for `seconds`."""
    import asyncio

    import httpx

    data = picture.read_bytes()
    times, errors = [], []
    stop = time.perf_counter() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            await timed_upload(http, data, times, errors)

    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return times, errors


async def plain_http_users(url: str, picture: Path, clients: int, requests: int,
                           cookies: bool = True) -> tuple[list[float], list[str], float]:
    """`clients` simulated users, each its own asyncio HTTP client, sending `requests` uploads between them.

    Each user first loads /config, as the page and gradio_client do, and keeps the cookies it is given
    (cookies=False: none kept, like a one-off curl). Returns (milliseconds per answered call, errors, wall seconds)."""
    import asyncio

    import httpx

    data, left = picture.read_bytes(), [requests]
    times, errors = [], []

    async def user() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            (await http.get("config")).raise_for_status()
            while left[0] > 0:
                left[0] -= 1
                if not cookies:
                    http.cookies.clear()
                await timed_upload(http, data, times, errors)

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(clients)))
    return times, errors, time.perf_counter() - started


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children (nginx's master and workers), from /proc."""
    children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(int(p.name)) == pid]
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def served_per_replica(replica_urls: list[str]) -> list[float]:
    """Pictures each replica has read so far, from its own /metrics."""
    counts = []
    for url in replica_urls:
        with urllib.request.urlopen(url + "metrics", timeout=10) as r:
            text = r.read().decode()
        counts.append(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                          if line.startswith("digits_predictions_total{")))
    return counts


def load_once(name: str, url: str, picture: Path, clients: int, requests: int,
              replica_urls: list[str], pids: list[int], nginx_pid: int | None) -> float:
    """One measured load on a running server: prints a line of results; returns requests/s."""
    import asyncio

    before = served_per_replica(replica_urls)
    cpu_before = [cpu_seconds(p) for p in pids], nginx_pid and tree_cpu_seconds(nginx_pid), os.times()
    times, errors, wall = asyncio.run(plain_http_users(url, picture, clients, requests))
    after = served_per_replica(replica_urls)
    replica_cpu = sum(cpu_seconds(p) - c for p, c in zip(pids, cpu_before[0]))
    nginx_cpu = tree_cpu_seconds(nginx_pid) - cpu_before[1] if nginx_pid else 0.0
    client_cpu = sum(os.times()[:2]) - sum(cpu_before[2][:2])
    ms, rate = np.array(times), len(times) / wall
    split = "/".join(f"{a - b:.0f}" for a, b in zip(after, before))
    print(f"{name}: {len(ms)} answered right of {requests} ({len(errors)} errors) in {wall:.1f} s, {rate:.1f} requests/s, "
          f"p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms; served per replica {split}; "
          f"CPU s: replicas {replica_cpu:.1f}, nginx {nginx_cpu:.1f}, clients {client_cpu:.1f} "
          f"(of {2 * wall:.0f} core-s on 2 cores)", flush=True)
    for e in sorted(set(errors))[:5]:
        print(f"  error: {e} (x{errors.count(e)})")
    return rate


def compare_replicas(replicas: int, clients: int, requests: int) -> None:
    """1 replica alone, 1 behind nginx and `replicas` behind nginx, loaded alike in one run."""
    from deploy.replicas import running

    with tempfile.TemporaryDirectory() as tmp:
        picture = digit_picture(Path(tmp))
        rates = {}
        for n, behind_nginx in ((1, False), (1, True), (replicas, True)):
            with running(n) as d:
                name = f"{n} replica" + ("s" if n > 1 else "") + (" behind nginx" if behind_nginx else " alone")
                url = d.url if behind_nginx else d.replica_urls[0]
                asyncio_warm_up(url, picture)
                pids = [p.pid for p in d.processes[:-1]]
                rates[name] = load_once(name, url, picture, clients, requests, d.replica_urls, pids,
                                        d.processes[-1].pid if behind_nginx else None)
        names = list(rates)
        print(f"{names[2]} / {names[1]}: {rates[names[2]] / rates[names[1]]:.2f}x; "
              f"/ {names[0]}: {rates[names[2]] / rates[names[0]]:.2f}x")


def asyncio_warm_up(url: str, picture: Path) -> None:
    """A few calls first, so one-off costs (first model call, first upload) are not timed."""
    import asyncio

    asyncio.run(plain_http_users(url, picture, 4, 20))


def gradio_client_users(url: str, picture: Path, clients: int, calls: int) -> tuple[int, int, list[str]]:
    """`clients` gradio_client users, each its own Client in its own thread, `calls` uploads each:
    (right, total, what went wrong with the others)."""
    from gradio_client import Client, handle_file

    upload, errors = handle_file(str(picture)), []

    def user(_: int) -> int:
        try:
            client = Client(url, verbose=False, ssl_verify=False)
        except Exception as e:
            errors.append(f"Client({url}): {e!r}")
            return 0
        right = 0
        for _ in range(calls):
            try:
                label = top_label(client.submit(upload, api_name="/predict").result(timeout=60))
                right += label == "3"
                if label != "3":
                    errors.append(f"wrong label {label}")
            except BaseException as e:  # a lost call is what this counts; CancelledError is a BaseException
                errors.append(f"{type(e).__name__}: {e}"[:200])
        return right

    with ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(user, range(clients))), clients * calls, errors


def browser_users(url: str, users: int) -> tuple[int, int]:
    """`users` Chromium pages, each in a fresh context (its own cookies), uploading examples/three_photo.jpg: (right, total)."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
    right = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        try:
            for _ in range(users):
                context = browser.new_context()
                page = context.new_page()
                page.set_default_timeout(30_000)
                try:
                    page.goto(url)
                    page.get_by_role("tab", name="Upload a picture").click()
                    page.locator("#upload input[type=file]").set_input_files(str(ROOT / "examples" / "three_photo.jpg"))
                    page.wait_for_function("() => document.querySelector('#prediction [data-testid=\"label-output-value\"]')"
                                           "?.innerText.trim() === '3'")
                    right += 1
                except Exception:  # the page never showed the answer: a lost call
                    pass
                finally:
                    context.close()
        finally:
            browser.close()
    return right, users


def affinity_check(clients: int, calls: int) -> None:
    """2 replicas behind nginx with each balancing rule; per kind of client: calls answered right, and the split."""
    import asyncio

    from deploy.replicas import BALANCE, running

    with tempfile.TemporaryDirectory() as tmp:
        picture = digit_picture(Path(tmp))
        for affinity in BALANCE:
            with running(2, affinity=affinity) as d:
                kinds = {
                    "gradio_client, a Client per user": lambda: gradio_client_users(d.url, picture, clients, calls)[:2],
                    "plain HTTP keeping cookies": lambda: plain_right(asyncio.run(
                        plain_http_users(d.url, picture, clients, clients * calls)), clients * calls),
                    "plain HTTP keeping no cookies": lambda: plain_right(asyncio.run(
                        plain_http_users(d.url, picture, clients, clients * calls, cookies=False)), clients * calls),
                }
                if Path("/usr/bin/chromium").exists():
                    kinds["Chromium, a context per user"] = lambda: browser_users(d.url, min(clients, 4))
                for kind, run in kinds.items():
                    before = served_per_replica(d.replica_urls)
                    right, total = run()
                    split = "/".join(f"{a - b:.0f}" for a, b in zip(served_per_replica(d.replica_urls), before))
                    print(f"affinity {affinity:<11} {kind:<34} {right:>3}/{total} right, read per replica {split}", flush=True)


def plain_right(result: tuple[list[float], list[str], float], total: int) -> tuple[int, int]:
    """(right, total) from plain_http_users' result."""
    times, errors, _ = result
    return len(times) - sum(e.startswith("wrong label") for e in errors), total


def shared_client_losses(url: str, picture: Path, threads: int, calls: int, shared: bool) -> dict[str, int]:
    """`calls` uploads from `threads` threads through one shared gradio_client Client (shared=True) or one Client per
    thread: how many came back right, and each kind of failure by name."""
    from gradio_client import Client, handle_file

    upload, outcomes = handle_file(str(picture)), {}
    one = Client(url, verbose=False, ssl_verify=False) if shared else None
    own = threading.local()

    def call(_: int) -> str:
        client = one or getattr(own, "client", None)
        if client is None:
            client = own.client = Client(url, verbose=False, ssl_verify=False)
        try:
            return "right" if top_label(client.predict(upload, api_name="/predict")) == "3" else "wrong label"
        except BaseException as e:  # CancelledError is a BaseException on Python 3.8+
            return type(e).__name__

    with ThreadPoolExecutor(threads) as pool:
        for outcome in pool.map(call, range(calls)):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def shared_client_check(url: str | None, threads: int, calls: int) -> None:
    """The shared-Client losses against the echo app (no model, no file read) and app.py, or against url."""
    with tempfile.TemporaryDirectory() as tmp:
        picture = digit_picture(Path(tmp))
        targets = [("url", url, None)] if url else [("echo app", None, ROOT / "benchmarks" / "echo_app.py"), ("app.py", None, ROOT / "app.py")]
        for name, target, app in targets:
            process = None
            if app is not None:
                port = free_port()
                process, _ = start_app(port, app)
                target = f"http://127.0.0.1:{port}/"
            try:
                for shared in (True, False):
                    t = time.perf_counter()
                    outcomes = shared_client_losses(target, picture, threads, calls, shared)
                    print(f"{name}: {calls} calls from {threads} threads, {'one shared Client' if shared else 'a Client per thread'}: "
                          f"{outcomes} in {time.perf_counter() - t:.0f} s", flush=True)
            finally:
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)


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
    parser.add_argument("--url", help="load this running server instead (plain-HTTP users, every answer checked)")
    parser.add_argument("--compare", type=int, metavar="N", help="compare 1 replica with N behind nginx, in one run")
    parser.add_argument("--affinity", action="store_true", help="check each nginx balancing rule with each kind of client")
    parser.add_argument("--requests", type=int, default=2000, help="uploads per load with --url or --compare (default: %(default)s)")
    parser.add_argument("--shared-client", type=int, metavar="CALLS",
                        help="CALLS uploads from --clients threads sharing one gradio_client Client, then one Client each, "
                             "to the echo app and to app.py (or --url): what is lost")
    parser.add_argument("--calls", type=int, default=5, help="uploads per user with --affinity (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.shared_client:
        return shared_client_check(args.url, args.clients, args.shared_client)
    if args.url:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.url if args.url.endswith("/") else args.url + "/"
            load_once(f"{args.clients} plain-HTTP users on {url}", url, digit_picture(Path(tmp)), args.clients,
                      args.requests, [], [], None)
        return
    if args.compare:
        return compare_replicas(args.compare, args.clients, args.requests)
    if args.affinity:
        return affinity_check(min(args.clients, 8), args.calls)

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

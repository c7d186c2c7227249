"""Several app processes behind one nginx on this machine, each client kept on one of them.

    python -m deploy.replicas [--replicas 2] [--port 8080] [--host 127.0.0.1] [--affinity cookie]
    python -m deploy.replicas --print-config --upstream host1:7860 --upstream host2:7860 --port 80

Starts N `python app.py` processes on free loopback ports and nginx (Debian's `nginx` package) on --port
with a config generated from deploy/nginx.conf.template in a temporary folder, waits until all answer,
prints the URL, and serves until Ctrl+C or SIGTERM, which stop every process it started. nginx runs as a
child in the foreground with its pid, logs and temp files in that folder, so no root is needed.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
# How nginx picks a replica. "cookie" is the one to use; the others are here to measure (deploy/README.md).
BALANCE = {
    "cookie": "hash $affinity consistent;",
    "address": "hash $remote_addr consistent;",
    "header": "hash $http_x_session_id consistent;",
    "session": "hash $session_key consistent;",
    "round-robin": "",
}


@dataclass
class Deployment:
    """What `running` started: the balancer's URL, each replica's URL, and the processes."""

    url: str
    replica_urls: list[str]
    folder: Path
    processes: list[subprocess.Popen] = field(default_factory=list)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def nginx_config(listen: str, upstreams: list[str], affinity: str = "cookie", access_log: str = "access.log digits") -> str:
    """The nginx config (text) for a balancer on `listen` in front of `upstreams` (host:port each)."""
    if affinity not in BALANCE:
        raise ValueError(f"unknown affinity {affinity!r}; one of {', '.join(BALANCE)}")
    servers = "\n".join(f"        server {upstream};" for upstream in upstreams)
    metrics = "\n".join(
        f"        location = /replicas/{i}/metrics {{ proxy_pass http://{upstream}/metrics; }}"
        for i, upstream in enumerate(upstreams)
    )
    replace = {"@LISTEN@": listen, "@BALANCE@": BALANCE[affinity], "@SERVERS@": servers,
               "@REPLICA_METRICS@": metrics, "@ACCESS_LOG@": access_log}
    text = TEMPLATE.read_text()
    for marker, value in replace.items():
        text = text.replace(marker, value)
    return text


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it if this process dies, so nothing outlives a kill -9."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a child in its own process group (Ctrl+C reaches only us; we stop it), output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                start_new_session=True, preexec_fn=die_with_parent)


def wait_until_answering(urls: list[str], processes: list[subprocess.Popen], timeout: float) -> None:
    """Poll each URL until it answers 200; fail with the reason if a process exits or time runs out."""
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a process exited while starting: " + ", ".join(
                    f"{' '.join(p.args[:3])} -> {p.returncode}" for p in processes if p.returncode is not None))
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
            time.sleep(0.2)


def stop(processes: list[subprocess.Popen], grace: float = 10) -> None:
    """SIGTERM every process, then SIGKILL whatever is still running after `grace` seconds."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + grace
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def nginx_binary() -> str:
    """Path of nginx; a clear message if it is not installed."""
    path = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
    if path is None:
        raise RuntimeError("nginx is not installed: apt-get install -y nginx (Debian/Ubuntu)")
    return path


@contextlib.contextmanager
def running(replicas: int = 2, port: int | None = None, host: str = "127.0.0.1", affinity: str = "cookie",
            app_args: tuple[str, ...] = (), timeout: float = 300) -> Iterator[Deployment]:
    """Start `replicas` app processes and nginx on host:port; yield the Deployment; stop them all on exit."""
    nginx = nginx_binary()
    port = port or free_port(host)
    ports = [free_port() for _ in range(replicas)]
    folder = Path(tempfile.mkdtemp(prefix="digits-replicas-"))
    folder.chmod(0o755)  # started as root, nginx's workers run as nobody and write temp/ in here
    (folder / "temp").mkdir()
    processes: list[subprocess.Popen] = []
    try:
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "TF_CPP_MIN_LOG_LEVEL": "2",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        for i, replica_port in enumerate(ports):
            command = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(replica_port), *app_args]
            processes.append(start(command, folder / f"replica-{i}.log", env))
        (folder / "nginx.conf").write_text(nginx_config(f"{host}:{port}", [f"127.0.0.1:{p}" for p in ports], affinity))
        command = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"), "-g", "daemon off;"]
        processes.append(start(command, folder / "nginx.out"))
        deployment = Deployment(f"http://{host}:{port}/", [f"http://127.0.0.1:{p}/" for p in ports], folder, processes)
        wait_until_answering(deployment.replica_urls + [deployment.url], processes, timeout)
        yield deployment
    finally:
        stop(processes)
        shutil.rmtree(folder, ignore_errors=True)


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM handler: leave the way Ctrl+C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments; print an nginx config, or run replicas and nginx until Ctrl+C or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=2, help="app processes to start (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port nginx listens on (default: %(default)s)")
    parser.add_argument("--host", default="127.0.0.1", help="address nginx listens on (default: %(default)s)")
    parser.add_argument("--affinity", choices=list(BALANCE), default="cookie",
                        help="how nginx keeps a client on one replica (default: %(default)s; the others are for comparison)")
    parser.add_argument("--model", help="passed on to each app.py")
    parser.add_argument("--print-config", action="store_true", help="print the nginx config for --upstream servers and exit")
    parser.add_argument("--upstream", action="append", default=[], metavar="HOST:PORT",
                        help="with --print-config: an app process on another machine (repeat for each)")
    args = parser.parse_args(argv)

    if args.print_config:
        if not args.upstream:
            parser.error("--print-config needs at least one --upstream HOST:PORT")
        print(nginx_config(f"{args.host}:{args.port}", args.upstream, args.affinity, "access.log digits"), end="")
        return
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")

    # SIGTERM (docker stop, kill, systemd) takes the same way out as Ctrl+C: the finally in `running`.
    signal.signal(signal.SIGTERM, interrupt)
    try:
        print(f"starting {args.replicas} replicas and nginx ...", flush=True)
        with running(args.replicas, args.port, args.host, args.affinity, ("--model", args.model) if args.model else ()) as d:
            print(f"Running on {d.url} ({args.replicas} replicas: {', '.join(d.replica_urls)}; logs in {d.folder})", flush=True)
            print("Press Ctrl+C to stop.", flush=True)
            while all(p.poll() is None for p in d.processes):
                time.sleep(0.5)
            for log in sorted(d.folder.glob("*.log")) + [d.folder / "nginx.out"]:  # before the folder goes
                print(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-5:]), file=sys.stderr)
            sys.exit("error: a replica or nginx stopped; stopped the rest")
    except KeyboardInterrupt:
        print("stopped", flush=True)
    except RuntimeError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()

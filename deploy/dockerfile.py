"""The Dockerfile without Docker: its instructions parsed, and its steps run as a shell script in a fresh venv.

    python -m deploy.dockerfile [--context DIR] [--keep]

Copies what the COPY lines name from --context (default: this repository) into a temporary WORKDIR,
runs the RUN lines there with a fresh Python venv first on PATH (useradd and chown need root and are
shown, not run), exports ENV, starts CMD and runs the HEALTHCHECK command until it passes. What it cannot
show: the base image itself, the non-root user, and Docker's own build.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDS_ROOT = ("useradd", "chown")


def instructions(dockerfile: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined and comments dropped."""
    found, current = [], ""
    for line in dockerfile.read_text().splitlines():
        if not current and (not line.strip() or line.strip().startswith("#")):
            continue
        stripped = line.rstrip()
        current += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            name, _, args = current.strip().partition(" ")
            found.append((name.upper(), " ".join(args.split()) if name.upper() != "HEALTHCHECK" else args.strip()))
            current = ""
    return found


def env_pairs(args: str) -> dict[str, str]:
    """ENV's arguments (KEY=value ...) -> a dict."""
    return dict(pair.split("=", 1) for pair in shlex.split(args))


def dry_run(context: Path, port: int, keep: bool = False) -> None:
    """Run the Dockerfile's steps on this machine, as described in the module docstring; exit 1 on a failed step."""
    root = Path(tempfile.mkdtemp(prefix="dockerfile-dry-run-"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    env["PORT"] = str(port)  # as a platform would give it: 7860 may be taken on this machine
    workdir, app = root, None
    try:
        for name, args in instructions():
            if name == "FROM":
                print(f"FROM {args}: this machine's {sys.version.split()[0]} in a fresh venv instead")
            elif name == "ENV":
                env.update(env_pairs(args))
            elif name == "WORKDIR":
                workdir = root / args.lstrip("/")
                workdir.mkdir(parents=True, exist_ok=True)
            elif name == "COPY":
                *sources, dest = [a for a in shlex.split(args) if not a.startswith("--")]
                for source in sources:  # Docker's rules: a folder's contents into dest; a file into dest/ or as dest
                    if (context / source).is_dir():
                        shutil.copytree(context / source, workdir / dest, dirs_exist_ok=True,
                                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                        continue
                    target = workdir / dest / Path(source).name if dest.endswith("/") else workdir / dest
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(context / source, target)
            elif name == "RUN":
                if args.split()[0] in NEEDS_ROOT:
                    print(f"RUN {args}: needs root, not run")
                    continue
                print(f"RUN {args}", flush=True)
                subprocess.run(args, shell=True, cwd=workdir, env=env, check=True)
            elif name == "CMD":
                command = json.loads(args)
                print(f"CMD {command}", flush=True)
                app = subprocess.Popen(command, cwd=workdir, env=env)
        health = next(args for name, args in instructions() if name == "HEALTHCHECK")
        check = health.split("CMD", 1)[1].strip()
        deadline = time.monotonic() + 300
        while subprocess.run(check, shell=True, cwd=workdir, env=env, capture_output=True).returncode != 0:
            if app is None or app.poll() is not None or time.monotonic() > deadline:
                sys.exit("HEALTHCHECK never passed")
            time.sleep(1)
        print(f"HEALTHCHECK passed: the app answers on {env.get('GRADIO_SERVER_NAME')}:{port}")
    finally:
        if app is not None:
            app.terminate()
            app.wait(timeout=30)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--context", type=Path, default=ROOT, help="the build context (default: this repository)")
    parser.add_argument("--port", type=int, default=7860, help="PORT given to the container (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    try:
        dry_run(args.context.resolve(), args.port, args.keep)
    except subprocess.CalledProcessError as e:
        sys.exit(f"error: a step failed ({e.returncode}): {e.cmd}")
    except FileNotFoundError as e:
        sys.exit(f"error: {e.filename} is not in the build context")


if __name__ == "__main__":
    main()

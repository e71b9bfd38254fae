"""Servers under uvicorn, loaded by wrk, measured from /proc: what bench/ingest.py runs.

start_server(target, port, workers, env) / stop_server(process)
wrk(name, port, body, args, tmp) -> Result     # requests/s, p50, p99, non-2xx
tree_cpu_seconds(pid), thread_cpu_seconds(pid)  # CPU of a server, of its event loop
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# wrk's Lua: each thread gets a random prefix, each request a counter: unique client_ids.
LUA = r"""
local counter = 0
local prefix
function setup(thread)
  thread:set("seed", math.random(0, 2147483647))
end
function init(args)
  math.randomseed(seed + os.time())
  prefix = string.format("%08x-%04x", math.random(0, 2147483647), math.random(0, 65535))
end
local template = [[BODY]]
function request()
  counter = counter + 1
  local id = string.format("%s-4%03x-8%03x-%012x",
                           prefix, counter % 4096, math.random(0, 4095), counter)
  return wrk.format("POST", "/api/v1/feedback", {["Content-Type"] = "text/plain;charset=UTF-8"},
                    string.gsub(template, "CLIENT_ID", id))
end
"""


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_us: float = 0.0  # server CPU time per request: a figure the machine's noise spares more
    loop_us: float = 0.0  # of which the event loop's (the main thread; 1 worker only)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(target: list[str], port: int, workers: int, env: dict[str, str]) -> Any:
    command = [
        sys.executable, "-m", "uvicorn", *target,
        "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--no-proxy-headers", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def stop_server(process: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(stat: Path) -> float:
    """User + system CPU time from a /proc `stat` file (a process's or one thread's)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> float:
    """CPU time of a process's main thread: with 1 worker, uvicorn's event loop."""
    return cpu_seconds(Path(f"/proc/{pid}/task/{pid}/stat"))


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (workers, writer processes)."""
    try:
        total = cpu_seconds(Path(f"/proc/{pid}/stat"))
    except FileNotFoundError:
        return 0.0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        total += sum(tree_cpu_seconds(int(child)) for child in children)
    return total


def wrk(
    name: str,
    port: int,
    body: dict[str, Any],
    args: argparse.Namespace,
    tmp: Path,
    duration: int | None = None,
) -> Result:
    template = json.dumps(body).replace("CLIENT-ID-PLACEHOLDER", "CLIENT_ID")
    script = tmp / "post.lua"
    script.write_text(LUA.replace("BODY", template))
    output = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{duration or args.duration}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(name, output)


def parse_wrk(name: str, output: str) -> Result:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert match, output
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    assert rps and requests, output
    if socket_errors:
        print(f"  {name}: socket errors: {socket_errors.group(1)}")
    return Result(
        name=name,
        rps=float(rps.group(1)),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        errors=int(non_2xx.group(1)) if non_2xx else 0,
        requests=int(requests.group(1)),
    )

"""Servers under uvicorn, loaded over real HTTP by an asyncio load generator: what
bench/ingest.py runs.

    start_server(target, port, workers, env) / stop_server(process)
    load(port, path, body, connections, duration, processes) -> Result
    tree_cpu_seconds(pid)   # CPU of a server and its workers

The generator keeps `connections` keep-alive HTTP/1.1 connections busy (one request in
flight on each), from `processes` separate processes (uvloop), and times each request from
its write to the end of its answer. It is plain Python so that the project installs nothing
else; it prints its own CPU use, because a generator that saturates its core caps the
bare endpoint first and flatters every ratio.

    python bench/load.py PORT PATH BODY_FILE CONNECTIONS SECONDS   (one generator process)
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = b"CLIENT-ID-PLACEHOLDER"  # replaced by a new UUID in every request's body


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # answers other than 2xx, and connection errors
    requests: int
    cpu_us: float = 0.0  # server CPU time per request: a figure the machine's noise spares more
    generator_cpu: float = 0.0  # share of one core the load generator used (1.0: saturated)


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
    deadline = time.monotonic() + 60
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
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(stat: Path) -> float:
    """User + system CPU time from a /proc `stat` file."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (uvicorn's workers)."""
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


def load(
    name: str,
    port: int,
    path: str,
    body: bytes,
    *,
    connections: int,
    duration: float,
    processes: int = 1,
) -> Result:
    """Load the server from `processes` generator processes, `connections` in all."""
    body_file = Path(f"/tmp/retour-bench-body-{os.getpid()}-{port}.json")
    body_file.write_bytes(body)
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, __file__, str(port), path, str(body_file), str(n), str(duration)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in shares
        ]
        outputs = [json.loads(run.communicate()[0]) for run in runs]
    finally:
        body_file.unlink(missing_ok=True)
    latencies = sorted(value for output in outputs for value in output["latencies"])
    if not latencies:
        raise RuntimeError(f"{name}: no request completed")
    return Result(
        name=name,
        rps=len(latencies) / duration,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99)] * 1000,
        errors=sum(output["errors"] for output in outputs),
        requests=len(latencies),
        generator_cpu=max(output["cpu"] for output in outputs) / duration,
    )


# --- One generator process ---------------------------------------------------------------


async def _connection(
    port: int, request_head: bytes, body: bytes, until: float, latencies: list[float]
) -> int:
    errors = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    templated = PLACEHOLDER in body
    try:
        while time.monotonic() < until:
            payload = body.replace(PLACEHOLDER, str(uuid.uuid4()).encode()) if templated else body
            started = time.perf_counter()
            writer.write(request_head % len(payload) + payload)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if head[9:10] == b"2":
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
    except (ConnectionError, asyncio.IncompleteReadError):
        errors += 1
    finally:
        writer.close()
    return errors


async def _generate(port: int, path: str, body: bytes, connections: int, seconds: float) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    until = time.monotonic() + seconds
    cpu = time.process_time()
    errors = await asyncio.gather(
        *(_connection(port, head, body, until, latencies) for _ in range(connections))
    )
    cpu = time.process_time() - cpu
    print(json.dumps({"latencies": latencies, "errors": sum(errors), "cpu": cpu}))


if __name__ == "__main__":
    import uvloop

    port_arg, path_arg, body_arg, connections_arg, seconds_arg = sys.argv[1:6]
    uvloop.run(
        _generate(
            int(port_arg),
            path_arg,
            Path(body_arg).read_bytes(),
            int(connections_arg),
            float(seconds_arg),
        )
    )

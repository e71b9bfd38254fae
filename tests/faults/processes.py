"""The processes of a running `retour serve`, read from /proc (Linux), to kill or limit them."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the task ended meanwhile
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: workers, and whatever they started."""
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def workers(server_pid: int) -> list[int]:
    """uvicorn's worker processes under `retour serve --workers N` (spawned by multiprocessing)."""
    return [
        pid
        for pid in children(server_pid)
        if "multiprocessing" in command_line(pid) and "resource_tracker" not in command_line(pid)
    ]

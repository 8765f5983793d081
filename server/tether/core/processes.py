"""Child processes that end with the server: no orphan outlives Tether.

Editors crash, get `kill -9`ed, lose their SSH session. Whatever Tether started (the
trainer, a tool or test command) must not keep running afterwards, holding CPU and
memory. Three mechanisms, each covering what the others cannot:

- On Linux the kernel sends the child SIGKILL the moment its parent dies
  (`PR_SET_PDEATHSIG`), even when the parent was killed with SIGKILL. A child whose parent
  is already gone before it could ask for that exits at once.
- A tool command gets a process group of its own, so a timeout or a cancel ends the
  command *and* whatever it started (pytest's workers, a shell pipeline) with one signal.
- `kill_all()` ends every child still registered here; the server calls it on its way
  out (end of input, `exit`, SIGTERM, the editor's process gone).
- A `kill -9` of the server leaves a tool command's own children (its process group)
  behind, since PDEATHSIG reaches only the direct child. A small watchdog process, started
  with the first such command, is told each group's id over a pipe; when the pipe closes
  (the server is gone, however it went) it kills the groups still listed, then exits.

Spawn from the event loop's thread (asyncio does) or a thread that lives as long as the
server: Linux ties PDEATHSIG to the thread that forked, not the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1
#: Exit status of a child that found its parent already gone (the usual code for SIGKILL).
ORPHAN_EXIT = 137

_live: dict[int, bool] = {}  # pid -> has its own process group
_watchdog: subprocess.Popen[bytes] | None = None

#: The watchdog: reads "+PGID" / "-PGID" lines; at end of input kills the groups left.
_WATCHDOG = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    line = line.strip()
    if line[:1] == "+":
        groups.add(int(line[1:]))
    elif line[:1] == "-":
        groups.discard(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()  # looked up once here: a forked child must not dlopen


def _die_with(parent: int) -> Callable[[], None] | None:
    """The preexec hook: SIGKILL this child when `parent` dies (Linux only)."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the hook ran
            os._exit(ORPHAN_EXIT)

    return hook


def guard_options(*, own_group: bool) -> dict[str, Any]:
    """Keyword arguments for `subprocess.Popen` / `asyncio.create_subprocess_exec`."""
    options: dict[str, Any] = {"start_new_session": own_group, "close_fds": True}
    hook = _die_with(os.getpid())
    if hook is not None:
        options["preexec_fn"] = hook
    return options


def _tell_watchdog(line: str) -> None:
    """Keep the watchdog's list of process groups current (started on first use)."""
    global _watchdog
    if _watchdog is None or _watchdog.poll() is not None:
        try:
            _watchdog = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a terminal's or an editor's group signal spares it
                close_fds=True,
            )
        except OSError:
            return
    try:
        assert _watchdog.stdin is not None
        _watchdog.stdin.write(f"{line}\n".encode())
        _watchdog.stdin.flush()
    except (OSError, ValueError):
        _watchdog = None


def _register(pid: int, own_group: bool) -> None:
    _live[pid] = own_group
    if own_group:
        _tell_watchdog(f"+{pid}")


def forget(pid: int) -> None:
    """The child has been reaped; `kill_all` leaves it (and a reused pid) alone."""
    if _live.pop(pid, False):
        _tell_watchdog(f"-{pid}")


def live_children() -> list[int]:
    return list(_live)


def kill(pid: int, *, sig: int = signal.SIGKILL) -> None:
    """End a registered child, with its process group when it has one of its own."""
    own_group = _live.get(pid, False)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if own_group:
            os.killpg(pid, sig)  # a new session's leader: its pgid is its pid
        else:
            os.kill(pid, sig)


def kill_all(sig: int = signal.SIGKILL) -> int:
    """End every child still registered (and their groups); returns how many were signalled."""
    pids = list(_live)
    for pid in pids:
        kill(pid, sig=sig)
    return len(pids)


async def spawn(
    argv: Sequence[str | Path],
    *,
    own_group: bool = True,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> asyncio.subprocess.Process:
    """`asyncio.create_subprocess_exec` for a child that dies with the server.

    `kwargs` go through (stdin, stdout, stderr, limit…). `own_group=False` keeps the child
    in the server's process group (the trainer: a terminal's Ctrl-C reaches both).
    Call `await reap(proc)` (or `forget(proc.pid)` after waiting) when it is done.
    """
    proc = await asyncio.create_subprocess_exec(
        *(str(a) for a in argv),
        cwd=str(cwd) if cwd is not None else None,
        env=dict(env) if env is not None else None,
        **guard_options(own_group=own_group),
        **kwargs,
    )
    _register(proc.pid, own_group)
    return proc


async def reap(proc: asyncio.subprocess.Process) -> int:
    """Wait for a spawned child and forget it."""
    try:
        return await proc.wait()
    finally:
        forget(proc.pid)


@dataclass
class Completed:
    """What a finished command printed, and why it ended."""

    argv: list[str]
    returncode: int | None  # None when it was killed for running too long
    stdout: str
    stderr: str
    timed_out: bool = False


async def run(
    argv: Sequence[str | Path],
    *,
    timeout: float,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> Completed:
    """Run a tool or test command to completion in its own process group.

    When it ends, whatever it left running in its group is killed; on timeout the whole
    group is killed and `timed_out` is set; when the calling task is
    cancelled (the user edited the document, the server is going away) the group is
    killed before the cancellation propagates. Output is decoded as UTF-8 (replacing
    what is not).
    """
    proc = await spawn(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    # read as it comes, so what a command printed before a timeout is kept
    reads = [asyncio.ensure_future(stream.read()) for stream in (proc.stdout, proc.stderr)]
    timed_out = False
    try:
        if input is not None and proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(input.encode())
                await proc.stdin.drain()
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
        kill(proc.pid)  # on timeout the command; in any case what it left in its group
        await proc.wait()
        out, err = await asyncio.gather(*reads)
    except BaseException:  # cancelled: the command must not outlive the request
        kill(proc.pid)
        for read in reads:
            read.cancel()
        with contextlib.suppress(BaseException):
            await proc.wait()
        raise
    finally:
        forget(proc.pid)
    code = None if timed_out else proc.returncode
    return Completed([str(a) for a in argv], code, _text(out), _text(err), timed_out=timed_out)


def popen(
    argv: Sequence[str | Path], *, own_group: bool = True, **kwargs: Any
) -> subprocess.Popen[Any]:
    """`subprocess.Popen` for a child that dies with the server (for synchronous callers)."""
    proc = subprocess.Popen(
        [str(a) for a in argv],
        **guard_options(own_group=own_group),
        **kwargs,
    )
    _register(proc.pid, own_group)
    return proc


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")

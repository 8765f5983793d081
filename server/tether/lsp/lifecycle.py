"""The server's life: it ends with its editor, whatever it is doing.

An editor that crashes, is killed or loses its SSH session never sends `shutdown`; all
the server sees is the end of its input (stdin, or the TCP connection), a signal, or the
editor's process id disappearing. Each of those ends the server within
`END_BOUND_SECONDS`: running generations are cancelled, the scheduler stops, a running
training is cancelled (the worker discards its partial candidate; the active adapter is
never touched, the lock goes with the worker), and whatever is still running after
`CLOSE_SECONDS` is killed (`tether.core.processes.kill_all`). Then the process ends with
`os._exit`: every decision was durable when it was recorded, and interpreter teardown
would wait for threads stuck in a model call.

Exit codes follow the LSP specification: 0 after `shutdown`, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

from tether.core import processes

if TYPE_CHECKING:
    from tether.instances import Registration
    from tether.lsp.context import Server
    from tether.service import TetherService

log = logging.getLogger(__name__)
#: The message loop's log: unreadable bodies are answered (-32700) and logged in one line.
WIRE_LOG = logging.getLogger("tether.lsp.wire")

#: The bound the issue sets between the end of input and the end of the process.
END_BOUND_SECONDS = 2.0
#: Time an orderly close gets before whatever still runs is killed.
CLOSE_SECONDS = 1.2
#: How often the editor's process is checked where pidfd is not available (not Linux).
CLIENT_POLL_SECONDS = 1.0


class Lifecycle:
    """One per server process: how it ends, and the records it keeps while it lives."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.client_pid: int | None = None
        self.reason: str | None = None
        self._ending: asyncio.Task[Any] | None = None
        self._client_fd: int | None = None
        self._poller: asyncio.Task[None] | None = None
        self.registrations: list[Registration] = []
        self.recovered: dict[str, dict[str, Any]] = {}  # workspace -> what start-up cleared

    # ------------------------------------------------------------------ start
    def install_signals(self) -> None:
        """SIGTERM (editors, systemd), SIGHUP (a closed terminal or SSH session) and SIGINT
        end the server the same orderly way as the end of input."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.end_soon, f"signal {sig.name}")

    def watch_client(self, pid: int | None) -> None:
        """LSP's processId rule: when the editor's process is gone, exit."""
        if pid is None or pid == os.getpid() or self.client_pid is not None:
            return
        self.client_pid = pid
        loop = asyncio.get_running_loop()
        try:
            fd = os.pidfd_open(pid)  # readable once the process has ended: no polling
        except ProcessLookupError:  # never seen: another PID namespace (a container, a
            # remote host); exiting now would end every such session at once
            log.warning("the editor's process %s is not visible here; not watching it", pid)
            self.client_pid = None
            return
        except (AttributeError, OSError):  # not Linux, or a kernel without pidfd
            self._poller = loop.create_task(self._poll_client(pid))
            return
        self._client_fd = fd
        loop.add_reader(fd, self._client_gone, pid)

    def _client_gone(self, pid: int) -> None:
        if self._client_fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._client_fd)
        self.end_soon(f"the editor's process {pid} ended")

    async def _poll_client(self, pid: int) -> None:
        import psutil

        while True:
            try:
                gone = psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                gone = True
            except psutil.AccessDenied:
                gone = False  # it exists; it is just not ours to inspect
            if gone:
                self.end_soon(f"the editor's process {pid} ended")
                return
            await asyncio.sleep(CLIENT_POLL_SECONDS)  # a poll interval, not a wait for work

    def opened(self, service: TetherService) -> None:
        """A workspace's service is open: record this server there and clear up after a
        server that died (see `tether.recovery`)."""
        from tether.instances import Registration, running

        registration = Registration(service.paths, client_pid=self.client_pid)
        registration.update(model=service.settings.model)
        self.registrations.append(registration)
        if service.settings.model.startswith("embedded:") and len(self.registrations) == 1:
            from tether.agent.providers import embedded  # light: torch loads with the model

            embedded.STATE_LISTENERS.append(self.model_changed)
        starts = [r.started for r in running(service.paths)] or [registration.info.started]
        self.server.session.spawn(self._recover(service, min(starts)), "recovering")

    async def _recover(self, service: TetherService, before: float) -> None:
        from tether.recovery import recover

        result = await recover(service, before=before)
        self.recovered[str(service.workspace)] = {
            "expired": len(result.expired),
            "jobsRemoved": len(result.jobs_removed),
        }
        if result.expired:  # none of them was shown by this server: nothing to republish
            self.server.session.show(
                f"Tether: {len(result.expired)} proposal(s) left pending by a server that "
                "stopped have expired; ask again where you still want them"
            )

    def model_changed(self, _loaded: bool) -> None:
        """A model loaded or unloaded: keep `servers/<pid>.json` true for `tether doctor`."""
        embedded = sys.modules.get("tether.agent.providers.embedded")
        loaded = embedded is not None and any(m["loaded"] for m in embedded.loaded_models())
        for registration in self.registrations:
            registration.update(model_loaded=loaded)

    # ------------------------------------------------------------------ end
    @property
    def exit_code(self) -> int:
        return 0 if getattr(self.server.protocol, "_shutdown", False) else 1

    def end_soon(self, reason: str) -> None:
        """End the server (from a callback or a signal handler): at most once."""
        if self._ending is None:
            self._ending = asyncio.get_running_loop().create_task(self.end(reason))

    async def end(self, reason: str) -> NoReturn:
        """Stop everything within the bound, then exit."""
        if self._ending is None:  # called directly: a signal meanwhile must not start another
            self._ending = asyncio.current_task()
        self.reason = reason
        log.info("ending: %s", reason)
        session = self.server.session
        cancels = [
            asyncio.ensure_future(s.cancel_training())
            for s in session.services()
            if s.training_running()
        ]  # the worker hears "cancel" now, not after the other work has wound down
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await session.close()
                if cancels:
                    await asyncio.gather(*cancels, return_exceptions=True)
        except TimeoutError:
            log.warning("closing took over %.1f s; ending what still runs", CLOSE_SECONDS)
        except Exception:
            log.exception("closing failed; ending what still runs")
        self.exit_now(self.exit_code)

    def exit_now(self, code: int) -> NoReturn:
        """Kill the children still running, drop this server's records, exit at once."""
        killed = processes.kill_all()
        if killed:
            log.info("ended %d child process(es)", killed)
        for registration in self.registrations:
            registration.close()
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


# ---------------------------------------------------------------------- transports
def serve_stdio(server: Server) -> NoReturn:
    """pygls' stdio loop, except that the end of input ends the process within the bound."""
    from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

    server._stop_event = threading.Event()
    reader = StdinAsyncReader(sys.stdin.buffer, server.thread_pool)
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))

    async def main() -> None:
        server.lifecycle.install_signals()
        try:
            await run_async(
                stop_event=server._stop_event,
                reader=reader,
                protocol=server.protocol,
                logger=WIRE_LOG,
                error_handler=server.report_server_error,
            )
            reason = "end of input: the editor closed the connection"
        except Exception as exc:  # an unreadable stdin is as good as a closed one
            reason = f"stdin failed: {exc}"
        await server.lifecycle.end(reason)

    asyncio.run(main())
    server.lifecycle.exit_now(server.lifecycle.exit_code)  # not reached: end() exits


def serve_tcp(server: Server, host: str, port: int) -> NoReturn:
    """One client over TCP (for debugging); its connection closing ends the server."""
    from pygls.io_ import run_async

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.protocol.set_writer(writer)  # type: ignore[arg-type]
        await run_async(
            stop_event=server._stop_event,  # type: ignore[arg-type]
            reader=reader,
            protocol=server.protocol,
            logger=WIRE_LOG,
            error_handler=server.report_server_error,
        )
        await server.lifecycle.end("the client closed the TCP connection")

    async def main() -> None:
        server.lifecycle.install_signals()
        listener = await asyncio.start_server(connection, host, port)
        addresses = ", ".join(str(sock.getsockname()) for sock in listener.sockets)
        log.info("Serving on %s", addresses)
        async with listener:
            await listener.serve_forever()

    server._stop_event = threading.Event()
    asyncio.run(main())
    server.lifecycle.exit_now(server.lifecycle.exit_code)


def status(server: Server) -> dict[str, Any]:
    """The memory part of `tether/status`: this server's, the model's, the other servers'."""
    from tether.instances import rss_bytes, running

    models: list[dict[str, Any]] = []
    embedded = sys.modules.get("tether.agent.providers.embedded")
    if embedded is not None and hasattr(embedded, "loaded_models"):
        models = embedded.loaded_models()
    others = [
        {"pid": r.pid, "rssBytes": r.rss_bytes, "modelLoaded": r.model_loaded}
        for registration in server.lifecycle.registrations
        for r in running(registration.paths)
        if not r.current
    ]
    return {
        "rssBytes": rss_bytes(),
        "models": models,
        "clientPid": server.lifecycle.client_pid,
        "children": processes.live_children(),
        "otherServers": others,
        "recovered": server.lifecycle.recovered,
    }

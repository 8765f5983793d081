"""One editor connection: its workspace folders, their services, settings and notifications.

Settings are layered per folder: the files and TETHER_* variables (`load_settings`), then
what the editor sends (`initializationOptions`, `workspace/configuration`,
`workspace/didChangeConfiguration`). An invalid editor value is reported with a
`window/showMessage` naming the setting, and the last good values stay in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from tether.config import ConfigError, Settings, editor_values, load_settings, merge
from tether.lsp.context import Folder

if TYPE_CHECKING:
    from tether.lsp.context import Server
    from tether.service import TetherService

log = logging.getLogger(__name__)

SECTION = "tether"


class Session:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.folders: list[Folder] = []
        self.editor: dict[str, Any] = {}  # last good editor overrides
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ start-up
    def initialize(self, params: lsp.InitializeParams) -> None:
        """Work out the folders and their settings; open their stores in the background."""
        roots = _roots(params)
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get(SECTION), dict):
            options = options[SECTION]
        for root in roots:
            try:
                base = load_settings(root)
            except ConfigError as exc:
                self.show(f"Tether: {exc}; using the defaults", lsp.MessageType.Error)
                base = Settings()
            self.folders.append(Folder(root=root, base=base, settings=base))
        if isinstance(options, dict) and options:
            self.apply_editor_settings(options, source="initializationOptions")
        elif options is not None and not isinstance(options, dict):
            self.show(
                "Tether: initializationOptions must be an object of settings; ignored",
                lsp.MessageType.Error,
            )
        for folder in self.folders:
            folder.opening = asyncio.get_running_loop().create_task(self._open(folder))

    async def _open(self, folder: Folder) -> TetherService:
        """Open a folder's service; the core is imported here, after `initialize` answered."""
        from tether.decisions import StoreError
        from tether.lsp.bridge import Bridge
        from tether.service import TetherService

        settings = folder.settings
        try:
            folder.service = await TetherService.open(
                folder.root, settings, events=Bridge(self, folder)
            )
            if folder.settings is not settings:  # the editor's settings came in meanwhile
                folder.service.update_settings(folder.settings)
            try:  # record this server; clear up after one that died (crash-only restart)
                self.server.lifecycle.opened(folder.service)
            except Exception as exc:
                log.warning("recording this server for %s: %s", folder.root, exc)
            try:
                folder.service.start_scheduler()
            except Exception as exc:  # training is optional; proposals work without it
                log.warning("automatic training is off: %s", exc)
        except (StoreError, OSError) as exc:
            folder.error = str(exc)
            self.show(f"Tether cannot open its store: {exc}", lsp.MessageType.Error)
            raise
        return folder.service

    async def initialized(self) -> None:
        """Pull the editor's settings and ask to hear when they change."""
        caps = self.server.client_capabilities.workspace
        if (
            caps
            and caps.did_change_configuration
            and caps.did_change_configuration.dynamic_registration
        ):
            with contextlib.suppress(Exception):
                await self.server.client_register_capability_async(
                    lsp.RegistrationParams(
                        registrations=[
                            lsp.Registration(
                                id="tether-configuration",
                                method=lsp.WORKSPACE_DID_CHANGE_CONFIGURATION,
                                register_options=lsp.DidChangeConfigurationRegistrationOptions(
                                    section=SECTION
                                ),
                            )
                        ]
                    )
                )
        await self.pull_configuration()

    async def pull_configuration(self, *, replace: bool = False) -> None:
        """Read the editor's `tether` section. `replace`: the answer is the whole section as
        it is now (after a change), so a setting the user cleared stops applying."""
        caps = self.server.client_capabilities.workspace
        if not (caps and caps.configuration):
            return
        try:
            result = await self.server.workspace_configuration_async(
                lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section=SECTION)])
            )
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
            return
        value = result[0] if result else None
        if isinstance(value, dict):
            self.apply_editor_settings(value, source="workspace/configuration", replace=replace)

    def did_change_configuration(self, settings: Any) -> None:
        if isinstance(settings, dict) and isinstance(settings.get(SECTION), dict):
            self.apply_editor_settings(settings[SECTION], source="workspace/didChangeConfiguration")
        else:  # the pull model: the notification only says "something changed"
            self.spawn(self.pull_configuration(replace=True), "reading settings")

    def apply_editor_settings(
        self, values: dict[str, Any], *, source: str, replace: bool = False
    ) -> bool:
        """Overlay editor settings on every folder, all or nothing.

        Keys may be camelCase; a null value means "not set here" (editors send their
        declared defaults), so it leaves the files' value in force.
        """
        merged = editor_values(values) if replace else merge(self.editor, editor_values(values))
        updated: list[tuple[Folder, Settings]] = []
        for folder in self.folders:
            try:
                updated.append((folder, folder.base.overlay(merged)))
            except ConfigError as exc:
                name = exc.key or "a setting"
                self.show(
                    f"Tether: invalid setting {name} (from {source}): {exc}. "
                    "Keeping the previous settings.",
                    lsp.MessageType.Error,
                )
                return False
        self.editor = merged
        for folder, settings in updated:
            folder.settings = settings
            if folder.service is not None:
                for note in folder.service.update_settings(settings):
                    self.show(f"Tether: {note}", lsp.MessageType.Warning)
        self.server.window_log_message(
            lsp.LogMessageParams(
                type=lsp.MessageType.Info,
                message=f"Tether: settings from {source} applied ({', '.join(sorted(values))})",
            )
        )
        return True

    # ------------------------------------------------------------------ services
    def folder_for(self, uri: str | None) -> Folder:
        local = _local_path(uri) if uri else None
        if local is not None:
            best: Folder | None = None
            for folder in self.folders:
                if local.is_relative_to(folder.root) and (
                    best is None or len(folder.root.parts) > len(best.root.parts)
                ):
                    best = folder
            if best is not None:
                return best
        return self.folders[0]

    async def service_for(self, uri: str | None = None) -> TetherService:
        from tether.decisions import StoreError
        from tether.service import ServiceError

        folder = self.folder_for(uri)
        if folder.service is not None:
            return folder.service
        if folder.opening is None:
            folder.opening = asyncio.get_running_loop().create_task(self._open(folder))
        try:
            return await asyncio.shield(folder.opening)
        except (StoreError, OSError):
            raise ServiceError(
                f"the store for {folder.root} is unavailable: {folder.error}"
            ) from None

    async def service_of_proposal(self, proposal_id: str) -> TetherService:
        """The service whose store holds a proposal (the first folder's when none does)."""
        services = self.services()
        if len(services) <= 1:
            return await self.service_for(None)
        for service in services:
            if any(p.id == proposal_id for p in service.live_proposals()):
                return service
        for service in services:
            if await _holds(service, proposal_id):
                return service
        return services[0]

    def services(self) -> list[TetherService]:
        return [f.service for f in self.folders if f.service is not None]

    async def close(self) -> None:
        for folder in self.folders:
            if folder.opening is not None and not folder.opening.done():
                with contextlib.suppress(BaseException):
                    await folder.opening
            if folder.service is not None:
                try:
                    await folder.service.close()
                except Exception as exc:
                    log.warning("closing %s: %s", folder.root, exc)
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ editor output
    def notify(self, method: str, params: Any) -> None:
        self.server.protocol.notify(method, params)

    def show(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        self.server.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def publish(self, folder: Folder, uri: str) -> None:
        from tether.lsp.convert import diagnostic

        service = folder.service
        if service is None:
            return
        risky = set(folder.settings.policy.risky_flags)
        diagnostics = [
            diagnostic(p, bool(risky & set(p.risk))) for p in service.live_proposals(uri)
        ]
        self.server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=service.version_of(uri)
            )
        )

    def spawn(self, coro: Any, what: str) -> asyncio.Task[Any]:
        from tether.service import ServiceError

        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except ServiceError as exc:
                self.show(f"Tether: {exc}", lsp.MessageType.Warning)
            except Exception as exc:
                log.exception("%s failed", what)
                self.show(f"Tether: {what} failed: {exc}", lsp.MessageType.Error)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _roots(params: lsp.InitializeParams) -> list[Path]:
    roots: list[Path] = []
    for folder in params.workspace_folders or []:
        local = _local_path(folder.uri)
        if local is not None:
            roots.append(local)
    if not roots and params.root_uri:
        local = _local_path(params.root_uri)
        if local is not None:
            roots.append(local)
    if not roots and params.root_path:
        roots.append(Path(params.root_path))
    if not roots:
        roots.append(Path.cwd())
    return [r.expanduser().resolve() for r in roots]


def _local_path(uri: str) -> Path | None:
    """The file behind a file: URI, None for other schemes."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


async def _holds(service: TetherService, proposal_id: str) -> bool:
    from tether.service import ProposalNotFound

    try:
        await service.get_proposal(proposal_id)
    except ProposalNotFound:
        return False
    return True

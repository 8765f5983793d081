"""Start-up, capabilities and settings of `tether lsp`."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import SOURCE, Launch

CONTRACT_COMMANDS = {
    "tether.propose",
    "tether.accept",
    "tether.reject",
    "tether.trainNow",
    "tether.cancelTraining",
    "tether.verify",
    "tether.pin",
}
HEAVY = {"torch", "transformers", "trl", "peft", "datasets", "litellm"}


async def test_initialize_capabilities_and_no_heavy_imports(launch: Launch) -> None:
    editor = await launch("neovim")
    assert editor.init_result is not None
    caps = editor.init_result.capabilities
    result = await editor.request("tether/status", {})
    assert result["heavyModules"] == []
    assert set(result["heavyModules"]) & HEAVY == set()

    sync = caps.text_document_sync
    assert isinstance(sync, lsp.TextDocumentSyncOptions)
    assert sync.change == lsp.TextDocumentSyncKind.Incremental and sync.open_close
    assert caps.position_encoding == lsp.PositionEncodingKind.Utf16  # Neovim offers UTF-8 first
    assert isinstance(caps.code_action_provider, lsp.CodeActionOptions)
    assert caps.code_action_provider.resolve_provider is True
    assert caps.execute_command_provider is not None
    commands = set(caps.execute_command_provider.commands)
    assert commands >= CONTRACT_COMMANDS
    assert caps.execute_command_provider.work_done_progress is True

    # a proposal through the replay provider loads no model library either
    uri = editor.open("app.py", SOURCE)
    await editor.propose(uri, Range.of(0, 0, 3, 18))
    assert (await editor.request("tether/status", {}))["heavyModules"] == []


async def test_invalid_initialization_option_is_named_and_defaults_kept(launch: Launch) -> None:
    editor = await launch(options={"maxFileBytes": -5})
    message = await editor.message("max_file_bytes", lsp.MessageType.Error)
    assert "Keeping the previous settings" in message
    uri = editor.open("app.py", SOURCE)
    assert await editor.propose(uri, Range.of(0, 0, 3, 18))  # still serving, defaults in force


async def test_settings_from_initialization_options(launch: Launch) -> None:
    editor = await launch(options={"tether": {"maxFileBytes": 40}})
    uri = editor.open("app.py", SOURCE)
    with pytest.raises(JsonRpcException) as err:
        await editor.propose(uri, Range.of(0, 0, 3, 18))
    assert "max_file_bytes limit (40)" in str(err.value)


async def test_settings_from_workspace_configuration_and_changes(launch: Launch) -> None:
    editor = await launch(configuration={"maxFileBytes": 40})
    await editor.log("settings from workspace/configuration applied (maxFileBytes)")
    assert "workspace/didChangeConfiguration" in editor.registrations  # asked before the pull
    uri = editor.open("app.py", SOURCE)
    with pytest.raises(JsonRpcException) as err:
        await editor.propose(uri, Range.of(0, 0, 3, 18))
    assert "max_file_bytes limit (40)" in str(err.value)

    # an invalid pushed value: reported by name, the last good value (40) stays
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"tether": {"maxFileBytes": "lots"}})
    )
    await editor.message("invalid setting max_file_bytes", lsp.MessageType.Error)
    with pytest.raises(JsonRpcException) as err:
        await editor.propose(uri, Range.of(0, 0, 3, 18))
    assert "max_file_bytes limit (40)" in str(err.value)

    # a valid change through the pull model (settings: null → workspace/configuration)
    editor.client.log_messages.clear()
    editor.client.set_configuration({"maxFileBytes": 2_000_000}, section="tether")
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings=None)
    )
    await editor.log("settings from workspace/configuration applied")
    assert await editor.propose(uri, Range.of(0, 0, 3, 18))


async def test_a_cleared_setting_stops_applying(launch: Launch) -> None:
    """The editor's whole section after a change replaces the last one (issue 18: a
    setting removed in the editor must not stay in force until the server restarts)."""
    editor = await launch(configuration={"maxFileBytes": 40})
    await editor.log("settings from workspace/configuration applied (maxFileBytes)")
    uri = editor.open("app.py", SOURCE)
    with pytest.raises(JsonRpcException):
        await editor.propose(uri, Range.of(0, 0, 3, 18))
    editor.client.log_messages.clear()
    editor.client.set_configuration({"reviewOnSave": False}, section="tether")
    editor.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings=None)
    )
    await editor.log("settings from workspace/configuration applied (reviewOnSave)")
    assert await editor.propose(uri, Range.of(0, 0, 3, 18))  # the default limit again

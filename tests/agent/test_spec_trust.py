"""The never-send defaults cover the usual credential files; tasks are found in any case
and by their titles, and the service passes the task's own name on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tether.agent.spec import Boundaries, default_spec
from tether.config import Settings
from tether.core.types import Range
from tether.service import BadRequest, TetherService

NEVER_SENT = [
    ".env",
    "config/.env.production",
    "deploy/prod.env",
    ".envrc",
    ".aws/credentials",
    "home/.aws/config",
    ".npmrc",
    "web/.npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    ".docker/config.json",
    "id_rsa",
    "keys/id_ed25519.pub",
    "certs/server.pem",
    "tls/server.key",
    "keystore.p12",
    "secrets.yaml",
    "config/secrets.json",
    "secrets/db.txt",
    "config/credentials.json",
    "credentials",
    "gcp/my-service-account.json",
    "deploy/service_account.json",
    "infra/terraform.tfstate",
]
SENT = [
    "src/app.py",
    "src/id_utils.py",
    "config/settings.yaml",
    "README.md",
    "src/credentials_helper.py",
    "environment.yml",
    "docs/secrets-management.md",
]


@pytest.mark.parametrize("path", NEVER_SENT)
def test_credential_files_never_go_to_a_teacher(path: str) -> None:
    assert not Boundaries().may_send(path)


@pytest.mark.parametrize("path", SENT)
def test_ordinary_files_may_go(path: str) -> None:
    assert Boundaries().may_send(path)


def test_the_spec_adds_to_the_defaults_and_cannot_lift_them() -> None:
    assert not Boundaries(never_send=["!.env", "!*.pem"]).may_send(".env")
    assert not Boundaries(never_send=["!.env", "!*.pem"]).may_send("certs/a.pem")
    assert not Boundaries(never_send=["docs/**"]).may_send("docs/guide.md")
    assert Boundaries(never_send=["docs/**"]).may_send("src/app.py")


@pytest.mark.parametrize(
    "name", ["improve", "Improve", "IMPROVE", " improve ", "Tether: Improve", "tether: improve"]
)
def test_tasks_are_found_in_any_case_and_by_title(name: str) -> None:
    task = default_spec().task(name)
    assert task is not None and task.name == "improve"


def test_titles_with_spaces_and_unknown_names() -> None:
    spec = default_spec()
    assert spec.task("Tether: Fix this diagnostic").name == "fix"  # type: ignore[union-attr]
    assert spec.task("Fix this diagnostic").name == "fix"  # type: ignore[union-attr]
    assert spec.task("nope") is None and spec.task("") is None


async def test_the_service_takes_a_title_and_passes_the_name_on(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps({"completion": "unused"}) + "\n")
    settings = Settings(model=f"replay:{replay}", home=tmp_path / "home")
    service = await TetherService.open(ws, settings)
    try:
        uri = (ws / "a.py").as_uri()
        service.open_document(uri, "python", 1, "x = 1\n")
        for asked in ("Tether: Improve", "IMPROVE", "improve"):
            req = service.request_for(uri, Range.of(0, 0, 0, 5), asked)
            assert req.task == "improve"
        with pytest.raises(BadRequest, match="unknown task 'polish'"):
            service.request_for(uri, Range.of(0, 0, 0, 5), "polish")
    finally:
        await service.close()

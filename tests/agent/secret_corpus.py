"""Secrets as they sit in real files, and a check that none reaches a teacher or an export.

Every snippet is a plausible piece of a real file (the name says which), with the secret
values it plants listed beside it. `leak_report()` sends each through the agent's teacher
path, with litellm's `acompletion` replaced at the edge by a wrapper that records the
messages and answers through litellm's own `mock_response`, and through `tether export`
(every format) from a real store; a leak is a planted value seen in either.

All values are made up; none is a live credential.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEX_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
PYPI_TOKEN = "pypi-AgEIcHlwaS5vcmcCJGE4ZjE2YzNmLTk5NDQtNDVmNy1iM2Q0LTA4ZjRhYzk5YmE1NQACKlszLCJmMGQ"
SENDGRID_KEY = "SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg"
PEM_BODY = (
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
)


@dataclass(frozen=True)
class Snippet:
    name: str
    path: str  # where such text lives (a path that may be sent: redaction must do the work)
    text: str
    secrets: tuple[str, ...]


CORPUS: list[Snippet] = [
    Snippet(
        "dotenv unquoted password",
        "config/app_settings.txt",
        "APP_ENV=production\nDB_HOST=db.internal\nDB_PASSWORD=hunter2hunter2\nDEBUG=false\n",
        ("hunter2hunter2",),
    ),
    Snippet(
        "type-hinted password",
        "src/settings.py",
        'class Settings(BaseSettings):\n    user: str = "app"\n'
        '    password: str = "Tr0ub4dor&3-prod"\n',
        ("Tr0ub4dor&3-prod",),
    ),
    Snippet(
        "bare hex signing key",
        "src/signing.py",
        f"# rotate quarterly\nSIGNING_KEY = {HEX_KEY}\n",
        (HEX_KEY,),
    ),
    Snippet(
        "hex key in a quoted constant",
        "src/webhooks.py",
        'def verify(sig):\n    return hmac.compare_digest(sig, sign("'
        'a3f5c8e1b2d4f6a7c9e0b1d2f3a4c5e6d7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"))\n',
        ("a3f5c8e1b2d4f6a7c9e0b1d2f3a4c5e6d7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2",),
    ),
    Snippet(
        "aws credentials file",
        "deploy/aws_profile.ini",
        "[default]\naws_access_key_id = AKIAQ3EGRSTU4EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\nregion = eu-west-1\n",
        ("AKIAQ3EGRSTU4EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"),
    ),
    Snippet(
        "shell export",
        "scripts/deploy.sh",
        '#!/bin/sh\nexport API_TOKEN=q8Zr2mX7vP4kL9nB3cT6\n./release --token "$API_TOKEN"\n',
        ("q8Zr2mX7vP4kL9nB3cT6",),
    ),
    Snippet(
        "npmrc auth token",
        "frontend/npm_registry.cfg",
        "registry=https://registry.npmjs.org/\n"
        "//registry.npmjs.org/:_authToken=npm_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa\n",
        ("npm_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa",),
    ),
    Snippet(
        "npmrc legacy auth",
        "frontend/legacy_registry.cfg",
        "//npm.corp.example/:_auth=dXNlcjpTM2NyZXRQYXNz\nalways-auth=true\n",
        ("dXNlcjpTM2NyZXRQYXNz",),
    ),
    Snippet(
        "basic auth header",
        "src/client.py",
        'HEADERS = {\n    "Authorization": "Basic YWRtaW46c3VwZXJzZWNyZXQxMjM=",\n}\n',
        ("YWRtaW46c3VwZXJzZWNyZXQxMjM=",),
    ),
    Snippet(
        "http request log",
        "docs/debugging.md",
        "GET /api/v1/items HTTP/1.1\nHost: api.example.com\n"
        "Authorization: Bearer 7f3kQ9zL2mN8pR4tV6wY1aC5eG0iK3oS\n",
        ("7f3kQ9zL2mN8pR4tV6wY1aC5eG0iK3oS",),
    ),
    Snippet(
        "pypirc",
        "release/pypi_upload.cfg",
        f"[pypi]\nusername = __token__\npassword = {PYPI_TOKEN}\n",
        (PYPI_TOKEN,),
    ),
    Snippet(
        "netrc",
        "home/netrc_backup.txt",
        "machine api.heroku.com\n  login ops@example.org\n  password 4c1e9b2a-7d3f-4e8a-9b6c\n"
        "machine git.example.org login deploy password Gh7!kLm2#pQ9\n",
        ("4c1e9b2a-7d3f-4e8a-9b6c", "Gh7!kLm2#pQ9", "ops@example.org"),
    ),
    Snippet(
        "git credentials",
        "home/git_credentials_copy.txt",
        "https://deploybot:ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXyZ12345@github.com\n",
        ("ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXyZ12345",),
    ),
    Snippet(
        "database url",
        "src/db.py",
        'ENGINE = create_engine("postgresql://app_user:Pg-s3cret-2024@db.internal:5432/app")\n',
        ("Pg-s3cret-2024",),
    ),
    Snippet(
        "connection string",
        "src/Storage.cs",
        'var cs = "Server=tcp:sql.example.net;Database=shop;User Id=shop;'
        'Password=Sql!Pass9876;";\n',
        ("Sql!Pass9876",),
    ),
    Snippet(
        "azure storage connection string",
        "src/blob.py",
        'CONN = "DefaultEndpointsProtocol=https;AccountName=shopdata;AccountKey='
        "Jk8sLm2nOp4qRs6tUv8wXy0zAb2cDe4fGh6iJk8lMn0oPq2rSt4uVw6xYz8aBc0dEf2gHi4jKl6mNo8pQr0sTu=="
        ';EndpointSuffix=core.windows.net"\n',
        (
            "Jk8sLm2nOp4qRs6tUv8wXy0zAb2cDe4fGh6iJk8lMn0oPq2rSt4uVw6xYz8aBc0dEf2gHi4jKl6mNo8pQr0sTu==",
        ),
    ),
    Snippet(
        "service account json",
        "deploy/gcp_deployer.json",
        '{\n  "type": "service_account",\n  "project_id": "shop-prod",\n'
        '  "private_key_id": "3f1c9a7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3",\n'
        '  "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASC\\n'
        '-----END PRIVATE KEY-----\\n",\n'
        '  "client_email": "deployer@shop-prod.iam.gserviceaccount.com"\n}\n',
        (
            "3f1c9a7e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3",
            "MIIEvAIBADANBgkqhkiG9w0BAQEFAASC",
            "deployer@shop-prod.iam.gserviceaccount.com",
        ),
    ),
    Snippet(
        "pem private key",
        "deploy/tls_notes.md",
        f"Paste this into the vault:\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}"
        "-----END RSA PRIVATE KEY-----\n",
        ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",),
    ),
    Snippet(
        "openssh private key",
        "home/ssh_key_copy.txt",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
        "-----END OPENSSH PRIVATE KEY-----\n",
        ("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",),
    ),
    Snippet(
        "openai key in code",
        "src/llm.py",
        'client = OpenAI(api_key="sk-proj-Qw3rTy7uIo9pAs2dFg4hJk6lZx8cVb0nM1")\n',
        ("sk-proj-Qw3rTy7uIo9pAs2dFg4hJk6lZx8cVb0nM1",),
    ),
    Snippet(
        "anthropic key in yaml",
        "config/llm.yaml",
        "provider: anthropic\napi_key: sk-ant-api03-Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg\n",
        ("sk-ant-api03-Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg",),
    ),
    Snippet(
        "stripe key",
        "src/payments.py",
        'stripe.api_key = "sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv"\n',
        ("sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv",),
    ),
    Snippet(
        "slack bot token and webhook",
        "src/notify.py",
        'SLACK_BOT = "xoxb-2048-1024-QwErTyUiOpAsDfGhJkLz"\n'
        'HOOK = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"\n',
        (
            "xoxb-2048-1024-QwErTyUiOpAsDfGhJkLz",
            "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
        ),
    ),
    Snippet(
        "github actions env",
        "ci/workflow_vars.yml",
        "env:\n  GITHUB_TOKEN: ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5\n  NODE_ENV: test\n",
        ("ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",),
    ),
    Snippet(
        "gitlab token",
        "scripts/mirror.py",
        'requests.get(url, headers={"PRIVATE-TOKEN": "glpat-Xy9Zw8Vu7Ts6Rq5Po4Nm"})\n',
        ("glpat-Xy9Zw8Vu7Ts6Rq5Po4Nm",),
    ),
    Snippet(
        "google api key",
        "web/maps.js",
        'const MAPS_KEY = "AIzaSyD4kF8nP2qR7sT1uV5wX9yZ3aB6cE0gH4j";\n',
        ("AIzaSyD4kF8nP2qR7sT1uV5wX9yZ3aB6cE0gH4j",),
    ),
    Snippet(
        "huggingface token",
        "notebooks/train_notes.py",
        'login(token="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")\n',
        ("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",),
    ),
    Snippet(
        "sendgrid key",
        "src/mail.py",
        f'sg = SendGridAPIClient(\n    "{SENDGRID_KEY}"\n)\n',
        (SENDGRID_KEY,),
    ),
    Snippet(
        "jwt in a test fixture",
        "tests/fixtures_auth.py",
        'TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKYW5lIn0.'
        'Xy7kPq2mZr9vLt4nWs8bHc3dGf6jKl1aQe5uIo0pTy8"\n',
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKYW5lIn0."
            "Xy7kPq2mZr9vLt4nWs8bHc3dGf6jKl1aQe5uIo0pTy8",
        ),
    ),
    Snippet(
        "django secret key",
        "site/settings_prod.py",
        "SECRET_KEY = 'django-insecure-7h#k2$m9!qz@x4&w8^p1*r6(t3)y5'\nDEBUG = False\n",
        ("django-insecure-7h#k2$m9!qz@x4&w8^p1*r6(t3)y5",),
    ),
    Snippet(
        "docker config auth",
        "deploy/docker_config.json",
        '{"auths": {"registry.example.com": {"auth": "ZGVwbG95OlJlZzFzdHJ5UGFzcw=="}}}\n',
        ("ZGVwbG95OlJlZzFzdHJ5UGFzcw==",),
    ),
    Snippet(
        "kubernetes secret manifest",
        "k8s/db_secret.yaml",
        "apiVersion: v1\nkind: Secret\nstringData:\n  db-password: Kube!Secr3t-Value\n",
        ("Kube!Secr3t-Value",),
    ),
    Snippet(
        "docker run env",
        "scripts/run_local.sh",
        "docker run -e POSTGRES_PASSWORD=LocalPg!2024 -p 5432:5432 postgres:16\n",
        ("LocalPg!2024",),
    ),
    Snippet(
        "terraform variable",
        "infra/prod.tfvars",
        'db_password = "TfVar-Pa55w0rd!"\nregion = "eu-west-1"\n',
        ("TfVar-Pa55w0rd!",),
    ),
    Snippet(
        "twilio auth token",
        "src/sms.py",
        'TWILIO_AUTH_TOKEN = "4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e"\n',
        ("4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e",),
    ),
    Snippet(
        "dict literal credentials",
        "src/config_loader.py",
        'DEFAULTS = {"client_secret": "cs_9Hq2Wx7Lp4Zm1Vb8Nk3", "timeout": 30}\n',
        ("cs_9Hq2Wx7Lp4Zm1Vb8Nk3",),
    ),
]


def planted() -> int:
    return sum(len(s.secrets) for s in CORPUS)


def leaks_in(text: str) -> list[str]:
    """Planted values present in `text`."""
    return [v for s in CORPUS for v in s.secrets if v in text]


# ---------------------------------------------------------------------- the teacher path
TEACHER_MODEL = "openai/gpt-4o-mini"


async def through_teacher(snippet: Snippet, workspace: Path) -> tuple[str, Any]:
    """Everything the teacher would have been sent for a proposal on `snippet`."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import
    import litellm

    from tether.agent import Agent, AgentRequest, load_spec
    from tether.config import Settings
    from tether.core.response_format import render_completion
    from tether.core.types import Range

    sent: list[Any] = []
    real = litellm.acompletion

    async def edge(*args: Any, **kwargs: Any) -> Any:
        """The cloud API: records what was sent, answers through litellm's own mock with
        the code it was shown plus a header line (placeholders kept, as a model would)."""
        messages = kwargs.get("messages") or []
        sent.append(messages)
        blocks = re.findall(r"```[\w-]*\n(.*?)```", messages[-1]["content"], re.S)
        shown = blocks[-1] if blocks else ""
        answer = "Added a header.\n" + render_completion("# reviewed\n" + shown.rstrip("\n"))
        return await real(*args, **{**kwargs, "mock_response": answer})

    target = workspace / snippet.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(snippet.text)
    student = workspace.parent / "student.jsonl"
    student.write_text(json.dumps({"completion": "unused"}) + "\n")
    settings = Settings(model=f"replay:{student}", teacher=f"litellm:{TEACHER_MODEL}")
    agent = Agent(settings, load_spec(workspace), None, workspace)
    lines = snippet.text.count("\n")
    req = AgentRequest(
        uri=target.as_uri(),
        path=snippet.path,
        # As plain text the whole selection goes to the model (ruff, which runs on Python
        # only, would send just the lines it flags): every planted value is on the way out.
        language="plaintext",
        text=snippet.text,
        version=1,
        range=Range.of(0, 0, lines, 0),
        task="improve",
    )
    key = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = "test-key-for-the-mocked-edge"  # never sent anywhere
    litellm.acompletion = edge
    try:
        result = await agent.propose(req)
    finally:
        litellm.acompletion = real
        if key is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = key
        await agent.close()
    return json.dumps(sent), result


# ---------------------------------------------------------------------- export
async def through_export(folder: Path) -> str:
    """Every export format of a store whose proposals carry the whole corpus."""
    from tether.config import TrainingSettings
    from tether.core.diff import make_hunks
    from tether.core.response_format import render_completion
    from tether.core.types import Actor, Candidate, Outcome, Position, Proposal, Range
    from tether.decisions import DecisionStore
    from tether.publish.export import FORMATS, export

    store = await DecisionStore.open(folder / "tether.db")
    try:
        for i, s in enumerate(CORPUS):
            improved = "# reviewed\n" + s.text
            cand = Candidate(text=improved, completion=render_completion(improved))
            p = Proposal(
                uri=f"file:///ws/{s.path}",
                path=s.path,
                version=1,
                range=Range.of(0, 0, s.text.count("\n"), 0),
                task="improve",
                class_key="improve:text:code:1-3",
                original=s.text,
                proposed=improved,
                hunks=make_hunks(s.text, improved, Position(line=0, character=0)),
                candidates=[cand],
                prompt=f"Improve this file ({s.path}):\n{s.text}",
                completion=cand.completion,
                model="replay:corpus",
            )
            await store.add_proposal(p)
            if i % 2:
                await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
            else:
                await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
                await store.record(
                    Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after=s.text + "\n"
                )
        texts = []
        for fmt in FORMATS:
            out = folder / f"export.{fmt}.jsonl"
            await export(store, fmt, out, TrainingSettings())
            texts.append(out.read_text())
        return "\n".join(texts)
    finally:
        await store.close()


async def leak_report() -> dict[str, Any]:
    """Planted values that reach the teacher or an export; the benchmark's figure."""
    teacher_leaks: dict[str, list[str]] = {}
    teacher_calls = 0
    with tempfile.TemporaryDirectory(prefix="tether-secrets-") as tmp:
        base = Path(tmp)
        for i, s in enumerate(CORPUS):
            ws = base / f"ws{i}" / "workspace"
            ws.mkdir(parents=True)
            sent, _ = await through_teacher(s, ws)
            teacher_calls += sent != "[]"
            found = [v for v in s.secrets if v in sent]
            if found:
                teacher_leaks[s.name] = found
        exported = await through_export(base)
    export_leaks = leaks_in(exported)
    export_rows = sum(1 for line in exported.splitlines() if line.strip())
    return {
        "snippets": len(CORPUS),
        "planted": planted(),
        "teacher_calls": teacher_calls,
        "export_rows": export_rows,
        "leaked_to_teacher": sum(len(v) for v in teacher_leaks.values()),
        "leaked_to_export": len(export_leaks),
        "teacher_leaks": teacher_leaks,
        "export_leaks": export_leaks,
    }

"""The spec's commands (e.g. `pytest -q tests`) as a verifier, when the user allows it.

A candidate is tried in a scratch copy of the workspace, never in the user's files: the
copy is made once per request, the candidate written into it, each command run there with
a timeout in a process group of its own (`tether.core.processes`), and the file put back
before the next candidate. The commands are the user's own lines from the spec, split into
arguments with `shlex` and run without a shell; nothing a model wrote is ever executed as
a command. When the commands already fail on the unchanged code they cannot judge a
candidate, so they are reported as not run rather than blocking every proposal.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tether.core import processes

#: Folders never copied into the scratch workspace: environments, caches, VCS data.
SKIP = (".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".tether", "*.egg-info")
SKIP_CACHES = (".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", "build", "dist")
_SUMMARY = re.compile(r"\b\d+ (?:passed|failed|error|errors)\b.*$", re.M)


@dataclass
class CommandResult:
    ok: bool
    summary: str = ""  # one line: "3 passed in 0.12s", or what failed
    skipped: str = ""  # why the commands could not judge (they did not run, or already fail)


def _summary(argv: list[str], out: str, err: str) -> str:
    text = f"{out}\n{err}"
    found = _SUMMARY.findall(text)
    if found:
        return found[-1].strip("= ").strip()
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:160] if lines else "no output"


class CommandCheck:
    """Runs the allowed commands against candidates in one scratch copy of the workspace."""

    def __init__(self, workspace: Path, commands: list[str], timeout: float = 120.0) -> None:
        self.workspace = workspace
        self.commands = [shlex.split(c) for c in commands if c.strip()]
        self.timeout = timeout
        self._scratch: Path | None = None
        self._baseline: CommandResult | None = None

    def _copy(self) -> Path:
        if self._scratch is None:
            root = Path(tempfile.mkdtemp(prefix="tether-verify-"))
            shutil.copytree(
                self.workspace,
                root / "ws",
                ignore=shutil.ignore_patterns(*SKIP, *SKIP_CACHES),
                symlinks=True,
            )
            self._scratch = root / "ws"
        return self._scratch

    async def _run_all(self, cwd: Path) -> CommandResult:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        summary = ""
        for argv in self.commands:
            try:
                done = await processes.run(argv, timeout=self.timeout, cwd=cwd, env=env)
            except OSError as exc:
                return CommandResult(
                    False,
                    skipped=f"`{shlex.join(argv)}` could not start ({exc.strerror or exc}); "
                    "check the command in the agent spec's tools.commands",
                )
            if done.timed_out:
                return CommandResult(
                    False,
                    skipped=f"`{shlex.join(argv)}` did not finish within {self.timeout:g} s "
                    "and was stopped; raise tools.timeout_seconds or run fewer tests",
                )
            summary = f"`{shlex.join(argv)}`: {_summary(argv, done.stdout, done.stderr)}"
            if done.returncode != 0:
                return CommandResult(False, summary)
        return CommandResult(True, summary)

    async def baseline(self) -> CommandResult:
        """The commands on the unchanged workspace (run once per request)."""
        if self._baseline is None:
            self._baseline = await self._run_all(self._copy())
        return self._baseline

    async def check(self, path: str, new_document: str) -> CommandResult:
        """The commands with `path` holding `new_document`; the copy is restored after."""
        if not self.commands:
            return CommandResult(True, skipped="the spec lists no commands")
        base = await self.baseline()
        if base.skipped:
            return CommandResult(False, skipped=base.skipped)
        if not base.ok:
            return CommandResult(
                False,
                skipped=f"they already fail without the change ({base.summary}), so they "
                "cannot judge it",
            )
        target = self._copy() / path
        old = target.read_bytes() if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(new_document, encoding="utf-8")
        try:
            return await self._run_all(self._scratch or self._copy())
        finally:
            if old is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(old)

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch.parent, ignore_errors=True)
            self._scratch = None

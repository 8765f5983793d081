"""ruff as the agent's eyes: where a document has problems, and ruff's own fixes for them.

A 135M model cannot be trusted to find what is worth changing in a function, but ruff can,
in milliseconds, and for many rules it also knows the exact edit. So the agent asks ruff
first: its findings locate small spots for the model, its fixes are candidates as they are,
and the same run on a candidate tells whether the candidate added a new problem.

ruff runs as a child process on the document's text (stdin), from the workspace folder so
the project's own ruff settings (line length, target version, per-file ignores) apply; the
rule selection is the task's. A missing, hanging or crashing ruff is a `ToolUnavailable`
whose message says what happened and what to do: the agent then goes on without it.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ValidationError

from tether.core import processes

#: What "improve" looks for when the spec does not say: problems with a clear better form
#: that stay inside one function (no new imports: pathlib rules need one, so they are out).
DEFAULT_IMPROVE_RULES: tuple[str, ...] = (
    "E4",
    "E7",
    "E9",
    "F",
    "B",
    "UP",
    "SIM",
    "C4",
    "RET",
    "PIE",
    "PERF",
)
#: Never looked for: a star import's names are not a problem of the function that uses them.
IGNORED_RULES: tuple[str, ...] = ("F403", "F405")
#: What "document" looks for: missing docstrings.
DEFAULT_DOCUMENT_RULES: tuple[str, ...] = ("D1",)
#: Always checked on a candidate, whatever the task: it must still be valid Python.
SAFETY_RULES: tuple[str, ...] = ("E9", "F63", "F7", "F82")


class ToolUnavailable(RuntimeError):
    """A tool could not run; the message says why and what to do, for the user as is."""


class Point(BaseModel):
    row: int  # 1-based
    column: int  # 1-based, in characters


class FixEdit(BaseModel):
    content: str
    location: Point
    end_location: Point


class Fix(BaseModel):
    applicability: str = "safe"  # safe | unsafe | display-only
    message: str | None = None
    edits: list[FixEdit]


class Finding(BaseModel):
    """One ruff diagnostic, as its JSON output gives it."""

    code: str | None = None  # None for a syntax error
    message: str
    location: Point
    end_location: Point
    fix: Fix | None = None

    @property
    def rule(self) -> str:
        return self.code or "syntax-error"

    @property
    def line(self) -> int:
        """Zero-based first line."""
        return self.location.row - 1

    @property
    def end_line(self) -> int:
        """Zero-based last line (a range ending at column 1 of a line ends before it)."""
        end = self.end_location.row - 1
        if self.end_location.column == 1 and end > self.line:
            end -= 1
        return end

    @property
    def fixable(self) -> bool:
        return self.fix is not None and self.fix.applicability != "display-only"

    def describe(self) -> str:
        return f"{self.rule} {self.message}"


def find_ruff(configured: str = "") -> str | None:
    """The ruff executable: the configured one, the one installed with Tether, or PATH's."""
    if configured:
        return configured
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        pass
    beside = Path(sys.executable).with_name("ruff")
    if beside.is_file():
        return str(beside)
    return shutil.which("ruff")


class Ruff:
    """Runs `ruff check` on text and returns its findings."""

    def __init__(self, workspace: Path, executable: str = "", timeout: float = 10.0) -> None:
        self.workspace = workspace
        self.executable = find_ruff(executable)
        self.timeout = timeout

    async def check(
        self, text: str, path: str, select: tuple[str, ...] | list[str]
    ) -> list[Finding]:
        """Findings of the selected rules in `text` (as the file at workspace-relative `path`)."""
        if not self.executable:
            raise ToolUnavailable(
                "ruff is not installed, so Tether could not look for problems or check "
                "the change with it; install ruff in Tether's environment (pip install ruff)"
            )
        argv = [
            self.executable,
            "check",
            "--output-format",
            "json",
            "--no-cache",
            "--exit-zero",
            "--unsafe-fixes",
            "--select",
            ",".join(select) or "E9",
            "--ignore",
            ",".join(IGNORED_RULES),
            "--stdin-filename",
            str(self.workspace / path),
            "-",
        ]
        try:
            done = await processes.run(argv, timeout=self.timeout, cwd=self.workspace, input=text)
        except OSError as exc:
            raise ToolUnavailable(
                f"ruff could not be started ({exc.strerror or exc}); check that "
                f"{self.executable} is an executable ruff"
            ) from None
        if done.timed_out:
            raise ToolUnavailable(
                f"ruff did not answer within {self.timeout:g} s and was stopped; the file may "
                "be too large, or ruff is stuck: try again, or raise tools.timeout_seconds"
            )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
            raise ToolUnavailable(
                f"ruff failed (exit {done.returncode}: {last}); check the project's ruff "
                "configuration (pyproject.toml / ruff.toml)"
            )
        try:
            raw = json.loads(done.stdout or "[]")
            return [Finding.model_validate(item) for item in raw]
        except (json.JSONDecodeError, ValidationError, TypeError):
            raise ToolUnavailable(
                "ruff printed something that is not its JSON report; check that "
                f"{self.executable} is ruff 0.5 or newer"
            ) from None


def counts(findings: list[Finding]) -> Counter[str]:
    return Counter(f.rule for f in findings)

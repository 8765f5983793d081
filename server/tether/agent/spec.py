"""The agent spec (Forge): what the user wants the agent to be, in a file they own.

The spec lives in `.tether/agent.md` (YAML front matter, then the purpose in plain
language) or in the `[agent]` table of `tether.toml`. A typo there must not silently give
the user a different agent, so every error names the key and the line it is on; and with
no spec at all the agent still works with the default tasks.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tether.agent.globs import check_glob, matches
from tether.agent.tools.ruff import DEFAULT_DOCUMENT_RULES, DEFAULT_IMPROVE_RULES

SPEC_FILE = Path(".tether") / "agent.md"
TOML_FILE = "tether.toml"

TaskWhen = Literal["selection", "diagnostic", "save", "command"]

#: Paths that never go to a teacher whatever the spec says: leaking them is never intended.
#: gitignore rules (a pattern without a slash matches at any depth; `dir/` a whole folder).
ALWAYS_NEVER_SEND: tuple[str, ...] = (
    # ssh keys (id_rsa, id_ed25519, …); source files that merely start with id_ still go
    "id_*",
    *(f"!id_*.{ext}" for ext in ("py", "pyi", "js", "ts", "go", "rs", "java", "rb", "md")),
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    ".aws/",
    ".azure/",
    ".kube/config",
    ".docker/config.json",
    ".npmrc",
    ".yarnrc.yml",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".git-credentials",
    ".htpasswd",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.kdbx",
    "*.tfstate",
    "*.tfstate.*",
    "secrets.*",
    "secrets/**",
    "credentials",
    "credentials.*",
    "*service?account*.json",
    "*-sa-key*.json",
)

DEFAULT_PURPOSE = (
    "Help the user keep their code clear, correct and idiomatic. Make small, safe "
    "changes that keep behaviour the same unless asked to fix a bug, and follow the "
    "style already used in the file."
)

_TASK_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class SpecError(ValueError):
    """A spec that cannot be used; the message names the file, the line and the key."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        line: int | None = None,
        source: str | None = None,
    ) -> None:
        self.detail = message
        self.key = key
        self.line = line
        self.source = source
        where = source or "agent spec"
        if line is not None:
            where += f":{line}"
        prefix = f"{where}: {key}: " if key else f"{where}: "
        super().__init__(prefix + message)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskSpec(_Strict):
    """One thing the agent can be asked to do, and where the editor offers it."""

    name: str
    title: str
    instruction: str
    when: list[TaskWhen] = Field(default_factory=lambda: ["selection"])
    keeps_code: bool = False  # only docs and comments may change (checked on the AST)
    # ruff rules (codes or prefixes) whose findings locate what this task changes; empty:
    # the model works on the whole selection
    rules: list[str] = Field(default_factory=list)


_RULE = re.compile(r"^[A-Z]{1,4}[0-9]{0,4}$")


class Tools(_Strict):
    """What the agent may use besides reading the code it is shown."""

    edit: bool = True
    commands: list[str] = Field(
        default_factory=list,
        description="Commands the agent may run; an entry allows itself plus extra arguments.",
    )
    ruff: bool = Field(
        True, description="Find problems with ruff, use its fixes, and check every candidate."
    )
    verify: bool = Field(
        False,
        description="Run `commands` on every candidate (in a scratch copy of the workspace) "
        "before it is shown; a candidate that makes them fail is dropped.",
    )
    timeout_seconds: float = Field(120.0, gt=0, description="Time limit for each command.")

    def allows(self, command: str) -> bool:
        """Whether a command line is on the allowlist (argument-wise prefix, no shell)."""
        try:
            argv = shlex.split(command)
        except ValueError:
            return False
        if not argv:
            return False
        for entry in self.commands:
            allowed = shlex.split(entry)
            if allowed and argv[: len(allowed)] == allowed:
                return True
        return False


class Boundaries(_Strict):
    """Hard rules: no learning, pin or policy can override them."""

    never_touch: list[str] = Field(default_factory=list, description="Globs never edited.")
    max_lines: int = Field(200, ge=1, description="Most changed lines in one edit.")
    never_send: list[str] = Field(default_factory=list, description="Globs never sent out.")
    always_ask: list[str] = Field(default_factory=list, description="Tasks that always ask.")
    redact: list[str] = Field(
        default_factory=list, description="Extra regexes redacted before any teacher call."
    )

    @field_validator("never_touch", "never_send")
    @classmethod
    def _globs(cls, v: list[str]) -> list[str]:
        for pattern in v:
            check_glob(pattern)
        return v

    @field_validator("redact")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {pattern!r} ({exc})") from None
        return v

    def touches_forbidden(self, path: str) -> bool:
        return matches(path, self.never_touch)

    def may_send(self, path: str) -> bool:
        # Matched apart, so a negation in the spec ("!.env") cannot lift a default.
        return not matches(path, ALWAYS_NEVER_SEND) and not matches(path, self.never_send)


class AgentSpec(_Strict):
    name: str = "tether"
    purpose: str = DEFAULT_PURPOSE
    tasks: list[TaskSpec]
    tools: Tools = Field(default_factory=Tools)
    boundaries: Boundaries = Field(default_factory=Boundaries)
    source: str = "default"

    def task(self, name: str) -> TaskSpec | None:
        """The task called `name`, in any case, or titled so ("Tether: Improve", "Improve").

        Editors show titles; a command that passes one, or a name typed in another case,
        means that task. Use the returned task's `name` from then on (classes, routing).
        """
        exact = next((t for t in self.tasks if t.name == name), None)
        if exact is not None:
            return exact
        wanted = _task_key(name)
        if not wanted:
            return None
        for t in self.tasks:
            if wanted in (_task_key(t.name), _task_key(t.title), _task_key(_bare(t.title))):
                return t
        return None


def _task_key(text: str) -> str:
    """Case, spaces, dashes and underscores do not tell tasks apart."""
    return re.sub(r"[\s_\-]+", "", text.casefold())


def _bare(title: str) -> str:
    return title.split(":", 1)[1] if title.casefold().startswith("tether:") else title


def default_tasks() -> list[TaskSpec]:
    return [
        TaskSpec(
            name="improve",
            title="Tether: Improve",
            instruction=(
                "Improve the selected code: make it clearer and more idiomatic (f-strings, "
                "pathlib, `is None`, type hints) without changing what it does."
            ),
            when=["selection"],
            rules=list(DEFAULT_IMPROVE_RULES),
        ),
        TaskSpec(
            name="document",
            title="Tether: Document",
            instruction=(
                "Add or improve docstrings and comments for the selected code so a new reader "
                "understands why it exists and how to use it. Do not change the code itself."
            ),
            when=["selection"],
            keeps_code=True,
            rules=list(DEFAULT_DOCUMENT_RULES),
        ),
        TaskSpec(
            name="fix",
            title="Tether: Fix this diagnostic",
            instruction=(
                "Fix the problem the diagnostics report in the selected code with the smallest "
                "correct change."
            ),
            when=["diagnostic"],
            rules=list(DEFAULT_IMPROVE_RULES),
        ),
    ]


def default_spec() -> AgentSpec:
    return AgentSpec(tasks=default_tasks())


# --------------------------------------------------------------------------- file model
class _TaskBody(_Strict):
    title: str | None = None
    instruction: str = Field(min_length=1)
    when: list[TaskWhen] = Field(default_factory=lambda: ["selection"])
    keeps_code: bool | None = None
    rules: list[str] | None = None

    @field_validator("when", "rules", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("rules")
    @classmethod
    def _rule_codes(cls, v: list[str] | None) -> list[str] | None:
        for code in v or []:
            if not _RULE.match(code):
                raise ValueError(
                    f"{code!r} is not a ruff rule code or prefix (like E711, UP031, UP or D1)"
                )
        return v


class _SpecFile(_Strict):
    """The spec exactly as written, so validation errors point at the user's own keys."""

    name: str = Field("tether", min_length=1)
    purpose: str = ""
    tasks: dict[str, _TaskBody] | None = None
    tools: Tools = Field(default_factory=Tools)
    boundaries: Boundaries = Field(default_factory=Boundaries)

    @field_validator("tasks")
    @classmethod
    def _task_names(cls, v: dict[str, _TaskBody] | None) -> dict[str, _TaskBody] | None:
        if v is not None:
            if not v:
                raise ValueError("define at least one task, or leave `tasks` out for defaults")
            for name in v:
                if not _TASK_NAME.match(name):
                    raise ValueError(
                        f"task name {name!r} must be lower-case letters, digits, - or _"
                    )
        return v


def _build(raw: _SpecFile, body: str, source: str) -> AgentSpec:
    purpose = "\n\n".join(p for p in (raw.purpose.strip(), body.strip()) if p)
    if raw.tasks is None:
        tasks = default_tasks()
    else:
        defaults = {t.name: t for t in default_tasks()}
        tasks = []
        for name, t in raw.tasks.items():
            title = t.title or (defaults[name].title if name in defaults else None)
            tasks.append(
                TaskSpec(
                    name=name,
                    title=title or f"Tether: {name.replace('_', ' ').capitalize()}",
                    instruction=t.instruction.strip(),
                    when=t.when,
                    keeps_code=(
                        t.keeps_code
                        if t.keeps_code is not None
                        else (defaults[name].keeps_code if name in defaults else False)
                    ),
                    rules=(
                        t.rules
                        if t.rules is not None
                        else (defaults[name].rules if name in defaults else [])
                    ),
                )
            )
    return AgentSpec(
        name=raw.name,
        purpose=purpose or DEFAULT_PURPOSE,
        tasks=tasks,
        tools=raw.tools,
        boundaries=raw.boundaries,
        source=source,
    )


def _loc_key(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _validate(
    data: Any, body: str, source: str, line_of: Any, key_prefix: tuple[str, ...] = ()
) -> AgentSpec:
    """Validate raw data; `line_of(path_tuple)` gives the best line for a key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError("the spec must be a mapping of keys to values", source=source, line=1)
    try:
        raw = _SpecFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        if msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        raise SpecError(
            msg, key=_loc_key((*key_prefix, *loc)), line=line_of(loc), source=source
        ) from None
    task_names = set(raw.tasks) if raw.tasks is not None else {t.name for t in default_tasks()}
    for i, name in enumerate(raw.boundaries.always_ask):
        if name not in task_names:
            loc = ("boundaries", "always_ask", i)
            raise SpecError(
                f"no task named {name!r} (tasks: {', '.join(sorted(task_names))})",
                key=_loc_key((*key_prefix, *loc)),
                line=line_of(loc),
                source=source,
            )
    return _build(raw, body, source)


# --------------------------------------------------------------------------- agent.md
def _yaml_lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out.setdefault(path, node.start_mark.line)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line
            _yaml_lines(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, (*path, i), out)


def _nearest(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...], default: int) -> int:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return default


def parse_agent_md(text: str, source: str = str(SPEC_FILE)) -> AgentSpec:
    """Parse the text of an agent.md; raises SpecError naming the key and line."""
    import frontmatter

    handler = frontmatter.YAMLHandler()
    if not handler.detect(text):
        return _validate({}, text, source, lambda loc: None)
    try:
        fm, body = handler.split(text)
    except ValueError:
        raise SpecError(
            "the front matter is not closed: end it with a line of three dashes (---)",
            source=source,
            line=1,
        ) from None
    offset = text[: text.index(fm)].count("\n")  # lines before the front matter's first line
    try:
        node = yaml.compose(fm, Loader=yaml.SafeLoader)
        data = yaml.safe_load(fm)
    except yaml.MarkedYAMLError as exc:
        # an unclosed bracket or quote is reported at the end; where it opened is more useful
        mark = exc.context_mark or exc.problem_mark
        line = offset + mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc)
        if exc.context:
            what += f" ({exc.context})"
        raise SpecError(f"not valid YAML: {what}", source=source, line=line) from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)
    return _validate(data, body, source, lambda loc: offset + _nearest(lines, loc, 0) + 1)


# --------------------------------------------------------------------------- tether.toml
_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _toml_key_parts(s: str) -> tuple[str, ...]:
    return tuple(p.strip().strip("\"'") for p in s.split("."))


def _toml_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Best-effort key path -> line map (tomllib keeps no positions)."""
    out: dict[tuple[Any, ...], int] = {}
    table: tuple[str, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    for i, line in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER.match(line)
        if header:
            table = _toml_key_parts(header.group(1))
            if line.strip().startswith("[["):
                n = array_counts.get(table, 0)
                array_counts[table] = n + 1
                out.setdefault(table, i)
                table = (*table, n)  # type: ignore[assignment]
            out.setdefault(table, i)
            continue
        key = _TOML_KEY.match(line)
        if key:
            out.setdefault((*table, *_toml_key_parts(key.group(1))), i)
    return out


def parse_toml_agent(text: str, source: str = TOML_FILE) -> AgentSpec | None:
    """The spec from `[agent]` of a tether.toml text, or None when it has no such table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise SpecError(
            f"not valid TOML: {exc}", source=source, line=int(m.group(1)) if m else None
        ) from None
    if "agent" not in data:
        return None
    lines = _toml_lines(text)
    agent = data["agent"]
    return _validate(
        agent, "", source, lambda loc: _nearest(lines, ("agent", *loc), 0) or None, ("agent",)
    )


def load_spec(workspace: Path) -> AgentSpec:
    """The workspace's spec: `.tether/agent.md`, else `[agent]` in tether.toml, else default.

    Both at once is an error rather than a silent choice: the user would edit one and
    wonder why nothing changes.
    """
    md = workspace / SPEC_FILE
    toml_path = workspace / TOML_FILE
    toml_spec: AgentSpec | None = None
    if toml_path.is_file():
        toml_spec = parse_toml_agent(toml_path.read_text(encoding="utf-8"), str(toml_path))
    if md.is_file():
        if toml_spec is not None:
            raise SpecError(
                f"the agent is defined twice: in {md} and in [agent] of {toml_path}; keep one",
                source=str(md),
            )
        return parse_agent_md(md.read_text(encoding="utf-8"), str(md))
    return toml_spec or default_spec()

"""Every candidate is checked before anyone sees it; the checks are tools, not opinions.

A candidate is a replacement for the requested lines, from ruff's fix or a model's answer.
It survives only when it parses, stays in the requested range (the caller builds it so),
keeps every definition's name and parameters, keeps what a documentation task must keep,
keeps the values and the words the original used (a small model's favourite mistake is a
tidy line that drops one of them), fixes the finding it was made for, adds no new ruff
finding and, where the spec allows commands, passes them. The first check that fails is
the candidate's reason, worded so the message catalogue can explain it to a person.

Checks that could not run (ruff missing, a test command that hangs) are named in
`Verdict.skipped`, so a proposal says which checks it passed and which did not run.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import functools
import re
from dataclasses import dataclass, field

from tether.agent.parsing import changes_code
from tether.agent.spots import Edit
from tether.agent.tools.commands import CommandCheck
from tether.agent.tools.ruff import Finding, Ruff, ToolUnavailable, counts

#: Names of the checks, in the order they run; proposals list the ones that passed.
PARSES = "parses"
DEFINITIONS = "keeps names and parameters"
DOCS_ONLY = "changes only docs and comments"
INPUTS = "keeps the values and text it used"
FIXES = "fixes the finding"
LINT = "adds no ruff finding"
COMMANDS = "passes the spec's commands"


@dataclass
class Candidate:
    """One replacement for the requested range, with where it came from."""

    text: str  # replacement for the proposal's range
    completion: str  # the answer it came from (raw model output, or rendered for a tool)
    rationale: str
    source: str  # "ruff:E711", "student", "teacher"
    kind: str  # rule code, or the agent's kind ("docstring", "rewrite", …)
    prompt: str = ""  # the prompt a model answered (verifier pairs learn from it)
    target: str | None = None  # the rule this candidate was made to fix
    fixes: tuple[str, ...] = ()  # the findings it addresses (for ranking and the rationale)
    role: str = "tool"  # tool | student | teacher
    model: str = ""
    adapter_version: str | None = None
    sample: int = 0
    score: float | None = None
    edits: tuple[Edit, ...] = ()  # what it changes, as edits of the range's text

    @property
    def from_model(self) -> bool:
        return self.role != "tool"


@dataclass
class Verdict:
    ok: bool
    reason: str = ""  # the first failed check, "<check>: <detail>" (empty when ok)
    passed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "<check>: why it did not run"
    summary: str = ""  # e.g. the test command's last line


@dataclass
class Subject:
    """The document a candidate would change, and what the request allows."""

    path: str
    language: str
    document: str
    start: int  # offsets of the requested range (full lines)
    end: int
    keeps_code: bool = False
    free_form: bool = False  # the user's own words: renames and new names may be wanted
    rules: tuple[str, ...] = ()

    @property
    def original(self) -> str:
        return self.document[self.start : self.end]

    def with_text(self, text: str) -> str:
        return self.document[: self.start] + text + self.document[self.end :]

    @property
    def first_line(self) -> int:
        return self.document.count("\n", 0, self.start)

    @functools.cached_property
    def tree(self) -> ast.Module | None:
        """The document's syntax tree (None: not Python, or it does not parse); parsed once
        for the whole request: spots are found in it and candidates compared with it."""
        return _parse(self.document) if self.language == "python" else None


# --------------------------------------------------------------------------- AST facts
def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


@dataclass(frozen=True)
class Shape:
    """How a function can be called: what existing callers depend on."""

    positional: tuple[str, ...]
    posonly: int
    defaults: int  # how many of the last positional parameters have a default
    vararg: str | None
    kwonly: tuple[tuple[str, bool], ...]  # (name, has a default)
    kwarg: str | None

    @classmethod
    def of(cls, args: ast.arguments) -> Shape:
        kwonly = zip(args.kwonlyargs, args.kw_defaults, strict=True)
        return cls(
            tuple(a.arg for a in (*args.posonlyargs, *args.args)),
            len(args.posonlyargs),
            len(args.defaults),
            args.vararg.arg if args.vararg else None,
            tuple((a.arg, d is not None) for a, d in kwonly),
            args.kwarg.arg if args.kwarg else None,
        )

    def accepts_calls_of(self, old: Shape) -> bool:
        """Every call that worked with `old` still works, meaning the same: parameters are
        only added, at the end, each with a default (a keyword-only one anywhere)."""
        n = len(old.positional)
        added = len(self.positional) - n
        if added < 0 or self.positional[:n] != old.positional or self.posonly != old.posonly:
            return False
        if self.defaults < old.defaults + added:
            return False
        if (self.vararg, self.kwarg) != (old.vararg, old.kwarg):
            return False
        new_kw = dict(self.kwonly)
        if any(name not in new_kw or (had and not new_kw[name]) for name, had in old.kwonly):
            return False
        old_kw = {name for name, _ in old.kwonly}
        return all(has for name, has in self.kwonly if name not in old_kw)


def definitions(tree: ast.Module) -> dict[str, list[Shape | str]]:
    """Qualified name -> call shapes (one per definition of the name) of every def and class."""
    found: dict[str, list[Shape | str]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.setdefault(prefix + child.name, []).append(Shape.of(child.args))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                found.setdefault(prefix + child.name, []).append("class")
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def signature_change(before: ast.Module, after: ast.Module) -> str | None:
    """What breaks existing callers (a definition renamed, removed, added or re-shaped), or
    None. Parameters added at the end with a default keep every caller working: that is a
    public-signature change the user is asked about (a risk flag), not a broken one."""
    old, new = definitions(before), definitions(after)
    if old.keys() != new.keys():
        gone = sorted(old.keys() - new.keys())
        return f"it removes or renames `{gone[0]}`" if gone else "it adds a definition"
    for name, shapes in old.items():
        again = new[name]
        if len(again) != len(shapes):
            return f"it changes how often `{name}` is defined"
        for a, b in zip(shapes, again, strict=True):
            if isinstance(a, str) or isinstance(b, str):
                if a != b:
                    return f"it turns `{name}` into another kind of definition"
            elif not b.accepts_calls_of(a):
                return f"it changes the parameters of `{name}` so existing calls break"
    return None


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
_FIELD = re.compile(r"\{[^{}]*\}")
_WORD = re.compile(r"[A-Za-z]{2,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(_FIELD.sub(" ", _SPEC.sub(" ", text))))


def _docstring_ids(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            ids.add(id(body[0].value))
    return ids


@dataclass
class _Uses:
    reads: set[str] = field(default_factory=set)
    stores: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)


def uses(tree: ast.Module, first: int, last: int) -> _Uses:
    """Names read and stored, and words in string literals, on 1-based lines first..last."""
    out = _Uses()
    docs = _docstring_ids(tree)
    # a method's name is how it is called, not a value it uses: `result.append` becoming
    # `result.extend` keeps using `result`
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    # a comprehension's variable lives in the comprehension: binding it changes nothing outside
    local = {
        id(t)
        for c in ast.walk(tree)
        if isinstance(c, ast.comprehension)
        for t in ast.walk(c.target)
    }
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or not first <= line <= last:
            continue
        if isinstance(node, ast.Name | ast.Attribute):
            if id(node) in called and isinstance(node, ast.Attribute):
                continue
            name = _dotted(node)
            if name is None:
                continue
            if isinstance(node.ctx, ast.Load):
                out.reads.add(name)
            elif id(node) not in local:
                out.stores.add(name)
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        ):
            out.words |= _words(node.value)
    return out


_BUILTINS = frozenset(dir(builtins))


def _line_count(text: str) -> int:
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


def _lost_inputs(before: _Uses, after: _Uses) -> str | None:
    """What the new code no longer uses that the old code did, or None."""
    dropped = sorted(
        r
        # a name the code itself assigns (a loop's total) is its working, not an input
        for r in before.reads - before.stores - after.reads - after.stores
        # a builtin (`len`, `str`) is how a value is computed, not a value: `not items`
        # may replace `len(items) == 0`
        if r.split(".")[0] not in _BUILTINS
        # a read of x.y.z is kept when x.y.z is still read, or a longer chain through it
        if not any(a.startswith(r + ".") for a in after.reads)
    )
    if dropped:
        return f"it no longer uses {', '.join(f'`{d}`' for d in dropped[:3])}"
    words = sorted(before.words - after.words)
    if words:
        return f"it drops the text {', '.join(repr(w) for w in words[:3])}"
    assigned = sorted(after.stores - before.stores)
    if assigned:
        return f"it assigns {', '.join(f'`{a}`' for a in assigned[:3])}, which the code did not"
    return None


# --------------------------------------------------------------------------- verifier
class Verifier:
    """Checks candidates against one subject; ruff and commands are optional tools."""

    def __init__(
        self,
        subject: Subject,
        ruff: Ruff | None = None,
        commands: CommandCheck | None = None,
        *,
        baseline: list[Finding] | None = None,
        ruff_problem: str | None = None,
    ) -> None:
        self.subject = subject
        self.ruff = ruff
        self.commands = commands
        self._baseline = counts(baseline) if baseline is not None else None
        self._ruff_problem = ruff_problem
        self._tree = subject.tree
        self._lock = asyncio.Semaphore(4)

    def _static(self, cand: Candidate) -> tuple[str | None, list[str], ast.Module | None]:
        """Checks that need no tool: (failure, passed checks, the new document's tree)."""
        s = self.subject
        passed: list[str] = []
        if s.language != "python":
            return None, passed, None
        new_tree = _parse(s.with_text(cand.text))
        if self._tree is not None and new_tree is None:
            return "broken edit: the file would no longer parse as Python", passed, None
        passed.append(PARSES)
        if self._tree is None or new_tree is None:
            return None, passed, new_tree
        broken = None if s.free_form else signature_change(self._tree, new_tree)
        if broken:
            return f"changes a signature: {broken}", passed, None
        passed.append(DEFINITIONS)
        if s.keeps_code:
            # on the whole file: a def header alone (a docstring spot) does not parse
            if changes_code(s.document, s.with_text(cand.text)):
                return (
                    "changes code: this task may only add documentation and comments",
                    passed,
                    None,
                )
            passed.append(DOCS_ONLY)
        elif cand.from_model and not s.free_form:
            first = s.first_line + 1
            old = uses(self._tree, first, first + _line_count(s.original) - 1)
            new = uses(new_tree, first, first + _line_count(cand.text) - 1)
            lost = _lost_inputs(old, new)
            if lost:
                return f"drops behaviour: {lost}", passed, None
            passed.append(INPUTS)
        return None, passed, new_tree

    async def _lint(self, cand: Candidate) -> tuple[str | None, list[str], list[str]]:
        """(failure, passed, skipped) of the ruff checks."""
        s = self.subject
        if self.ruff is None or self._baseline is None or s.language != "python":
            why = self._ruff_problem or "ruff is off for this request"
            return None, [], [f"{LINT}: {why}"]
        try:
            async with self._lock:
                after = counts(await self.ruff.check(s.with_text(cand.text), s.path, s.rules))
        except ToolUnavailable as exc:
            return None, [], [f"{LINT}: {exc}"]
        passed: list[str] = []
        if cand.target is not None:
            if after[cand.target] >= self._baseline[cand.target]:
                return f"does not fix: ruff still reports {cand.target} there", passed, []
            passed.append(FIXES)
        added = sorted(r for r in after if after[r] > self._baseline[r])
        if added:
            return f"adds lint: ruff now reports {', '.join(added[:3])}", passed, []
        passed.append(LINT)
        return None, passed, []

    async def verify(self, cand: Candidate, *, run_commands: bool = True) -> Verdict:
        failure, passed, _ = self._static(cand)
        if failure:
            return Verdict(False, failure, passed)
        failure, linted, skipped = await self._lint(cand)
        passed += linted
        if failure:
            return Verdict(False, failure, passed, skipped)
        summary = ""
        if self.commands is not None and run_commands:
            result = await self.commands.check(self.subject.path, self.subject.with_text(cand.text))
            if result.skipped:
                skipped.append(f"{COMMANDS}: {result.skipped}")
            elif not result.ok:
                return Verdict(False, f"tests fail: {result.summary}", passed, skipped)
            else:
                passed.append(COMMANDS)
                summary = result.summary
        return Verdict(True, "", passed, skipped, summary)

    async def verify_all(
        self, cands: list[Candidate], *, run_commands: bool = False
    ) -> list[Verdict]:
        return list(
            await asyncio.gather(*(self.verify(c, run_commands=run_commands) for c in cands))
        )

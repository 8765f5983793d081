"""The agent: from a request ("improve these lines") to verified, classified proposals.

It works like a careful engineer with tools. **Find**: ruff locates what is worth changing
in the selection under the task's rules, and where ruff knows the fix, that fix is a
candidate as it is. **Propose**: the model (student, or teacher) is asked to fix each
remaining spot, one statement or header at a time, several samples at once; with nothing
located (or the user's own words) it answers for the whole selection. **Verify**: every
candidate is checked by `tether.agent.verifier` before anyone sees it. **Rank**: the
survivors are ordered by the active adapter's implicit reward (or, without one, by what
they fix); the best leads the proposal and the others are its alternatives.

Everything that could hurt the user is decided here, before any proposal exists: the path
must be inside the workspace and not under `never_touch`; a file under `never_send` never
reaches a teacher; secrets are redacted before a teacher call and restored in its answer.
Proposals come back unsaved: the caller records them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tether.agent.assembly import assign_kinds, build_proposal
from tether.agent.candidates import (
    Rejected,
    docstring_candidates,
    range_candidates,
    spot_candidates,
    tool_candidates,
    tried,
    verifier_pairs,
)
from tether.agent.classes import request_key
from tether.agent.docstrings import docstring_messages
from tether.agent.prompting import CodeView, DiagnosticInfo, Message, build_messages
from tether.agent.providers import (
    AdapterSource,
    Generation,
    GenerationCancelled,
    Provider,
    ProviderError,
    make_provider,
)
from tether.agent.redact import Redactor, redact_messages
from tether.agent.routing import Acceptance, AcceptanceTracker, Route, choose_route
from tether.agent.shortlist import Shortlist
from tether.agent.spec import AgentSpec, TaskSpec
from tether.agent.spot_prompting import range_budget, spot_budget, spot_context, spot_messages
from tether.agent.spots import RangeText, apply_edits, disjoint, edits_between, spots
from tether.agent.tools.commands import CommandCheck
from tether.agent.tools.ruff import SAFETY_RULES, Finding, Ruff, ToolUnavailable
from tether.agent.verifier import Candidate, Subject, Verifier
from tether.config import Settings
from tether.core.memory import MemoryContext, MemorySource
from tether.core.response_format import render_completion
from tether.core.text import RangeError, check_range, full_lines, split_lines
from tether.core.types import Proposal, Range

log = logging.getLogger("tether.agent")

#: New tokens for a docstring's sentence (MAX_CHARS of text, with room for a preamble).
DOCSTRING_TOKENS = 48

AcceptanceSource = Callable[[str, str], Awaitable[Acceptance]]


class AgentRequest(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    uri: str
    path: str  # workspace-relative, POSIX separators
    language: str = "python"
    text: str  # the whole document as the editor has it
    version: int | None = None
    range: Range
    task: str
    # the user's own words ("make this iterative"), for "Ask…" and "Refine…"; may be empty
    instruction: str = ""
    diagnostics: list[DiagnosticInfo] = Field(default_factory=list)


class ProposeResult(BaseModel):
    proposals: list[Proposal] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)  # why nothing (or less) was proposed
    tried: str = ""  # what the agent tried, in words ("2 ruff fixes and 4 model answers")
    route: Route | None = None
    # what the models were given and said, kept for benchmarks and failure analysis
    prompts: dict[str, str] = Field(default_factory=dict)  # role -> prompt as rendered
    raw: dict[str, list[str]] = Field(default_factory=dict)  # role -> raw completions
    verifier_pairs: int = 0  # verified vs refused model answers to the same prompt


def _outside(workspace: Path, path: str) -> bool:
    if not path or PurePosixPath(path).is_absolute() or Path(path).is_absolute():
        return True
    root = workspace.resolve()
    try:
        (root / path).resolve().relative_to(root)
    except ValueError:
        return True
    return False


def _selected(rules: list[str], finding: Finding) -> bool:
    return any(finding.rule.startswith(r) for r in rules)


class _Work:
    """One request's state while it is being worked on."""

    def __init__(self, req: AgentRequest, task: TaskSpec, rt: RangeText, rng: Range) -> None:
        self.req = req
        self.task = task
        self.rt = rt
        self.rng = rng
        self.free_form = bool(req.instruction.strip())
        self.candidates: list[Candidate] = []
        self.rejected: list[Rejected] = []
        self.n_tool = 0
        self.n_model = 0
        self.n_spots = 0


class Agent:
    """One agent per workspace; providers are created on first use and kept."""

    def __init__(
        self,
        settings: Settings,
        spec: AgentSpec,
        memory: MemorySource | None = None,
        workspace: Path | None = None,
        adapters: AdapterSource | None = None,
        *,
        student: Provider | None = None,
        teacher: Provider | None = None,
        acceptance: AcceptanceSource | None = None,
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.memory = memory
        self.workspace = (workspace or Path.cwd()).expanduser()
        self.adapters = adapters
        self._student = student
        self._teacher = teacher
        if acceptance is None and memory is not None:
            tracker = AcceptanceTracker(memory.store, settings.classes)
            acceptance = tracker.acceptance
        self._acceptance = acceptance
        self.ruff = Ruff(self.workspace, settings.ruff, settings.ruff_timeout)

    # ------------------------------------------------------------------ providers
    @property
    def student(self) -> Provider:
        if self._student is None:
            self._student = make_provider(
                self.settings.model,
                self.settings,
                adapters=self.adapters,
                workspace=self.workspace,
            )
        return self._student

    @property
    def teacher(self) -> Provider | None:
        if self._teacher is None and self.settings.teacher:
            self._teacher = make_provider(
                self.settings.teacher, self.settings, workspace=self.workspace
            )
        return self._teacher

    @property
    def has_teacher(self) -> bool:
        return self._teacher is not None or bool(self.settings.teacher)

    async def close(self) -> None:
        for p in (self._student, self._teacher):
            if p is not None:
                await p.aclose()

    # ------------------------------------------------------------------ checks
    def _refusal(self, req: AgentRequest) -> str | None:
        if _outside(self.workspace, req.path):
            return f"refused: {req.path!r} is outside the workspace"
        if self.spec.boundaries.touches_forbidden(req.path):
            return f"refused: {req.path} is under never_touch in the agent spec"
        if self.spec.task(req.task) is None:
            names = ", ".join(t.name for t in self.spec.tasks)
            return f"unknown task {req.task!r} (the spec defines: {names})"
        if len(req.text.encode("utf-8")) > self.settings.max_file_bytes:
            return (
                f"refused: the file is larger than max_file_bytes ({self.settings.max_file_bytes})"
            )
        return None

    # ------------------------------------------------------------------ generation
    async def _ask(
        self,
        role: str,
        messages: list[Message],
        n: int,
        cancel: asyncio.Event | None,
        hints: dict[str, Any],
        redactor: Redactor | None,
        max_new_tokens: int | None = None,
    ) -> Generation:
        provider = self.teacher if role == "teacher" else self.student
        assert provider is not None
        sent = messages
        if role == "teacher":
            assert redactor is not None
            sent = redact_messages(messages, redactor)
        gen = await provider.generate(
            sent,
            n=n,
            max_new_tokens=min(
                max_new_tokens or self.settings.max_new_tokens, self.settings.max_new_tokens
            ),
            temperature=self.settings.temperature,
            cancel=cancel,
            hints=hints,
        )
        if role == "teacher" and redactor is not None:
            gen.completions = [redactor.restore(c) for c in gen.completions]
        return gen

    async def _find(self, req: AgentRequest, rules: list[str]) -> tuple[list[Finding] | None, str]:
        """ruff's findings on the document (the task's rules and the safety rules), or why not."""
        if not self.spec.tools.ruff:
            return None, "ruff is turned off in the agent spec (tools.ruff)"
        if req.language != "python":
            return None, f"ruff checks Python only, not {req.language}"
        try:
            return await self.ruff.check(req.text, req.path, [*rules, *SAFETY_RULES]), ""
        except ToolUnavailable as exc:
            log.warning("ruff: %s", exc)
            return None, str(exc)

    async def propose(
        self, req: AgentRequest, cancel: asyncio.Event | None = None
    ) -> ProposeResult:
        """Proposals for the request (unsaved), or the reasons there are none.

        Raises ProviderError when the model that must answer cannot (its message says
        what to do); a failing teacher falls back to the student instead.
        """
        refusal = self._refusal(req)
        if refusal:
            return ProposeResult(failures=[refusal])
        task = self.spec.task(req.task)
        assert task is not None
        try:
            check_range(req.text, req.range)
            rng = full_lines(req.text, req.range)
            start, end = check_range(req.text, rng)
        except RangeError as exc:
            return ProposeResult(failures=[f"the range is not in the document: {exc}"])
        work = _Work(req, task, RangeText(req.text, start, end), rng)
        lines = split_lines(req.text)
        ctx_n = self.settings.context_lines
        first, last = rng.start.line, rng.end.line
        view = CodeView(
            path=req.path,
            language=req.language,
            original=work.rt.text,
            before="\n".join(lines[max(0, first - ctx_n) : first]),
            after="\n".join(lines[last + 1 : last + 1 + ctx_n]),
            first_line=first,
        )
        key = request_key(req.path, req.task, req.language, self.settings.classes)
        may_send = self.spec.boundaries.may_send(req.path)
        acceptance = None
        if self.has_teacher and may_send and self._acceptance is not None:
            acceptance = await self._acceptance(key, "student")
        route = choose_route(
            has_teacher=self.has_teacher,
            may_send=may_send,
            acceptance=acceptance,
            threshold=self.settings.student_threshold,
            shadow=self.settings.shadow,
        )
        memory = await self._memory_context(key, work.rt.text, req)
        result = ProposeResult(route=route)
        if cancel is not None and cancel.is_set():
            return ProposeResult(failures=["cancelled"], route=route)

        rules = [] if work.free_form else list(task.rules)
        findings, ruff_problem = await self._find(req, rules)
        located = [f for f in findings or [] if _selected(rules, f) and work.rt.inside(f)]
        # what ruff found is part of the request: the model (and training) sees it
        diagnostics = [*req.diagnostics, *(_diagnostic(f) for f in located)]
        messages = build_messages(self.spec, task, view, memory, diagnostics, req.instruction)
        tools = tool_candidates(work.rt, located, req.language)
        if findings is not None:
            tools = [await self._settle(work, c, rules) for c in tools]
        work.n_tool = len(tools)
        work.candidates += tools
        subject = Subject(
            path=req.path,
            language=req.language,
            document=req.text,
            start=start,
            end=end,
            keeps_code=task.keeps_code,
            free_form=work.free_form,
            rules=(*rules, *SAFETY_RULES),
        )
        todo = spots(subject.tree, work.rt, located, self.settings.spots)
        redactor = Redactor(self.spec.boundaries.redact)
        hints = {"task": req.task, "path": req.path}
        try:
            if todo:
                await self._ask_spots(work, todo, route, memory, cancel, hints, redactor, result)
            elif not tools:
                await self._ask_range(work, view, messages, route, cancel, hints, redactor, result)
        except GenerationCancelled:
            return ProposeResult(failures=["cancelled"], route=route)

        commands = None
        if self.spec.tools.verify and self.spec.tools.commands:
            commands = CommandCheck(
                self.workspace, self.spec.tools.commands, self.spec.tools.timeout_seconds
            )
        verifier = Verifier(
            subject,
            self.ruff if findings is not None else None,
            commands,
            baseline=findings,
            ruff_problem=ruff_problem,
        )
        try:
            shortlist = Shortlist(
                work.rt,
                req.language,
                max_lines=self.spec.boundaries.max_lines,
                alternatives=self.settings.alternatives,
                rewards=self.student.rewards if self.settings.rerank else None,
            )
            ranked, verdicts = await shortlist.select(work.candidates, verifier, messages)
            work.rejected += shortlist.rejected
        finally:
            if commands is not None:
                await asyncio.to_thread(commands.close)
        result.failures += [r.failure for r in work.rejected]
        result.tried = tried(work.n_tool, work.n_model, work.n_spots)
        if not ranked:
            return result
        pairs = verifier_pairs([c for c in ranked if c.from_model], work.rejected)
        result.verifier_pairs = len(pairs)
        meta: dict[str, Any] = {
            "route": route.model_dump(),
            "always_ask": task.name in self.spec.boundaries.always_ask,
            "tried": result.tried,
            "findings": [f.describe() for f in located],
        }
        if pairs:
            meta["verifier_pairs"] = pairs
        if redactor.count:
            meta["redactions"] = redactor.count
        assign_kinds(ranked, work.rt.text, work.free_form)
        # the whole-selection prompt as the student renders it: what training learns from
        prompt = result.prompts.get("student") or self.student.render_prompt(messages)
        result.proposals.append(
            build_proposal(
                uri=req.uri,
                path=req.path,
                language=req.language,
                version=req.version,
                rng=rng,
                task=task.name,
                original=work.rt.text,
                ranked=ranked,
                verdicts=verdicts,
                prompt=prompt,
                classes=self.settings.classes,
                meta=meta,
            )
        )
        return result

    async def _settle(self, work: _Work, cand: Candidate, rules: list[str]) -> Candidate:
        """Apply the fixes ruff offers on ruff's own fix, as `ruff --fix` would.

        Some fixes lead to another (a %-format becomes `.format()`, which UP032 turns into
        an f-string); a candidate that stopped half way would add a finding of its own.
        """
        text = cand.text
        for _ in range(3):
            doc = work.rt.document[: work.rt.start] + text + work.rt.document[work.rt.end :]
            try:
                found = await self.ruff.check(doc, work.req.path, rules)
            except ToolUnavailable:
                break
            rt = RangeText(doc, work.rt.start, work.rt.start + len(text))
            more = [f for f in found if _selected(rules, f) and f.fixable and rt.inside(f)]
            follow = tool_candidates(rt, more, work.req.language)
            if not follow:
                break
            text = apply_edits(text, disjoint(e for c in follow for e in c.edits))
            cand.fixes += tuple(r for c in follow for r in c.fixes if r not in cand.fixes)
        if text != cand.text:
            cand.text = text
            cand.edits = edits_between(work.rt.text, text)
            cand.completion = render_completion(text, work.req.language, cand.rationale)
        return cand

    async def _ask_spots(
        self,
        work: _Work,
        todo: list[Any],
        route: Route,
        memory: MemoryContext,
        cancel: asyncio.Event | None,
        hints: dict[str, Any],
        redactor: Redactor,
        result: ProposeResult,
    ) -> None:
        """The model on each spot ruff could not fix, several samples each."""
        work.n_spots = len(todo)
        for spot in todo:
            docstring = spot.kind == "docstring"
            if docstring:  # the model writes the sentence; the docstring is built here
                msgs = docstring_messages(self.spec, work.req.path, work.rt, spot)
                budget = DOCSTRING_TOKENS
            else:
                msgs = spot_messages(self.spec, work.req.path, work.rt, spot, memory)
                budget = spot_budget(work.rt.text[spot.start : spot.end])
            try:
                gen = await self._ask(
                    route.role, msgs, self.settings.candidates, cancel, hints, redactor, budget
                )
            except ProviderError as exc:
                if work.candidates:  # ruff's fixes still stand on their own
                    work.rejected.append(Rejected(f"{route.role} failed", str(exc)))
                    return
                raise
            result.prompts.setdefault(f"{route.role}:spot", gen.prompt)
            result.raw.setdefault(route.role, []).extend(gen.completions)
            work.n_model += len(gen.completions)
            if docstring:
                good, bad = docstring_candidates(work.rt, spot, gen, route.role)
            else:
                good, bad = spot_candidates(
                    work.rt,
                    spot,
                    gen,
                    route.role,
                    work.req.language,
                    work.task.keeps_code,
                    spot_context(work.rt, spot),
                )
            work.candidates += good
            work.rejected += bad

    async def _ask_range(
        self,
        work: _Work,
        view: CodeView,
        messages: list[Message],
        route: Route,
        cancel: asyncio.Event | None,
        hints: dict[str, Any],
        redactor: Redactor,
        result: ProposeResult,
    ) -> None:
        """The model on the whole selection (nothing located, or the user's own words)."""
        roles = [route.role]
        if route.shadow:
            roles.append("teacher" if route.role == "student" else "student")
        n_first = self.settings.candidates
        budget = range_budget(work.rt.text)
        outcomes = await asyncio.gather(
            *(
                self._ask(role, messages, n_first if i == 0 else 1, cancel, hints, redactor, budget)
                for i, role in enumerate(roles)
            ),
            return_exceptions=True,
        )
        gens: list[tuple[str, Generation]] = []
        errors: dict[str, ProviderError] = {}
        for role, out in zip(roles, outcomes, strict=True):
            if isinstance(out, GenerationCancelled):
                raise out
            if isinstance(out, ProviderError):
                log.warning("%s could not answer: %s", role, out)
                result.failures.append(f"{role} failed: {out}")
                errors[role] = out
                continue
            if isinstance(out, BaseException):
                raise out
            gens.append((role, out))
        if not gens and "student" not in roles:
            # the teacher could not answer: the student still can (its errors propagate)
            gens.append(
                ("student", await self._ask("student", messages, n_first, cancel, hints, None))
            )
        if not gens:
            raise errors.get("student") or next(iter(errors.values()))
        for role, gen in gens:
            result.prompts[role] = gen.prompt
            result.raw[role] = list(gen.completions)
            work.n_model += len(gen.completions)
            good, bad = range_candidates(
                work.rt,
                gen,
                role,
                work.req.language,
                work.task.keeps_code,
                (view.before, view.after),
            )
            work.candidates += good
            work.rejected += bad

    async def _memory_context(self, key: str, original: str, req: AgentRequest) -> MemoryContext:
        if self.memory is None:
            return MemoryContext()
        try:
            return await self.memory.context(key, f"{req.task} {req.path}\n{original}", k=3)
        except Exception:  # memory helps; it must never stop a proposal
            log.exception("memory lookup failed; proposing without memory")
            return MemoryContext()


def _diagnostic(f: Finding) -> DiagnosticInfo:
    return DiagnosticInfo(
        message=f.message,
        range=Range.of(f.line, max(0, f.location.column - 1), f.end_line, 0),
        source="ruff",
        code=f.rule,
    )

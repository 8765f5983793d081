"""The agent: from a request ("improve these lines") to checked, classified proposals.

Everything that could hurt the user is decided here, before any proposal exists: the path
must be inside the workspace and not under `never_touch`; a file under `never_send`
never reaches a teacher; secrets are redacted before a teacher call and restored in its
answer; an answer that does not parse, changes nothing or exceeds `max_lines` becomes a
failure reason instead of an edit. Proposals come back unsaved: the caller records them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from tether.agent.classes import changed_lines, classify, request_key
from tether.agent.parsing import ParseFailure, parse_completion
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
from tether.agent.spec import AgentSpec
from tether.config import Settings
from tether.core.diff import make_hunks
from tether.core.text import RangeError, check_range, full_lines, split_lines
from tether.core.types import Candidate, Proposal, Range
from tether.memory.models import MemoryContext

if TYPE_CHECKING:
    from tether.memory import Memory

log = logging.getLogger("tether.agent")

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
    route: Route | None = None
    # what the models were given and said, kept for benchmarks and failure analysis
    prompts: dict[str, str] = Field(default_factory=dict)  # role -> prompt as rendered
    raw: dict[str, list[str]] = Field(default_factory=dict)  # role -> raw completions


@dataclass
class _Answer:
    role: str
    model: str
    adapter_version: str | None
    completion: str
    text: str
    rationale: str
    sample: int = 0  # its place in the model's own output order
    score: float | None = None  # the active adapter's implicit reward, when reranked


def _outside(workspace: Path, path: str) -> bool:
    if not path or PurePosixPath(path).is_absolute() or Path(path).is_absolute():
        return True
    root = workspace.resolve()
    try:
        (root / path).resolve().relative_to(root)
    except ValueError:
        return True
    return False


class Agent:
    """One agent per workspace; providers are created on first use and kept."""

    def __init__(
        self,
        settings: Settings,
        spec: AgentSpec,
        memory: Memory | None = None,
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
            max_new_tokens=self.settings.max_new_tokens,
            temperature=self.settings.temperature,
            cancel=cancel,
            hints=hints,
        )
        if role == "teacher" and redactor is not None:
            gen.completions = [redactor.restore(c) for c in gen.completions]
        return gen

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
        original = req.text[start:end]
        lines = split_lines(req.text)
        ctx_n = self.settings.context_lines
        first, last = rng.start.line, rng.end.line
        view = CodeView(
            path=req.path,
            language=req.language,
            original=original,
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
        memory = await self._memory_context(key, original, req)
        messages = build_messages(self.spec, task, view, memory, req.diagnostics)
        result = ProposeResult(route=route)

        roles = [route.role]
        if route.shadow:
            roles.append("teacher" if route.role == "student" else "student")
        redactor = Redactor(self.spec.boundaries.redact)
        hints = {"task": req.task, "path": req.path}
        if cancel is not None and cancel.is_set():
            return ProposeResult(failures=["cancelled"], route=route)
        n_first = self.settings.candidates
        outcomes = await asyncio.gather(
            *(
                self._ask(role, messages, n_first if i == 0 else 1, cancel, hints, redactor)
                for i, role in enumerate(roles)
            ),
            return_exceptions=True,
        )
        gens: list[tuple[str, Generation]] = []
        errors: dict[str, ProviderError] = {}
        for role, out in zip(roles, outcomes, strict=True):
            if isinstance(out, GenerationCancelled):
                return ProposeResult(failures=["cancelled"], route=route)
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
            try:
                gen = await self._ask("student", messages, n_first, cancel, hints, None)
            except GenerationCancelled:
                return ProposeResult(failures=["cancelled"], route=route)
            gens.append(("student", gen))
        if not gens:
            raise errors.get("student") or next(iter(errors.values()))

        for role, gen in gens:
            result.prompts[role] = gen.prompt
            result.raw[role] = list(gen.completions)
        answers = self._answers(gens, req, view, start, end, result.failures, task.keeps_code)
        if not answers:
            return result
        answers = await self._rerank(messages, answers)
        result.proposals.append(
            self._proposal(req, task.name, rng, original, answers, gens, messages, route, redactor)
        )
        return result

    async def _rerank(self, messages: list[Message], answers: list[_Answer]) -> list[_Answer]:
        """Student candidates best-first by the active adapter's implicit reward.

        The adapter was promoted because this reward ranked the user's held-out choices
        first, so among several sampled candidates it is the best guess at which one the
        user takes. Teacher answers keep their place after the student's; a scoring error
        keeps the model's own order (reranking helps, it must never stop a proposal).
        """
        student = [a for a in answers if a.role == "student"]
        if not self.settings.rerank or len(student) < 2:
            return answers
        try:
            scores = await self.student.rewards(messages, [a.completion for a in student])
        except Exception:
            log.exception("reranking failed; keeping the model's order")
            return answers
        if len(scores) != len(student):  # no adapter to ask
            return answers
        for answer, score in zip(student, scores, strict=True):
            answer.score = score
        ranked = sorted(student, key=lambda a: -(a.score or 0.0))  # stable for ties
        return ranked + [a for a in answers if a.role != "student"]

    async def _memory_context(self, key: str, original: str, req: AgentRequest) -> MemoryContext:
        if self.memory is None:
            return MemoryContext()
        try:
            return await self.memory.context(key, f"{req.task} {req.path}\n{original}", k=3)
        except Exception:  # memory helps; it must never stop a proposal
            log.exception("memory lookup failed; proposing without memory")
            return MemoryContext()

    def _answers(
        self,
        gens: Sequence[tuple[str, Generation]],
        req: AgentRequest,
        view: CodeView,
        start: int,
        end: int,
        failures: list[str],
        keeps_code: bool = False,
    ) -> list[_Answer]:
        answers: list[_Answer] = []
        seen: set[str] = set()
        max_lines = self.spec.boundaries.max_lines
        for role, gen in gens:
            for i, completion in enumerate(gen.completions):
                label = f"{role} candidate {i + 1}" if len(gen.completions) > 1 else role
                parsed = parse_completion(
                    completion,
                    view.original,
                    language=req.language,
                    before=view.before,
                    after=view.after,
                    document=req.text,
                    doc_start=start,
                    doc_end=end,
                    keeps_code=keeps_code,
                )
                if isinstance(parsed, ParseFailure):
                    reason = parsed.reason
                    if gen.finish_reasons[i : i + 1] == ["length"] and "truncated" not in reason:
                        reason += " (the model hit max_new_tokens)"
                    failures.append(f"{label}: {reason}")
                    continue
                n_changed = changed_lines(view.original, parsed.text)
                if n_changed > max_lines:
                    failures.append(
                        f"{label}: the edit changes {n_changed} lines; the spec allows at most "
                        f"{max_lines} (boundaries.max_lines)"
                    )
                    continue
                if parsed.text in seen:
                    continue
                seen.add(parsed.text)
                answers.append(
                    _Answer(
                        role,
                        gen.model,
                        gen.adapter_version,
                        completion,
                        parsed.text,
                        parsed.rationale,
                        sample=i,
                    )
                )
        return answers

    def _proposal(
        self,
        req: AgentRequest,
        task: str,
        rng: Range,
        original: str,
        answers: list[_Answer],
        gens: Sequence[tuple[str, Generation]],
        messages: list[Message],
        route: Route,
        redactor: Redactor,
    ) -> Proposal:
        chosen = answers[0]
        class_key, risk = classify(
            req.path, task, req.language, original, chosen.text, self.settings.classes
        )
        student_prompt = next((g.prompt for role, g in gens if role == "student"), None)
        if student_prompt is None:
            # the training prompt is the student's view of the unredacted request
            student_prompt = self.student.render_prompt(messages)
        meta: dict[str, Any] = {
            "route": route.model_dump(),
            "candidates": [
                {
                    "role": a.role,
                    "model": a.model,
                    "adapter_version": a.adapter_version,
                    "rationale": a.rationale,
                    "sample": a.sample,
                    "score": a.score,
                }
                for a in answers
            ],
            "always_ask": task in self.spec.boundaries.always_ask,
        }
        if redactor.count:
            meta["redactions"] = redactor.count
        return Proposal(
            uri=req.uri,
            path=req.path,
            language=req.language,
            version=req.version,
            range=rng,
            task=task,
            class_key=class_key,
            risk=risk,
            rationale=chosen.rationale,
            original=original,
            proposed=chosen.text,
            hunks=make_hunks(original, chosen.text, rng.start),
            candidates=[
                Candidate(text=a.text, completion=a.completion, score=a.score) for a in answers
            ],
            chosen_candidate=0,
            prompt=student_prompt,
            completion=chosen.completion,
            model=chosen.model,
            role=chosen.role,
            adapter_version=chosen.adapter_version if chosen.role == "student" else None,
            meta=meta,
        )

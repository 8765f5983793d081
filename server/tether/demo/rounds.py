"""A round of the demo: requests through the real service, verdicts from a simulated user.

Everything goes through `TetherService`, the code path the language server uses: the agent
proposes (ruff, the model, the verifier), the policy decides ask / auto / quiet, and the
simulated user accepts, rejects with a reason, corrects, or picks an alternative, exactly
the calls an editor makes. The demo is the editor here, so it writes accepted edits into
the workspace's files itself.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.core.text import replace_range
from tether.core.types import Range
from tether.demo.personas import view
from tether.service import ServiceError, TetherService


@dataclass(frozen=True)
class Request:
    path: Path
    first: int  # zero-based lines of the function
    last: int
    name: str
    task: str = "improve"

    def label(self, workspace: Path) -> str:
        where = f"{self.path.relative_to(workspace).as_posix()}:{self.first + 1}"
        return f"{self.task} {where} {self.name}()"


@dataclass
class RoundStats:
    requests: int = 0
    verified: int = 0  # requests that gave a verified proposal
    shown: int = 0  # asked the user (policy: ask)
    accepted: int = 0  # accepted, corrected or an alternative picked, of those shown
    rejected: int = 0
    auto: int = 0
    quiet: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.shown if self.shown else None


@dataclass(frozen=True)
class Event:
    """One step of a round, for the live display."""

    request: str
    what: str  # "no proposal" | "ask" | "auto" | "quiet"
    verdict: str = ""  # accept | reject | correct | pick N
    detail: str = ""
    kind: str = ""


def functions(
    workspace: Path, folder: str = "src", tasks: tuple[str, ...] = ("improve",)
) -> list[Request]:
    """Every function and method in the workspace's source folder, in file order, once per
    task."""
    found: list[Request] = []
    for path in sorted((workspace / folder).rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                for task in tasks:
                    found.append(
                        Request(path, node.lineno - 1, node.end_lineno - 1, node.name, task)
                    )
    return sorted(found, key=lambda r: (str(r.path), r.first, tasks.index(r.task)))


def locate(text: str, req: Request) -> tuple[int, int]:
    """Where the request's function is now: accepted edits above it move it down or up."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        tree = None
    spans = [
        (node.lineno - 1, node.end_lineno - 1)
        for node in (ast.walk(tree) if tree is not None else ())
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name == req.name
        and node.end_lineno
    ]
    if not spans:
        last = min(req.last, text.count("\n"))
        return min(req.first, last), last
    return min(spans, key=lambda span: abs(span[0] - req.first))


def split(requests: list[Request], every: int = 3) -> tuple[list[Request], list[Request]]:
    """(round 1, held out): every `every`-th function (all its tasks) waits for round 2."""
    spots = sorted({(str(r.path), r.first) for r in requests})
    later = {s for i, s in enumerate(spots) if i % every == every - 1}
    held = [r for r in requests if (str(r.path), r.first) in later]
    return [r for r in requests if (str(r.path), r.first) not in later], held


class Round:
    """Runs requests and applies the simulated user's verdicts."""

    def __init__(self, service: TetherService, persona: Any, on_event: Callable[[Event], None]):
        self.service = service
        self.persona = persona
        self.on_event = on_event
        self.judged = 0

    def _judge(self, proposal: Any, text: str | None = None) -> Any:
        verdict = self.persona(view(proposal, self.judged, text))
        self.judged += 1
        return verdict

    async def _apply(
        self, proposal: Any, candidate: int | None = None, decision: Any = None
    ) -> str:
        plan = await self.service.plan_accept(proposal.id, candidate=candidate)
        path = self.service.workspace / proposal.path
        text = path.read_text(encoding="utf-8")
        path.write_text(replace_range(text, proposal.range, plan.text), encoding="utf-8")
        await self.service.accept(plan, decision=decision)
        return plan.text

    async def run(self, requests: list[Request], *, dry: bool = False) -> RoundStats:
        """Each request through the service; `dry`: the user judges every proposal (whatever
        the policy says) but decides nothing, and the proposal expires (benchmarks)."""
        stats = RoundStats()
        for req in requests:
            stats.requests += 1
            label = req.label(self.service.workspace)
            text = req.path.read_text(encoding="utf-8")
            first, last = locate(text, req)
            lines = text.split("\n")
            rng = Range.of(first, 0, last, len(lines[last]))
            started = time.perf_counter()
            try:
                request = self.service.request_for(req.path.as_uri(), rng, req.task)
                outcome = await self.service.propose(request)
            except ServiceError as exc:
                stats.seconds.append(time.perf_counter() - started)
                self.on_event(Event(label, "no proposal", detail=str(exc)))
                continue
            stats.seconds.append(time.perf_counter() - started)
            for planned in outcome.proposals:
                stats.verified += 1
                if dry:
                    await self._dry(planned, label, stats)
                else:
                    await self._one(planned, label, stats)
        await self.service.idle()
        return stats

    async def _dry(self, planned: Any, label: str, stats: RoundStats) -> None:
        p = planned.proposal
        stats.shown += 1
        verdict = self._judge(p)
        if verdict.kind in ("accept", "correct"):
            stats.accepted += 1
        await self.service.expire(p.id, "judged by a benchmark without a decision")
        self.on_event(Event(label, "judged", verdict.kind, verdict.reason or "", p.kind))

    async def _one(self, planned: Any, label: str, stats: RoundStats) -> None:
        p, mode = planned.proposal, planned.decision.mode
        if mode == "quiet":
            stats.quiet += 1
            self.on_event(Event(label, "quiet", detail=planned.decision.reason, kind=p.kind))
            return
        if mode == "auto":
            stats.auto += 1
            await self._apply(p, decision=planned.decision)
            self.on_event(Event(label, "auto", detail=planned.decision.reason, kind=p.kind))
            return
        stats.shown += 1
        verdict = self._judge(p)
        if verdict.kind == "reject":
            for k, alt in enumerate(p.candidates[1:], start=1):
                if self._judge(p, alt.text).kind == "accept":  # "Show alternatives", pick one
                    await self._apply(p, candidate=k)
                    stats.accepted += 1
                    self.on_event(
                        Event(label, "ask", f"pick {k + 1}", verdict.reason or "", p.kind)
                    )
                    return
            await self.service.reject(p.id, verdict.reason)
            stats.rejected += 1
            self.on_event(Event(label, "ask", "reject", verdict.reason or "", p.kind))
            return
        applied = await self._apply(p)
        stats.accepted += 1
        if verdict.kind == "correct" and verdict.text is not None:
            path = self.service.workspace / p.path  # the user edits what was applied
            path.write_text(
                path.read_text(encoding="utf-8").replace(applied, verdict.text, 1), encoding="utf-8"
            )
            await self.service.correct(p.id, verdict.text)
            self.on_event(Event(label, "ask", "correct", verdict.reason or "", p.kind))
        else:
            self.on_event(Event(label, "ask", "accept", p.rationale_headline, p.kind))

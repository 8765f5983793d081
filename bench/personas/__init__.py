"""Simulated users: a persona is any Python file with a `judge` function.

Two interfaces, told apart by what `judge` returns:
- `judge(proposal) -> Verdict`, reading the proposal's attributes (`proposal.path`, …);
- `judge(proposal: dict) -> dict`, plain data in and out: the proposal's keys are `path`,
  `original`, `proposed`, `task`, `kind` (the kind of change: `E711`, `docstring`, …),
  `index` (its position in the stream, so a persona can change its mind on its own) and
  `class_key`; the answer has `decision` (`accept`, `reject` or `correct`), `reason` (needed
  for a rejection) and `corrected` (the corrected text, needed for a correction).
The proposal handed to `judge` is a dict that also answers attribute access, so one object
serves both. A persona file may also define `configure(**options)` (the benchmark passes
`drift_at`, the decision count at which a drifting persona changes its mind) and `NAME`.
Personas judge by the content of the edit (and its kind), so they can be pointed at any
proposal, not only the benchmark's.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

HERE = Path(__file__).resolve().parent

#: The personas the benchmark ships with, in the order results are reported.
BUILTIN = ("modernizer", "conservative", "docstrings", "pragmatist")


class PersonaProposal(BaseModel):
    """What a persona sees: the edit, where it is, what it was for and its decision class."""

    model_config = ConfigDict(frozen=True)

    path: str
    original: str
    proposed: str
    task: str
    kind: str = ""  # the kind of change (a ruff rule code such as E711, or docstring, …)
    class_key: str = ""
    index: int = 0  # how many proposals this persona judged before this one (for drift)

    @classmethod
    def of(cls, proposal: Any, index: int, proposed: str | None = None) -> PersonaProposal:
        """What the persona sees of an agent `Proposal` (optionally another candidate's text)."""
        return cls(
            path=proposal.path,
            original=proposal.original,
            proposed=proposal.proposed if proposed is None else proposed,
            task=proposal.task,
            kind=getattr(proposal, "kind", "") or "",
            class_key=proposal.class_key,
            index=index,
        )


class ProposalDict(dict[str, Any]):
    """The proposal as plain data that also answers attribute access (`p["path"]`, `p.path`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Verdict(BaseModel):
    """accept; reject with a reason; or correct: accept after changing the text to `text`."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["accept", "reject", "correct"]
    reason: str | None = None
    text: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Verdict:
        if self.kind == "correct" and self.text is None:
            raise ValueError("a correction needs the corrected text")
        if self.kind == "reject" and not self.reason:
            raise ValueError("a rejection needs a reason")
        return self

    @classmethod
    def accept(cls, reason: str | None = None) -> Verdict:
        return cls(kind="accept", reason=reason)

    @classmethod
    def reject(cls, reason: str) -> Verdict:
        return cls(kind="reject", reason=reason)

    @classmethod
    def correct(cls, text: str, reason: str | None = None) -> Verdict:
        return cls(kind="correct", text=text, reason=reason)

    @property
    def approves(self) -> float:
        """1 for accept, 0 for reject, 0.5 for a correction (liked the idea, not the text)."""
        return {"accept": 1.0, "reject": 0.0, "correct": 0.5}[self.kind]


class PersonaError(ValueError):
    """A persona file that cannot be used; the message names the file and what is wrong."""


@dataclass
class Persona:
    name: str
    path: Path
    module: ModuleType

    @property
    def judge(self) -> Callable[[PersonaProposal], Verdict]:
        return self.module.judge  # type: ignore[no-any-return]

    def configure(self, **options: Any) -> None:
        """Pass the options the persona understands; others are ignored."""
        fn = getattr(self.module, "configure", None)
        if fn is None:
            return
        accepted = inspect.signature(fn).parameters
        fn(**{k: v for k, v in options.items() if k in accepted})

    def __call__(self, proposal: PersonaProposal) -> Verdict:
        answer = self.judge(ProposalDict(proposal.model_dump()))  # type: ignore[arg-type]
        if isinstance(answer, Verdict):
            return answer
        if isinstance(answer, Mapping):
            return self._from_dict(answer)
        raise PersonaError(
            f"{self.path}: judge() returned {type(answer).__name__}, not a Verdict or a dict "
            "with 'decision' (accept, reject or correct)"
        )

    def _from_dict(self, answer: Mapping[str, Any]) -> Verdict:
        decision = answer.get("decision")
        if decision not in ("accept", "reject", "correct"):
            raise PersonaError(
                f"{self.path}: judge() returned decision {decision!r}; use 'accept', 'reject' "
                "or 'correct'"
            )
        try:
            return Verdict(kind=decision, reason=answer.get("reason"), text=answer.get("corrected"))
        except ValidationError:
            need = "a 'reason'" if decision == "reject" else "the 'corrected' text"
            raise PersonaError(
                f"{self.path}: judge() returned {decision!r} without {need}; add it to the dict"
            ) from None


def resolve(spec: str | Path) -> Path:
    """A built-in persona's name, or the path of any persona file."""
    text = str(spec)
    if text in BUILTIN:
        return HERE / f"{text}.py"
    path = Path(spec).expanduser()
    if not path.is_file():
        raise PersonaError(f"{path}: no such persona file (built-in: {', '.join(BUILTIN)})")
    return path.resolve()


def load_persona(spec: str | Path) -> Persona:
    """Load a persona file as a fresh module (its state never leaks between runs)."""
    path = resolve(spec)
    module_name = f"_tether_persona_{path.stem}_{abs(hash(str(path)))}"
    spec_ = importlib.util.spec_from_file_location(module_name, path)
    if spec_ is None or spec_.loader is None:
        raise PersonaError(f"{path}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec_)
    sys.modules[module_name] = module
    try:
        spec_.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise PersonaError(f"{path}: failed to import: {exc}") from exc
    if not callable(getattr(module, "judge", None)):
        raise PersonaError(
            f"{path}: a persona file must define judge(proposal) -> Verdict, or judge(dict) -> dict"
        )
    return Persona(name=str(getattr(module, "NAME", path.stem)), path=path, module=module)

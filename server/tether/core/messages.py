"""The user-facing message catalogue: what happened, why, and what to do, with actions.

Every front end (the language server's error responses, the CLI, both editors) shows the
same words for the same problem, so they are written once, here. A message never carries
internal validator text or a "Tether:" prefix: editors already say where it comes from.
The raw reasons stay in `detail` for the log.

Editors turn `actions` into buttons; an action's `id` is one of the `ACTION_*` constants
and means the same in every editor (unknown ids are ignored by clients).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

#: Run the same request again.
ACTION_RETRY = "retry"
#: Widen the selection to the enclosing function (or statement) and run the request again.
ACTION_SELECT_FUNCTION = "selectEnclosingFunction"
#: Ask again in your own words ("Ask…" / "Refine…").
ACTION_REPHRASE = "rephrase"
#: Open the editor's Tether settings (the model, the interpreter).
ACTION_OPEN_SETTINGS = "openSettings"
#: Open the agent spec (.tether/agent.md), e.g. to raise boundaries.max_lines.
ACTION_OPEN_SPEC = "openSpec"
#: Show the server log.
ACTION_SHOW_LOG = "showLog"
#: Restart the language server.
ACTION_RESTART = "restartServer"

_TITLES = {
    ACTION_RETRY: "Retry",
    ACTION_SELECT_FUNCTION: "Select enclosing function",
    ACTION_REPHRASE: "Ask in your own words…",
    ACTION_OPEN_SETTINGS: "Open settings",
    ACTION_OPEN_SPEC: "Open agent spec",
    ACTION_SHOW_LOG: "Show log",
    ACTION_RESTART: "Restart server",
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)


class Action(_Model):
    """A button under a message."""

    id: str
    title: str

    @classmethod
    def of(cls, action_id: str) -> Action:
        return cls(id=action_id, title=_TITLES.get(action_id, action_id))


class UserMessage(_Model):
    """One message for a person: `what` happened, `why`, and what to do (`fix`)."""

    code: str  # stable identifier, e.g. "no_proposal", "stale", "provider"
    what: str
    why: str = ""
    fix: str = ""
    actions: list[Action] = Field(default_factory=list)
    detail: list[str] = Field(default_factory=list)  # raw reasons, for the log only

    def text(self) -> str:
        """The message as one line: "What happened: why. What to do."."""
        head = self.what.rstrip(".")
        if self.why:
            head += f": {self.why.rstrip('.')}"
        head += "."
        return f"{head} {self.fix}".strip() if self.fix else head

    def data(self) -> dict[str, object]:
        """The JSON an LSP error response carries in `data.message` (camelCase)."""
        return self.model_dump(mode="json", by_alias=True)


def message(code: str, what: str, why: str = "", fix: str = "", *actions: str) -> UserMessage:
    return UserMessage(
        code=code, what=what, why=why, fix=fix, actions=[Action.of(a) for a in actions]
    )


# --------------------------------------------------------------------------- no proposal
@dataclass(frozen=True)
class _Reason:
    """How one kind of verifier/parser failure reads to a person."""

    prefix: str  # how the raw reason starts (after "role: ")
    why: str
    fix: str
    actions: tuple[str, ...] = (ACTION_RETRY,)


_WIDEN = "Select the whole function (or statement) and try again."
_AGAIN = "Try again, or say in your own words what you want."
_REASONS = (
    _Reason(
        "out of range",
        "the model's answer went beyond the selected code",
        _WIDEN,
        (ACTION_SELECT_FUNCTION, ACTION_RETRY),
    ),
    _Reason(
        "truncated output",
        "the model's answer was cut off before it was complete",
        "Select less code and try again.",
    ),
    _Reason("empty output", "the model returned nothing", _AGAIN, (ACTION_RETRY, ACTION_REPHRASE)),
    _Reason(
        "no code block",
        "the model answered in words but gave no code",
        _AGAIN,
        (ACTION_RETRY, ACTION_REPHRASE),
    ),
    _Reason(
        "empty code block",
        "the model's answer would delete the selection",
        _AGAIN,
        (ACTION_RETRY, ACTION_REPHRASE),
    ),
    _Reason(
        "unchanged",
        "the model returned the code as it was",
        "Say in your own words what should change.",
        (ACTION_REPHRASE, ACTION_RETRY),
    ),
    _Reason(
        "off task",
        "the model replaced the selection with a new definition",
        _WIDEN,
        (ACTION_SELECT_FUNCTION, ACTION_RETRY),
    ),
    _Reason(
        "not about this code",
        "the docstring the model wrote is about something the file does not have",
        _AGAIN,
        (ACTION_RETRY, ACTION_REPHRASE),
    ),
    _Reason(
        "changes code",
        "the model changed code, but this task may only add documentation and comments",
        _AGAIN,
    ),
    _Reason(
        "broken edit",
        "the change would leave the file unable to parse",
        _WIDEN,
        (ACTION_SELECT_FUNCTION, ACTION_RETRY),
    ),
    _Reason(
        "changes a signature",
        "the change would rename, remove or re-shape a definition",
        "Say in your own words if you want the signature changed.",
        (ACTION_REPHRASE, ACTION_RETRY),
    ),
    _Reason(
        "drops behaviour",
        "the change would drop something the code uses",
        _AGAIN,
        (ACTION_RETRY, ACTION_REPHRASE),
    ),
    _Reason(
        "does not fix",
        "the change does not fix the problem it was asked to fix",
        _AGAIN,
        (ACTION_RETRY, ACTION_REPHRASE),
    ),
    _Reason(
        "adds lint",
        "the change would add new lint warnings",
        _AGAIN,
        (ACTION_RETRY, ACTION_REPHRASE),
    ),
    _Reason(
        "tests fail",
        "the project's tests fail with the change",
        _AGAIN,
        (ACTION_RETRY, ACTION_REPHRASE),
    ),
    _Reason(
        "refused",
        "Tether may not change this file (the agent spec's boundaries)",
        "Open the agent spec to see its boundaries.",
        (ACTION_OPEN_SPEC,),
    ),
    _Reason(
        "the edit changes",
        "the change is larger than your agent spec allows (boundaries.max_lines)",
        "Select less code, or raise max_lines in the agent spec.",
        (ACTION_RETRY, ACTION_OPEN_SPEC),
    ),
)
_SEVERAL = _Reason(
    "code blocks",
    "the model gave several pieces of code instead of one replacement",
    _AGAIN,
    (ACTION_RETRY, ACTION_REPHRASE),
)
_PROVIDER = _Reason(
    "failed",
    "the model could not be reached",
    "Check the model setting and that the model is available; the log has the details.",
    (ACTION_RETRY, ACTION_OPEN_SETTINGS, ACTION_SHOW_LOG),
)
_OTHER = _Reason("", "the model's answer did not pass Tether's checks", _AGAIN)


def _strip_role(raw: str) -> str:
    """'student candidate 2: out of range: …' -> 'out of range: …'."""
    head, sep, rest = raw.partition(": ")
    if sep and (head.split(" ")[0] in {"student", "teacher"} or head.startswith("ruff")):
        return rest
    return raw


def _reason_of(raw: str) -> _Reason:
    body = _strip_role(raw).strip()
    if raw.split(":")[0].endswith(" failed") or body.startswith("failed"):
        return _PROVIDER
    for reason in _REASONS:
        if body.startswith(reason.prefix):
            return reason
    head = body.split(":")[0]
    if head.endswith("code blocks") and head.split(" ")[0].isdigit():
        return _SEVERAL
    return _OTHER


def explain_failure(raw: str) -> str:
    """One raw verifier/parser failure ("student: out of range: …") in plain words."""
    return _reason_of(raw).why


def no_proposal(
    failures: Sequence[str], tried: str = "", *, whole_selection: bool = False
) -> UserMessage:
    """Nothing survived the verifier: say what was tried and why, most common reason first.

    `whole_selection`: the selection already holds a whole function, so "select the whole
    function" is no advice; retrying or saying what to change is.
    """
    failures = [f for f in failures if f and f != "cancelled"]
    what = "No suggestion for this selection"
    if tried and tried != "nothing":
        what += f" (tried {tried})"
    if not failures:
        return message(
            "no_proposal",
            what,
            "the model found nothing to change",
            _AGAIN,
            ACTION_RETRY,
            ACTION_REPHRASE,
        )
    counts = Counter(_reason_of(f) for f in failures)
    ranked = [r for r, _ in counts.most_common()]
    whys = []
    for reason in ranked[:2]:
        n = counts[reason]
        whys.append(reason.why + (f" ({n} of {len(failures)} answers)" if n > 1 else ""))
    actions: list[str] = []
    for reason in ranked:
        actions += [a for a in reason.actions if a not in actions]
    fix = ranked[0].fix
    if whole_selection:
        actions = [a for a in actions if a != ACTION_SELECT_FUNCTION]
        actions += [a for a in (ACTION_RETRY, ACTION_REPHRASE) if a not in actions]
        if fix == _WIDEN:
            fix = _AGAIN
    return UserMessage(
        code="no_proposal",
        what=what,
        why="; ".join(whys),
        fix=fix,
        actions=[Action.of(a) for a in actions[:3]],
        detail=list(failures),
    )


# --------------------------------------------------------------------------- errors by kind
_BY_KIND: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # kind: (what, fix, actions); `why` is the error's own sentence
    "stale": (
        "The file changed while Tether was working",
        "Ask again on the current text.",
        (ACTION_RETRY,),
    ),
    "cancelled": ("The request was cancelled", "", ()),
    "not_pending": (
        "This suggestion was already decided",
        "Nothing more to do; the history has its outcome.",
        (),
    ),
    "busy": ("This suggestion is being applied", "Wait a moment and try again.", ()),
    "unknown_proposal": (
        "Tether does not know this suggestion",
        "It may belong to another workspace or a restarted server; ask again.",
        (),
    ),
    "unknown_document": (
        "Tether cannot see this file",
        "Open the file in the editor and try again.",
        (),
    ),
    "too_large": (
        "This file is too large for Tether",
        "Raise the max_file_bytes setting if you want suggestions on it.",
        (ACTION_OPEN_SETTINGS,),
    ),
    "training_busy": ("Training is already running", "Cancel it or wait for it to end.", ()),
    "bad_request": ("Tether could not carry out the request", "", ()),
    "agent_failed": (
        "The model could not answer",
        "Check the model setting and that the model is available; the log has the details.",
        (ACTION_RETRY, ACTION_OPEN_SETTINGS, ACTION_SHOW_LOG),
    ),
    "store": (
        "Tether's decision store failed",
        "Run `tether verify` in a terminal; the log has the details.",
        (ACTION_SHOW_LOG,),
    ),
    "internal": (
        "Tether hit an internal error",
        "The log has the details; restarting the server usually helps.",
        (ACTION_SHOW_LOG, ACTION_RESTART),
    ),
}


def for_kind(kind: str, why: str) -> UserMessage:
    """The catalogue entry for an error kind (`ServiceError.kind`), with its own sentence."""
    what, fix, actions = _BY_KIND.get(kind, _BY_KIND["bad_request"])
    return message(kind, what, why, fix, *actions)


def for_exception(exc: BaseException) -> UserMessage:
    """The message for any exception a request handler raised."""
    failures = getattr(exc, "failures", None)
    if failures:
        tried = str(getattr(exc, "tried", "") or "")
        whole = bool(getattr(exc, "whole_selection", False))
        return no_proposal(list(failures), tried, whole_selection=whole)
    kind = getattr(exc, "kind", None)
    if isinstance(kind, str):
        return for_kind(kind, str(exc))
    return for_kind("internal", f"{type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------- command line
def no_store(store: str) -> UserMessage:
    """A read-only command on a workspace where nothing was decided yet."""
    return message(
        "no_store",
        "No decisions recorded for this workspace yet",
        "",
        f"Tether will keep them in {store} once you decide on a suggestion.",
    )


__all__ = [
    "ACTION_OPEN_SETTINGS",
    "ACTION_OPEN_SPEC",
    "ACTION_REPHRASE",
    "ACTION_RESTART",
    "ACTION_RETRY",
    "ACTION_SELECT_FUNCTION",
    "ACTION_SHOW_LOG",
    "Action",
    "UserMessage",
    "explain_failure",
    "for_exception",
    "for_kind",
    "message",
    "no_proposal",
    "no_store",
]

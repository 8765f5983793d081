"""Where a class sits in the prior's hierarchy: pool → task → kind of change → class.

A class key joins the configured parts (`classes.parts`, e.g. task:kind:language:area:size)
with `:`. The profile reads two of them: the task (the family a change of mind is about)
and, when the parts include it, the kind of change (`E711`, `docstring`, …). Classes of one
kind form a *kind group* (`task:kind`) that borrows from its task, and the task from the
pool, so a kind seen a few times starts where its task is, and one the user keeps accepting
stays visible even when the rest of its task is rejected. A key that does not have the
configured number of parts (one recorded under other settings) has no kind: its group is
its task, as before kinds existed.

`PriorTree` fits the priors at each level from the per-class evidence; it is rebuilt lazily
by the profile whenever a verdict changes the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tether.config import PolicySettings
from tether.profile.models import PriorFit
from tether.profile.prior import fit_family_prior, fit_prior

#: (approval weight, verdicts) of one class.
Counts = tuple[float, float]


@dataclass(frozen=True)
class KeyShape:
    """How to read a class key made from `parts`."""

    parts: tuple[str, ...]

    def _split(self, key: str) -> list[str] | None:
        values = key.split(":")
        return values if len(values) == len(self.parts) else None

    def task(self, key: str) -> str:
        values = self._split(key)
        if values is not None and "task" in self.parts:
            return values[self.parts.index("task")]
        return key.partition(":")[0]

    def kind(self, key: str) -> str | None:
        """The kind of change the key names; None without a kind part (or `any`: unknown)."""
        values = self._split(key)
        if values is None or "kind" not in self.parts:
            return None
        kind = values[self.parts.index("kind")]
        return None if kind in ("", "any") else kind

    def group(self, key: str) -> str | None:
        """`task:kind` for a key with a kind, else None (the class has no kind level)."""
        kind = self.kind(key)
        return None if kind is None else f"{self.task(key)}:{kind}"


class PriorTree:
    """The fitted priors of one state of the evidence, computed on first use."""

    def __init__(
        self,
        settings: PolicySettings,
        shape: KeyShape,
        counts: Callable[[str], Counts],
        keys: Sequence[str],
    ) -> None:
        self.settings = settings
        self.shape = shape
        self._counts = counts
        self._keys = sorted(keys)
        self._tasks: dict[str, list[str]] = {}
        self._groups: dict[str, list[str]] = {}
        for k in self._keys:
            self._tasks.setdefault(shape.task(k), []).append(k)
            group = shape.group(k)
            if group is not None:
                self._groups.setdefault(group, []).append(k)
        self._pool: PriorFit | None = None
        self._top: PriorFit | None = None
        self._task_fits: dict[str, PriorFit] = {}
        self._group_fits: dict[str, PriorFit] = {}

    def _sum(self, keys: Sequence[str]) -> Counts:
        pairs = [self._counts(k) for k in keys]
        return sum(s for s, _ in pairs), sum(n for _, n in pairs)

    def pool(self) -> PriorFit:
        """Fitted across every class (in key order, so rebuilds match)."""
        if self._pool is None:
            self._pool = fit_prior((self._counts(k) for k in self._keys), self.settings)
        return self._pool

    def top(self) -> PriorFit:
        """Fitted across the tasks' pooled verdicts: what a task's rate is shrunk toward."""
        if self._top is None:
            self._top = fit_prior(
                (self._sum(self._tasks[t]) for t in sorted(self._tasks)), self.settings
            )
        return self._top

    def task_prior(self, task: str) -> PriorFit:
        """The prior of a task's members: its kinds' rates when the keys carry kinds, else its
        classes'; the pool's when the task has too few of them to read a spread from."""
        fit = self._task_fits.get(task)
        if fit is None:
            members: dict[str, list[str]] = {}
            for k in self._tasks.get(task, []):
                members.setdefault(self.shape.group(k) or k, []).append(k)
            fit = fit_family_prior(
                task,
                (self._sum(members[m]) for m in sorted(members)),
                self.pool(),
                self.settings,
                top=self.top(),
            )
            self._task_fits[task] = fit
        return fit

    def group_prior(self, group: str, task: str) -> PriorFit:
        """The prior of one kind's classes, shrunk toward its task; the task's prior when the
        kind has too few classes to read a spread from (its classes then stand on the task)."""
        fit = self._group_fits.get(group)
        if fit is None:
            parent = self.task_prior(task)
            keys = self._groups.get(group, [])
            fit = fit_family_prior(
                group, (self._counts(k) for k in keys), parent, self.settings, top=parent
            )
            if fit is not parent:
                fit = fit.model_copy(update={"method": "kind"})
            self._group_fits[group] = fit
        return fit

    def prior_for(self, key: str) -> PriorFit:
        if not self.settings.family_prior:
            return self.pool()
        task = self.shape.task(key)
        group = self.shape.group(key)
        if group is None:
            return self.task_prior(task)
        return self.group_prior(group, task)

    def group_counts(self, group: str) -> Counts:
        return self._sum(self._groups.get(group, []))

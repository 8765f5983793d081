"""Memory: non-parametric learning from decisions, available the moment they are made.

The adapter learns slowly (it needs a training run); memory learns at once: every verdict
becomes an exemplar the next similar request is shown, a rejection with a reason or a
correction becomes a reflection for its class, and recurring reasons become rules. All of
it lives in the store's memory items, so it survives restarts and `tether memory` can
show, edit and remove it.

Memory is a function of the decision log, like the profile: every item learnt from a
decision is named and dated by that decision (`rf-<seq>`, the row's own timestamp), and
`catch_up` learns whatever verdicts the log holds beyond the newest one memory has. So a
failed update is retried at the next decision (it never marked itself done), and
`rebuild` (`tether memory --rebuild`) gives the same items as learning one by one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from tether.core.diff import apply_hunks
from tether.core.memory import Exemplar, Generate, MemoryContext, Reflection, Rule
from tether.core.types import ACCEPTS, USER_VERDICTS, Actor, Outcome, Proposal, new_id, utcnow
from tether.decisions.models import DecisionRecord, MemoryRow
from tether.memory.insights import InsightOp, heuristic_op, teacher_op
from tether.memory.reflections import reflection_by_teacher, reflection_from_diff
from tether.memory.retrieval import ExemplarIndex, related

if TYPE_CHECKING:
    from tether.decisions import DecisionStore

log = logging.getLogger("tether.memory")

MAX_EXEMPLAR_CHARS = 4000  # longer ranges are kept, clipped: prompts stay small


class MemoryItemError(ValueError):
    """A memory item that does not exist, is ambiguous, or cannot be changed that way."""


def _final_text(record: DecisionRecord, proposal: Proposal) -> str | None:
    """What the user kept after this verdict (None for a plain rejection)."""
    if record.outcome in {Outcome.CORRECTED, Outcome.REWRITTEN}:
        return record.after
    if record.outcome not in ACCEPTS:
        return None
    if record.candidate is not None and 0 < record.candidate < len(proposal.candidates):
        return proposal.candidates[record.candidate].text
    if record.hunks is not None and proposal.hunks:
        chosen = [h for h in proposal.hunks if h.index in set(record.hunks)]
        return apply_hunks(proposal.original, chosen)
    return proposal.proposed


def _exemplar(r: MemoryRow) -> Exemplar:
    b = r.body
    return Exemplar(
        id=r.id,
        class_key=r.class_key,
        path=b.get("path", ""),
        task=b.get("task", ""),
        language=b.get("language", "python"),
        original=b.get("original", ""),
        proposed=b.get("proposed", ""),
        final=b.get("final"),
        decision=b.get("decision", "accepted"),
        feedback=b.get("feedback"),
    )


class Memory:
    def __init__(
        self,
        store: DecisionStore,
        *,
        generate: Generate | None = None,
        redact_patterns: tuple[str, ...] = (),
        rule_min_votes: int = 2,
        max_rules: int = 20,
        max_reflections: int = 3,
        max_prompt_rules: int = 8,
    ) -> None:
        self.store = store
        #: The teacher, as a plain function (None: lessons and rules come from the diff).
        self.generate = generate
        self.redact_patterns = tuple(redact_patterns)
        self.rule_min_votes = rule_min_votes
        self.max_rules = max_rules
        self.max_reflections = max_reflections
        self.max_prompt_rules = max_prompt_rules
        self._index = ExemplarIndex()
        self._catching_up = asyncio.Lock()

    # ------------------------------------------------------------------ learning
    async def observe(self, record: DecisionRecord, proposal: Proposal) -> list[MemoryRow]:
        """Learn from one decision row; returns the items written. Policy rows teach nothing.

        The exemplar is written last: it marks the row learnt (see `cursor`), so a failure
        before it leaves the row to `catch_up`, and what was written already is rewritten
        the same (same ids; a rule operation is applied once per row)."""
        if record.actor != Actor.USER or record.outcome not in USER_VERDICTS:
            return []
        written: list[MemoryRow] = []
        final = _final_text(record, proposal)
        reason = (record.reason or "").strip() or None
        wants_reflection = record.outcome in {Outcome.CORRECTED, Outcome.REWRITTEN} or (
            record.outcome == Outcome.REJECTED and reason
        )
        if wants_reflection:
            lesson = None
            source = "diff"
            if self.generate is not None:
                lesson = await reflection_by_teacher(
                    self.generate,
                    record.outcome.value,
                    proposal,
                    reason,
                    final,
                    self.redact_patterns,
                )
                source = "teacher" if lesson else "diff"
            if not lesson:
                lesson = reflection_from_diff(record.outcome.value, proposal, reason, final)
            now = record.ts
            row = MemoryRow(
                id=f"rf-{record.seq}",
                kind="reflection",
                class_key=proposal.class_key,
                created_at=now,
                updated_at=now,
                body={
                    "text": lesson,
                    "source": source,
                    "proposal_id": proposal.id,
                    "outcome": record.outcome.value,
                    "reason": reason,
                },
            )
            await self.store.put_memory(row)
            written.append(row)
            op = await self._choose_op(lesson, reason)
            if op is not None:
                changed = await self.apply(op, evidence=proposal.id, seq=record.seq, at=now)
                if changed is not None:
                    written.append(changed)
        written.append(await self._put_exemplar(record, proposal, final, reason))
        return written

    async def cursor(self) -> int:
        """The newest decision memory has learnt (its exemplars carry their row's seq;
        removed exemplars are kept inactive for this)."""
        rows = await self.store.memory(kind="exemplar", active_only=False)
        return max((int(r.body.get("seq", 0)) for r in rows), default=0)

    async def catch_up(self) -> int:
        """Learn every user verdict in the log after `cursor`; returns how many.

        The service calls it after each decision, so an update that failed (the teacher
        down, the store busy) is made at the next one; it never has to be remembered."""
        async with self._catching_up:
            learnt = 0
            for record in await self.store.decisions(after_seq=await self.cursor()):
                if (
                    record.actor != Actor.USER
                    or record.outcome not in USER_VERDICTS
                    or record.proposal_id is None
                ):
                    continue
                await self.observe(record, await self.store.get_proposal(record.proposal_id))
                learnt += 1
            return learnt

    async def rebuild(self) -> int:
        """Forget what decisions taught and learn it again from the whole log.

        Rules you added yourself stay (with the votes decisions gave them); your edits and
        removals of learnt items are forgotten: the log does not hold them."""
        async with self._catching_up:
            for row in await self.store.memory(active_only=False):
                if row.kind == "insight" and row.body.get("source") == "user":
                    await self.store.put_memory(
                        row.model_copy(
                            update={
                                "votes": self.rule_min_votes,
                                "body": {**row.body, "seqs": [], "evidence": []},
                            }
                        )
                    )
                    continue
                await self.store.delete_memory(row.id)
        return await self.catch_up()

    async def _put_exemplar(
        self, record: DecisionRecord, proposal: Proposal, final: str | None, reason: str | None
    ) -> MemoryRow:
        """One exemplar per proposal, updated by later verdicts (accepted, then corrected)."""
        item_id = f"ex-{proposal.id}"
        existing = await self._get(item_id)
        now = record.ts
        body = {
            "path": proposal.path,
            "task": proposal.task,
            "language": proposal.language,
            "original": proposal.original[:MAX_EXEMPLAR_CHARS],
            "proposed": proposal.proposed[:MAX_EXEMPLAR_CHARS],
            "final": final[:MAX_EXEMPLAR_CHARS] if final is not None else None,
            "decision": record.outcome.value,
            "feedback": reason,
            "proposal_id": proposal.id,
            "seq": record.seq,
        }
        row = MemoryRow(
            id=item_id,
            kind="exemplar",
            class_key=proposal.class_key,
            created_at=existing.created_at if existing else now,
            updated_at=now,
            active=existing.active if existing else True,
            body=body,
        )
        await self.store.put_memory(row)
        return row

    async def _choose_op(self, lesson: str, reason: str | None) -> InsightOp | None:
        rules = await self.rules(include_weak=True)
        if self.generate is not None:
            op = await teacher_op(self.generate, lesson, rules, self.redact_patterns)
            if op == "NONE":
                return None
            if op is not None:
                return op
        return heuristic_op(reason, rules) if reason else None

    # ------------------------------------------------------------------ insights
    async def apply(
        self,
        op: InsightOp,
        *,
        evidence: str | None = None,
        by_user: bool = False,
        seq: int | None = None,
        at: str | None = None,
    ) -> MemoryRow | None:
        """Apply one insight operation; returns the row written (None when one was removed).

        From a decision (`seq`, at its time `at`) the operation is applied once: the rule
        remembers the rows that changed it, and an ADD is named by its row."""
        now = at or utcnow()
        if op.op == "ADD":
            if not op.text:
                raise MemoryItemError("ADD needs the rule's text")
            item_id = f"in-{seq}" if seq is not None else f"in-{new_id()[:12]}"
            if seq is not None and await self._get(item_id) is not None:
                return None  # this row's rule exists already
            row = MemoryRow(
                id=item_id,
                kind="insight",
                created_at=now,
                updated_at=now,
                votes=self.rule_min_votes if by_user else 1,
                body={
                    "text": op.text,
                    "source": "user" if by_user else "decisions",
                    "evidence": [evidence] if evidence else [],
                    "seqs": [seq] if seq is not None else [],
                },
            )
            await self.store.put_memory(row)
            await self._trim_rules()
            return row
        row = await self._get(op.rule_id or "")
        if row is None or row.kind != "insight":
            raise MemoryItemError(f"no rule {op.rule_id!r}")
        body = dict(row.body)
        if seq is not None:
            if seq in body.get("seqs", []):
                return row  # applied already (a retried row)
            body["seqs"] = [*body.get("seqs", []), seq]
        if evidence:
            body["evidence"] = [*body.get("evidence", []), evidence][-10:]
        if op.op == "AGREE":
            row = row.model_copy(update={"votes": row.votes + 1, "updated_at": now, "body": body})
        elif op.op == "EDIT":
            if not op.text:
                raise MemoryItemError("EDIT needs the rule's new text")
            body["text"] = op.text
            votes = max(row.votes, self.rule_min_votes) if by_user else row.votes + 1
            row = row.model_copy(update={"votes": votes, "updated_at": now, "body": body})
        elif op.op == "REMOVE":
            if by_user or row.votes <= 1:
                await self.store.delete_memory(row.id)
                return None
            row = row.model_copy(update={"votes": row.votes - 1, "updated_at": now, "body": body})
        await self.store.put_memory(row)
        return row

    async def _trim_rules(self) -> None:
        rows = await self.store.memory(kind="insight")
        if len(rows) <= self.max_rules:
            return
        rows.sort(key=lambda r: (r.votes, r.updated_at))
        for r in rows[: len(rows) - self.max_rules]:
            await self.store.delete_memory(r.id)

    async def rules(
        self, class_key: str | None = None, *, include_weak: bool = False
    ) -> list[Rule]:
        rows = await self.store.memory(kind="insight")
        out = [
            Rule(id=r.id, class_key=r.class_key, text=str(r.body.get("text", "")), votes=r.votes)
            for r in rows
            if (include_weak or r.votes >= self.rule_min_votes)
            and (r.class_key is None or class_key is None or related(r.class_key, class_key))
        ]
        out.sort(key=lambda r: -r.votes)
        return out

    # ------------------------------------------------------------------ recall
    async def exemplars(self) -> list[Exemplar]:
        return [_exemplar(r) for r in await self.store.memory(kind="exemplar")]

    async def context(self, class_key: str, query: str, k: int = 3) -> MemoryContext:
        """What the prompt for a request of this class should remember."""
        rows = await self.store.memory(kind="exemplar")
        self._index.update([_exemplar(r) for r in rows], tuple((r.id, r.updated_at) for r in rows))
        found = self._index.search(query, k, class_key)
        reflections = [
            Reflection(
                id=r.id,
                class_key=r.class_key,
                text=str(r.body.get("text", "")),
                source=r.body.get("source", "diff"),
                proposal_id=r.body.get("proposal_id"),
            )
            for r in await self.store.memory(kind="reflection")
            if related(r.class_key, class_key)
        ]
        reflections = list(reversed(reflections))[: self.max_reflections]  # newest first
        rules = (await self.rules(class_key))[: self.max_prompt_rules]
        return MemoryContext(exemplars=found, reflections=reflections, rules=rules)

    # ------------------------------------------------------------------ management
    async def items(self, kind: str | None = None) -> list[MemoryRow]:
        return await self.store.memory(kind=kind)

    async def _get(self, item_id: str) -> MemoryRow | None:
        return next(
            (r for r in await self.store.memory(active_only=False) if r.id == item_id), None
        )

    async def resolve(self, ref: str) -> MemoryRow:
        """An item by id or unique id prefix (what `tether memory` users type)."""
        rows = await self.store.memory(active_only=False)
        exact = [r for r in rows if r.id == ref]
        if exact:
            return exact[0]
        matches = [r for r in rows if r.id.startswith(ref)] if len(ref) >= 4 else []
        if not matches:
            raise MemoryItemError(f"no memory item {ref!r}")
        if len(matches) > 1:
            raise MemoryItemError(f"{ref!r} matches {len(matches)} items; give more of the id")
        return matches[0]

    async def edit(self, ref: str, text: str) -> MemoryRow:
        """A user's edit of a rule or a reflection (exemplars are records, not prose)."""
        text = text.strip()
        if not text:
            raise MemoryItemError("the new text is empty")
        row = await self.resolve(ref)
        if row.kind == "insight":
            edited = await self.apply(InsightOp(op="EDIT", rule_id=row.id, text=text), by_user=True)
            assert edited is not None
            return edited
        if row.kind == "reflection":
            body = {**row.body, "text": text, "source": "user"}
            row = row.model_copy(update={"body": body, "updated_at": utcnow()})
            await self.store.put_memory(row)
            return row
        raise MemoryItemError(f"{row.id} is an exemplar: it records a decision; remove it instead")

    async def add_rule(self, text: str) -> MemoryRow:
        row = await self.apply(InsightOp(op="ADD", text=text.strip()), by_user=True)
        assert row is not None
        return row

    async def remove(self, ref: str) -> MemoryRow:
        """Remove an item; an exemplar is only switched off (it marks its decision learnt)."""
        row = await self.resolve(ref)
        if row.kind == "exemplar":
            await self.store.put_memory(row.model_copy(update={"active": False}))
        else:
            await self.store.delete_memory(row.id)
        return row

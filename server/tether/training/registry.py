"""Adapter versions on disk and in the store: promotion, refusal, rollback.

Order of a promotion, chosen so a crash at any point leaves the active adapter intact:
1. the candidate is complete in a temp dir under `jobs/` (weights + lineage.json);
2. it is renamed to `adapters/vN` (atomic on one filesystem);
3. its row is stored, and only then the store makes it active and appends the chained
   `adapter_promoted` row in one transaction.
A crash before 3 leaves an unused `adapters/vN` (the next version skips its number) and
the old active adapter; nothing reads a half-written adapter.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tether.core.types import Actor, Outcome, utcnow
from tether.decisions.models import AdapterRow, DecisionContent, DecisionRecord
from tether.decisions.store import DecisionStore
from tether.paths import WorkspacePaths
from tether.training.lineage import ADAPTER_FILE, Lineage, file_sha256, summary, write_lineage

_VERSION = re.compile(r"^v(\d+)$")


class AdapterError(ValueError):
    """A rollback or lookup that cannot be done; the message says why."""


class AdapterRef(BaseModel):
    """What the agent needs to use the active adapter (and to record its version)."""

    version: str
    path: str
    sha256: str | None = None


def version_number(version: str) -> int:
    m = _VERSION.match(version)
    if not m:
        raise AdapterError(f"{version!r} is not an adapter version (expected v1, v2, …)")
    return int(m.group(1))


class AdapterRegistry:
    def __init__(self, store: DecisionStore, paths: WorkspacePaths) -> None:
        self.store = store
        self.paths = paths

    async def list(self) -> list[AdapterRow]:
        return await self.store.adapters()

    async def active(self) -> AdapterRow | None:
        return await self.store.active_adapter()

    async def active_ref(self) -> AdapterRef | None:
        row = await self.active()
        if row is None:
            return None
        return AdapterRef(
            version=row.version, path=row.path, sha256=row.lineage.get("adapter_sha256")
        )

    async def next_version(self) -> str:
        numbers = [version_number(r.version) for r in await self.store.adapters()]
        if self.paths.adapters.is_dir():
            for entry in os.listdir(self.paths.adapters):
                m = _VERSION.match(entry)
                if m:
                    numbers.append(int(m.group(1)))
        return f"v{max(numbers, default=0) + 1}"

    async def record(
        self, candidate_dir: Path, lineage: Lineage
    ) -> tuple[AdapterRow, DecisionRecord]:
        """Move a finished candidate into place and record it as promoted or refused."""
        promote = lineage.status == "active"
        self.paths.adapters.mkdir(parents=True, exist_ok=True)
        target = self.paths.adapters / lineage.version
        lineage.adapter_file = str(target / ADAPTER_FILE)
        seq = lineage.decision_range.head_seq
        if seq > 0 and lineage.checkpoint is None:
            # The head the data was read at, signed: verify checks the log still has it.
            cp = await self.store.checkpoint("training", at=(seq, lineage.head_hash))
            lineage.checkpoint = cp.model_dump(mode="json")
        write_lineage(candidate_dir, lineage)
        os.replace(candidate_dir, target)
        metrics = summary(lineage)
        row = AdapterRow(
            version=lineage.version,
            created_at=lineage.created_at,
            parent=lineage.parent,
            status="candidate" if promote else "refused",
            path=str(target),
            metrics=metrics,
            lineage=lineage.model_dump(mode="json"),
        )
        await self.store.put_adapter(row)
        content = DecisionContent(
            ts=utcnow(),
            outcome=Outcome.ADAPTER_PROMOTED if promote else Outcome.ADAPTER_REFUSED,
            actor=Actor.SYSTEM,
            adapter_version=lineage.version,
            reason=lineage.gate.reason,
            data={
                "version": lineage.version,
                "parent": lineage.parent,
                "method": lineage.method,
                "metrics": metrics,
                "gate": lineage.gate.model_dump(mode="json"),
                "adapter_sha256": lineage.adapter_sha256,
                "data_hash": lineage.data_hash,
                "decision_range": lineage.decision_range.model_dump(mode="json"),
            },
        )
        if promote:
            record = await self.store.activate_adapter(lineage.version, content)
            row.status = "active"
        else:
            record = await self.store.append(content)
        return row, record

    async def rollback(self, version: str | None, *, reason: str | None = None) -> DecisionRecord:
        """Make an earlier adapter (or the base model, version None) active again; logged."""
        rows = {r.version: r for r in await self.store.adapters()}
        current = await self.store.active_adapter()
        data: dict[str, Any] = {"from": current.version if current else None, "to": version}
        if version is not None:
            version_number(version)
            row = rows.get(version)
            if row is None:
                known = ", ".join(rows) or "none"
                raise AdapterError(f"no adapter {version} (known: {known})")
            if row.status == "active":
                raise AdapterError(f"{version} is already the active adapter")
            if row.status == "refused":
                why = row.lineage.get("gate", {}).get("reason", "")
                raise AdapterError(
                    f"{version} was refused by the eval gate ({why}); only adapters that were"
                    " once active can be rolled back to"
                )
            weights = Path(row.path) / ADAPTER_FILE
            if not weights.is_file():
                raise AdapterError(f"the files of {version} are missing ({weights})")
            expected = row.lineage.get("adapter_sha256")
            actual = file_sha256(weights)
            if expected and actual != expected:
                raise AdapterError(
                    f"{weights} does not match its recorded hash ({actual} != {expected});"
                    " refusing to activate modified weights"
                )
            data["adapter_sha256"] = actual
        elif current is None:
            raise AdapterError("the base model is already in use (no adapter is active)")
        content = DecisionContent(
            ts=utcnow(),
            outcome=Outcome.ADAPTER_ROLLBACK,
            actor=Actor.USER,
            adapter_version=version,
            reason=reason or f"rollback to {version or 'the base model'}",
            data=data,
        )
        return await self.store.activate_adapter(version, content)

"""Checkpoints: the chain's head, signed, in an append-only file outside the database.

Whoever can edit the SQLite file can rewrite its head along with its rows. A checkpoint
(sequence number, head hash, time, why) written elsewhere pins the log: a log shorter than
a checkpoint, or one whose row at the checkpoint's sequence number has another hash, was
cut short or rewritten, and the checkpoint is the proof. Each one is signed with the
store's Ed25519 key and links to the one before it, so a copy kept elsewhere (an adapter's
lineage, a published bundle, a git note) can be checked on its own.

The file is `<store>.checkpoints`, one JSON object per line. Writers take a lock
(`<store>.checkpoints.lock`), read the last line, append one line and fsync, so several
processes writing checkpoints for one store keep the numbering and links whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, ValidationError

from tether.core.types import utcnow
from tether.decisions.chain import canonical_json
from tether.decisions.keys import StoreKey, key_id, signature_ok
from tether.decisions.models import VerifyProblem
from tether.decisions.schema import GENESIS_HASH

CheckpointReason = Literal["interval", "training", "publish", "shutdown", "manual"]

#: Reasons that add nothing when the same head is already signed.
_ROUTINE = frozenset({"interval", "shutdown"})

#: How far back from the end of the file the last line is looked for.
_TAIL_BYTES = 8192


class CheckpointError(ValueError):
    """A checkpoint file or exported checkpoint that cannot be read; says which line."""


class Checkpoint(BaseModel):
    """The head of one store's chain at a moment, signed by that store's key."""

    model_config = ConfigDict(extra="forbid")

    n: int  # 1, 2, 3… within this store's checkpoint file
    store_id: str
    seq: int
    head_hash: str
    ts: str
    reason: CheckpointReason
    prev: str  # digest() of checkpoint n-1; GENESIS_HASH for the first
    key_id: str
    public_key: str  # raw Ed25519 public key, base64
    signature: str = ""

    def payload(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"signature"})).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.payload() + self.signature.encode()).hexdigest()

    def signed_ok(self, public_key: str | None = None) -> bool:
        """The signature holds for `public_key` (default: the key the checkpoint names)."""
        key = public_key or self.public_key
        if key_id(key) != self.key_id:
            return False
        return signature_ok(key, self.payload(), self.signature)

    def label(self) -> str:
        return f"checkpoint #{self.n} (row {self.seq}, {self.reason}, {self.ts})"

    def line(self) -> str:
        return canonical_json(self.model_dump(mode="json")) + "\n"


def checkpoint_path(db: Path) -> Path:
    return db.with_name(db.name + ".checkpoints")


def parse(text: str, source: str) -> list[Checkpoint]:
    """Checkpoints from JSON lines, or from one JSON object (an exported checkpoint)."""
    stripped = text.strip()
    if not stripped:
        return []
    lines = [stripped] if _is_single_object(stripped) else text.splitlines()
    out: list[Checkpoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(Checkpoint.model_validate_json(line))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "the line"
            raise CheckpointError(
                f"{source}:{number} is not a Tether checkpoint ({where}: {problem['msg']})"
            ) from None
    return out


def _is_single_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def read(path: Path) -> list[Checkpoint]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse(text, str(path))


def latest(path: Path) -> Checkpoint | None:
    """The last checkpoint in the file, reading only its end."""
    try:
        with path.open("rb") as f:
            return _last(f.fileno())
    except FileNotFoundError:
        return None


def _last(fd: int) -> Checkpoint | None:
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    start = max(0, size - _TAIL_BYTES)
    tail = os.pread(fd, size - start, start).decode("utf-8", errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    if start > 0:
        lines = lines[1:]  # the first may be cut
    if not lines:
        return None
    try:
        return Checkpoint.model_validate_json(lines[-1])
    except ValidationError as exc:
        raise CheckpointError(f"the last line of the checkpoint file is damaged: {exc}") from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    """The checkpoint file open for appending, under a lock every writer takes (filelock:
    the same on every platform), held until the line is written and synced."""
    with FileLock(str(path) + ".lock"):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            yield fd
        finally:
            os.close(fd)


def append(
    path: Path, key: StoreKey, *, store_id: str, seq: int, head_hash: str, reason: CheckpointReason
) -> Checkpoint:
    """Sign and append a checkpoint of (seq, head_hash); reuse the last one when it is the
    same head (unless this one marks an event: training, publish, manual).

    Durable on return (fsync). Several processes may call this at once: the numbering and
    the links stay whole under the file lock.
    """
    with _locked(path) as fd:
        last = _last(fd)
        same = last is not None and last.seq == seq and last.head_hash == head_hash
        if same and last is not None and (last.reason == reason or reason in _ROUTINE):
            return last  # that head is signed already (an event's own reason is kept)
        cp = Checkpoint(
            n=(last.n + 1) if last else 1,
            store_id=store_id,
            seq=seq,
            head_hash=head_hash,
            ts=utcnow(),
            reason=reason,
            prev=last.digest() if last else GENESIS_HASH,
            key_id=key.key_id,
            public_key=key.public_key,
        )
        cp.signature = key.sign(cp.payload())
        os.write(fd, cp.line().encode())
        os.fsync(fd)
        return cp


# ---------------------------------------------------------------------- checking
def check(
    checkpoints: list[Checkpoint],
    *,
    hash_at: Callable[[int], str | None],
    last_seq: int,
    store_id: str | None,
    public_key: str | None,
    source: str = "the checkpoint file",
    linked: bool = True,
) -> tuple[list[VerifyProblem], int]:
    """Problems between the log and these checkpoints, and the highest row they vouch for.

    `hash_at(seq)` is the log's hash of row `seq` (None when there is no such row);
    `linked` checks numbering and links (a whole file; not a single exported checkpoint).
    """
    problems: list[VerifyProblem] = []
    anchored = 0
    good: list[Checkpoint] = []
    previous: Checkpoint | None = None
    vouched = _vouched(checkpoints, public_key) if linked else [False] * len(checkpoints)
    for i, cp in enumerate(checkpoints):
        origin = f"{cp.label()} in {source}"
        if store_id is not None and cp.store_id != store_id:
            problems.append(
                VerifyProblem(
                    kind="checkpoint",
                    checkpoint=cp.n,
                    detail=f"{origin} belongs to another store ({cp.store_id}, this one is "
                    f"{store_id})",
                )
            )
            continue
        if not vouched[i] and not cp.signed_ok(public_key):
            whose = (
                "this store's key"
                if public_key is None or key_id(public_key) == cp.key_id
                else f"this store's key ({key_id(public_key)}; it names {cp.key_id})"
            )
            problems.append(
                VerifyProblem(
                    kind="checkpoint",
                    checkpoint=cp.n,
                    detail=f"{origin} is not signed by {whose}: forged or edited",
                )
            )
            continue
        if linked and previous is not None and cp.n != previous.n + 1:
            gone = list(range(previous.n + 1, cp.n))
            problems.append(
                VerifyProblem(
                    kind="checkpoint",
                    checkpoint=cp.n,
                    detail=f"checkpoint(s) {_ranges(gone)} were removed from {source}"
                    if gone
                    else f"{origin} is out of order after #{previous.n}",
                )
            )
        elif linked and previous is not None and cp.prev != previous.digest():
            problems.append(
                VerifyProblem(
                    kind="checkpoint",
                    checkpoint=cp.n,
                    detail=f"{origin} does not link to #{previous.n}: {source} was edited",
                )
            )
        previous = cp
        good.append(cp)
    # Rows cut from the end: the checkpoint reaching furthest past the log is the proof.
    beyond = [cp for cp in good if cp.seq > last_seq]
    if beyond:
        cp = max(beyond, key=lambda c: (c.seq, c.n))
        missing = list(range(last_seq + 1, cp.seq + 1))
        ends = "the log is empty" if last_seq == 0 else f"the log ends at row {last_seq}"
        problems.append(
            VerifyProblem(
                kind="truncated",
                seq=last_seq + 1,
                missing=missing,
                checkpoint=cp.n,
                detail=f"truncated after row {last_seq}: {ends}, but {_origin(cp, source)} "
                f"proves rows up to {cp.seq} existed (missing: {_ranges(missing)})",
            )
        )
    # The log against each checkpoint it still reaches, lowest row first: the first
    # disagreement, and the last checkpoint before it that agrees, bound the rewrite.
    agreeing: Checkpoint | None = None
    for cp in sorted((c for c in good if c.seq <= last_seq), key=lambda c: (c.seq, c.n)):
        actual = hash_at(cp.seq) if cp.seq > 0 else GENESIS_HASH
        if actual is None:
            continue  # a row missing inside the log: the chain walk names it
        if actual != cp.head_hash:
            since = agreeing.seq if agreeing else 0
            after = f"#{agreeing.n} at row {since}" if agreeing else "the start"
            problems.append(
                VerifyProblem(
                    kind="edited",
                    seq=since + 1,
                    checkpoint=cp.n,
                    detail=f"the log diverges from {_origin(cp, source)}: row {cp.seq} hashes "
                    f"to {actual[:12]}, the checkpoint says {cp.head_hash[:12]}; rows "
                    f"{since + 1}-{cp.seq} (after {after}, which still agrees) were rewritten",
                )
            )
            break
        agreeing = cp
        anchored = max(anchored, cp.seq)
    return problems, anchored


def _vouched(checkpoints: list[Checkpoint], public_key: str | None) -> list[bool]:
    """Per checkpoint: whether the signed last one vouches for it through unbroken links.

    Each checkpoint's `prev` covers the one before it, signature included, so a validly
    signed last checkpoint commits to every one it reaches by unbroken links.
    """
    vouched = [False] * len(checkpoints)
    if len(checkpoints) < 2 or not checkpoints[-1].signed_ok(public_key):
        return vouched
    for i in range(len(checkpoints) - 2, -1, -1):
        a, b = checkpoints[i], checkpoints[i + 1]
        if not (b.n == a.n + 1 and b.prev == a.digest()):
            break
        vouched[i] = True
    return vouched


def _origin(cp: Checkpoint, source: str) -> str:
    return cp.label() if source == "the checkpoint file" else f"{cp.label()} in {source}"


def _ranges(numbers: list[int]) -> str:
    """1,2,3,7 -> '1-3, 7' (a long run of missing rows stays one short phrase)."""
    if not numbers:
        return ""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


ranges = _ranges

"""State that drives the policy, derived from or verified against the chain.

The log is the truth; the other tables are conveniences, and an edit to them must neither
change what the policy does nor go unnoticed:
- pins are folded from the `pinned` rows (the `pins` table is only a mirror);
- a proposal's state is its last state-changing row (the `state` column is a mirror), and
  its texts and class must match its `proposed` row;
- profile snapshots and memory items carry a seal (HMAC with the store's key) over their
  content, and a snapshot's over the log row it was taken at: one that does not match is
  not used (the profile replays the log instead) and `verify` names it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from tether.core.types import Outcome, ProposalState
from tether.decisions.chain import Sealer, canonical_json
from tether.decisions.models import VerifyProblem


def state_after(outcome: str, transitions: Mapping[Outcome, ProposalState]) -> ProposalState | None:
    if outcome == Outcome.PROPOSED.value:
        return ProposalState.PENDING
    try:
        return transitions.get(Outcome(outcome))
    except ValueError:
        return None


def state_outcomes(transitions: Mapping[Outcome, ProposalState]) -> list[str]:
    """The outcomes that set a proposal's state (for SQL `IN (...)`)."""
    return [Outcome.PROPOSED.value, *(o.value for o in transitions)]


def derived_pins(conn: sqlite3.Connection) -> dict[str, str]:
    """Pins as the log says: every `pinned` row, in order (mode None unpins)."""
    return fold_pins(conn.execute(PINS_SQL).fetchall())


PINS_SQL = "SELECT class_key, body FROM decisions WHERE outcome = 'pinned' ORDER BY seq"


def fold_pins(rows: list[tuple[str | None, str]]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for class_key, body in rows:
        mode = json.loads(body).get("data", {}).get("mode")
        if class_key is None:
            continue
        if mode is None:
            pins.pop(class_key, None)
        else:
            pins[class_key] = mode
    return pins


def snapshot_seal_message(head_seq: int, head_hash: str, body: str) -> str:
    return f"snapshot:{head_seq}:{head_hash}:{hashlib.sha256(body.encode()).hexdigest()}"


def memory_seal_message(row: tuple[Any, ...]) -> str:
    """Over (id, kind, class_key, created_at, updated_at, votes, active, body text)."""
    return "memory:" + hashlib.sha256(canonical_json(list(row)).encode()).hexdigest()


def check_state(
    conn: sqlite3.Connection,
    sealer: Sealer | None,
    transitions: Mapping[Outcome, ProposalState],
    hash_at: Any,
) -> list[VerifyProblem]:
    """Everything outside the chain that disagrees with it."""
    return [
        *_check_pins(conn),
        *_check_proposals(conn, transitions),
        *(_check_sealed(conn, sealer, hash_at) if sealer is not None else []),
    ]


def _check_pins(conn: sqlite3.Connection) -> list[VerifyProblem]:
    logged = derived_pins(conn)
    table = dict(conn.execute("SELECT class_key, mode FROM pins").fetchall())
    out: list[VerifyProblem] = []
    for key in sorted(set(logged) | set(table)):
        want, have = logged.get(key), table.get(key)
        if want == have:
            continue
        if want is None:
            what = f"pin {key} = {have} is in the pins table but not in the log"
        elif have is None:
            what = f"pin {key} = {want} is in the log but was removed from the pins table"
        else:
            what = f"pin {key} was changed outside the chain to {have} (the log says {want})"
        out.append(VerifyProblem(kind="state", detail=f"{what}; the log's pins are used"))
    return out


def _check_proposals(
    conn: sqlite3.Connection, transitions: Mapping[Outcome, ProposalState]
) -> list[VerifyProblem]:
    outcomes = state_outcomes(transitions)
    marks = ",".join("?" * len(outcomes))
    logged: dict[str, tuple[str, int]] = {}
    proposed: dict[str, tuple[int, dict[str, Any]]] = {}
    for seq, pid, outcome, body in conn.execute(
        f"SELECT seq, proposal_id, outcome, body FROM decisions WHERE proposal_id IS NOT NULL "
        f"AND outcome IN ({marks}) ORDER BY seq",
        outcomes,
    ):
        state = state_after(outcome, transitions)
        if state is not None:
            logged[pid] = (state.value, seq)
        if outcome == Outcome.PROPOSED.value:
            proposed[pid] = (seq, json.loads(body))
    out: list[VerifyProblem] = []
    for pid, column, body in conn.execute("SELECT id, state, body FROM proposals ORDER BY id"):
        short = pid[:12]
        if pid not in logged:
            out.append(
                VerifyProblem(
                    kind="state",
                    detail=f"proposal {short} is not in the log (inserted outside the chain)",
                )
            )
            continue
        want, seq = logged[pid]
        inner = json.loads(body)
        for where, have in (("proposals table", column), ("proposal's body", inner.get("state"))):
            if have != want:
                out.append(
                    VerifyProblem(
                        kind="state",
                        seq=seq,
                        detail=f"proposal {short} is {have!r} in the {where}, but the log "
                        f"(row {seq}) says {want!r}: changed outside the chain",
                    )
                )
                break
        if pid not in proposed:
            continue  # its proposed row is gone: the chain walk names that
        at, row = proposed[pid]
        for field, logged_field in (
            ("original", "before"),
            ("proposed", "after"),
            ("class_key", "class_key"),
            ("path", "path"),
        ):
            if inner.get(field) != row.get(logged_field):
                out.append(
                    VerifyProblem(
                        kind="state",
                        seq=at,
                        detail=f"proposal {short}'s {field} differs from its proposed row "
                        f"{at}: changed outside the chain",
                    )
                )
                break
    return out


def _check_sealed(conn: sqlite3.Connection, sealer: Sealer, hash_at: Any) -> list[VerifyProblem]:
    out: list[VerifyProblem] = []
    for sid, head_seq, body, seal in conn.execute(
        "SELECT id, head_seq, body, seal FROM profile_snapshots ORDER BY id"
    ):
        at = hash_at(head_seq) if head_seq > 0 else None
        if at is None and head_seq > 0:
            continue  # the row is missing: the chain walk names it
        want = sealer(snapshot_seal_message(head_seq, at or "", body))
        if seal != want:
            out.append(
                VerifyProblem(
                    kind="state",
                    detail=f"profile snapshot #{sid} (row {head_seq}) was changed outside "
                    "Tether; it is not used (the profile replays the log)",
                )
            )
    for row in conn.execute(
        "SELECT id, kind, class_key, created_at, updated_at, votes, active, body, seal "
        "FROM memory_items ORDER BY id"
    ):
        if row[-1] != sealer(memory_seal_message(tuple(row[:-1]))):
            out.append(
                VerifyProblem(
                    kind="state",
                    detail=f"memory item {row[0][:12]} ({row[1]}) was changed outside "
                    "Tether; it is not used",
                )
            )
    return out

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
    after = {o: state_after(o, transitions) for o in outcomes}
    # Per proposal, in SQL (index on proposal_id): its last state-changing row and the
    # texts of its proposed row, next to what the proposals table holds.
    rows = conn.execute(
        f"""
        SELECT p.id, p.state, p.body, last.seq, last.outcome, first.seq,
               json_extract(first.body, '$.before'), json_extract(first.body, '$.after'),
               first.class_key, first.path
        FROM proposals p
        LEFT JOIN decisions last ON last.seq = (
            SELECT seq FROM decisions WHERE proposal_id = p.id AND outcome IN ({marks})
            ORDER BY seq DESC LIMIT 1)
        LEFT JOIN decisions first ON first.seq = (
            SELECT seq FROM decisions WHERE proposal_id = p.id AND outcome = 'proposed'
            ORDER BY seq LIMIT 1)
        ORDER BY p.id
        """,
        outcomes,
    ).fetchall()
    out: list[VerifyProblem] = []
    for pid, column, body, seq, outcome, at, before, proposed, class_key, path in rows:
        short = pid[:12]
        state = after.get(outcome) if outcome is not None else None
        if state is None:
            out.append(
                VerifyProblem(
                    kind="state",
                    detail=f"proposal {short} is in the proposals table but has no row in the log",
                )
            )
            continue
        want = state.value
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
        if at is None:
            continue  # its proposed row is gone: the chain walk names that
        logged = {"original": before, "proposed": proposed, "class_key": class_key, "path": path}
        changed = [k for k, v in logged.items() if inner.get(k) != v]
        if changed:
            out.append(
                VerifyProblem(
                    kind="state",
                    seq=at,
                    detail=f"proposal {short}'s {changed[0]} differs from its proposed row "
                    f"{at}: changed outside the chain",
                )
            )
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

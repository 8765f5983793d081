"""`tether profile`: per decision class, how often you approve, and what Tether does about it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from tether.cli.common import add_workspace_args, fail, open_for_reading, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "profile",
        help="show the decision profile (approval per class, interval, policy and why)",
        description="Per decision class: verdicts, approval mean and credible interval, the "
        "recent moving average, maturity, and the policy (auto / ask / quiet) with its reason.",
    )
    add_workspace_args(parser)
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="recompute the profile from the decision log, check it against the incremental "
        "state and save it as the new snapshot",
    )
    parser.add_argument(
        "--plot", type=Path, metavar="FILE.svg", help="also draw the posteriors into an SVG file"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import StoreError
    from tether.profile import ProfileStore, profile_svg, profile_view, rebuild

    settings = settings_for(args)
    stack = contextlib.AsyncExitStack()
    try:
        store = await stack.enter_async_context(open_for_reading(args))
    except StoreError as exc:
        return fail(str(exc))
    async with stack:
        incremental = await ProfileStore.load(store, settings)
        profile = incremental.profile
        rebuilt_info: dict[str, Any] | None = None
        if args.rebuild:
            profile = await rebuild(store, settings)
            rebuilt_info = {
                "rows": profile.last_seq,
                "matches_incremental": profile.to_snapshot() == incremental.profile.to_snapshot(),
                "snapshot_saved": True,
            }
            try:
                await store.save_profile_snapshot(profile.last_seq, profile.to_snapshot())
            except StoreError as exc:
                rebuilt_info["snapshot_saved"] = False
                print(f"tether: warning: snapshot not saved: {exc}", file=sys.stderr)
        pins = await store.pins()
        living = await _living_tether(store, settings.teacher)
    view = profile_view(profile, pins)
    if args.plot:
        try:
            args.plot.write_text(profile_svg(profile, pins), encoding="utf-8")
        except OSError as exc:
            return fail(f"cannot write {args.plot}: {exc.strerror or exc}")
    if args.json:
        body = view.model_dump(mode="json")
        if rebuilt_info is not None:
            body["rebuild"] = rebuilt_info
        body.update({k: v.model_dump(mode="json") for k, v in living.items()})
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(_render(view, rebuilt_info, args.plot))
        print(_render_living(**living))
    return 0


async def _living_tether(store: Any, teacher: str | None) -> dict[str, Any]:
    """Decisions made through `tether serve` (counted apart) and what the student saved."""
    from tether.publish import production
    from tether.publish.savings import savings

    return {"production": await production.counts(store), "savings": await savings(store, teacher)}


def _render_living(production: Any, savings: Any) -> str:
    reviewed = production.confirmed + production.overturned
    lines = [
        "",
        f"production (tether serve): {production.pending} awaiting review, "
        f"{production.confirmed} confirmed, {production.overturned} overturned, "
        f"{production.discarded} discarded; only the {reviewed} reviewed count above"
        + ("; review them with `tether review`" if production.pending else ""),
        savings.summary(),
    ]
    return "\n".join(lines)


def _render(view: Any, rebuilt: dict[str, Any] | None, plot: Path | None) -> str:
    lines = []
    if rebuilt is not None:
        verdict = (
            "identical to the incremental state"
            if rebuilt["matches_incremental"]
            else "DIFFERENT from the incremental state (the rebuilt numbers are shown)"
        )
        saved = "saved as the new snapshot" if rebuilt["snapshot_saved"] else "not saved"
        lines.append(f"rebuilt from {rebuilt['rows']} log rows: {verdict}; {saved}")
    state = "mature" if view.mature else "not mature"
    lines.append(
        f"profile: {len(view.classes)} classes, {view.decisions} decisions, {state} "
        f"({view.mature_share:.0%} of traffic in mature classes; needs {view.maturity_share:.0%})"
    )
    lines.append(f"prior: Beta({view.prior.alpha:.2f}, {view.prior.beta:.2f}), {view.prior.reason}")
    if not view.classes:
        lines.append("no decisions yet: accept or reject a few proposals first")
        return "\n".join(lines)
    mass = f"{view.credible_mass:.0%}"
    width = max(5, *(len(c.class_key) for c in view.classes))
    header = (
        f"{'CLASS':<{width}}  {'N':>4} {'ACC':>4} {'REJ':>4} {'COR':>4}  {'MEAN':>5}  "
        f"{mass + ' INTERVAL':<14}  {'EMA':>5}  {'MATURE':<6}  POLICY"
    )
    lines += ["", header]
    for c in view.classes:
        ema = f"{c.ema:.2f}" if c.ema is not None else "-"
        lines.append(
            f"{c.class_key:<{width}}  {c.n:>4} {c.accepts:>4} {c.rejects:>4} {c.corrections:>4}"
            f"  {c.mean:>5.2f}  [{c.lower:.2f}, {c.upper:.2f}]{'':<2}  {ema:>5}  "
            f"{'yes' if c.mature else 'no':<6}  {c.policy}"
            + (f" (pinned {c.pin})" if c.pin else "")
        )
        lines.append(f"    {c.reason}")
    if plot is not None:
        lines.append(f"\nplot written to {plot}")
    return "\n".join(lines)

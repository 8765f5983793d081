"""`tether init`: write a commented starter agent spec into the workspace."""

from __future__ import annotations

import argparse

from tether.cli.common import add_workspace_args, fail


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "init", help="write a starter .tether/agent.md (the agent spec) into the workspace"
    )
    add_workspace_args(parser, db=False)
    parser.add_argument("--force", action="store_true", help="overwrite an existing spec")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tether.agent.spec import SPEC_FILE, SpecError, parse_agent_md
    from tether.agent.starter import STARTER_AGENT_MD

    workspace = args.workspace.expanduser()
    if not workspace.is_dir():
        return fail(f"{workspace} is not a directory")
    target = workspace / SPEC_FILE
    if target.exists() and not args.force:
        return fail(f"{target} already exists; use --force to overwrite it")
    try:  # the starter must itself be a valid spec
        parse_agent_md(STARTER_AGENT_MD, str(target))
    except SpecError as exc:  # pragma: no cover - guarded by tests
        return fail(f"internal error: the starter spec is invalid: {exc}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER_AGENT_MD, encoding="utf-8")
    print(f"wrote {target}: edit it to describe your agent")
    toml = workspace / "tether.toml"
    if toml.is_file() and "[agent" in toml.read_text(encoding="utf-8"):
        print(f"note: {toml} also has an [agent] table; remove one of the two", flush=True)
    return 0

"""`tether publish`: bundle the matured agent for Ollama, llama.cpp and transformers."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from tether.cli.common import add_workspace_args, db_path, fail, settings_for, workspace_paths

#: Exit codes: 1 error, 3 the gate refused (not mature enough), 4 parity check failed.
GATE_REFUSED = 3
PARITY_FAILED = 4


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "publish",
        help="write the matured agent as a bundle: PEFT + GGUF adapter, base GGUF, Modelfile",
        description="Checks the gate (a mature profile and an active adapter whose held-out "
        "evaluation clears publish.min_preference_accuracy), then writes the bundle to "
        "<store>/published/vN (or -o DIR) and records the publication in the decision log. "
        "`--verify DIR` checks an existing bundle against its manifest instead.",
    )
    add_workspace_args(parser)
    parser.add_argument("-o", "--out", type=Path, help="bundle folder (must not exist)")
    parser.add_argument("--base", type=Path, help="base model GGUF (default: the embedded one)")
    parser.add_argument("--merge", action="store_true", help="also write merged.gguf (float16)")
    parser.add_argument("--force", action="store_true", help="publish even if the gate refuses")
    parser.add_argument(
        "--parity",
        action="store_true",
        help="check in llama.cpp that the GGUF adapter answers as transformers+PEFT does",
    )
    parser.add_argument("--verify", type=Path, metavar="DIR", help="check a bundle's manifest")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.verify is not None:
        return _verify(args.verify, as_json=args.json)
    return asyncio.run(_run(args))


def _verify(folder: Path, *, as_json: bool) -> int:
    from tether.publish.manifest import BundleError, verify_manifest

    try:
        manifest = verify_manifest(folder)
    except BundleError as exc:
        return fail(str(exc))
    if as_json:
        print(json.dumps({"ok": True, "files": len(manifest.files), "version": manifest.version}))
    else:
        print(f"bundle {manifest.version} OK: {len(manifest.files)} files match the manifest")
    return 0


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import DecisionStore, StoreError
    from tether.embedded import EmbeddedModelMissing
    from tether.publish.bundle import GateRefused, PublishRequest, publish
    from tether.publish.manifest import BundleError

    settings = settings_for(args)
    paths = workspace_paths(args, settings)
    try:
        store = await DecisionStore.open(db_path(args), create=False)
    except StoreError as exc:
        return fail(str(exc))
    request = PublishRequest(out=args.out, base_gguf=args.base, merge=args.merge, force=args.force)
    async with store:
        try:
            result = await publish(store, paths, settings, request)
        except GateRefused as exc:
            if args.json:
                print(json.dumps({"status": "refused", "gate": exc.gate.model_dump(mode="json")}))
            fail(str(exc))
            return GATE_REFUSED
        except (BundleError, EmbeddedModelMissing) as exc:
            return fail(str(exc))
    parity = None
    if args.parity:
        from tether.publish.bundle import ADAPTER_GGUF, BASE_GGUF
        from tether.publish.parity import LlamaCppMissing, check_parity

        bundle = Path(result.path)
        try:
            parity = await asyncio.to_thread(
                check_parity, bundle / BASE_GGUF, bundle / ADAPTER_GGUF, bundle / "adapter"
            )
        except LlamaCppMissing as exc:
            return fail(str(exc))
    if args.json:
        out = {"status": "published", **result.model_dump(mode="json")}
        if parity is not None:
            out["parity"] = parity.model_dump(mode="json")
        print(json.dumps(out, indent=2))
    else:
        forced = " (forced past the gate)" if result.gate.forced else ""
        print(
            f"published {result.version}{forced}: adapter {result.adapter_version}, "
            f"{result.files} files, {result.bytes / 1e6:.1f} MB, {result.seconds:.1f} s"
        )
        print(f"  {result.path}")
        print(f"  ollama create tether-{result.version} -f {Path(result.path) / 'Modelfile'}")
        print(f"  then, as the editors' student: model = ollama:tether-{result.version}")
        if parity is not None:
            print("  " + parity.summary())
    if parity is not None and not parity.all_equal:
        return PARITY_FAILED
    return 0

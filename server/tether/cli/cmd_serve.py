"""`tether serve`: the agent as an HTTP API (OpenAI-compatible chat, propose, decisions)."""

from __future__ import annotations

import argparse
import sys

from tether.cli.common import add_workspace_args, fail, settings_for, workspace_paths

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve",
        help="serve the agent over HTTP (FastAPI + uvicorn), loopback and token-protected",
        description="OpenAI-compatible POST /v1/chat/completions and GET /v1/models, plus "
        "POST /v1/propose and POST /v1/decisions. Every route but /health needs the bearer "
        "token, made on first run and kept (mode 0600) in the workspace's store folder. "
        "Decisions made through the API wait for your review (tether review, or the "
        "editor's history) before they teach anything.",
    )
    add_workspace_args(parser, db=False)
    parser.add_argument("--host", help="address to bind (default serve.host: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default serve.port: 8765)")
    parser.add_argument(
        "--backend",
        choices=["inprocess", "llamacpp", "ollama", "vllm"],
        help="who generates (default serve.backend: inprocess transformers+PEFT)",
    )
    parser.add_argument("--engine-url", help="the engine's base URL (default: its usual port)")
    parser.add_argument("--engine-model", help="model (or LoRA) name at the engine")
    parser.add_argument("--show-token", action="store_true", help="print the token and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tether.serve import auth

    settings = settings_for(args)
    serve = settings.serve.model_copy(
        update={
            k: v
            for k, v in {
                "host": args.host,
                "port": args.port,
                "backend": args.backend,
                "engine_url": args.engine_url,
                "engine_model": args.engine_model,
            }.items()
            if v is not None
        }
    )
    settings = settings.model_copy(update={"serve": serve})
    paths = workspace_paths(args, settings).ensure()
    token_file = paths.root / auth.TOKEN_FILE
    token, created = auth.load_or_create(token_file)
    if args.show_token:
        print(token)
        return 0
    if serve.host not in LOOPBACK:
        print(
            f"tether serve: warning: binding {serve.host}, reachable from other machines; "
            "anyone with the token can use the agent",
            file=sys.stderr,
        )
    try:
        import uvicorn

        from tether.serve.app import ServeState, create_app
        from tether.serve.backends import engine_provider
    except ImportError as exc:
        return fail(f"tether serve needs FastAPI and uvicorn ({exc}); run `make setup`")
    student = None
    if serve.backend != "inprocess":
        student = engine_provider(
            serve.backend, serve.engine_url, serve.engine_model, settings.request_timeout
        )
    state = ServeState(
        workspace=workspace_paths(args, settings).workspace,
        settings=settings,
        token=token,
        student=student,
    )
    if created:
        print(f"tether serve: new token (kept in {token_file}, mode 0600): {token}", flush=True)
    else:
        print(f"tether serve: token in {token_file} (tether serve --show-token)", flush=True)
    print(
        f"tether serve: {serve.backend} backend, token id {auth.token_id(token)}, "
        f"http://{serve.host}:{serve.port}",
        flush=True,
    )
    uvicorn.run(
        create_app(state),
        host=serve.host,
        port=serve.port,
        log_level="info",
        access_log=False,
        server_header=False,
    )
    return 0

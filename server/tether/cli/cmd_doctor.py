"""`tether doctor`: what is installed, what is missing, and the command that fixes it."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import shutil
import sys
from typing import Any

from tether import __version__, embedded
from tether.cli.common import add_workspace_args, settings_for, workspace_paths
from tether.paths import WorkspacePaths

_PACKAGES = {
    "pygls": "core",
    "lsprotocol": "core",
    "aiosqlite": "core",
    "pydantic": "core",
    "torch": "train",
    "transformers": "train",
    "peft": "train",
    "trl": "train",
    "datasets": "train",
    "litellm": "teacher",
    "ollama": "ollama",
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("doctor", help="check the installation and show what is missing")
    add_workspace_args(p, db=False)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _device() -> dict[str, Any]:
    if _version("torch") is None:
        return {"device": None}
    import torch

    info: dict[str, Any] = {"device": embedded.pick_device(), "threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["cuda"] = torch.cuda.get_device_name(0)
    return info


def _servers(wp: WorkspacePaths) -> list[dict[str, Any]]:
    """The language servers running on this workspace (one per editor window) and the
    memory each holds now (resident set size)."""
    from tether.instances import running

    return [
        {
            "pid": r.pid,
            "rssBytes": r.rss_bytes,
            "modelLoaded": r.model_loaded,
            "model": r.model,
            "clientPid": r.client_pid,
        }
        for r in running(wp)
    ]


def _engines() -> list[dict[str, Any]]:
    """Local engines (Ollama, llama.cpp's server, vLLM) on their usual loopback ports."""
    import asyncio

    try:
        from tether.serve.engines import discover
    except ImportError:  # httpx missing: nothing to probe with
        return []
    engines = asyncio.run(discover())
    return [
        {
            **e.model_dump(),
            "choices": e.student_choices,  # values the model setting takes as they are
            "env": {k: v for c in e.choices() for k, v in c.env.items()},  # what they need
        }
        for e in engines
    ]


def _recommendation(current: str, engines: list[dict[str, Any]]) -> str:
    """A student for this machine: memory, the GPU (when torch sees one), pulled models."""
    import psutil

    from tether.core.recommend import recommend_student

    gpu = None
    if _version("torch") is not None and "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_properties(0).total_memory / 2**30
    pulled = [m for e in engines if e.get("kind") == "ollama" for m in e.get("models", [])]
    return recommend_student(current, psutil.virtual_memory().total / 2**30, gpu, pulled)


def collect(args: argparse.Namespace) -> dict[str, Any]:
    settings = settings_for(args)
    wp = workspace_paths(args, settings)
    problems: list[dict[str, str]] = []
    versions = {name: _version(name) for name in _PACKAGES}
    for name, extra in _PACKAGES.items():
        if versions[name] is None:
            fix = (
                "pip install torch==2.13.0"
                if name == "torch"
                else f"pip install -e '.[{extra}]'"
                if extra != "core"
                else "pip install -e ."
            )
            problems.append({"what": f"{name} is not installed ({extra})", "fix": fix})
    model = embedded.status()
    if not model["installed"]:
        problems.append({"what": "embedded model missing", "fix": model["fix"]})
    db = wp.db
    store = {
        "path": str(db),
        "exists": db.exists(),
        "bytes": db.stat().st_size if db.exists() else 0,
    }
    if settings.model.startswith("ollama:") and _version("ollama") is None:
        problems.append(
            {
                "what": "model is ollama but the client is missing",
                "fix": "pip install -e '.[ollama]'",
            }
        )
    if settings.teacher and _version("litellm") is None:
        problems.append(
            {
                "what": "a teacher is configured but litellm is missing",
                "fix": "pip install -e '.[teacher]'",
            }
        )
    engines = _engines()
    device = _device()  # imports torch when installed: the GPU's memory is known after it
    return {
        "servers": _servers(wp),
        "engines": engines,
        "recommended_student": _recommendation(settings.model, engines),
        "idle_unload_seconds": settings.model_idle_unload_seconds,
        "tether": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "executable": sys.executable,
        "torch": device,
        "versions": versions,
        "model": settings.model,
        "teacher": settings.teacher,
        "embedded_model": model,
        "store": store,
        "data_root": str(settings.data_root),
        "nvim": shutil.which("nvim"),
        "problems": problems,
    }


def run(args: argparse.Namespace) -> int:
    report = collect(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return 1 if report["problems"] else 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="tether doctor", show_header=False)
    table.add_row("Tether", report["tether"])
    table.add_row("Python", f"{report['python']} ({report['executable']})")
    torch_info = report["torch"]
    table.add_row(
        "Torch device",
        str(torch_info.get("device") or "torch not installed")
        + (f" — {torch_info['cuda']}" if torch_info.get("cuda") else ""),
    )
    em = report["embedded_model"]
    table.add_row(
        "Embedded model",
        ("installed" + (", converted" if em["converted"] else ", converts on first use"))
        if em["installed"]
        else "MISSING",
    )
    table.add_row("Student / teacher", f"{report['model']} / {report['teacher'] or 'none'}")
    table.add_row("Recommended student", report["recommended_student"])
    st = report["store"]
    table.add_row(
        "Store",
        f"{st['path']} ({st['bytes']:,} bytes)"
        if st["exists"]
        else f"{st['path']} (created on first use)",
    )
    servers = report["servers"]
    table.add_row(
        "Language servers",
        "; ".join(
            f"pid {s['pid']}: {s['rssBytes'] / 2**20:,.0f} MiB"
            + (", model loaded" if s["modelLoaded"] else "")
            for s in servers
        )
        or "none running on this workspace",
    )
    table.add_row(
        "Local engines",
        "; ".join(
            f"{e['kind']} at {e['url']}: "
            + (", ".join(f"model = {c}" for c in e["choices"]) or "no models listed")
            + "".join(f" (with {k}={v})" for k, v in e.get("env", {}).items())
            for e in report["engines"]
        )
        or "none found (Ollama 11434, llama.cpp 8080/8081, vLLM 8000)",
    )
    idle = report["idle_unload_seconds"]
    table.add_row("Model idle unload", f"after {idle:g} s unused" if idle else "off (stays loaded)")
    for name, version in report["versions"].items():
        table.add_row(name, version or "not installed")
    console.print(table)
    if report["problems"]:
        for p in report["problems"]:
            console.print(f"[red]✗[/red] {p['what']} — fix: [bold]{p['fix']}[/bold]")
        return 1
    console.print("[green]✓ everything Tether needs is here[/green]")
    return 0

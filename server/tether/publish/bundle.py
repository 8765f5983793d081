"""`tether publish`: the matured agent as a folder other runtimes can load.

A bundle (`<store>/published/vN/`, or a folder the user names) holds:
- `adapter/`: the PEFT adapter (what transformers + peft load) with its lineage.json;
- `adapter.gguf`: the same adapter in llama.cpp's adapter layout (Ollama, llama.cpp);
- `base.gguf`: the base model as GGUF (the embedded model's own file, or the user's);
- `merged.gguf` (with `merge=True`): base + adapter in one float16 GGUF;
- `Modelfile`: `ollama create NAME -f Modelfile` gives the trained agent;
- `agent.json`, `profile.json`, `rules.json`, `lineage.json`, `README.md` (model card);
- `manifest.json`: every file's SHA-256 (`tether.publish.manifest.verify_manifest`).

The bundle is written in a temporary folder beside its destination and renamed into place,
so a failure leaves nothing half-written; the publication is then a chained decision row
(`published`) naming the version, the manifest's hash and whether the gate was forced.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tether import embedded
from tether.config import Settings
from tether.core.types import Actor, Outcome, utcnow
from tether.decisions.models import DecisionContent, DecisionRecord
from tether.decisions.store import DecisionStore
from tether.paths import WorkspacePaths
from tether.publish import gguf_adapter, modelfile
from tether.publish.gate import PublishGate, check
from tether.publish.manifest import MANIFEST, BundleError, Manifest, write_manifest
from tether.training.lineage import LINEAGE_FILE, file_sha256

ADAPTER_GGUF = "adapter.gguf"
BASE_GGUF = "base.gguf"
MERGED_GGUF = "merged.gguf"
_PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors", LINEAGE_FILE)


class PublishRequest(BaseModel):
    out: Path | None = None  # default: <store>/published/vN
    base_gguf: Path | None = None  # default: the embedded model's GGUF
    merge: bool = False
    force: bool = False
    name: str = "tether"


class PublishResult(BaseModel):
    version: str
    path: str
    gate: PublishGate
    adapter_version: str
    files: int
    bytes: int
    seconds: float
    record_seq: int
    timings: dict[str, float] = Field(default_factory=dict)


class GateRefused(BundleError):
    """The profile or the adapter is not mature enough; `gate` has the numbers."""

    def __init__(self, gate: PublishGate) -> None:
        super().__init__(gate.explain())
        self.gate = gate


def published_root(paths: WorkspacePaths) -> Path:
    return paths.root / "published"


def next_version(root: Path) -> str:
    taken = [int(p.name[1:]) for p in root.glob("v*") if p.name[1:].isdigit()]
    return f"v{max(taken, default=0) + 1}"


async def _profile_state(store: DecisionStore, settings: Settings) -> tuple[float, dict[str, Any]]:
    from tether.profile.store import ProfileStore
    from tether.profile.view import profile_view

    profile = (await ProfileStore.load(store, settings)).profile
    view = profile_view(profile, await store.pins())
    return profile.mature_share(), view.model_dump(mode="json")


async def _rules(store: DecisionStore) -> list[dict[str, Any]]:
    from tether.memory.memory import Memory

    # Rules hold the user's own words (reasons, lessons): redacted like anything that leaves.
    return [_redacted(r.model_dump(mode="json")) for r in await Memory(store).rules()]


def _redacted(value: Any) -> Any:
    from tether.core.redaction import redact

    if isinstance(value, str):
        return redact(value)[0]
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _card(
    version: str,
    adapter_version: str,
    lineage: dict[str, Any],
    gate: PublishGate,
    head: tuple[int, str],
    base_name: str,
    merged: bool,
) -> str:
    metrics = lineage.get("metrics", {}).get("candidate", {})
    decision_range = lineage.get("decision_range", {})
    rows = "\n".join(
        f"| {name} | {value} |" for name, value in sorted(metrics.items()) if value is not None
    )
    checks = "\n".join(
        f"- {c.name}: {'ok' if c.ok else 'FAILED'} — {c.detail}" for c in gate.checks
    )
    forced = "\n**Published with --force: the gate above did not pass.**\n" if gate.forced else ""
    return f"""# Tether agent, publication {version}

A LoRA adapter ({adapter_version}, {lineage.get("method", "?")}) trained on one user's own
accept / reject / correct decisions in the editor, on the base model `{base_name}`.

## Use it
- Ollama: `ollama create tether-{version} -f Modelfile`, then `ollama run tether-{version}`;
  as Tether's own student in the editors: model `ollama:tether-{version}`.
- llama.cpp: `llama-server -m {BASE_GGUF} --lora {ADAPTER_GGUF}`.
- transformers + peft: `PeftModel.from_pretrained(base, "adapter")`.
{"- One file, no adapter support needed: `" + MERGED_GGUF + "`." if merged else ""}

## Evaluation (held-out decisions)
| metric | value |
| --- | --- |
{rows}

## Gate
{checks}
{forced}
## Provenance
- Decisions used: rows {decision_range.get("first_seq")}–{decision_range.get("last_seq")}
  (log head at training: {lineage.get("head_hash", "")[:16]}…).
- Decision log head at publication: row {head[0]}, hash `{head[1]}`.
- Data hash: `{lineage.get("data_hash", "")}`; weights: `{lineage.get("adapter_sha256", "")}`.
- Every file's SHA-256 is in `{MANIFEST}`.
"""


def _write_bundle(
    staging: Path,
    *,
    adapter_dir: Path,
    base_gguf: Path,
    request: PublishRequest,
    settings: Settings,
    workspace: Path,
    version: str,
    adapter_version: str,
    gate: PublishGate,
    head: tuple[int, str],
    checkpoint: dict[str, Any] | None = None,
    profile: dict[str, Any],
    rules: list[dict[str, Any]],
    timings: dict[str, float],
) -> None:
    from tether.agent.spec import SpecError, load_spec

    tick = time.perf_counter()
    peft_dir = staging / "adapter"
    peft_dir.mkdir()
    for name in _PEFT_FILES:
        if (adapter_dir / name).is_file():
            shutil.copy2(adapter_dir / name, peft_dir / name)
    shutil.copy2(base_gguf, staging / BASE_GGUF)
    timings["copy"] = time.perf_counter() - tick

    tick = time.perf_counter()
    gguf_adapter.write_adapter(
        adapter_dir,
        staging / BASE_GGUF,
        staging / ADAPTER_GGUF,
        name=f"{request.name} {adapter_version}",
    )
    gguf_adapter.check_compatible(staging / ADAPTER_GGUF, staging / BASE_GGUF)
    timings["gguf_adapter"] = time.perf_counter() - tick
    if request.merge:
        from tether.publish.gguf_base import export_float

        tick = time.perf_counter()
        config = json.loads((adapter_dir / "adapter_config.json").read_text())
        base = gguf_adapter.read_base(staging / BASE_GGUF)
        pairs = gguf_adapter.lora_pairs(adapter_dir, base)
        scale = gguf_adapter.gguf_alpha(config) / float(config.get("r", 8))
        export_float(
            staging / BASE_GGUF, staging / MERGED_GGUF, dtype="f16", merge=pairs, scale=scale
        )
        timings["merge"] = time.perf_counter() - tick

    try:
        spec = load_spec(workspace)
    except SpecError as exc:
        raise BundleError(f"the agent spec is invalid, so it cannot be published: {exc}") from None
    (staging / "agent.json").write_text(json.dumps(spec.model_dump(mode="json"), indent=2) + "\n")
    (staging / "Modelfile").write_text(
        modelfile.render(
            modelfile.ModelfileSpec(
                base=f"./{BASE_GGUF}",
                adapter=f"./{ADAPTER_GGUF}",
                system=modelfile.system_text(spec),
                parameters=modelfile.parameters(settings),
            )
        )
    )
    (staging / "profile.json").write_text(json.dumps(profile, indent=2) + "\n")
    (staging / "rules.json").write_text(json.dumps(rules, indent=2) + "\n")
    lineage_file = adapter_dir / LINEAGE_FILE
    lineage = json.loads(lineage_file.read_text()) if lineage_file.is_file() else {}
    publication = {
        "version": version,
        "adapter_version": adapter_version,
        "adapter": lineage,
        "base_gguf": {"name": base_gguf.name, "sha256": file_sha256(base_gguf)},
        "gate": gate.model_dump(mode="json"),
        "head_seq": head[0],
        "head_hash": head[1],
        "checkpoint": checkpoint,  # signed (tether.decisions.checkpoints); verify checks it
        "created_at": utcnow(),
    }
    (staging / "lineage.json").write_text(json.dumps(publication, indent=2) + "\n")
    (staging / "README.md").write_text(
        _card(version, adapter_version, lineage, gate, head, base_gguf.name, request.merge)
    )


async def publish(
    store: DecisionStore,
    paths: WorkspacePaths,
    settings: Settings,
    request: PublishRequest,
) -> PublishResult:
    """Check the gate, write the bundle atomically, record the publication; see the module doc."""
    started = time.perf_counter()
    mature_share, profile = await _profile_state(store, settings)
    active = await store.active_adapter()
    gate = check(mature_share, active, settings.publish, force=request.force)
    if active is None:
        raise BundleError(
            "there is no active adapter to publish: train one first (`tether train`), then publish."
        )
    if not gate.ok:
        raise GateRefused(gate)
    adapter_dir = Path(active.path)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise BundleError(f"the active adapter's folder {adapter_dir} is missing or incomplete.")
    base_gguf = (request.base_gguf or embedded.gguf_path()).expanduser()
    if not base_gguf.is_file():
        raise BundleError(f"the base GGUF {base_gguf} does not exist.")
    root = published_root(paths)
    version = next_version(root) if request.out is None else request.out.name
    target = request.out or root / version
    if target.exists():
        raise BundleError(f"{target} already exists; choose another folder with -o.")
    target.parent.mkdir(parents=True, exist_ok=True)
    signed = await store.checkpoint("publish")  # the head, signed, kept in the bundle
    head = (signed.seq, signed.head_hash)
    rules = await _rules(store)
    timings: dict[str, float] = {}
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        _write_bundle(
            staging,
            adapter_dir=adapter_dir,
            base_gguf=base_gguf,
            request=request,
            settings=settings,
            workspace=paths.workspace,
            version=version,
            adapter_version=active.version,
            gate=gate,
            head=head,
            checkpoint=signed.model_dump(mode="json"),
            profile=profile,
            rules=rules,
            timings=timings,
        )
        tick = time.perf_counter()
        write_manifest(
            staging,
            Manifest(
                version=version,
                created_at=utcnow(),
                adapter_version=active.version,
                head_seq=head[0],
                head_hash=head[1],
            ),
        )
        timings["manifest"] = time.perf_counter() - tick
        staging.chmod(0o755)
        staging.rename(target)
    except gguf_adapter.GGUFAdapterError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundleError(str(exc)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = [p for p in target.rglob("*") if p.is_file()]
    record = await record_publication(store, target, version, active.version, gate)
    return PublishResult(
        version=version,
        path=str(target),
        gate=gate,
        adapter_version=active.version,
        files=len(files),
        bytes=sum(p.stat().st_size for p in files),
        seconds=time.perf_counter() - started,
        record_seq=record.seq,
        timings=timings,
    )


async def record_publication(
    store: DecisionStore, target: Path, version: str, adapter_version: str, gate: PublishGate
) -> DecisionRecord:
    return await store.append(
        DecisionContent(
            ts=utcnow(),
            outcome=Outcome.PUBLISHED,
            actor=Actor.USER,
            adapter_version=adapter_version,
            reason="published with --force" if gate.forced else None,
            data={
                "version": version,
                "path": str(target),
                "manifest_sha256": file_sha256(target / MANIFEST),
                "forced": gate.forced,
                "gate": [c.model_dump(mode="json") for c in gate.checks],
            },
        )
    )

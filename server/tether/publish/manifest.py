"""`manifest.json`: the SHA-256 of every file of a bundle, so a copy can be checked.

A bundle travels (to another machine, into Ollama, to a colleague); `verify_manifest`
tells whether any file was changed, added or lost since it was written.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from tether.training.lineage import file_sha256

MANIFEST = "manifest.json"


class BundleError(ValueError):
    """A bundle that cannot be written or trusted; the message says why and what to do."""


class FileEntry(BaseModel):
    path: str  # relative to the bundle, POSIX separators
    bytes: int
    sha256: str


class Manifest(BaseModel):
    version: str  # the publication's version (v1, v2, …)
    created_at: str
    adapter_version: str | None
    head_seq: int
    head_hash: str
    files: list[FileEntry] = Field(default_factory=list)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Hash every file under `folder` into `manifest.files` and write manifest.json."""
    manifest.files = [
        FileEntry(
            path=p.relative_to(folder).as_posix(), bytes=p.stat().st_size, sha256=file_sha256(p)
        )
        for p in _files(folder)
    ]
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    return path


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise BundleError(f"{folder} has no {MANIFEST}: it is not a Tether bundle.")
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        raise BundleError(f"{path} is not a valid manifest (damaged or hand-edited).") from None


def verify_manifest(folder: Path) -> Manifest:
    """Raise BundleError naming every file that changed, went missing or was added."""
    manifest = read_manifest(folder)
    problems: list[str] = []
    listed = {entry.path for entry in manifest.files}
    for entry in manifest.files:
        path = folder / entry.path
        if not path.is_file():
            problems.append(f"{entry.path} is missing")
        elif file_sha256(path) != entry.sha256:
            problems.append(f"{entry.path} changed (its SHA-256 differs)")
    for path in _files(folder):
        rel = path.relative_to(folder).as_posix()
        if rel not in listed:
            problems.append(f"{rel} is not in the manifest")
    if problems:
        raise BundleError(
            f"the bundle {folder} does not match its manifest: {'; '.join(problems)}. "
            "Publish again, or copy the bundle again from where it was written."
        )
    return manifest

"""A bounded disk cache of what a training run computes that does not change between runs.

Two kinds of entries, both keyed by (base model hash, K, the example's token hash):
the frozen layers' output for a pair (`frozen`) and the reference model's log-probabilities
of its two answers (`ref`). A retrain after new decisions then runs the frozen layers and
the reference only for the new pairs.

Why it can be trusted:
- the namespace (a folder) names the base model's weights hash, K and the dtype, so a
  different base model or K never reads another's entries;
- every entry carries the sha256 of its tensors and its own key; an entry that does not
  load, or whose bytes or key do not match, is deleted and recomputed, never used;
- entries are written to a temporary file and renamed into place, so a run killed while
  writing leaves a stray temporary file (removed at the next open), never half an entry;
- a read-only or full disk stops the writing with one clear message; the run goes on and
  computes what it needs (reads still work).
The cache is bounded: after each run the least recently used entries (file mtimes, touched
on every hit) are removed until the whole cache folder fits `max_bytes`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SUFFIX = ".safetensors"
TMP_SUFFIX = ".tmp"

Warn = Callable[[str], None]


@dataclass
class CacheStats:
    """What a run got from the cache; written into the adapter's lineage."""

    hits: int = 0
    misses: int = 0
    corrupt: int = 0  # entries found broken, deleted and recomputed
    writes: int = 0
    write_errors: int = 0
    evicted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def model_hash(model_dir: Path) -> str:
    """sha256 of a model folder's weights and config: what the cached features depend on."""
    h = hashlib.sha256()
    files = sorted(
        p
        for p in model_dir.iterdir()
        if p.is_file() and (p.suffix in (".safetensors", ".bin") or p.name == "config.json")
    )
    if not files:
        raise FileNotFoundError(f"no model weights in {model_dir}")
    for path in files:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def token_key(*sequences: Iterable[int]) -> str:
    """sha256 of token id sequences (their lengths included, so splits cannot collide)."""
    h = hashlib.sha256()
    for seq in sequences:
        ids = list(seq)
        h.update(len(ids).to_bytes(4, "little"))
        h.update(b"".join(int(t).to_bytes(4, "little", signed=True) for t in ids))
    return h.hexdigest()


def _digest(tensors: dict[str, Any]) -> str:
    import torch

    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(name.encode() + b"\0" + str(t.dtype).encode() + str(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class FeatureCache:
    """Entries under `root/namespace/`; the bound applies to everything under `root`."""

    def __init__(
        self, root: Path, namespace: str, *, max_bytes: int, warn: Warn | None = None
    ) -> None:
        self.root = root
        self.dir = root / namespace
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._warn = warn or (lambda message: None)
        self._writable = True
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._stop_writing(exc)
        self._remove_temporaries()

    @property
    def writable(self) -> bool:
        return self._writable

    def _path(self, key: str, kind: str) -> Path:
        return self.dir / f"{key}.{kind}{SUFFIX}"

    def get(self, key: str, kind: str) -> dict[str, Any] | None:
        """The entry's tensors, or None (missing or corrupt: the caller recomputes)."""
        from safetensors import safe_open

        path = self._path(key, kind)
        if not path.is_file():
            self.stats.misses += 1
            return None
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
            if meta.get("key") != key or meta.get("sha256") != _digest(tensors):
                raise ValueError("contents do not match their checksum")
        except Exception:  # truncated, garbled or foreign: never trusted
            self.stats.corrupt += 1
            self.stats.misses += 1
            if self._writable:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # most recently used
        self.stats.hits += 1
        return tensors

    def put(self, key: str, kind: str, tensors: dict[str, Any]) -> None:
        if not self._writable:
            return
        from safetensors.torch import save_file

        tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        path = self._path(key, kind)
        tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
        try:
            save_file(tensors, str(tmp), metadata={"key": key, "sha256": _digest(tensors)})
            os.replace(tmp, path)
        except OSError as exc:
            self.stats.write_errors += 1
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            self._stop_writing(exc)
            return
        self.stats.writes += 1

    def _stop_writing(self, exc: OSError) -> None:
        if not self._writable:
            return
        self._writable = False
        why = exc.strerror or str(exc)
        self._warn(
            f"the training cache at {self.root} cannot be written ({why}); this run computes "
            "every feature itself and keeps none for the next one. Free some disk space or "
            "make the folder writable to make retraining fast again."
        )

    def _remove_temporaries(self) -> None:
        """Leftovers of runs killed while writing an entry."""
        if not self._writable:
            return
        for tmp in self.dir.glob(f".*{TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def evict(self) -> int:
        """Remove least recently used entries until the whole cache fits `max_bytes`."""
        if not self._writable or not self.root.is_dir():
            return 0
        entries: list[tuple[float, int, Path]] = []
        for path in self.root.rglob(f"*{SUFFIX}"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
        self.stats.evicted += removed
        return removed

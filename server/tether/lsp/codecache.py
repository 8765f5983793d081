"""Import `lsprotocol.types` with attrs' generated methods compiled once, not on every start.

`lsprotocol.types` defines about 570 attrs classes. attrs writes the source of each class's
`__init__`, `__eq__`, `__repr__`… as text and `compile()`s it at import time, and that
compilation is the largest single cost between an editor starting `tether lsp` and the
answer to `initialize`. Python already caches a module's bytecode in `__pycache__`; this
does the same for the code attrs generates: the first start compiles and saves the code
objects (marshal, like a .pyc), later starts reuse them when the generated source is
byte-for-byte the same. The classes that come out are identical; only `compile()` is
skipped.

Everything here is best effort: a missing, stale or unreadable cache, or an attrs whose
internals look different, falls back to attrs' own path.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import logging
import marshal
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

log = logging.getLogger(__name__)

#: The attrs function every generated method goes through (attrs 22.2 to 26.x).
HOOK = "_compile_and_eval"


@dataclass
class Stats:
    """What the last `import_cached` did (for tests and `tether doctor`-style checks)."""

    path: Path | None = None
    reused: int = 0
    compiled: int = 0


stats = Stats()


def cache_file(module: str, *sources: str | None) -> Path:
    """One file per Python and per version of the sources (attrs, the module), by their
    size and mtime as a .pyc does, next to Tether's other caches."""
    from tether.paths import data_root

    stamp = hashlib.blake2b(digest_size=8)
    for source in sources:
        with contextlib.suppress(OSError, TypeError):
            st = os.stat(source)  # type: ignore[arg-type]
            stamp.update(f"{source}:{st.st_size}:{st.st_mtime_ns};".encode())
    tag = f"{sys.implementation.cache_tag or 'python'}-{stamp.hexdigest()}"
    return data_root() / "cache" / f"{module}-{tag}.marshal"


def _digest(script: str) -> bytes:
    return hashlib.blake2b(script.encode(), digest_size=16).digest()


def _load(path: Path) -> dict[str, tuple[bytes, CodeType]]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, entries: dict[str, tuple[bytes, CodeType]]) -> None:
    """Atomically, so two servers starting at once never read half a file."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps(entries))
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot write %s: %s", path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def _reusing(
    target: ModuleType, cached: Mapping[str, tuple[bytes, CodeType]]
) -> Iterator[dict[str, tuple[bytes, CodeType]]]:
    """While active, attrs evaluates cached code objects instead of compiling anew."""
    original: Callable[..., None] = getattr(target, HOOK)
    compiled: dict[str, tuple[bytes, CodeType]] = {}

    def compile_and_eval(
        script: str,
        globs: dict[str, Any] | None,
        locs: Mapping[str, object] | None = None,
        filename: str = "",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if args or kwargs or not filename:
            return original(script, globs, locs, filename, *args, **kwargs)
        digest = _digest(script)
        hit = cached.get(filename)
        if hit is not None and hit[0] == digest:
            code = hit[1]
            stats.reused += 1
        else:
            code = compile(script, filename, "exec")
            compiled[filename] = (digest, code)
        eval(code, globs, locs)  # attrs' own generated code, run as attrs runs it
        return None

    setattr(target, HOOK, compile_and_eval)
    try:
        yield compiled
    finally:
        setattr(target, HOOK, original)


def import_cached(module: str = "lsprotocol.types") -> ModuleType:
    """Import `module` (once per process), reusing attrs' compiled methods from the cache."""
    if module in sys.modules:
        return sys.modules[module]
    try:
        import attr._make as attrs_make
    except ImportError:
        return importlib.import_module(module)
    if not callable(getattr(attrs_make, HOOK, None)):
        return importlib.import_module(module)
    spec = importlib.util.find_spec(module)
    path = cache_file(module, attrs_make.__file__, spec.origin if spec else None)
    cached = _load(path)
    stats.path, stats.reused = path, 0
    with _reusing(attrs_make, cached) as compiled:
        imported = importlib.import_module(module)
    stats.compiled = len(compiled)
    if compiled:
        _save(path, {**cached, **compiled})
    return imported

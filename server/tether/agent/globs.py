"""Path globs for boundaries and class areas, with the rules users already know from .gitignore.

`fnmatch` lets `*` cross directory separators and has no `**`; hand-rolled translation gets
the corner cases wrong. pathspec implements gitignore matching (a pattern without a slash
matches at any depth, `dir/**` matches everything below), so `.env` in `never_send` also
covers `config/.env`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pathspec


@lru_cache(maxsize=256)
def _spec(patterns: tuple[str, ...]) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether a workspace-relative POSIX path matches any of the globs."""
    pats = tuple(p for p in patterns if p and p.strip())
    if not pats:
        return False
    return _spec(pats).match_file(path)


def check_glob(pattern: str) -> None:
    """Raise ValueError when a glob cannot be compiled (caught by spec validation)."""
    try:
        pathspec.PathSpec.from_lines("gitignore", [pattern])
    except Exception as exc:  # pathspec raises several types for bad patterns
        raise ValueError(f"not a valid path glob: {pattern!r} ({exc})") from None

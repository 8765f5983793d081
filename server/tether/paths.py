"""Where Tether keeps its data: one store per workspace under the data root.

The data root is `~/.local/share/tether/` unless `TETHER_HOME` says otherwise, so the
workspace itself stays clean and a user's history survives a fresh clone.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path


def data_root() -> Path:
    env = os.environ.get("TETHER_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "tether"


def user_config_file() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "tether" / "config.toml"


def model_cache_dir() -> Path:
    """Converted models; TETHER_MODEL_CACHE lets tests and CI share one conversion."""
    env = os.environ.get("TETHER_MODEL_CACHE")
    return Path(env).expanduser() if env else data_root() / "models"


def workspace_id(workspace: Path) -> str:
    """Readable and unique: the folder's name plus a hash of its absolute path."""
    resolved = workspace.expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.name or "root").strip("-") or "root"
    return f"{name}-{digest}"


class WorkspacePaths:
    """All per-workspace locations, derived from the workspace folder."""

    def __init__(self, workspace: Path, root: Path | None = None) -> None:
        self.workspace = workspace.expanduser().resolve()
        self.root = (root or data_root()) / workspace_id(self.workspace)

    @property
    def db(self) -> Path:
        return self.root / "tether.db"

    @property
    def adapters(self) -> Path:
        return self.root / "adapters"

    @property
    def jobs(self) -> Path:
        return self.root / "jobs"

    @property
    def train_lock(self) -> Path:
        return self.root / "train.lock"

    def ensure(self) -> WorkspacePaths:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

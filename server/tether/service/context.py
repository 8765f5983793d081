"""What every part of a workspace's service shares: where it is, its settings (which the
editor may change at any time: parts read them here, never keep a copy), its store and
its front end."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from tether.config import Settings
from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths
from tether.service.events import ServiceEvents


@dataclass
class Context:
    workspace: Path
    settings: Settings
    paths: WorkspacePaths
    store: DecisionStore
    events: ServiceEvents = field(default_factory=ServiceEvents)
    rng: random.Random = field(default_factory=random.Random)  # the policy's draws

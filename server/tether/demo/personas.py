"""The demo's simulated user: one of the benchmark's personas, or any persona file.

The personas live with the benchmarks (`bench/personas`, shipped in the source checkout)
so the demo and the learning benchmark judge with the same users. A persona is a file
with `judge(proposal) -> Verdict` or `judge(dict) -> dict` (see `bench/personas`).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import tether

# `tether demo`'s default, by measurement (bench/results/demo.json): its round 1 gave DPO
# pairs and a promoted adapter in about 5 minutes on 2 cores, where the modernizer's gave
# KTO labels and a gate verdict on one held-out pair
DEFAULT = "conservative"


class PersonaUnavailable(RuntimeError):
    """The persona (or the benchmarks' persona loader) cannot be found."""


def _bench() -> Any:
    try:
        return importlib.import_module("bench.personas")
    except ImportError:
        root = Path(tether.__file__).resolve().parents[2]  # server/tether -> the checkout
        if (root / "bench" / "personas").is_dir() and str(root) not in sys.path:
            sys.path.insert(0, str(root))
            return importlib.import_module("bench.personas")
        raise PersonaUnavailable(
            "the simulated users ship with Tether's source checkout (bench/personas); run "
            "the demo from a checkout (make demo)"
        ) from None


def load(spec: str | Path = DEFAULT) -> Any:
    """A persona by built-in name (modernizer, conservative, …) or file path."""
    personas = _bench()
    try:
        return personas.load_persona(spec)
    except personas.PersonaError as exc:
        raise PersonaUnavailable(str(exc)) from None


def view(proposal: Any, index: int, proposed: str | None = None) -> Any:
    """What the persona sees of a proposal (optionally one of its alternatives)."""
    return _bench().PersonaProposal.of(proposal, index, proposed)

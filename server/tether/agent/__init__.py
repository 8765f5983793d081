"""The agent runtime: spec, prompting, providers, parsing, classes, redaction, routing.

Nothing here imports torch, transformers, peft or litellm at import time; the providers
load them on first use.
"""

from tether.agent.agent import Agent, AgentRequest, ProposeResult
from tether.agent.classes import classify
from tether.agent.prompting import DiagnosticInfo
from tether.agent.providers import (
    AdapterRef,
    AdapterSource,
    Provider,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    make_provider,
)
from tether.agent.routing import AcceptanceTracker, Route, choose_route
from tether.agent.spec import AgentSpec, Boundaries, SpecError, TaskSpec, Tools, load_spec

__all__ = [
    "AcceptanceTracker",
    "AdapterRef",
    "AdapterSource",
    "Agent",
    "AgentRequest",
    "AgentSpec",
    "Boundaries",
    "DiagnosticInfo",
    "ProposeResult",
    "Provider",
    "ProviderConfigError",
    "ProviderError",
    "ProviderUnavailable",
    "Route",
    "SpecError",
    "TaskSpec",
    "Tools",
    "choose_route",
    "classify",
    "load_spec",
    "make_provider",
]

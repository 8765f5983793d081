"""Memory's value types; they live in `tether.core.memory` (the agent uses them too)."""

from tether.core.memory import Exemplar, MemoryContext, Reflection, Rule, Verdict

__all__ = ["Exemplar", "MemoryContext", "Reflection", "Rule", "Verdict"]

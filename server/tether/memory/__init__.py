"""Memory (non-parametric learning): exemplars, reflections and insight rules."""

from tether.memory.insights import InsightOp
from tether.memory.memory import Memory, MemoryItemError
from tether.memory.models import Exemplar, MemoryContext, Reflection, Rule

__all__ = [
    "Exemplar",
    "InsightOp",
    "Memory",
    "MemoryContext",
    "MemoryItemError",
    "Reflection",
    "Rule",
]

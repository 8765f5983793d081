"""The decision store: proposals, the hash-chained decision log, adapters, memory, pins."""

from tether.decisions.models import (
    AdapterRow,
    DecisionContent,
    DecisionRecord,
    HistoryFilter,
    HistoryPage,
    MemoryRow,
    VerifyResult,
)
from tether.decisions.store import (
    DecisionStore,
    InvalidTransition,
    StoreError,
    StoreWriteError,
    UnknownProposal,
    verify_file,
)

__all__ = [
    "AdapterRow",
    "DecisionContent",
    "DecisionRecord",
    "DecisionStore",
    "HistoryFilter",
    "HistoryPage",
    "InvalidTransition",
    "MemoryRow",
    "StoreError",
    "StoreWriteError",
    "UnknownProposal",
    "VerifyResult",
    "verify_file",
]

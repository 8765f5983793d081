"""On-device training: the user's decisions become a LoRA adapter (DPO/KTO with TRL).

Data (`dataset.py`: redaction, duplicates, held-out split, hash) → a worker process
(`worker.py`, `trainer.py`) → the eval gate (`evaluate.py`, `gate.py`) → an adapter version
with its lineage (`registry.py`, `lineage.py`); `manager.py` runs it, `scheduler.py`
decides when, `scoring.py` gives the agent its reranker. Nothing here imports torch,
transformers, trl, peft or datasets at import time.
"""

from tether.training.manager import TrainingBusy, TrainingManager, describe
from tether.training.models import (
    EvalReport,
    GateDecision,
    ModelScores,
    ProgressEvent,
    TrainingResult,
    TrainingStatus,
)
from tether.training.registry import AdapterError, AdapterRef, AdapterRegistry
from tether.training.scheduler import Scheduler, TickDecision
from tether.training.scoring import AdapterModel, load_adapter_model, rerank

__all__ = [
    "AdapterError",
    "AdapterModel",
    "AdapterRef",
    "AdapterRegistry",
    "EvalReport",
    "GateDecision",
    "ModelScores",
    "ProgressEvent",
    "Scheduler",
    "TickDecision",
    "TrainingBusy",
    "TrainingManager",
    "TrainingResult",
    "TrainingStatus",
    "describe",
    "load_adapter_model",
    "rerank",
]

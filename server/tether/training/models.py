"""The boundary types of training: the job a worker runs, the events it streams back,
evaluation reports, results and status.

They are pydantic models because they cross a process boundary (the job file and the
worker's JSON lines) and reach the editor (`tether/trainingStatus`), so both ends validate
the same shape.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tether.config import TrainingSettings

Method = Literal["dpo", "kto"]
Phase = Literal["preparing", "loading", "training", "evaluating", "saving", "promoting"]


class DecisionRange(BaseModel):
    """Which part of the decision log a dataset was built from."""

    first_seq: int | None = None  # oldest decision that contributed an example
    last_seq: int | None = None  # newest decision that contributed an example
    head_seq: int = 0  # the log's head when the data was read
    head_hash: str = ""  # the log's head hash then (ties an adapter to an exact log state)


class Hyperparameters(BaseModel):
    """What the worker needs to reproduce a run; copied into lineage.json."""

    lora_r: int
    lora_alpha: int
    lora_dropout: float = 0.0
    learning_rate: float
    epochs: float
    max_steps: int
    batch_size: int  # examples per optimizer step
    micro_batch_size: int = 1  # examples per forward pass (memory); KTO uses at least 2
    gradient_checkpointing: bool = False
    share_prefix: bool = True  # KTO: run the prompt a batch's rows share once (same numbers)
    lora_layers: int = 0  # LoRA on every linear module of the top K decoder layers (0: all)
    max_length: int
    beta: float
    seed: int = 0

    @classmethod
    def of(cls, settings: TrainingSettings, **overrides: Any) -> Hyperparameters:
        """The job's hyperparameters, taken whole from the one settings section."""
        values = settings.model_dump(include=set(cls.model_fields))
        return cls.model_validate({**values, **overrides})


class TrainingJob(BaseModel):
    """Everything a worker process reads from JOB.json; paths are absolute strings."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    method: Method
    train_file: str  # JSONL in the method's TRL format
    heldout_pairs_file: str  # JSONL prompt/chosen/rejected
    heldout_labels_file: str  # JSONL prompt/completion/label
    output_dir: str  # where the candidate adapter is saved (a temp dir, promoted later)
    base_model: str | None = None  # plain model dir; None: the embedded SmolLM2
    active_adapter: str | None = None  # dir of the active adapter, evaluated for the gate
    device: str = "auto"  # auto | cpu | cuda | mps
    nice: int = 5  # the editor and the language server come first
    hyper: Hyperparameters
    # optimizer steps after which a copy of the adapter is saved to checkpoint_dir/step-N
    # (learning curves from one run; not used by the editor's trainings)
    checkpoint_steps: list[int] = Field(default_factory=list)
    checkpoint_dir: str | None = None
    # the workspace's training cache (frozen-layer outputs, reference log-probs); None: off
    cache_dir: str | None = None
    cache_mb: int = 0
    warm_start: str | None = None  # an adapter dir to continue (incremental retrain)


class ProgressEvent(BaseModel):
    """One line of the worker's stream, and what `train_now` passes to `on_progress`."""

    event: Literal["started", "progress", "done", "error", "cancelled"]
    phase: Phase | None = None
    step: int | None = None
    total: int | None = None
    loss: float | None = None
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class ModelScores(BaseModel):
    """How well one model (base, active or candidate) agrees with held-out decisions.

    The reward is DPO's implicit reward, beta * (log p_model(y|x) - log p_base(y|x)), so the
    base model scores exactly 0 on everything: accuracy 0.5 and AUC 0.5 by construction
    (ties count half). `policy_accuracy` is the model's own preference, log p(chosen) >
    log p(rejected), which is meaningful for the base model too.
    """

    preference_accuracy: float | None = None  # over held-out pairs
    pairs_margin: float | None = None  # mean reward(chosen) - reward(rejected)
    policy_accuracy: float | None = None
    auc: float | None = None  # reward vs label over held-out KTO examples
    labels_margin: float | None = None  # mean reward(desirable) - mean reward(undesirable)
    pairs: int = 0
    labels: int = 0


class EvalReport(BaseModel):
    base: ModelScores
    active: ModelScores | None = None
    candidate: ModelScores


class WorkerReport(BaseModel):
    """The `data` of the worker's "done" event."""

    metrics: EvalReport
    adapter_sha256: str
    steps: int
    train_seconds: float
    seconds_per_step: float | None
    device: str
    final_loss: float | None = None
    tokens: int | None = None  # tokens trained on (policy inputs), for FLOP/s estimates
    parameters: int = 0  # of the base model
    trainable_parameters: int = 0  # of the LoRA adapter
    prefix_saved: float | None = None  # share of positions the shared prefix did not run
    lora_layers: int = 0  # K: decoder layers with LoRA (DPO); 0: all, or KTO
    cache: dict[str, int] = Field(default_factory=dict)  # FeatureCache stats + ref hits
    split: dict[str, int] = Field(default_factory=dict)  # frozen.SplitStats
    trl_config: dict[str, Any] = Field(default_factory=dict)  # the TRL config object, whole
    warnings: list[str] = Field(default_factory=list)  # e.g. a cache that cannot be written
    prepare_seconds: float | None = None  # building the trainer: frozen layers + reference


class GateDecision(BaseModel):
    promote: bool
    metric: str  # preference_accuracy | auc
    candidate: float
    reference: float
    reference_name: Literal["active", "base"]
    eval_margin: float
    reason: str


ResultStatus = Literal["promoted", "refused", "skipped", "cancelled", "failed"]


class TrainingResult(BaseModel):
    status: ResultStatus
    reason: str = ""
    version: str | None = None  # the new adapter's version (promoted or refused)
    parent: str | None = None
    method: Method | None = None
    gate: GateDecision | None = None
    metrics: EvalReport | None = None
    data_hash: str | None = None
    decision_range: DecisionRange | None = None
    train_examples: int = 0
    heldout_examples: int = 0
    steps: int = 0
    seconds: float = 0.0  # wall time of the whole run
    seconds_per_step: float | None = None
    train_seconds: float | None = None  # the optimizer loop alone (no loading, no eval)
    tokens: int | None = None
    parameters: int = 0
    trainable_parameters: int = 0
    prefix_saved: float | None = None  # share of positions the shared prefix did not run
    device: str | None = None
    adapter_sha256: str | None = None
    lora_layers: int = 0  # K (DPO); 0: all layers, or KTO
    cache: dict[str, int] = Field(default_factory=dict)  # training cache hits, misses…
    prepare_seconds: float | None = None  # frozen layers + reference, before the loop
    warnings: list[str] = Field(default_factory=list)
    warm_start: str | None = None  # the adapter version this one continued (incremental)


TrainingState = Literal["idle", "preparing", "training", "evaluating", "promoting", "cancelling"]


class TrainingStatus(BaseModel):
    """What `tether/trainingStatus` and `tether/profile` show."""

    state: TrainingState = "idle"
    job_id: str | None = None
    phase: Phase | None = None
    step: int | None = None
    total: int | None = None
    loss: float | None = None
    message: str = ""
    started_at: str | None = None
    last_result: TrainingResult | None = None

"""Settings: defaults < workspace `tether.toml` < `~/.config/tether/config.toml` < `TETHER_*`.

The editor can overlay settings at run time (`initializationOptions`,
`workspace/configuration`); `Settings.overlay` validates those the same way and leaves the
last good values in place when they are invalid.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_snake
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tether import paths

WORKSPACE_FILE = "tether.toml"
#: Tables of tether.toml that are not settings (the agent spec lives under [agent]).
NON_SETTING_TABLES = frozenset({"agent"})


class ConfigError(ValueError):
    """A setting with a bad value; the message names the key, the value and what is allowed."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PolicySettings(_Section):
    auto_threshold: float = Field(0.85, ge=0, le=1, description="Lower credible bound for auto.")
    quiet_threshold: float = Field(0.2, ge=0, le=1, description="Upper bound under which quiet.")
    credible_mass: float = Field(0.8, gt=0, lt=1, description="1 - delta of the interval.")
    exploration: float = Field(0.1, ge=0, le=1, description="Chance to ask even in auto.")
    quiet_exploration: float = Field(
        0.05, ge=0, le=1, description="Chance to show a proposal of a quiet class."
    )
    check_every: int = Field(
        5,
        ge=0,
        description="An auto class asks when this many of its proposals in a row had no verdict "
        "(this one included): labels on a schedule; 0 turns it off.",
    )
    quiet_check_every: int = Field(
        0, ge=0, description="The same check-in for a quiet class; 0 turns it off."
    )
    min_auto_evidence: int = Field(
        5, ge=0, description="The class's own verdicts needed before auto, whatever the prior."
    )
    recovery: int = Field(
        3, ge=0, description="Approvals in a row a class needs after a rejection before auto."
    )
    min_quiet_evidence: int = Field(
        1,
        ge=0,
        description="Verdicts of its own a class needs before it goes quiet: the prior"
        " borrowed from its kind, task or the pool never hides a proposal alone.",
    )
    ema_half_life: float = Field(20.0, gt=0, description="Half-life of the moving average.")
    drift_margin: float = Field(0.15, ge=0, le=1, description="EMA this far under mean: ask.")
    correction_weight: float = Field(0.5, ge=0, le=1, description="A correction's approval.")
    prior_strength_max: float = Field(20.0, gt=0, description="Cap on the pooled prior's a+b.")
    prior_strength_min: float = Field(
        0.25, gt=0, description="Floor of the pooled prior's a+b (classes that disagree)."
    )
    prior_min_classes: int = Field(3, ge=1, description="Classes needed to pool a prior.")
    prior_min_decisions: float = Field(10, ge=0, description="Verdicts needed to pool a prior.")
    family_prior: bool = Field(
        True, description="Fit each class's prior from its task family (same task), not the pool."
    )
    family_min_classes: int = Field(
        2, ge=1, description="Classes with verdicts a family needs for its own prior."
    )
    family_min_decisions: float = Field(
        4, ge=0, description="Verdicts a family needs for its own prior; else the pool's."
    )
    family_strength_max: float = Field(3.0, gt=0, description="Cap on a family prior's a+b.")
    maturity_width: float = Field(0.25, gt=0, le=1, description="Interval width for mature.")
    maturity_share: float = Field(0.6, ge=0, le=1, description="Traffic share for mature.")
    risky_flags: list[str] = Field(
        default_factory=lambda: ["deletes_code", "touches_tests", "public_signature"],
        description="Risk flags that make a proposal ask through a modal prompt.",
    )


class ClassSettings(_Section):
    parts: list[Literal["task", "kind", "language", "area", "size", "risk"]] = Field(
        default_factory=lambda: ["task", "kind", "language", "area", "size"],
        description="What a decision class is made of, broadest first. `kind` is the kind of "
        "change (a ruff rule such as E711, or docstring, type-hints, …): with it a kind the "
        "user wants is not hidden with the rest of its task (learning benchmark: 10% of a "
        "rejecting persona's wanted edits hidden without it, none with it).",
    )
    areas: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "tests": ["tests/**", "test/**", "**/test_*.py", "**/*_test.py"],
            "migrations": ["**/migrations/**"],
            "docs": ["docs/**", "**/*.md"],
        }
    )
    size_buckets: list[int] = Field(default_factory=lambda: [3, 15, 60])


class TrainingSettings(_Section):
    min_new_labels: int = Field(20, ge=1)
    tick_seconds: float = Field(300.0, gt=0)
    typing_quiet_seconds: float = Field(10.0, ge=0)
    eval_margin: float = Field(0.0, ge=-1, le=1)
    held_out_fraction: float = Field(0.2, ge=0, lt=1)
    min_pairs_for_dpo: int = Field(4, ge=1)
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, ge=-1)
    batch_size: int = Field(4, ge=2)
    max_length: int = Field(512, ge=64)
    beta: float = Field(0.1, gt=0)
    auto_schedule: bool = True
    dedupe_threshold: float = Field(0.95, gt=0, le=1, description="Similarity of near-duplicates.")
    verifier_weight: float = Field(
        0.25,
        ge=0,
        le=1,
        description="How much a verifier pair (a verified vs a refused model answer) counts "
        "next to a user's pair: each is trained on with this probability, chosen by its "
        "hash so a retrain picks the same ones; 0 leaves them out.",
    )
    seed: int = Field(0, ge=0, description="Seed of LoRA init and data order.")
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    base_model: Path | None = Field(
        None,
        description="A plain model folder to train adapters for; default: the student's "
        "(embedded:/path/to/dir), else the embedded SmolLM2.",
    )
    worker_nice: int = Field(5, ge=0, le=19, description="Niceness of the training process.")
    micro_batch_size: int = Field(
        1,
        ge=1,
        description="Pairs per forward pass (KTO: at least 2); the rest of batch_size "
        "is gradient accumulation. Memory grows with it (SmolLM2, 4 pairs of 768 tokens: "
        "7.1 GB at 1, 19.5 GB at 4).",
    )
    share_prefix: bool = Field(
        True,
        description="Run the prompt that a pair's two answers share once, not twice: the "
        "same numbers for about half the work (tether.training.prefix).",
    )
    gradient_checkpointing: bool = Field(
        False,
        description="Recompute activations in the backward pass: less memory (7.1 -> 5.1 GB "
        "for 768-token pairs on SmolLM2), but 2-3x slower steps on a 2-core CPU. Off by default.",
    )
    lora_layers: int = Field(
        4,
        ge=0,
        description="DPO puts LoRA on the top K decoder layers only (0: all layers). The "
        "layers below are frozen: they run once per pair, shared by the policy and the "
        "reference, and their output is cached for retraining.",
    )
    incremental: bool = Field(
        True,
        description="A retrain continues the active adapter on the new pairs plus as many "
        "older ones replayed (replay_ratio), instead of starting over from the base model; "
        "`tether train --force` starts over.",
    )
    replay_ratio: float = Field(
        1.0, ge=0, description="Older pairs replayed per new pair in an incremental retrain."
    )
    cache_mb: int = Field(
        2048,
        ge=0,
        description="Bound of the training cache next to the store (frozen-layer outputs and "
        "reference log-probs, least recently used removed first); 0 turns it off.",
    )


class PublishSettings(_Section):
    """`tether publish`: the gate a profile and adapter must clear (or `--force`)."""

    min_mature_share: float = Field(
        0.6, ge=0, le=1, description="Share of traffic in mature classes needed to publish."
    )
    min_preference_accuracy: float = Field(
        0.6, ge=0, le=1, description="Held-out accuracy (or AUC) the active adapter needs."
    )


class ServeSettings(_Section):
    """`tether serve`: the HTTP API and the engine that generates for it."""

    host: str = Field("127.0.0.1", description="Address to bind; loopback unless you mean it.")
    port: int = Field(8765, ge=0, le=65535)
    backend: Literal["inprocess", "llamacpp", "ollama", "vllm"] = Field(
        "inprocess", description="Who generates: in-process transformers+PEFT or an engine."
    )
    engine_url: str | None = Field(None, description="Base URL of the engine's HTTP API.")
    engine_model: str | None = Field(None, description="Model (or LoRA) name at the engine.")
    max_body_bytes: int = Field(1_000_000, ge=1024)
    rate_limit_per_minute: int = Field(120, ge=1, description="Requests per token per minute.")


class Settings(BaseModel):
    """Everything a user can configure, with the defaults a fresh machine runs on."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str = Field(
        "embedded:smollm2",
        description="Student: embedded:NAME, ollama:NAME, "
        "litellm:PROVIDER/NAME, or replay:FILE (tests and benchmarks only).",
    )
    teacher: str | None = Field(None, description="Optional cloud teacher, litellm:PROVIDER/NAME.")
    ollama_host: str = "http://127.0.0.1:11434"
    student_threshold: float = Field(0.6, ge=0, le=1)
    shadow: bool = False
    candidates: int = Field(
        2,
        ge=1,
        le=8,
        description="Samples the model writes per request (or per spot), in one batch; "
        "the verifier keeps the valid ones. 2: on this CPU 1, 2 and 4 samples gave the same "
        "yield on the benchmark's functions that need the model (3 of 5), at 9.8 / 16.7 / "
        "25.1 s; 2 is the fewest that can still pair a valid answer with a refused one "
        "(verifier pairs).",
    )
    rerank: bool = Field(
        True,
        description="Order several student candidates by the active adapter's implicit reward.",
    )
    spots: int = Field(
        2,
        ge=0,
        le=8,
        description="Most problems ruff cannot fix that the model is asked to fix in one request.",
    )
    alternatives: int = Field(
        4, ge=1, le=8, description="Most verified candidates a proposal offers."
    )
    ruff: str = Field("", description="ruff executable (default: the one installed with Tether).")
    ruff_timeout: float = Field(10.0, gt=0, description="Seconds ruff may take on one file.")
    max_new_tokens: int = Field(256, ge=8, le=4096)
    temperature: float = Field(0.2, ge=0, le=2)
    request_timeout: float = Field(60.0, gt=0)
    model_idle_unload_seconds: float = Field(
        600.0,
        ge=0,
        description="Unload the embedded model after this long unused (it loads again on the "
        "next proposal); 0 keeps it loaded. Takes effect when the model is next created. "
        "600 by measurement (bench/citizen.py): an unload frees about 560 MB of 1.09 GB and "
        "costs one reload of about 0.9 s, under 0.2% of the idle time it follows.",
    )
    review_on_save: bool = False
    review_debounce_ms: int = Field(1500, ge=0)
    max_file_bytes: int = Field(2_000_000, ge=1)
    correction_window_seconds: float = Field(120.0, ge=0)
    context_lines: int = Field(20, ge=0)
    checkpoint_every: int = Field(
        100,
        ge=1,
        description="A signed checkpoint of the decision log every this many decisions (and at "
        "training, publish and shutdown), so a log cut short or rewritten is caught.",
    )
    home: Path | None = Field(None, description="Data root (default ~/.local/share/tether).")
    policy: PolicySettings = Field(default_factory=PolicySettings)
    classes: ClassSettings = Field(default_factory=ClassSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @field_validator("model", "teacher")
    @classmethod
    def _provider_prefix(cls, v: str | None) -> str | None:
        if v is None:
            return v
        kind, sep, name = v.partition(":")
        if not sep or not name or kind not in {"embedded", "ollama", "litellm", "replay"}:
            raise ValueError(
                "must be embedded:NAME, ollama:NAME, litellm:PROVIDER/NAME or replay:FILE"
            )
        return v

    @property
    def data_root(self) -> Path:
        return self.home.expanduser() if self.home else paths.data_root()

    def overlay(self, overrides: dict[str, Any]) -> Settings:
        """A copy with editor-supplied values applied; raises ConfigError, never half-applies."""
        merged = merge(self.model_dump(mode="python"), editor_values(overrides))
        try:
            return Settings.model_validate(merged)
        except ValidationError as exc:
            raise _config_error(exc, "editor settings") from None


class _EnvSettings(BaseSettings, Settings):
    """Settings read from TETHER_* variables over the file layers (passed as init values)."""

    model_config = SettingsConfigDict(
        env_prefix="TETHER_", env_nested_delimiter="__", extra="forbid"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)  # first wins: variables beat files


def editor_values(values: dict[str, Any]) -> dict[str, Any]:
    """Settings as an editor sends them, as layers merge them: snake_case names (editors
    write camelCase, reviewOnSave), and no nulls (editors send their declared defaults as
    null, meaning "not set here", which must leave the files' value in force)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[to_snake(key)] = editor_values(value) if isinstance(value, dict) else value
    return out


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """One settings layer over another: tables merge key by key, other values replace.

    The one merge of every layering (files, environment, editor overlays)."""
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _config_error(exc: ValidationError, source: str) -> ConfigError:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    value = err.get("input")
    shown = repr(value) if not isinstance(value, dict) else "{…}"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown setting"
    return ConfigError(f"{source}: {key} = {shown}: {msg}", key=key)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_settings(workspace: Path | None = None, **overrides: Any) -> Settings:
    """Read all sources in precedence order; raise ConfigError naming the bad key."""
    layers: list[tuple[str, dict[str, Any]]] = []
    if workspace is not None:
        ws_file = workspace / WORKSPACE_FILE
        if ws_file.is_file():
            data = _read_toml(ws_file)
            layers.append(
                (str(ws_file), {k: v for k, v in data.items() if k not in NON_SETTING_TABLES})
            )
    user_file = paths.user_config_file()
    if user_file.is_file():
        layers.append((str(user_file), _read_toml(user_file)))
    merged: dict[str, Any] = {}
    for source, data in layers:
        try:  # validate each layer alone so the error names the file it came from
            Settings.model_validate(merge(merged, data))
        except ValidationError as exc:
            raise _config_error(exc, source) from None
        merged = merge(merged, data)
    merged = merge(merged, overrides)
    try:
        env_layer = _EnvSettings(**merged)
    except ValidationError as exc:
        raise _config_error(exc, "environment (TETHER_*)") from None
    return Settings.model_validate(env_layer.model_dump())

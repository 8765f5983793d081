"""TRL's DPO trainer, extended where TRL invites it: LoRA on the top K layers, shared frozen
layers and cached reference log-probabilities.

- `top_layer_lora(model, settings)`: a peft `LoraConfig` on every linear module of the top
  K decoder layers (`layers_to_transform`), so everything below is frozen.
- `TetherDPOTrainer` subclasses `trl.DPOTrainer`. It runs with TRL's own
  `precompute_ref_log_probs`, and overrides the public `compute_ref_log_probs` (the method
  TRL calls for every batch of that precomputation) to read each pair's reference
  log-probabilities from the disk cache and compute only the missing ones. Before the first
  one it installs `frozen.SplitForward` on the model under the adapter, so the frozen
  layers run once per pair (and go to the same cache), and every pass after that runs only
  the top K layers. The prompt starts the training set's pairs share (TRL's tokenized
  `prompt_ids`) run through the frozen layers once per run (`frozen_prefix.PrefixBank`).

The versions extended are pinned exactly in pyproject.toml (trl, peft, transformers): the
packed forward implements the contract of `trl.trainer.utils.add_fused_lm_head` and the
trainer relies on how `DPOTrainer` precomputes; a new release must be checked against
tests/training/test_frozen_layers.py and test_feature_cache.py before the pins move.
"""

from __future__ import annotations

from typing import Any

from tether.training.feature_cache import FeatureCache
from tether.training.frozen import SplitForward, pair_keys, top_layer_indices
from tether.training.frozen_prefix import PrefixBank

REF = "ref"


def linear_module_names(model: Any) -> list[str]:
    """Leaf names of the linear modules inside the decoder layers (q_proj, …, down_proj)."""
    import torch

    layers = model.model.layers
    return sorted(
        {
            name.rsplit(".", 1)[-1]
            for name, m in layers[0].named_modules()
            if isinstance(m, torch.nn.Linear)
        }
    )


def top_layer_lora(model: Any, *, r: int, alpha: int, dropout: float, lora_layers: int) -> Any:
    """LoRA on all linear modules of the top `lora_layers` layers (0: every layer)."""
    from peft import LoraConfig

    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=linear_module_names(model),
        layers_to_transform=top_layer_indices(model, lora_layers),
        layers_pattern="layers",
        bias="none",
        task_type="CAUSAL_LM",
    )


def trainer_class() -> type:
    """`TetherDPOTrainer`, built on first use so that importing this module stays light."""
    from trl import DPOTrainer

    class TetherDPOTrainer(DPOTrainer):  # type: ignore[misc,valid-type]
        """DPO on the top K layers with shared frozen layers and cached reference log-probs."""

        def __init__(
            self, *args: Any, lora_layers: int, cache: FeatureCache | None = None, **kwargs: Any
        ) -> None:
            self.tether_lora_layers = lora_layers
            self.tether_cache = cache
            self.tether_split: SplitForward | None = None
            self.ref_hits = 0
            self.ref_computed = 0
            if not kwargs["args"].precompute_ref_log_probs:
                raise ValueError("TetherDPOTrainer needs precompute_ref_log_probs=True")
            super().__init__(*args, **kwargs)
            split = self._install_split()
            if split.prefixes is not None:  # every pair's frozen output is computed by now
                split.prefixes.clear()

        def _install_split(self) -> SplitForward:
            if self.tether_split is None:
                base = (
                    self.model.get_base_model()
                    if hasattr(self.model, "get_base_model")
                    else self.model
                )
                self.tether_split = SplitForward(
                    base, self.tether_lora_layers, self.tether_cache
                ).install()
                self.tether_split.prefixes = self._prefix_bank()
            return self.tether_split

        def _prefix_bank(self) -> PrefixBank | None:
            """The shared prompt starts of the tokenized training set (TRL's `prompt_ids`
            column), which the frozen layers then run once per run instead of per pair."""
            dataset = getattr(self, "train_dataset", None)
            names = getattr(dataset, "column_names", None) or []
            if "prompt_ids" not in names:
                return None
            return PrefixBank.of(dataset["prompt_ids"])

        def compute_ref_log_probs(self, model: Any, inputs: dict[str, Any]) -> Any:
            import torch

            self._install_split()
            keys = pair_keys(
                inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"]
            )
            cached = [self.tether_cache.get(k, REF) if self.tether_cache else None for k in keys]
            if all(c is not None and c["logps"].shape == (2,) for c in cached):
                self.ref_hits += len(keys)
                values = torch.stack([c["logps"] for c in cached])  # type: ignore[index]
                device = inputs["input_ids"].device
                return values[:, 0].to(device), values[:, 1].to(device)
            chosen, rejected = super().compute_ref_log_probs(model, inputs)
            self.ref_computed += len(keys)
            if self.tether_cache is not None:
                for key, c, r in zip(keys, chosen, rejected, strict=True):
                    self.tether_cache.put(key, REF, {"logps": torch.stack([c, r]).float()})
            return chosen, rejected

    return TetherDPOTrainer

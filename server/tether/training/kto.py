"""TRL's KTO trainer with the LM head on the completion positions only.

`TetherKTOTrainer` subclasses `trl.KTOTrainer` and, once TRL has added its fused LM head
to the model under the adapter, wraps that forward with `head.CompletionHead`: on the
CPU, where TRL's head projects every position, only the completion positions are
projected (same numbers, tests/training/test_trainer_head.py). On a GPU TRL already does
that with its Triton kernel, so nothing is wrapped. No TRL function is replaced; the
versions extended are pinned in pyproject.toml (see `dpo.py`).
"""

from __future__ import annotations

from typing import Any

from tether.training.head import CompletionHead


def kto_trainer_class() -> type:
    """`TetherKTOTrainer`, built on first use so that importing this module stays light."""
    from trl import KTOTrainer

    class TetherKTOTrainer(KTOTrainer):  # type: ignore[misc,valid-type]
        """KTO whose fused LM head scores only the completion positions on the CPU."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tether_head: CompletionHead | None = None
            if self.accelerator.device.type == "cpu":
                model = self.model
                base = model.get_base_model() if hasattr(model, "get_base_model") else model
                self.tether_head = CompletionHead(base).install()

    return TetherKTOTrainer

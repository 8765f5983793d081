"""The corpus formats `tether export` writes (`tether.publish.export` makes each one).

Here, import-free, so the CLI can offer them as choices without loading the exporter."""

from __future__ import annotations

EXPORT_FORMATS: tuple[str, ...] = ("dpo", "kto", "sft", "alpaca", "sharegpt", "chatml")

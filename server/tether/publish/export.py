"""`tether export`: the user's decisions as a training corpus other tools can read.

Formats (JSONL, one example per line):
- dpo: {prompt, chosen, rejected}: TRL's DPOTrainer, pairs from corrections and picks.
- kto: {prompt, completion, label}: TRL's KTOTrainer, accepts and rejects (and pairs,
  unpaired: the chosen text desirable, the rejected one not).
- sft: {prompt, completion}: TRL's SFTTrainer, only what the user wanted.
- alpaca: {instruction, input, output, system}: the Alpaca layout.
- sharegpt: {conversations: [{from, value}]}: ShareGPT (system/human/gpt).
- chatml: {messages: [{role, content}]}: OpenAI-style chat messages.

The desirable-only formats (sft, alpaca, sharegpt, chatml) take accepted completions and
the user's side of every pair. Every format is redacted and deduplicated by the same code
as training data (`tether.training.dataset.clean`), so an export never holds a secret the
trainer would not have seen redacted.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tether.config import TrainingSettings
from tether.core.formats import EXPORT_FORMATS
from tether.training.dataset import CleanData, clean
from tether.training.dedupe import dedupe

Format = Literal["dpo", "kto", "sft", "alpaca", "sharegpt", "chatml"]
FORMATS = EXPORT_FORMATS

_TURN = re.compile(r"<\|im_start\|>(\w+)\n(.*?)<\|im_end\|>\n?", re.S)
_SHAREGPT_ROLE = {"system": "system", "user": "human", "assistant": "gpt"}


class ExportSummary(BaseModel):
    format: str
    path: str
    rows: int
    duplicates_removed: int
    redactions: int
    verifier_pairs: int = 0  # tool-labelled pairs (dpo/kto formats only; counted apart)
    user_signals: int = 0  # pairs and labels a person gave


@dataclass
class _Desirable:
    prompt: str
    completion: str
    seq: int


def prompt_messages(prompt: str) -> list[dict[str, str]]:
    """The chat turns of a ChatML-rendered prompt (SmolLM2's template); else one user turn."""
    turns = [{"role": role, "content": content} for role, content in _TURN.findall(prompt)]
    return turns or [{"role": "user", "content": prompt}]


def _desirable(data: CleanData, threshold: float) -> list[_Desirable]:
    items = [_Desirable(k.prompt, k.completion, k.seq) for k in data.labels if k.label]
    # a verified answer is valid, not preferred: only the user's own choices are examples
    items += [_Desirable(p.prompt, p.chosen, p.seq) for p in data.pairs if p.source != "verifier"]
    kept, _ = dedupe(items, lambda d: (d.prompt, d.completion), threshold=threshold)
    return kept


def _signal(source: str) -> str:
    return "verifier" if source == "verifier" else "user"


def rows_for(fmt: str, data: CleanData, *, threshold: float = 0.95) -> list[dict[str, Any]]:
    if fmt == "dpo":
        return [{**p.trl(), "signal": _signal(p.source)} for p in data.pairs]
    if fmt == "kto":
        rows = [{**k.trl(), "signal": "user"} for k in data.labels]
        for p in data.pairs:
            signal = _signal(p.source)
            rows.append(
                {"prompt": p.prompt, "completion": p.chosen, "label": True, "signal": signal}
            )
            rows.append(
                {"prompt": p.prompt, "completion": p.rejected, "label": False, "signal": signal}
            )
        return rows
    good = _desirable(data, threshold)
    if fmt == "sft":
        return [{"prompt": d.prompt, "completion": d.completion} for d in good]
    out: list[dict[str, Any]] = []
    for d in good:
        messages = prompt_messages(d.prompt)
        answer = {"role": "assistant", "content": d.completion}
        if fmt == "chatml":
            out.append({"messages": [*messages, answer]})
        elif fmt == "sharegpt":
            out.append(
                {
                    "conversations": [
                        {"from": _SHAREGPT_ROLE.get(m["role"], m["role"]), "value": m["content"]}
                        for m in [*messages, answer]
                    ]
                }
            )
        elif fmt == "alpaca":
            system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
            users = [m["content"] for m in messages if m["role"] != "system"]
            out.append(
                {
                    "instruction": users[-1] if users else "",
                    "input": "",
                    "output": d.completion,
                    "system": system,
                }
            )
        else:
            raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    return out


def write_jsonl_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write next to the target and rename, so a failed export never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def summarize(fmt: str, path: str, rows: int, data: CleanData) -> ExportSummary:
    """What an export wrote, with the tool-labelled pairs counted apart from the user's."""
    verifier = sum(p.source == "verifier" for p in data.pairs)
    return ExportSummary(
        format=fmt,
        path=path,
        rows=rows,
        duplicates_removed=data.exact_duplicates + data.near_duplicates,
        redactions=data.redactions,
        verifier_pairs=verifier if fmt in ("dpo", "kto") else 0,
        user_signals=len(data.pairs) - verifier + len(data.labels),
    )


async def load_clean(store: Any, settings: TrainingSettings) -> CleanData:
    from tether.decisions.signals import load_signals

    return clean(await load_signals(store), threshold=settings.dedupe_threshold)


async def export(store: Any, fmt: str, out: Path, settings: TrainingSettings) -> ExportSummary:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    data = await load_clean(store, settings)
    rows = rows_for(fmt, data, threshold=settings.dedupe_threshold)
    n = write_jsonl_atomic(out, rows)
    return summarize(fmt, str(out), n, data)

"""Log-probabilities and DPO's implicit reward: the eval gate and the agent's reranker.

The implicit reward of an adapter for completion y of prompt x is
beta * (log p_adapter(y|x) - log p_base(y|x)): how much more the adapter likes y than the
model it started from. DPO trains exactly this quantity to rank the user's choice first,
so it is what the gate measures on held-out decisions and what reranking sorts by.

Sequences are tokenised the way TRL does (prompt, then completion + EOS, the completion
starting where the two token lists diverge), so scores match what was trained. Torch,
transformers and peft are imported inside functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_BETA = 0.1


@dataclass
class AdapterModel:
    """A base model with zero or more adapters loaded, and its tokenizer.

    `model` is a plain causal LM or a peft PeftModel; `adapter` names the adapter used
    for scoring (None: no adapter, every reward is 0).
    """

    model: Any
    tokenizer: Any
    adapter: str | None = None
    version: str | None = None
    beta: float = DEFAULT_BETA


def _encode(tokenizer: Any, prompt: str, completion: str) -> tuple[list[int], int]:
    """Token ids of prompt+completion+EOS and where the completion starts."""
    eos = tokenizer.eos_token or ""
    if eos and not completion.endswith(eos):
        completion = completion + eos
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
    start = 0
    for a, b in zip(prompt_ids, full, strict=False):
        if a != b:
            break
        start += 1
    return full, start


def sequence_logps(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    *,
    max_length: int = 1024,
    batch_size: int = 8,
) -> list[float]:
    """Sum of log p(completion token | everything before), one number per example.

    Left-padded batches put every completion at the end, so only the last positions'
    logits are computed (`logits_to_keep`), not a (batch, length, vocab) tensor.
    """
    import torch

    encoded: list[tuple[list[int], int]] = []
    for prompt, completion in zip(prompts, completions, strict=True):
        ids, start = _encode(tokenizer, prompt, completion)
        if len(ids) > max_length:  # keep the completion; cut the prompt from the left
            cut = len(ids) - max_length
            ids, start = ids[cut:], max(start - cut, 1)
        start = max(start, 1)  # the first token has no context to be scored in
        encoded.append((ids, start))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    out: list[float] = []
    with torch.inference_mode():
        for i in range(0, len(encoded), batch_size):
            chunk = encoded[i : i + batch_size]
            width = max(len(ids) for ids, _ in chunk)
            keep = max(len(ids) - start for ids, start in chunk) + 1
            input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, (ids, _) in enumerate(chunk):
                input_ids[row, width - len(ids) :] = torch.tensor(ids)
                mask[row, width - len(ids) :] = 1
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = model(
                input_ids=input_ids.to(device),
                attention_mask=mask.to(device),
                position_ids=positions.to(device),
                logits_to_keep=keep,
                use_cache=False,
            ).logits.float()
            logps = torch.log_softmax(logits[:, :-1, :], dim=-1)  # predicts the last keep-1 tokens
            targets = input_ids[:, width - keep + 1 :].to(device)
            token_logps = logps.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            for row, (ids, start) in enumerate(chunk):
                n = len(ids) - start  # completion tokens of this row, right-aligned
                out.append(float(token_logps[row, keep - 1 - n :].sum()))
    return out


def adapter_logps(
    am: AdapterModel,
    prompts: Sequence[str],
    completions: Sequence[str],
    *,
    adapter: str | None,
    max_length: int = 1024,
) -> list[float]:
    """Log-probs under one named adapter of `am.model`, or under the base (adapter None)."""
    import contextlib

    model = am.model
    if adapter is None:
        ctx = (
            model.disable_adapter()
            if hasattr(model, "disable_adapter")
            else contextlib.nullcontext()
        )
        with ctx:
            return sequence_logps(model, am.tokenizer, prompts, completions, max_length=max_length)
    model.set_adapter(adapter)
    return sequence_logps(model, am.tokenizer, prompts, completions, max_length=max_length)


def rerank(prompt: str, completions: Sequence[str], adapter: AdapterModel | None) -> list[float]:
    """Implicit-reward scores of several completions of one prompt (higher is better).

    For the agent: sort its candidates by these. Without an adapter every score is 0, so
    a stable sort keeps the model's own order.
    """
    if adapter is None or adapter.adapter is None or not completions:
        return [0.0] * len(completions)
    prompts = [prompt] * len(completions)
    tuned = adapter_logps(adapter, prompts, completions, adapter=adapter.adapter)
    base = adapter_logps(adapter, prompts, completions, adapter=None)
    return [adapter.beta * (t - b) for t, b in zip(tuned, base, strict=True)]


def load_adapter_model(
    adapter_dir: Path | str | None,
    *,
    base_model: Path | str | None = None,
    device: str | None = None,
    version: str | None = None,
    beta: float = DEFAULT_BETA,
) -> AdapterModel:
    """Load the base model (the embedded SmolLM2 unless `base_model` is given) and an adapter.

    The adapter is loaded under its version name, so more can be added with
    `am.model.load_adapter(path, adapter_name=...)` and switched with `set_adapter`.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tether.embedded import ensure_plain_model, pick_device

    base_dir = Path(base_model) if base_model else ensure_plain_model()
    device = device or pick_device()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype="float32")
    name: str | None = None
    if adapter_dir is not None:
        from peft import PeftModel

        name = version or "adapter"
        model = PeftModel.from_pretrained(model, str(adapter_dir), adapter_name=name)
    model.to(device)
    model.eval()
    return AdapterModel(model=model, tokenizer=tokenizer, adapter=name, version=version, beta=beta)

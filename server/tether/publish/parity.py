"""Does the published GGUF adapter make llama.cpp answer as Tether's own student does?

Both sides get the same token ids (from the Hugging Face tokenizer, so a tokenizer
difference cannot hide or fake a model difference) and decode greedily:
- llama.cpp, through llama-cpp-python: the base GGUF with the GGUF adapter applied;
- transformers + PEFT: the plain (dequantized) embedded model with the PEFT adapter.
The report gives, per prompt, whether the generated tokens are equal, where they first
differ, the largest logit difference on the steps both decoded from the same prefix, and
how far the adapter moves transformers' logits at all (so "equal" is not equal because the
adapter does nothing).

The embedded GGUF is quantized; llama.cpp computes on the quantized blocks while
transformers computes in float32 on the dequantized values, so on that file small logit
differences are expected. `tether.publish.gguf_base.export_float` writes the same
dequantized weights as float32 GGUF, on which the two should agree to rounding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

#: Fixed prompts: small, code-shaped requests like the agent's own.
PROMPTS: tuple[str, ...] = (
    "Add type hints:\ndef add(a, b):\n    return a + b",
    "Use an f-string:\nname = 'Ada'\nprint('Hello ' + name)",
    "Replace `== None` with `is None`:\nif value == None:\n    value = 0",
    "Write a docstring for:\ndef area(radius):\n    return 3.14159 * radius ** 2",
    "Use pathlib:\nimport os\npath = os.path.join(base, 'data.txt')",
    "Make it a list comprehension:\nsquares = []\nfor x in range(10):\n    squares.append(x * x)",
    "Rename `x` to something clear:\ndef f(x):\n    return sum(x) / len(x)",
    "Simplify:\nif flag == True:\n    return True\nelse:\n    return False",
    "Use enumerate:\nfor i in range(len(items)):\n    print(i, items[i])",
    "Add a guard for an empty list:\ndef first(items):\n    return items[0]",
)

SYSTEM = "You are a careful coding assistant. Answer with code."


class LlamaCppMissing(RuntimeError):
    """llama-cpp-python is not installed; the message says how to install it."""

    def __init__(self) -> None:
        super().__init__(
            "llama-cpp-python is not installed, so the GGUF adapter cannot be checked in "
            "llama.cpp. Install it with `make setup` (or `pip install llama-cpp-python`; it "
            "builds llama.cpp from source on the CPU, which takes several minutes)."
        )


class PromptParity(BaseModel):
    prompt: str
    prompt_tokens: int
    tokens_equal: bool
    hf_tokens: list[int]
    llama_tokens: list[int]
    first_difference: int | None  # index of the first differing generated token
    max_logit_diff: float  # over steps decoded from the same prefix
    adapter_effect: float  # max |logits with adapter - without| (transformers, step 0)
    tokenizer_equal: bool  # llama.cpp's own tokenization of the prompt equals HF's


class ParityReport(BaseModel):
    base_gguf: str
    adapter_gguf: str
    max_new_tokens: int
    prompts: list[PromptParity] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def all_equal(self) -> bool:
        return all(p.tokens_equal for p in self.prompts)

    @property
    def equal_count(self) -> int:
        return sum(p.tokens_equal for p in self.prompts)

    def summary(self) -> str:
        worst = max((p.max_logit_diff for p in self.prompts), default=0.0)
        effect = min((p.adapter_effect for p in self.prompts), default=0.0)
        return (
            f"llama.cpp parity: {self.equal_count}/{len(self.prompts)} prompts token-equal "
            f"(greedy, {self.max_new_tokens} tokens), max logit difference {worst:.2e}, "
            f"smallest adapter effect {effect:.2e}"
        )


def load_llama(model_path: Path, lora_path: Path | None, *, n_ctx: int, threads: int | None) -> Any:
    """llama-cpp-python's Llama over a base GGUF (and adapter), every position's logits kept.

    llama.cpp's "extra buffer types" (AMX repacking on recent Intel CPUs) crash on the
    embedded Q4_1 file in the llama.cpp that llama-cpp-python 0.3.36 builds, with or without
    an adapter; the plain CPU buffers compute the same thing, so they are used. The binding
    has no argument for it, so its default model parameters are wrapped while loading.
    """
    try:
        import llama_cpp.llama as binding
    except ImportError:
        raise LlamaCppMissing() from None
    defaults = binding.llama_cpp.llama_model_default_params

    def plain_buffers() -> Any:
        params = defaults()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    binding.llama_cpp.llama_model_default_params = plain_buffers
    try:
        return binding.Llama(
            model_path=str(model_path),
            lora_path=str(lora_path) if lora_path else None,
            n_ctx=n_ctx,
            n_batch=n_ctx,
            logits_all=True,
            n_threads=threads,
            verbose=False,
            seed=0,
        )
    finally:
        binding.llama_cpp.llama_model_default_params = defaults


def chat_prompt(tokenizer: Any, request: str) -> list[int]:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return [int(t) for t in ids]


def _hf_greedy(model: Any, prompt: list[int], max_new: int, eos: set[int]) -> tuple[list[int], Any]:
    """Greedy decoding by transformers' own `generate` (KV cache), with every step's logits."""
    import torch

    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new,
            do_sample=False,
            output_logits=True,
            return_dict_in_generate=True,
            eos_token_id=sorted(eos) or None,
            pad_token_id=sorted(eos)[0] if eos else None,
        )
    tokens = [int(t) for t in out.sequences[0, len(prompt) :]]
    steps = [logits[0].float().numpy().copy() for logits in out.logits]
    return tokens, steps


def _llama_greedy(
    llm: Any, prompt: list[int], max_new: int, eos: set[int]
) -> tuple[list[int], Any]:
    import numpy as np

    llm.reset()
    llm.eval(prompt)
    out: list[int] = []
    steps = []
    for _ in range(max_new):
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        steps.append(logits)
        token = int(np.argmax(logits))
        out.append(token)
        if token in eos:
            break
        llm.eval([token])
    return out, steps


def check_parity(
    base_gguf: Path,
    adapter_gguf: Path,
    adapter_dir: Path,
    *,
    prompts: Sequence[str] = PROMPTS,
    max_new_tokens: int = 24,
    base_model_dir: Path | None = None,
    threads: int | None = None,
) -> ParityReport:
    """Greedy-decode each prompt on both sides; see the module docstring."""
    import numpy as np
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tether import embedded

    started = time.perf_counter()
    model_dir = base_model_dir or embedded.ensure_plain_model()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(adapter_dir))
    model.eval()
    eos = {int(tokenizer.eos_token_id)} if tokenizer.eos_token_id is not None else set()
    n_ctx = 512 + max_new_tokens
    llm = load_llama(base_gguf, adapter_gguf, n_ctx=n_ctx, threads=threads)
    report = ParityReport(
        base_gguf=str(base_gguf), adapter_gguf=str(adapter_gguf), max_new_tokens=max_new_tokens
    )
    try:
        for request in prompts:
            ids = chat_prompt(tokenizer, request)
            text = tokenizer.decode(ids)
            own = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            hf_tokens, hf_steps = _hf_greedy(model, ids, max_new_tokens, eos)
            ll_tokens, ll_steps = _llama_greedy(llm, ids, max_new_tokens, eos)
            first = next(
                (i for i, (a, b) in enumerate(zip(hf_tokens, ll_tokens, strict=False)) if a != b),
                None if len(hf_tokens) == len(ll_tokens) else min(len(hf_tokens), len(ll_tokens)),
            )
            shared = len(hf_tokens) if first is None else first + 1
            diff = max(
                float(np.max(np.abs(h - ll)))
                for h, ll in zip(hf_steps[:shared], ll_steps[:shared], strict=False)
            )
            with torch.no_grad(), model.disable_adapter():
                plain = model(input_ids=torch.tensor([ids])).logits[0, -1].float().numpy()
            report.prompts.append(
                PromptParity(
                    prompt=request,
                    prompt_tokens=len(ids),
                    tokens_equal=first is None,
                    hf_tokens=hf_tokens,
                    llama_tokens=ll_tokens,
                    first_difference=first,
                    max_logit_diff=diff,
                    adapter_effect=float(np.max(np.abs(hf_steps[0] - plain))),
                    tokenizer_equal=list(own) == ids,
                )
            )
    finally:
        llm.close() if hasattr(llm, "close") else None
    report.seconds = time.perf_counter() - started
    return report

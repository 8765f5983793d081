"""The student suggestion: honest about the embedded model, sized to the machine."""

from __future__ import annotations

from tether.core.recommend import recommend_student


def test_embedded_is_for_trying_and_a_pulled_coder_wins() -> None:
    text = recommend_student("embedded:smollm2", 16, None, ["llama3:8b", "qwen2.5-coder:7b"])
    assert text.startswith("the embedded 135M model is for trying Tether offline")
    assert "ollama:qwen2.5-coder:7b (Ollama already has it)" in text


def test_size_follows_the_gpu_else_the_memory() -> None:
    assert "qwen2.5-coder:14b (fits a 40 GB GPU" in recommend_student("", 8, 40.0)
    assert "qwen2.5-coder:1.5b (fits 4 GB of memory" in recommend_student("", 4)
    assert recommend_student("ollama:x", 64).startswith("ollama:x (for this machine")

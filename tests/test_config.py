"""Settings precedence and errors that name the key, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether import paths
from tether.config import ConfigError, load_settings


def test_defaults_run_on_the_embedded_model(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s.model == "embedded:smollm2" and s.teacher is None
    assert s.review_on_save is False and s.max_file_bytes == 2_000_000


def test_precedence_workspace_user_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tether.toml").write_text(
        'model = "ollama:qwen"\ncandidates = 2\n[policy]\nauto_threshold = 0.8\n'
        '[agent]\nname = "ignored by settings"\n'
    )
    user = paths.user_config_file()
    user.parent.mkdir(parents=True)
    user.write_text("candidates = 3\n[policy]\nexploration = 0.3\n")
    s = load_settings(tmp_path)
    assert (s.model, s.candidates, s.policy.auto_threshold, s.policy.exploration) == (
        "ollama:qwen",
        3,
        0.8,
        0.3,
    )
    monkeypatch.setenv("TETHER_CANDIDATES", "4")
    monkeypatch.setenv("TETHER_POLICY__AUTO_THRESHOLD", "0.95")
    s = load_settings(tmp_path)
    assert (s.candidates, s.policy.auto_threshold, s.policy.exploration) == (4, 0.95, 0.3)


def test_bad_value_in_workspace_file_names_file_key_and_value(tmp_path: Path) -> None:
    (tmp_path / "tether.toml").write_text("[policy]\nauto_threshold = 1.5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path)
    msg = str(err.value)
    assert "tether.toml" in msg and "policy.auto_threshold" in msg and "1.5" in msg
    assert "less than or equal to 1" in msg
    assert err.value.key == "policy.auto_threshold"


def test_unknown_key_and_bad_model_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tether.toml").write_text("reveiw_on_save = true\n")
    with pytest.raises(ConfigError, match=r"reveiw_on_save.*unknown setting"):
        load_settings(tmp_path)
    (tmp_path / "tether.toml").unlink()
    monkeypatch.setenv("TETHER_MODEL", "gpt4")
    with pytest.raises(ConfigError, match=r"environment.*model = 'gpt4'.*embedded:NAME"):
        load_settings(tmp_path)


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "tether.toml").write_text("model = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path)


def test_editor_overlay_validates_and_keeps_last_good(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    s2 = s.overlay({"reviewOnSave": True, "policy": {"autoThreshold": 0.7}})
    assert s2.review_on_save and s2.policy.auto_threshold == 0.7
    with pytest.raises(ConfigError, match="max_file_bytes"):
        s2.overlay({"maxFileBytes": -5})
    assert s2.max_file_bytes == 2_000_000


def test_editor_values_merge_in_one_place() -> None:
    """Editors send camelCase and null for "not set here"; the files' values stay then."""
    from tether.config import Settings, editor_values, merge

    base = Settings(policy={"auto_threshold": 0.7})  # type: ignore[arg-type]
    over = base.overlay(
        {"reviewOnSave": True, "policy": {"autoThreshold": None, "quietThreshold": 0.1}}
    )
    assert over.review_on_save is True
    assert (over.policy.auto_threshold, over.policy.quiet_threshold) == (0.7, 0.1)
    assert editor_values({"training": {"maxSteps": 2, "loraR": None}}) == {
        "training": {"max_steps": 2}
    }
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}

"""The publish parts that need no model: the gate, the manifest, the Modelfile."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.agent.spec import AgentSpec, Boundaries, default_tasks
from tether.config import PublishSettings, Settings
from tether.decisions.models import AdapterRow
from tether.publish import modelfile
from tether.publish.gate import check
from tether.publish.manifest import BundleError, Manifest, verify_manifest, write_manifest


def _adapter(accuracy: float | None) -> AdapterRow:
    metrics = {} if accuracy is None else {"preference_accuracy": accuracy}
    return AdapterRow(version="v3", created_at="t", status="active", path="/x", metrics=metrics)


def test_gate_says_which_condition_failed_with_the_numbers() -> None:
    settings = PublishSettings(min_mature_share=0.6, min_preference_accuracy=0.7)
    gate = check(0.4, _adapter(0.65), settings)
    assert not gate.ok and not gate.forced
    text = gate.explain()
    assert "40% of traffic is in mature classes (under the 60% needed)" in text
    assert "adapter v3: preference_accuracy 0.650 (under the 0.700 needed)" in text
    assert "--force" in text

    assert check(0.8, _adapter(0.75), settings).ok
    only_adapter = check(0.8, _adapter(0.5), settings)
    assert [c.name for c in only_adapter.failures()] == ["adapter"]
    none = check(0.9, None, settings)
    assert not none.ok and "no active adapter" in none.explain()
    unevaluated = check(0.9, _adapter(None), settings)
    assert not unevaluated.ok and "no held-out evaluation" in unevaluated.explain()

    forced = check(0.1, _adapter(0.1), settings, force=True)
    assert forced.ok and forced.forced and len(forced.failures()) == 2


def test_manifest_catches_changed_missing_and_added_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(b"\x00\x01")
    write_manifest(
        tmp_path,
        Manifest(version="v1", created_at="t", adapter_version="v1", head_seq=3, head_hash="h"),
    )
    manifest = verify_manifest(tmp_path)
    assert [f.path for f in manifest.files] == ["a.txt", "sub/b.bin"]
    assert all(f.sha256.startswith("sha256:") for f in manifest.files)

    (tmp_path / "a.txt").write_text("two")
    (tmp_path / "sub" / "b.bin").unlink()
    (tmp_path / "c.txt").write_text("new")
    with pytest.raises(BundleError) as err:
        verify_manifest(tmp_path)
    message = str(err.value)
    assert "a.txt changed" in message and "sub/b.bin is missing" in message
    assert "c.txt is not in the manifest" in message

    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(BundleError, match="not a valid manifest"):
        verify_manifest(tmp_path)
    with pytest.raises(BundleError, match="not a Tether bundle"):
        verify_manifest(tmp_path / "sub")


def test_modelfile_fields_round_trip() -> None:
    spec = AgentSpec(
        purpose='Keep """quoted""" code tidy.',
        tasks=default_tasks(),
        boundaries=Boundaries(max_lines=40, never_touch=["migrations/**"]),
    )
    settings = Settings(temperature=0.3, max_new_tokens=128)
    text = modelfile.render(
        modelfile.ModelfileSpec(
            base="./base.gguf",
            adapter="./adapter.gguf",
            system=modelfile.system_text(spec),
            parameters=modelfile.parameters(settings),
        )
    )
    fields = modelfile.parse(text)
    assert fields["FROM"] == ["./base.gguf"]
    assert fields["ADAPTER"] == ["./adapter.gguf"]
    assert fields["PARAMETER"] == ["temperature 0.3", "num_predict 128", 'stop "<|im_end|>"']
    [system] = fields["SYSTEM"]
    assert "Keep" in system and '"""' not in system
    assert "Never change more than 40 lines" in system and "migrations/**" in system
    assert "improve:" in system

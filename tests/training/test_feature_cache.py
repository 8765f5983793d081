"""The training cache on disk (`tether.training.feature_cache`): entries round-trip, broken
ones are recomputed rather than trusted, an unwritable or full disk is reported once and
never stops a run, and the bound removes the least recently used entries."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tether.training.feature_cache import FeatureCache, model_hash, token_key


def _tensors(seed: int = 0) -> dict[str, object]:
    import torch

    return {"hidden": torch.randn(7, 5, generator=torch.Generator().manual_seed(seed))}


def test_round_trip_and_keys(tmp_path: Path) -> None:
    import torch

    cache = FeatureCache(tmp_path, "base-k4-float32", max_bytes=1 << 30)
    key = token_key([1, 2, 3], [1, 2, 4])
    assert key != token_key([1, 2], [3, 1, 2, 4])  # lengths are part of the key
    assert cache.get(key, "frozen") is None
    cache.put(key, "frozen", _tensors())
    again = FeatureCache(tmp_path, "base-k4-float32", max_bytes=1 << 30)  # a later run
    got = again.get(key, "frozen")
    assert got is not None and torch.equal(got["hidden"], _tensors()["hidden"])
    assert (again.stats.hits, again.stats.misses) == (1, 0)
    # another base model or K: another namespace, nothing shared
    assert FeatureCache(tmp_path, "base-k2-float32", max_bytes=1 << 30).get(key, "frozen") is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "swap"])
def test_a_broken_entry_is_deleted_and_reported_as_a_miss(tmp_path: Path, damage: str) -> None:
    cache = FeatureCache(tmp_path, "ns", max_bytes=1 << 30)
    key, other = token_key([1]), token_key([2])
    cache.put(key, "frozen", _tensors(0))
    cache.put(other, "frozen", _tensors(1))
    path = tmp_path / "ns" / f"{key}.frozen.safetensors"
    data = path.read_bytes()
    if damage == "truncate":  # a run killed mid-copy, a full disk
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # a changed byte in the tensor data: the checksum catches it
        path.write_bytes(data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:])
    else:  # another entry's (valid) file under this key
        os.replace(tmp_path / "ns" / f"{other}.frozen.safetensors", path)

    assert cache.get(key, "frozen") is None
    assert cache.stats.corrupt == 1 and not path.exists()
    cache.put(key, "frozen", _tensors(0))  # recomputed, written again, trusted again
    assert cache.get(key, "frozen") is not None


def test_unwritable_folder_warns_once_and_reads_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    warnings: list[str] = []
    cache = FeatureCache(blocker, "ns", max_bytes=1 << 30, warn=warnings.append)
    cache.put(token_key([1]), "frozen", _tensors())
    cache.put(token_key([2]), "frozen", _tensors())
    assert not cache.writable and cache.get(token_key([1]), "frozen") is None
    assert len(warnings) == 1
    assert "cannot be written" in warnings[0] and "computes every feature" in warnings[0]


def test_full_disk_stops_writing_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safetensors.torch

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    warnings: list[str] = []
    cache = FeatureCache(tmp_path, "ns", max_bytes=1 << 30, warn=warnings.append)
    monkeypatch.setattr(safetensors.torch, "save_file", full)
    cache.put(token_key([1]), "frozen", _tensors())
    cache.put(token_key([2]), "frozen", _tensors())
    assert cache.stats.write_errors == 1 and cache.stats.writes == 0
    assert warnings == [warnings[0]] and "No space left on device" in warnings[0]
    assert not list((tmp_path / "ns").iterdir())  # no half-written entry left behind


def test_leftovers_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    (tmp_path / "ns").mkdir()
    stray = tmp_path / "ns" / ".abc.frozen.safetensors.123.tmp"
    stray.write_bytes(b"half an entry")
    FeatureCache(tmp_path, "ns", max_bytes=1 << 30)
    assert not stray.exists()


def test_the_bound_removes_least_recently_used_entries_first(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path, "ns", max_bytes=1 << 30)
    keys = [token_key([i]) for i in range(4)]
    for i, key in enumerate(keys):
        cache.put(key, "frozen", _tensors(i))
        path = tmp_path / "ns" / f"{key}.frozen.safetensors"
        os.utime(path, (1000 + i, 1000 + i))  # written in order, oldest first
    assert cache.get(keys[0], "frozen") is not None  # used again: now the newest
    size = (tmp_path / "ns" / f"{keys[0]}.frozen.safetensors").stat().st_size
    cache.max_bytes = 2 * size
    assert cache.evict() == 2
    left = {k for k in keys if (tmp_path / "ns" / f"{k}.frozen.safetensors").exists()}
    assert left == {keys[0], keys[3]}


def test_model_hash_follows_the_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    first = model_hash(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"weightz")
    assert model_hash(tmp_path) != first

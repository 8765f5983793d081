"""Prompt starts that many pairs share, run through the frozen layers once per run.

Tether's prompts begin with the same instructions, then a task line and a worked example
per task, then the code: about 260 of a pair's ~420 prompt tokens are the same as in some
other pair's prompt. Attention is causal, so the frozen layers' output (and each layer's
keys and values) for a shared start is the same in every pair that begins with it. The
frozen layers run each shared start once, keep its keys and values, and run each pair
only from where its own tokens begin, its attention reading the start's keys and values
(a key/value cache, as generation does). Same numbers to float tolerance, about half the
positions for the bench's pairs.

`PrefixBank.of(prompts)` finds the shared starts: sorted, the longest common prefix of
neighbouring prompts are exactly the places where prompts part ways (the branch points
of a prefix tree). A start is computed on first use, by extending the longest shorter
start it begins with; computed starts are kept up to a memory bound (least recently used
go first and are recomputed when needed again).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Shared starts shorter than this are not worth a separate pass.
MIN_SHARED = 32
#: Memory for computed starts (keys, values and outputs of the frozen layers).
MAX_BYTES = 384 * 2**20


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass
class Start:
    """A computed shared start: its frozen layers' output and each layer's keys/values."""

    hidden: Any  # (length, hidden)
    past: dict[int, tuple[Any, Any]]  # layer index -> (keys, values), each (1, heads, length, d)

    @property
    def nbytes(self) -> int:
        tensors = [self.hidden, *(t for kv in self.past.values() for t in kv)]
        return sum(t.numel() * t.element_size() for t in tensors)


class KeyValues:
    """The cache object the attention layers call (`cache.update(keys, values, layer_idx)`):
    it puts a start's keys and values in front of the new tokens' and keeps the new ones,
    so the start can be extended. `rows` new sequences share the one start."""

    def __init__(self, past: dict[int, tuple[Any, Any]], rows: int) -> None:
        self.past = past
        self.rows = rows
        self.new: dict[int, tuple[Any, Any]] = {}

    def update(self, keys: Any, values: Any, layer_idx: int, *args: Any, **kwargs: Any) -> Any:
        import torch

        self.new[layer_idx] = (keys, values)
        if layer_idx not in self.past:
            return keys, values
        pk, pv = self.past[layer_idx]
        shape = (self.rows, -1, -1, -1)
        return torch.cat([pk.expand(shape), keys], dim=2), torch.cat([pv.expand(shape), values], 2)

    def joined(self) -> dict[int, tuple[Any, Any]]:
        """The start's keys/values followed by the new ones (row 0), per layer."""
        import torch

        out = {}
        for i, (k, v) in self.new.items():
            if i in self.past:
                pk, pv = self.past[i]
                k, v = torch.cat([pk, k[:1]], dim=2), torch.cat([pv, v[:1]], dim=2)
            out[i] = (k[:1], v[:1])
        return out


class PrefixBank:
    """The shared starts of one run's prompts, computed on demand (see the module doc)."""

    def __init__(self, starts: list[tuple[int, ...]], max_bytes: int = MAX_BYTES) -> None:
        self.starts = sorted(set(starts), key=len, reverse=True)
        self.max_bytes = max_bytes
        self._done: OrderedDict[tuple[int, ...], Start] = OrderedDict()
        self.positions = 0  # positions run to compute starts
        self.served = 0  # positions a pair did not run because a start served them

    @classmethod
    def of(cls, prompts: Sequence[Sequence[int]], min_shared: int = MIN_SHARED) -> PrefixBank:
        ordered = sorted({tuple(p) for p in prompts})
        starts = []
        for a, b in itertools.pairwise(ordered):
            n = _common(a, b)
            if n >= min_shared:
                starts.append(a[:n])
        return cls(starts)

    def match(self, seq: Sequence[int], limit: int) -> tuple[int, ...] | None:
        """The longest start `seq` begins with, at most `limit` tokens long."""
        for start in self.starts:  # longest first
            n = len(start)
            if n <= limit and tuple(seq[:n]) == start:
                return start
        return None

    def get(self, start: tuple[int, ...], run: Any) -> Start:
        """The computed start; `run(ids, start_or_None)` runs tokens through the frozen
        layers after a start and returns (outputs, KeyValues)."""
        import torch

        done = self._done.get(start)
        if done is not None:
            self._done.move_to_end(start)
            return done
        parent = self.match(start, len(start) - 1)
        base = self.get(parent, run) if parent else None
        offset = len(parent) if parent else 0
        ids = torch.tensor([start[offset:]], dtype=torch.long)
        hidden, kv = run(ids, base, offset)
        self.positions += len(start) - offset
        if base is not None:
            self.served += offset
            hidden = torch.cat([base.hidden, hidden[0]], dim=0)
            past = kv.joined()
        else:
            hidden, past = hidden[0], kv.joined()
        computed = Start(hidden=hidden, past=past)
        self._done[start] = computed
        self._trim()
        return computed

    def _trim(self) -> None:
        total = sum(s.nbytes for s in self._done.values())
        while total > self.max_bytes and len(self._done) > 1:
            _, gone = self._done.popitem(last=False)
            total -= gone.nbytes

    def clear(self) -> None:
        """Forget the computed starts (their memory), keeping which starts there are."""
        self._done.clear()

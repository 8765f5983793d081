"""Shared frozen layers: a DPO step runs the layers below the adapter once per pair.

With LoRA on the top K decoder layers only, everything below them (the embeddings and the
first L-K layers) is frozen and identical for the policy and the reference. Their output
for a pair depends only on its tokens, so it is computed once, without gradients, and
shared by the reference's pass and every policy pass; only the top K layers run twice
(reference without the adapter, policy with it) and only they are in the backward pass.
Those outputs and the reference's log-probabilities go to a disk cache
(`feature_cache.FeatureCache`) so a retrain computes them only for new pairs.

The two answers of a pair share their prompt (most of the tokens). Each pair is packed
into one sequence, prompt + chosen tail + rejected tail, with the position ids each token
has in its own row and an attention mask that lets the rejected tail see the shared prompt
but not the chosen tail: every layer runs the shared prompt once, with the same numbers as
two separate rows (the prompt-prefix sharing of `prefix.py`, done by packing so it also
holds in the backward pass and in the frozen part).

How it plugs into TRL (no private function is touched): TRL's DPO trainer calls
`model(input_ids, attention_mask, labels=…, fused_lm_head=True)` and reads a
`FusedCausalLMOutput` (the documented contract of `trl.trainer.utils.add_fused_lm_head`).
`SplitForward.install(model)` wraps that forward of the causal LM under PEFT: it returns
the same output, computed as above, and projects only the scored (completion) positions
through the LM head. Calls it cannot serve exactly (no labels, left padding, a cache, a
model that is not a Llama-style decoder) go to the original forward untouched.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

from tether.training.feature_cache import FeatureCache, token_key
from tether.training.frozen_prefix import KeyValues, PrefixBank, Start
from tether.training.head import plain_logits, scored_output

FROZEN = "frozen"
#: Pairs kept in memory next to the disk cache (without one, all are kept for the run).
MEMO_PAIRS = 8


@dataclass
class SplitStats:
    """What the wrapped forward ran: for the report, the benchmark's FLOP count and tests."""

    calls: int = 0
    fallbacks: int = 0  # calls handed to the original forward
    frozen_computed: int = 0  # pairs whose frozen layers ran here
    frozen_reused: int = 0  # pairs whose frozen output came from memory or the disk cache
    frozen_positions: int = 0  # positions run through the frozen layers
    frozen_shared: int = 0  # positions a shared prompt start served (frozen_prefix.py)
    top_positions: int = 0  # positions run through the top K layers (all passes)
    row_positions: int = 0  # rows x width: what the plain forward runs in each pass
    scored: int = 0  # positions projected through the LM head

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def decoder_parts(model: Any) -> Any | None:
    """The Llama-style backbone (embed_tokens, layers, norm, rotary_emb), or None."""
    backbone = getattr(model, "model", None)
    needed = ("embed_tokens", "layers", "norm", "rotary_emb")
    if backbone is None or not all(hasattr(backbone, n) for n in needed):
        return None
    if not plain_logits(model):
        return None  # logits TRL's head would transform; not served here
    return backbone


def top_layer_indices(model: Any, lora_layers: int) -> list[int]:
    """Indices of the top K decoder layers (all of them when K is 0 or too large)."""
    n = model.config.get_text_config().num_hidden_layers
    k = n if lora_layers <= 0 else min(lora_layers, n)
    return list(range(n - k, n))


def _right_padded(attention_mask: Any) -> bool:
    mask = attention_mask.bool()
    return bool((mask[:, 1:] <= mask[:, :-1]).all()) and bool(mask[:, 0].all())


class _Pack:
    """Rows of a batch packed into one sequence per pair (chosen i with rejected i)."""

    def __init__(self, input_ids: Any, lengths: list[int], completion_starts: list[int]) -> None:
        import torch

        rows = input_ids.shape[0]
        half = rows // 2 if rows % 2 == 0 else 0
        self.groups: list[list[int]] = (
            [[i, i + half] for i in range(half)] if half else [[i] for i in range(rows)]
        )
        self.group_of = [0] * rows
        self.index: list[list[int]] = [[] for _ in range(rows)]  # row position -> packed position
        self.seqs: list[list[int]] = []
        self.positions: list[list[int]] = []
        self.shared: list[int] = []
        self.keys: list[str] = []
        ids = input_ids.tolist()
        for g, members in enumerate(self.groups):
            a = members[0]
            seq = ids[a][: lengths[a]]
            pos = list(range(lengths[a]))
            self.group_of[a] = g
            self.index[a] = list(range(lengths[a]))
            shared = lengths[a]
            if len(members) == 2:
                b = members[1]
                other = ids[b][: lengths[b]]
                shared = 0
                for x, y in zip(seq, other, strict=False):
                    if x != y:
                        break
                    shared += 1
                base = len(seq)
                seq = seq + other[shared:]
                pos = pos + list(range(shared, lengths[b]))
                self.group_of[b] = g
                self.index[b] = list(range(shared)) + [
                    base + j - shared for j in range(shared, lengths[b])
                ]
            self.seqs.append(seq)
            self.positions.append(pos)
            self.shared.append(shared)
            self.keys.append(
                token_key(
                    *(ids[m][: lengths[m]] for m in members),
                    [completion_starts[m] for m in members],
                )
            )
        self.lengths = [len(s) for s in self.seqs]
        self.torch = torch

    def tensors(self, groups: list[int], device: Any, dtype: Any) -> tuple[Any, Any, Any]:
        """(packed ids, position ids, additive attention mask) for some of the groups."""
        torch = self.torch
        width = max(self.lengths[g] for g in groups)
        n = len(groups)
        ids = torch.zeros(n, width, dtype=torch.long)
        pos = torch.zeros(n, width, dtype=torch.long)
        allowed = torch.zeros(n, width, width, dtype=torch.bool)
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        for i, g in enumerate(groups):
            length = self.lengths[g]
            ids[i, :length] = torch.tensor(self.seqs[g])
            pos[i, :length] = torch.tensor(self.positions[g])
            members = self.groups[g]
            first = length if len(members) == 1 else len(self.index[members[0]])
            allowed[i, :first, :first] = causal[:first, :first]
            if first < length:  # the second row's own tail: the shared prompt, then itself
                shared = self.shared[g]
                allowed[i, first:length, :shared] = True
                tail = length - first
                allowed[i, first:length, first:length] = causal[:tail, :tail]
            if length < width:  # padding attends to itself only (its output is never read)
                idx = torch.arange(length, width)
                allowed[i, idx, idx] = True
        mask = torch.zeros(n, 1, width, width, dtype=dtype)
        mask.masked_fill_(~allowed.unsqueeze(1), torch.finfo(dtype).min)
        return ids.to(device), pos.to(device), mask.to(device)


class SplitForward:
    """The wrapped forward of one causal LM (see the module docstring)."""

    def __init__(self, model: Any, lora_layers: int, cache: FeatureCache | None = None) -> None:
        self.model = model
        self.backbone = decoder_parts(model)
        self.top = top_layer_indices(model, lora_layers)
        self.split = self.top[0]
        self.cache = cache
        self.stats = SplitStats()
        self._memo: OrderedDict[str, Any] = OrderedDict()
        self._original: Any = None
        #: shared prompt starts of the run's pairs (set by the trainer before the first pass)
        self.prefixes: PrefixBank | None = None

    @property
    def supported(self) -> bool:
        return self.backbone is not None

    def install(self) -> SplitForward:
        """Replace `model.forward` (an instance attribute, as TRL's own fused head does)."""
        if not self.supported:
            raise ValueError(
                f"{type(self.model).__name__} is not a Llama-style decoder; "
                "train all layers (training.lora_layers = 0) instead"
            )
        lower = [self.backbone.embed_tokens, *self.backbone.layers[: self.split]]
        if any(p.requires_grad for m in lower for p in m.parameters()):
            raise ValueError(
                "parameters below the top layers are trainable, so their output cannot be "
                "shared or cached; put the adapter on the top layers only"
            )
        self._original = self.model.forward
        self.model.forward = self.forward
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self.stats.calls += 1
        input_ids = kwargs.get("input_ids", args[0] if args else None)
        labels = kwargs.get("labels")
        attention_mask = kwargs.get("attention_mask")
        plain = {"inputs_embeds", "shift_labels", "past_key_values", "cache", "position_ids"}
        if (
            args
            or not kwargs.get("fused_lm_head")
            or input_ids is None
            or labels is None
            or input_ids.dim() != 2
            or any(kwargs.get(k) is not None for k in plain)
            or (attention_mask is not None and not _right_padded(attention_mask))
        ):
            self.stats.fallbacks += 1
            return self._original(*args, **kwargs)
        return self._split_forward(input_ids, attention_mask, labels)

    def _split_forward(self, input_ids: Any, attention_mask: Any, labels: Any) -> Any:
        import torch

        rows, width = input_ids.shape
        lengths = [width] * rows if attention_mask is None else attention_mask.sum(dim=1).tolist()
        scored = labels != -100
        starts = _completion_starts(scored, lengths)
        pack = _Pack(input_ids, lengths, starts)
        device = input_ids.device
        dtype = self.backbone.embed_tokens.weight.dtype
        groups = list(range(len(pack.groups)))
        ids, pos, mask = pack.tensors(groups, device, dtype)
        hidden = self._frozen_output(pack, ids, pos, mask)
        self.stats.row_positions += rows * width
        self.stats.top_positions += sum(pack.lengths)

        bb = self.backbone
        x = hidden
        pe = bb.rotary_emb(x, position_ids=pos)
        for layer in bb.layers[self.split :]:
            x = _layer(layer, x, mask, pos, pe)
        x = bb.norm(x)

        # next-token log-probs at the scored positions only: row r's token t is predicted
        # from its position t-1, which sits at packed position index[r][t-1]
        target_mask = scored[:, 1:]
        rr, tt = target_mask.nonzero(as_tuple=True)
        index = torch.zeros(rows, width, dtype=torch.long)
        for r in range(rows):
            index[r, : lengths[r]] = torch.tensor(pack.index[r])
        group_of = torch.tensor(pack.group_of, dtype=torch.long)
        rr_cpu, tt_cpu = rr.cpu(), tt.cpu()
        src = x[group_of[rr_cpu].to(device), index[rr_cpu, tt_cpu].to(device)]
        targets = labels[:, 1:][rr, tt]
        self.stats.scored += int(rr.numel())
        head = self.model.get_output_embeddings()
        return scored_output(head, src, targets, (rr, tt), target_mask)

    def _frozen_output(self, pack: _Pack, ids: Any, pos: Any, mask: Any) -> Any:
        """The frozen layers' output for every pair: from memory, the disk cache or a run."""
        import torch

        found: dict[int, Any] = {}
        for g, key in enumerate(pack.keys):
            entry = self._memo.get(key)
            if entry is None and self.cache is not None:
                stored = self.cache.get(key, FROZEN)
                entry = stored.get("hidden") if stored else None
                if entry is not None and entry.shape[0] != pack.lengths[g]:
                    entry = None  # not this pair's (a hash collision would be a bug)
            if entry is not None:
                found[g] = entry.to(ids.device)
                self._remember(key, entry)
                self.stats.frozen_reused += 1
        missing = [g for g in range(len(pack.keys)) if g not in found]
        by_start: dict[tuple[int, ...] | None, list[int]] = {}
        for g in missing:
            # a shared start must end inside the part both rows of the pair share
            limit = min(pack.shared[g], pack.lengths[g] - 1)
            start = self.prefixes.match(pack.seqs[g], limit) if self.prefixes else None
            by_start.setdefault(start, []).append(g)
        for start, groups in by_start.items():
            p = len(start) if start else 0
            shared = None
            if start is not None and self.prefixes is not None:
                shared = self.prefixes.get(start, self._run_frozen)
            rows_mask = mask[groups][..., p:, :]  # its rows: every column, the start's too
            x, _ = self._run_frozen(ids[groups, p:], shared, p, pos[groups, p:], rows_mask)
            for i, g in enumerate(groups):
                out = x[i, : pack.lengths[g] - p].detach()
                if shared is not None:
                    out = torch.cat([shared.hidden, out], dim=0)
                found[g] = out
                self._remember(pack.keys[g], out)
                if self.cache is not None:
                    self.cache.put(pack.keys[g], FROZEN, {"hidden": out})
                self.stats.frozen_computed += 1
                self.stats.frozen_positions += pack.lengths[g] - p
                self.stats.frozen_shared += p
        width = ids.shape[1]
        hidden_size = found[0].shape[-1]
        out = ids.new_zeros((len(pack.keys), width, hidden_size), dtype=mask.dtype)
        for g, h in found.items():
            out[g, : h.shape[0]] = h
        return out

    def _run_frozen(
        self,
        ids: Any,
        start: Start | None,
        offset: int,
        pos: Any = None,
        mask: Any = None,
    ) -> tuple[Any, KeyValues]:
        """The frozen layers' output for `ids` (rows of tokens that follow `start`, a shared
        start of `offset` tokens whose keys and values their attention reads)."""
        import torch

        bb = self.backbone
        weight = bb.embed_tokens.weight
        ids = ids.to(weight.device)
        rows, n = ids.shape
        if pos is None:  # a start's own tokens: one row, causal, after its parent start
            pos = torch.arange(offset, offset + n, device=weight.device).expand(rows, n)
            allowed = torch.ones(n, offset + n, dtype=torch.bool, device=weight.device)
            allowed[:, offset:] = allowed[:, offset:].tril()
            mask = torch.zeros(rows, 1, n, offset + n, dtype=weight.dtype, device=weight.device)
            mask.masked_fill_(~allowed, torch.finfo(weight.dtype).min)
            self.stats.frozen_positions += n
        kv = KeyValues(start.past if start is not None else {}, rows)
        with torch.no_grad():
            x = bb.embed_tokens(ids)
            pe = bb.rotary_emb(x, position_ids=pos)
            for layer in bb.layers[: self.split]:
                x = _layer(layer, x, mask, pos, pe, kv)
        return x, kv

    def _remember(self, key: str, value: Any) -> None:
        self._memo[key] = value
        self._memo.move_to_end(key)
        if self.cache is None or not self.cache.writable:
            return  # no disk to come back to: keep every pair's output for the later passes
        while len(self._memo) > MEMO_PAIRS:
            self._memo.popitem(last=False)


def _completion_starts(scored: Any, lengths: list[int]) -> list[int]:
    """Where each row's scored tokens (its completion) begin."""
    return [
        int(scored[r].nonzero()[0, 0]) if bool(scored[r].any()) else lengths[r]
        for r in range(scored.shape[0])
    ]


def pair_keys(input_ids: Any, attention_mask: Any, completion_mask: Any) -> list[str]:
    """The cache key of each pair in a TRL DPO batch (chosen rows, then rejected rows): the
    same keys the split forward uses for the frozen layers' output."""
    lengths = attention_mask.sum(dim=1).tolist()
    starts = _completion_starts(completion_mask.bool(), lengths)
    return _Pack(input_ids, lengths, starts).keys


def _layer(layer: Any, x: Any, mask: Any, pos: Any, pe: Any, cache: Any = None) -> Any:
    out = layer(x, attention_mask=mask, position_ids=pos, position_embeddings=pe, cache=cache)
    return out[0] if isinstance(out, tuple) else out

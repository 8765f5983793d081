"""Keeping a Profile in step with the decision log, and rebuilding it from the log.

The log is the truth; snapshots only save replay time. `ProfileStore.load` starts from the
latest snapshot when it was made under the same evidence settings, and replays the rows
after it; otherwise it replays the whole log. Both paths fold the same rows in the same
order through the same code, so they give identical numbers to `rebuild`.
"""

from __future__ import annotations

import asyncio
import logging

from tether.config import PolicySettings, Settings
from tether.decisions.models import DecisionRecord
from tether.decisions.store import DecisionStore, StoreError
from tether.profile.models import MaturityEvent
from tether.profile.profile import Profile, SnapshotError

log = logging.getLogger(__name__)

#: Rows read from the log per query while replaying.
PAGE = 2000
#: Verdicts and proposals observed between automatic snapshots.
SNAPSHOT_EVERY = 250


def policy_settings(settings: PolicySettings | Settings) -> PolicySettings:
    return settings.policy if isinstance(settings, Settings) else settings


def class_parts(settings: PolicySettings | Settings) -> list[str] | None:
    """The class key's parts (None: the defaults) so the profile can find task and kind."""
    return list(settings.classes.parts) if isinstance(settings, Settings) else None


async def replay(
    store: DecisionStore, profile: Profile, until_seq: int | None = None
) -> list[MaturityEvent]:
    """Fold every row after `profile.last_seq` (up to `until_seq`, else the head) into `profile`."""
    end = until_seq if until_seq is not None else (await store.head())[0]
    cursor = profile.last_seq
    events: list[MaturityEvent] = []
    while cursor < end:
        upper = min(cursor + PAGE, end)
        for row in await store.decisions(after_seq=cursor, until_seq=upper):
            events += profile.observe(row)
        cursor = upper
    return events


async def rebuild(store: DecisionStore, settings: PolicySettings | Settings) -> Profile:
    """A fresh profile computed from the whole log."""
    profile = Profile(policy_settings(settings), class_parts(settings))
    await replay(store, profile)
    return profile


class ProfileStore:
    """A Profile kept in step with one store; use `await ProfileStore.load(store, settings)`."""

    def __init__(
        self, store: DecisionStore, profile: Profile, *, snapshot_every: int = SNAPSHOT_EVERY
    ) -> None:
        self.store = store
        self.profile = profile
        self.snapshot_every = snapshot_every
        self._since_snapshot = 0
        self._lock = asyncio.Lock()

    @classmethod
    async def load(
        cls,
        store: DecisionStore,
        settings: PolicySettings | Settings,
        *,
        snapshot_every: int = SNAPSHOT_EVERY,
    ) -> ProfileStore:
        parts = class_parts(settings)
        settings = policy_settings(settings)
        head, _ = await store.head()
        profile = await _from_latest_snapshot(store, settings, head, parts)
        await replay(store, profile, until_seq=head)
        return cls(store, profile, snapshot_every=snapshot_every)

    @property
    def head_seq(self) -> int:
        """The last log row folded into the profile."""
        return self.profile.last_seq

    async def observe(self, record: DecisionRecord) -> list[MaturityEvent]:
        """Fold a row just recorded; rows missed in between are read from the log first."""
        async with self._lock:
            if record.seq <= self.profile.last_seq:
                return []
            events: list[MaturityEvent] = []
            if record.seq > self.profile.last_seq + 1:
                events += await replay(self.store, self.profile, until_seq=record.seq - 1)
            before = self.profile.last_seq
            events += self.profile.observe(record)
            await self._maybe_snapshot(self.profile.last_seq - before)
            return events

    async def refresh(self) -> list[MaturityEvent]:
        """Catch up with rows other processes appended to the log."""
        async with self._lock:
            before = self.profile.last_seq
            events = await replay(self.store, self.profile)
            await self._maybe_snapshot(self.profile.last_seq - before)
            return events

    async def snapshot(self) -> int:
        """Persist the current state; returns the log row it is valid up to."""
        seq = self.profile.last_seq
        await self.store.save_profile_snapshot(seq, self.profile.to_snapshot())
        self._since_snapshot = 0
        return seq

    async def reconfigure(self, settings: PolicySettings | Settings) -> None:
        """Adopt new policy settings; rebuilds from the log when the evidence rules changed."""
        parts = class_parts(settings) or list(self.profile.shape.parts)
        settings = policy_settings(settings)
        if parts != list(self.profile.shape.parts) or not self.profile.update_settings(settings):
            async with self._lock:
                self.profile = Profile(settings, parts)
                await replay(self.store, self.profile)

    async def _maybe_snapshot(self, rows: int) -> None:
        self._since_snapshot += rows
        if self.snapshot_every <= 0 or self._since_snapshot < self.snapshot_every:
            return
        try:
            await self.snapshot()
        except StoreError as exc:  # a snapshot is only a cache; the log already has the rows
            log.warning("profile snapshot not saved: %s", exc)


async def _from_latest_snapshot(
    store: DecisionStore, settings: PolicySettings, head: int, parts: list[str] | None
) -> Profile:
    snap = await store.latest_profile_snapshot()
    if snap is None:
        return Profile(settings, parts)
    if snap.head_seq > head:
        log.warning(
            "profile snapshot is ahead of the log (%s > %s); rebuilding", snap.head_seq, head
        )
        return Profile(settings, parts)
    try:
        return Profile.from_snapshot(snap.body, settings, parts)
    except SnapshotError as exc:
        log.info("profile snapshot not used (%s); rebuilding from the log", exc)
        return Profile(settings, parts)

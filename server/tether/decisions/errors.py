"""What the store raises: a store that cannot be used, a write that did not happen, a
proposal it does not know, a decision that does not follow from a proposal's state."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used (corrupt, foreign, newer schema); never overwritten."""


class StoreWriteError(StoreError):
    """A write failed (disk full, read-only…); the decision was NOT recorded."""


class UnknownProposal(KeyError):
    def __str__(self) -> str:
        return f"unknown proposal id {self.args[0]!r}"


class InvalidTransition(ValueError):
    """A decision that does not follow from the proposal's state (e.g. accept twice)."""

"""The store's own key: Ed25519 for checkpoints, and a MAC key derived from it for seals.

Checkpoints leave the machine (an adapter's lineage, a published bundle, a git note), so
they are signed with Ed25519: anyone holding the public key can check them. Seals (a MAC on
every chained row, on the recorded head, on profile snapshots and memory items) only ever
need checking here, a hundred thousand at a time, so they use keyed BLAKE2b (a MAC by
design) with a key derived from the same secret: under a microsecond each, where an
Ed25519 check costs ~100.

The key lives in a file next to the store, mode 0600, created on first use (written aside,
then linked into place) so two processes opening a new store at once agree on one key.
`cryptography` is imported only to sign or check a checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: First line of the key file; the second is the 32-byte Ed25519 seed in hex.
KEY_HEADER = "tether-store-key ed25519 v1"

#: meta key holding a seal of a fixed message: which key this store was sealed with.
KEY_CHECK = "key_check"
KEY_CHECK_MESSAGE = "key-check"


class StoreKeyError(RuntimeError):
    """The store's key file is unreadable, malformed or has unsafe permissions."""


def key_path(db: Path) -> Path:
    """The key file of a store: next to it, so a backup of the folder keeps both."""
    return db.with_name(db.name + ".key")


@dataclass(frozen=True)
class StoreKey:
    """One store's secret. `seal` is cheap and local; `sign` makes a public checkpoint."""

    seed: bytes
    _mac: bytes = field(repr=False, default=b"")
    _pub: bytes = field(repr=False, default=b"")

    @classmethod
    def of(cls, seed: bytes) -> StoreKey:
        mac = hashlib.sha256(b"tether seal v1\n" + seed).digest()  # 32 bytes: a BLAKE2b key
        return cls(seed=seed, _mac=mac)

    # ------------------------------------------------------------ seals (keyed BLAKE2b)
    def seal(self, message: str) -> str:
        return hashlib.blake2b(message.encode(), key=self._mac, digest_size=16).hexdigest()

    def sealer(self) -> Any:
        """A fast `seal(message) -> str` closure for SQLite functions and bulk checks."""
        keyed = hashlib.blake2b(key=self._mac, digest_size=16)  # key block absorbed once

        def seal(message: str) -> str:
            h = keyed.copy()
            h.update(message.encode())
            return h.hexdigest()

        return seal

    # ------------------------------------------------------------ signatures (Ed25519)
    def _private(self) -> Any:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def public_key(self) -> str:
        """The raw Ed25519 public key, base64 (what a checkpoint carries)."""
        if not self._pub:
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            raw = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            object.__setattr__(self, "_pub", raw)
        return base64.b64encode(self._pub).decode()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._private().sign(payload)).decode()


def key_id(public_key: str) -> str:
    """A short fingerprint of a public key, to name it in messages."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def signature_ok(public_key: str, payload: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            base64.b64decode(signature), payload
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def load_key(path: Path) -> StoreKey | None:
    """The key in `path`, or None when there is no such file."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreKeyError(f"cannot read the store key {path}: {exc}") from exc
    lines = text.split()
    try:
        if " ".join(lines[:3]) != KEY_HEADER or len(lines) != 4:
            raise ValueError("unexpected layout")
        seed = bytes.fromhex(lines[3])
        if len(seed) != 32:
            raise ValueError("the seed is not 32 bytes")
    except ValueError as exc:
        raise StoreKeyError(
            f"the store key {path} is not a Tether key ({exc}); restore it from a backup"
        ) from None
    return StoreKey.of(seed)


def load_or_create_key(path: Path) -> StoreKey:
    """The store's key, created (mode 0600, exclusively) when there is none yet."""
    existing = load_key(path)
    if existing is not None:
        return existing
    seed = os.urandom(32)
    # Written in full to a private temporary file, then linked into place: a second process
    # never reads half a key, and whoever links first wins (link fails when the name exists).
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:  # mkstemp makes the file 0600 (owner only) already
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(f"{KEY_HEADER}\n{seed.hex()}\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            existing = load_key(path)
            if existing is None:
                raise StoreKeyError(f"the store key {path} vanished while being created") from None
            return existing
    finally:
        Path(tmp).unlink(missing_ok=True)
    return StoreKey.of(seed)

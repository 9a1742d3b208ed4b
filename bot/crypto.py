"""Encryption at rest for restricted fields: signal details, subject identities, alert details, …

A column typed `Sealed` is encrypted with authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256,
from the `cryptography` library) on its way into the database and decrypted on its way out; the
database, its backups and a `pg_dump` hold only tokens. Keys come from `SAMEN_ENCRYPTION_KEY`: a
comma-separated list, the first used to encrypt, all of them to decrypt (MultiFernet), so a key can be
rotated while old rows still read (`samen keys rotate` re-encrypts them).

The keyring is process-wide, set once at start-up by `Services.build`: a column type has no other way
to reach it, and keys are process configuration, like logging. `cryptography` (~7 MB resident) is loaded
on the first seal or unseal, not at start-up: keys are checked the way Fernet checks them (32 bytes,
url-safe base64), so an idle process never holds it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


class KeyringError(Exception):
    pass


class _Keyring:
    def __init__(self) -> None:
        self._fernet: MultiFernet | None = None
        self._keys: tuple[str, ...] = ()

    def configure(self, keys: str) -> None:
        parsed = tuple(k.strip() for k in keys.split(",") if k.strip())
        if not parsed:
            raise KeyringError("no encryption key given")
        if parsed == self._keys:
            return
        if not all(map(_is_fernet_key, parsed)):
            raise KeyringError("an encryption key is not a valid Fernet key")
        self._keys, self._fernet = parsed, None

    @property
    def fernet(self) -> MultiFernet:
        if not self._keys:
            raise KeyringError("encryption keys are not configured (SAMEN_ENCRYPTION_KEY)")
        if self._fernet is None:
            from cryptography.fernet import Fernet, MultiFernet

            self._fernet = MultiFernet([Fernet(k.encode()) for k in self._keys])
        return self._fernet

    def encrypt(self, plaintext: str) -> str:
        return self.fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        fernet = self.fernet
        from cryptography.fernet import InvalidToken

        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise KeyringError("a sealed value cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt under the first (newest) key."""
        fernet = self.fernet
        from cryptography.fernet import InvalidToken

        try:
            return fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise KeyringError("a sealed value cannot be decrypted with the configured keys") from exc


keyring = _Keyring()


def generate_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def _is_fernet_key(key: str) -> bool:
    """Fernet's own test of a key: url-safe base64 of 32 bytes (binascii.Error is a ValueError)."""
    try:
        return len(base64.urlsafe_b64decode(key)) == 32
    except ValueError:
        return False


def is_valid_keyset(keys: str) -> bool:
    parsed = [k.strip() for k in keys.split(",") if k.strip()]
    return bool(parsed) and all(map(_is_fernet_key, parsed))


class Sealed(TypeDecorator[str]):
    """A text column stored encrypted. Compare and search on it is impossible by design."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring.encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring.decrypt(str(value))

"""Encryption at rest for restricted fields: signal details, subject identities, alert details, …

A column typed `Sealed` is encrypted with authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256,
from the `cryptography` library) on its way into the database and decrypted on its way out; the
database, its backups and a `pg_dump` hold only tokens. Keys come from `SAMEN_ENCRYPTION_KEY`: a
comma-separated list, the first used to encrypt, all of them to decrypt (MultiFernet), so a key can be
rotated while old rows still read (`samen keys rotate` re-encrypts them).

The keyring is process-wide, set once at start-up by `Services.build`: a column type has no other way
to reach it, and keys are process configuration, like logging.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


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
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parsed])
        except (ValueError, TypeError) as exc:
            raise KeyringError("an encryption key is not a valid Fernet key") from exc
        self._keys = parsed

    @property
    def fernet(self) -> MultiFernet:
        if self._fernet is None:
            raise KeyringError("encryption keys are not configured (SAMEN_ENCRYPTION_KEY)")
        return self._fernet

    def encrypt(self, plaintext: str) -> str:
        return self.fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise KeyringError("a sealed value cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt under the first (newest) key."""
        try:
            return self.fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise KeyringError("a sealed value cannot be decrypted with the configured keys") from exc


keyring = _Keyring()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def is_valid_keyset(keys: str) -> bool:
    try:
        parsed = [k.strip() for k in keys.split(",") if k.strip()]
        MultiFernet([Fernet(k.encode()) for k in parsed])
    except (ValueError, TypeError, IndexError):
        return False
    return bool(parsed)


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

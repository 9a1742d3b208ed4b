"""Rotating SAMEN_ENCRYPTION_KEY: re-encrypt every sealed value under the newest key.

A rotation (docs/operations.md, "Rotating secrets"): generate a new key; set SAMEN_ENCRYPTION_KEY to
`<new>,<old>` and restart every process (new values are sealed with the new key, old ones still read);
run `samen keys rotate` (this module) so that every sealed value in the database is sealed with the new
key; then set SAMEN_ENCRYPTION_KEY to `<new>` alone and restart. The old key may then be destroyed —
but a database backup made before the rotation still needs it.

Values are re-encrypted as they are stored, without decrypting them into Python strings that could
end up anywhere: Fernet's rotate works on the tokens. One transaction per table and batch, so an
interrupted rotation leaves every value readable with the keys configured, and running it again
finishes the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import Text, and_, bindparam, select, type_coerce, update
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.models  # every table, so that every sealed column is found
import bot.slack.workspaces.tables  # noqa: F401  (and the workspaces' bot tokens)
from bot.crypto import Sealed, keyring

BATCH: Final = 500


@dataclass(frozen=True)
class Rotated:
    table: str
    column: str
    values: int


def sealed_columns() -> dict[str, list[str]]:
    """table → its sealed columns, for every table Samen has."""
    found: dict[str, list[str]] = {}
    for table in SQLModel.metadata.sorted_tables:
        names = [column.name for column in table.columns if isinstance(column.type, Sealed)]
        if names:
            found[table.name] = names
    return found


def rotate_all(engine: Engine, *, batch: int = BATCH) -> list[Rotated]:
    """Re-encrypt every sealed value under the first configured key; returns how many per column."""
    counts: dict[tuple[str, str], int] = {}
    for table_name, names in sealed_columns().items():
        table = SQLModel.metadata.tables[table_name]
        keys = list(table.primary_key.columns)
        # The stored tokens as text: type_coerce bypasses Sealed's decryption on the way out and its
        # encryption on the way in.
        raw = [type_coerce(table.c[name], Text).label(name) for name in names]
        offset = 0
        while True:
            with engine.begin() as connection:
                rows = connection.execute(
                    select(*keys, *raw).order_by(*keys).offset(offset).limit(batch)
                ).all()
                for row in rows:
                    values = {
                        name: keyring.rotate(getattr(row, name))
                        for name in names
                        if getattr(row, name) is not None
                    }
                    if not values:
                        continue
                    connection.execute(
                        update(table)
                        .where(and_(*[key == getattr(row, key.name) for key in keys]))
                        .values({table.c[n]: bindparam(f"v_{n}", v, type_=Text) for n, v in values.items()})
                    )
                    for name in values:
                        counts[(table_name, name)] = counts.get((table_name, name), 0) + 1
            if len(rows) < batch:
                break
            offset += batch
    return [
        Rotated(table, column, counts.get((table, column), 0))
        for table, columns in sealed_columns().items()
        for column in columns
    ]

"""bot/subjects: the one definition of a subject's holders reads the domains' tables by name."""

from __future__ import annotations

from sqlmodel import SQLModel

import bot.models  # noqa: F401  (every table, so that the metadata knows them)
from bot.subjects import codes
from bot.subjects.holders import TABLES


def test_the_holders_query_names_only_tables_and_columns_the_models_define() -> None:
    for table in TABLES:
        assert table.name in SQLModel.metadata.tables, table.name
        defined = SQLModel.metadata.tables[table.name].columns
        for column in table.columns:
            assert column.name in defined, f"{table.name}.{column.name}"


def test_codes_are_normalised_and_recognised() -> None:
    assert codes.normalise(" s-2026-0042 ") == "S-2026-0042"
    assert codes.normalise("S-26-42") is None
    assert codes.CODE_IN_TEXT.findall("zie s-2026-0042, S-2025-0001") == ["s-2026-0042", "S-2025-0001"]

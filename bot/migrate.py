"""`python -m bot.migrate`: apply migrations to SAMEN_MIGRATE_URL, for `migrate_in_child` (bot/db.py)."""

from __future__ import annotations

import os

from bot.db import upgrade
from bot.logs import configure


def main() -> None:
    configure()
    upgrade(os.environ["SAMEN_MIGRATE_URL"])


if __name__ == "__main__":
    main()

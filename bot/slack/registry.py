"""What the features add to the bot: `/samen` subcommands and sections of the App Home.

Each module in commands/ registers its own entries here, so that `/samen help` and the App Home
grow with every feature without one central list to edit.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.slack.interaction import Interaction


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str  # the arguments, shown after `/samen <name>`; a literal, not translated
    summary: str  # a message id (marked with N_), translated when shown
    handler: Callable[[Interaction], None]
    aliases: tuple[str, ...] = ()
    in_help: bool = True
    members_only: bool = True  # help is for everyone; everything else for members of the partnership


@dataclass(frozen=True)
class HomeSection:
    """Renders part of the App Home: a list of blocks for one person."""

    name: str
    order: int
    render: Callable[[Interaction], list[dict[str, Any]]]


# A guard runs before every members-only command; it answers the person itself and returns False
# to stop the command (e.g. "you are not a member of the partnership; ask …").
Guard = Callable[["Interaction"], bool]


@dataclass
class Registry:
    subcommands: dict[str, Subcommand] = field(default_factory=dict)
    home_sections: list[HomeSection] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    _aliases: dict[str, str] = field(default_factory=dict)

    def add_guard(self, guard: Guard) -> None:
        self.guards.append(guard)

    def admits(self, request: Interaction) -> bool:
        return all(guard(request) for guard in self.guards)

    def add_subcommand(self, subcommand: Subcommand) -> None:
        for word in (subcommand.name, *subcommand.aliases):
            if word in self._aliases:
                raise ValueError(f"/samen {word} is registered twice")
            self._aliases[word] = subcommand.name
        self.subcommands[subcommand.name] = subcommand

    def add_home_section(self, section: HomeSection) -> None:
        self.home_sections.append(section)
        self.home_sections.sort(key=lambda s: s.order)

    def find(self, word: str) -> Subcommand | None:
        name = self._aliases.get(word.lower())
        return self.subcommands[name] if name else None

    def closest(self, word: str) -> str | None:
        """The valid subcommand nearest to a mistyped one, for 'did you mean'."""
        matches = difflib.get_close_matches(word.lower(), list(self._aliases), n=1, cutoff=0.5)
        return self._aliases[matches[0]] if matches else None

    def help_entries(self) -> list[Subcommand]:
        return [s for s in self.subcommands.values() if s.in_help]

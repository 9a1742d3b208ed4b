"""Partners of the partnership, their members (Deelnemers), duty contacts, lead and capacity."""

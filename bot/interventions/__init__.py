"""Interventions: owners, rounds, capacity, timed chains, reminders, lessons and goals (issue 5)."""

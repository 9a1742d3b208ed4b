"""Samen: a Slack bot for Dutch public partners working together against ondermijning."""

__version__ = "0.1.0"

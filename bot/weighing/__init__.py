"""Weighing a signal (Weging): three questions and an outcome, by a coordinator, each with a reason.

Above the signals and the cases: an outcome may make the signal a case. The record of a weighing (the
`Assessment` rows and their labels) stays with the signals, whose detail shows it (bot/signals/cards.py).
"""

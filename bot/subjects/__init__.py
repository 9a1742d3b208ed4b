"""Subjects: the persons, companies, locations and networks the partnership speaks of by code only.

Below signals, cases, interventions and check-ins: the `Subject` table (`models`), its codes (`codes`) and
the one definition of which partners have something on a subject (`holders`).
"""

"""Operating Samen from Slack: `/samen status` shows coordinators and admins how Samen runs.

The runbook for the people who install and run Samen is docs/operations.md.
"""

"""Samen in several Slack workspaces: Slack's OAuth install flow, installations kept in Samen's database.

Many partner organisations have their own Slack workspace and meet in Slack Connect channels. With
`SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` set (instead of `SLACK_BOT_TOKEN`), `samen serve` offers
Slack's install flow at `/slack/install`; each workspace that installs Samen gets a row in
`slack_installations` and `slack_bots` (slack_sdk's SQLAlchemy installation store, on Samen's own
database, with the tokens sealed like restricted data). Bolt then answers each request with the token
of the workspace it came from, and the outbox sends each message with the token of the workspace it is
for (`bot/slack/workspaces/clients.py`). People stay `(team_id, user_id)`.

Single-token mode (`SLACK_BOT_TOKEN`) is untouched by all of this.
"""

"""The chat edge: Slack (the Bolt app, its requests, workspaces and OAuth). Nothing else imports slack_sdk."""

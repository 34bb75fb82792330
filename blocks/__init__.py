"""Pure functions from domain objects to Block Kit (and plain text). No Slack client, no database."""

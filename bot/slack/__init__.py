"""The Slack wiring: the Bolt app, its listeners, and the Web API gateway."""

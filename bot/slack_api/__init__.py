"""Slack outbound: the Web API gateway and what it needs (the Web API client, workspace tokens, pacing, directory caches)."""

"""Slack outbound: the Web API gateway and what it needs (workspace tokens, keep-alive, pacing, directory caches)."""

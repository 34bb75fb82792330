"""The domain core: briefs, severities, destinations and their rules. Knows nothing of Slack."""

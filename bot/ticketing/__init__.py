"""Ticketing: Zendesk and Jira Service Management adapters, the outgoing webhook, and the outbox
worker that sends their work after ack (see README "Ticketing")."""

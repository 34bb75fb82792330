"""Storage: the only SQL. SQLModel tables (models, installations), queries per aggregate
(escalations, running_log, follow_ups, outbox, events, digests, installations, search, stats,
worklists, batch), the UTC column type, the SQLite writer lock and Alembic migrations.

Every query function takes the session explicitly; a use case opens one session per unit of work
(`Database.session()`), never across a Slack call.
"""

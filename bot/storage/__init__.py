"""Storage: SQLModel tables, one module of queries, Alembic migrations. Nothing else touches SQL."""

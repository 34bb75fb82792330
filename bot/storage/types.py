"""A datetime column that is UTC and timezone-aware on SQLite and PostgreSQL alike.

SQLite has no timezone type and silently drops offsets, even with DateTime(timezone=True), so a
value written as 09:00+02:00 would come back as a naive 09:00. This type (SQLAlchemy's documented
TypeDecorator recipe) refuses naive input, stores UTC, and always returns aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

"""Column types shared by the tables, so every table stores the same kind of value alike."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field

from imageshare.db import utcnow


class UTCDateTime(sa.TypeDecorator[datetime]):
    """TIMESTAMP WITH TIME ZONE that always comes back timezone-aware, in UTC.

    Postgres does that by itself; SQLite stores no zone and hands back naive values,
    which cannot be compared with aware ones. Fixing it here means no caller has to.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def timestamp(*, index: bool = False, nullable: bool = False) -> Any:  # as Field()
    """A timezone-aware timestamp column, defaulting to now unless nullable."""
    column_type = UTCDateTime()
    if nullable:
        return Field(default=None, sa_type=column_type, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=column_type, nullable=False, index=index)


def enum_column(enum_type: type[enum.StrEnum], *, default: enum.StrEnum) -> Any:  # as Field()
    """Store a StrEnum as its value in a short VARCHAR with a CHECK constraint.

    Not a native Postgres ENUM: adding a value later is then a plain migration.
    """
    return Field(
        default=default,
        sa_type=sa.Enum(
            enum_type,
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
            name=enum_type.__name__.lower(),
        ),
        nullable=False,
    )

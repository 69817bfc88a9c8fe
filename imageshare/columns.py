"""Column types shared by the tables, so every table stores the same kind of value alike."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlmodel import Field

from imageshare.db import utcnow


def timestamp(*, index: bool = False, nullable: bool = False):
    """A timezone-aware timestamp column, defaulting to now unless nullable."""
    column_type = sa.DateTime(timezone=True)
    if nullable:
        return Field(default=None, sa_type=column_type, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=column_type, nullable=False, index=index)


def enum_column(enum_type: type[enum.StrEnum], *, default: enum.StrEnum):
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

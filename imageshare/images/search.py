"""Free-text search over an image's title, description and location.

Postgres: full-text search with prefix matching ("mount" finds "Mountains"), served by a
GIN index on the same expression (ix_image_search). The `simple` configuration does no
stemming and drops no stop words: titles come in every language, and a word typed is
a word found. SQLite (development): every word must appear somewhere, case-insensitive.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

MAX_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The searchable words of what someone typed; punctuation is ignored."""
    return [w.lower() for w in _WORD.findall(text)][:MAX_WORDS]


def document(table) -> ColumnElement:
    """The searched text of an image row. Literal separators, not bound parameters,
    so the query's expression is the index's expression and Postgres uses the index."""
    space = sa.literal_column("' '")
    return table.c.title + space + table.c.description + space + table.c.location


def postgres_vector(table) -> ColumnElement:
    return sa.func.to_tsvector(sa.literal_column("'simple'::regconfig"), document(table))


def matches(table, words: list[str], dialect: str) -> ColumnElement:
    """A WHERE clause true for rows holding every word (as a prefix, on Postgres)."""
    if dialect == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        return postgres_vector(table).op("@@")(
            sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), query)
        )
    text = sa.func.lower(document(table))
    return sa.and_(*(text.contains(word, autoescape=True) for word in words))

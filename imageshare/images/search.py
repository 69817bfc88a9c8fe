"""Free-text search over an image's title, description and location.

Postgres: full-text search with prefix matching ("mount" finds "Mountains"). The text's
vector is a stored generated column, `image.search_vector` (migration 0002, Postgres
only, so not in the models), with a GIN index (ix_image_search). Stored, not computed
per query: otherwise the planner walks the gallery index recomputing to_tsvector on
every row it passes, which bench/gallery.py measured 5-10x slower for words in a few
percent of images. The `simple` configuration does no stemming and drops no stop
words: titles come in every language, and a word typed is a word found.
SQLite (development): every word must appear somewhere, case-insensitive.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

MAX_WORDS = 8
# Letters and digits; the underscore is punctuation here, as Postgres's parser has it.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The searchable words of what someone typed; punctuation is ignored."""
    return [w.lower() for w in _WORD.findall(text)][:MAX_WORDS]


VECTOR_COLUMN = "search_vector"
INDEX_NAME = "ix_image_search"


def document(table: sa.Table) -> ColumnElement[str]:
    """The searched text of an image row (SQLite; Postgres keeps it as search_vector)."""
    space: ColumnElement[str] = sa.literal_column("' '")
    text: ColumnElement[str] = (
        table.c.title + space + table.c.description + space + table.c.location
    )
    return text


def postgres_vector(table: sa.Table) -> ColumnElement[Any]:
    return sa.literal_column(f"{table.name}.{VECTOR_COLUMN}")


def matches(table: sa.Table, words: list[str], dialect: str) -> ColumnElement[bool]:
    """A WHERE clause true for rows holding every word (as a prefix, on Postgres)."""
    if dialect == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        return postgres_vector(table).op("@@")(
            sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), query)
        )
    text = sa.func.lower(document(table))
    return sa.and_(*(text.contains(word, autoescape=True) for word in words))

"""The app's own database helpers pointed at a migrated SQLite file, for service tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from imageshare import db
from imageshare.settings import get_settings
from tests.harness.components import REPO_ROOT


def alembic(engine: Engine, action: str, revision: str) -> None:
    """Run an Alembic command (upgrade, downgrade) on this engine's database."""
    with engine.begin() as connection:
        config = Config(str(REPO_ROOT / "alembic.ini"))
        config.attributes["connection"] = connection
        config.attributes["configure_logging"] = False
        getattr(command, action)(config, revision)


def upgrade(database_url: str) -> None:
    engine = db.create_db_engine(database_url)
    alembic(engine, "upgrade", "head")
    engine.dispose()


@pytest.fixture
def postgres_engine(empty_postgres_url) -> Iterator[Engine]:
    """An engine on a Postgres database of this test's own, migrated to head."""
    upgrade(empty_postgres_url)
    engine = db.create_db_engine(empty_postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch) -> Iterator[str]:
    """session_scope() and run_in_session() use a fresh, migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield url
    db.get_engine().dispose()
    get_settings.cache_clear()
    db.get_engine.cache_clear()

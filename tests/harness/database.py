"""The app's own database helpers pointed at a migrated SQLite file, for service tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from imageshare import db
from imageshare.settings import Settings, load_settings
from imageshare.wiring import Wiring, build_wiring, install
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


@contextmanager
def wired(settings: Settings) -> Iterator[Wiring]:
    """The app's wiring for these settings, as the app assembly builds it, installed
    (for what only the pages reach) until the block ends; then closed."""
    wiring = build_wiring(settings)
    previous = install(wiring)
    try:
        yield wiring
    finally:
        install(previous)
        wiring.close()


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch) -> Iterator[Wiring]:
    """The app's wiring on a fresh, migrated SQLite database (the other settings from
    the environment): `app_db.session()` and `app_db.run()` as the app has them."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    with wired(load_settings()) as wiring:
        yield wiring

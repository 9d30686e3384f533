"""Run the Alembic migrations of ``extraction_jobs`` programmatically (``extraction-pipeline db upgrade``).

``upgrade_database`` says what it did (created the table, upgraded from one revision to another, or nothing: the
database was already at the newest revision); ``check_revision`` is the check that ``doctor`` and ``/health`` make.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Engine

from extraction_pipeline.errors import PermanentError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
TABLE = "extraction_jobs"


class DatabaseNotAtHeadError(PermanentError):
    """The database's extraction_jobs schema is older (or newer) than this code's newest migration."""


@dataclass(frozen=True)
class UpgradeOutcome:
    """The revision before (None: no table yet) and after an upgrade."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before == self.after:
            return f"{TABLE} is already at revision {self.after}, the newest: nothing to do"
        if self.before is None:
            return f"created table {TABLE} at revision {self.after}"
        return f"upgraded {TABLE} from revision {self.before} to {self.after}"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest revision this code ships."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _revision_at(database_url: str) -> str | None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def upgrade_database(database_url: str, revision: str = "head") -> UpgradeOutcome:
    before = _revision_at(database_url)
    command.upgrade(alembic_config(database_url), revision)
    return UpgradeOutcome(before=before, after=_revision_at(database_url))


def downgrade_database(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def check_revision(engine: Engine) -> str:
    """``"at revision X, the newest"``, or ``DatabaseNotAtHeadError`` saying which revision it is at."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return f"at revision {current}, the newest"
    if current is None:
        raise DatabaseNotAtHeadError(f"the database has no {TABLE} table yet (the newest revision is {head})")
    raise DatabaseNotAtHeadError(f"{TABLE} is at revision {current}, not at the newest ({head})")

"""``extraction-pipeline db …``: the extraction_jobs database's schema (Alembic migrations)."""

from __future__ import annotations

import click

from extraction_pipeline.cli.connections import checked_database_url


@click.group(help="The extraction_jobs database.")
def db() -> None:
    pass


@db.command(help="Run the Alembic migrations up to the newest revision (creates a SQLite file if needed).")
def upgrade() -> None:
    from sqlalchemy.engine import make_url

    from extraction_pipeline.store.migrate import upgrade_database

    url = checked_database_url(create=True)
    outcome = upgrade_database(url)
    click.echo(f"{outcome.describe()} in {make_url(url).render_as_string(hide_password=True)}")

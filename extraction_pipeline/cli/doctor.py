"""``extraction-pipeline doctor``: can this environment work? One line per check, non-zero exit if one fails.

The checks are the ones ``GET /health`` makes (``extraction_pipeline.health``): the jobs database answers and is at
this code's newest revision, the watched bucket answers with the configured credentials and endpoint, and the
Dagster webserver answers (checked when ``EXTRACTION_DAGSTER_URL`` is set). A failure is told the way every CLI
error is: cause, setting, fix.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import click

from extraction_pipeline import health, settings
from extraction_pipeline.cli.connections import checked_database_url, open_store, s3_client
from extraction_pipeline.cli.environment import describe_setting
from extraction_pipeline.cli.errors import ExitCode, explain


def _database() -> str:
    from sqlalchemy.engine import make_url

    store = open_store()
    try:
        detail = health.check_database(store)
    finally:
        store.dispose()
    return f"{make_url(checked_database_url()).render_as_string(hide_password=True)}: {detail}"


def _bucket() -> str:
    endpoint = os.environ.get(settings.ENDPOINT_ENV) or "AWS"
    return f"{health.check_bucket(s3_client(), settings.bucket())} at {endpoint}"


def _webserver() -> str:
    from extraction_pipeline.dagster_api import DagsterWebserver

    return health.check_webserver(DagsterWebserver())


def failure_line(error: BaseException) -> str:
    """The one-line explanation of a failed check (the CLI's own, without its ``error:`` prefix)."""
    if isinstance(error, TimeoutError):
        return str(error)
    return explain(error).render().removeprefix("error: ")


# Longer than /health's: a person waits for this answer, and a loaded machine may take seconds to open connections.
DEFAULT_TIMEOUT_SECONDS = 30.0


@click.command(help="Check the jobs database (reachable, newest revision), the S3 bucket and the Dagster webserver.")
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, show_default=True,
              help="Seconds each check may take.")  # fmt: skip
def doctor(timeout: float) -> None:
    checks: dict[str, Callable[[], str]] = {"database": _database, "s3": _bucket}
    if os.environ.get(settings.DAGSTER_URL_ENV):
        checks["dagster"] = _webserver
    outcomes = health.run_checks(checks, timeout=timeout)
    for name, outcome in outcomes.items():
        if outcome.ok:
            click.echo(f"ok    {name:<9} {outcome.detail}")
        else:
            click.echo(f"FAIL  {name:<9} {failure_line(outcome.error or RuntimeError('unknown'))}")
    if "dagster" not in checks:
        click.echo(f"skip  {'dagster':<9} {describe_setting(settings.DAGSTER_URL_ENV)}: set it to check the webserver")
    sys.exit(ExitCode.OK if all(outcome.ok for outcome in outcomes.values()) else ExitCode.CHECKS_FAILED)

"""``extraction-pipeline api``: the HTTP API as a standalone server (uvicorn)."""

from __future__ import annotations

import click

from extraction_pipeline.cli.errors import CliError, ExitCode


@click.command(help="Serve the HTTP API (jobs, results, submit, retry, cancel, health) with uvicorn. Needs "
               "EXTRACTION_API_TOKENS (comma-separated; TOKEN:ro for read-only) unless bound to loopback with "
               "--no-auth.")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--no-auth", is_flag=True, help="No tokens: only on a loopback address, for a local try-out.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info")
def api(host: str, port: int, no_auth: bool, log_level: str) -> None:
    from extraction_pipeline.api.app import serve
    from extraction_pipeline.api.auth import InvalidTokensError, UnsafeBindError, server_auth
    from extraction_pipeline.cli.connections import checked_database_url

    try:
        auth = server_auth(host, no_auth=no_auth)
    except (UnsafeBindError, InvalidTokensError) as error:
        raise CliError(str(error), code=ExitCode.BAD_SETTING) from error
    checked_database_url()  # a missing SQLite file or a malformed URL is said now, not on the first request
    if no_auth:
        click.echo(f"warning: serving without authentication on {host}:{port} (--no-auth)", err=True)
    serve(host, port, auth=auth, log_level=log_level)

"""``extraction-pipeline dev``: the local stack (see ``extraction_pipeline.devstack``)."""

from __future__ import annotations

import importlib.util
import sys

import click

from extraction_pipeline.cli.errors import CliError, ExitCode


@click.command(help="Run the local stack: S3 (moto) on loopback, the SQLite table, dagster dev, seeded with samples.")
@click.option("--port", default=3000, show_default=True, help="Dagster UI port on 127.0.0.1.")
@click.option("--s3-port", default=4566, show_default=True, help="Local S3 endpoint port on 127.0.0.1.")
@click.option("--no-seed", is_flag=True, help="Do not upload the sample files.")
@click.option("--verbose", is_flag=True, help="Log every S3 request and Dagster's info lines (default: warnings).")
def dev(port: int, s3_port: int, no_seed: bool, verbose: bool) -> None:
    require_dev_extra()
    from extraction_pipeline.devstack import run_dev_stack

    sys.exit(run_dev_stack(ui_port=port, s3_port=s3_port, seed=not no_seed, verbose=verbose))


def require_dev_extra() -> None:
    """The local S3 endpoint is moto's server, which production installs leave out (the ``dev`` extra)."""
    if importlib.util.find_spec("moto") is None:
        raise CliError(
            "the local stack needs moto's S3 server, which is not installed in this environment",
            code=ExitCode.REFUSED,
            fix="pip install 'extraction_pipeline[dev]' (make dev installs it)",
        )

"""``extraction-pipeline``: a thin command line over the same functions the sensor and the asset use.

Adding a command: write it in a module of this package and name it in ``_COMMANDS`` (it is imported only when
invoked, so ``jobs list`` never pays for Dagster or the extractors), or decorate it with ``@main.command()``.
Either way ``ReportingGroup`` turns its failures into one line and a distinct exit code (``--debug``
prints the traceback too).
"""

from __future__ import annotations

import importlib
import os

import click

from extraction_pipeline.cli.environment import load_dev_env
from extraction_pipeline.cli.errors import ReportingGroup

# command name → "module:attribute", imported on first use
_COMMANDS = {
    "extract": "extraction_pipeline.cli.files:extract",
    "upload": "extraction_pipeline.cli.upload:upload",
    "jobs": "extraction_pipeline.cli.jobs:jobs",
    "db": "extraction_pipeline.cli.db:db",
    "dev": "extraction_pipeline.cli.dev:dev",
    "bulk-import": "extraction_pipeline.cli.bulk:bulk_import",
    "submit": "extraction_pipeline.cli.submit:submit",
    "api": "extraction_pipeline.cli.api:api",
    "doctor": "extraction_pipeline.cli.doctor:doctor",
}
DEBUG_ENV = "EXTRACTION_DEBUG"


class CommandGroup(ReportingGroup):
    """The top-level group: the commands of ``_COMMANDS`` load lazily, others register eagerly."""

    def __init__(self, *args: object, lazy_commands: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        self.add_command(command, cmd_name)
        return command


@click.group(
    cls=CommandGroup,
    lazy_commands=_COMMANDS,
    help="Extract engineering files uploaded to S3 into the extraction_jobs table (a Dagster code location).",
)
@click.option("--debug", is_flag=True, envvar=DEBUG_ENV, help=f"Print tracebacks of errors (or set {DEBUG_ENV}=1).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    ctx.obj = {"debug": debug}
    if ctx.invoked_subcommand != "dev":  # the dev stack sets its own environment
        load_dev_env()
    if debug:
        os.environ.setdefault(DEBUG_ENV, "1")


if __name__ == "__main__":
    main()

"""``extract``: a local file through the pipeline's extractors (no Dagster, no S3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from extraction_pipeline.cli.errors import ExitCode

# Result sections counted in the human summary, in the order an engineer reads a drawing.
_SECTIONS = ("title_block", "tables", "dimensions", "gdt", "threads", "surface_finishes", "bom", "text_blocks",
             "layers", "blocks")  # fmt: skip
_TITLE_FIELDS_SHOWN = 6


@click.command(help="Extract a local FILE with the pipeline's extractors (no Dagster, no S3) and print a summary.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full result (or the typed error) as JSON.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Extractor option (repeatable).")
def extract(file: Path, as_json: bool, options: tuple[str, ...]) -> None:
    from extraction_pipeline.errors import ExtractionError
    from extraction_pipeline.extractors import extract_file

    try:
        result = extract_file(file, filename=file.name, options=_parse_options(options))
    except ExtractionError as error:
        if as_json:
            click.echo(json.dumps({"error": error.to_dict()}, indent=2, sort_keys=True))
        else:
            click.echo(f"error: {file.name}: {error.message} ({error.kind.value}, {type(error).__name__})", err=True)
        sys.exit(ExitCode.FAILED if error.retryable else ExitCode.REFUSED)
    payload = result.to_json_dict()
    if as_json:
        click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))
    else:
        click.echo(extraction_summary(payload))


def extraction_summary(result: dict[str, Any]) -> str:
    """A few lines an engineer reads at a glance: format, size, title block, what was found, warnings."""
    source = result.get("source") or {}
    lines = [f"{source.get('filename')}: {str(result.get('format')).upper()}, {source.get('size', 0):,} bytes, "
             f"extractor {result.get('extractor_version')}"]  # fmt: skip
    title_block = {k: v for k, v in (result.get("title_block") or {}).items() if v and k != "custom_fields"}
    if title_block:
        shown = ", ".join(f"{k}={v}" for k, v in list(title_block.items())[:_TITLE_FIELDS_SHOWN])
        lines.append(f"  title block: {shown}")
    found = [f"{len(result[name])} {name.replace('_', ' ')}" for name in _SECTIONS[1:] if result.get(name)]
    lines.append("  found: " + (", ".join(found) if found else "nothing beyond the metadata"))
    lines.extend(f"  warning: {warning}" for warning in result.get("warnings") or [])
    return "\n".join(lines)


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        options[key] = value
    return options

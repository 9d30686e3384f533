"""``submit``: put an S3 object in the table inbox from a shell — the same INSERT PyBase makes."""

from __future__ import annotations

import json

import click

from extraction_pipeline.cli.connections import open_store
from extraction_pipeline.cli.files import _parse_options


@click.command(help="Queue FILE_URL (s3://bucket/key) for extraction: a pending row the inbox sensor runs next tick.")
@click.argument("file_url")
@click.option("--record-id", help="PyBase record the file is attached to.")
@click.option("--field-id", help="PyBase attachment field.")
@click.option("--attachment-id", help="PyBase attachment.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Extractor option (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the new job as JSON.")
def submit(
    file_url: str,
    record_id: str | None,
    field_id: str | None,
    attachment_id: str | None,
    options: tuple[str, ...],
    as_json: bool,
) -> None:
    from extraction_pipeline.defs.detection.inbox_sensor import submit_or_merge
    from extraction_pipeline.objects import RecordLink

    link = RecordLink(record_id=record_id, field_id=field_id, attachment_id=attachment_id)
    store = open_store()
    job_id, created = submit_or_merge(store, file_url, link=link, options=_parse_options(options))
    status = "pending" if created else store.get(job_id).status.value
    if as_json:
        document = {"id": job_id, "file_url": file_url, "status": status, "created": created}
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif created:
        click.echo(f"{job_id} pending {file_url} (the inbox sensor registers and runs it on its next tick)")
    else:
        click.echo(f"{job_id} {status} {file_url} already had a job: the record link and options given were merged "
                   "into it (yours win; a job already extracted keeps its result until `jobs retry`)")  # fmt: skip

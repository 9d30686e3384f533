"""Bulk import (bulk_import.py): batched registration, idempotence, resumption, changed ETags, dry run, errors.

Registration runs against moto's S3 server, a throw-away Dagster instance and the jobs table on SQLite and
PostgreSQL; extraction of the registered files runs as the backfill's batch runs would (partition-range
tags). Launching through a live webserver and watching are in ``test_bulk_import_live.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from dagster import materialize

from extraction_pipeline.bulk_import import ImportSource, read_ahead, run_import
from extraction_pipeline.cli import main
from extraction_pipeline.cli.bulk import describe_counts
from extraction_pipeline.defs.extraction.assets import file_extraction
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.errors import ObjectNotFoundError
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf
from extraction_pipeline_tests.harness import Pipeline

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


class CountingInstance:
    """The real Dagster instance; counts the calls that add partitions (one per batch is the contract)."""

    def __init__(self, instance: Any) -> None:
        self._instance = instance
        self.add_calls: list[int] = []

    def add_dynamic_partitions(self, name: str, keys: list[str]) -> None:
        self.add_calls.append(len(keys))
        self._instance.add_dynamic_partitions(name, keys)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)


@pytest.fixture
def old_store(s3, bucket: str, tmp_path: Path) -> dict[str, bytes]:
    """An existing store: 3 PDFs, 3 DXFs and a text file under ``archive/``, plus a file outside the prefix."""
    files = {}
    for i in range(3):
        files[f"archive/p{i}.pdf"] = build_drawing_pdf(tmp_path / f"p{i}.pdf", drawing_number=f"P-{i}").read_bytes()
        files[f"archive/d{i}.dxf"] = build_drawing_dxf(tmp_path / f"d{i}.dxf", drawing_number=f"D-{i}").read_bytes()
    files["archive/readme.txt"] = b"not a drawing"
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.put_object(Bucket=bucket, Key="elsewhere/x.pdf", Body=files["archive/p0.pdf"])
    return files


def _import(s3, bucket: str, store: JobStore, instance: Any, **options: Any):
    return run_import(
        ImportSource(bucket, "archive/"),
        client=s3,
        store=store,
        instance=instance,
        webserver=None,  # launching goes through a live webserver: test_bulk_import_live.py
        max_retries=3,
        **options,
    )


def _extract(pipeline: Pipeline, keys: list[str]) -> None:
    """What the backfill's runs do: the registered partitions as a range run."""
    tags = {RANGE_START: keys[0], RANGE_END: keys[-1]}
    assert materialize([file_extraction], resources=pipeline.resources, instance=pipeline.instance, tags=tags).success


def test_registration_is_batched_and_the_sensor_leaves_the_files_to_the_import(
    pipeline: Pipeline, s3, bucket: str, store: JobStore, old_store: dict[str, bytes]
) -> None:
    instance = CountingInstance(pipeline.instance)

    outcome = _import(s3, bucket, store, instance, batch_size=4)

    counts = outcome.counts
    assert (counts.listed, counts.skipped, counts.new, counts.changed, counts.unchanged) == (7, 1, 6, 0, 0)
    assert instance.add_calls == [4, 2]  # one instance call per batch
    expected = [partition_key_for(ObjectRef(bucket, k)) for k in sorted(old_store) if not k.endswith(".txt")]
    assert outcome.partition_keys == expected
    assert pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME) == expected
    rows = store.find_many([f"s3://{bucket}/{k}" for k in old_store])
    assert {row.status for row in rows.values()} == {JobStatus.PENDING} and len(rows) == 6
    assert {row.format for row in rows.values()} == {"pdf", "dxf"}
    assert {(k, e.files) for k, e in counts.by_format.items()} == {("pdf", 3), ("dxf", 3)}
    assert counts.by_format["pdf"].bytes == sum(len(b) for k, b in old_store.items() if k.endswith(".pdf"))
    # The sensor (watching this bucket, runs on) sees registered partitions and rows: no per-file runs for the
    # imported files; the file outside the import's prefix is the sensor's.
    tick = pipeline.tick()
    elsewhere = partition_key_for(ObjectRef(bucket, "elsewhere/x.pdf"))
    assert [r.partition_key for r in tick.run_requests] == [elsewhere] and tick.added_partitions == [elsewhere]


def test_sensor_leaves_a_partition_registered_without_a_row_to_its_registrar(
    pipeline: Pipeline, s3, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    """An import adds partitions first, then rows: a tick in between must not request runs for them."""
    s3.put_object(Bucket=bucket, Key="archive/mid.pdf", Body=build_drawing_pdf(tmp_path / "m.pdf").read_bytes())
    s3.put_object(Bucket=bucket, Key="day/new.pdf", Body=build_drawing_pdf(tmp_path / "n.pdf").read_bytes())
    importing = partition_key_for(ObjectRef(bucket, "archive/mid.pdf"))
    pipeline.instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, [importing])

    tick = pipeline.tick()

    assert [r.partition_key for r in tick.run_requests] == [partition_key_for(ObjectRef(bucket, "day/new.pdf"))]
    assert store.find(ObjectRef(bucket, "archive/mid.pdf")) is None


def test_second_run_adds_nothing_and_a_changed_file_is_imported_again(
    pipeline: Pipeline, s3, bucket: str, store: JobStore, old_store: dict[str, bytes], tmp_path: Path
) -> None:
    first = _import(s3, bucket, store, pipeline.instance)
    _extract(pipeline, first.partition_keys)
    assert {r.status for r in store.find_many([f"s3://{bucket}/{k}" for k in old_store]).values()} == {
        JobStatus.COMPLETED
    }

    again = _import(s3, bucket, store, CountingInstance(pipeline.instance))

    assert again.partition_keys == [] and again.counts.unchanged == 6 and again.counts.partitions_added == 0
    changed = build_drawing_dxf(tmp_path / "new.dxf", drawing_number="D-1-REV-B").read_bytes()
    s3.put_object(Bucket=bucket, Key="archive/d1.dxf", Body=changed)

    third = _import(s3, bucket, store, pipeline.instance)

    key = partition_key_for(ObjectRef(bucket, "archive/d1.dxf"))
    assert third.partition_keys == [key] and (third.counts.changed, third.counts.unchanged) == (1, 5)
    assert store.get(f"s3://{bucket}/archive/d1.dxf").status is JobStatus.PENDING
    _extract(pipeline, [key])
    assert store.get(f"s3://{bucket}/archive/d1.dxf").result["title_block"]["drawing_number"] == "D-1-REV-B"


def test_an_interrupted_import_resumes_with_only_what_is_missing(
    pipeline: Pipeline, s3, bucket: str, store: JobStore, old_store: dict[str, bytes]
) -> None:
    def interrupt_after_first_batch(counts: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _import(s3, bucket, store, pipeline.instance, batch_size=4, on_batch=interrupt_after_first_batch)
    assert len(pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)) == 4

    resumed = _import(s3, bucket, store, CountingInstance(pipeline.instance), batch_size=4)

    # the first batch: registered and pending but never launched; the second: new
    assert (resumed.counts.unfinished, resumed.counts.new, resumed.counts.partitions_added) == (4, 2, 2)
    assert sorted(resumed.partition_keys) == sorted(
        pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)
    )
    _extract(pipeline, pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME))
    assert _import(s3, bucket, store, pipeline.instance).partition_keys == []


@pytest.mark.parametrize("files", [1, 3], ids=["single-file run", "batch run"])
def test_the_record_link_reaches_the_row_with_the_extraction(
    files: int, pipeline: Pipeline, s3, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    """Registration reads no user metadata (no HEAD per object); the run's GET brings the record link."""
    body = build_drawing_dxf(tmp_path / "linked.dxf", drawing_number="LINK-1").read_bytes()
    for n in range(files):
        metadata = {"record-id": f"rec_{n}", "field-id": "fld_7", "attachment-id": f"att_{n}"}
        s3.put_object(Bucket=bucket, Key=f"archive/linked{n}.dxf", Body=body, Metadata=metadata)

    outcome = _import(s3, bucket, store, pipeline.instance)

    urls = [f"s3://{bucket}/archive/linked{n}.dxf" for n in range(files)]
    assert {(store.get(url).status, store.get(url).record_id) for url in urls} == {(JobStatus.PENDING, None)}
    _extract(pipeline, outcome.partition_keys)
    for n, url in enumerate(urls):
        row = store.get(url)
        assert (row.status, row.record_id, row.field_id, row.attachment_id) == (
            JobStatus.COMPLETED, f"rec_{n}", "fld_7", f"att_{n}"
        )  # fmt: skip


def test_dry_run_writes_nothing_and_counts_by_format_and_size(
    pipeline: Pipeline, s3, bucket: str, store: JobStore, old_store: dict[str, bytes]
) -> None:
    outcome = _import(s3, bucket, store, pipeline.instance, dry_run=True, formats=frozenset({"pdf"}))

    assert pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME) == []
    assert store.stats().total == 0
    assert (outcome.counts.new, outcome.counts.skipped) == (3, 4)
    pdf_bytes = sum(len(body) for key, body in old_store.items() if key.endswith(".pdf"))
    lines = describe_counts(outcome.counts, dry_run=True)
    assert lines[1].startswith("would import 3 file(s)") and f"{pdf_bytes / 1024:.1f} KiB" in lines[1]
    assert lines[2].split() == ["pdf", "3", "file(s)", f"{pdf_bytes / 1024:.1f}", "KiB"]


def test_a_missing_bucket_is_a_typed_error(pipeline: Pipeline, s3, store: JobStore) -> None:
    with pytest.raises(ObjectNotFoundError):
        _import(s3, "no-such-bucket-here", store, pipeline.instance)


# --- the command --------------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(moto_endpoint: str, database_url: str, instance, monkeypatch) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "EXTRACTION_DATABASE_URL": database_url,
        "DAGSTER_HOME": instance.root_directory,
        "EXTRACTION_DAGSTER_URL": "http://127.0.0.1:9/graphql",  # nothing listens on the discard port
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_dry_run_prints_counts_and_writes_nothing(
    cli_env, bucket: str, store: JobStore, old_store: dict[str, bytes]
) -> None:
    result = _cli("bulk-import", f"s3://{bucket}/archive/", "--dry-run", "--formats", "dxf")

    assert result.exit_code == 0, result.output
    assert "would import 3 file(s)" in result.output and "  dxf           3 file(s)" in result.output
    assert store.stats().total == 0


def test_cli_unreachable_webserver_is_one_line_and_nothing_is_written(
    cli_env, bucket: str, store: JobStore, old_store: dict[str, bytes]
) -> None:
    result = CliRunner().invoke(main, ["bulk-import", f"s3://{bucket}/archive/"])

    assert result.exit_code == 9  # ExitCode.WEBSERVER_UNREACHABLE
    assert "Traceback" not in result.output and "cannot reach the Dagster webserver" in result.output
    assert store.stats().total == 0


def test_cli_missing_bucket_is_one_line(cli_env) -> None:
    result = CliRunner().invoke(main, ["bulk-import", "s3://no-such-bucket-here/x/", "--dry-run"])

    assert result.exit_code != 0 and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1
    assert "no-such-bucket-here" in result.output


def test_the_listing_is_read_ahead_in_order_while_a_batch_is_written() -> None:
    import threading

    produced: list[int] = []
    ahead = threading.Event()

    def listing():
        for index in range(10):
            produced.append(index)
            if index == 4:
                ahead.set()
            yield index

    items = read_ahead(listing(), depth=4)
    assert next(items) == 0
    # while the consumer holds item 0 (writing its batch), the producer fills the queue: 4 waiting + 1 in hand
    assert ahead.wait(5) and len(produced) >= 5
    assert [0, *items] == list(range(10))


def test_a_listing_error_reaches_the_import_and_stopping_early_leaves_no_thread_behind() -> None:
    import threading

    def failing():
        yield 1
        raise ObjectNotFoundError("s3://gone does not exist")

    items = read_ahead(failing(), depth=2)
    assert next(items) == 1
    with pytest.raises(ObjectNotFoundError, match="gone"):
        next(items)

    endless = read_ahead(iter(range(10**9)), depth=2)
    assert next(endless) == 0
    endless.close()  # the consumer stops (an error in a batch, Ctrl-C): the producer must stop too
    assert not [t for t in threading.enumerate() if t.name == "bulk-import-listing"]


class RecordingWebserver:
    """Answers a launch like the webserver does and keeps what it was asked."""

    url = "http://127.0.0.1:1/graphql"

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        self.params = variables["backfillParams"]
        return {"launchPartitionBackfill": {"__typename": "LaunchBackfillSuccess", "backfillId": "abc"}}


def test_backfill_runs_carry_a_max_runtime_sized_to_a_batch(monkeypatch) -> None:
    from extraction_pipeline import settings
    from extraction_pipeline.bulk_import import launch_import_backfill
    from extraction_pipeline.dagster_api import AssetJob, launch_backfill

    monkeypatch.setenv("EXTRACTION_BACKFILL_BATCH_SIZE", "40")
    expected = {"key": "dagster/max_runtime", "value": str(settings.batch_max_runtime_seconds(40))}
    webserver = RecordingWebserver()

    assert launch_import_backfill(webserver, ["a", "b"], ImportSource("old", "p/")) == "abc"  # type: ignore[arg-type]
    assert expected in webserver.params["tags"]
    job = AssetJob(location_name="loc", repository_name="__repository__", job_name="extract_files")
    assert launch_backfill(webserver, ["a"], title="retry", tags={}, job=job) == "abc"  # type: ignore[arg-type]
    assert expected in webserver.params["tags"]

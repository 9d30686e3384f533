"""``bulk-import`` end to end against a running Dagster (dagster-webserver + dagster-daemon, PostgreSQL instance).

The stack is test_operations.py's (the production dagster.yaml, moto S3, jobs table on PostgreSQL). The import
reads the bucket the sensor does not watch: a sensor tick that registers the uploads before the import does
would make the counts depend on timing. test_bulk_import.py shows the sensor leaving imported files alone.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import RunsFilter

from extraction_pipeline.bulk_import import BULK_IMPORT_REASON
from extraction_pipeline.names import TAG_REASON
from extraction_pipeline.store import JobStatus
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf
from extraction_pipeline_tests.test_operations import Stack, cli, wait_for
from extraction_pipeline_tests.test_operations import stack as stack  # the module-scoped fixture

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PREFIX = "archive/"
EXE = Path(sys.executable).parent / "extraction-pipeline"


def _bucket(stack: Stack) -> str:
    """The stack's bucket no sensor lists (``other_bucket``; ``side_bucket`` before test_operations renamed it)."""
    return getattr(stack, "other_bucket", None) or stack.side_bucket


def _backfill_id(output: str) -> str:
    return output.split("launched backfill ")[1].split(" ")[0]


def _runs_of(stack: Stack, backfill_id: str) -> list:
    return stack.instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))


def test_bulk_import_extracts_a_prefix_once_then_adds_nothing_and_re_extracts_a_changed_file(
    stack: Stack, tmp_path: Path
) -> None:
    files = {f"{PREFIX}p{i}.pdf": build_drawing_pdf(tmp_path / f"p{i}.pdf", drawing_number=f"LP-{i}") for i in range(4)}
    files.update(
        {f"{PREFIX}d{i}.dxf": build_drawing_dxf(tmp_path / f"d{i}.dxf", drawing_number=f"LD-{i}") for i in range(4)}
    )
    for key, path in files.items():
        stack.s3.put_object(Bucket=_bucket(stack), Key=key, Body=path.read_bytes())
    stack.s3.put_object(Bucket=_bucket(stack), Key=f"{PREFIX}broken.dxf", Body=b"0\nSECTION\n2\nnothing")
    urls = [f"s3://{_bucket(stack)}/{key}" for key in [*files, f"{PREFIX}broken.dxf"]]

    result = cli("bulk-import", f"s3://{_bucket(stack)}/{PREFIX}")

    assert result.exit_code == 1, result.output  # every row final; one file failed
    assert "importing 9 file(s)" in result.output and "9 new" in result.output
    backfill_id = _backfill_id(result.output)
    assert f"/runs/b/{backfill_id}" in result.output
    assert "8/9 done  1 failed  0 left" in result.output
    rows = stack.store.find_many(urls)
    assert {url: row.status for url, row in rows.items()} == {
        url: JobStatus.FAILED if "broken" in url else JobStatus.COMPLETED for url in urls
    }
    assert rows[urls[0]].result["title_block"]["drawing_number"] == "LP-0"
    runs = _runs_of(stack, backfill_id)
    assert runs and all(run.tags[TAG_REASON] == BULK_IMPORT_REASON for run in runs)
    again = cli("bulk-import", f"s3://{_bucket(stack)}/{PREFIX}")

    assert again.exit_code == 0, again.output
    assert "nothing to import" in again.output and "9 unchanged" in again.output

    watched = cli("bulk-import", "--watch", backfill_id)
    assert watched.exit_code == 1 and "8/9 done  1 failed  0 left" in watched.output

    revised = build_drawing_pdf(tmp_path / "rev.pdf", drawing_number="LP-1-REV-B").read_bytes()
    stack.s3.put_object(Bucket=_bucket(stack), Key=f"{PREFIX}p1.pdf", Body=revised)
    release = stack.hold_extraction("p1.pdf")  # in flight until released, however fast the machine
    try:
        launched = cli("bulk-import", f"s3://{_bucket(stack)}/{PREFIX}", "--no-wait")

        assert launched.exit_code == 0 and "1 changed (new ETag)" in launched.output
        assert f"bulk-import --watch {_backfill_id(launched.output)}" in launched.output
        in_flight = cli("bulk-import", f"s3://{_bucket(stack)}/{PREFIX}", "--no-wait")
        assert "nothing to import" in in_flight.output and "1 already in flight" in in_flight.output
    finally:
        release.unlink()
    changed = f"s3://{_bucket(stack)}/{PREFIX}p1.pdf"
    wait_for("the changed file", lambda: stack.store.get(changed).status is JobStatus.COMPLETED, 120)
    assert stack.store.get(changed).result["title_block"]["drawing_number"] == "LP-1-REV-B"


def test_ctrl_c_stops_watching_and_says_how_to_resume(stack: Stack, tmp_path: Path) -> None:
    body = build_drawing_dxf(tmp_path / "w.dxf").read_bytes()
    keys = [f"w/{i:02d}.dxf" for i in range(19)] + ["w/watched-held.dxf"]
    for key in keys:
        stack.s3.put_object(Bucket=_bucket(stack), Key=key, Body=body)
    release = stack.hold_extraction("watched-held.dxf")
    try:
        launched = cli("bulk-import", f"s3://{_bucket(stack)}/w/", "--no-wait")
        assert launched.exit_code == 0 and "importing 20 file(s)" in launched.output, launched.output
        backfill_id = _backfill_id(launched.output)
        # Certain before Ctrl-C: the import is under way and cannot finish, one of its files is being extracted.
        wait_for("the held file's extraction", lambda: stack.held_pid("watched-held.dxf"), 180, 0.2)
        watcher = subprocess.Popen(
            [str(EXE), "bulk-import", "--watch", backfill_id], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        first_line = watcher.stdout.readline()  # the first progress snapshot: watching has begun
        watcher.send_signal(signal.SIGINT)
        output = first_line + watcher.stdout.read()
        code = watcher.wait(timeout=30)
    finally:
        release.unlink()

    assert code == 130, output
    assert " left " in first_line and "Traceback" not in output
    assert "stopped watching; the import goes on in Dagster" in output
    assert f"bulk-import --watch {backfill_id}" in output
    urls = [f"s3://{_bucket(stack)}/{key}" for key in keys]
    wait_for("the import to go on", lambda: {r.status for r in stack.store.find_many(urls).values()}
             == {JobStatus.COMPLETED}, 180)  # fmt: skip

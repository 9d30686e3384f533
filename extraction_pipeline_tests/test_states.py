"""One truthful state: what a file's row, its Dagster run and its partition say agree, and so do its check verdicts.

Runs go through the code location's own asset on a real instance, and the partition's status is read with
Dagster's own status cache (what the UI's partition bar shows). The live-stack side — `jobs cancel` of a queued,
starting or started run through the webserver — is in ``test_operations``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterRunStatus
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from extraction_pipeline.defs.extraction.checks import (
    DRAWING_TEXT_WAS_READ,
    RESULT_MATCHES_SCHEMA,
    drawing_text_was_read,
    file_checks,
)
from extraction_pipeline.defs.extraction.partitions import extraction_partitions, partition_key_for
from extraction_pipeline.extractors.hold import HELD_SUFFIX, TEST_HOLD_DIR_ENV
from extraction_pipeline.names import (
    ASSET_NAME,
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    RETRY_REASON,
    TAG_REASON,
)
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf, build_vector_only_pdf
from extraction_pipeline_tests.harness import Pipeline
from extraction_pipeline_tests.live_stack import wait_for

ASSET = AssetKey(ASSET_NAME)
REPO_ROOT = Path(__file__).resolve().parents[1]


def partition_status(pipeline: Pipeline, partition_key: str) -> set[str]:
    """materialized / failed / in progress, as Dagster's status cache (the UI's partition bar) has it."""
    cache = get_and_update_asset_status_cache_value(pipeline.instance, ASSET, extraction_partitions)
    if cache is None:
        return set()
    subsets = {
        "materialized": cache.deserialize_materialized_partition_subsets(extraction_partitions),
        "failed": cache.deserialize_failed_partition_subsets(extraction_partitions),
        "in progress": cache.deserialize_in_progress_partition_subsets(extraction_partitions),
    }
    return {name for name, subset in subsets.items() if partition_key in subset.get_partition_keys()}


def _register_one(pipeline: Pipeline, s3: Any, bucket: str, key: str, body: bytes) -> tuple[ObjectRef, dict[str, str]]:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    [request] = pipeline.tick().run_requests
    return ObjectRef(bucket, key), dict(request.tags)


def test_a_run_that_finds_its_job_cancelled_ends_cancelled_without_extracting(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    """The sensor's run was queued when the operator cancelled the job: it starts, extracts nothing, fails nothing."""
    ref, tags = _register_one(pipeline, s3, bucket, "c/part.dxf", build_drawing_dxf(tmp_path / "p.dxf").read_bytes())
    key = partition_key_for(ref)
    assert store.cancel_if_active(ref) is not None

    result = pipeline.run(key, tags)

    assert pipeline.instance.get_run_by_id(result.run_id).status is DagsterRunStatus.CANCELED
    assert result.get_asset_materialization_events() == []
    row = store.get(ref.file_url)
    assert row.status is JobStatus.CANCELLED and row.dagster_run_id is None  # never marked processing
    assert partition_status(pipeline, key) == set()  # neither failed nor in progress: never materialized
    [observation] = [r.asset_observation for r in pipeline.instance.fetch_observations(ASSET, limit=5).records]
    assert observation.partition == key
    assert observation.description == f"cancelled: run {result.run_id} found its job cancelled and did not extract"
    assert store.cancel_if_active(ref) is None  # a finished (cancelled) row is not cancelled twice


def test_a_materialized_file_whose_rerun_is_cancelled_stays_materialized_and_not_failed(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    ref, tags = _register_one(pipeline, s3, bucket, "m/part.dxf", build_drawing_dxf(tmp_path / "p.dxf").read_bytes())
    key = partition_key_for(ref)
    assert pipeline.run(key, tags).success
    extracted = store.get(ref.file_url).result
    store.reset_to_pending(store.get(ref.file_url), run_id="rerun", etag=None, file_size=None)
    assert store.cancel_if_active(ref) is not None

    rerun = pipeline.run(key, {TAG_REASON: "re-upload"})

    assert pipeline.instance.get_run_by_id(rerun.run_id).status is DagsterRunStatus.CANCELED
    assert partition_status(pipeline, key) == {"materialized"}  # green, never red
    row = store.get(ref.file_url)
    assert row.status is JobStatus.CANCELLED and row.result == extracted


def test_a_cancel_while_the_file_is_extracted_drops_the_result_and_ends_the_run_cancelled(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path, monkeypatch: Any
) -> None:
    """The cancel lands while the parser runs and the parser finishes before any terminate could stop it: the
    extraction must not flip the row back to completed, nor materialize the partition."""
    monkeypatch.setenv("EXTRACTION_SANDBOX", "off")  # the parser runs here, where the hold below is seen
    monkeypatch.setenv(TEST_HOLD_DIR_ENV, str(tmp_path))
    ref, tags = _register_one(pipeline, s3, bucket, "h/held.dxf", build_drawing_dxf(tmp_path / "p.dxf").read_bytes())
    key = partition_key_for(ref)
    request = tmp_path / "held.dxf"
    request.touch()
    runs: list[Any] = []
    worker = threading.Thread(target=lambda: runs.append(pipeline.run(key, tags)), name="held-run")
    worker.start()
    try:
        wait_for("the extraction to be held", lambda: (tmp_path / f"held.dxf{HELD_SUFFIX}").exists(), 120, 0.05)
        assert store.get(ref.file_url).status is JobStatus.PROCESSING
        assert store.cancel_if_active(ref) is not None
    finally:
        request.unlink()
        worker.join(300)
    [result] = runs

    assert pipeline.instance.get_run_by_id(result.run_id).status is DagsterRunStatus.CANCELED
    assert result.get_asset_materialization_events() == []
    row = store.get(ref.file_url)
    assert row.status is JobStatus.CANCELLED and row.result is None
    assert partition_status(pipeline, key) == set()
    said = [r.asset_observation.description for r in pipeline.instance.fetch_observations(ASSET, limit=5).records]
    assert said == [f"cancelled: run {result.run_id} found its job cancelled and dropped its extraction"]


def test_an_operator_retry_launched_after_the_cancel_extracts(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    """A cancel stops the runs created before it; `jobs retry` afterwards is a new request and extracts."""
    ref, _tags = _register_one(pipeline, s3, bucket, "r/part.dxf", build_drawing_dxf(tmp_path / "p.dxf").read_bytes())
    assert store.cancel_if_active(ref) is not None

    result = pipeline.run(partition_key_for(ref), {TAG_REASON: RETRY_REASON})

    assert result.success
    assert store.get(ref.file_url).status is JobStatus.COMPLETED
    assert partition_status(pipeline, partition_key_for(ref)) == {"materialized"}


def test_a_range_gives_one_verdict_per_file_and_check_on_the_files_own_partition(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("EXTRACTION_OCR", "off")  # the plot stays unread, so its text check must fail
    files = {
        "v/a.pdf": build_drawing_pdf(tmp_path / "a.pdf", drawing_number="DWG-A").read_bytes(),
        "v/b.dxf": build_drawing_dxf(tmp_path / "b.dxf").read_bytes(),
        "v/c.pdf": build_vector_only_pdf(tmp_path / "c.pdf").read_bytes(),
    }
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    pipeline.tick()
    keys = {name: partition_key_for(ObjectRef(bucket, name)) for name in files}
    range_tags = {PARTITION_RANGE_START_TAG: keys["v/a.pdf"], PARTITION_RANGE_END_TAG: keys["v/c.pdf"]}

    result = pipeline.run(None, range_tags)

    assert result.success
    verdicts = [(e.check_name, e.partition, e.passed) for e in result.get_asset_check_evaluations()]
    assert sorted(verdicts) == sorted([
        (RESULT_MATCHES_SCHEMA, keys["v/a.pdf"], True),
        (RESULT_MATCHES_SCHEMA, keys["v/b.dxf"], True),
        (RESULT_MATCHES_SCHEMA, keys["v/c.pdf"], True),
        (DRAWING_TEXT_WAS_READ, keys["v/a.pdf"], True),
        (DRAWING_TEXT_WAS_READ, keys["v/c.pdf"], False),
    ])  # fmt: skip
    for evaluation in result.get_asset_check_evaluations():  # nothing a plot could join across files
        assert not [name for name, value in evaluation.metadata.items() if isinstance(value.value, (int, float))]


def _example(name: str) -> dict[str, Any]:
    return json.loads((REPO_ROOT / "docs" / "examples" / name).read_text())


def test_the_text_check_judges_what_was_read_text_layer_or_ocr() -> None:
    """A drawing OCR read passes; the verdict names where its text came from. The image example is the
    extractor's real OCR output of the shipped scan; a scanned PDF carries the same OCR blocks on a page without
    a text layer."""
    image = _example("image.json")
    scanned_pdf = {
        **image,
        "format": "pdf",
        "metadata": {"has_text_layer": False, "pages_text_from_ocr": [1]},
        "warnings": [],
    }
    with_text_layer = _example("pdf.json")
    nothing = {**scanned_pdf, "text_blocks": [], "ocr": None, "warnings": ["no text layer: page 1: OCR is off"]}

    for result in (image, scanned_pdf):
        verdict = drawing_text_was_read(result)
        assert verdict.passed and verdict.description is None
        assert verdict.metadata["text_from"].value == f"OCR ({len(result['text_blocks'])} block(s))"
    assert drawing_text_was_read(with_text_layer).passed
    assert drawing_text_was_read(with_text_layer).metadata["text_from"].value.startswith("text layer (")
    failed = drawing_text_was_read(nothing)
    assert not failed.passed and failed.description == "no text read: no text layer: page 1: OCR is off"
    # Every drawing read for text gets the verdict; a DXF has no text layer to speak of and gets none.
    source = image["source"]
    checks = file_checks(image, file_size=source["size"], file_format="image")
    assert [c.check_name for c in checks] == [RESULT_MATCHES_SCHEMA, DRAWING_TEXT_WAS_READ]
    dxf = _example("dxf.json")
    assert [c.check_name for c in file_checks(dxf, file_size=dxf["source"]["size"], file_format="dxf")] == [
        RESULT_MATCHES_SCHEMA
    ]

"""Asset checks run with every materialization of ``file_extraction``, recorded on the file's partition.

The checks are partitioned like the asset (``AssetCheckSpec(partitions_def=...)``): every extracted file gets one
verdict per check, on its own partition, whether its run covered one file or a range (a range reports each
file's verdicts as ``AssetCheckEvaluation`` events naming the partition; a run-wide summary would be a second,
partition-less verdict that contradicts the files' own). The text check applies to drawings read for text
(PDFs and raster images): other formats get no result for it at all rather than a meaningless "passed".

Check metadata is text, never a number: Dagster plots a check's numeric metadata over its evaluations, and the
evaluations of a partitioned check are of different files, so a plot would join unrelated files' values.
"""

import warnings
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    PreviewWarning,
)
from pydantic import ValidationError

from extraction_pipeline.defs.extraction.partitions import extraction_partitions
from extraction_pipeline.extractors.schema import SCHEMA_VERSION, ExtractionResult, FileFormat

# Partitioned checks are a preview feature we rely on on purpose: its warning would fill every log.
warnings.filterwarnings("ignore", category=PreviewWarning, message="Specifying a partitions_def on an AssetCheckSpec")

RESULT_MATCHES_SCHEMA = "result_matches_schema"
DRAWING_TEXT_WAS_READ = "drawing_text_was_read"
CHECK_NAMES = (RESULT_MATCHES_SCHEMA, DRAWING_TEXT_WAS_READ)
# Formats whose text comes from a text layer or OCR: the ones a "was any text read" verdict means something for.
_READ_FOR_TEXT = frozenset({FileFormat.PDF.value, FileFormat.IMAGE.value})


def check_specs(asset_key: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            RESULT_MATCHES_SCHEMA,
            asset=asset_key,
            description=f"The stored result validates against result schema {SCHEMA_VERSION} and names its source.",
            partitions_def=extraction_partitions,
        ),
        AssetCheckSpec(
            DRAWING_TEXT_WAS_READ,
            asset=asset_key,
            description="Text was read from the drawing (PDF or image): from its text layer, or by OCR where it "
            "has none. Fails (as a warning) when neither gave any text: an empty sheet, OCR switched off for a "
            "scan or a vector-only plot, or pages OCR could not read.",
            partitions_def=extraction_partitions,
        ),
    ]


def result_matches_schema(result: dict[str, Any], *, file_size: int, file_format: str) -> AssetCheckResult:
    """Re-validate the JSON that goes into the row, the way PyBase will read it."""
    try:
        parsed = ExtractionResult.model_validate(result)
    except ValidationError as error:
        return AssetCheckResult(
            check_name=RESULT_MATCHES_SCHEMA,
            passed=False,
            description=f"{error.error_count()} validation error(s); first: {error.errors()[0]['msg']}",
            metadata={"problems": MetadataValue.text(str(error)[:2000])},
        )
    problems = []
    if parsed.schema_version != SCHEMA_VERSION:
        problems.append(f"schema_version {parsed.schema_version} != {SCHEMA_VERSION}")
    if parsed.source.size != file_size:
        problems.append(f"source.size {parsed.source.size} != downloaded {file_size} bytes")
    if parsed.format.value != file_format:
        problems.append(f"format {parsed.format.value} != {file_format}")
    return AssetCheckResult(
        check_name=RESULT_MATCHES_SCHEMA,
        passed=not problems,
        description="; ".join(problems) or None,
        metadata={"schema_version": parsed.schema_version, "problems": "; ".join(problems) or "none"},
    )


def file_checks(result: dict[str, Any], *, file_size: int, file_format: str) -> list[AssetCheckResult]:
    """The check results of one extracted file: the schema check always, the text check for drawings read for
    text (PDF, image)."""
    checks = [result_matches_schema(result, file_size=file_size, file_format=file_format)]
    if result.get("format") in _READ_FOR_TEXT:
        checks.append(drawing_text_was_read(result))
    return checks


def _text_sources(blocks: list[dict[str, Any]]) -> str:
    by_ocr = sum(1 for block in blocks if block.get("source") == "ocr")
    from_layer = len(blocks) - by_ocr
    if by_ocr and from_layer:
        return f"text layer ({from_layer} block(s)) and OCR ({by_ocr} block(s))"
    if by_ocr:
        return f"OCR ({by_ocr} block(s))"
    return f"text layer ({from_layer} block(s))" if from_layer else "nothing"


def drawing_text_was_read(result: dict[str, Any]) -> AssetCheckResult:
    """Passed when the extraction read any text, whichever way (text layer, OCR, or both)."""
    blocks = [block for block in result.get("text_blocks") or [] if str(block.get("text") or "").strip()]
    ocr = result.get("ocr") or {}
    metadata: dict[str, Any] = {"text_from": _text_sources(blocks)}
    if ocr.get("pages"):
        metadata["ocr_pages"] = ", ".join(str(page) for page in ocr["pages"])
    if ocr.get("pages_not_read"):
        metadata["ocr_pages_not_read"] = ", ".join(str(page) for page in ocr["pages_not_read"])
    description = None
    if not blocks:
        why = [w for w in result.get("warnings") or [] if "text" in w.lower() or "ocr" in w.lower()]
        description = "no text read" + (f": {why[0]}" if why else "")
    return AssetCheckResult(
        check_name=DRAWING_TEXT_WAS_READ,
        passed=bool(blocks),
        severity=AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )


def on_partition(check: AssetCheckResult, asset_key: AssetKey, partition_key: str) -> AssetCheckEvaluation:
    """A file's check result as the verdict on its own partition (a run over a range has no one partition key,
    and an ``AssetCheckResult`` there would be recorded without any)."""
    return AssetCheckEvaluation(
        asset_key=asset_key,
        check_name=check.check_name or "",
        passed=check.passed,
        metadata=check.metadata,
        severity=check.severity,
        description=check.description,
        partition=partition_key,
    )

"""Asset checks run with every materialization of ``file_extraction``, recorded on the file's partition.

The checks are partitioned like the asset (``AssetCheckSpec(partitions_def=...)``), so the UI shows each file's
own result instead of "whichever file ran last". The text-layer check applies to PDFs only: other formats get
no result for it at all rather than a meaningless "passed".
"""

import warnings
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, PreviewWarning
from pydantic import ValidationError

from extraction_pipeline.defs.extraction.partitions import extraction_partitions
from extraction_pipeline.extractors.schema import SCHEMA_VERSION, ExtractionResult, FileFormat

# Partitioned checks are a preview feature we rely on on purpose: its warning would fill every log.
warnings.filterwarnings("ignore", category=PreviewWarning, message="Specifying a partitions_def on an AssetCheckSpec")

RESULT_MATCHES_SCHEMA = "result_matches_schema"
DRAWING_HAS_TEXT_LAYER = "drawing_has_text_layer"


def check_specs(asset_key: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            RESULT_MATCHES_SCHEMA,
            asset=asset_key,
            description=f"The stored result validates against result schema {SCHEMA_VERSION} and names its source.",
            partitions_def=extraction_partitions,
        ),
        AssetCheckSpec(
            DRAWING_HAS_TEXT_LAYER,
            asset=asset_key,
            description="A PDF drawing has a text layer (vector-only plots and scans yield almost nothing).",
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
            metadata={"errors": error.error_count(), "first_error": str(error.errors()[0]["msg"])},
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
        metadata={"schema_version": parsed.schema_version, "problems": "; ".join(problems) or "none"},
    )


def file_checks(result: dict[str, Any], *, file_size: int, file_format: str) -> list[AssetCheckResult]:
    """The check results of one extracted file: the schema check always, the text-layer check for PDFs."""
    checks = [result_matches_schema(result, file_size=file_size, file_format=file_format)]
    if result.get("format") == FileFormat.PDF.value:
        checks.append(drawing_has_text_layer(result))
    return checks


def drawing_has_text_layer(result: dict[str, Any]) -> AssetCheckResult:
    if result.get("format") != FileFormat.PDF.value:
        return AssetCheckResult(check_name=DRAWING_HAS_TEXT_LAYER, passed=True, metadata={"applies": False})
    has_text = bool((result.get("metadata") or {}).get("has_text_layer"))
    warnings = [w for w in result.get("warnings") or [] if "text layer" in w]
    return AssetCheckResult(
        check_name=DRAWING_HAS_TEXT_LAYER,
        passed=has_text,
        severity=AssetCheckSeverity.WARN,
        description=None if has_text else (warnings[0] if warnings else "no text layer"),
        metadata={"applies": True, "text_blocks": len(result.get("text_blocks") or [])},
    )


def _applies(check: AssetCheckResult) -> bool:
    """False for the text-layer check of a non-PDF file (it has nothing to say about it)."""
    applies = check.metadata.get("applies")
    return getattr(applies, "value", applies) is not False


def summarize_checks(results: list[AssetCheckResult]) -> list[AssetCheckResult]:
    """One result per check for a batch of files: passed when every file passed, with the counts."""
    summary: list[AssetCheckResult] = []
    for name in (RESULT_MATCHES_SCHEMA, DRAWING_HAS_TEXT_LAYER):
        of_check = [r for r in results if r.check_name == name and _applies(r)]
        failed = [r for r in of_check if not r.passed]
        severity = failed[0].severity if failed else AssetCheckSeverity.ERROR
        summary.append(
            AssetCheckResult(
                check_name=name,
                passed=not failed,
                severity=severity,
                metadata={"files": len(of_check), "failed": len(failed)},
            )
        )
    return summary

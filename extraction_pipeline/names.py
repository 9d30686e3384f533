"""Names shared by the code location and the tools that talk to it over GraphQL or SQL.

Kept free of Dagster imports so the CLI's ``jobs``/``upload``/``db`` commands start fast.
"""

ASSET_NAME = "file_extraction"
# The one job that materializes the asset: sensor runs, operator retries and backfills all run under it.
JOB_NAME = "extract_files"
JOB_BUCKET_METADATA_KEY = "bucket"  # the job's metadata entry naming the watched bucket (read over GraphQL)
EXTRACTION_PARTITIONS_NAME = "extraction_files"
PARTITION_TAG = "dagster/partition"
TAG_FORMAT = "extraction/format"
TAG_FILE = "extraction/file"
TAG_REASON = "extraction/reason"
# Run monitoring's per-run limit (Dagster's own tag): batch runs carry one sized to their files.
MAX_RUNTIME_TAG = "dagster/max_runtime"
# Dagster's tags of a run over a range of partitions (what backfill runs under a BackfillPolicy carry); spelled
# out here because Dagster exports them only from its private modules.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
# The tag the daemon puts on every run a sensor requests (Dagster's own; likewise only in its private modules).
SENSOR_NAME_TAG = "dagster/sensor_name"
# Our cap on a tag value we derive from a file name or a URL (run tags are for filtering, not storage).
TAG_VALUE_MAX = 200
# Run statuses of a run that may still extract (``DagsterRunStatus`` values): cancel terminates these, an import
# leaves their partitions to them.
ACTIVE_RUN_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")
# extraction/reason of the runs an operator's retry launches, and of a bulk import's backfill (capped in dagster.yaml)
RETRY_REASON = "operator-retry"
BULK_IMPORT_REASON = "bulk-import"


def jobs_show_command(job_id: str) -> str:
    """The CLI command that prints a job's whole row (shown in the UI next to its partition)."""
    return f"extraction-pipeline jobs show {job_id}"


# File extensions the extractors read, and the format each claims (``FileFormat`` values). Kept here, free of the
# extractors' imports, so `upload` can refuse a file the sensor would skip without loading the extractors.
EXTENSION_FORMAT_NAMES: dict[str, str] = {
    ".pdf": "pdf",
    ".dxf": "dxf",
    ".ifc": "ifc",
    ".step": "step",
    ".stp": "step",
    # raster drawings (scans, exports), read by OCR
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}


def extension_of(name: str) -> str:
    """The lower-case extension of a file name or S3 key (``''`` without one)."""
    basename = name.replace("\\", "/").rsplit("/", 1)[-1]
    _, dot, extension = basename.rpartition(".")
    return "." + extension.lower() if dot else ""

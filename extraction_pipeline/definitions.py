"""The code location: ``extraction_pipeline.definitions:defs``."""

from dagster import Definitions, in_process_executor

from extraction_pipeline.asset import file_extraction
from extraction_pipeline.recovery import close_rows_of_failed_runs, stuck_job_sweep
from extraction_pipeline.resources import build_resources
from extraction_pipeline.sensor import s3_upload_sensor

defs = Definitions(
    assets=[file_extraction],
    sensors=[s3_upload_sensor, close_rows_of_failed_runs, stuck_job_sweep],
    resources=build_resources(),
    # One step per run: the in-process executor saves ~3 s of process start per file (per-file runs).
    executor=in_process_executor,
)

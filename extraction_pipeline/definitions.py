"""The code location: ``extraction_pipeline.definitions:defs``."""

from dagster import Definitions

from extraction_pipeline.asset import file_extraction
from extraction_pipeline.executors import extraction_executor
from extraction_pipeline.inbox_sensor import extraction_inbox_sensor
from extraction_pipeline.job import extract_files
from extraction_pipeline.recovery import close_rows_of_failed_runs, stuck_job_sweep
from extraction_pipeline.resources import build_resources
from extraction_pipeline.sensor import s3_upload_sensor
from extraction_pipeline.sqs_sensor import s3_event_sensor, sqs_queue_resource

defs = Definitions(
    assets=[file_extraction],
    jobs=[extract_files],
    # Detection: the listing (or, with EXTRACTION_DETECTION=sqs, the reconciler), S3 events, the table inbox.
    sensors=[s3_upload_sensor, s3_event_sensor, extraction_inbox_sensor, close_rows_of_failed_runs, stuck_job_sweep],
    resources={**build_resources(), "sqs_queue": sqs_queue_resource()},
    executor=extraction_executor(),
)

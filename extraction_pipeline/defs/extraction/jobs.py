"""``extract_files``: the one job that materializes ``file_extraction`` — sensor runs, CLI retries, backfills.

Without it runs would belong to Dagster's hidden ``__ASSET_JOB`` (or a sensor's anonymous job) and the UI's
partition page would say "Job: None". Its metadata names the watched bucket, so a CLI talking to a webserver
over GraphQL can check it reached the instance that owns a file before launching anything.
"""

from dagster import AssetSelection, define_asset_job

from extraction_pipeline import settings
from extraction_pipeline.names import ASSET_NAME, JOB_BUCKET_METADATA_KEY, JOB_NAME

extract_files = define_asset_job(
    JOB_NAME,
    selection=AssetSelection.assets(ASSET_NAME),
    description="Extract files of the watched bucket (one partition per S3 object) into extraction_jobs.",
    metadata={JOB_BUCKET_METADATA_KEY: settings.bucket()},
)

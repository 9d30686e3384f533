"""extraction_pipeline: a Dagster code location that extracts engineering files uploaded to S3."""

__version__ = "0.1.0"

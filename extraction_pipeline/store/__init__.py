"""The ``extraction_jobs`` table (the public contract with PyBase) and the one place that writes it."""

from extraction_pipeline.store.listing import JobFilter, JobPage, PageCursor
from extraction_pipeline.store.models import ExtractionJob, JobStatus
from extraction_pipeline.store.rows import FileExtraction, JobStats, NewObject, StoredJob
from extraction_pipeline.store.store import JobStore

__all__ = [
    "ExtractionJob",
    "FileExtraction",
    "JobFilter",
    "JobPage",
    "JobStats",
    "JobStatus",
    "JobStore",
    "NewObject",
    "PageCursor",
    "StoredJob",
]

"""Create extraction_jobs.

Revision ID: 0001_create_extraction_jobs
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_create_extraction_jobs"
down_revision = None
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_STATUSES = ("pending", "processing", "retrying", "completed", "failed", "cancelled")
_ERROR_KINDS = ("retryable", "permanent")


def upgrade() -> None:
    op.create_table(
        "extraction_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("file_url", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("file_size", sa.BigInteger()),
        sa.Column("format", sa.String(16)),
        sa.Column("etag", sa.String(256)),
        sa.Column(
            "status",
            sa.Enum(*_STATUSES, name="extraction_job_status", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("options", _json, nullable=False),
        sa.Column("result", _json),
        sa.Column("error_message", sa.Text()),
        sa.Column(
            "error_kind",
            sa.Enum(*_ERROR_KINDS, name="extraction_error_kind", native_enum=False, create_constraint=True, length=16),
        ),
        sa.Column("retry_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_retries", sa.Integer(), nullable=False, server_default="3"),
        sa.Column("next_retry_at", sa.DateTime(timezone=True)),
        sa.Column("record_id", sa.String(64)),
        sa.Column("field_id", sa.String(64)),
        sa.Column("attachment_id", sa.String(64)),
        sa.Column("partition_key", sa.Text(), nullable=False),
        sa.Column("dagster_run_id", sa.String(64)),
        sa.Column("extractor_version", sa.String(64)),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ux_extraction_jobs_file_url", "extraction_jobs", ["file_url"], unique=True)
    op.create_index("ix_extraction_jobs_status", "extraction_jobs", ["status"])
    op.create_index("ix_extraction_jobs_status_next_retry_at", "extraction_jobs", ["status", "next_retry_at"])
    op.create_index("ix_extraction_jobs_record_attachment", "extraction_jobs", ["record_id", "attachment_id"])
    op.create_index("ix_extraction_jobs_created_at", "extraction_jobs", ["created_at"])


def downgrade() -> None:
    op.drop_table("extraction_jobs")

"""The table as an inbox: defaults for what the app does not provide, ``registered_at`` and its partial index.

An app (PyBase) may insert a row with only ``id``, ``file_url`` and ``status = 'pending'`` (plus, optionally,
``record_id``/``field_id``/``attachment_id`` and ``options``); every other column now has a server default.
``registered_at`` is NULL until the pipeline has registered the file's partition, so "pending rows not yet
registered" is one query over a small partial index.

Revision ID: 0002_inbox_registered_at
Revises: 0001_create_extraction_jobs
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_inbox_registered_at"
down_revision = "0001_create_extraction_jobs"
branch_labels = None
depends_on = None

_INBOX_INDEX = "ix_extraction_jobs_inbox"
_UNREGISTERED = sa.text("status = 'pending' AND registered_at IS NULL")


def upgrade() -> None:
    # Rows written before this revision were all written by the pipeline itself: registered.
    with op.batch_alter_table("extraction_jobs") as batch:
        batch.add_column(sa.Column("registered_at", sa.DateTime(timezone=True)))
        batch.alter_column("filename", existing_type=sa.Text(), server_default="")
        batch.alter_column("partition_key", existing_type=sa.Text(), server_default="")
        batch.alter_column("options", existing_type=sa.JSON(), server_default="{}")
        batch.alter_column("created_at", existing_type=sa.DateTime(timezone=True), server_default=sa.func.now())
        batch.alter_column("updated_at", existing_type=sa.DateTime(timezone=True), server_default=sa.func.now())
    op.execute("UPDATE extraction_jobs SET registered_at = updated_at")
    op.create_index(
        _INBOX_INDEX,
        "extraction_jobs",
        ["created_at"],
        postgresql_where=_UNREGISTERED,
        sqlite_where=_UNREGISTERED,
    )


def downgrade() -> None:
    op.drop_index(_INBOX_INDEX, table_name="extraction_jobs")
    with op.batch_alter_table("extraction_jobs") as batch:
        batch.drop_column("registered_at")
        for name in ("filename", "partition_key", "options", "created_at", "updated_at"):
            batch.alter_column(name, server_default=None)

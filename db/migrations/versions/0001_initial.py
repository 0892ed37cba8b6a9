"""Initial schema: agency, document, report, report_cell, finding.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=True),
        sa.Column("region_name", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.CheckConstraint("level IN ('department', 'government', 'township')", name=op.f("ck_agency_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
        sa.UniqueConstraint("name", name=op.f("uq_agency_name")),
    )

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_document_agency_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("url", name=op.f("uq_document_url")),
    )
    with op.batch_alter_table("document") as batch_op:
        batch_op.create_index(batch_op.f("ix_document_content_hash"), ["content_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_document_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_report_agency_id_agency")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_report_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("agency_id", "year", name=op.f("uq_report_agency_id_year")),
    )
    with op.batch_alter_table("report") as batch_op:
        batch_op.create_index(batch_op.f("ix_report_year"), ["year"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_document_id"), ["document_id"], unique=False)

    op.create_table(
        "report_cell",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("row", sa.String(length=64), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "section IN ('proactive', 'applications', 'review_litigation')",
            name=op.f("ck_report_cell_section"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_cell_report_id_report"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("report_id", "section", "row", "column", name=op.f("pk_report_cell")),
    )
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("where", sa.Text(), nullable=False),
        sa.Column("section", sa.String(length=8), nullable=True),
        sa.Column("row", sa.String(length=64), nullable=True),
        sa.Column("column", sa.String(length=64), nullable=True),
        sa.CheckConstraint("severity IN ('error', 'warning', 'info')", name=op.f("ck_finding_severity")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_finding_report_id_report"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding")),
    )
    with op.batch_alter_table("finding") as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_finding_rule"), ["rule"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("finding") as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_rule"))
        batch_op.drop_index(batch_op.f("ix_finding_report_id"))
    op.drop_table("finding")

    op.drop_table("report_cell")

    with op.batch_alter_table("report") as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_document_id"))
        batch_op.drop_index(batch_op.f("ix_report_year"))
    op.drop_table("report")

    with op.batch_alter_table("document") as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_agency_id"))
        batch_op.drop_index(batch_op.f("ix_document_content_hash"))
    op.drop_table("document")

    op.drop_table("agency")

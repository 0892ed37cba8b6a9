"""Indexes on report_figure: (agency_id, year) for an agency's figures and a region's (agencies
found by region code, then their rows) without scanning a whole year; (year, figure, agency_id)
for the figures asked about most, so that a national ranking or count reads an index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOT_FIGURE_COLUMNS = ("app_new_total", "pro_punishment_decisions", "pro_licensing_decisions", "rev_review_total",
                      "pro_fees_amount_wan_yuan")


def upgrade() -> None:
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        batch_op.create_index('ix_report_figure_agency_id_year', ['agency_id', 'year'], unique=False)
        for column in HOT_FIGURE_COLUMNS:
            batch_op.create_index(f'ix_report_figure_year_{column}', ['year', column, 'agency_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        for column in HOT_FIGURE_COLUMNS:
            batch_op.drop_index(f'ix_report_figure_year_{column}')
        batch_op.drop_index('ix_report_figure_agency_id_year')

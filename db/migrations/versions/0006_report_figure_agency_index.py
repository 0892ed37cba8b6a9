"""An index on report_figure (agency_id, year): an agency's figures, and a region's (agencies found
by region code, then their rows), without scanning a whole year.

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


def upgrade() -> None:
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        batch_op.create_index('ix_report_figure_agency_id_year', ['agency_id', 'year'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        batch_op.drop_index('ix_report_figure_agency_id_year')

"""Quiet hours per subscriber: immediate alerts that fall between quiet_from and quiet_until
(Beijing time; the span may cross midnight) wait until it ends. Both empty: no quiet hours.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 06:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiet_from', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('quiet_until', sa.Time(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_column('quiet_until')
        batch_op.drop_column('quiet_from')

"""The shared crawl of several `xxgk worker` processes (db.leases): one row per host group with
its request (due_at) and its lease (holder, expires_at); and crawl_run's status "interrupted" for
a crawl cut short (the service stopped, a worker given the signal), which the sweep does not take
for a failed crawl.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 17:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "status IN ('running', 'ok', 'partial', 'failed')"
_NEW = "status IN ('running', 'ok', 'partial', 'failed', 'interrupted')"


def upgrade() -> None:
    op.create_table(
        'crawl_lease',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('holder', sa.String(length=128), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_crawl_lease')),
    )
    with op.batch_alter_table('crawl_lease', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_lease_due_at'), ['due_at'], unique=False)
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_crawl_run_status'), type_='check')
        batch_op.create_check_constraint('status', _NEW)


def downgrade() -> None:
    op.execute("UPDATE crawl_run SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_crawl_run_status'), type_='check')
        batch_op.create_check_constraint('status', _OLD)
    with op.batch_alter_table('crawl_lease', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_lease_due_at'))
    op.drop_table('crawl_lease')

"""Agency registry (regions, aliases), tracked findings with their history, subscribers and alerts;
cached robots.txt.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('robots_txt',
    sa.Column('host', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('host', name=op.f('pk_robots_txt'))
    )
    op.create_table('region',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.CheckConstraint("level IN ('province', 'city', 'county', 'township')", name=op.f('ck_region_level')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_parent_code'), ['parent_code'], unique=False)

    op.create_table('agency_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_alias_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_alias')),
    sa.UniqueConstraint('agency_id', 'key', name=op.f('uq_agency_alias_agency_id_key'))
    )
    with op.batch_alter_table('agency_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_alias_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agency_alias_key'), ['key'], unique=False)

    op.create_table('subscriber',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('region_code', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('min_severity', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("min_severity IN ('error', 'warning', 'info')", name=op.f('ck_subscriber_min_severity')),
    sa.CheckConstraint("mode IN ('immediate', 'digest')", name=op.f('ck_subscriber_mode')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_subscriber_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber')),
    sa.UniqueConstraint('name', name=op.f('uq_subscriber_name'))
    )
    op.create_table('tracked_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('where', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("severity IN ('error', 'warning', 'info')", name=op.f('ck_tracked_finding_severity')),
    sa.CheckConstraint("state IN ('open', 'resolved', 'acknowledged', 'false_positive')", name=op.f('ck_tracked_finding_state')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_tracked_finding_agency_id_agency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_tracked_finding_report_id_report'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_finding')),
    sa.UniqueConstraint('key', name=op.f('uq_tracked_finding_key'))
    )
    with op.batch_alter_table('tracked_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracked_finding_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracked_finding_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracked_finding_rule'), ['rule'], unique=False)
        batch_op.create_index('ix_tracked_finding_year_state', ['year', 'state'], unique=False)

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['tracked_finding.id'], name=op.f('fk_alert_finding_id_tracked_finding'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    sa.UniqueConstraint('finding_id', name=op.f('uq_alert_finding_id'))
    )
    op.create_table('finding_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['finding_id'], ['tracked_finding.id'], name=op.f('fk_finding_event_finding_id_tracked_finding'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_event'))
    )
    with op.batch_alter_table('finding_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_event_finding_id'), ['finding_id'], unique=False)

    op.create_table('alert_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('possible_repeat', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name=op.f('ck_alert_delivery_state')),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_alert_delivery_alert_id_alert'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscriber.id'], name=op.f('fk_alert_delivery_subscriber_id_subscriber'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_delivery')),
    sa.UniqueConstraint('alert_id', 'subscriber_id', name=op.f('uq_alert_delivery_alert_id_subscriber_id'))
    )
    with op.batch_alter_table('alert_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_delivery_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index('ix_alert_delivery_state_subscriber_id', ['state', 'subscriber_id'], unique=False)

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('site', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_agency_region_code'), ['region_code'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_sketch', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_table('robots_txt')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('text_sketch')

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_region_code'))
        batch_op.drop_column('site')
        batch_op.drop_column('registered')

    with op.batch_alter_table('alert_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_delivery_state_subscriber_id')
        batch_op.drop_index(batch_op.f('ix_alert_delivery_alert_id'))

    op.drop_table('alert_delivery')
    with op.batch_alter_table('finding_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_event_finding_id'))

    op.drop_table('finding_event')
    op.drop_table('alert')
    with op.batch_alter_table('tracked_finding', schema=None) as batch_op:
        batch_op.drop_index('ix_tracked_finding_year_state')
        batch_op.drop_index(batch_op.f('ix_tracked_finding_rule'))
        batch_op.drop_index(batch_op.f('ix_tracked_finding_report_id'))
        batch_op.drop_index(batch_op.f('ix_tracked_finding_agency_id'))

    op.drop_table('tracked_finding')
    op.drop_table('subscriber')
    with op.batch_alter_table('agency_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_alias_key'))
        batch_op.drop_index(batch_op.f('ix_agency_alias_agency_id'))

    op.drop_table('agency_alias')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_parent_code'))

    op.drop_table('region')

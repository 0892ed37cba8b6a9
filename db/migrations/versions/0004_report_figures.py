"""One row of figures per report (report_figure, every table cell a column) replaces report_cell
(a row per cell): the query layer reads a year of the whole country in one scan. Filled from
report.data, the complete record.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:00:00+00:00
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The figure keys as of this revision (db.models.FIGURE_KEYS may grow in later revisions).
FIGURE_KEYS = (
    'applications.new.natural',
    'applications.new.commercial',
    'applications.new.research',
    'applications.new.nonprofit',
    'applications.new.legal_service',
    'applications.new.other_org',
    'applications.new.total',
    'applications.carried_over.natural',
    'applications.carried_over.commercial',
    'applications.carried_over.research',
    'applications.carried_over.nonprofit',
    'applications.carried_over.legal_service',
    'applications.carried_over.other_org',
    'applications.carried_over.total',
    'applications.disclosed.natural',
    'applications.disclosed.commercial',
    'applications.disclosed.research',
    'applications.disclosed.nonprofit',
    'applications.disclosed.legal_service',
    'applications.disclosed.other_org',
    'applications.disclosed.total',
    'applications.partially_disclosed.natural',
    'applications.partially_disclosed.commercial',
    'applications.partially_disclosed.research',
    'applications.partially_disclosed.nonprofit',
    'applications.partially_disclosed.legal_service',
    'applications.partially_disclosed.other_org',
    'applications.partially_disclosed.total',
    'applications.withheld_state_secret.natural',
    'applications.withheld_state_secret.commercial',
    'applications.withheld_state_secret.research',
    'applications.withheld_state_secret.nonprofit',
    'applications.withheld_state_secret.legal_service',
    'applications.withheld_state_secret.other_org',
    'applications.withheld_state_secret.total',
    'applications.withheld_prohibited_by_law.natural',
    'applications.withheld_prohibited_by_law.commercial',
    'applications.withheld_prohibited_by_law.research',
    'applications.withheld_prohibited_by_law.nonprofit',
    'applications.withheld_prohibited_by_law.legal_service',
    'applications.withheld_prohibited_by_law.other_org',
    'applications.withheld_prohibited_by_law.total',
    'applications.withheld_security_stability.natural',
    'applications.withheld_security_stability.commercial',
    'applications.withheld_security_stability.research',
    'applications.withheld_security_stability.nonprofit',
    'applications.withheld_security_stability.legal_service',
    'applications.withheld_security_stability.other_org',
    'applications.withheld_security_stability.total',
    'applications.withheld_third_party.natural',
    'applications.withheld_third_party.commercial',
    'applications.withheld_third_party.research',
    'applications.withheld_third_party.nonprofit',
    'applications.withheld_third_party.legal_service',
    'applications.withheld_third_party.other_org',
    'applications.withheld_third_party.total',
    'applications.withheld_internal_affairs.natural',
    'applications.withheld_internal_affairs.commercial',
    'applications.withheld_internal_affairs.research',
    'applications.withheld_internal_affairs.nonprofit',
    'applications.withheld_internal_affairs.legal_service',
    'applications.withheld_internal_affairs.other_org',
    'applications.withheld_internal_affairs.total',
    'applications.withheld_process_info.natural',
    'applications.withheld_process_info.commercial',
    'applications.withheld_process_info.research',
    'applications.withheld_process_info.nonprofit',
    'applications.withheld_process_info.legal_service',
    'applications.withheld_process_info.other_org',
    'applications.withheld_process_info.total',
    'applications.withheld_enforcement_file.natural',
    'applications.withheld_enforcement_file.commercial',
    'applications.withheld_enforcement_file.research',
    'applications.withheld_enforcement_file.nonprofit',
    'applications.withheld_enforcement_file.legal_service',
    'applications.withheld_enforcement_file.other_org',
    'applications.withheld_enforcement_file.total',
    'applications.withheld_query_item.natural',
    'applications.withheld_query_item.commercial',
    'applications.withheld_query_item.research',
    'applications.withheld_query_item.nonprofit',
    'applications.withheld_query_item.legal_service',
    'applications.withheld_query_item.other_org',
    'applications.withheld_query_item.total',
    'applications.unavailable_not_held.natural',
    'applications.unavailable_not_held.commercial',
    'applications.unavailable_not_held.research',
    'applications.unavailable_not_held.nonprofit',
    'applications.unavailable_not_held.legal_service',
    'applications.unavailable_not_held.other_org',
    'applications.unavailable_not_held.total',
    'applications.unavailable_needs_creation.natural',
    'applications.unavailable_needs_creation.commercial',
    'applications.unavailable_needs_creation.research',
    'applications.unavailable_needs_creation.nonprofit',
    'applications.unavailable_needs_creation.legal_service',
    'applications.unavailable_needs_creation.other_org',
    'applications.unavailable_needs_creation.total',
    'applications.unavailable_unclear.natural',
    'applications.unavailable_unclear.commercial',
    'applications.unavailable_unclear.research',
    'applications.unavailable_unclear.nonprofit',
    'applications.unavailable_unclear.legal_service',
    'applications.unavailable_unclear.other_org',
    'applications.unavailable_unclear.total',
    'applications.rejected_petition.natural',
    'applications.rejected_petition.commercial',
    'applications.rejected_petition.research',
    'applications.rejected_petition.nonprofit',
    'applications.rejected_petition.legal_service',
    'applications.rejected_petition.other_org',
    'applications.rejected_petition.total',
    'applications.rejected_duplicate.natural',
    'applications.rejected_duplicate.commercial',
    'applications.rejected_duplicate.research',
    'applications.rejected_duplicate.nonprofit',
    'applications.rejected_duplicate.legal_service',
    'applications.rejected_duplicate.other_org',
    'applications.rejected_duplicate.total',
    'applications.rejected_publication.natural',
    'applications.rejected_publication.commercial',
    'applications.rejected_publication.research',
    'applications.rejected_publication.nonprofit',
    'applications.rejected_publication.legal_service',
    'applications.rejected_publication.other_org',
    'applications.rejected_publication.total',
    'applications.rejected_excessive.natural',
    'applications.rejected_excessive.commercial',
    'applications.rejected_excessive.research',
    'applications.rejected_excessive.nonprofit',
    'applications.rejected_excessive.legal_service',
    'applications.rejected_excessive.other_org',
    'applications.rejected_excessive.total',
    'applications.rejected_confirmation.natural',
    'applications.rejected_confirmation.commercial',
    'applications.rejected_confirmation.research',
    'applications.rejected_confirmation.nonprofit',
    'applications.rejected_confirmation.legal_service',
    'applications.rejected_confirmation.other_org',
    'applications.rejected_confirmation.total',
    'applications.other_overdue_correction.natural',
    'applications.other_overdue_correction.commercial',
    'applications.other_overdue_correction.research',
    'applications.other_overdue_correction.nonprofit',
    'applications.other_overdue_correction.legal_service',
    'applications.other_overdue_correction.other_org',
    'applications.other_overdue_correction.total',
    'applications.other_overdue_fee.natural',
    'applications.other_overdue_fee.commercial',
    'applications.other_overdue_fee.research',
    'applications.other_overdue_fee.nonprofit',
    'applications.other_overdue_fee.legal_service',
    'applications.other_overdue_fee.other_org',
    'applications.other_overdue_fee.total',
    'applications.other_misc.natural',
    'applications.other_misc.commercial',
    'applications.other_misc.research',
    'applications.other_misc.nonprofit',
    'applications.other_misc.legal_service',
    'applications.other_misc.other_org',
    'applications.other_misc.total',
    'applications.handled_total.natural',
    'applications.handled_total.commercial',
    'applications.handled_total.research',
    'applications.handled_total.nonprofit',
    'applications.handled_total.legal_service',
    'applications.handled_total.other_org',
    'applications.handled_total.total',
    'applications.carried_forward.natural',
    'applications.carried_forward.commercial',
    'applications.carried_forward.research',
    'applications.carried_forward.nonprofit',
    'applications.carried_forward.legal_service',
    'applications.carried_forward.other_org',
    'applications.carried_forward.total',
    'applications.other_processing.natural',
    'applications.other_processing.commercial',
    'applications.other_processing.research',
    'applications.other_processing.nonprofit',
    'applications.other_processing.legal_service',
    'applications.other_processing.other_org',
    'applications.other_processing.total',
    'review_litigation.review.upheld',
    'review_litigation.review.corrected',
    'review_litigation.review.other',
    'review_litigation.review.pending',
    'review_litigation.review.total',
    'review_litigation.litigation_direct.upheld',
    'review_litigation.litigation_direct.corrected',
    'review_litigation.litigation_direct.other',
    'review_litigation.litigation_direct.pending',
    'review_litigation.litigation_direct.total',
    'review_litigation.litigation_after_review.upheld',
    'review_litigation.litigation_after_review.corrected',
    'review_litigation.litigation_after_review.other',
    'review_litigation.litigation_after_review.pending',
    'review_litigation.litigation_after_review.total',
    'proactive.regulations.issued',
    'proactive.regulations.repealed',
    'proactive.regulations.in_force',
    'proactive.normative_documents.issued',
    'proactive.normative_documents.repealed',
    'proactive.normative_documents.in_force',
    'proactive.licensing.decisions',
    'proactive.punishment.decisions',
    'proactive.enforcement.decisions',
    'proactive.fees.amount_wan_yuan',
    'proactive.regulations.made',
    'proactive.regulations.published',
    'proactive.regulations.total_published',
    'proactive.normative_documents.made',
    'proactive.normative_documents.published',
    'proactive.normative_documents.total_published',
    'proactive.licensing.items_last_year',
    'proactive.licensing.items_change',
    'proactive.other_services.items_last_year',
    'proactive.other_services.items_change',
    'proactive.other_services.decisions',
    'proactive.punishment.items_last_year',
    'proactive.punishment.items_change',
    'proactive.enforcement.items_last_year',
    'proactive.enforcement.items_change',
    'proactive.fees.items_last_year',
    'proactive.fees.items_change',
    'proactive.procurement.items',
    'proactive.procurement.amount_wan_yuan',
)
_PREFIX = {"applications": "app", "review_litigation": "rev", "proactive": "pro"}
_BATCH = 500


def _column(key: str) -> str:
    section, row, col = key.split(".")
    return f"{_PREFIX[section]}_{row}_{col}"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _reports() -> Iterator[tuple[int, int, int, dict]]:
    report = sa.table('report', sa.column('id'), sa.column('agency_id'), sa.column('year'), sa.column('data'))
    rows = op.get_bind().execute(sa.select(report.c.id, report.c.agency_id, report.c.year, report.c.data))
    for row in rows.all():
        data = row.data if isinstance(row.data, dict) else json.loads(row.data or "{}")
        yield row.id, row.agency_id, row.year, data


def _insert(table: sa.Table, rows: Iterator[dict]) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            op.get_bind().execute(sa.insert(table), batch)
            batch.clear()
    if batch:
        op.get_bind().execute(sa.insert(table), batch)


def upgrade() -> None:
    table = op.create_table('report_figure',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    *(sa.Column(_column(k), sa.Float(), nullable=True) for k in FIGURE_KEYS),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_report_figure_agency_id_agency'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_figure_report_id_report'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_report_figure'))
    )
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        batch_op.create_index('ix_report_figure_year_agency_id', ['year', 'agency_id'], unique=False)

    # Existing reports: their figures come from the canonical data already stored. (An offline
    # SQL script has no rows to read: `xxgk` always migrates online.)
    if not op.get_context().as_sql:
        def figures() -> Iterator[dict]:
            for report_id, agency_id, year, data in _reports():
                row = {"report_id": report_id, "agency_id": agency_id, "year": year}
                for key in FIGURE_KEYS:
                    section, r, c = key.split(".")
                    row[_column(key)] = _number(((data.get(section) or {}).get(r) or {}).get(c))
                yield row
        _insert(table, figures())
    op.drop_table('report_cell')


def downgrade() -> None:
    table = op.create_table('report_cell',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=32), nullable=False),
    sa.Column('row', sa.String(length=64), nullable=False),
    sa.Column('column', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.CheckConstraint("section IN ('proactive', 'applications', 'review_litigation')",
                       name=op.f('ck_report_cell_section')),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_cell_report_id_report'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'section', 'row', 'column', name=op.f('pk_report_cell'))
    )
    if not op.get_context().as_sql:
        def cells() -> Iterator[dict]:
            for report_id, _agency_id, _year, data in _reports():
                for section in ('proactive', 'applications', 'review_litigation'):
                    for row, columns in (data.get(section) or {}).items():
                        for column, value in (columns or {}).items():
                            yield {"report_id": report_id, "section": section, "row": row, "column": column,
                                   "value": _number(value)}
        _insert(table, cells())
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        batch_op.drop_index('ix_report_figure_year_agency_id')

    op.drop_table('report_figure')

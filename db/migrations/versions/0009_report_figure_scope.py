"""report_figure carries its agency's region and level (region_code, level), so that the national
questions by level or by province read report_figure alone instead of looking up the agency of
every row of a year. Filled here from the agency table; then written with each row by
db.store.save_report, and kept equal to the agency's by the database (triggers) when a report moves
to another agency (`xxgk agencies assign`) or an agency gets another region or level (a registry
import, the crawler describing an agency, any UPDATE).

Indexes: a national question about one of the ~220 figures without an index of its own read a
year of wide rows (226 figures each: reading one far along the row is most of the cost) and, by
level or province, every row's agency. Nine covering indexes now hold (year, level, region_code,
agency_id) and 26 of the figures each, in column order: any figure's national ranking, count or
totals, by level or by province, read one of them alone, in that order (totals by province without
sorting a year's rows), and find the figure among 30 columns instead of up to 231 (about 370 MB on
the national store, whose report_figure is 200 MB). The hot figures' (year, figure, agency_id)
indexes of revision 0006 still give their top ten in order.

On SQLite the columns are added with a plain ALTER TABLE (no batch mode: a national
report_figure is not copied) and filled with one UPDATE.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 16:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The figure columns of each covering index, as of this revision (db.models.FIGURE_INDEX_GROUPS).
FIGURE_INDEX_GROUPS = (
    (
        'app_new_natural', 'app_new_commercial', 'app_new_research', 'app_new_nonprofit',
        'app_new_legal_service', 'app_new_other_org', 'app_new_total', 'app_carried_over_natural',
        'app_carried_over_commercial', 'app_carried_over_research', 'app_carried_over_nonprofit',
        'app_carried_over_legal_service', 'app_carried_over_other_org', 'app_carried_over_total',
        'app_disclosed_natural', 'app_disclosed_commercial', 'app_disclosed_research',
        'app_disclosed_nonprofit', 'app_disclosed_legal_service', 'app_disclosed_other_org',
        'app_disclosed_total', 'app_partially_disclosed_natural', 'app_partially_disclosed_commercial',
        'app_partially_disclosed_research', 'app_partially_disclosed_nonprofit',
        'app_partially_disclosed_legal_service',
    ),
    (
        'app_partially_disclosed_other_org', 'app_partially_disclosed_total',
        'app_withheld_state_secret_natural', 'app_withheld_state_secret_commercial',
        'app_withheld_state_secret_research', 'app_withheld_state_secret_nonprofit',
        'app_withheld_state_secret_legal_service', 'app_withheld_state_secret_other_org',
        'app_withheld_state_secret_total', 'app_withheld_prohibited_by_law_natural',
        'app_withheld_prohibited_by_law_commercial', 'app_withheld_prohibited_by_law_research',
        'app_withheld_prohibited_by_law_nonprofit', 'app_withheld_prohibited_by_law_legal_service',
        'app_withheld_prohibited_by_law_other_org', 'app_withheld_prohibited_by_law_total',
        'app_withheld_security_stability_natural', 'app_withheld_security_stability_commercial',
        'app_withheld_security_stability_research', 'app_withheld_security_stability_nonprofit',
        'app_withheld_security_stability_legal_service', 'app_withheld_security_stability_other_org',
        'app_withheld_security_stability_total', 'app_withheld_third_party_natural',
        'app_withheld_third_party_commercial', 'app_withheld_third_party_research',
    ),
    (
        'app_withheld_third_party_nonprofit', 'app_withheld_third_party_legal_service',
        'app_withheld_third_party_other_org', 'app_withheld_third_party_total',
        'app_withheld_internal_affairs_natural', 'app_withheld_internal_affairs_commercial',
        'app_withheld_internal_affairs_research', 'app_withheld_internal_affairs_nonprofit',
        'app_withheld_internal_affairs_legal_service', 'app_withheld_internal_affairs_other_org',
        'app_withheld_internal_affairs_total', 'app_withheld_process_info_natural',
        'app_withheld_process_info_commercial', 'app_withheld_process_info_research',
        'app_withheld_process_info_nonprofit', 'app_withheld_process_info_legal_service',
        'app_withheld_process_info_other_org', 'app_withheld_process_info_total',
        'app_withheld_enforcement_file_natural', 'app_withheld_enforcement_file_commercial',
        'app_withheld_enforcement_file_research', 'app_withheld_enforcement_file_nonprofit',
        'app_withheld_enforcement_file_legal_service', 'app_withheld_enforcement_file_other_org',
        'app_withheld_enforcement_file_total', 'app_withheld_query_item_natural',
    ),
    (
        'app_withheld_query_item_commercial', 'app_withheld_query_item_research',
        'app_withheld_query_item_nonprofit', 'app_withheld_query_item_legal_service',
        'app_withheld_query_item_other_org', 'app_withheld_query_item_total',
        'app_unavailable_not_held_natural', 'app_unavailable_not_held_commercial',
        'app_unavailable_not_held_research', 'app_unavailable_not_held_nonprofit',
        'app_unavailable_not_held_legal_service', 'app_unavailable_not_held_other_org',
        'app_unavailable_not_held_total', 'app_unavailable_needs_creation_natural',
        'app_unavailable_needs_creation_commercial', 'app_unavailable_needs_creation_research',
        'app_unavailable_needs_creation_nonprofit', 'app_unavailable_needs_creation_legal_service',
        'app_unavailable_needs_creation_other_org', 'app_unavailable_needs_creation_total',
        'app_unavailable_unclear_natural', 'app_unavailable_unclear_commercial',
        'app_unavailable_unclear_research', 'app_unavailable_unclear_nonprofit',
        'app_unavailable_unclear_legal_service', 'app_unavailable_unclear_other_org',
    ),
    (
        'app_unavailable_unclear_total', 'app_rejected_petition_natural', 'app_rejected_petition_commercial',
        'app_rejected_petition_research', 'app_rejected_petition_nonprofit',
        'app_rejected_petition_legal_service', 'app_rejected_petition_other_org',
        'app_rejected_petition_total', 'app_rejected_duplicate_natural', 'app_rejected_duplicate_commercial',
        'app_rejected_duplicate_research', 'app_rejected_duplicate_nonprofit',
        'app_rejected_duplicate_legal_service', 'app_rejected_duplicate_other_org',
        'app_rejected_duplicate_total', 'app_rejected_publication_natural',
        'app_rejected_publication_commercial', 'app_rejected_publication_research',
        'app_rejected_publication_nonprofit', 'app_rejected_publication_legal_service',
        'app_rejected_publication_other_org', 'app_rejected_publication_total',
        'app_rejected_excessive_natural', 'app_rejected_excessive_commercial',
        'app_rejected_excessive_research', 'app_rejected_excessive_nonprofit',
    ),
    (
        'app_rejected_excessive_legal_service', 'app_rejected_excessive_other_org',
        'app_rejected_excessive_total', 'app_rejected_confirmation_natural',
        'app_rejected_confirmation_commercial', 'app_rejected_confirmation_research',
        'app_rejected_confirmation_nonprofit', 'app_rejected_confirmation_legal_service',
        'app_rejected_confirmation_other_org', 'app_rejected_confirmation_total',
        'app_other_overdue_correction_natural', 'app_other_overdue_correction_commercial',
        'app_other_overdue_correction_research', 'app_other_overdue_correction_nonprofit',
        'app_other_overdue_correction_legal_service', 'app_other_overdue_correction_other_org',
        'app_other_overdue_correction_total', 'app_other_overdue_fee_natural',
        'app_other_overdue_fee_commercial', 'app_other_overdue_fee_research',
        'app_other_overdue_fee_nonprofit', 'app_other_overdue_fee_legal_service',
        'app_other_overdue_fee_other_org', 'app_other_overdue_fee_total', 'app_other_misc_natural',
        'app_other_misc_commercial',
    ),
    (
        'app_other_misc_research', 'app_other_misc_nonprofit', 'app_other_misc_legal_service',
        'app_other_misc_other_org', 'app_other_misc_total', 'app_handled_total_natural',
        'app_handled_total_commercial', 'app_handled_total_research', 'app_handled_total_nonprofit',
        'app_handled_total_legal_service', 'app_handled_total_other_org', 'app_handled_total_total',
        'app_carried_forward_natural', 'app_carried_forward_commercial', 'app_carried_forward_research',
        'app_carried_forward_nonprofit', 'app_carried_forward_legal_service',
        'app_carried_forward_other_org', 'app_carried_forward_total', 'app_other_processing_natural',
        'app_other_processing_commercial', 'app_other_processing_research', 'app_other_processing_nonprofit',
        'app_other_processing_legal_service', 'app_other_processing_other_org', 'app_other_processing_total',
    ),
    (
        'rev_review_upheld', 'rev_review_corrected', 'rev_review_other', 'rev_review_pending',
        'rev_review_total', 'rev_litigation_direct_upheld', 'rev_litigation_direct_corrected',
        'rev_litigation_direct_other', 'rev_litigation_direct_pending', 'rev_litigation_direct_total',
        'rev_litigation_after_review_upheld', 'rev_litigation_after_review_corrected',
        'rev_litigation_after_review_other', 'rev_litigation_after_review_pending',
        'rev_litigation_after_review_total', 'pro_regulations_issued', 'pro_regulations_repealed',
        'pro_regulations_in_force', 'pro_normative_documents_issued', 'pro_normative_documents_repealed',
        'pro_normative_documents_in_force', 'pro_licensing_decisions', 'pro_punishment_decisions',
        'pro_enforcement_decisions', 'pro_fees_amount_wan_yuan', 'pro_regulations_made',
    ),
    (
        'pro_regulations_published', 'pro_regulations_total_published', 'pro_normative_documents_made',
        'pro_normative_documents_published', 'pro_normative_documents_total_published',
        'pro_licensing_items_last_year', 'pro_licensing_items_change', 'pro_other_services_items_last_year',
        'pro_other_services_items_change', 'pro_other_services_decisions', 'pro_punishment_items_last_year',
        'pro_punishment_items_change', 'pro_enforcement_items_last_year', 'pro_enforcement_items_change',
        'pro_fees_items_last_year', 'pro_fees_items_change', 'pro_procurement_items',
        'pro_procurement_amount_wan_yuan',
    ),
)

# The agency's region and level, for a report_figure row (row values: SQLite 3.15+, PostgreSQL).
_FROM_AGENCY = ("(SELECT agency.region_code, agency.level FROM agency"
                " WHERE agency.id = report_figure.agency_id)")

# The same two rules on both databases, whoever writes:
# - an agency's new region or level goes to its rows (only those that differ are written);
# - a row moved to another agency (UPDATE OF agency_id) takes that agency's.
# A new row gets them from its writer (db.store.save_report, bench/national.py), not from a trigger:
# on SQLite an INSERT trigger costs ~80 µs a row, more than the row's own insert.
# SQLite: AFTER triggers (a BEFORE trigger cannot change the row); recursive triggers are off (its
# default), so a trigger's own UPDATE fires nothing more.
_SQLITE_TRIGGERS = {
    "tr_agency_scope_update": """
CREATE TRIGGER tr_agency_scope_update AFTER UPDATE OF region_code, level ON agency FOR EACH ROW
WHEN OLD.region_code IS NOT NEW.region_code OR OLD.level IS NOT NEW.level
BEGIN
  UPDATE report_figure SET region_code = NEW.region_code, level = NEW.level
  WHERE agency_id = NEW.id AND (region_code IS NOT NEW.region_code OR level IS NOT NEW.level);
END""",
    "tr_report_figure_agency_moved": f"""
CREATE TRIGGER tr_report_figure_agency_moved AFTER UPDATE OF agency_id ON report_figure FOR EACH ROW
WHEN NEW.region_code IS NOT (SELECT region_code FROM agency WHERE id = NEW.agency_id)
  OR NEW.level IS NOT (SELECT level FROM agency WHERE id = NEW.agency_id)
BEGIN
  UPDATE report_figure SET (region_code, level) = {_FROM_AGENCY} WHERE report_id = NEW.report_id;
END""",
}

# PostgreSQL: a BEFORE trigger sets a moved row's values as it is written.
_POSTGRESQL = (
    """
CREATE FUNCTION report_figure_agency_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT agency.region_code, agency.level INTO NEW.region_code, NEW.level
    FROM agency WHERE agency.id = NEW.agency_id;
  RETURN NEW;
END
$$""",
    """
CREATE TRIGGER tr_report_figure_agency_moved BEFORE UPDATE OF agency_id ON report_figure
FOR EACH ROW EXECUTE FUNCTION report_figure_agency_moved()""",
    """
CREATE FUNCTION agency_scope_to_report_figure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE report_figure SET region_code = NEW.region_code, level = NEW.level
  WHERE agency_id = NEW.id
    AND (region_code IS DISTINCT FROM NEW.region_code OR level IS DISTINCT FROM NEW.level);
  RETURN NULL;
END
$$""",
    """
CREATE TRIGGER tr_agency_scope_update AFTER UPDATE OF region_code, level ON agency FOR EACH ROW
WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code OR OLD.level IS DISTINCT FROM NEW.level)
EXECUTE FUNCTION agency_scope_to_report_figure()""",
)


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    # Plain ADD COLUMN: on SQLite only the schema changes; the rows get the values below.
    op.add_column('report_figure', sa.Column('region_code', sa.String(length=32), nullable=True))
    op.add_column('report_figure', sa.Column('level', sa.String(length=16), nullable=True))
    op.execute(f"UPDATE report_figure SET (region_code, level) = {_FROM_AGENCY}")
    for n, group in enumerate(FIGURE_INDEX_GROUPS, 1):
        op.create_index(f'ix_report_figure_figures_{n}', 'report_figure',
                        ['year', 'level', 'region_code', 'agency_id', *group], unique=False)
    for statement in (_POSTGRESQL if _postgresql() else _SQLITE_TRIGGERS.values()):
        op.execute(statement.strip())


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER tr_agency_scope_update ON agency")
        op.execute("DROP TRIGGER tr_report_figure_agency_moved ON report_figure")
        op.execute("DROP FUNCTION agency_scope_to_report_figure()")
        op.execute("DROP FUNCTION report_figure_agency_moved()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    for n in range(len(FIGURE_INDEX_GROUPS), 0, -1):
        op.drop_index(f'ix_report_figure_figures_{n}', table_name='report_figure')
    # SQLite 3.35+ drops a column in place (no index uses it any more).
    op.drop_column('report_figure', 'level')
    op.drop_column('report_figure', 'region_code')

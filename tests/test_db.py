"""The store (db/): migrations, save_report semantics and the query helpers, on a real SQLite file."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Session, SQLModel, select

from checks import model as cm
from checks.template import APPLICANT_COLUMNS, APPLICANT_PARTS, APPLICATION_ROWS, RESULT_ROWS
from db import crawlstate
from db import models as m
from db import store as store_module
from db.engine import ALEMBIC_INI, alembic_config, current_revision, downgrade, make_engine, session, upgrade
from db.store import (
    SaveResult,
    agencies_with_applications,
    as_check_finding,
    canonical_data,
    file_uri,
    findings_for_report,
    get_report,
    known_document,
    report_figures,
    reports_for_year,
    save_report,
    stored_document,
)
from scraper.store_job import DocumentJob, store_checked

TABLES = ("agency", "document", "report", "report_figure", "finding")
CRAWL_TABLES = ("document_version", "http_state", "crawl_run", "robots_txt", "crawl_lease")
COMPLIANCE_TABLES = ("region", "agency_alias", "tracked_finding", "finding_event", "subscriber", "alert",
                     "alert_delivery")
BOT_TABLES = ("bot_user",)
CST = timezone(timedelta(hours=8))
AGENCY = "宁波市镇海区人力资源和社会保障局"


# ---- Fixtures and builders --------------------------------------------------------------




def sha(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def applications_2021(new_parts: tuple[int, ...] = (9, 2, 0, 1, 0, 0)) -> cm.TableData:
    """All 25 rows x 7 columns of the 2021 table, balanced (new + carried_over = handled + forward)."""
    carried_over = (2, 0, 0, 0, 0, 0)
    carried_forward = (1, 0, 0, 0, 0, 0)
    handled = [n + c - f for n, c, f in zip(new_parts, carried_over, carried_forward, strict=True)]
    # Where each applicant type's handled applications went; the rest are 予以公开.
    spread = {
        "partially_disclosed": (2, 1, 0, 0, 0, 0),
        "withheld_third_party": (1, 0, 0, 0, 0, 0),
        "unavailable_not_held": (3, 0, 0, 0, 0, 0),
        "rejected_petition": (1, 0, 0, 0, 0, 0),
        "other_misc": (0, 0, 0, 1, 0, 0),
    }
    table: dict[str, list[int]] = {spec.key: [0] * 6 for spec in APPLICATION_ROWS["2021"]}
    table["new"] = list(new_parts)
    table["carried_over"] = list(carried_over)
    table["carried_forward"] = list(carried_forward)
    for key, values in spread.items():
        table[key] = list(values)
    for i in range(6):
        table["disclosed"][i] = handled[i] - sum(values[i] for values in spread.values())
    table["handled_total"] = [sum(table[key][i] for key in RESULT_ROWS["2021"]) for i in range(6)]
    assert table["handled_total"] == handled
    return {
        key: {**dict(zip(APPLICANT_PARTS, parts, strict=True)), "total": sum(parts)}
        for key, parts in table.items()
    }


def proactive_2021() -> cm.TableData:
    return {
        "regulations": {"issued": 0, "repealed": 0, "in_force": 0},
        "normative_documents": {"issued": 2, "repealed": 1, "in_force": 5},
        "licensing": {"decisions": 523},
        "punishment": {"decisions": 19},
        "enforcement": {"decisions": None},
        "fees": {"amount_wan_yuan": 5.28},
    }


def review_2021() -> cm.TableData:
    return {
        "review": {"upheld": 1, "corrected": 0, "other": 0, "pending": 1, "total": 2},
        "litigation_direct": {"upheld": 1, "corrected": 0, "other": 0, "pending": 0, "total": 1},
        "litigation_after_review": {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0},
    }


def two_findings() -> list[cm.Finding]:
    return [
        cm.Finding(
            rule="text_table_mismatch",
            severity="error",
            message="正文称本年新收政府信息公开申请13件，表格为12件",
            where="三、本年新收政府信息公开申请数量 · 总计列",
            section="三",
            row="new",
            column="total",
        ),
        cm.Finding(
            rule="stale_text",
            severity="warning",
            message="改进情况写的是2021年的工作计划，似为沿用上年报告",
            where="五、存在的主要问题及改进情况",
            section="五",
        ),
    ]


def make_report(
    agency: str | None = AGENCY,
    year: int | None = 2021,
    *,
    new_parts: tuple[int, ...] = (9, 2, 0, 1, 0, 0),
    findings: list[cm.Finding] | None = None,
    source: str = "report.pdf",
) -> cm.Report:
    return cm.Report(
        source=source,
        agency=agency,
        year=year,
        template="2021",
        sections=["一", "二", "三", "四", "五", "六"],
        proactive=proactive_2021(),
        applications=applications_2021(new_parts),
        review_litigation=review_2021(),
        findings=two_findings() if findings is None else findings,
        title=f"{agency or ''}{year or ''}年政府信息公开工作年度报告",
        format="pdf",
    )


FETCHED = datetime(2022, 1, 20, 9, 30, tzinfo=CST)


def save(s: Session, report: cm.Report, url: str, content: str, **kwargs: Any) -> SaveResult:
    encoded = content.encode()
    kwargs.setdefault("fetched_at", FETCHED)
    return save_report(s, report, url=url, content_hash=sha(content), size=len(encoded), **kwargs)


def snapshot(eng: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with eng.connect() as conn:
        return {t: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}")).all()) for t in TABLES}


def counts(eng: Engine) -> dict[str, int]:
    with eng.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def total_changes(s: Session) -> int:
    """Rows inserted, updated or deleted so far on the session's connection (SQLite), or in its
    transaction (PostgreSQL, where a no-op UPDATE counts as well)."""
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        return int(conn.exec_driver_sql(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables").scalar_one())
    return int(conn.exec_driver_sql("SELECT total_changes()").scalar_one())


# ---- Migrations -------------------------------------------------------------------------


def schema_diff(eng: Engine) -> list[Any]:
    with eng.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrations_create_exactly_the_models_schema(engine: Engine) -> None:
    assert schema_diff(engine) == []
    assert set(inspect(engine).get_table_names()) == {*TABLES, *CRAWL_TABLES, *COMPLIANCE_TABLES, *BOT_TABLES,
                                                      "alembic_version"}
    # The comparison is not vacuous: a missing index shows up.
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_report_year")
    assert any(diff[0] == "add_index" for diff in schema_diff(engine))


def test_migration_matches_models_on_postgresql() -> None:
    """Offline (`--sql`) PostgreSQL DDL of the migration == the models' DDL, line by line."""
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "postgresql://monitor@localhost/xxgk")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    script = config.output_buffer.getvalue()

    def lines(ddl: str) -> set[str]:
        # Columns and constraints added by later revisions appear as "ALTER TABLE t ADD [COLUMN] …":
        # compare the column or constraint part.
        return {
            re.sub(r"^ALTER TABLE \S+ ADD (COLUMN )?", "", re.sub(r"\s+", " ", line).strip().rstrip(",;").strip())
            for line in ddl.splitlines()
        } - {""}

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    expected: set[str] = set()
    for table in SQLModel.metadata.sorted_tables:
        expected |= lines(str(CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            expected |= lines(str(CreateIndex(index).compile(dialect=dialect)))
    produced = lines(script)
    assert expected - produced == set()
    assert "TIMESTAMP WITH TIME ZONE NOT NULL" in script


def test_checks_and_constraints_are_in_the_migration(engine: Engine) -> None:
    insp = inspect(engine)
    assert {c["name"] for c in insp.get_check_constraints("agency")} == {"ck_agency_level"}
    assert {c["name"] for c in insp.get_check_constraints("finding")} == {"ck_finding_severity"}
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(text("INSERT INTO agency (name, level) VALUES ('x', 'county')"))


def test_upgrade_is_idempotent(blank_db_url: str) -> None:
    db_url = blank_db_url
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(db_url) is None
    upgrade(db_url)
    eng = make_engine(db_url)
    try:
        before = inspect(eng).get_table_names()
        upgrade(db_url)
        upgrade(eng)  # an engine works as well as a URL
        assert current_revision(eng) == head == "0009"
        assert inspect(eng).get_table_names() == before
        assert schema_diff(eng) == []
    finally:
        eng.dispose()


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    eng = make_engine(db_url)
    try:
        assert inspect(eng).get_table_names() == ["alembic_version"]
        upgrade(eng)
        assert schema_diff(eng) == []
    finally:
        eng.dispose()


def test_alembic_command_line_from_another_directory(tmp_path: Path) -> None:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "-x", f"url={url}", "upgrade", "head"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    assert current_revision(url) == "0009"
    assert list(workdir.iterdir()) == []


def test_sqlite_has_foreign_keys_and_wal(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar_one() == 2  # memory
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text(
                "INSERT INTO report_figure (report_id, agency_id, year, app_new_total)"
                " VALUES (99, 99, 2021, 1)"
            )
        )


# ---- save_report ------------------------------------------------------------------------

URL = "file:///data/reports/zhenhai-rsj-2021.pdf"


def test_save_creates_everything(engine: Engine) -> None:
    report = make_report()
    published = datetime(2022, 1, 18, tzinfo=CST)
    with session(engine) as s:
        result = save(s, report, URL, "v1", published_at=published)
    assert result.status == "created"
    assert result.document_status == "created"
    assert result.changed and result.cells_replaced and result.findings_replaced
    assert counts(engine) == {
        "agency": 1,
        "document": 1,
        "report": 1,
        "report_figure": 1,
        "finding": 2,
    }
    with session(engine) as s:
        row = s.get(m.Report, result.report_id)
        assert row is not None
        assert row.agency.name == AGENCY
        assert (row.year, row.template, row.sections) == (2021, "2021", ["一", "二", "三", "四", "五", "六"])
        expected = report.to_json()
        del expected["findings"]
        assert row.data == expected == canonical_data(report)
        assert row.created_at == row.updated_at
        assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == timedelta(0)

        doc = row.document
        assert (doc.url, doc.content_hash, doc.size, doc.format) == (URL, sha("v1"), 2, "pdf")
        assert doc.agency_id == row.agency_id and doc.title == report.title
        assert doc.fetched_at == FETCHED and doc.fetched_at.tzinfo == UTC
        assert doc.fetched_at.hour == 1  # 09:30 in Beijing is 01:30 UTC
        assert doc.published_at == published

        figures = figure_row(engine, row.id)  # type: ignore[arg-type]
        assert figures["app_new_total"] == 12.0 and figures["pro_fees_amount_wan_yuan"] == 5.28
        assert figures["pro_enforcement_decisions"] is None
        assert figures["app_other_processing_total"] is None  # a 2019 row, absent from a 2021 report
        filled = {k for k in m.FIGURE_KEYS if figures[m.figure_column(k)] is not None}
        assert {k for k in filled if k.startswith("review_litigation.")} == {
            f"review_litigation.{r}.{c}" for r in ("review", "litigation_direct", "litigation_after_review")
            for c in ("upheld", "corrected", "other", "pending", "total")}
        apps = {tuple(k.split(".")[1:]) for k in filled if k.startswith("applications.")}
        assert {r for r, _ in apps} == {spec.key for spec in APPLICATION_ROWS["2021"]}
        assert {c for _, c in apps} == set(APPLICANT_COLUMNS)

        stored = findings_for_report(s, row.id)  # type: ignore[arg-type]
        assert [as_check_finding(f) for f in stored] == report.findings
    # JSON is stored readable, not \u-escaped.
    with engine.connect() as conn:
        data = conn.execute(text("SELECT data FROM report")).scalar_one()
        assert AGENCY in (data if isinstance(data, str) else json.dumps(data, ensure_ascii=False))


def test_save_again_writes_nothing(engine: Engine) -> None:
    with session(engine) as s:
        first = save(s, make_report(), URL, "v1")
    before = snapshot(engine)
    with session(engine) as s:
        written_before = total_changes(s)
        again = save(s, make_report(), URL, "v1", fetched_at=FETCHED + timedelta(days=30))
        assert total_changes(s) == written_before  # not a single row touched
    assert again == SaveResult(
        "unchanged", first.document_id, "unchanged", report_id=first.report_id, agency_id=first.agency_id
    )
    assert not again.changed
    assert snapshot(engine) == before  # same rows, same updated_at, same fetched_at


def test_changed_content_updates_and_replaces(engine: Engine) -> None:
    with session(engine) as s:
        first = save(s, make_report(), URL, "v1")
        first_updated = s.get(m.Report, first.report_id).updated_at  # type: ignore[union-attr]
    before = counts(engine)

    changed = make_report(new_parts=(10, 2, 0, 1, 0, 0), findings=two_findings()[:1])
    later = FETCHED + timedelta(days=3)
    with session(engine) as s:
        result = save(s, changed, URL, "v2", fetched_at=later)
    assert (result.status, result.document_status) == ("updated", "updated")
    assert result.cells_replaced and result.findings_replaced
    assert (result.report_id, result.document_id) == (first.report_id, first.document_id)
    after = counts(engine)
    assert after == {**before, "finding": 1}
    with session(engine) as s:
        row = s.get(m.Report, result.report_id)
        assert row is not None
        assert row.updated_at > first_updated and row.created_at == first_updated
        assert row.data["applications"]["new"]["total"] == 13
        figures = figure_row(engine, row.id)  # type: ignore[arg-type]
        assert (figures["app_new_natural"], figures["app_new_total"]) == (10, 13)
        doc = s.get(m.Document, result.document_id)
        assert doc is not None and (doc.content_hash, doc.fetched_at) == (sha("v2"), later)
        new_findings = findings_for_report(s, row.id)  # type: ignore[arg-type]
        assert [f.rule for f in new_findings] == ["text_table_mismatch"]


def test_same_file_new_findings_replaces_findings_only(engine: Engine) -> None:
    """A newer checker on the same bytes: findings change, the cells are left alone."""
    with session(engine) as s:
        save(s, make_report(), URL, "v1")
    cells_before = snapshot(engine)["report_figure"]
    extra = cm.Finding(rule="late", severity="error", message="逾期发布", where="发布日期")
    with session(engine) as s:
        result = save(s, make_report(findings=[*two_findings(), extra]), URL, "v1")
    assert (result.status, result.document_status) == ("updated", "unchanged")
    assert result.findings_replaced and not result.cells_replaced
    assert snapshot(engine)["report_figure"] == cells_before
    assert counts(engine)["finding"] == 3


def test_changed_hash_same_data_keeps_report(engine: Engine) -> None:
    with session(engine) as s:
        first = save(s, make_report(), URL, "v1")
    report_rows = snapshot(engine)["report"]
    with session(engine) as s:
        result = save(s, make_report(), URL, "v1 re-saved by the website")
    assert (result.status, result.document_status) == ("updated", "updated")
    assert not result.cells_replaced and not result.findings_replaced
    assert result.report_id == first.report_id
    assert snapshot(engine)["report"] == report_rows  # no updated_at bump: the report did not change


def test_report_without_agency_stores_only_the_document(engine: Engine) -> None:
    with session(engine) as s:
        result = save(s, make_report(agency=None), "https://example.gov.cn/a/b.docx", "x")
    assert result.status == "unidentified" and result.report_id is None and result.agency_id is None
    assert counts(engine) == {"agency": 0, "document": 1, "report": 0, "report_figure": 0, "finding": 0}

    with session(engine) as s:
        again = save(s, make_report(agency=None), "https://example.gov.cn/a/b.docx", "x")
        no_year = save(s, make_report(year=None), "https://example.gov.cn/c.html", "y")
    assert (again.status, again.document_status) == ("unidentified", "unchanged")
    assert no_year.status == "unidentified" and no_year.agency_id is not None
    assert counts(engine)["report"] == 0
    with session(engine) as s:
        doc = s.get(m.Document, no_year.document_id)
        assert doc is not None and doc.agency_id == no_year.agency_id


def test_format_falls_back_to_the_url(engine: Engine) -> None:
    report = make_report(agency=None)
    report.format = None
    with session(engine) as s:
        result = save(s, report, "https://example.gov.cn/%E6%8A%A5%E5%91%8A.DOCX?x=1", "z")
        assert s.get(m.Document, result.document_id).format == "docx"  # type: ignore[union-attr]


def test_mirrored_report_does_not_flip_flop(engine: Engine) -> None:
    """The same report at two URLs: after the first run, re-running changes nothing."""
    mirror = "https://www.zh.gov.cn/mirror/2021.html"
    for _ in range(2):
        with session(engine) as s:
            save(s, make_report(), URL, "pdf bytes")
            save(s, make_report(source="2021.html"), mirror, "html bytes")
    before = snapshot(engine)
    with session(engine) as s:
        a = save(s, make_report(), URL, "pdf bytes")
        b = save(s, make_report(source="2021.html"), mirror, "html bytes")
    assert (a.status, a.superseded) == ("unchanged", True)
    assert (b.status, b.superseded) == ("unchanged", False)
    assert snapshot(engine) == before
    assert counts(engine)["report"] == 1


def test_bad_input_is_refused_before_writing(engine: Engine) -> None:
    with session(engine) as s:
        with pytest.raises(ValueError, match="timezone"):
            save(s, make_report(), URL, "v1", fetched_at=datetime(2022, 1, 1))
        with pytest.raises(ValueError, match="absolute"):
            save(s, make_report(), "reports/2021.pdf", "v1")
        with pytest.raises(ValueError, match="sha256"):
            save_report(s, make_report(), url=URL, content_hash="abc", size=1, fetched_at=FETCHED)
        broken = make_report()
        broken.applications["new"]["total"] = float("nan")
        with pytest.raises(ValueError):
            save(s, broken, URL, "v1")
    assert counts(engine) == dict.fromkeys(TABLES, 0)


def test_file_uri_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    uri = file_uri("年报 2021.pdf")
    assert uri.startswith("file:///") and uri.endswith("/%E5%B9%B4%E6%8A%A5%202021.pdf")
    assert uri == file_uri(tmp_path / "年报 2021.pdf")


def test_known_document(engine: Engine) -> None:
    with session(engine) as s:
        save(s, make_report(), URL, "v1")
        assert known_document(s, URL, sha("v1"))
        assert known_document(s, URL, sha("v1").upper())
        assert not known_document(s, URL, sha("v2"))
        assert not known_document(s, "file:///other.pdf", sha("v1"))


def test_deleting_a_report_cascades(engine: Engine) -> None:
    with session(engine) as s:
        result = save(s, make_report(), URL, "v1")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM report WHERE id = :id"), {"id": result.report_id})
    assert counts(engine) == {"agency": 1, "document": 1, "report": 0, "report_figure": 0, "finding": 0}


# ---- Queries ----------------------------------------------------------------------------


def test_query_helpers(engine: Engine) -> None:
    a, b, c = "北仑区教育局", "镇海区民政局", "宁波市镇海区人民政府"
    report_2020 = make_report(a, 2020, new_parts=(3, 1, 0, 0, 0, 0), findings=[])
    report_2020.template = "2019"
    with session(engine) as s:
        ra = save(s, make_report(a, 2021, new_parts=(20, 5, 1, 0, 1, 0)), "https://a/2021.pdf", "a21")
        save(s, make_report(b, 2021, new_parts=(0, 0, 0, 0, 0, 0), findings=[]), "https://b/2021.pdf", "b21")
        save(s, make_report(c, 2021, new_parts=(2, 1, 0, 0, 0, 0)), "https://c/2021.pdf", "c21")
        save(s, report_2020, "https://a/2020.pdf", "a20")
        save(s, make_report(None, 2021), "https://unknown/x.pdf", "u")

    with session(engine) as s:
        assert agencies_with_applications(s, 2021) == [(a, 27.0), (c, 3.0)]
        assert agencies_with_applications(s, 2020) == [(a, 4.0)]
        assert agencies_with_applications(s, 2019) == []

        reports = reports_for_year(s, 2021)
        assert [r.agency.name for r in reports] == sorted([a, b, c])
        assert {r.document.url for r in reports} == {
            "https://a/2021.pdf",
            "https://b/2021.pdf",
            "https://c/2021.pdf",
        }
        assert [r.template for r in reports_for_year(s, 2020)] == ["2019"]
        assert reports_for_year(s, 2022) == []

        assert [f.rule for f in findings_for_report(s, ra.report_id)] == ["text_table_mismatch", "stale_text"]  # type: ignore[arg-type]
        found = get_report(s, b, 2021)
        assert found is not None and findings_for_report(s, found.id) == []  # type: ignore[arg-type]
        assert get_report(s, b, 2020) is None

        # Any database can answer cell questions in plain SQL.
        blank = s.exec(
            select(m.Agency.name)
            .join(m.Report, m.Report.agency_id == m.Agency.id)  # type: ignore[arg-type]
            .join(m.report_figure, m.report_figure.c.report_id == m.Report.id)  # type: ignore[arg-type]
            .where(m.report_figure.c.pro_enforcement_decisions.is_(None))
        ).all()
        assert sorted(blank) == sorted([a, a, b, c])


def test_results_survive_the_session(engine: Engine) -> None:
    with session(engine) as s:
        save(s, make_report(), URL, "v1")
    with session(engine) as s:
        reports = reports_for_year(s, 2021)
    assert reports[0].agency.name == AGENCY and reports[0].document.url == URL


def test_session_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session(engine) as s:
        save(s, make_report(), URL, "v1")
        raise RuntimeError("boom")
    assert counts(engine) == dict.fromkeys(TABLES, 0)


def test_input_report_is_not_modified(engine: Engine) -> None:
    report = make_report()
    pristine = copy.deepcopy(report)
    with session(engine) as s:
        save(s, report, URL, "v1")
    assert report == pristine


def test_data_columns_hold_the_canonical_json(engine: Engine) -> None:
    """The data is written as JSON text once, to the report and to the document's version."""
    report = make_report()
    with session(engine) as s:
        save(s, report, URL, "v1")
    with engine.connect() as conn:
        texts = [conn.execute(text(f"SELECT data FROM {t}")).scalar_one()
                 for t in ("report", "document_version")]
    # (PostgreSQL's driver hands the JSON back decoded.)
    assert [json.loads(t) if isinstance(t, str) else t for t in texts] == [canonical_data(report)] * 2


def test_pending_orm_changes_are_seen(engine: Engine) -> None:
    with session(engine) as s:
        s.add(m.Agency(name=AGENCY, level="department"))
        result = save(s, make_report(), URL, "v1")
        agency = s.get(m.Agency, result.agency_id)
        assert agency is not None and agency.level == "department"
    assert counts(engine)["agency"] == 1


def test_rows_beyond_the_parameter_limit_are_inserted_in_order(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cells and findings are inserted several rows per statement, within the database's limit."""
    monkeypatch.setattr(store_module, "_max_parameters", lambda conn: 17)  # 3 cells, 2 findings a statement
    extra = [cm.Finding(rule=f"rule_{i}", severity="info", message=f"第{i}条", where="全文")
             for i in range(4)]
    report = make_report(findings=[*two_findings(), *extra])
    with session(engine) as s:
        result = save(s, report, URL, "v1")
    assert result.report_id is not None
    with session(engine) as s:
        assert figure_row(engine, result.report_id) == {
            "report_id": result.report_id, "agency_id": result.agency_id, "year": 2021, **report_figures(report),
            "region_code": None, "level": None}  # an agency created from the report's name: not described yet
        assert [as_check_finding(f) for f in findings_for_report(s, result.report_id)] == report.findings
    with session(engine) as s:
        assert save(s, report, URL, "v1").status == "unchanged"


def test_save_on_a_connection_with_the_document_looked_up_first(engine: Engine) -> None:
    """The crawler's way: a plain connection, and the lookup it needed anyway passed on."""
    with engine.begin() as conn:
        assert stored_document(conn, URL) is None
        first = save_report(conn, make_report(), url=URL, content_hash=sha("v1"), size=2, fetched_at=FETCHED,
                            published_at=FETCHED, stored=None)
    assert (first.status, first.document_status) == ("created", "created")

    with engine.begin() as conn:
        stored = stored_document(conn, URL)
        assert stored is not None
        assert (stored.id, stored.content_hash, stored.size, stored.format, stored.versions) == (
            first.document_id, sha("v1"), 2, "pdf", 1)
        assert stored.fetched_at == FETCHED and stored.published_at == FETCHED
        again = save_report(conn, make_report(), url=URL, content_hash=sha("v1"), size=2, fetched_at=FETCHED,
                            stored=stored)
    assert again == SaveResult("unchanged", first.document_id, "unchanged", first.report_id, first.agency_id)

    with engine.begin() as conn:
        changed = save_report(conn, make_report(new_parts=(10, 2, 0, 1, 0, 0)), url=URL,
                              content_hash=sha("v2"), size=2, fetched_at=FETCHED + timedelta(days=1),
                              stored=stored_document(conn, URL))
        assert (changed.status, changed.cells_replaced) == ("updated", True)
        assert stored_document(conn, URL) == dataclasses.replace(
            stored, content_hash=sha("v2"), fetched_at=FETCHED + timedelta(days=1), versions=2)


def test_describe_agency_fills_in_and_writes_only_changes(engine: Engine) -> None:
    with session(engine) as s:
        agency_id = save(s, make_report(), URL, "v1").agency_id
    assert agency_id is not None
    with engine.begin() as conn:
        crawlstate.describe_agency(conn, agency_id, region_code="330211", region_name="镇海区",
                                   level="department")
    with session(engine) as s:
        written = total_changes(s)
        crawlstate.describe_agency(s, agency_id, region_code="330211", region_name=None, level="")
        assert total_changes(s) == written  # nothing new: not even a no-op update
        crawlstate.describe_agency(s, agency_id, region_code=None, region_name="宁波市镇海区", level=None)
        assert total_changes(s) == written + 1
    with session(engine) as s:
        agency = s.get(m.Agency, agency_id)
        assert agency is not None
        assert (agency.region_code, agency.region_name, agency.level) == (
            "330211", "宁波市镇海区", "department")


def _job(engine: Engine, content: bytes, fetched_at: datetime, published: datetime) -> DocumentJob:
    return DocumentJob(
        url="https://www.zh.gov.cn/art/2022/1/20/art_1.html", content=content,
        content_hash=hashlib.sha256(content).hexdigest(), content_type="text/html", source_url=None,
        site="zhenhai", site_agency=AGENCY, region_code="330211", region_name="镇海区", level="department",
        list_title="2021年报", list_year=2021, published=published, published_source="发布日期",
        fetched_at=fetched_at, database_url=str(engine.url),
    )


def test_store_job_keeps_versions_and_flags_a_changed_report(engine: Engine) -> None:
    """scraper.store_job's save: new, unchanged, changed after publication (a finding that stays),
    the first publication date kept, and the agency described from the site config."""
    published = datetime(2022, 1, 18, tzinfo=CST)

    def store(content: bytes, days: int) -> str | None:
        job = _job(engine, content, FETCHED + timedelta(days=days), published + timedelta(days=days))
        return store_checked(job, make_report(), engine).status

    def rules() -> list[str]:
        with session(engine) as s:
            report = get_report(s, AGENCY, 2021)
            assert report is not None and report.id is not None
            return [f.rule for f in findings_for_report(s, report.id)]

    assert [store(b"v1", 0), store(b"v1", 1)] == ["new", "unchanged"]
    assert rules() == ["text_table_mismatch", "stale_text"]
    assert [store(b"v2", 2), store(b"v2", 3)] == ["changed", "unchanged"]
    assert rules() == ["text_table_mismatch", "stale_text", "changed_after_publication"]
    with session(engine) as s:
        stored = stored_document(s, _job(engine, b"", FETCHED, published).url)
        assert stored is not None and stored.versions == 2
        assert (stored.published_at, stored.fetched_at) == (published, FETCHED + timedelta(days=2))
        agency = s.exec(select(m.Agency)).one()
        assert (agency.region_code, agency.region_name, agency.level) == ("330211", "镇海区", "department")


# ---- report_figure ----------------------------------------------------------------------


def figure_row(eng: Engine, report_id: int) -> dict[str, Any]:
    with eng.connect() as conn:
        row = conn.execute(sa.select(m.report_figure).where(m.report_figure.c.report_id == report_id)).one()
    return dict(row._mapping)


def test_save_writes_the_key_figures(engine: Engine) -> None:
    with session(engine) as s:
        result = save(s, make_report(), URL, "v1")
    row = figure_row(engine, result.report_id)
    assert (row["year"], row["agency_id"]) == (2021, result.agency_id)
    assert row["app_new_total"] == 12 and row["app_new_natural"] == 9 and row["app_new_commercial"] == 2
    assert row["app_carried_over_total"] == 2 and row["app_carried_forward_natural"] == 1
    assert row["rev_review_total"] == 2 and row["rev_litigation_direct_upheld"] == 1
    assert row["pro_licensing_decisions"] == 523 and row["pro_fees_amount_wan_yuan"] == 5.28
    assert row["pro_enforcement_decisions"] is None  # a blank cell stays blank
    # Every figure column matches the canonical data: no key is left out or misplaced.
    for key in m.FIGURE_KEYS:
        section, r, c = key.split(".")
        expected = (getattr(make_report(), section).get(r) or {}).get(c)
        assert row[m.figure_column(key)] == expected, key


def test_a_changed_report_rewrites_its_figures_and_an_unchanged_one_does_not(engine: Engine) -> None:
    with session(engine) as s:
        first = save(s, make_report(), URL, "v1")
    with session(engine) as s:
        before = total_changes(s)
        save(s, make_report(), URL, "v1")
        assert total_changes(s) == before  # the same file again writes nothing
    with session(engine) as s:
        again = save(s, make_report(new_parts=(20, 2, 0, 1, 0, 0)), URL, "v2")
    assert again.report_id == first.report_id and again.cells_replaced
    row = figure_row(engine, first.report_id)
    assert row["app_new_total"] == 23 and row["app_new_natural"] == 20
    assert counts(engine)["report_figure"] == 1


def test_migration_0004_fills_figures_of_existing_reports(blank_db_url: str) -> None:
    db_url = blank_db_url
    upgrade(db_url, "0003")
    eng = make_engine(db_url)
    try:
        with session(eng) as s:
            conn = s.connection()
            conn.execute(text("INSERT INTO agency (id, name, registered) VALUES (1, :n, false)"), {"n": AGENCY})
            conn.execute(text(
                "INSERT INTO document (id, url, content_hash, size, format, fetched_at)"
                " VALUES (1, 'https://x.gov.cn/a.htm', :h, 1, 'html', '2022-01-20 00:00:00.000000')"
            ), {"h": "0" * 64})
            data = make_report().to_json()
            data.pop("findings")
            conn.execute(text(
                "INSERT INTO report (id, agency_id, year, template, document_id, sections, data, created_at,"
                " updated_at) VALUES (7, 1, 2021, '2021', 1, '[]', :d, '2022-01-20 00:00:00.000000',"
                " '2022-01-20 00:00:00.000000')"
            ), {"d": json.dumps(data, ensure_ascii=False)})
        upgrade(eng)
        row = figure_row(eng, 7)
        assert (row["agency_id"], row["year"], row["app_new_total"]) == (1, 2021, 12)
        assert row["pro_fees_amount_wan_yuan"] == 5.28 and row["pro_enforcement_decisions"] is None
    finally:
        eng.dispose()


# ---- report_figure's copies of the agency's region and level (revision 0009) --------------------


def test_save_copies_the_agencys_region_and_level_onto_its_figures(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agency (name, region_code, level, registered) VALUES (:n, '330211', "
                          "'department', true)"), {"n": AGENCY})
    with session(engine) as s:
        first = save(s, make_report(), URL, "v1")
    with session(engine) as s:
        again = save(s, make_report(new_parts=(20, 2, 0, 1, 0, 0)), URL, "v2")  # figures rewritten
    assert again.report_id == first.report_id and again.cells_replaced
    row = figure_row(engine, first.report_id)
    assert (row["region_code"], row["level"], row["app_new_total"]) == ("330211", "department", 23)


def test_migration_0009_copies_region_and_level_and_keeps_them(blank_db_url: str) -> None:
    db_url = blank_db_url
    upgrade(db_url, "0008")
    eng = make_engine(db_url)
    try:
        with session(eng) as s:
            conn = s.connection()
            conn.execute(text("INSERT INTO agency (id, name, region_code, level, registered) VALUES "
                              "(1, :a, '330211', 'department', true), (2, '某街道', '330211001', 'township', true), "
                              "(3, '某局', NULL, NULL, false)"), {"a": AGENCY})
            for i in (1, 2, 3):
                conn.execute(text(
                    "INSERT INTO document (id, url, content_hash, size, format, fetched_at)"
                    " VALUES (:i, :u, :h, 1, 'html', '2022-01-20 00:00:00.000000')"
                ), {"i": i, "u": f"https://x.gov.cn/{i}.htm", "h": "0" * 64})
                conn.execute(text(
                    "INSERT INTO report (id, agency_id, year, template, document_id, sections, data, created_at,"
                    " updated_at) VALUES (:i, :i, 2021, '2021', :i, '[]', '{}', '2022-01-20 00:00:00.000000',"
                    " '2022-01-20 00:00:00.000000')"), {"i": i})
                conn.execute(text("INSERT INTO report_figure (report_id, agency_id, year, app_new_total)"
                                  " VALUES (:i, :i, 2021, :i)"), {"i": i})
        upgrade(eng)
        assert current_revision(eng) == "0009"

        def scopes() -> dict[int, tuple[Any, ...]]:
            with eng.connect() as conn:
                return {r[0]: tuple(r[1:]) for r in conn.execute(text(
                    "SELECT report_id, region_code, level, app_new_total FROM report_figure"))}

        assert scopes() == {1: ("330211", "department", 1), 2: ("330211001", "township", 2), 3: (None, None, 3)}
        with eng.begin() as conn:
            conn.execute(text("UPDATE agency SET region_code = '330206', level = 'government' WHERE id = 1"))
        assert scopes()[1] == ("330206", "government", 1)
        names = {i["name"]: i["column_names"] for i in inspect(eng).get_indexes("report_figure")}
        assert names["ix_report_figure_figures_1"][:6] == ["year", "level", "region_code", "agency_id",
                                                         "app_new_natural", "app_new_commercial"]
        assert sorted(c for n, cs in names.items() if n.startswith("ix_report_figure_figures_") for c in cs[4:]) \
            == sorted(m.figure_column(k) for k in m.FIGURE_KEYS)  # every figure in one of them

        downgrade(eng, "0008")  # and back: the columns, their indexes and triggers go
        columns = {c["name"] for c in inspect(eng).get_columns("report_figure")}
        assert "region_code" not in columns and "level" not in columns
        names = {i["name"]: i["column_names"] for i in inspect(eng).get_indexes("report_figure")}
        assert names["ix_report_figure_year_app_new_total"] == ["year", "app_new_total", "agency_id"]
        with eng.begin() as conn:  # no trigger left behind that names the dropped columns
            conn.execute(text("UPDATE agency SET level = 'department' WHERE id = 1"))
            conn.execute(text("UPDATE report_figure SET agency_id = 2 WHERE report_id = 3"))
        upgrade(eng)
        assert scopes() == {1: ("330206", "department", 1), 2: ("330211001", "township", 2),
                            3: ("330211001", "township", 3)}
        assert schema_diff(eng) == []
    finally:
        eng.dispose()

"""The national-store generator (bench/national.py) at a tiny size, and the sweep's fast paths
(compliance.sweep / verdicts / alerts) against the straightforward code they replaced."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from checks import model as cm
from checks import rules
from compliance import sweep as sweep_module
from compliance import verdicts as v
from compliance.alerts import alert_findings, create_alerts
from compliance.regions import parent_code
from compliance.sweep import sweep
from db.engine import make_engine, session
from db.models import FIGURE_KEYS, TrackedFinding, figure_column
from db.store import _data_json, report_figures
from sqlmodel import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import national  # noqa: E402

AGENCIES, YEARS = 300, [2021, 2022]
TABLES = ("region", "agency", "agency_alias", "document", "document_version", "report", "report_figure", "finding",
          "crawl_run", "subscriber", "tracked_finding", "finding_event", "alert", "alert_delivery")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("national") / "national.db"
    national.generate(db, AGENCIES, YEARS, log=lambda line: None)
    return db


def _rows(db: Path, query: str, *params) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, params).fetchall()


def _digest(db: Path) -> dict[str, str]:
    out = {}
    with sqlite3.connect(db) as conn:
        for table in TABLES:
            h = hashlib.sha256()
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                h.update(repr(row).encode())
            out[table] = h.hexdigest()
    return out


def _checked(data: dict, agency: str) -> cm.Report:
    return cm.Report(source=data["source"], agency=data["agency"], year=data["year"], template=data["template"],
                     sections=data["sections"], proactive=data["proactive"], applications=data["applications"],
                     review_litigation=data["review_litigation"], title=data["title"], format=data["format"])


# ---- the store -----------------------------------------------------------------------------------


def test_reports_are_what_the_store_writes(store: Path) -> None:
    """Canonical data byte for byte as db.store writes it, figures as report_figures derives them."""
    columns = [figure_column(k) for k in FIGURE_KEYS]
    figures = {row[0]: row[1:] for row in _rows(store, f"SELECT report_id, {', '.join(columns)} FROM report_figure")}
    reports = _rows(store, "SELECT r.id, r.data, r.text_sketch, r.agency_id, r.year, a.name, f.agency_id, f.year "
                           "FROM report r JOIN agency a ON a.id = r.agency_id "
                           "LEFT JOIN report_figure f ON f.report_id = r.id")
    assert len(reports) > AGENCIES * len(YEARS) * 0.85
    assert len(figures) == len(reports)
    for rid, text, sketch, agency_id, year, name, fig_agency, fig_year in reports:
        data = json.loads(text)
        report = _checked(data, name)
        assert data["agency"] == name and data["year"] == year
        assert _data_json(report) == text
        assert (fig_agency, fig_year) == (agency_id, year)
        assert list(figures[rid]) == list(report_figures(report).values())
        hashes = json.loads(sketch)
        assert hashes == sorted(set(hashes)) and 8 <= len(hashes) <= 64


def test_findings_are_the_checkers(store: Path) -> None:
    """What the checker's table rules say of each report's data is exactly what is stored (the
    text-based findings are written as the checker words them; they need the prose)."""
    table_rules = (rules.balance, rules.row_total, rules.handled_total, rules.review_total, rules.missing_section,
                   rules.template_outdated, rules.regulations_not_applicable, rules.garbled_title)
    names = {r.__name__ for r in table_rules}
    stored: dict[int, list[tuple]] = defaultdict(list)
    for rid, rule, severity, message, where, section, row, column in _rows(
            store, 'SELECT report_id, rule, severity, message, "where", section, "row", "column" '
                   'FROM finding ORDER BY id'):
        stored[rid].append((rule, severity, message, where, section, row, column))
    with_findings = 0
    reports = _rows(store, "SELECT r.id, r.data, a.name FROM report r JOIN agency a ON a.id = r.agency_id")
    for rid, text, name in reports:
        report = _checked(json.loads(text), name)
        expected = [(f.rule, f.severity, f.message, f.where, f.section, f.row, f.column)
                    for rule in table_rules for f in rule(report)]
        got = [f for f in stored[rid] if f[0] in names]
        assert sorted(got) == sorted(expected), rid
        with_findings += bool(stored[rid])
        severities = [f[1] for f in stored[rid] if f[0] != "changed_after_publication"]
        assert severities == sorted(severities, key=national.SEVERITY_ORDER.__getitem__)  # the checker's order
    assert set(stored) <= {rid for rid, _, _ in reports}
    assert 0.04 < with_findings / len(reports) < 0.3


def test_foreign_keys_regions_and_agencies(store: Path) -> None:
    assert _rows(store, "PRAGMA foreign_key_check") == []
    regions = dict(_rows(store, "SELECT code, parent_code FROM region"))
    for code, parent in regions.items():
        assert parent == parent_code(code) and (parent is None or parent in regions)
    agencies = _rows(store, "SELECT region_code, level, registered, site FROM agency")
    assert all(code in regions for code, _, _, _ in agencies)
    assert {level for _, level, registered, _ in agencies if registered} == {"department", "government", "township"}
    assert sum(1 for *_, registered, _ in agencies if registered) == AGENCIES
    sites = {s for (s,) in _rows(store, "SELECT DISTINCT site FROM crawl_run")}
    assert all(site in sites for *_, site in agencies)
    assert _rows(store, "SELECT count(*) FROM agency_alias")[0][0] > 0
    assert _rows(store, "PRAGMA journal_mode") == [("wal",)]


def test_publication_deadlines_and_timeline(store: Path) -> None:
    rows = _rows(store, "SELECT r.year, a.level, d.published_at FROM report r JOIN agency a ON a.id = r.agency_id "
                        "JOIN document d ON d.id = r.document_id WHERE a.registered")
    late = 0
    for year, level, published in rows:
        due = date(year + 1, 1, 31) if level == "department" else date(year + 1, 3, 31)
        day = datetime.fromisoformat(published).replace(tzinfo=UTC).astimezone(cm.CST).date()
        late += day > due
    assert 0.01 < late / len(rows) < 0.12
    # Every year but the newest was swept, with alerts; the newest is left for bench_sweep.
    swept = dict(_rows(store, "SELECT year, count(*) FROM tracked_finding GROUP BY year"))
    assert set(swept) == set(YEARS[:-1])
    assert _rows(store, "SELECT count(*) FROM alert")[0][0] > 0
    assert _rows(store, "SELECT count(*) FROM alert_delivery WHERE state = 'sent'")[0][0] > 0
    states = {s for (s,) in _rows(store, "SELECT DISTINCT state FROM tracked_finding")}
    assert {"open", "resolved"} <= states


def test_generation_is_deterministic_and_reused(store: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.db"
    national.generate(again, AGENCIES, YEARS, log=lambda line: None)
    assert _digest(again) == _digest(store)
    lines: list[str] = []
    national.generate(again, AGENCIES, YEARS, log=lines.append)
    assert lines and "reusing" in lines[0]
    lines.clear()
    national.generate(again, AGENCIES, [2022], log=lines.append)  # other parameters: generated anew
    assert not any("reusing" in line for line in lines)
    assert {y for (y,) in _rows(again, "SELECT DISTINCT year FROM report")} == {2022}


def test_figures_carry_their_agencys_region_and_level(store: Path) -> None:
    """As db.store.save_report writes them (revision 0009): every level, and no row out of step."""
    assert _rows(store, "SELECT count(*) FROM report_figure f JOIN agency a ON a.id = f.agency_id "
                        "WHERE f.region_code IS NOT a.region_code OR f.level IS NOT a.level") == [(0,)]
    levels = {level for (level,) in _rows(store, "SELECT DISTINCT level FROM report_figure")}
    assert levels == {"department", "government", "township", None}  # None: the unregistered agencies


def test_a_store_of_an_older_schema_is_upgraded_in_place(store: Path, tmp_path: Path) -> None:
    """Same parameters but an older schema: the migrations bring the file to the head, with the
    rows the generator would have written; the record says so."""
    from db.engine import current_revision, downgrade, head_revision

    old = tmp_path / "old.db"
    shutil.copy(store, old)
    shutil.copy(national.params_path(store), national.params_path(old))
    downgrade(f"sqlite:///{old}", "0007")
    recorded = json.loads(national.params_path(old).read_text(encoding="utf-8"))
    recorded["params"]["schema"] = "0007"
    national.params_path(old).write_text(json.dumps(recorded), encoding="utf-8")
    lines: list[str] = []
    again = national.generate(old, AGENCIES, YEARS, log=lines.append)
    assert "upgrading it in place" in lines[0] and not any("reusing" in line for line in lines)
    assert current_revision(f"sqlite:///{old}") == head_revision()
    assert again["params"]["schema"] == head_revision() and again["stats"]["upgrades"][-1]["from"] == "0007"
    assert _digest(old) == _digest(store)
    lines.clear()
    national.generate(old, AGENCIES, YEARS, log=lines.append)
    assert "reusing" in lines[0]


# ---- the sweep's fast paths against the code they replaced -------------------------------------


def _reference_common(sketches, share=v.COMMON_SHARE, floor=3):
    counts: dict[int, int] = defaultdict(int)
    n = 0
    for sketch in sketches:
        n += 1
        for h in sketch:
            counts[h] += 1
    limit = max(floor, int(n * share))
    return {h for h, c in counts.items() if c > limit}


def _reference_duplicates(reports, names, *, common=None, k=64):
    common = common or set()
    trimmed = {r.id: [h for h in r.sketch if h not in common] for r in reports}
    by_id = {r.id: r for r in reports}
    index: dict[int, list[int]] = defaultdict(list)
    for rid, sketch in trimmed.items():
        if len(sketch) >= v.MIN_SENTENCES:
            for h in sketch[:8]:
                index[h].append(rid)
    pairs = set()
    for ids in index.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                pairs.add((min(a, b), max(a, b)))
    out = []
    for a, b in sorted(pairs):
        ra, rb = by_id[a], by_id[b]
        if ra.agency_id == rb.agency_id and ra.year == rb.year:
            continue
        sa_, sb_ = set(trimmed[a]), set(trimmed[b])
        union = sorted(sa_ | sb_)[:k]
        similarity = sum(1 for h in union if h in sa_ and h in sb_) / len(union) if union else 0.0
        if similarity >= v.DUPLICATE_SIMILARITY:
            out.append((a, b, similarity))
    return out


def _sketches(seed: int, n: int) -> list[list[int]]:
    rng = random.Random(seed)
    pool = [rng.randrange(1 << 40) for _ in range(60)]  # boilerplate, some of it common
    out = []
    for i in range(n):
        own = [rng.randrange(1 << 40) for _ in range(rng.randrange(0, 40))]
        if out and rng.random() < 0.1:  # a copy of an earlier one
            own = out[rng.randrange(len(out))][:] + own[:2]
        s = own + rng.sample(pool, rng.randrange(0, 25))
        if rng.random() < 0.05:
            s += s[:3]  # repeated hashes count as often as they occur
        if rng.random() < 0.5:
            s = sorted(set(s))[:64]
        out.append(s)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_common_hashes_in_blocks_is_exact(seed: int, monkeypatch) -> None:
    sketches = _sketches(seed, 600)
    expected = _reference_common(sketches)
    assert v.common_hashes(iter(sketches)) == expected
    monkeypatch.setattr(v, "_BLOCKS_FROM", 10)  # the blocked path, on small input
    for blocks in (1, 3, 32, 1000):
        monkeypatch.setattr(v, "_BLOCKS", blocks)
        assert v.common_hashes(sketches) == expected
        assert v.common_hashes(sketches, share=0.001, floor=1) == _reference_common(sketches, 0.001, 1)


@pytest.mark.parametrize("seed", range(4))
def test_duplicates_as_before(seed: int) -> None:
    sketches = _sketches(seed, 400)
    reports = [v.ReportFacts(id=i + 1, agency_id=(i % 150) + 1, year=2021 + i // 200, applications={}, sketch=s)
               for i, s in enumerate(sketches)]
    for common in (None, _reference_common(sketches)):
        got = v.duplicates(reports, {}, common=common)
        expected = _reference_duplicates(reports, {}, common=common)
        assert expected, "the sample has duplicates"
        assert [(d.report_id, d.evidence["other_report_id"], d.evidence["similarity"]) for d in got] == [
            (x, y, round(s, 3)) for a, b, s in expected for x, y in ((a, b), (b, a))]


def _reference_copies(s, agency_ids, year):
    """compliance.sweep._copies before: every document of an agency with several, data parsed."""
    from db.models import Document, DocumentVersion

    d, dv = Document.__table__, DocumentVersion.__table__
    several = (sa.select(d.c.agency_id).where(d.c.agency_id.is_not(None))
               .group_by(d.c.agency_id).having(sa.func.count() > 1))
    out = defaultdict(list)
    for row in s.connection().execute(
        sa.select(d.c.id, d.c.url, d.c.site, d.c.agency_id, dv.c.data)
        .join(dv, sa.and_(dv.c.document_id == d.c.id, dv.c.content_hash == d.c.content_hash))
        .where(d.c.agency_id.in_(several))
    ):
        data = row.data or {}
        if row.agency_id in agency_ids and data.get("year") == year:
            out[row.agency_id].append(v.Copy(row.id, row.url, row.site, data))
    return out


def _facts(r: v.ReportFacts) -> tuple:
    """What the verdicts read of a report (report_figure's floats equal data's ints; the verdicts
    write integral figures as ints)."""
    cells = tuple((getattr(r, section).get(row) or {}).get(col) for section, row, col in v.FIGURES_READ)
    return (r.id, r.agency_id, r.year, r.published_at, r.published_source, r.url, r.site, list(r.sketch), cells)


def test_copies_and_figures_as_before(store: Path, tmp_path: Path) -> None:
    """The sweep's copies: every other document of the agency holding its report that year (the
    report's own document is skipped by conflicting_copies anyway); its facts: report_figure's
    figures are the data's."""
    db = tmp_path / "copy.db"
    shutil.copy(store, db)
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # a document whose content became another year's report
        doc_id, agency_id = conn.exec_driver_sql(
            "SELECT d.id, d.agency_id FROM report r JOIN document d ON d.id = r.document_id "
            "WHERE r.year = ? ORDER BY r.id LIMIT 1", (YEARS[0],)).one()
        data = json.loads(conn.exec_driver_sql("SELECT data FROM document_version WHERE document_id = ?",
                                               (doc_id,)).scalar_one())
        data["year"] = YEARS[1]
        conn.exec_driver_sql("UPDATE document SET content_hash = ? WHERE id = ?", ("f" * 64, doc_id))
        conn.exec_driver_sql("INSERT INTO document_version (document_id, content_hash, size, fetched_at, data) "
                             "VALUES (?, ?, 1, '2023-05-01 00:00:00.000000', ?)",
                             (doc_id, "f" * 64, json.dumps(data, ensure_ascii=False)))
    with session(engine) as s:
        agencies = {a for (a,) in s.connection().exec_driver_sql("SELECT id FROM agency")}
        for year in YEARS:
            reference = _reference_copies(s, agencies, year)
            expected = {a: [(c.document_id, c.url) for c in cs] for a, cs in reference.items()}
            reports = {r.agency_id: r for r in sweep_module._reports(s, [year])}
            # The reference also lists each report's own document, which conflicting_copies skips.
            expected = {a: [c for c in cs if a not in reports or c[1] != reports[a].url]
                        for a, cs in expected.items()}
            got = {a: [(c.document_id, c.url) for c in cs if a not in reports or c.url != reports[a].url]
                   for a, cs in sweep_module._copies(s, agencies, year).items()}
            assert {a: cs for a, cs in got.items() if cs} == {a: cs for a, cs in expected.items() if cs}
        assert any(c.document_id == doc_id for c in sweep_module._copies(s, agencies, YEARS[1]).get(agency_id, []))
        by_figures = sweep_module._reports(s, YEARS)
        s.connection().exec_driver_sql("DELETE FROM report_figure")
        by_data = sweep_module._reports(s, YEARS)
        s.rollback()
    assert [_facts(r) for r in by_figures] == [_facts(r) for r in by_data]
    engine.dispose()


def test_sweep_without_figures_gives_the_same_findings(store: Path, tmp_path: Path) -> None:
    """The newest year's first sweep reading report_figure, or every report's data: the same rows."""
    dbs = []
    for name, drop in (("figures.db", False), ("data.db", True)):
        db = tmp_path / name
        shutil.copy(store, db)
        engine = make_engine(f"sqlite:///{db}")
        if drop:
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM report_figure")
        today, now = national.first_sweep(YEARS[-1])
        result = sweep(engine, YEARS[-1], today=today, now=now, deadlines=national.DEADLINES)
        assert result.opened and result.alerts
        assert {"carryover_mismatch", "implausible_change", "duplicate_content", "late"} <= set(result.verdicts)
        engine.dispose()
        dbs.append(db)
    tables = ("tracked_finding", "finding_event", "alert", "alert_delivery")
    assert [_digest_of(dbs[0], t) for t in tables] == [_digest_of(dbs[1], t) for t in tables]


def _digest_of(db: Path, table: str) -> str:
    return hashlib.sha256(repr(_rows(db, f'SELECT * FROM "{table}" ORDER BY id')).encode()).hexdigest()


def test_alert_findings_writes_what_create_alerts_writes(store: Path, tmp_path: Path) -> None:
    today, now = national.first_sweep(YEARS[-1])
    results = []
    for name, fast in (("orm.db", False), ("core.db", True)):
        db = tmp_path / name
        shutil.copy(store, db)
        engine = make_engine(f"sqlite:///{db}")
        result = sweep(engine, YEARS[-1], today=today, now=now, deadlines=national.DEADLINES, alert=False)
        opened = result.sweep_findings.opened + result.report_findings.opened
        with session(engine) as s:
            s.connection().exec_driver_sql("UPDATE tracked_finding SET state = 'acknowledged' WHERE id % 5 = 0")
            ids = opened[::-1] + opened[:10]  # any order, repeats
            if fast:
                created = alert_findings(s, ids, now)
                again = alert_findings(s, ids, now)
            else:
                findings = list(s.exec(select(TrackedFinding).where(TrackedFinding.id.in_(ids))).all())
                by_id = {f.id: f for f in findings}
                created = len(create_alerts(s, [by_id[i] for i in ids], now))
                again = len(create_alerts(s, [by_id[i] for i in ids], now))
        assert created > 0 and again == 0
        engine.dispose()
        results.append((created, _digest_of(db, "alert"), _digest_of(db, "alert_delivery")))
    assert results[0] == results[1]

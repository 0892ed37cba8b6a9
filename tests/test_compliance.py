"""The compliance engine: deadlines, cross-report verdicts (pure), finding lifecycle and the sweep
on a real SQLite store, all with a frozen clock (dates passed in, never read from the system)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from checks.model import CST
from compliance import verdicts as v
from compliance.deadlines import deadline
from compliance.lifecycle import FindingStateError, finding_key, history, set_state, sync
from compliance.sweep import sweep
from db.engine import session
from db.models import Agency, CrawlRun, Document, DocumentVersion, Finding, Report, TrackedFinding
from xxgk.config import DeadlinesConfig

NOW = datetime(2022, 6, 1, 9, 0, tzinfo=UTC)


# ---- deadlines -----------------------------------------------------------------------------


def test_statutory_deadlines_per_level() -> None:
    cfg = DeadlinesConfig()
    assert deadline(2021, "department", "330211", cfg) == date(2022, 1, 31)
    assert deadline(2021, "government", "330211", cfg) == date(2022, 3, 31)
    assert deadline(2021, "township", "330211001", cfg) == date(2022, 3, 31)
    assert deadline(2021, None, None, cfg) == date(2022, 3, 31)  # unknown level: never late on a guess


def test_regional_overrides_most_specific_wins() -> None:
    cfg = DeadlinesConfig(township="02-28", overrides=[
        {"region": "330000", "level": "township", "date": "02-15"},
        {"region": "330200", "level": "township", "date": "02-10"},
        {"region": "330200", "date": "01-20"},
    ])
    assert deadline(2021, "township", "330211001", cfg) == date(2022, 2, 10)  # city + level beats province
    assert deadline(2021, "township", "330302001", cfg) == date(2022, 2, 15)  # another city: the province's
    assert deadline(2021, "township", "110101001", cfg) == date(2022, 2, 28)  # elsewhere: the default
    assert deadline(2021, "department", "330211", cfg) == date(2022, 1, 20)  # level-free override
    assert deadline(2021, "department", "330302", cfg) == date(2022, 1, 31)


def test_deadline_config_rejects_impossible_days() -> None:
    with pytest.raises(ValueError):
        DeadlinesConfig(department="02-30")
    with pytest.raises(ValueError):
        DeadlinesConfig(overrides=[{"region": "33", "date": "13-01"}])


# ---- verdicts (pure) -----------------------------------------------------------------------


def facts(rid: int = 1, agency: int = 1, year: int = 2021, *, published: datetime | None = None,
          source: str | None = "page", new_total: float | None = 10, carried_over: dict | None = None,
          carried_forward: dict | None = None, sketch: tuple[int, ...] = (), url: str = "http://a.gov.cn/r.html",
          site: str | None = "a") -> v.ReportFacts:
    applications = {"new": {"total": new_total}}
    if carried_over is not None:
        applications["carried_over"] = carried_over
    if carried_forward is not None:
        applications["carried_forward"] = carried_forward
    return v.ReportFacts(rid, agency, year, applications, published_at=published, published_source=source,
                         url=url, site=site, sketch=sketch)


def test_late_counts_days_in_beijing_time() -> None:
    due = date(2022, 1, 31)
    # 23:30 on the deadline day in Beijing is 15:30 UTC: on time.
    assert v.late(facts(published=datetime(2022, 1, 31, 15, 30, tzinfo=UTC)), due) is None
    # 00:30 on 1 February in Beijing (16:30 UTC on the 31st): one day late.
    verdict = v.late(facts(published=datetime(2022, 1, 31, 16, 30, tzinfo=UTC)), due)
    assert verdict is not None and verdict.rule == "late" and verdict.severity == "error"
    assert verdict.evidence["days_late"] == 1 and verdict.evidence["source"] == "page"
    assert "逾期 1 天" in verdict.message and "页面上的发布日期" in verdict.message
    later = v.late(facts(published=datetime(2022, 3, 15, tzinfo=CST)), due)
    assert later is not None and later.evidence["days_late"] == 43
    assert v.late(facts(published=None), due) is None


def test_late_on_a_first_seen_date_is_only_a_warning() -> None:
    verdict = v.late(facts(published=datetime(2022, 2, 10, tzinfo=CST), source="first_seen"), date(2022, 1, 31))
    assert verdict is not None and verdict.severity == "warning" and "人工核实" in verdict.message


def test_missing_only_once_known() -> None:
    agency = v.AgencyFacts(7, "某某局", "department", "330211", "某某局网站")
    due = date(2022, 1, 31)
    ok = v.SiteCrawls(succeeded=True, failed=False)
    assert v.missing(agency, 2021, due, date(2022, 1, 31), ok) is None  # the deadline day itself
    assert v.missing(agency, 2021, due, date(2022, 2, 5), None) is None  # no crawl since the deadline
    found = v.missing(agency, 2021, due, date(2022, 2, 5), ok)
    assert found is not None and found.rule == "missing_report" and found.severity == "error"
    down = v.missing(agency, 2021, due, date(2022, 2, 5), v.SiteCrawls(False, True, "无法连接服务器"))
    assert down is not None and down.rule == "site_unreachable" and "无法连接服务器" in down.message
    # One good crawl since the deadline is enough, whatever failed around it.
    mixed = v.missing(agency, 2021, due, date(2022, 2, 5), v.SiteCrawls(True, True, "超时"))
    assert mixed is not None and mixed.rule == "missing_report"


def test_carryover_per_column() -> None:
    this = facts(carried_over={"natural": 2, "commercial": 0, "total": 2})
    last = facts(rid=0, year=2020, carried_forward={"natural": 3, "commercial": 0, "total": 3})
    verdict = v.carryover(this, last)
    assert verdict is not None and verdict.rule == "carryover_mismatch" and verdict.report_id == 1
    assert set(verdict.evidence["columns"]) == {"natural", "total"}
    assert "自然人" in verdict.message and "总计" in verdict.message
    same = facts(rid=0, year=2020, carried_forward={"natural": 2, "commercial": 0, "total": 2})
    assert v.carryover(this, same) is None
    blank = facts(rid=0, year=2020, carried_forward={"natural": None, "total": None})
    assert v.carryover(this, blank) is None  # blank cells are not compared


def test_implausible_jumps_are_info() -> None:
    jumped = v.jumps(facts(new_total=600), facts(rid=0, year=2020, new_total=30))
    assert [j.rule for j in jumped] == ["implausible_change"] and jumped[0].severity == "info"
    assert v.jumps(facts(new_total=10), facts(rid=0, year=2020, new_total=1)) == []  # small numbers
    assert v.jumps(facts(new_total=60), facts(rid=0, year=2020, new_total=30)) == []  # ×2
    assert len(v.jumps(facts(new_total=0), facts(rid=0, year=2020, new_total=80))) == 1  # fell to zero


def sketch_of(*sentences: str) -> tuple[int, ...]:
    from checks.fingerprint import _hash

    return tuple(sorted({_hash(s) for s in sentences}))


BODY = [f"本单位第{i}项工作内容详实具体并且各不相同编号{chr(0x4e00 + i)}" for i in range(40)]
OTHER = [f"另一单位完全不同的工作表述第{i}条{chr(0x5000 + i)}内容" for i in range(40)]
BOILER = ["根据中华人民共和国政府信息公开条例编制本报告全文"]


def test_duplicates_same_agency_other_year_and_other_agency() -> None:
    reports = [
        facts(1, agency=1, year=2021, sketch=sketch_of(*BODY, *BOILER)),
        facts(2, agency=1, year=2020, sketch=sketch_of(*BODY[:38], *BOILER)),  # last year's, nearly the same
        facts(3, agency=2, year=2021, sketch=sketch_of(*OTHER, *BOILER)),
        facts(4, agency=3, year=2021, sketch=sketch_of(*OTHER[:39], *BOILER)),  # copied from agency 2
    ]
    found = v.duplicates(reports, {1: "甲局", 2: "乙局", 3: "丙局"})
    pairs = {(d.report_id, d.evidence["other_report_id"]) for d in found}
    assert pairs == {(1, 2), (2, 1), (3, 4), (4, 3)}
    assert all(d.rule == "duplicate_content" and d.severity == "warning" for d in found)
    msg = next(d.message for d in found if d.report_id == 4)
    assert "乙局2021年度报告" in msg


def test_boilerplate_alone_is_not_a_duplicate() -> None:
    shared = [f"模板化的套话第{i}句所有单位都这样写{chr(0x6000 + i)}" for i in range(40)]
    reports = [facts(i, agency=i, sketch=sketch_of(*shared, *[f"单位{i}独有的内容第{j}句{chr(0x7000 + i * 50 + j)}"
                                                                for j in range(4)]))
               for i in range(1, 60)]
    common = v.common_hashes(r.sketch for r in reports)
    assert v.duplicates(reports, {}, common=common) == []
    assert v.duplicates(reports, {}) != []  # without dropping the boilerplate they would all match


def test_conflicting_copies() -> None:
    report = facts(url="http://a.gov.cn/r.html", carried_over={"total": 1})
    same = v.Copy(5, "http://b.gov.cn/r.pdf", "b", {"applications": dict(report.applications)})
    other = v.Copy(6, "http://c.gov.cn/r.pdf", "c", {"applications": {"new": {"total": 99}}})
    found = v.conflicting_copies(report, [same, other, v.Copy(1, report.url, "a", {})])
    assert [f.where for f in found] == ["http://c.gov.cn/r.pdf"]
    assert found[0].evidence["differing"] == ["applications"]


# ---- lifecycle on a real store -------------------------------------------------------------


def _agency(s, name: str = "某某局", **kw) -> int:
    a = Agency(name=name, **kw)
    s.add(a)
    s.flush()
    assert a.id is not None
    return a.id


def test_lifecycle_open_hold_resolve_reopen(engine: Engine) -> None:
    with session(engine) as s:
        aid = _agency(s)
    one = v.Verdict(aid, 2021, "late", "error", "逾期 3 天")
    two = v.Verdict(aid, 2021, "carryover_mismatch", "error", "不衔接", where="三")
    with session(engine) as s:
        first = sync(s, [one, two], source="sweep", years=[2021], now=NOW)
    assert len(first.opened) == 2 and not first.resolved
    with session(engine) as s:
        again = sync(s, [one, two], source="sweep", years=[2021], now=NOW)
    assert (again.opened, again.resolved, again.held) == ([], [], 2)
    with session(engine) as s:  # the carryover was corrected
        fixed = sync(s, [one], source="sweep", years=[2021], now=datetime(2022, 7, 1, tzinfo=UTC))
    assert len(fixed.resolved) == 1
    with session(engine) as s:
        row = s.exec(select(TrackedFinding).where(TrackedFinding.rule == "carryover_mismatch")).one()
        assert row.state == "resolved" and row.resolved_at == datetime(2022, 7, 1, tzinfo=UTC)
        assert row.key == finding_key(aid, 2021, "carryover_mismatch", "三")
    with session(engine) as s:  # and came back
        back = sync(s, [one, two], source="sweep", years=[2021], now=NOW)
    assert len(back.reopened) == 1 and not back.opened
    with session(engine) as s:
        assert [e.state for e in history(s, back.reopened[0])] == ["open", "resolved", "open"]
    # Another year or source is out of scope: nothing of 2021's is resolved by it.
    with session(engine) as s:
        other = sync(s, [], source="sweep", years=[2020], now=NOW)
        assert other.resolved == [] and s.exec(select(TrackedFinding).where(TrackedFinding.state == "open")).all()


def test_supervisor_states(engine: Engine) -> None:
    with session(engine) as s:
        aid = _agency(s)
        fid = sync(s, [v.Verdict(aid, 2021, "late", "error", "逾期")], source="sweep", years=[2021], now=NOW).opened[0]
    with session(engine) as s:
        with pytest.raises(FindingStateError, match="理由"):
            set_state(s, fid, "false_positive", actor="张三", reason=" ", now=NOW)
        set_state(s, fid, "acknowledged", actor="张三", reason="已电话督促", now=NOW)
    with session(engine) as s:  # still holding: stays acknowledged, not re-opened
        result = sync(s, [v.Verdict(aid, 2021, "late", "error", "逾期 4 天")], source="sweep", years=[2021], now=NOW)
        assert result.held == 1 and not result.opened
        row = s.get(TrackedFinding, fid)
        assert row is not None and row.state == "acknowledged" and row.message == "逾期 4 天"
        assert [(e.state, e.actor) for e in history(s, fid)] == [("open", "system"), ("acknowledged", "张三")]
    with session(engine) as s:
        with pytest.raises(FindingStateError):
            set_state(s, 9999, "acknowledged", actor="张三", reason=None, now=NOW)


# ---- the sweep, end to end on the store -----------------------------------------------------


def _report(s, agency_id: int, year: int, *, published: datetime | None, data: dict, site: str = "甲站",
            url: str | None = None, sketch: list[int] | None = None, source: str = "page") -> int:
    url = url or f"http://a.gov.cn/{agency_id}/{year}.html"
    doc = Document(url=url, content_hash=f"{agency_id:032d}{year:032d}", size=1, format="html",
                   fetched_at=NOW, published_at=published, agency_id=agency_id, site=site, published_source=source)
    s.add(doc)
    s.flush()
    assert doc.id is not None
    s.add(DocumentVersion(document_id=doc.id, content_hash=doc.content_hash, size=1, fetched_at=NOW,
                          data={**data, "year": year}))
    rep = Report(agency_id=agency_id, year=year, template="2021", document_id=doc.id, sections=[], data=data,
                 text_sketch=sketch, created_at=NOW, updated_at=NOW)
    s.add(rep)
    s.flush()
    assert rep.id is not None
    return rep.id


def _run(s, site: str, when: datetime, status: str, errors: list[str] | None = None) -> None:
    s.add(CrawlRun(site=site, started_at=when, finished_at=when, status=status, errors=errors or []))


def test_sweep_end_to_end(engine: Engine) -> None:
    cfg = DeadlinesConfig()
    with session(engine) as s:
        late_id = _agency(s, "迟到局", level="department", region_code="330211", registered=True, site="甲站")
        ontime_id = _agency(s, "按时局", level="department", region_code="330211", registered=True, site="甲站")
        absent_id = _agency(s, "缺报局", level="department", region_code="330211", registered=True, site="甲站")
        down_id = _agency(s, "断网局", level="department", region_code="330212", registered=True, site="乙站")
        _agency(s, "新设局", level="government", region_code="330211", registered=True, site="甲站")  # 3月31日
        _report(s, late_id, 2021, published=datetime(2022, 2, 14, 10, tzinfo=CST),
                data={"applications": {"new": {"total": 5}, "carried_over": {"total": 1}}})
        _report(s, late_id, 2020, published=datetime(2021, 1, 20, tzinfo=CST),
                data={"applications": {"carried_forward": {"total": 2}}})
        rid = _report(s, ontime_id, 2021, published=datetime(2022, 1, 28, tzinfo=CST),
                      data={"applications": {"new": {"total": 3}}})
        s.add(Finding(report_id=rid, rule="balance", severity="error", message="不平", where="三、总计列"))
        _run(s, "甲站", datetime(2022, 2, 3, tzinfo=CST), "ok")
        _run(s, "乙站", datetime(2022, 2, 3, tzinfo=CST), "failed", ["无法连接服务器"])

    # 1月20日: nothing is due yet; only the checker's finding and nothing else.
    early = sweep(engine, 2021, today=date(2022, 1, 20), now=NOW, deadlines=cfg, alert=False)
    assert dict(early.verdicts) == {"late": 1, "carryover_mismatch": 1}  # late is known once published
    assert len(early.report_findings.opened) == 1

    result = sweep(engine, 2021, today=date(2022, 2, 5), now=NOW, deadlines=cfg, alert=False)
    assert dict(result.verdicts) == {"late": 1, "carryover_mismatch": 1, "missing_report": 1, "site_unreachable": 1}
    with session(engine) as s:
        rows = {(r.agency_id, r.rule): r for r in s.exec(select(TrackedFinding)).all()}
    assert rows[(late_id, "late")].evidence["days_late"] == 14
    assert (absent_id, "missing_report") in rows and (down_id, "site_unreachable") in rows
    assert (ontime_id, "balance") in rows and rows[(ontime_id, "balance")].source == "report"
    assert all(agency != ontime_id or rule == "balance" for agency, rule in rows)

    # The missing report appears: the missing verdict resolves, nothing else changes.
    with session(engine) as s:
        _report(s, absent_id, 2021, published=datetime(2022, 2, 20, tzinfo=CST), data={"applications": {}})
    after = sweep(engine, 2021, today=date(2022, 2, 21), now=NOW, deadlines=cfg, alert=False)
    with session(engine) as s:
        missing = s.exec(select(TrackedFinding).where(TrackedFinding.rule == "missing_report")).one()
        assert missing.state == "resolved"
        late_now = s.exec(select(TrackedFinding).where(TrackedFinding.agency_id == absent_id,
                                                       TrackedFinding.rule == "late")).one()
        assert late_now.state == "open" and late_now.evidence["days_late"] == 20
    assert len(after.sweep_findings.resolved) == 1 and len(after.sweep_findings.opened) == 1


def test_sweep_alerts_once_and_supervisor_silences(engine: Engine) -> None:
    from db.models import Alert, AlertDelivery, Subscriber

    cfg = DeadlinesConfig()
    with session(engine) as s:
        aid = _agency(s, "迟到局", level="department", region_code="330211", registered=True, site="甲站")
        _report(s, aid, 2021, published=datetime(2022, 2, 14, tzinfo=CST), data={"applications": {}})
        s.add(Subscriber(name="宁波市督查", channel="console", region_code="330200", min_severity="error",
                         created_at=NOW))
        s.add(Subscriber(name="杭州市督查", channel="console", region_code="330100", created_at=NOW))
    first = sweep(engine, 2021, today=date(2022, 2, 20), now=NOW, deadlines=cfg)
    again = sweep(engine, 2021, today=date(2022, 2, 21), now=NOW, deadlines=cfg)
    assert (first.alerts, again.alerts) == (1, 0)  # once per opened finding, never again
    with session(engine) as s:
        deliveries = s.exec(select(AlertDelivery)).all()
        assert len(s.exec(select(Alert)).all()) == 1
        assert [d.state for d in deliveries] == ["pending"]  # only the subscriber whose region covers it
        finding = s.exec(select(TrackedFinding)).one()
        set_state(s, finding.id, "acknowledged", actor="张三", reason="已督促", now=NOW)
    with session(engine) as s:
        assert [d.state for d in s.exec(select(AlertDelivery)).all()] == ["cancelled"]

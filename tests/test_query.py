"""The query layer (query/) and `xxgk query`, on a real SQLite store built through the product's
own paths: the registry import, save_report and the compliance sweep with a frozen date."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from checks.model import CST
from compliance.registry import import_registry, parse_registry_csv
from compliance.sweep import sweep
from db.engine import session
from db.models import Agency, report_figure
from query import api
from query.api import Scope, figure_expr
from query.fields import UnknownFigure, figure, find_figure
from query.render import footer, to_csv, to_json, to_rich_by_column
from query.scope import RegionRef, ScopeError, find_agencies, find_region, level_of
from store_builders import BALANCE, crawled, report, save
from xxgk.config import DeadlinesConfig

HRSS = "宁波市镇海区人力资源和社会保障局"
ZHENHAI = "宁波市镇海区人民政府"
JIASHAN = "嘉善县人民政府"
LIANJIANG = "连江县人民政府"
LIANJIANG_FINANCE = "连江县财政局"

REGISTRY = (
    "name,aliases,region_code,region_name,level,site,province_name,city_name\n"
    f"{HRSS},区人力社保局,330211,浙江省宁波市镇海区,部门,zhenhai,浙江省,宁波市\n"
    f"{ZHENHAI},区政府,330211,浙江省宁波市镇海区,人民政府,zhenhai,浙江省,宁波市\n"
    f"{JIASHAN},,330421,浙江省嘉兴市嘉善县,人民政府,jiashan,浙江省,嘉兴市\n"
    f"{LIANJIANG},,350122,福建省福州市连江县,人民政府,lianjiang,福建省,福州市\n"
    f"{LIANJIANG_FINANCE},县财政局,350122,福建省福州市连江县,部门,lianjiang,福建省,福州市\n"
)


@pytest.fixture
def store(engine: Engine) -> Engine:
    with session(engine) as s:
        import_registry(s, parse_registry_csv(REGISTRY))
    save(engine, report(HRSS, 2020, 7), datetime(2021, 1, 20, tzinfo=CST), "zhenhai")
    save(engine, report(HRSS, 2021, 12, litigation=(1, 2), punishment=19), datetime(2022, 1, 20, tzinfo=CST), "zhenhai")
    save(engine, report(ZHENHAI, 2021, 0, punishment=None), datetime(2022, 4, 5, 10, tzinfo=CST), "zhenhai")  # 5 days late
    save(engine, report(JIASHAN, 2021, 106, punishment=1598, findings=[BALANCE]),
         datetime(2022, 3, 1, tzinfo=CST), "jiashan")
    save(engine, report(LIANJIANG, 2021, 40, punishment=2459), datetime(2022, 2, 1, tzinfo=CST), "lianjiang")
    crawled(engine, ("zhenhai", "jiashan", "lianjiang"))  # after the deadlines: a report not found is missing
    sweep(engine, 2021, today=date(2022, 6, 1), now=datetime(2022, 6, 1, tzinfo=UTC), deadlines=DeadlinesConfig(),
          alert=False)
    return engine


def region(conn, text: str) -> Scope:
    return Scope(find_region(conn, text))


# ---- figures -------------------------------------------------------------------------------


def test_figures_by_chinese_name() -> None:
    assert find_figure("申请").key == "applications.new.total"
    assert find_figure("依申请公开").key == "applications.new.total"
    assert find_figure("行政处罚").key == find_figure("处罚").key == "proactive.punishment.decisions"
    assert find_figure("复议").key == "review_litigation.review.total"
    assert find_figure("诉讼").key == "litigation.total"
    assert find_figure("收费").unit == "万元"
    assert find_figure("自然人申请").key == "applications.new.natural"
    assert find_figure("予以公开数").key == "applications.disclosed.total"
    with pytest.raises(UnknownFigure) as exc:
        find_figure("天气")
    assert "未知的指标" in str(exc.value)


# ---- scope ---------------------------------------------------------------------------------


def test_regions_and_agencies_by_name(store: Engine) -> None:
    with store.connect() as conn:
        assert find_region(conn, "浙江省").code == "330000"
        assert find_region(conn, "宁波").code == "330200"
        assert find_region(conn, "330421").name == "嘉善县"
        with pytest.raises(ScopeError, match="找不到地区"):
            find_region(conn, "火星市")
        assert [a.name for a in find_agencies(conn, HRSS)] == [HRSS]
        assert [a.name for a in find_agencies(conn, "区人力社保局")] == [HRSS]  # an alias
        assert [a.name for a in find_agencies(conn, "镇海区人社局")] == [HRSS]  # an abbreviation
        assert find_agencies(conn, "完全不存在的单位名称") == []
    assert level_of("部门") == "department" and level_of("政府") == "government" and level_of(None) is None
    with pytest.raises(ScopeError):
        level_of("省委")


# ---- rankings and totals -------------------------------------------------------------------


def test_which_agencies_received_applications(store: Engine) -> None:
    with store.connect() as conn:
        t = api.received(conn, 2021)
    assert [(r["agency"], r["value"]) for r in t.dicts()] == [(JIASHAN, 106), (LIANJIANG, 40), (HRSS, 12)]
    assert t.total == 3 and t.reports == 4  # 镇海区人民政府 received none but its report counts
    assert t.basis == "按已收录的 4 份报告统计"


def test_ranking_scoped_sorted_and_paged(store: Engine) -> None:
    with store.connect() as conn:
        zj = api.ranking(conn, "proactive.punishment.decisions", 2021, region(conn, "浙江省"))
        assert [r["agency"] for r in zj.dicts()] == [JIASHAN, HRSS]  # blank (镇海区政府) is left out
        assert zj.reports == 3
        low = api.ranking(conn, "applications.new.total", 2021, ascending=True, limit=2)
        assert [r["value"] for r in low.dicts()] == [0, 12] and low.total == 4
        page2 = api.ranking(conn, "applications.new.total", 2021, limit=2, offset=2)
        assert [r["rank"] for r in page2.dicts()] == [3, 4] and [r["value"] for r in page2.dicts()] == [12, 0]
        departments = api.ranking(conn, "applications.new.total", 2021, Scope(level="department"))
        assert [r["agency"] for r in departments.dicts()] == [HRSS]
        litigation = api.ranking(conn, "litigation.total", 2021, limit=1)
        assert litigation.dicts()[0]["agency"] == HRSS and litigation.dicts()[0]["value"] == 3


def test_totals_by_region_level_and_overall(store: Engine) -> None:
    with store.connect() as conn:
        national = api.totals(conn, "applications.new.total", 2021)
        by_level = api.totals(conn, "applications.new.total", 2021, region(conn, "浙江省"), by="level")
        cities = api.totals(conn, "applications.new.total", 2021, region(conn, "浙江省"))
        county = api.totals(conn, "applications.new.total", 2021, region(conn, "镇海区"))
        one = api.totals(conn, "applications.new.total", 2021, region(conn, "浙江省"), by=None)
    assert [(r["group"], r["reports"], r["total"]) for r in national.dicts()] == [
        ("浙江省", 3, 118), ("福建省", 1, 40), ("合计", 4, 158)]
    assert [(r["group"], r["total"]) for r in by_level.dicts()] == [("人民政府", 106), ("部门", 12), ("合计", 118)]
    assert [(r["group"], r["total"]) for r in cities.dicts()] == [("嘉兴市", 106), ("宁波市", 12), ("合计", 118)]
    assert [r["group"] for r in county.dicts()] == [HRSS, ZHENHAI, "合计"]  # below a county: its agencies
    assert [(r["group"], r["total"]) for r in one.dicts()] == [("浙江省", 118)]
    assert national.reports == 4


# ---- one agency ----------------------------------------------------------------------------


def test_an_agency_across_years(store: Engine) -> None:
    with store.connect() as conn:
        hrss = find_agencies(conn, HRSS)[0]
        t = api.agency_figures(conn, hrss)
        one = api.agency_figures(conn, hrss, [2021], ["applications.new.total", "litigation.total"])
    rows = t.dicts()
    assert [(r["year"], r["applications.new.total"]) for r in rows] == [(2020, 7), (2021, 12)]
    assert rows[1]["published"] == date(2022, 1, 20) and rows[1]["url"].startswith("https://zhenhai.gov.cn/")
    assert one.rows == [(2021, 12, 3, date(2022, 1, 20), 0, rows[1]["url"])]
    side = to_rich_by_column(t, "year")
    assert [c.header for c in side.columns] == ["年度", "2020", "2021"]


# ---- compliance ----------------------------------------------------------------------------


def test_late_missing_and_inconsistent(store: Engine) -> None:
    with store.connect() as conn:
        late = api.findings(conn, 2021, kinds=("late",))
        missing = api.findings(conn, 2021, kinds=("missing",))
        fujian_missing = api.findings(conn, 2021, region(conn, "福建省"), kinds=("missing",))
        zj_missing = api.findings(conn, 2021, region(conn, "浙江省"), kinds=("missing",))
        bad = api.inconsistent_agencies(conn, 2021)
        every = api.findings(conn, 2021, states=(), limit=1)
        hrss_history = api.agency_history(conn, find_agencies(conn, JIASHAN)[0])
    assert [(r["agency"], r["days_late"], r["rule"]) for r in late.dicts()] == [(ZHENHAI, 5, "逾期发布")]
    assert [r["agency"] for r in missing.dicts()] == [LIANJIANG_FINANCE]
    assert fujian_missing.total == 1 and zj_missing.total == 0
    assert [(r["agency"], r["count"], r["example"]) for r in bad.dicts()] == [(JIASHAN, 1, "勾稽关系不平")]
    assert every.total >= 3 and len(every.rows) == 1  # paged
    assert [(r["year"], r["rule"], r["state"]) for r in hrss_history.dicts()] == [(2021, "勾稽关系不平", "待处理")]


# ---- rendering and the command line --------------------------------------------------------


def test_json_and_csv(store: Engine) -> None:
    with store.connect() as conn:
        t = api.received(conn, 2021, limit=2)
    data = json.loads(to_json(t))
    assert data["total"] == 3 and data["reports"] == 4 and len(data["rows"]) == 2
    assert data["rows"][0]["agency"] == JIASHAN and data["columns"][4]["label"] == "本年新收申请（件）"
    rows = list(csv.reader(io.StringIO(to_csv(t))))
    assert rows[0][:2] == ["排名", "单位"] and rows[1][1] == JIASHAN and rows[1][4] == "106"
    assert "共 3 条，显示 2 条" in footer(t) and "按已收录的 4 份报告统计" in footer(t)


def xxgk(*args: str, db: tuple[str, Path]) -> subprocess.CompletedProcess[str]:
    url, cwd = db
    env = {**os.environ, "XXGK_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "xxgk.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_the_command_line(store: Engine, tmp_path: Path) -> None:
    db = (store.url.render_as_string(hide_password=False), tmp_path)
    store.dispose()
    top = xxgk("query", "top", "行政处罚", "--year", "2021", "--json", db=db)
    assert top.returncode == 0, top.stderr
    assert [r["agency"] for r in json.loads(top.stdout)["rows"]] == [LIANJIANG, JIASHAN, HRSS]
    table = xxgk("query", "received", "-y", "2021", "--region", "宁波市", db=db)
    assert table.returncode == 0 and HRSS in table.stdout and JIASHAN not in table.stdout
    assert "按已收录的 2 份报告统计" in table.stdout
    agency = xxgk("query", "agency", "区人力社保局", "--csv", db=db)
    assert agency.returncode == 0 and agency.stdout.splitlines()[0].startswith("年度,本年新收申请（件）")
    late = xxgk("query", "late", "-y", "2021", db=db)
    assert late.returncode == 0 and ZHENHAI in late.stdout
    unknown = xxgk("query", "top", "天气", "-y", "2021", db=db)
    assert unknown.returncode == 2 and "未知的指标" in unknown.stderr
    nowhere = xxgk("query", "received", "-y", "2021", "--region", "火星市", db=db)
    assert nowhere.returncode == 2 and "找不到地区" in nowhere.stderr
    both = xxgk("query", "received", "-y", "2021", "--json", "--csv", db=db)
    assert both.returncode == 2


# ---- answers on report_figure's copies of region and level = answers on the agency table -------

PLACES = {"330211": "浙江省宁波市镇海区", "330206": "浙江省宁波市北仑区", "330421": "浙江省嘉兴市嘉善县",
          "350122": "福建省福州市连江县", "330200": "浙江省宁波市", "330000": "浙江省"}
KINDS = {"部门": ["人力资源和社会保障局", "财政局", "教育局", "民政局"], "人民政府": ["人民政府"],
         "乡镇": ["甲街道办事处", "乙镇人民政府"]}
# Hot figures (their own index), others in several covering indexes, derived ones (a sum of
# figures in one covering index, or in several), blank everywhere (withheld.total), money.
FIGURES = ("applications.new.total", "proactive.punishment.decisions", "applications.disclosed.total",
           "applications.new.natural", "applications.carried_forward.total", "litigation.total",
           "withheld.total", "review_litigation.review.total", "proactive.fees.amount_wan_yuan")


def _registry(moved: bool = False) -> str:
    """A registry over six regions and three levels; `moved`: two agencies in another region and level."""
    lines = ["name,aliases,region_code,region_name,level,site,province_name,city_name"]
    for code, place in PLACES.items():
        for level, kinds in KINDS.items():
            if level == "乡镇" and not code.endswith(("11", "21", "22")):
                continue
            for kind in kinds:
                name, row_code, row_level = f"{place}{kind}", code, level
                if moved and name in (f"{PLACES['330211']}财政局", f"{PLACES['350122']}人民政府"):
                    row_code, row_level = "330421", "乡镇"
                lines.append(f"{name},,{row_code},{PLACES[row_code]},{row_level},site-{row_code},,")
    return "\n".join(lines) + "\n"


@pytest.fixture
def wide(engine: Engine) -> Engine:
    """Reports of 2021 for most agencies of _registry, with varied figures (blanks, ties, zeros), and
    one of an agency the registry does not know (no region, no level)."""
    rng = random.Random(4)
    with session(engine) as s:
        import_registry(s, parse_registry_csv(_registry()))
        names = sorted(s.connection().execute(sa.select(Agency.name)).scalars())
    published = datetime(2022, 1, 20, tzinfo=CST)
    for i, name in enumerate(names):
        if i % 7 == 3:
            continue  # no report
        r = report(name, 2021, rng.choice([0, 0, 3, 12, 12, 40, 106]), litigation=(rng.randint(0, 3), rng.randint(0, 1)),
                   punishment=rng.choice([None, 0, 19, 19, 1598]), review=rng.randint(0, 4))
        r.proactive["fees"]["amount_wan_yuan"] = rng.choice([None, 0.1, 0.2, 1.5, 2.75])
        save(engine, r, published, "somewhere")
    save(engine, report("某县不知名单位", 2021, 7, punishment=3), published, "somewhere")
    return engine


def _reference(conn, figure_key: str, year: int, scope: Scope) -> list[tuple]:
    """(agency id, name, region_code, level, value) of every report of `year` in `scope`, from the
    agency table: what the answers must agree with."""
    a = Agency.__table__
    rows = conn.execute(sa.select(a.c.id, a.c.name, a.c.region_code, a.c.level, figure_expr(figure(figure_key)))
                        .select_from(report_figure.join(a, a.c.id == report_figure.c.agency_id))
                        .where(report_figure.c.year == year)).all()
    prefix = scope.region.prefix if scope.region else None
    return [tuple(r) for r in rows
            if (prefix is None or (r.region_code or "").startswith(prefix)) and (scope.level in (None, r.level))]


def _expected_ranking(rows: list[tuple], *, positive: bool, ascending: bool, limit: int) -> tuple[list, int, int]:
    kept = [r for r in rows if r[4] is not None and (r[4] > 0 or not positive)]
    kept.sort(key=lambda r: (r[4], r[0]) if ascending else (-r[4], -r[0]))
    return [(r[0], r[4]) for r in kept[:limit]], len(kept), len(rows)


def _expected_totals(rows: list[tuple], scope: Scope, by: str | None) -> dict[Any, tuple]:
    length = api._child_prefix_length(scope) if by == "region" else None
    groups: dict[Any, list] = {}
    for agency_id, name, code, level, value in rows:
        key = (name if length is None else (code[:length] if code else None)) if by == "region" else (
            level if by == "level" else "")
        groups.setdefault(key, []).append(value)
    out = {}
    for key, values in groups.items():
        filled = [v for v in values if v is not None]
        out[key] = (len(values), len(filled), sum(filled) if filled else None, max(filled) if filled else None)
    return out


SCOPES = (None, ("level", "department"), ("level", "government"), ("level", "township"), ("region", "330000"),
          ("region", "330200"), ("region", "330211"), ("region", "350000"), ("both", "330000", "department"),
          ("both", "330211", "township"))


def _scope(conn, spec) -> Scope:
    if spec is None:
        return Scope()
    if spec[0] == "level":
        return Scope(level=spec[1])
    ref = RegionRef(spec[1], find_region(conn, spec[1]).name)
    return Scope(ref, spec[2] if spec[0] == "both" else None)


def _check_answers(engine: Engine) -> int:
    checked = 0
    with engine.connect() as conn:
        for spec in SCOPES:
            scope = _scope(conn, spec)
            for key in FIGURES:
                rows = _reference(conn, key, 2021, scope)
                money = figure(key).unit == "万元"
                for positive, ascending in ((False, False), (False, True), (True, False)):
                    t = api.ranking(conn, key, 2021, scope, positive=positive, ascending=ascending, limit=5)
                    page, total, reports = _expected_ranking(rows, positive=positive, ascending=ascending, limit=5)
                    got = [(r["agency_id"], r["value"]) for r in t.dicts()]
                    assert [i for i, _ in got] == [i for i, _ in page], (spec, key, positive, ascending)
                    assert [v for _, v in got] == pytest.approx([v for _, v in page]), (spec, key)
                    assert (t.total, t.reports) == (total, reports), (spec, key, positive, ascending)
                    checked += 1
                for by in ("region", "level", None):
                    t = api.totals(conn, key, 2021, scope, by=by)
                    expected = _expected_totals(rows, scope, by)
                    body = t.rows[:-1] if by is not None else t.rows
                    assert len(body) == len(expected), (spec, key, by)
                    assert t.reports == len(rows)
                    order = lambda t: tuple(-1 if v is None else v for v in t)  # noqa: E731
                    got = sorted(((r[1], r[2], r[3], r[4]) for r in body), key=order)
                    want = sorted(((n, f, None if s is None else (s if money else int(round(s))),
                                    None if m is None else (m if money else int(round(m))))
                                   for n, f, s, m in expected.values()), key=order)
                    assert [g[:2] for g in got] == [w[:2] for w in want], (spec, key, by)
                    assert [v for g in got for v in g[2:]] == pytest.approx([v for w in want for v in w[2:]]), (
                        spec, key, by)
                    checked += 1
            assert api.report_figures(conn, 2021, scope).reports == len(_reference(conn, FIGURES[0], 2021, scope))
    return checked


def test_answers_by_level_and_region_equal_those_on_the_agency_table(wide: Engine) -> None:
    assert _check_answers(wide) == len(SCOPES) * len(FIGURES) * 6
    with wide.connect() as conn:  # not vacuous: every level and the unknown agency are there
        levels = {r[3] for r in _reference(conn, FIGURES[0], 2021, Scope())}
    assert levels == {"department", "government", "township", None}


def test_answers_follow_an_agency_moved_to_another_region_and_level(wide: Engine) -> None:
    with session(wide) as s:
        result = import_registry(s, parse_registry_csv(_registry(moved=True)))
    assert result.updated == 2
    with wide.connect() as conn:
        moved = {r[1] for r in _reference(conn, FIGURES[0], 2021, Scope(RegionRef("330421", "嘉善县"), "township"))}
    assert f"{PLACES['330211']}财政局" in moved or f"{PLACES['350122']}人民政府" in moved
    _check_answers(wide)

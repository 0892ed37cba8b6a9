"""The query layer (query/) and `xxgk query`, on a real SQLite store built through the product's
own paths: the registry import, save_report and the compliance sweep with a frozen date."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from checks.model import CST
from compliance.registry import import_registry, parse_registry_csv
from compliance.sweep import sweep
from db.engine import session
from query import api
from query.api import Scope
from query.fields import UnknownFigure, find_figure
from query.render import footer, to_csv, to_json, to_rich_by_column
from query.scope import ScopeError, find_agencies, find_region, level_of
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


def xxgk(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XXGK_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "xxgk.cli", *args], capture_output=True, text=True, env=env,
                          cwd=db.parent, timeout=120)


def test_the_command_line(store: Engine, tmp_path: Path) -> None:
    db = Path(store.url.database)  # type: ignore[arg-type]
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

"""The question engine (bot.ask) and `xxgk ask`: the parser on many phrasings (pure), the engine
on a real SQLite store built like tests/test_query.py (the registry import, save_report and the
compliance sweep, with a frozen date), the renderers and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection, Engine

from bot.ask import TELEGRAM_LIMIT, Answer, ask, parse, suggest, to_html, to_text
from bot.ask.engine import fit
from bot.ask.numbers import cn_int
from bot.ask.render import range_line

from checks.model import CST
from compliance.registry import import_registry, parse_registry_csv
from compliance.sweep import sweep
from databases import drop_database, new_database_url
from db.engine import make_engine, session, upgrade
from store_builders import BALANCE, crawled, report, save
from xxgk.config import DeadlinesConfig

TODAY = date(2022, 6, 1)  # 今年 2022, 去年 2021, 前年 2020

HRSS = "宁波市镇海区人力资源和社会保障局"
ZHENHAI = "宁波市镇海区人民政府"
JIASHAN = "嘉善县人民政府"
JIASHAN_FINANCE = "嘉善县财政局"
LIANJIANG = "连江县人民政府"
LIANJIANG_FINANCE = "连江县财政局"
LINZI_HRSS = "淄博市临淄区人力资源和社会保障局"
HOSTILE = "嘉善县<b>数据&管理局"

REGISTRY = (
    "name,aliases,region_code,region_name,level,site,province_name,city_name\n"
    f"{HRSS},区人力社保局,330211,浙江省宁波市镇海区,部门,zhenhai,浙江省,宁波市\n"
    f"{ZHENHAI},区政府,330211,浙江省宁波市镇海区,人民政府,zhenhai,浙江省,宁波市\n"
    f"{JIASHAN},,330421,浙江省嘉兴市嘉善县,人民政府,jiashan,浙江省,嘉兴市\n"
    f"{JIASHAN_FINANCE},县财政局,330421,浙江省嘉兴市嘉善县,部门,jiashan,浙江省,嘉兴市\n"
    f"{HOSTILE},,330421,浙江省嘉兴市嘉善县,部门,jiashan,浙江省,嘉兴市\n"
    f"{LIANJIANG},,350122,福建省福州市连江县,人民政府,lianjiang,福建省,福州市\n"
    f"{LIANJIANG_FINANCE},县财政局,350122,福建省福州市连江县,部门,lianjiang,福建省,福州市\n"
    f"{LINZI_HRSS},区人力社保局,370305,山东省淄博市临淄区,部门,linzi,山东省,淄博市\n"
    "北京市朝阳区人民政府,,110105,北京市朝阳区,人民政府,,北京市,\n"
    "长春市朝阳区人民政府,,220104,吉林省长春市朝阳区,人民政府,,吉林省,长春市\n"
)


def build_store(engine: Engine) -> Engine:
    """Ten registered agencies in five provinces (two 朝阳区, two 县财政局, two 区人力社保局); reports on
    2019–2021; 2021 swept on 2022-06-01: 镇海区人民政府 5 days late, 嘉善县财政局 12 days late,
    连江县财政局 missing, 嘉善县人民政府 inconsistent."""
    with session(engine) as s:
        import_registry(s, parse_registry_csv(REGISTRY))
    save(engine, report(HRSS, 2020, 7), datetime(2021, 1, 20, tzinfo=CST), "zhenhai")
    save(engine, report(HRSS, 2021, 12, litigation=(1, 2), punishment=19), datetime(2022, 1, 20, tzinfo=CST),
         "zhenhai")
    save(engine, report(ZHENHAI, 2021, 0, punishment=None), datetime(2022, 4, 5, 10, tzinfo=CST), "zhenhai")
    save(engine, report(JIASHAN, 2021, 106, punishment=1598, review=4, findings=[BALANCE]),
         datetime(2022, 3, 1, tzinfo=CST), "jiashan")
    save(engine, report(JIASHAN_FINANCE, 2021, 8, punishment=3), datetime(2022, 4, 12, tzinfo=CST), "jiashan")
    save(engine, report(HOSTILE, 2021, 2), datetime(2022, 1, 26, tzinfo=CST), "jiashan")
    save(engine, report(LIANJIANG, 2021, 40, punishment=2459), datetime(2022, 2, 1, tzinfo=CST), "lianjiang")
    save(engine, report(LINZI_HRSS, 2019, 3), datetime(2020, 1, 15, tzinfo=CST), "linzi")
    save(engine, report(LINZI_HRSS, 2020, 5), datetime(2021, 1, 15, tzinfo=CST), "linzi")
    save(engine, report(LINZI_HRSS, 2021, 1234, review=2), datetime(2022, 1, 15, tzinfo=CST), "linzi")
    crawled(engine, ("zhenhai", "jiashan", "lianjiang", "linzi"))  # after the deadlines: a report not found is missing
    sweep(engine, 2021, today=TODAY, now=datetime(2022, 6, 1, tzinfo=UTC), deadlines=DeadlinesConfig(),
          alert=False)
    return engine


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One store for the module: the engine only reads."""
    url = new_database_url(tmp_path_factory.mktemp("ask"))
    upgrade(url)
    engine = make_engine(url)
    yield build_store(engine)
    engine.dispose()
    drop_database(url)


@pytest.fixture
def conn(store: Engine) -> Iterator[Connection]:
    with store.connect() as c:
        yield c


def answer(conn: Connection, question: str, *, today: date = TODAY, **kwargs) -> Answer:
    return ask(conn, question, today=today, **kwargs)


# ---- the parser (pure) ----------------------------------------------------------------------------

APPS = "applications.new.total"
PUNISHMENT = "proactive.punishment.decisions"


@pytest.mark.parametrize(("question", "expected"), [
    # The issue's examples.
    ("2021年哪些单位收到了申请", {"kind": "received", "year": 2021, "figure": APPS, "subject": None}),
    ("镇海区人社局2021年收到多少申请", {"kind": "total", "year": 2021, "subject": "镇海区人社局", "figure": APPS}),
    ("去年哪些局逾期发布", {"kind": "late", "relative_year": -1, "year": None, "level": "department"}),
    ("嘉善县2021年行政处罚多少件", {"kind": "total", "year": 2021, "subject": "嘉善县", "figure": PUNISHMENT}),
    ("2021年哪些单位数据不一致", {"kind": "inconsistent", "year": 2021, "level": None, "subject": None}),
    ("2021年申请最多的前10个单位", {"kind": "ranking", "year": 2021, "figure": APPS, "limit": 10, "ascending": False}),
    ("浙江省2021年共收到多少申请", {"kind": "total", "year": 2021, "subject": "浙江省", "figure": APPS}),
    ("临淄区人社局历年申请数", {"kind": "history", "all_years": True, "subject": "临淄区人社局", "figure": APPS}),
    # Years.
    ("2021年度哪些单位收到了申请", {"kind": "received", "year": 2021}),
    ("二〇二一年哪些单位收到了申请", {"kind": "received", "year": 2021}),
    ("二零二一年度哪些单位收到了申请", {"kind": "received", "year": 2021}),
    ("21年度哪些单位收到了申请", {"kind": "received", "year": 2021}),
    ("2021哪些单位收到了申请", {"kind": "received", "year": 2021}),
    ("今年哪些单位收到了申请", {"kind": "received", "relative_year": 0}),
    ("前年哪些单位收到了申请", {"kind": "received", "relative_year": -2}),
    ("哪些单位收到了申请", {"kind": "received", "year": None, "relative_year": None}),
    ("2021年浙江省本年新收申请合计", {"kind": "total", "year": 2021, "figure": APPS, "subject": "浙江省"}),
    ("2021年报", {"kind": "reports", "year": 2021}),
    # Numerals and order.
    ("2021年申请最多的前十个单位", {"kind": "ranking", "limit": 10}),
    ("2021年申请最多的前十名", {"kind": "ranking", "limit": 10}),
    ("2021年申请排名前二十的单位", {"kind": "ranking", "limit": 20}),
    ("2021年十大处罚单位", {"kind": "ranking", "limit": 10, "figure": PUNISHMENT}),
    ("前年申请最少的五个局", {"kind": "ranking", "limit": 5, "ascending": True, "level": "department",
                           "relative_year": -2}),
    ("2021年收费最高的top5", {"kind": "ranking", "limit": 5, "figure": "proactive.fees.amount_wan_yuan"}),
    ("哪个单位2021年行政诉讼最多", {"kind": "ranking", "limit": 1, "figure": "litigation.total"}),
    ("2021年宁波市各部门申请数", {"kind": "ranking", "limit": None, "level": "department", "subject": "宁波市"}),
    # Figures by their Chinese names and synonyms.
    ("2021年浙江省依申请公开数量", {"kind": "total", "figure": APPS}),
    ("2021年浙江省信息公开申请有多少", {"kind": "total", "figure": APPS}),
    ("2021年哪些单位被复议", {"kind": "received", "figure": "review_litigation.review.total"}),
    ("2021年哪些单位有行政复议", {"kind": "received", "figure": "review_litigation.review.total"}),
    ("2021年宁波市诉讼多少件", {"kind": "total", "figure": "litigation.total", "subject": "宁波市"}),
    ("2021年哪些单位被起诉", {"kind": "received", "figure": "litigation.total"}),
    ("2021年浙江许可多少件", {"kind": "total", "figure": "proactive.licensing.decisions", "subject": "浙江"}),
    ("2021年浙江省处罚合计", {"kind": "total", "figure": PUNISHMENT}),
    ("全国2021年收费多少", {"kind": "total", "figure": "proactive.fees.amount_wan_yuan", "subject": None}),
    ("2021年镇海区予以公开多少件", {"kind": "total", "figure": "applications.disclosed.total", "subject": "镇海区"}),
    ("2021年哪些单位有逾期不补正", {"kind": "received", "figure": "applications.other_overdue_correction.total"}),
    ("2021年浙江省依申请公开按层级汇总", {"kind": "total", "by": "level"}),
    # Regions at every level, agencies by alias; a figure word inside a name stays in the name.
    ("2021年宁波市哪些单位收到了申请", {"kind": "received", "subject": "宁波市"}),
    ("2021年宁波市镇海区收到多少申请", {"kind": "total", "subject": "宁波市镇海区"}),
    ("区人力社保局2021年收到多少申请", {"kind": "total", "subject": "区人力社保局"}),
    ("2021年强制隔离戒毒所收到多少申请", {"kind": "total", "subject": "强制隔离戒毒所", "figure": APPS}),
    # Levels.
    ("2021年哪些政府收到了申请", {"kind": "received", "level": "government"}),
    ("2021年哪些部门逾期发布", {"kind": "late", "level": "department"}),
    ("2021年各乡镇申请数", {"kind": "ranking", "level": "township"}),
    ("镇海区人社局收到多少申请", {"kind": "total", "level": None, "subject": "镇海区人社局"}),
    # Compliance.
    ("二〇二一年度宁波市哪些政府未发布年报", {"kind": "missing", "year": 2021, "subject": "宁波市", "level": "government"}),
    ("2021年哪些单位没有发布年度报告", {"kind": "missing"}),
    ("2021年哪些单位超期发布", {"kind": "late"}),
    ("2021年哪些单位勾稽关系不平", {"kind": "inconsistent"}),
    ("宁波市镇海区人民政府2021年逾期了吗", {"kind": "late", "subject": "宁波市镇海区人民政府"}),
    ("镇海区政府2021年是否逾期发布", {"kind": "late", "subject": "镇海区政府"}),
    ("临淄区人社局历年合规情况", {"kind": "findings", "subject": "临淄区人社局"}),
    # Other questions.
    ("2021年哪些单位没有收到申请", {"kind": "received", "negated": True, "figure": APPS}),
    ("2021年收录了多少份报告", {"kind": "reports", "subject": None}),
    ("连江县财政局2021年的数据", {"kind": "overview", "subject": "连江县财政局"}),
    ("镇海区人社局2021年的情况怎么样", {"kind": "overview", "subject": "镇海区人社局"}),
    ("浙江省历年申请数", {"kind": "history", "subject": "浙江省"}),
    ("怎么查年报", {"kind": "unknown", "guess": "reports"}),
    ("处罚的规定是什么", {"kind": "unknown", "figure": PUNISHMENT}),
    ("", {"kind": "unknown"}),
])
def test_parse(question: str, expected: dict) -> None:
    intent = parse(question)
    got = {key: getattr(intent, key) for key in expected}
    assert got == expected, intent


def test_relative_years_follow_today() -> None:
    assert parse("今年哪些单位收到了申请").year_for(TODAY) == 2022
    assert parse("去年哪些局逾期发布").year_for(date(2023, 1, 5)) == 2022
    assert parse("前年哪些单位收到了申请").year_for(TODAY) == 2020
    assert parse("大前年哪些单位收到了申请").year_for(TODAY) == 2019
    assert parse("2019年哪些单位收到了申请").year_for(TODAY) == 2019


def test_chinese_numerals() -> None:
    assert [cn_int(t) for t in ("十", "十二", "二十", "二十五", "两", "一百零五", "10", "二〇二一")] == [
        10, 12, 20, 25, 2, 105, 10, 2021]
    assert cn_int("十个") is None and cn_int("") is None


def test_suggestions_are_close_to_the_question() -> None:
    """Pure: three distinct examples, sharing the figure, the kind or the year asked about."""
    assert len(suggest("你好")) == 3
    punishment = suggest("处罚的规定是什么")
    assert len(set(punishment)) == 3 and all("处罚" in s for s in punishment)
    late = suggest("逾期怎么算")
    assert len(late) == 3 and "逾期" in late[0]
    reports = suggest("怎么查年报")
    assert "报告" in reports[0] or "年报" in reports[0]
    years = suggest("2019年的啥")
    assert any("2019年" in s for s in years)


# ---- the engine, on a real store ------------------------------------------------------------------


def test_the_issue_examples(conn: Connection) -> None:
    received = answer(conn, "2021年哪些单位收到了申请")
    assert received.status == "ok" and received.year == 2021
    assert received.items == [f"1. {LINZI_HRSS}：1,234 件", f"2. {JIASHAN}：106 件", f"3. {LIANJIANG}：40 件",
                              f"4. {HRSS}：12 件", f"5. {JIASHAN_FINANCE}：8 件", f"6. {HOSTILE}：2 件"]
    assert received.summary == ["共 6 个单位收到了申请"] and received.total == 6
    assert received.basis == "按已收录的 7 份报告统计"  # 镇海区人民政府 received none; its report counts

    one = answer(conn, "镇海区人社局2021年收到多少申请")
    assert one.title == f"{HRSS}2021年度本年新收申请：12 件"
    assert one.summary == ["报告发布日期：2022-01-20"] and one.basis == "按已收录的 1 份报告统计"

    late = answer(conn, "去年哪些局逾期发布")  # reports on last year (2021), departments only
    assert late.year == 2021 and late.items == [f"1. {JIASHAN_FINANCE}：逾期 71 天"]

    county = answer(conn, "嘉善县2021年行政处罚多少件")
    assert county.summary == ["嘉善县2021年度行政处罚合计：1,601 件"]
    assert county.items == [f"{JIASHAN}：1,598 件（1 份报告）", f"{JIASHAN_FINANCE}：3 件（1 份报告）",
                            f"{HOSTILE}：0 件（1 份报告）"]
    assert county.basis == "按已收录的 3 份报告统计"

    bad = answer(conn, "2021年哪些单位数据不一致")
    assert bad.items == [f"1. {JIASHAN}：1 个问题，如勾稽关系不平"]

    top = answer(conn, "2021年申请最多的前10个单位")
    assert top.title == "2021年度全部地区本年新收申请最多的前 10 个单位"
    assert top.total == 7 and top.items[0] == f"1. {LINZI_HRSS}：1,234 件"
    assert top.items[-1] == f"7. {ZHENHAI}：0 件"

    province = answer(conn, "浙江省2021年共收到多少申请")
    assert province.summary == ["浙江省2021年度本年新收申请合计：128 件"]
    assert province.items == ["嘉兴市：116 件（3 份报告）", "宁波市：12 件（2 份报告）"]
    assert province.basis == "按已收录的 5 份报告统计"

    history = answer(conn, "临淄区人社局历年申请数")
    assert history.title == f"{LINZI_HRSS}历年本年新收申请"
    assert history.items == ["2021 年度：1,234 件", "2020 年度：5 件", "2019 年度：3 件"]
    assert history.basis == "按已收录的 3 份报告统计"


def test_years(conn: Connection) -> None:
    assert answer(conn, "二〇二一年哪些单位收到了申请").items == answer(conn, "2021年度哪些单位收到了申请").items
    previous = answer(conn, "前年哪些单位收到了申请")
    assert previous.year == 2020
    assert [i.split("：")[0] for i in previous.items] == [f"1. {HRSS}", f"2. {LINZI_HRSS}"]
    this_year = answer(conn, "今年浙江省共收到多少申请")
    assert this_year.status == "no_data" and this_year.title == "没有收录浙江省2022年度的报告。"
    default = answer(conn, "哪些单位收到了申请")  # no year: the latest report year before today's
    assert default.year == 2021 and default.notes == ["未指明年度，按 2021 年度统计"]
    assert answer(conn, "哪些单位收到了申请", today=date(2021, 3, 1)).year == 2020


def test_regions_levels_and_aliases(conn: Connection) -> None:
    city = answer(conn, "2021年宁波市哪些单位收到了申请")
    assert city.items == [f"1. {HRSS}：12 件"] and city.basis == "按已收录的 2 份报告统计"
    short = answer(conn, "2021年浙江收到多少申请")
    assert short.summary == ["浙江省2021年度本年新收申请合计：128 件"]
    district = answer(conn, "2021年宁波市镇海区共收到多少申请")  # below a county: its agencies
    assert district.items == [f"{HRSS}：12 件（1 份报告）", f"{ZHENHAI}：0 件（1 份报告）"]
    governments = answer(conn, "2021年哪些政府收到了申请")
    assert [i.split("：")[0] for i in governments.items] == [f"1. {JIASHAN}", f"2. {LIANJIANG}"]
    assert governments.title == "2021年度全部地区收到申请的人民政府"
    by_level = answer(conn, "2021年浙江省依申请公开按层级汇总")
    assert by_level.items == ["人民政府：106 件（2 份报告）", "部门：22 件（3 份报告）"]
    alias = answer(conn, "宁波市镇海区人民政府2021年收到多少申请")
    assert alias.title == f"{ZHENHAI}2021年度本年新收申请：0 件"
    assert answer(conn, "镇海区政府2021年收到多少申请").title == alias.title  # a short name
    assert answer(conn, "2021年哪个单位行政诉讼最多").items == [f"1. {HRSS}：3 件"]
    assert answer(conn, "2021年收费最多的单位").items[0].endswith("1.5 万元")


def test_other_questions(conn: Connection) -> None:
    none = answer(conn, "2021年哪些单位没有收到申请")
    assert none.items == [f"1. {ZHENHAI}"] and none.summary == ["共 1 个单位本年新收申请为零"]
    missing = answer(conn, "2021年哪些单位未发布年报")
    assert missing.items == [f"1. {LIANJIANG_FINANCE}：未发布年度报告"]
    unpublished = answer(conn, "连江县财政局2021年的数据")
    assert unpublished.status == "no_data" and unpublished.summary == ["2021 年度：未发布年度报告（待处理）"]
    was_late = answer(conn, "镇海区政府2021年是否逾期发布")
    assert was_late.summary == ["共 1 条记录"] and "逾期 5 天" in was_late.items[0]
    on_time = answer(conn, "镇海区人社局2021年逾期了吗")
    assert on_time.summary == ["没有逾期发布的记录"]
    reports = answer(conn, "2021年收录了多少份报告")
    assert reports.summary == ["全部地区2021年度共收录 7 份报告"] and reports.total == 7
    overview = answer(conn, "2021年")
    assert "本年新收申请：1,402 件" in overview.summary and "行政事业性收费：10.5 万元" in overview.summary
    key = answer(conn, "镇海区人社局2021年的情况怎么样")
    assert "行政诉讼：3 件" in key.summary and "待处理问题：0 个" in key.summary
    years = answer(conn, "镇海区人社局")
    assert years.items[0].startswith("2021 年度（2022-01-20 发布）：本年新收申请 12 件")
    compliance = answer(conn, "临淄区人社局历年合规情况")
    assert compliance.status == "ok" and compliance.title == f"{LINZI_HRSS}历年合规问题"


def test_two_agencies_match_ask_back_with_choices(conn: Connection) -> None:
    ambiguous = answer(conn, "县财政局去年收到多少申请")
    assert ambiguous.status == "choose" and ambiguous.title == "「县财政局」对应多个单位，请选择："
    labels = {c.label: c.agency_id for c in ambiguous.choices}
    assert set(labels) == {f"{JIASHAN_FINANCE}（浙江省嘉兴市嘉善县）", f"{LIANJIANG_FINANCE}（福建省福州市连江县）"}
    chosen = answer(conn, "县财政局去年收到多少申请", agency_id=labels[f"{JIASHAN_FINANCE}（浙江省嘉兴市嘉善县）"])
    assert chosen.title == f"{JIASHAN_FINANCE}2021年度本年新收申请：8 件"
    both = answer(conn, "区人力社保局历年申请数")  # an alias registered in two districts
    assert [c.agency_id for c in both.choices] and len(both.choices) == 2
    regions = answer(conn, "朝阳区2021年收到多少申请")
    assert regions.status == "choose" and [(c.label, c.region_code) for c in regions.choices] == [
        ("北京市朝阳区", "110105"), ("吉林省长春市朝阳区", "220104")]
    picked = answer(conn, "朝阳区2021年收到多少申请", region_code="220104")
    assert picked.status == "no_data" and "朝阳区" in picked.title
    assert "1. 北京市朝阳区" in to_html(regions)


def test_not_understood_offers_three_close_examples(conn: Connection) -> None:
    hello = answer(conn, "你好")
    assert hello.status == "not_understood" and hello.title.startswith("抱歉，没有看懂")
    assert len(hello.suggestions) == 3 == len(set(hello.suggestions))
    rules = answer(conn, "处罚的规定是什么")
    assert rules.status == "not_understood" and all("处罚" in s for s in rules.suggestions)
    late = answer(conn, "逾期怎么算")
    assert len(late.suggestions) == 3 and "逾期" in late.suggestions[0]
    agency = answer(conn, "镇海区人社局怎么了")  # the agency it names goes into the examples
    assert len(agency.suggestions) == 3 and agency.suggestions[0].startswith("镇海区人社局")
    nowhere = answer(conn, "火星局2021年收到多少申请")
    assert nowhere.status == "not_found" and nowhere.title == "没有找到「火星局」对应的单位或地区。"
    assert len(nowhere.suggestions) == 3
    for example in [*hello.suggestions, *rules.suggestions, *late.suggestions, *agency.suggestions]:
        assert answer(conn, example).status in ("ok", "no_data"), example  # every example answers


def test_html_escapes_store_and_user_text(conn: Connection) -> None:
    html = to_html(answer(conn, "2021年哪些单位收到了申请"))
    assert "嘉善县&lt;b&gt;数据&amp;管理局：2 件" in html and "<b>数据" not in html
    assert html.startswith("<b>2021年度全部地区收到申请的单位</b>\n")
    assert "<i>按已收录的 7 份报告统计</i>" in html
    user = to_html(answer(conn, "A&B<局2021年收到多少申请"))
    assert "A&amp;B" in user and "A&B" not in user
    assert "嘉善县<b>数据&管理局：2 件" in to_text(answer(conn, "2021年哪些单位收到了申请"))  # plain text as is


def test_paging_reports_totals(conn: Connection) -> None:
    page = answer(conn, "2021年哪些单位收到了申请", offset=2, limit=2)
    assert page.items == [f"3. {LIANJIANG}：40 件", f"4. {HRSS}：12 件"]
    assert (page.total, page.offset, page.next_offset, page.prev_offset) == (6, 2, 4, 0)
    assert range_line(page) == "第 3–4 条，共 6 条" and "第 3–4 条，共 6 条" in to_html(page)
    last = answer(conn, "2021年哪些单位收到了申请", offset=4, limit=2)
    assert len(last.items) == 2 and last.next_offset is None
    top = answer(conn, "2021年申请最多的前5个单位", offset=4, limit=2)  # the top 5, paged by 2
    assert top.total == 5 and top.items == [f"5. {JIASHAN_FINANCE}：8 件"] and top.next_offset is None
    beyond = answer(conn, "2021年申请最多的前3个单位", offset=4, limit=2)
    assert beyond.items == [] and beyond.total == 3
    county = answer(conn, "嘉善县2021年行政处罚多少件", offset=1, limit=1)  # a breakdown held whole, paged
    assert county.items == [f"{JIASHAN_FINANCE}：3 件（1 份报告）"] and county.total == 3
    assert county.summary == ["嘉善县2021年度行政处罚合计：1,601 件"]  # the headline on every page
    single = answer(conn, "镇海区人社局2021年收到多少申请")
    assert not single.paged and range_line(single) is None


def test_pages_fit_a_telegram_message_without_cutting(conn: Connection) -> None:
    """With max_chars, lines that do not fit move to the next page: walking the pages by next_offset
    shows every line exactly once, whole."""
    everything = answer(conn, "2021年哪些单位收到了申请", limit=100).items
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = answer(conn, "2021年哪些单位收到了申请", offset=offset, limit=100, max_chars=260)
        assert len(to_html(page)) <= 260 and page.items
        seen.extend(page.items)
        offset = page.next_offset
    assert seen == everything
    big = Answer("ok", "q", "标题", items=[f"{i}. {'很长的单位名称' * 20}：{i:,} 件" for i in range(300)],
                 total=300, limit=300)
    fitted = fit(big, TELEGRAM_LIMIT)
    assert len(to_html(fitted)) <= TELEGRAM_LIMIT and 0 < len(fitted.items) < 300
    assert all(item.endswith(" 件") for item in fitted.items) and fitted.next_offset == len(fitted.items)


def test_json(conn: Connection) -> None:
    data = answer(conn, "去年哪些局逾期发布").to_dict()
    assert data["year"] == 2021 and data["intent"]["kind"] == "late" and data["intent"]["relative_year"] == -1
    row = data["table"]["rows"][0]
    assert row["agency"] == JIASHAN_FINANCE and row["days_late"] == 71
    json.dumps(data, ensure_ascii=False)


# ---- the command line ------------------------------------------------------------------------------


def xxgk(*args: str, db: tuple[str, Path]) -> subprocess.CompletedProcess[str]:
    url, cwd = db
    env = {**os.environ, "XXGK_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "xxgk.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_the_command_line(store: Engine, tmp_path: Path) -> None:
    db = (store.url.render_as_string(hide_password=False), tmp_path)
    store.dispose()
    out = xxgk("ask", "去年哪些单位收到了申请", "--today", "2022-06-01", db=db)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "2021年度全部地区收到申请的单位"
    assert f"1. {LINZI_HRSS}：1,234 件" in out.stdout and "按已收录的 7 份报告统计" in out.stdout
    data = xxgk("ask", "临淄区人社局历年申请数", "--json", db=db)
    assert data.returncode == 0 and json.loads(data.stdout)["items"][0] == "2021 年度：1,234 件"
    paged = xxgk("ask", "2021年哪些单位收到了申请", "--page", "2", "--json", db=db)
    assert json.loads(paged.stdout)["offset"] == 10 and json.loads(paged.stdout)["total"] == 6
    choose = xxgk("ask", "县财政局2021年收到多少申请", db=db)
    assert choose.returncode == 3 and "--agency" in choose.stdout and JIASHAN_FINANCE in choose.stdout
    agency_id = next(line.rsplit("编号 ", 1)[1]
                     for line in choose.stdout.splitlines() if JIASHAN_FINANCE in line)
    chosen = xxgk("ask", "县财政局2021年收到多少申请", "--agency", agency_id, db=db)
    assert chosen.returncode == 0 and f"{JIASHAN_FINANCE}2021年度本年新收申请：8 件" in chosen.stdout
    unknown = xxgk("ask", "你好", db=db)
    assert unknown.returncode == 1 and unknown.stdout.count("\n· ") == 3
    bad_day = xxgk("ask", "今年哪些单位收到了申请", "--today", "2022-13-01", db=db)
    assert bad_day.returncode == 2 and "YYYY-MM-DD" in bad_day.stderr
    help_text = xxgk("ask", "--help", db=db)
    assert help_text.returncode == 0 and "用中文提问" in help_text.stdout

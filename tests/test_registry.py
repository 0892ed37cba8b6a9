"""The agency registry (compliance/registry.py) and `xxgk agencies`: CSV parsing, import, matching,
assignment, on real SQLite files."""

from __future__ import annotations

import hashlib
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from compliance.registry import (
    AgencyMatcher,
    Match,
    RegisteredAgency,
    RegistryError,
    agency_key,
    assign,
    import_registry,
    list_agencies,
    load_registry,
    parse_registry_csv,
    split_region_name,
    unmatched,
)
from db import models as m
from db.models import report_figure
from db.engine import make_engine, session

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "xxgk" / "demo" / "agencies.csv"
HEADER = "name,aliases,region_code,region_name,level,site,province_name,city_name\n"
ZHENHAI_HRSS = "宁波市镇海区人力资源和社会保障局"




def csv_text(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


ROWS = csv_text(
    f"{ZHENHAI_HRSS},区人力社保局｜镇海区人社局;区人社局,330211,浙江省宁波市镇海区,部门,zhenhai-jcms,,",
    "宁波市镇海区人民政府,区政府；镇海区政府,330211,浙江省宁波市镇海区,人民政府,zhenhai-jcms,,",
    "宁波市镇海区招宝山街道办事处,招宝山街道|招宝山,330211,镇海区,街道,,浙江省,宁波市",
    "连江县人民政府,,350122,福建省福州市连江县,government,lianjiang-trs,,",
)


# ---- CSV --------------------------------------------------------------------------------------


def test_parse_rows_levels_aliases_and_regions():
    rows = parse_registry_csv(ROWS)
    assert [r.name for r in rows] == [ZHENHAI_HRSS, "宁波市镇海区人民政府", "宁波市镇海区招宝山街道办事处", "连江县人民政府"]
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert [r.level for r in rows] == ["department", "government", "township", "government"]
    # Three separators; 区人社局 is the same name as 区人力社保局 once abbreviations are expanded.
    assert rows[0].aliases == ("区人力社保局", "镇海区人社局")
    assert rows[1].aliases == ("区政府", "镇海区政府")
    assert rows[2].aliases == ("招宝山街道", "招宝山")
    assert rows[0].site == "zhenhai-jcms" and rows[2].site is None
    assert (rows[2].province_name, rows[2].city_name) == ("浙江省", "宁波市")


def test_parse_chinese_headers_bom_and_tabs():
    text = "\ufeff名称\t别名\t地区代码\t地区名称\t级别\n嘉善县财政局\t县财政局\t330421\t浙江省嘉兴市嘉善县\t部门\n"
    [row] = parse_registry_csv(text)
    assert (row.name, row.aliases, row.region_code, row.level) == (
        "嘉善县财政局", ("县财政局",), "330421", "department")
    assert row.line == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_files_in_utf8_bom_and_gbk_read_the_same(tmp_path, encoding):
    path = tmp_path / "agencies.csv"
    path.write_bytes(ROWS.encode(encoding))
    assert load_registry(path) == parse_registry_csv(ROWS)


def test_bad_rows_are_all_reported_with_line_numbers():
    text = csv_text(
        f"{ZHENHAI_HRSS},,330211,浙江省宁波市镇海区,部门,,,",  # line 2: fine
        "宁波市镇海区教育局,,330211,浙江省宁波市镇海区,局,,,",  # 3: bad level
        ",,330211,,部门,,,",  # 4: no name
        "宁波市镇海区财政局,,33021,,部门,,,",  # 5: bad code
        "",  # 6: blank, skipped
        f"{ZHENHAI_HRSS},,330211,浙江省宁波市镇海区,部门,,,",  # 7: duplicate of line 2
        "宁波市镇海区民政局,,3.30211E+05,,部门,,,",  # 8: Excel turned the code into a number
        "宁波市镇海区司法局,,330211,浙江省宁波市海镇区,部门,,,",  # 9: another name for 330211
    )
    with pytest.raises(RegistryError) as exc:
        parse_registry_csv(text)
    problems = exc.value.problems
    assert problems[0] == "第 3 行：级别“局”无法识别（应为 部门/政府/乡镇 或 department/government/township）"
    assert problems[1] == "第 4 行：缺少单位名称"
    assert problems[2].startswith("第 5 行：地区代码“33021”无效")
    assert problems[3] == f"第 7 行：单位“{ZHENHAI_HRSS}”与第 2 行重复"
    assert problems[4].startswith("第 8 行：") and "文本" in problems[4]
    assert problems[5] == "第 9 行：地区 330211 的名称“海镇区”与第 2 行的“镇海区”不一致"
    assert len(problems) == 6


def test_missing_columns_and_empty_files():
    with pytest.raises(RegistryError, match=r"第 1 行：表头缺少必需的列：region_code（地区代码）、level（级别）"):
        parse_registry_csv("name,aliases\n某局,\n")
    with pytest.raises(RegistryError, match="文件为空"):
        parse_registry_csv("\ufeff\n")
    with pytest.raises(RegistryError, match="没有任何单位"):
        parse_registry_csv(HEADER)
    with pytest.raises(RegistryError, match="文件不存在"):
        load_registry(Path("/nonexistent/agencies.csv"))


def test_region_paths_are_split_into_their_levels():
    assert split_region_name("330211", "浙江省宁波市镇海区") == {"330211": "镇海区", "330200": "宁波市", "330000": "浙江省"}
    assert split_region_name("330281", "浙江省余姚市") == {"330281": "余姚市", "330000": "浙江省"}  # county-level city
    assert split_region_name("110101", "北京市东城区") == {"110101": "东城区", "110000": "北京市"}
    assert split_region_name("370103", "山东省济南市市中区")["370103"] == "市中区"
    assert split_region_name("330211", "镇海区") == {"330211": "镇海区"}


def test_agency_key_expands_abbreviations_and_drops_noise():
    assert agency_key("区人力社保局") == agency_key("区人社局") == "区人力资源和社会保障局"
    assert agency_key("宁波市镇海区 人力资源社会保障局") == "宁波市镇海区人力资源和社会保障局"
    assert agency_key("镇海区发改局") == "镇海区发展和改革局"
    assert agency_key("区住建局") == "区住房和城乡建设局"
    assert agency_key("区市监局") == agency_key("区市场监管局") == "区市场监督管理局"
    assert agency_key("区卫健局") == "区卫生健康局"
    assert agency_key("自然资源和规划局") == agency_key("自规局")
    assert agency_key("中华人民共和国宁波海关") == "宁波海关"
    assert agency_key("（宁波市）镇海区人民政府") == "宁波市镇海区人民政府"
    assert agency_key("区政府") == "区人民政府" and agency_key("区人民政府") == "区人民政府"
    assert agency_key("宁波市监狱") == "宁波市监狱"  # 市监 only abbreviates before 局/所


# ---- import -----------------------------------------------------------------------------------


def table_rows(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t: sorted(tuple(r) for r in conn.execute(sa.text(f"select * from {t}")))
                for t in ("agency", "agency_alias", "region")}


def test_import_is_idempotent_and_fills_regions_with_parents(engine):
    rows = parse_registry_csv(ROWS)
    with session(engine) as s:
        first = import_registry(s, rows)
    assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
    assert first.aliases_added == 6
    before = table_rows(engine)
    with session(engine) as s:
        second = import_registry(s, rows)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 4)
    assert (second.aliases_added, second.regions_written) == (0, 0)
    assert table_rows(engine) == before

    with session(engine) as s:
        regions = {r.code: (r.name, r.parent_code, r.level) for r in s.exec(sa.select(m.Region)).scalars()}
        agency = s.exec(sa.select(m.Agency).where(m.Agency.name == ZHENHAI_HRSS)).scalar_one()
        aliases = s.exec(sa.select(m.AgencyAlias).where(m.AgencyAlias.agency_id == agency.id)).scalars().all()
    assert regions["330211"] == ("镇海区", "330200", "county")
    assert regions["330200"] == ("宁波市", "330000", "city")
    assert regions["330000"] == ("浙江省", None, "province")
    assert regions["350122"] == ("连江县", "350100", "county")
    assert regions["350100"] == ("福州市", "350000", "city")
    assert (agency.registered, agency.level, agency.site, agency.region_code, agency.region_name) == (
        True, "department", "zhenhai-jcms", "330211", "浙江省宁波市镇海区")
    assert {(a.alias, a.key) for a in aliases} == {("区人力社保局", "区人力资源和社会保障局"),
                                                   ("镇海区人社局", "镇海区人力资源和社会保障局")}


def test_parent_names_unknown_then_named_later(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(csv_text("嘉善县财政局,,330421,嘉善县,部门,,,")))
    with session(engine) as s:
        assert s.get(m.Region, "330400").name == "330400"  # no name known yet: stored under its code
        assert s.get(m.Region, "330421").name == "嘉善县"
    with session(engine) as s:
        result = import_registry(s, parse_registry_csv(csv_text("嘉善县财政局,,330421,嘉善县,部门,,浙江省,嘉兴市")))
    assert result.regions_written == 2 and (result.created, result.updated) == (0, 1)
    with session(engine) as s:
        assert s.get(m.Region, "330400").name == "嘉兴市"
        assert s.get(m.Region, "330000").name == "浙江省"
        assert s.exec(sa.select(m.Agency.region_name)).scalar_one() == "浙江省嘉兴市嘉善县"
    with session(engine) as s:  # a file that knows less does not forget the names
        result = import_registry(s, parse_registry_csv(csv_text("嘉善县财政局,,330421,嘉善县,部门,,,")))
        assert result.regions_written == 0 and s.get(m.Region, "330400").name == "嘉兴市"


def add_report(s, agency_id: int, year: int, *, site: str = "zhenhai-jcms", url: str | None = None) -> int:
    now = datetime(2024, 2, 1, tzinfo=UTC)
    url = url or f"https://example.gov.cn/{agency_id}/{year}.html"
    doc = m.Document(url=url, content_hash=hashlib.sha256(url.encode()).hexdigest(), size=1, format="html",
                     fetched_at=now, agency_id=agency_id, site=site)
    s.add(doc)
    s.flush()
    report = m.Report(agency_id=agency_id, year=year, template="2021", document_id=doc.id, sections=[],
                      data={}, created_at=now, updated_at=now)
    s.add(report)
    s.flush()
    # As db.store.save_report writes it: with the agency's region and level (revision 0009).
    a = m.Agency.__table__
    s.connection().execute(sa.insert(report_figure).from_select(
        ["report_id", "agency_id", "year", "region_code", "level"],
        sa.select(sa.literal(report.id), a.c.id, sa.literal(year), a.c.region_code, a.c.level)
        .where(a.c.id == agency_id)))
    return report.id


def add_agency(s, name: str, *, registered: bool = False, region_code: str | None = None) -> int:
    agency = m.Agency(name=name, registered=registered, region_code=region_code)
    s.add(agency)
    s.flush()
    return agency.id


def test_import_registers_an_agency_the_crawler_created(engine):
    with session(engine) as s:
        crawled = add_agency(s, ZHENHAI_HRSS)
        add_report(s, crawled, 2021)
    with session(engine) as s:
        result = import_registry(s, parse_registry_csv(ROWS))
    assert result.registered == (ZHENHAI_HRSS,)
    assert (result.created, result.updated) == (3, 1)
    with session(engine) as s:
        agency = s.get(m.Agency, crawled)
        assert agency.registered and agency.region_code == "330211"
        reports = sa.select(sa.func.count()).select_from(m.Report).where(m.Report.agency_id == crawled)
        assert s.exec(reports).scalar() == 1
        assert s.exec(sa.select(sa.func.count()).select_from(m.Agency)).scalar() == 4


def test_import_updates_changed_fields(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
    changed = ROWS.replace("连江县人民政府,,350122,福建省福州市连江县,government,lianjiang-trs",
                           "连江县人民政府,县政府,350122,福建省福州市连江县,government,lianjiang-new")
    with session(engine) as s:
        result = import_registry(s, parse_registry_csv(changed))
    assert (result.created, result.updated, result.unchanged, result.aliases_added) == (0, 1, 3, 1)
    with session(engine) as s:
        site = s.exec(sa.select(m.Agency.site).where(m.Agency.name == "连江县人民政府")).scalar_one()
        assert site == "lianjiang-new"


# ---- matching ---------------------------------------------------------------------------------

ZJ = "浙江省宁波市"
REGISTRY = [
    RegisteredAgency(1, ZHENHAI_HRSS, "330211", ZJ + "镇海区", ("区人力社保局",)),
    RegisteredAgency(2, "宁波市镇海区机关事务管理局", "330211", ZJ + "镇海区", ("区机关事务局", "机关事务中心")),
    RegisteredAgency(3, "宁波市镇海区人民政府", "330211", ZJ + "镇海区"),
    RegisteredAgency(4, "宁波市镇海区发展和改革局", "330211", ZJ + "镇海区"),
    RegisteredAgency(5, "宁波市镇海区市场监督管理局", "330211", ZJ + "镇海区"),
    RegisteredAgency(6, "宁波市镇海区招宝山街道办事处", "330211", ZJ + "镇海区"),
    RegisteredAgency(7, "宁波市北仑区人力资源和社会保障局", "330206", ZJ + "北仑区"),
    RegisteredAgency(8, "宁波市人力资源和社会保障局", "330200", ZJ),
    RegisteredAgency(9, "福州市鼓楼区教育局", "350102", "福建省福州市鼓楼区"),
    RegisteredAgency(10, "南京市鼓楼区教育局", "320106", "江苏省南京市鼓楼区"),
    RegisteredAgency(11, "宁波市江北区财政局", "330205", ZJ + "江北区", ("区财政局",)),
    RegisteredAgency(12, "宁波市江北区民政局", "330205", ZJ + "江北区", ("区财政局",)),  # a careless alias
    RegisteredAgency(13, "国家统计局", None, None),
    RegisteredAgency(14, "区档案馆", "330211", ZJ + "镇海区"),  # a registered name without its places
]


@pytest.fixture(scope="module")
def matcher() -> AgencyMatcher:
    return AgencyMatcher(REGISTRY)


def found(matcher: AgencyMatcher, name: str, region: str | None) -> tuple[int | None, str | None]:
    got = matcher.match(name, region)
    return (got.agency_id, got.by) if got else (None, None)


@pytest.mark.parametrize("name", [ZHENHAI_HRSS, f" {ZHENHAI_HRSS} ", "宁波市镇海区 人力资源社会保障局",
                                  "（宁波市）镇海区人力资源和社会保障局"])
@pytest.mark.parametrize("region", ["330211", None, "350102"])
def test_exact_names_match_anywhere(matcher, name, region):
    assert found(matcher, name, region) == (1, "exact")
    assert matcher.match(name, region).score == 100.0


def test_exact_name_without_a_region(matcher):
    assert found(matcher, "国家统计局", None) == (13, "exact")
    assert found(matcher, "中华人民共和国国家统计局", "330211") == (13, "exact")


@pytest.mark.parametrize(("name", "region", "expected"), [
    ("区人力社保局", "330211", (1, "alias")),
    ("区机关事务局", "330211", (2, "alias")),
    ("机关事务中心", "330211", (2, "alias")),
    ("区人社局", "330211", (1, "alias")),  # same alias once 人社 is expanded
    ("镇海区人社局", None, (1, "exact")),  # names its district: found without the site's region
    ("镇海区人力资源和社会保障局", "330211", (1, "exact")),
    ("区发改局", "330211", (4, "exact")),
    ("区市场监管局", "330211", (5, "exact")),
    ("市场监管局", "330211", (5, "exact")),
    ("区政府", "330211", (3, "exact")),
    ("镇海区政府", None, (3, "exact")),
    ("招宝山街道", "330211", (6, "exact")),
    ("市人社局", "330211", (8, "exact")),  # 市 on a district's site: its city
    ("宁波市人社局", "330211", (8, "exact")),
    ("区人力社保局", "330206", (7, "exact")),  # 北仑's site: 北仑's bureau, though only 镇海 has the alias
    ("区档案馆", "330211", (14, "exact")),
    ("宁波市镇海区档案馆", None, (14, "exact")),
])
def test_aliases_abbreviations_and_places(matcher, name, region, expected):
    assert found(matcher, name, region) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("宁波市镇海区机关事物管理局", 2),  # a typo
    ("宁波市镇海区人力资源和社会保", 1),  # cut off
    ("镇海区机关事务管理", 2),
])
def test_fuzzy(matcher, name, expected):
    got = matcher.match(name, "330211")
    assert got is not None and got.agency_id == expected and got.by == "fuzzy"
    assert 85 <= got.score < 100


def test_matcher_pickles_for_worker_processes(matcher):
    copy = pickle.loads(pickle.dumps(matcher))
    assert copy.match("区人力社保局", "330211") == matcher.match("区人力社保局", "330211") == Match(1, "alias", 100.0)


def test_region_breaks_ties_and_ambiguity_is_reported(matcher):
    assert found(matcher, "鼓楼区教育局", "350102") == (9, "exact")
    assert found(matcher, "鼓楼区教育局", "320106") == (10, "exact")
    assert found(matcher, "福州市鼓楼区教育局", None) == (9, "exact")
    tie = matcher.match("鼓楼区教育局", None)
    assert tie is not None and tie.agency_id is None and tie.ambiguous == (9, 10) and not tie.ok
    careless = matcher.match("区财政局", "330205")
    assert careless is not None and careless.agency_id is None and careless.ambiguous == (11, 12)
    # On the city's site 「区人社局」 could be any district's bureau.
    city = matcher.match("区人社局", "330200")
    assert city is not None and city.agency_id is None and city.ambiguous == (1, 7)


@pytest.mark.parametrize(("name", "region"), [
    ("区人力社保局", "330212"),  # another district of 宁波 has no such bureau registered
    ("区人力社保局", "350102"),
    ("区人力社保局", None),
    ("区机关事务局", "330206"),
    ("机关事务中心", "330206"),  # an alias without a place or level word: still only in its region
    ("机关事务中心", "330200"),  # ...which is not its city's
    ("机关事务中心", None),
    ("北仑区机关事务局", "330211"),  # names another district: not 镇海's
    ("北仑区人力资源和社会保障局", "330211"),  # ...nor its fuzzy look-alike
    ("宁波市镇海区图书馆", "330211"),
    ("区档案馆", "330206"),  # registered under that very name, but in 镇海
    ("区档案馆", None),
    ("宁波市镇海区财政局", "330211"),  # 江北 has one; 镇海 has none
    ("某某科技有限公司", "330211"),
    ("", "330211"),
    ("政府信息公开工作年度报告", None),
])
def test_no_match(matcher, name, region):
    assert matcher.match(name, region) is None


def test_matcher_from_the_database(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        add_agency(s, "宁波市镇海区教育局")  # unregistered: never a match
        matcher = AgencyMatcher.from_session(s)
        hrss = s.exec(sa.select(m.Agency.id).where(m.Agency.name == ZHENHAI_HRSS)).scalar_one()
    assert len(matcher) == 4
    got = matcher.match("区人社局", "330211")
    assert got is not None and got.agency_id == hrss and matcher.name(hrss) == ZHENHAI_HRSS
    assert matcher.match("宁波市镇海区教育局", "330211") is None
    assert matcher.match("招宝山", "330211").agency_id is not None  # an alias only the file gives


# ---- assign and unmatched --------------------------------------------------------------------


def test_assign_moves_reports_and_documents_and_creates_the_alias(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        target = s.exec(sa.select(m.Agency.id).where(m.Agency.name == ZHENHAI_HRSS)).scalar_one()
        stray = add_agency(s, "镇海区人力社保")
        add_report(s, stray, 2021)
        add_report(s, stray, 2022, site="other-site")
        extra_doc = m.Document(url="https://example.gov.cn/attachment.pdf", content_hash="0" * 64, size=1,
                               format="pdf", fetched_at=datetime(2024, 1, 1, tzinfo=UTC), agency_id=stray)
        s.add(extra_doc)
    with session(engine) as s:
        listed = unmatched(s, AgencyMatcher.from_session(s))
    assert [(u.name, u.reports, u.years, u.sites) for u in listed] == [
        ("镇海区人力社保", 2, (2021, 2022), ("other-site", "zhenhai-jcms"))]
    assert listed[0].suggestion == ZHENHAI_HRSS

    with session(engine) as s:
        result = assign(s, "镇海区人力社保", ZHENHAI_HRSS)
    assert (result.reports_moved, result.documents_moved, result.kept_years) == (2, 3, ())
    assert result.alias_added and result.deleted and result.registered_id == target
    with session(engine) as s:
        assert s.get(m.Agency, stray) is None
        years = s.exec(sa.select(m.Report.year).where(m.Report.agency_id == target)).scalars().all()
        assert sorted(years) == [2021, 2022]
        assert s.exec(sa.select(sa.func.count()).select_from(m.Document)
                      .where(m.Document.agency_id == target)).scalar() == 3
        assert unmatched(s) == []
        # The next crawl finds the name by its new alias.
        assert AgencyMatcher.from_session(s).match("镇海区人力社保", None).agency_id == target


def test_assign_keeps_a_year_the_registered_agency_already_has(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        target = s.exec(sa.select(m.Agency.id).where(m.Agency.name == ZHENHAI_HRSS)).scalar_one()
        add_report(s, target, 2021)
        stray = add_agency(s, "镇海区劳动和社会保障局")
        kept_report = add_report(s, stray, 2021, url="https://example.gov.cn/old/2021.html")
        add_report(s, stray, 2020)
    with session(engine) as s:
        result = assign(s, stray, target)
    assert (result.reports_moved, result.documents_moved, result.kept_years) == (1, 1, (2021,))
    assert not result.deleted and result.alias_added
    with session(engine) as s:
        assert s.get(m.Report, kept_report).agency_id == stray
        years = s.exec(sa.select(m.Report.year).where(m.Report.agency_id == target)).scalars()
        assert sorted(years) == [2020, 2021]
        assert [u.years for u in unmatched(s)] == [(2021,)]
        with pytest.raises(RegistryError, match="找不到已登记的单位“不存在的单位”"):
            assign(s, stray, "不存在的单位")


def test_assign_refuses_wrong_agencies(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        add_agency(s, "某未登记单位")
        add_agency(s, "另一个未登记单位")
    with session(engine) as s:
        with pytest.raises(RegistryError, match="找不到未匹配的单位“不存在”"):
            assign(s, "不存在", ZHENHAI_HRSS)
        with pytest.raises(RegistryError, match="是名录中已登记的单位"):
            assign(s, "连江县人民政府", ZHENHAI_HRSS)
        with pytest.raises(RegistryError, match="尚未登记"):
            assign(s, "某未登记单位", "另一个未登记单位")
        with pytest.raises(RegistryError, match="找不到已登记的单位"):
            assign(s, "某未登记单位", "宁波市镇海区教育局")
        # A registered name written with its abbreviation is found by its normalised form...
        assert assign(s, "某未登记单位", "宁波市镇海区人社局").registered == ZHENHAI_HRSS
        # ...and by one of its aliases.
        assert assign(s, "另一个未登记单位", "区人力社保局").registered == ZHENHAI_HRSS


def test_unmatched_suggestions_use_the_region_of_the_site(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        portal_find = add_agency(s, "区人力资源和社会保障局劳动监察大队")  # no region: found on a portal
        add_report(s, portal_find, 2022, site="zhenhai-jcms")
        elsewhere = add_agency(s, "区人力资源和社会保障局劳动监察大队（连江）")
        add_report(s, elsewhere, 2022, site="lianjiang-trs")
        matcher = AgencyMatcher.from_session(s)
        listed = {u.name: u.suggestion for u in unmatched(s, matcher)}
    assert listed == {"区人力资源和社会保障局劳动监察大队": ZHENHAI_HRSS,
                      "区人力资源和社会保障局劳动监察大队（连江）": None}
    # The crawler's own matching is stricter than the suggestions: no match at the default cutoff.
    assert matcher.match("区人力资源和社会保障局劳动监察大队", "330211") is None


# ---- the sample registry ---------------------------------------------------------------------


def test_sample_registry_covers_the_demo_sites(engine):
    from xxgk.demo import default_sites

    rows = load_registry(SAMPLE)
    with session(engine) as s:
        import_registry(s, rows)
        matcher = AgencyMatcher.from_session(s)
    published = set()
    for site in default_sites():
        for truth in site.reports:
            got = matcher.match(truth.agency, site.region_code)
            assert got is not None and got.ok and matcher.name(got.agency_id) == truth.agency, truth.agency
            published.add(truth.agency)
            registered = next(r for r in rows if r.name == truth.agency)
            assert registered.site == site.name and registered.region_code == site.region_code
    silent = [r.name for r in rows if r.name not in published]
    assert len(silent) >= 2  # registered agencies that publish nothing: the deadline sweep's "missing"
    # The aliases reports use resolve on their site.
    assert matcher.name(matcher.match("区人力社保局", "330211").agency_id) == ZHENHAI_HRSS
    assert matcher.name(matcher.match("县人社局", "330421").agency_id) == "嘉善县人力资源和社会保障局"


# ---- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, db_url, monkeypatch):
    from xxgk.cli import app

    monkeypatch.delenv("XXGK_CONFIG", raising=False)
    monkeypatch.delenv("XXGK_DATABASE_URL", raising=False)
    config = tmp_path / "xxgk.toml"
    config.write_text(f'database_url = "{db_url}"\n', encoding="utf-8")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["agencies", *args, "--config", str(config)])

    return run


def count(db_url: str, table: str) -> int:
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            return conn.execute(sa.text(f"select count(*) from {table}")).scalar()
    finally:
        eng.dispose()


def test_cli_import_twice_and_list(cli, db_url):
    first = cli("import", str(SAMPLE))
    assert first.exit_code == 0, first.output
    assert "新增 13 个" in first.stdout and "未变 0 个" in first.stdout
    second = cli("import", str(SAMPLE))
    assert second.exit_code == 0 and "新增 0 个，更新 0 个，未变 13 个" in second.stdout
    assert count(db_url, "agency") == 13

    listed = cli("list", "--region", "330211", "--level", "部门")
    assert listed.exit_code == 0, listed.output
    assert ZHENHAI_HRSS in listed.stdout and "区人力社保局" in listed.stdout and "zhenhai-jcms" in listed.stdout
    assert "嘉善县" not in listed.stdout and "宁波市镇海区人民政府" not in listed.stdout
    assert "共 4 个单位" in listed.stdout
    assert "共 13 个单位" in cli("list").stdout
    page = cli("list", "--limit", "5", "--offset", "10")
    assert page.exit_code == 0 and "共 13 个单位，显示第 11–13 个" in page.stdout
    with session(make_engine(db_url)) as s:
        everything = list_agencies(s)
        assert list_agencies(s, limit=5, offset=10) == everything[10:15] and len(everything) == 13
        assert [a.name for a in list_agencies(s, limit=3)] == [a.name for a in everything[:3]]
    assert "--offset 20 之后没有了" in cli("list", "--offset", "20").stdout
    assert "没有符合条件的未登记的单位" in cli("list", "--unregistered").stdout

    bad = cli("list", "--level", "局")
    assert bad.exit_code == 2 and "级别“局”无法识别" in bad.stderr
    assert cli("list", "--region", "33x").exit_code == 2


def test_cli_import_bad_file_writes_nothing(cli, db_url, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_text(
        f"{ZHENHAI_HRSS},,330211,浙江省宁波市镇海区,部门,,,",
        "宁波市镇海区教育局,,330211,,局,,,",
        "宁波市镇海区财政局,,33021,,部门,,,",
    ).encode("gbk"))
    result = cli("import", str(path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"错误：{path}：第 3 行：级别“局”无法识别（应为 部门/政府/乡镇 或 department/government/township）"
    assert lines[1].startswith(f"错误：{path}：第 4 行：地区代码“33021”无效")
    assert "未写入任何数据" in lines[-1]
    assert "Traceback" not in result.output
    assert not (tmp_path / "xxgk.db").exists() or count(db_url, "agency") == 0
    missing = cli("import", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2 and "文件不存在" in missing.stderr


def test_cli_unmatched_and_assign(cli, engine, db_url):
    assert cli("import", str(SAMPLE)).exit_code == 0
    with session(engine) as s:
        stray = add_agency(s, "镇海区住建局（本级）", region_code="330211")
        add_report(s, stray, 2023)
    listed = cli("unmatched")
    assert listed.exit_code == 0, listed.output
    assert "镇海区住建局（本级）" in listed.stdout and "zhenhai-jcms" in listed.stdout
    assert "宁波市镇海区住房和城乡建设局" in listed.stdout  # the suggestion

    bad = cli("assign", "镇海区住建局（本级）", "宁波市镇海区规划局")
    assert bad.exit_code == 2 and "找不到已登记的单位" in bad.stderr
    done = cli("assign", "镇海区住建局（本级）", "宁波市镇海区住房和城乡建设局")
    assert done.exit_code == 0, done.output
    assert "转移报告 1 份" in done.stdout and "别名" in done.stdout and "已删除" in done.stdout
    assert "没有未匹配的单位" in cli("unmatched").stdout
    listed = cli("list", "--region", "330211")
    assert "镇海区住建局（本级）" in listed.stdout  # now among the aliases
    with session(engine) as s:
        rows = list_agencies(s, region="330211", level="department")
        housing = next(a for a in rows if a.name == "宁波市镇海区住房和城乡建设局")
        assert housing.reports == 1 and "镇海区住建局（本级）" in housing.aliases
        moved = s.connection().execute(sa.select(report_figure.c.agency_id)).scalars().all()
        assert housing.id in moved  # the report's figures moved with it


# ---- report_figure's copies of its agency's region and level (revision 0009) --------------------


def figure_scopes(s) -> dict[int, tuple[int, str | None, str | None]]:
    """report_id → (agency_id, region_code, level) as report_figure holds them."""
    f = report_figure
    return {r.report_id: (r.agency_id, r.region_code, r.level)
            for r in s.connection().execute(sa.select(f.c.report_id, f.c.agency_id, f.c.region_code, f.c.level))}


def out_of_sync(s) -> list[tuple]:
    """report_figure rows whose region or level differ from their agency's (none, always)."""
    f, a = report_figure, m.Agency.__table__
    stmt = (sa.select(f.c.report_id, f.c.region_code, f.c.level, a.c.region_code, a.c.level)
            .join(a, a.c.id == f.c.agency_id)
            .where(sa.or_(f.c.region_code.is_distinct_from(a.c.region_code), f.c.level.is_distinct_from(a.c.level))))
    return list(s.connection().execute(stmt))


def test_report_figure_follows_the_registry_import(engine):
    with session(engine) as s:
        crawled = add_agency(s, ZHENHAI_HRSS)  # found by the crawler first: no region, no level
        first, second = add_report(s, crawled, 2021), add_report(s, crawled, 2022)
        assert figure_scopes(s) == {first: (crawled, None, None), second: (crawled, None, None)}
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))  # registered: its region and level are known
        assert figure_scopes(s) == {first: (crawled, "330211", "department"),
                                    second: (crawled, "330211", "department")}
    moved = ROWS.replace(f"{ZHENHAI_HRSS},区人力社保局｜镇海区人社局;区人社局,330211,浙江省宁波市镇海区,部门",
                         f"{ZHENHAI_HRSS},区人力社保局｜镇海区人社局;区人社局,330206,浙江省宁波市北仑区,人民政府")
    with session(engine) as s:
        result = import_registry(s, parse_registry_csv(moved))  # another region and level: the rows follow
        assert result.updated == 1
        assert figure_scopes(s) == {first: (crawled, "330206", "government"),
                                    second: (crawled, "330206", "government")}
        assert out_of_sync(s) == []


def test_assign_gives_the_moved_figures_the_registered_agencys_region_and_level(engine):
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        target = s.exec(sa.select(m.Agency.id).where(m.Agency.name == ZHENHAI_HRSS)).scalar_one()
        stray = add_agency(s, "镇海区劳动和社会保障局", region_code="350122")  # the region of the site it was on
        kept = add_report(s, stray, 2021)
        add_report(s, target, 2021)
        moved = add_report(s, stray, 2020)
        assert figure_scopes(s)[moved] == (stray, "350122", None)
    with session(engine) as s:
        assign(s, stray, target)
        scopes = figure_scopes(s)
        assert scopes[moved] == (target, "330211", "department")
        assert scopes[kept] == (stray, "350122", None)  # a year the registered agency has stays behind
        assert out_of_sync(s) == []


def test_any_write_keeps_report_figure_in_step_with_its_agency(engine):
    """The database keeps the copies (triggers), whoever writes: the crawler describing an agency,
    a hand-written UPDATE of an agency, a row moved to another agency by hand."""
    from db import crawlstate

    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        ids = dict(s.connection().execute(sa.select(m.Agency.name, m.Agency.id)).all())
        hrss, lianjiang = ids[ZHENHAI_HRSS], ids["连江县人民政府"]
        crawled = add_agency(s, "某县某局")
        r1, r2, r3 = add_report(s, hrss, 2021), add_report(s, lianjiang, 2021), add_report(s, crawled, 2021)
        assert figure_scopes(s)[r3] == (crawled, None, None)
    with session(engine) as s:
        crawlstate.describe_agency(s, crawled, region_code="330421", region_name="嘉善县", level="department")
        assert figure_scopes(s)[r3] == (crawled, "330421", "department")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE agency SET level = 'township', region_code = '330211001' WHERE id = :i"),
                     {"i": hrss})
        conn.execute(sa.text("UPDATE report_figure SET agency_id = :a WHERE report_id = :r"),
                     {"a": lianjiang, "r": r3})
    with session(engine) as s:
        scopes = figure_scopes(s)
        assert scopes[r1] == (hrss, "330211001", "township")
        assert scopes[r2] == scopes[r3] == (lianjiang, "350122", "government")
        assert out_of_sync(s) == []


def test_out_of_sync_would_be_seen(engine):
    """The checks above are not vacuous: without the agency's trigger, its rows keep the old level."""
    with session(engine) as s:
        import_registry(s, parse_registry_csv(ROWS))
        hrss = s.exec(sa.select(m.Agency.id).where(m.Agency.name == ZHENHAI_HRSS)).scalar_one()
        report_id = add_report(s, hrss, 2021)
        conn = s.connection()
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("DROP TRIGGER tr_agency_scope_update ON agency"))
        else:
            conn.execute(sa.text("DROP TRIGGER tr_agency_scope_update"))
        conn.execute(sa.text("UPDATE agency SET level = 'government' WHERE id = :i"), {"i": hrss})
        assert [tuple(r) for r in out_of_sync(s)] == [(report_id, "330211", "department", "330211", "government")]

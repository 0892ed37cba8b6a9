"""The bot's charts (bot/chart.py): PNGs of rankings, totals and figures across years, drawn from
a real SQLite store built through the product's own paths (registry import, save_report), with
the CJK font installed on the machine (.ci/run installs fonts-wqy-microhei when none is)."""

from __future__ import annotations

import hashlib
import io
import struct
import sys
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from matplotlib import font_manager
from PIL import Image
from sqlalchemy.engine import Engine

from bot import chart
from bot.chart import (
    BAR_SIZE,
    LINE_SIZE,
    MAX_BARS,
    ChartError,
    FontMissing,
    NoData,
    bar_chart,
    chart_for,
    chart_table,
    find_cjk_font,
    line_chart,
    shorten_names,
)
from checks import model as cm
from checks.model import CST
from compliance.registry import import_registry, parse_registry_csv
from db.engine import session
from db.store import save_report
from query import api
from query.api import Column, Scope, Table
from query.fields import UnknownFigure
from query.scope import find_agencies, find_region

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HRSS = "宁波市镇海区人力资源和社会保障局"
ZHENHAI = "宁波市镇海区人民政府"
JIASHAN = "嘉善县人民政府"
LIANJIANG = "连江县人民政府"
# 20 more 镇海区 departments: more agencies than bars.
DEPARTMENTS = [f"宁波市镇海区第{n}号测试局" for n in range(1, 21)]

REGISTRY = (
    "name,aliases,region_code,region_name,level,site,province_name,city_name\n"
    f"{HRSS},区人力社保局,330211,浙江省宁波市镇海区,部门,zhenhai,浙江省,宁波市\n"
    f"{ZHENHAI},区政府,330211,浙江省宁波市镇海区,人民政府,zhenhai,浙江省,宁波市\n"
    f"{JIASHAN},,330421,浙江省嘉兴市嘉善县,人民政府,jiashan,浙江省,嘉兴市\n"
    f"{LIANJIANG},,350122,福建省福州市连江县,人民政府,lianjiang,福建省,福州市\n"
    + "".join(f"{name},,330211,浙江省宁波市镇海区,部门,zhenhai,浙江省,宁波市\n" for name in DEPARTMENTS)
)


def report(agency: str, year: int, new: int | None, *, punishment: int | None = 0) -> cm.Report:
    apps = {"new": {"natural": new, "total": new}, "carried_over": {"total": 0},
            "disclosed": {"total": new}, "handled_total": {"total": new}, "carried_forward": {"total": 0}}
    return cm.Report(source=f"{agency}{year}", agency=agency, year=year, template="2021",
                     sections=["一", "二", "三", "四", "五", "六"],
                     proactive={"punishment": {"decisions": punishment}, "fees": {"amount_wan_yuan": 1.5}},
                     applications=apps, review_litigation={}, findings=[],
                     title=f"{agency}{year}年政府信息公开工作年度报告", format="html")


def save(engine: Engine, r: cm.Report, site: str) -> None:
    url = f"https://{site}.gov.cn/art/{r.year}/{hashlib.md5(r.source.encode()).hexdigest()[:8]}.html"
    published = datetime(r.year + 1, 1, 20, tzinfo=CST)
    with session(engine) as s:
        save_report(s, r, url=url, content_hash=hashlib.sha256(url.encode()).hexdigest(), size=100,
                    fetched_at=published, published_at=published, site=site, published_source="发布日期")


@pytest.fixture
def store(engine: Engine) -> Engine:
    with session(engine) as s:
        import_registry(s, parse_registry_csv(REGISTRY))
    # 人社局 across years; 2020 left the figure blank (a gap in the line).
    for year, new in ((2018, 3), (2019, 1250), (2020, None), (2021, 12345), (2022, 7)):
        save(engine, report(HRSS, year, new, punishment=19), "zhenhai")
    save(engine, report(ZHENHAI, 2021, 0, punishment=None), "zhenhai")
    save(engine, report(JIASHAN, 2021, 106, punishment=1598), "jiashan")
    save(engine, report(LIANJIANG, 2021, 40, punishment=2459), "lianjiang")
    for n, name in enumerate(DEPARTMENTS, 1):
        save(engine, report(name, 2021, n * 3), "zhenhai")
    return engine


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_png(data: bytes, size: tuple[int, int]) -> None:
    assert data.startswith(PNG_SIGNATURE)
    assert png_size(data) == size
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.size == size
    colours = image.convert("L").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 10, "a blank image"


def missing_glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


# ---- the font --------------------------------------------------------------------------------


def test_the_chart_font_is_a_real_cjk_font_without_fallback() -> None:
    font = find_cjk_font()
    # matplotlib resolves the family to that very file without falling back to its default font …
    resolved = font_manager.findfont(font_manager.FontProperties(family=font.family), fallback_to_default=False)
    assert str(resolved) == font.path
    assert Path(font.path).is_file()
    assert "DejaVu" not in font.family
    # … and the file has a glyph for every character of a chart's Chinese text.
    charmap = font_manager.get_font(font.path).get_charmap()
    text = "2021年度浙江省本年新收申请最多的单位（前 15 名，共 25 个）按已收录的 1,234 份报告统计人社局镇海区"
    assert [c for c in text if ord(c) not in charmap] == []


def test_drawing_chinese_text_falls_back_to_no_other_font(store: Engine) -> None:
    with store.connect() as conn, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart_for(conn, "applications.new.total", 2021, kind="agencies")
        chart_for(conn, "applications.new.total", kind="years", agency=find_agencies(conn, HRSS)[0])
    assert missing_glyph_warnings(caught) == []
    # The check works: the same text in a Latin-only font reports the missing glyphs.
    from matplotlib.figure import Figure

    fig = Figure()
    fig.text(0.1, 0.5, "政府信息公开", fontproperties=font_manager.FontProperties(family="DejaVu Sans"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    assert missing_glyph_warnings(caught)


def test_no_cjk_font_is_a_clear_error_naming_the_debian_packages(monkeypatch, tmp_path) -> None:
    latin = [e for e in font_manager.fontManager.ttflist if not chart._FONT_NAME.search(e.name)
             and not chart._FONT_FILE.search(Path(e.fname).name)]
    find_cjk_font.cache_clear()
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin)
    font_manager.fontManager._findfont_cached.cache_clear()
    try:
        with pytest.raises(FontMissing) as exc:
            find_cjk_font(search_dirs=(str(tmp_path),))
        assert "fonts-noto-cjk" in str(exc.value) and "fonts-wqy-microhei" in str(exc.value)
        assert "中文字体" in str(exc.value)
        # A font installed after matplotlib built its font list is found in the font directories.
        installed = find_cjk_font()  # not cached: the call above raised
        assert installed.path and chart._covers(installed.path)
    finally:
        monkeypatch.undo()
        font_manager.fontManager._findfont_cached.cache_clear()
        find_cjk_font.cache_clear()


# ---- bar charts ----------------------------------------------------------------------------------


def test_ranking_bar_chart_shows_the_top_n_and_says_so(store: Engine) -> None:
    with store.connect() as conn:
        c = chart_for(conn, "applications.new.total", 2021, Scope(find_region(conn, "浙江省")), "agencies", top=10)
    assert_png(c.png, BAR_SIZE)
    assert len(c.labels) == 10
    assert c.title == "2021年度浙江省本年新收申请最多的单位（前 10 名，共 23 个）"
    # Largest first; the region prefix every name shares is gone only when all share it.
    assert c.labels[0] == HRSS  # 12,345; 16 characters fit
    assert c.labels[1] == "嘉善县人民政府"
    assert c.caption == c.title + "\n按已收录的 23 份报告统计"
    assert c.table.total == 23  # 镇海区政府 (0) counts: ranking keeps zeros, not blanks


def test_bar_count_is_capped_and_a_short_list_is_not_called_a_top_n(store: Engine) -> None:
    with store.connect() as conn:
        everyone = chart_for(conn, "applications.new.total", 2021, kind="agencies", top=500)
        few = chart_for(conn, "proactive.punishment.decisions", 2021, Scope(find_region(conn, "福建省")))
    assert len(everyone.labels) == 24 <= MAX_BARS and "前" not in everyone.title
    assert few.labels == ("连江县人民政府",) and few.title == "2021年度福建省行政处罚最多的单位"
    many = Table("很多单位", (Column("agency", "单位"), Column("value", "本年新收申请（件）", "int")),
                 [(f"单位{i}", 1000 - i) for i in range(50)], 50, reports=50)
    drawn = chart._bar(many, label_key=None, value_key=None, top=100, title=None, size=BAR_SIZE, font=None)
    assert len(drawn.labels) == MAX_BARS and drawn.title == f"很多单位（前 {MAX_BARS} 名，共 50 个）"
    assert_png(drawn.png, BAR_SIZE)


def test_totals_by_region_leave_out_the_total_row_and_use_region_names(store: Engine) -> None:
    with store.connect() as conn:
        provinces = chart_for(conn, "applications.new.total", 2021, kind="regions")
        cities = chart_for(conn, "applications.new.total", 2021, Scope(find_region(conn, "浙江省")), "regions")
        levels = chart_for(conn, "applications.new.total", 2021, kind="levels")
    assert provinces.labels == ("浙江省", "福建省")
    assert "合计" not in provinces.labels and provinces.table.rows[-1][0] == "合计"
    assert cities.labels == ("宁波市", "嘉兴市")
    assert set(levels.labels) == {"部门", "人民政府"}
    for c in (provinces, cities, levels):
        assert_png(c.png, BAR_SIZE)


def test_custom_size_is_exact_and_output_is_deterministic(store: Engine) -> None:
    with store.connect() as conn:
        table = api.ranking(conn, "applications.new.total", 2021, limit=15)
    small = bar_chart(table, size=(640, 480))
    assert_png(small, (640, 480))
    assert bar_chart(table, size=(640, 480)) == small


def test_fees_in_wan_yuan_and_thousands_separators(store: Engine) -> None:
    t = Table("收费", (Column("group", "地区"), Column("reports", "报告数", "int"),
                       Column("total", "行政事业性收费合计（万元）", "number")),
              [("甲市", 3, 1234567.25), ("乙市", 2, 0.5), ("合计", 5, 1234567.75)], 3, reports=5)
    assert_png(bar_chart(t), BAR_SIZE)
    assert chart._number(1234567.25, "number") == "1,234,567.25"
    assert chart._number(12345.0, "int") == "12,345"


def test_empty_answers_are_a_clear_error(store: Engine) -> None:
    with store.connect() as conn:
        with pytest.raises(NoData) as exc:
            chart_for(conn, "applications.new.total", 2015, kind="agencies")
        assert "没有可作图的数据" in str(exc.value) and "按已收录的 0 份报告统计" in str(exc.value)
        with pytest.raises(NoData):
            chart_for(conn, "applications.new.total", 2015, kind="regions")
        with pytest.raises(NoData):  # every value blank
            chart_for(conn, "proactive.punishment.decisions", 2021, Scope(find_region(conn, "330211"), "government"))
        with pytest.raises(UnknownFigure):
            chart_for(conn, "天气", 2021)
        with pytest.raises(ChartError):
            chart_for(conn, "申请", 2021, kind="pie")  # type: ignore[arg-type]
    assert chart_table(Table("空", (Column("agency", "单位"), Column("value", "数", "int")), [], 0, reports=0)) is None
    assert chart_table(Table("问题", (Column("id", "编号", "id"), Column("message", "说明")), [(1, "x")], 1)) is None


# ---- line charts ---------------------------------------------------------------------------------


def test_an_agency_figure_across_years(store: Engine) -> None:
    with store.connect() as conn:
        hrss = find_agencies(conn, HRSS)[0]
        c = chart_for(conn, "申请", kind="years", agency=hrss)  # a name supervisors use
        upto = chart_for(conn, "applications.new.total", 2020, kind="years", agency=hrss)
        table = api.agency_figures(conn, hrss)
    assert_png(c.png, LINE_SIZE)
    assert c.labels == ("2018", "2019", "2020", "2021", "2022")
    assert c.title == f"{HRSS}历年本年新收申请"
    assert c.caption.endswith("按已收录的 5 份报告统计")
    assert [r[1] for r in c.table.rows] == [3, 1250, None, 12345, 7]  # 2020 blank: a gap
    assert upto.labels == ("2018", "2019", "2020")
    # The bot can draw the table of an answer it already has.
    assert_png(chart_table(table), LINE_SIZE)


def test_a_region_total_across_years(store: Engine) -> None:
    with store.connect() as conn:
        c = chart_for(conn, "applications.new.total", kind="years", scope=Scope(find_region(conn, "镇海区")))
        only = chart_for(conn, "applications.new.total", kind="years", scope=Scope(find_region(conn, "嘉善县")))
    assert_png(c.png, LINE_SIZE)
    assert c.labels == ("2018", "2019", "2020", "2021", "2022")
    totals = {r[0]: r[1] for r in c.table.rows}
    assert totals[2021] == 12345 + 0 + sum(n * 3 for n in range(1, 21)) and totals[2020] is None
    assert c.title == "镇海区本年新收申请历年合计"
    assert c.caption.endswith(f"按已收录的 {5 + 1 + 20} 份报告统计")
    assert only.labels == ("2021",)
    assert_png(only.png, LINE_SIZE)


def test_line_chart_with_only_blank_years_is_no_data() -> None:
    t = Table("某局历年", (Column("year", "年度", "id"), Column("applications.new.total", "申请（件）", "int")),
              [(2020, None), (2021, None)], 2, reports=2)
    with pytest.raises(NoData):
        line_chart(t)


# ---- names -------------------------------------------------------------------------------------


def test_long_agency_names_are_shortened_sensibly() -> None:
    assert shorten_names(["宁波市镇海区人力资源和社会保障局", "宁波市镇海区人民政府"]) == ["人力资源和社会保障局", "人民政府"]
    assert shorten_names(["宁波市镇海区人力资源和社会保障局", "嘉善县人民政府"]) == [
        "宁波市镇海区人力资源和社会保障局", "嘉善县人民政府"]  # fits: kept whole
    assert shorten_names(["宁波市镇海区人力资源和社会保障局劳动监察大队", "嘉善县人民政府"]) == [
        "宁波市镇海区人社局劳动监察大队", "嘉善县人民政府"]
    long = "浙江省宁波市镇海区招宝山街道某某社区居民委员会综合服务中心办公室"
    (label,) = shorten_names([long])
    assert chart._width(label) <= chart.MAX_LABEL_WIDTH and "…" in label
    assert label.startswith("浙江省宁波") and label.endswith("办公室")
    # Labels stay distinct.
    twins = ["某某市某某区发展和改革委员会第一分局办公室", "某某市某某区发展和改革委员会第二分局办公室", "甲县政府"]
    labels = shorten_names(twins)
    assert len(set(labels)) == 3
    assert shorten_names(["短名"]) == ["短名"]


def test_pyplot_is_never_imported() -> None:
    import subprocess

    code = ("import sys, bot.chart as c; from query.api import Table, Column;"
            "t = Table('t', (Column('agency', '单位'), Column('value', '件', 'int')), [('甲', 1)], 1, reports=1);"
            "c.bar_chart(t); print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "False"


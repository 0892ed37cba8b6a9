"""`xxgk export`: the supervisor's workbook, built from a small store filled through the real code
paths (registry import, save_report, the compliance sweep with a frozen date, a supervisor's
decisions), written, reopened with openpyxl and read back cell by cell."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from checks import model as cm
from checks.model import CST
from compliance.lifecycle import set_state
from compliance.registry import import_registry, parse_registry_csv
from compliance.sweep import sweep
from db.engine import session
from db.models import CrawlRun, TrackedFinding
from db.store import save_report
from query import export as export_module
from query.api import ALL, Scope, findings, report_figures
from query.export import (
    SHEET_FINDINGS,
    SHEET_NOTES,
    SHEET_OVERDUE,
    SHEET_REPORTS,
    ExportError,
    text_width,
    write_workbook,
)
from query.scope import find_region
from xxgk.config import DeadlinesConfig

SHEETS = [SHEET_NOTES, SHEET_REPORTS, SHEET_FINDINGS, SHEET_OVERDUE]
NOW = datetime(2022, 4, 15, 10, 0, tzinfo=UTC)  # 18:00 in Beijing

REGISTRY = """name,aliases,region_code,region_name,level,site,province_name,city_name
宁波市镇海区人力资源和社会保障局,区人社局,330211,浙江省宁波市镇海区,部门,zhenhai,浙江省,宁波市
宁波市镇海区教育局,,330211,浙江省宁波市镇海区,部门,zhenhai,浙江省,宁波市
宁波市镇海区人民政府,区政府,330211,浙江省宁波市镇海区,政府,zhenhai,浙江省,宁波市
宁波市镇海区招宝山街道办事处,,330211001,浙江省宁波市镇海区招宝山街道,乡镇,zhenhai,浙江省,宁波市
宁波市鄞州区财政局,,330212,浙江省宁波市鄞州区,部门,yinzhou,浙江省,宁波市
宁波市鄞州区审计局,,330212,浙江省宁波市鄞州区,部门,yinzhou,浙江省,宁波市
杭州市西湖区民政局,,330106,浙江省杭州市西湖区,部门,xihu,浙江省,杭州市
连江县发展和改革局,,350122,福建省福州市连江县,部门,lianjiang,福建省,福州市
"""
HRSS = "宁波市镇海区人力资源和社会保障局"
EDU = "宁波市镇海区教育局"
GOV = "宁波市镇海区人民政府"
STREET = "宁波市镇海区招宝山街道办事处"
FINANCE = "宁波市鄞州区财政局"
AUDIT = "宁波市鄞州区审计局"
XIHU = "杭州市西湖区民政局"
LIANJIANG = "连江县发展和改革局"
ODD = "=1+1测试局\x07"  # reads like a formula and holds a control character: must stay text
NINGBO = {HRSS, EDU, GOV, STREET, FINANCE}  # the reports stored in 宁波市


def applications(new: int, carried_over: int, withheld: int, forward: int) -> cm.TableData:
    handled = new + carried_over - forward
    return {
        "new": {"natural": new, "total": new},
        "carried_over": {"natural": carried_over, "total": carried_over},
        "disclosed": {"natural": handled - withheld, "total": handled - withheld},
        "withheld_third_party": {"natural": withheld, "total": withheld},
        "handled_total": {"natural": handled, "total": handled},
        "carried_forward": {"natural": forward, "total": forward},
    }


def report(agency: str, *, new: int = 3, fees: float | None = None, findings: list[cm.Finding] | None = None,
           litigation: tuple[int, int] = (0, 0)) -> cm.Report:
    return cm.Report(
        source=f"{agency}.html", agency=agency, year=2021, template="2021", sections=list("一二三四五六"),
        proactive={"licensing": {"decisions": 1234}, "punishment": {"decisions": 19},
                   "fees": {"amount_wan_yuan": fees}},
        applications=applications(new, 2, 1, 1),
        review_litigation={"review": {"total": 2}, "litigation_direct": {"total": litigation[0]},
                           "litigation_after_review": {"total": litigation[1]}},
        findings=findings or [], title=f"{agency}2021年政府信息公开工作年度报告", format="html",
    )


def save(s: Any, rep: cm.Report, published: date) -> None:
    url = f"https://www.example.gov.cn/xxgk/{hashlib.sha256(rep.agency.encode()).hexdigest()[:8]}.html"
    published_at = datetime(published.year, published.month, published.day, 9, tzinfo=CST)
    save_report(s, rep, url=url, content_hash=hashlib.sha256(url.encode()).hexdigest(), size=1000,
                fetched_at=NOW, published_at=published_at, site="test", published_source="page")


@pytest.fixture
def store(engine: Engine) -> Engine:
    """Eight registered agencies (five in 宁波市) and one report of an unregistered agency; two
    sweeps (10 and 15 April 2022) and a supervisor's decisions."""
    cfg = DeadlinesConfig()
    with session(engine) as s:
        import_registry(s, parse_registry_csv(REGISTRY))
    with session(engine) as s:
        save(s, report(HRSS, new=12, fees=5.28, litigation=(1, 0), findings=[
            cm.Finding("balance", "error", "勾稽关系不平", "三、总计列", section="三")]), date(2022, 1, 28))
        save(s, report(EDU, new=1500), date(2022, 2, 14))  # 14 days late (departments: 31 January)
        save(s, report(GOV), date(2022, 3, 20))
        save(s, report(FINANCE, findings=[cm.Finding("stale_text", "warning", "沿用往年文字", "五", section="五")]),
             date(2022, 1, 5))
        save(s, report(XIHU), date(2022, 1, 10))
        save(s, report(LIANJIANG), date(2022, 2, 1))  # a day late
        save(s, report(ODD), date(2022, 1, 3))
        for site, status in (("zhenhai", "ok"), ("yinzhou", "failed"), ("xihu", "ok"), ("lianjiang", "ok")):
            when = datetime(2022, 4, 5, tzinfo=CST)
            s.add(CrawlRun(site=site, started_at=when, finished_at=when, status=status,
                           errors=["无法连接服务器"] if status == "failed" else []))
    sweep(engine, 2021, today=date(2022, 4, 10), now=NOW, deadlines=cfg, alert=False)
    # The street office publishes after all: its missing report resolves, a late one opens.
    with session(engine) as s:
        save(s, report(STREET, new=7), date(2022, 4, 12))
    sweep(engine, 2021, today=date(2022, 4, 15), now=NOW, deadlines=cfg, alert=False)
    with session(engine) as s:
        by_rule = {(f.agency_id, f.rule): f.id for f in s.exec(select(TrackedFinding)).all()}
        ids = {name: i for name, i in _agency_ids(s).items()}
        set_state(s, by_rule[(ids[LIANJIANG], "late")], "acknowledged", actor="张三", reason="已督促", now=NOW)
        set_state(s, by_rule[(ids[FINANCE], "stale_text")], "false_positive", actor="张三", reason="文字确已更新",
                  now=NOW)
    return engine


def _agency_ids(s: Any) -> dict[str, int]:
    from db.models import Agency

    return {a.name: a.id for a in s.exec(select(Agency)).all()}


def export(engine: Engine, path: Path, scope: Scope = ALL, year: int = 2021) -> Any:
    with engine.connect() as conn:
        return write_workbook(conn, year, scope, path, now=NOW)


def region(engine: Engine, text: str) -> Scope:
    with engine.connect() as conn:
        return Scope(find_region(conn, text))


def rows_of(ws: Any) -> list[dict[str, Any]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


def column_of(ws: Any, label: str) -> str:
    return next(c.column_letter for c in ws[1] if c.value == label)


def day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else value


# ---- the whole workbook ------------------------------------------------------------------------


def test_workbook_layout_and_values(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "宁波.xlsx"
    summary = export(store, path, region(store, "宁波市"))
    assert summary.path == path and summary.reports == 5 and summary.scope == "宁波市"
    assert summary.sheets == {SHEET_REPORTS: 5, SHEET_FINDINGS: 6, SHEET_OVERDUE: 3}
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS

    ws = wb[SHEET_REPORTS]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["单位", "地区", "地区代码", "层级", "本年新收申请（件）"]
    assert "行政事业性收费（万元）" in header and header[-4:] == ["发布日期", "模板", "待处理问题", "报告链接"]
    with store.connect() as conn:
        assert header == [c.label for c in report_figures(conn, 2021, region(store, "宁波市")).columns]
    rows = {r["单位"]: r for r in rows_of(ws)}
    assert set(rows) == NINGBO and ws.max_row == 6
    hrss = rows[HRSS]
    assert (hrss["地区"], hrss["地区代码"], hrss["层级"]) == ("浙江省宁波市镇海区", "330211", "部门")
    assert (hrss["本年新收申请（件）"], hrss["上年结转申请（件）"], hrss["不予公开（件）"]) == (12, 2, 1)
    assert (hrss["办理结果总计（件）"], hrss["结转下年度（件）"], hrss["行政诉讼（件）"]) == (13, 1, 1)
    assert (hrss["行政许可（件）"], hrss["行政事业性收费（万元）"]) == (1234, 5.28)
    assert day(hrss["发布日期"]) == date(2022, 1, 28) and hrss["模板"] == "2021"
    assert rows[EDU]["本年新收申请（件）"] == 1500 and rows[GOV]["行政事业性收费（万元）"] is None
    # Open findings per report: the balance error, the late reports; the false positive does not count.
    assert {name: r["待处理问题"] for name, r in rows.items()} == {HRSS: 1, EDU: 1, GOV: 0, FINANCE: 0, STREET: 1}
    # Ordered by region code, then name.
    assert [r["单位"] for r in rows_of(ws)] == [HRSS, GOV, EDU, STREET, FINANCE]  # 人力 < 人民 < 教育

    # Number and date formats, hyperlinks.
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == HRSS)
    cells = {header[i]: c for i, c in enumerate(row)}
    assert cells["本年新收申请（件）"].number_format == "#,##0"
    assert cells["行政事业性收费（万元）"].number_format == "#,##0.00"
    assert cells["发布日期"].is_date and cells["发布日期"].number_format == "yyyy-mm-dd"
    assert cells["地区代码"].data_type == "s"  # a code, not a number: leading digits kept
    link = cells["报告链接"]
    assert link.hyperlink is not None and link.hyperlink.target == link.value
    assert link.value.startswith("https://www.example.gov.cn/xxgk/")
    assert ws[1][0].font.b and ws[1][0].alignment.wrap_text

    # The CJK-wide agency names fit their column.
    assert ws.column_dimensions["A"].width >= text_width(HRSS) >= 2 * len(HRSS)


def test_findings_sheets(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "宁波.xlsx"
    export(store, path, region(store, "宁波市"))
    wb = openpyxl.load_workbook(path)

    ws = wb[SHEET_FINDINGS]
    assert [c.value for c in ws[1]] == ["编号", "单位", "地区", "层级", "年度", "问题", "程度", "状态", "逾期天数",
                                        "说明", "发现日期", "解决日期"]
    got = {(r["单位"], r["问题"], r["程度"], r["状态"]) for r in rows_of(ws)}
    assert got == {
        (HRSS, "勾稽关系不平", "错误", "待处理"),
        (EDU, "逾期发布", "错误", "待处理"),
        (STREET, "未发布年度报告", "错误", "已解决"),
        (STREET, "逾期发布", "错误", "待处理"),
        (FINANCE, "沿用往年文字", "警告", "误报"),
        (AUDIT, "站点无法访问", "警告", "待处理"),
    }
    late = {r["单位"]: r for r in rows_of(ws) if r["问题"] == "逾期发布"}
    assert (late[EDU]["逾期天数"], late[STREET]["逾期天数"]) == (14, 12)
    resolved = next(r for r in rows_of(ws) if r["状态"] == "已解决")
    assert day(resolved["解决日期"]) == date(2022, 4, 15) and day(resolved["发现日期"]) == date(2022, 4, 15)
    assert all(r["年度"] == 2021 for r in rows_of(ws))

    ws = wb[SHEET_OVERDUE]
    header = [c.value for c in ws[1]]
    assert header == ["编号", "单位", "地区", "层级", "问题", "程度", "状态", "法定期限", "发布日期", "逾期天数", "说明",
                      "发现日期", "站点", "报告链接"]
    rows = rows_of(ws)
    # Open and acknowledged only (the street office's resolved missing report is not here); missing first.
    assert [(r["单位"], r["问题"], r["状态"]) for r in rows] == [
        (AUDIT, "站点无法访问", "待处理"), (EDU, "逾期发布", "待处理"), (STREET, "逾期发布", "待处理")]
    edu = rows[1]
    assert (day(edu["法定期限"]), day(edu["发布日期"]), edu["逾期天数"]) == (date(2022, 1, 31), date(2022, 2, 14), 14)
    assert edu["报告链接"].startswith("https://") and rows[0]["站点"] == "yinzhou" and rows[0]["逾期天数"] is None
    assert day(rows[2]["法定期限"]) == date(2022, 3, 31)
    edu_cells = ws[3]
    assert edu_cells[header.index("法定期限")].number_format == "yyyy-mm-dd"
    assert edu_cells[header.index("报告链接")].hyperlink.target == edu["报告链接"]


def test_print_setup_and_conditional_colours(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "全部.xlsx"
    export(store, path)
    wb = openpyxl.load_workbook(path)
    sheets = ((SHEET_REPORTS, "B2", "T"), (SHEET_FINDINGS, "C2", "L"), (SHEET_OVERDUE, "C2", "N"))
    for name, freeze, last in sheets:
        ws = wb[name]
        assert ws.freeze_panes == freeze
        assert ws.print_title_rows == "$1:$1"
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}"
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
        printed = chr(ord(last) - (name != SHEET_FINDINGS))  # all but the trailing link column
        assert ws.print_area == f"'{name}'!$A$1:${printed}${ws.max_row}"
        assert ws.oddHeader.center.text == f"2021年度全部地区{name}"
        assert "按已收录的 8 份报告统计" in ws.oddFooter.left.text and "&P" in ws.oddFooter.right.text
        assert ws.row_dimensions[1].height >= 21

    def rules(ws: Any, label: str) -> list[Any]:
        letter = column_of(ws, label)
        return [rule for cf in ws.conditional_formatting for rule in cf.rules
                if str(cf.sqref).startswith(f"{letter}2:")]

    ws = wb[SHEET_FINDINGS]
    severity = {tuple(r.formula): r for r in rules(ws, "程度")}
    assert set(severity) == {('"错误"',), ('"警告"',)}
    assert severity[('"错误"',)].dxf.fill.bgColor.rgb.endswith("FFC7CE")
    assert severity[('"警告"',)].dxf.fill.bgColor.rgb.endswith("FFEB9C")
    states = {r.formula[0] for r in rules(ws, "状态")}
    assert states == {'"待处理"', '"已确认"', '"已解决"', '"误报"'}
    assert [r.type for r in rules(ws, "逾期天数")] == ["colorScale"]
    whole_row = [r for cf in ws.conditional_formatting for r in cf.rules if r.type == "expression"]
    assert whole_row and "已解决" in whole_row[0].formula[0]
    assert str(next(cf.sqref for cf in ws.conditional_formatting if cf.rules[0].type == "expression")) == \
        f"A2:L{ws.max_row}"
    assert [r.type for r in rules(wb[SHEET_OVERDUE], "逾期天数")] == ["colorScale"]
    assert [r.operator for r in rules(wb[SHEET_REPORTS], "待处理问题")] == ["greaterThan"]


def test_notes_sheet(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "宁波.xlsx"
    export(store, path, region(store, "宁波市"))
    ws = openpyxl.load_workbook(path)[SHEET_NOTES]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "2021年度宁波市政府信息公开工作年度报告监测汇总" in text
    assert "按已收录的 5 份报告统计" in text
    assert "2022-04-15 18:00（北京时间）" in text  # 10:00 UTC
    by_label = {row[0].value: row for row in ws.iter_rows() if row[0].value}
    assert by_label["范围"][1].value == "宁波市"
    for name, rows in ((SHEET_REPORTS, 5), (SHEET_FINDINGS, 6), (SHEET_OVERDUE, 3)):
        assert by_label[name][2].value == rows and by_label[name][1].value
        assert by_label[name][0].hyperlink.location == f"'{name}'!A1"


def test_scope_by_region_and_level(store: Engine, tmp_path: Path) -> None:
    everything = export(store, tmp_path / "all.xlsx")
    assert everything.reports == 8 and everything.sheets[SHEET_REPORTS] == 8
    rows = rows_of(openpyxl.load_workbook(tmp_path / "all.xlsx")[SHEET_REPORTS])
    assert {r["单位"] for r in rows} == NINGBO | {XIHU, LIANJIANG, "=1+1测试局"}
    # Text that looks like a formula stays text; the control character is dropped.
    odd = openpyxl.load_workbook(tmp_path / "all.xlsx")[SHEET_REPORTS]["A2"]
    assert odd.value == "=1+1测试局" and odd.data_type == "s"

    zhejiang = export(store, tmp_path / "zj.xlsx", region(store, "330000"))
    assert zhejiang.reports == 6 and zhejiang.scope == "浙江省"
    wb = openpyxl.load_workbook(tmp_path / "zj.xlsx")
    assert {r["单位"] for r in rows_of(wb[SHEET_REPORTS])} == NINGBO | {XIHU}
    assert LIANJIANG not in {r["单位"] for r in rows_of(wb[SHEET_OVERDUE])}
    overdue = rows_of(openpyxl.load_workbook(tmp_path / "all.xlsx")[SHEET_OVERDUE])
    assert LIANJIANG in {r["单位"] for r in overdue}

    xihu = export(store, tmp_path / "xihu.xlsx", region(store, "西湖区"))
    assert xihu.sheets == {SHEET_REPORTS: 1, SHEET_FINDINGS: 0, SHEET_OVERDUE: 0}
    empty = openpyxl.load_workbook(tmp_path / "xihu.xlsx")[SHEET_FINDINGS]
    assert empty.max_row == 1 and [c.value for c in empty[1]][:2] == ["编号", "单位"]

    streets = export(store, tmp_path / "streets.xlsx", Scope(None, "township"))
    assert streets.sheets == {SHEET_REPORTS: 1, SHEET_FINDINGS: 2, SHEET_OVERDUE: 1}
    assert streets.scope == "全部地区（乡镇（街道））"
    assert rows_of(openpyxl.load_workbook(tmp_path / "streets.xlsx")[SHEET_REPORTS])[0]["层级"] == "乡镇（街道）"

    with store.connect() as conn:  # another year: nothing, but still a workbook
        assert findings(conn, 2020, ALL, states=(), limit=None).total == 0
    none = export(store, tmp_path / "2020.xlsx", year=2020)
    assert none.reports == 0 and set(none.sheets.values()) == {0}


def look(cell: Any) -> tuple:
    """A cell's value and what it looks like."""
    return (cell.value, cell.data_type, cell.number_format, cell.font.b, cell.font.color and cell.font.color.rgb,
            cell.fill.fgColor.rgb, cell.alignment.horizontal, cell.alignment.vertical, cell.alignment.wrap_text,
            getattr(cell.hyperlink, "target", None))


def test_fast_rows_write_what_openpyxl_writes(store: Engine, tmp_path: Path, monkeypatch) -> None:
    """The streamed rows (FAST_ROWS) and openpyxl's own cells give the same workbook."""
    export(store, tmp_path / "fast.xlsx")
    monkeypatch.setattr(export_module, "FAST_ROWS", False)
    export(store, tmp_path / "slow.xlsx")
    fast = openpyxl.load_workbook(tmp_path / "fast.xlsx")
    slow = openpyxl.load_workbook(tmp_path / "slow.xlsx")
    for name in SHEETS[1:]:
        a, b = fast[name], slow[name]
        assert a.max_row == b.max_row > 1 and a.max_column == b.max_column
        for row_a, row_b in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for x, y in zip(row_a, row_b, strict=True):
                assert look(x) == look(y), x.coordinate


def test_text_width_counts_cjk_double() -> None:
    assert text_width("abc") == 3
    assert text_width("宁波市") == 6
    assert text_width("宁波 2021（件）") == 15


# ---- errors and the temporary file -------------------------------------------------------------


def test_bad_targets(store: Engine, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.xlsx 结尾"):
        export(store, tmp_path / "out.csv")
    with pytest.raises(ExportError, match="目录不存在"):
        export(store, tmp_path / "no" / "such" / "dir.xlsx")
    (tmp_path / "dir.xlsx").mkdir()
    with pytest.raises(ExportError, match="是一个目录"):
        export(store, tmp_path / "dir.xlsx")
    assert files(tmp_path) == ["dir.xlsx"]


def files(directory: Path) -> list[str]:
    """What the directory holds, but the store (an SQLite file and its -wal and -shm files)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("xxgk.db"))


def test_a_failed_export_leaves_the_old_file_and_no_temporary(store: Engine, tmp_path: Path,
                                                             monkeypatch) -> None:
    path = tmp_path / "out.xlsx"
    path.write_bytes(b"the previous workbook")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    from openpyxl.worksheet._writer import ALL_TEMP_FILES  # the sheets' streams

    streams = list(ALL_TEMP_FILES)
    monkeypatch.setattr(export_module, "_write_notes", broken)
    with pytest.raises(RuntimeError):
        export(store, path)
    assert path.read_bytes() == b"the previous workbook"
    assert ALL_TEMP_FILES == streams  # removed, not left for the end of the process

    from openpyxl.workbook.workbook import Workbook

    monkeypatch.undo()
    monkeypatch.setattr(Workbook, "save", broken)  # fails while writing the temporary file
    with pytest.raises(RuntimeError):
        export(store, path)
    assert path.read_bytes() == b"the previous workbook" and ALL_TEMP_FILES == streams
    assert files(tmp_path) == ["out.xlsx"]

    monkeypatch.undo()
    export(store, path)  # and a good export replaces it
    assert openpyxl.load_workbook(path).sheetnames == SHEETS


# ---- the command -------------------------------------------------------------------------------


@pytest.fixture
def cli(store: Engine, tmp_path: Path, db_url: str, monkeypatch):
    from xxgk.cli import app

    monkeypatch.delenv("XXGK_CONFIG", raising=False)
    monkeypatch.delenv("XXGK_DATABASE_URL", raising=False)
    config = tmp_path / "xxgk.toml"
    config.write_text(f'database_url = "{db_url}"\n', encoding="utf-8")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["export", *args, "--config", str(config)])

    return run


def test_cli_exports_a_region(cli, tmp_path: Path) -> None:
    path = tmp_path / "宁波市2021.xlsx"
    result = cli("--year", "2021", "--region", "宁波", str(path))
    assert result.exit_code == 0, result.output
    assert f"已导出 {path}" in result.stdout and "2021年度宁波市" in result.stdout
    assert "按已收录的 5 份报告统计" in result.stdout and "「问题清单」6 行" in result.stdout
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS and wb[SHEET_REPORTS].max_row == 6

    by_level = cli("-y", "2021", "-r", "330200", "--level", "部门", str(tmp_path / "depts.xlsx"))
    assert by_level.exit_code == 0, by_level.output
    assert "宁波市（部门）" in by_level.stdout
    assert {r["单位"] for r in rows_of(openpyxl.load_workbook(tmp_path / "depts.xlsx")[SHEET_REPORTS])} == {
        HRSS, EDU, FINANCE}


def test_cli_errors(cli, tmp_path: Path) -> None:
    bad = cli("--year", "2021", str(tmp_path / "out.xls"))
    assert bad.exit_code == 2 and "应以 .xlsx 结尾" in bad.output
    unknown = cli("--year", "2021", "--region", "火星市", str(tmp_path / "out.xlsx"))
    assert unknown.exit_code == 2 and "找不到地区：火星市" in unknown.output
    code = cli("--year", "2021", "--region", "990000", str(tmp_path / "out.xlsx"))
    assert code.exit_code == 2 and "找不到地区：990000" in code.output
    level = cli("--year", "2021", "--level", "省级", str(tmp_path / "out.xlsx"))
    assert level.exit_code == 2 and "未知的层级" in level.output
    nowhere = cli("--year", "2021", str(tmp_path / "missing" / "out.xlsx"))
    assert nowhere.exit_code == 2 and "目录不存在" in nowhere.output
    no_year = cli(str(tmp_path / "out.xlsx"))
    assert no_year.exit_code == 2
    assert not (tmp_path / "out.xlsx").exists() and not (tmp_path / "out.xls").exists()


def test_cli_help_is_chinese(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    assert "导出年度工作簿" in result.stdout and "--region" in result.stdout and "FILE.xlsx" in result.stdout

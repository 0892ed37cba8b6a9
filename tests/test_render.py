"""The renderers (xxgk.render): every format is well formed, of the right kind and size, and
carries the template's exact labels, spans and values. Parsing is tested elsewhere."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import docx
import lxml.html
import pdfplumber
import pytest

from checks.template import APPLICANT_COLUMNS, APPLICANT_PARTS, RESULT_ROWS, REVIEW_COLUMNS, REVIEW_ROWS
from xxgk.render import (
    AGENCIES,
    RENDERERS,
    ReportSpec,
    TableSlot,
    build_table,
    render,
    spec_from_expected,
    synthetic_spec,
    to_cms_html,
    to_docx,
    to_flat_text,
    to_pdf,
    to_tsv,
    to_word_html,
)
from xxgk.render.tables import format_value

SHARED = Path(os.environ.get("XXGK_SHARED", Path(__file__).resolve().parent.parent.parent / "shared"))
SEEDS = sorted((SHARED / "corpus" / "seeds").glob("*.txt"))

# Exact printed labels of section 三 (template-labels.md), in row order, without the group cells.
ROW_LABELS_2021 = [
    "一、本年新收政府信息公开申请数量",
    "二、上年结转政府信息公开申请数量",
    "（一）予以公开",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "1.属于国家秘密",
    "2.其他法律行政法规禁止公开",
    "3.危及“三安全一稳定”",
    "4.保护第三方合法权益",
    "5.属于三类内部事务信息",
    "6.属于四类过程性信息",
    "7.属于行政执法案卷",
    "8.属于行政查询事项",
    "1.本机关不掌握相关政府信息",
    "2.没有现成信息需要另行制作",
    "3.补正后申请内容仍不明确",
    "1.信访举报投诉类申请",
    "2.重复申请",
    "3.要求提供公开出版物",
    "4.无正当理由大量反复申请",
    "5.要求行政机关确认或重新出具已获取信息",
    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "3.其他",
    "（七）总计",
    "四、结转下年度继续办理",
]
ROW_LABELS_2019 = ROW_LABELS_2021[:20] + ["（六）其他处理"] + ROW_LABELS_2021[23:]
GROUP_ROWSPANS = {
    "2021": {"（三）不予公开": 8, "（四）无法提供": 3, "（五）不予处理": 5, "（六）其他处理": 3},
    "2019": {"（三）不予公开": 8, "（四）无法提供": 3, "（五）不予处理": 5},
}
RESULTS_ROWSPAN = {"2021": 22, "2019": 20}
NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
PROACTIVE_HEADERS = {
    "2021": ["本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额（单位：万元）"],
    "2019": ["本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减", "处理决定数量",
             "采购项目数量", "采购总金额"],
}
PROACTIVE_LABELS = {
    "2021": ["规章", "行政规范性文件", "行政许可", "行政处罚", "行政强制", "行政事业性收费"],
    "2019": ["规章", "规范性文件", "行政许可", "其他对外管理服务事项", "行政处罚", "行政强制", "行政事业性收费",
             "政府集中采购"],
}
ITEMS = {"2021": ["（一）", "（五）", "（六）", "（八）"], "2019": ["（一）", "（五）", "（六）", "（八）", "（九）"]}
SECTION_HEADINGS = [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
]
TEMPLATES = ["2021", "2019"]


def _minimal_body() -> list:
    return [
        "一、总体情况",
        "本年度工作情况良好。",
        "二、主动公开政府信息情况",
        TableSlot("proactive"),
        "三、收到和处理政府信息公开申请情况",
        TableSlot("applications"),
        "四、政府信息公开行政复议、行政诉讼情况",
        TableSlot("review_litigation"),
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    ]


def _busy_spec(template: str = "2021") -> ReportSpec:
    """A synthetic spec with substantial (non-zero) applications."""
    for seed in range(100):
        spec = synthetic_spec(seed, template=template, year=2021 if template == "2021" else 2020)
        if spec.applications["new"]["total"] >= 20:
            return spec
    raise AssertionError("no busy synthetic spec in 100 seeds")


def _faulty_spec() -> ReportSpec:
    spec = _busy_spec()
    spec.applications["new"]["natural"] = "1 0"
    spec.applications["carried_over"]["commercial"] = "00"
    spec.applications["disclosed"]["research"] = "-3"
    spec.applications["partially_disclosed"]["nonprofit"] = "/"
    spec.applications["withheld_query_item"]["legal_service"] = None
    spec.review_litigation["review"]["other"] = "x"
    spec.proactive["punishment"]["decisions"] = "-"
    return spec


INJECTED = ["1 0", "00", "-3", "/", "x", "-"]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u00a0", " "))


def _td_text(td) -> str:
    return re.sub(r"[\s\u00a0]+", " ", td.text_content()).strip()


def _html_tables(html: str):
    return lxml.html.fromstring(html).xpath("//table")


def _find_td(table, text: str):
    for td in table.iter("td"):
        if _compact(td.text_content()) == _compact(text):
            return td
    raise AssertionError(f"no cell {text!r}")


def _data_tds(tr) -> list:
    return tr.findall("td")


# ---- spec ---------------------------------------------------------------------------------


def test_spec_defaults_and_validation():
    spec = ReportSpec(agency="嘉善县人民政府", year=2021)
    assert spec.title == "嘉善县人民政府2021年度政府信息公开工作年度报告"
    assert spec.template == "2021"
    assert spec.published is not None and spec.published.year == 2022
    with pytest.raises(ValueError):
        ReportSpec(agency="x", year=2021, template="2020")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TableSlot("nonsense")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ReportSpec(agency="x", year=2021, body=[3])  # type: ignore[list-item]


def test_format_value():
    assert format_value(None) == ""
    assert format_value(0) == "0"
    assert format_value(5.28) == "5.28"
    assert format_value(24252.311082) == "24252.311082"
    assert format_value(3.0) == "3"
    for text in INJECTED:
        assert format_value(text) == text


def test_spec_from_expected_copies_data():
    expected = json.loads((SHARED / "corpus" / "expected" / (SEEDS[0].stem + ".json")).read_text("utf-8"))
    spec = spec_from_expected(expected, _minimal_body())
    assert spec.agency == expected["agency"] and spec.year == expected["year"]
    assert spec.template == expected["template"]
    spec.applications["new"]["total"] = 999
    assert expected["applications"]["new"]["total"] != 999
    other = spec_from_expected(expected, _minimal_body(), agency="某某局", year=2030)
    assert other.agency == "某某局" and other.year == 2030 and other.title == "某某局2030年度政府信息公开工作年度报告"


# ---- grid model -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_applications_grid(template):
    spec = synthetic_spec(1, template=template)
    table = build_table(spec, "applications")
    grid = table.expand()
    assert table.width == 10
    assert all(len(row) == 10 for row in grid)
    assert all(slot is not None for row in grid for slot in row), "a complete table has no holes"
    header = table.rows[:3]
    assert [(c.text, c.rowspan, c.colspan) for c in header[0]] == [(NOTE, 3, 3), ("申请人情况", 1, 7)]
    assert [(c.text, c.rowspan, c.colspan) for c in header[1]] == [
        ("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)]
    assert [c.text for c in header[2]] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    data = table.rows[3:]
    expected_labels = ROW_LABELS_2021 if template == "2021" else ROW_LABELS_2019
    assert len(data) == len(expected_labels)
    labels = [c.text for row in data for c in row if c.role == "label"]
    results = [c for row in data for c in row if c.text == "三、本年度办理结果"]
    assert len(results) == 1 and results[0].rowspan == RESULTS_ROWSPAN[template] and results[0].vertical
    groups = {
        c.text: c.rowspan for row in data for c in row if c.text in GROUP_ROWSPANS["2021"] and c.colspan == 1
    }
    assert groups == GROUP_ROWSPANS[template]
    row_labels = [t for t in labels if t != "三、本年度办理结果" and t not in groups]
    assert row_labels == expected_labels
    for row in data:
        label = next(c for c in row if c.role == "label")
        if label.text.startswith(("一、", "二、", "四、")):
            assert label.colspan == 3
        assert [c.key[1] for c in row if c.role == "value"] == list(APPLICANT_COLUMNS)


def test_review_grid():
    table = build_table(synthetic_spec(2), "review_litigation")
    assert table.width == 15 and len(table.rows) == 4
    assert [(c.text, c.colspan) for c in table.rows[0]] == [("行政复议", 5), ("行政诉讼", 10)]
    second = [(c.text, c.rowspan, c.colspan) for c in table.rows[1]]
    assert second[:5] == [(t, 2, 1) for t in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")]
    assert second[5:] == [("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)]
    assert [c.text for c in table.rows[2]] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2
    assert [c.key for c in table.rows[3]] == [(r, c) for r in REVIEW_ROWS for c in REVIEW_COLUMNS]


@pytest.mark.parametrize("template", TEMPLATES)
def test_proactive_grid(template):
    table = build_table(synthetic_spec(3, template=template), "proactive")
    assert table.width == 4
    assert all(len(r) == 4 and all(s is not None for s in r) for r in table.expand())
    titles = [row[0] for row in table.rows if row[0].role == "title"]
    assert [t.text for t in titles] == [f"第二十条第{i}项" for i in ITEMS[template]]
    assert all(t.colspan == 4 for t in titles)
    headers = {c.text for c in table.cells() if c.role == "header"}
    assert headers == {"信息内容", *PROACTIVE_HEADERS[template]}
    assert [c.text for c in table.cells() if c.role == "label"] == PROACTIVE_LABELS[template]


def test_drop_cells_shortens_rows():
    spec = _busy_spec()
    spec.drop_cells = {"handled_total": 2, "licensing": 1, "litigation_after_review": 3}
    apps = build_table(spec, "applications")
    row = next(r for r in apps.rows if r[0].text == "（七）总计" or any(c.text == "（七）总计" for c in r))
    assert [c.key[1] for c in row if c.role == "value"] == list(APPLICANT_COLUMNS[:-2])
    review = build_table(spec, "review_litigation")
    assert len(review.rows[-1]) == 12
    proactive = build_table(spec, "proactive")
    licensing = next(r for r in proactive.rows if r[0].text == "行政许可")
    assert [c.role for c in licensing] == ["label"]


# ---- synthetic reports ------------------------------------------------------------------------


def _check_consistent(spec: ReportSpec) -> None:
    apps = spec.applications
    for key, row in apps.items():
        assert row["total"] == sum(row[c] for c in APPLICANT_PARTS), f"row total of {key}"
        assert all(isinstance(v, int) and v >= 0 for v in row.values()), key
    results = RESULT_ROWS[spec.template]
    assert set(apps) == {"new", "carried_over", "handled_total", "carried_forward", *results}
    for col in APPLICANT_COLUMNS:
        assert apps["handled_total"][col] == sum(apps[k][col] for k in results), f"（七）总计 {col}"
        received = apps["new"][col] + apps["carried_over"][col]
        assert received == apps["handled_total"][col] + apps["carried_forward"][col], f"balance {col}"
    for row in spec.review_litigation.values():
        assert row["total"] == sum(row[c] for c in REVIEW_COLUMNS[:-1])


def _check_prose(spec: ReportSpec) -> None:
    text = spec.text()
    positions = [text.index(h) for h in SECTION_HEADINGS]
    assert positions == sorted(positions), "sections in order"
    assert spec.table_kinds() == ["proactive", "applications", "review_litigation"]
    new = spec.applications["new"]["total"]
    stated = re.search(r"共收到政府信息公开申请(\d+)件", text)
    if stated:
        assert int(stated.group(1)) == new
    else:
        assert new == 0 and "未收到政府信息公开申请" in text
    handled = re.search(r"办结(\d+)件", text)
    if handled:
        assert int(handled.group(1)) == spec.applications["handled_total"]["total"]
    review = spec.review_litigation
    counts = re.search(r"行政复议(\d+)件，被提起行政诉讼(\d+)件", text)
    suits = review["litigation_direct"]["total"] + review["litigation_after_review"]["total"]
    if counts:
        assert (int(counts.group(1)), int(counts.group(2))) == (review["review"]["total"], suits)
    else:
        assert review["review"]["total"] == 0 and suits == 0 and "未发生因政府信息公开引起的行政复议、行政诉讼" in text
    docs_key = "issued" if spec.template == "2021" else "made"
    docs = re.search(r"制发行政规范性文件(\d+)件", text)
    assert docs and int(docs.group(1)) == spec.proactive["normative_documents"][docs_key]
    five = text[text.index(SECTION_HEADINGS[4]) : text.index(SECTION_HEADINGS[5])]
    assert f"{spec.year + 1}年，" in five and "将" in five
    assert "信息处理费" in text[text.index(SECTION_HEADINGS[5]) :]


@pytest.mark.parametrize("template", TEMPLATES)
def test_synthetic_specs_are_consistent(template):
    totals = []
    for seed in range(150):
        spec = synthetic_spec(seed, template=template, year=2022)
        assert spec.agency in AGENCIES
        assert spec.template == template and spec.year == 2022
        _check_consistent(spec)
        _check_prose(spec)
        totals.append(spec.applications["new"]["total"])
    assert sum(t <= 5 for t in totals) >= 20, "some reports are zero-heavy"
    assert sum(t >= 20 for t in totals) >= 20, "some reports have dozens to hundreds of applications"
    assert max(totals) >= 100


def test_synthetic_is_deterministic_and_honours_arguments():
    a = synthetic_spec(42)
    b = synthetic_spec(42)
    assert a == b
    c = synthetic_spec(42, agency="嘉善县人民政府", year=2023)
    assert c.agency == "嘉善县人民政府" and c.year == 2023
    assert "2024年，我县将" in c.text()
    with pytest.raises(ValueError):
        synthetic_spec(1, template="2020")


# ---- CMS HTML ---------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_cms_html_page(template):
    spec = _busy_spec(template)
    html = to_cms_html(spec)
    assert 10_000 <= len(html.encode("utf-8")) <= 40_000
    root = lxml.html.fromstring(html)
    meta = {m.get("name"): m.get("content") for m in root.iter("meta") if m.get("name")}
    assert meta["ArticleTitle"] == spec.title
    assert meta["PubDate"] == spec.published.strftime("%Y-%m-%d %H:%M")
    assert "当前位置" in root.xpath("string(//div[@class='position'])")
    assert f"发布日期：{spec.published:%Y-%m-%d}" in root.text_content()
    zoom = root.get_element_by_id("zoom")
    assert zoom.xpath("ancestor::div[@class='article_component']")
    strong = [_compact(s.text_content()) for s in zoom.iter("strong")]
    assert all(h in strong for h in SECTION_HEADINGS)
    tables = zoom.xpath(".//table")
    assert len(tables) == 3
    apps = tables[1]
    assert _find_td(apps, NOTE).get("rowspan") == "3" and _find_td(apps, NOTE).get("colspan") == "3"
    assert _find_td(apps, "申请人情况").get("colspan") == "7"
    assert _find_td(apps, "自然人").get("rowspan") == "2"
    assert _find_td(apps, "法人或其他组织").get("colspan") == "5"
    results = _find_td(apps, "三、本年度办理结果")
    assert results.get("rowspan") == str(RESULTS_ROWSPAN[template])
    assert len(results.findall("p")) > 1, "the vertical label is several <p>"
    assert "\u00a0" in results.text_content(), "padded with &nbsp; runs"
    for group, span in GROUP_ROWSPANS[template].items():
        assert _find_td(apps, group).get("rowspan") == str(span)
    assert _find_td(apps, ROW_LABELS_2021[0]).get("colspan") == "3"
    new_row = _find_td(apps, ROW_LABELS_2021[0]).getparent()
    values = [_td_text(td) for td in new_row.findall("td")[1:]]
    assert values == [str(spec.applications["new"][c]) for c in APPLICANT_COLUMNS]
    review = tables[2]
    assert _find_td(review, "行政诉讼").get("colspan") == "10"
    assert [_td_text(td) for td in review.findall(".//tr")[-1].findall("td")] == [
        str(spec.review_litigation[r][c]) for r in REVIEW_ROWS for c in REVIEW_COLUMNS]
    proactive = tables[0]
    assert _find_td(proactive, "第二十条第（一）项").get("colspan") == "4"


# ---- Word HTML ----------------------------------------------------------------------------------


def test_word_html_export():
    spec = _busy_spec()
    html = to_word_html(spec)
    size = len(html.encode("utf-8"))
    assert 200_000 <= size <= 450_000
    comments = sum(len(m) for m in re.findall(r"<!--.*?-->", html, flags=re.S))
    assert comments < 0.3 * len(html), "the size comes from markup, not comments"
    for marker in ("class=MsoNormal", "mso-", "<o:p></o:p>", "<!--[if gte mso 9]>", "w:LsdException", "<br>"):
        assert marker in html
    root = lxml.html.fromstring(html)
    tables = root.xpath("//table")
    assert len(tables) == 3
    apps = tables[1]
    assert _find_td(apps, "三、本年度办理结果").get("rowspan") == "22"
    assert _find_td(apps, "商业企业").find(".//br") is not None
    new_row = _find_td(apps, ROW_LABELS_2021[0]).getparent()
    assert [_td_text(td) for td in new_row.findall("td")[1:]] == [
        str(spec.applications["new"][c]) for c in APPLICANT_COLUMNS]
    def digit_runs(td) -> int:
        return sum(bool(s.text and s.text.isdigit()) for s in td.iter("span"))

    split = [td for td in apps.iter("td") if digit_runs(td) > 1]
    assert split, "some numbers are split across <span>s"


# ---- docx ----------------------------------------------------------------------------------------


def _docx_cell(table, text: str):
    for row in table.rows:
        for cell in row.cells:
            if _compact(cell.text) == _compact(text):
                return cell
    raise AssertionError(f"no cell {text!r}")


@pytest.mark.parametrize("template", TEMPLATES)
def test_docx_merged_cells(template):
    spec = _busy_spec(template)
    document = docx.Document(io.BytesIO(to_docx(spec)))
    assert document.core_properties.title == spec.title
    paragraphs = [p.text for p in document.paragraphs]
    assert all(h in paragraphs for h in SECTION_HEADINGS), "headings are paragraphs"
    assert len(document.tables) == 3
    proactive, apps, review = document.tables
    note = _docx_cell(apps, NOTE)
    assert note.grid_span == 3 and note._tc.vMerge == "restart"
    assert _docx_cell(apps, "申请人情况").grid_span == 7
    results = _docx_cell(apps, "三、本年度办理结果")._tc
    assert results.vMerge == "restart"
    column0 = [row._tr.tc_lst[0] for row in apps.rows]
    continued = [tc for tc in column0 if tc.vMerge == "continue"]
    assert len(continued) == 2 + RESULTS_ROWSPAN[template] - 1  # the note's 2 rows, then the results label
    assert _docx_cell(apps, "（三）不予公开")._tc.vMerge == "restart"
    assert _docx_cell(apps, ROW_LABELS_2021[0]).grid_span == 3
    assert _docx_cell(review, "行政诉讼").grid_span == 10
    assert _docx_cell(proactive, "第二十条第（一）项").grid_span == 4
    new_row = next(r for r in apps.rows if r.cells[0].text == ROW_LABELS_2021[0])
    expected = [str(spec.applications["new"][c]) for c in APPLICANT_COLUMNS]
    assert [c.text for c in new_row.cells[3:]] == expected


# ---- PDF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_pdf_text_layer(template):
    spec = _busy_spec(template)
    data = to_pdf(spec)
    assert data.startswith(b"%PDF-") and 5_000 <= len(data) <= 200_000
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 2
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        assert pdf.metadata.get("Title") == spec.title
    compact = _compact(text)
    for label in [*SECTION_HEADINGS, "申请人情况", "法人或其他组织", *PROACTIVE_LABELS[template]]:
        assert _compact(label) in compact, label
    # Long labels wrap inside their cells and interleave with neighbouring cells: check a prefix.
    for label in [NOTE, *(ROW_LABELS_2019 if template == "2019" else ROW_LABELS_2021)]:
        assert _compact(label)[:12] in compact, label
    # The vertical label: one character per line, each line's first token (the rows of the
    # table continue to its right).
    firsts = [line.split()[0] for line in text.splitlines() if line.split()]
    assert "三、本年度办理结果" in "".join(token for token in firsts if len(token) == 1)
    new = spec.applications["new"]
    assert " ".join(str(new[c]) for c in APPLICANT_COLUMNS) in text
    review = " ".join(str(spec.review_litigation[r][c]) for r in REVIEW_ROWS for c in REVIEW_COLUMNS)
    assert review in text


# ---- text formats -----------------------------------------------------------------------------


def _section_lines(text: str) -> list[str]:
    segment = text[text.index("二、主动公开政府信息情况") : text.index("五、存在的主要问题及改进情况")]
    return [line.replace("\u00a0", "").replace("\u3000", "").rstrip(" ") for line in segment.split("\n")]


def _seed(prefix: str) -> tuple[str, dict]:
    path = next(p for p in SEEDS if p.name.startswith(prefix))
    expected = json.loads((SHARED / "corpus" / "expected" / (path.stem + ".json")).read_text("utf-8"))
    return path.read_text("utf-8"), expected


@pytest.mark.skipif(not SEEDS, reason="shared corpus not available")
def test_flat_text_reproduces_seed_000_tables():
    seed_text, expected = _seed("000")
    mine = to_flat_text(spec_from_expected(expected, _minimal_body()))
    got, want = _section_lines(mine), _section_lines(seed_text)
    # The one difference: seed 000 breaks the group label （三）不予公开 over five lines.
    i = want.index("\t（三）")
    want[i : i + 5] = ["\t（三）不予公开"]
    assert got == want
    assert "\n\n\n三、收到和处理政府信息公开申请情况" in mine, "two blank lines after a table"


def test_flat_text_layout_rules():
    spec = _faulty_spec()
    text = to_flat_text(spec)
    lines = text.split("\n")
    assert lines[0] == spec.agency
    assert "\t1 0\n" in text and "\t00\n" in text and "\t-3\n" in text and "\t/\n" in text and "\tx\n" in text
    assert "\t商业\n企业\n" in text, "multi-line cells continue without the TAB"
    label = lines.index("\t8.属于行政查询事项")
    assert lines[label + 5] == "\t", "an empty cell is a lone TAB line"
    plain = to_flat_text(spec, covered_cells=False)
    assert "\t\n\t（二）部分公开" in text and "\t\n\t（二）部分公开" not in plain
    padded = to_flat_text(_busy_spec(), padding=True)
    assert "\u00a0" in padded


@pytest.mark.skipif(not SEEDS, reason="shared corpus not available")
def test_tsv_matches_seed_003_layout():
    seed_text, expected = _seed("003")
    tsv = to_tsv(spec_from_expected(expected, _minimal_body()))
    for line in [
        "第二十条第（一）项\t\t\t",
        "信息内容\t本年制发件数\t本年废止件数\t现行有效件数",
        "行政规范性文件\t1\t1\t5",
        "信息内容\t本年收费金额（单位：万元）\t\t",
        "行政许可\t417\t\t",
        "行政复议\t\t\t\t\t行政诉讼" + "\t" * 9,
        "\t" * 5 + "\t".join(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2),
        "\t".join(["0"] * 15),
    ]:
        assert "\n" + line + "\n" in tsv
        assert line in seed_text.split("\n")
    assert "\n## 一、总体情况\n" in tsv and tsv.startswith("# ")
    assert "\t\t3.危及“三安全一稳定”\t0\t0\t0\t0\t0\t0\t0\n" in tsv


def test_tsv_rows_and_faults():
    spec = _faulty_spec()
    spec.drop_cells = {"carried_forward": 2}
    rows = [line.split("\t") for line in to_tsv(spec).split("\n") if "\t" in line]
    assert all(len(r) in (4, 10, 15) for r in rows if r[0] != "四、结转下年度继续办理")
    forward = next(r for r in rows if r[0] == "四、结转下年度继续办理")
    assert len(forward) == 8
    new = next(r for r in rows if r[0] == ROW_LABELS_2021[0])
    assert new[3] == "1 0"


# ---- all formats ------------------------------------------------------------------------------


def _extract_text(fmt: str, data: bytes) -> str:
    if fmt == "pdf":
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return "\n".join(page.extract_text() or "" for page in pdf.pages)
    if fmt == "docx":
        document = docx.Document(io.BytesIO(data))
        return "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    if fmt in ("cms_html", "word_html"):
        root = lxml.html.fromstring(data.decode("utf-8"))
        return "\n".join(_td_text(td) for td in root.iter("td"))
    return data.decode("utf-8")


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_injected_values_verbatim(fmt):
    data = render(_faulty_spec(), fmt)
    text = _extract_text(fmt, data)
    cells = set(re.split(r"[\t\n]", text)) if fmt not in ("pdf",) else set()
    for value in INJECTED:
        if fmt == "pdf":
            assert re.search(rf"(^|\s){re.escape(value)}(\s|$)", text), value
        else:
            assert value in cells, (fmt, value)


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_dropped_cells_in_every_format(fmt):
    spec = _busy_spec()
    spec.drop_cells = {"handled_total": 2}
    data = render(spec, fmt)
    values = [str(spec.applications["handled_total"][c]) for c in APPLICANT_COLUMNS]
    if fmt in ("cms_html", "word_html"):
        root = lxml.html.fromstring(data.decode("utf-8"))
        row = _find_td(root, "（七）总计").getparent()
        assert [_td_text(td) for td in row.findall("td")[1:]] == values[:-2]
    elif fmt == "docx":
        apps = docx.Document(io.BytesIO(data)).tables[1]
        row = next(r for r in apps.rows if r.cells[1].text == "（七）总计")
        assert row.grid_cols_after == 2 and len(row.cells) == 8
    elif fmt == "flat_text":
        lines = data.decode("utf-8").split("\n")
        i = lines.index("\t（七）总计")
        assert lines[i + 1 : i + 7] == ["\t" + v for v in values[:-2]] + [""]
    elif fmt == "tsv":
        row = next(line for line in data.decode("utf-8").split("\n") if "\t（七）总计" in line)
        assert row.split("\t")[3:] == values[:-2]
    else:
        assert b"%PDF" in data[:10]


@pytest.mark.skipif(not SEEDS, reason="shared corpus not available")
@pytest.mark.parametrize("seed_path", SEEDS, ids=lambda p: p.stem[:3])
def test_seed_expected_renders_everywhere(seed_path):
    expected = json.loads((SHARED / "corpus" / "expected" / (seed_path.stem + ".json")).read_text("utf-8"))
    spec = spec_from_expected(expected, _minimal_body())
    for fmt in RENDERERS:
        data = render(spec, fmt)
        assert data
    flat = to_flat_text(spec)
    assert spec.agency in flat
    if "new" in expected["applications"]:
        new = expected["applications"]["new"]
        assert "\n".join("\t" + format_value(new[c]) for c in APPLICANT_COLUMNS) in flat


def test_render_rejects_unknown_format():
    with pytest.raises(ValueError):
        render(synthetic_spec(0), "rtf")


def test_word_and_cms_html_are_distinct_kinds():
    spec = synthetic_spec(5)
    cms, word = to_cms_html(spec), to_word_html(spec)
    assert "MsoNormal" not in cms and "article_component" not in word
    assert to_docx(spec)[:2] == b"PK"
    assert to_tsv(spec) != to_flat_text(spec)
